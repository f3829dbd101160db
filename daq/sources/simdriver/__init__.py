"""A simulated NI-DAQmx driver, so the real ``nidaqmx`` code runs without hardware.

nidaqmx routes every driver call through one *interpreter* object, chosen by
``nidaqmx.utils._select_interpreter`` (NI's own unit tests patch exactly
that). :class:`SimulatedDriver` is such an interpreter: it implements the
part of ``BaseInterpreter`` that :class:`~hotfire.daq.sources.nidaq.NidaqSource`
uses, so ``nidaqmx.Task``, its channel collections, timing, triggers,
``in_stream`` and the stream readers run unchanged on top of it. Every other
driver function raises ``DaqFunctionNotSupportedError``.

The simulated stand is the rig file: each physical channel carries the
sensor the rig wires to it, and its signal is the engine simulator's
(:class:`~hotfire.daq.sources.sim.SignalGenerator`), so data read through the
real nidaqmx code is the simulated firing. What the driver models:

- devices: a 16-bit module for devices of int16 streams, else 24-bit; fixed
  input ranges (the smallest that holds the requested min/max); device
  scaling coefficients (counts -> volts) with a small per-channel gain and
  offset error, so that a source storing the wrong scaling is caught;
- the sample clock: samples become available as (wall-clock time x
  ``speed``) passes, at the coerced rate ``timebase / divisor``; digital
  edge start triggers, either another task's ``ai/StartTrigger`` or an
  external terminal that fires ``trigger_delay_s`` after it is armed (or on
  :meth:`SimulatedDriver.pulse`);
- the input buffer: its size, overwrite mode, the read position
  (``relative_to`` / ``offset``), and the real errors: -200279 when a read
  asks for samples already overwritten, -200284 when a read times out (with
  the samples it did get), -201003 once a device is removed;
- array checks as the C library's ctypes signatures make them (dtype,
  C order, writeable, size).

Faults are injected with :meth:`SimulatedDriver.inject`. All driver times
(timeouts, fault times and durations) are in *simulated* seconds: with
``speed=10`` a 2 s read timeout lasts 0.2 s of wall time, so the whole stand
behaves as in real time, only faster.

The package, one job a module: :mod:`.ids` (attribute ids, ranges, errors),
:mod:`.hardware` (faults, channels, tasks), :mod:`.driver` (the stand, the
clock, triggers, tasks), :mod:`.channels`, :mod:`.reading`, :mod:`.attributes`.
"""
from hotfire.daq.sources.simdriver.driver import SimulatedDriver
from hotfire.daq.sources.simdriver.hardware import Fault
from hotfire.daq.sources.simdriver.ids import FAULTS, RANGES, SHUNT_OHM, TERMINAL_DEGC

__all__ = ["SimulatedDriver", "Fault", "FAULTS", "RANGES", "SHUNT_OHM", "TERMINAL_DEGC"]
