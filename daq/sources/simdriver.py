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
"""
from __future__ import annotations

import ctypes
import itertools
import math
import re
import threading
import time
import zlib
from dataclasses import dataclass

import numpy as np
from nidaqmx._base_interpreter import BaseInterpreter
from nidaqmx.constants import (
    WAIT_INFINITELY,
    AcquisitionType,
    BridgeConfiguration,
    BridgeUnits,
    ChannelType,
    CJCSource,
    CurrentShuntResistorLocation,
    CurrentUnits,
    Edge,
    ExcitationSource,
    FillMode,
    OverwriteMode,
    ReadRelativeTo,
    TaskMode,
    TemperatureUnits,
    TerminalConfiguration,
    ThermocoupleType,
    TriggerType,
    UsageTypeAI,
    VoltageUnits,
)
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqError, DaqFunctionNotSupportedError, DaqReadError
from nidaqmx.types import DriverVersion
from nidaqmx.utils import unflatten_channel_string

from hotfire.daq.sources.sim import SignalGenerator, reference_stream

# -- attribute ids (as in nidaqmx's generated property code) -----------------
TASK_NAME, TASK_CHANNELS, TASK_NUM_CHANS, TASK_DEVICES, TASK_NUM_DEVICES = 0x1276, 0x1273, 0x2181, 0x230E, 0x29BA
READ_AVAIL, READ_TOTAL, READ_POS, READ_RELATIVE_TO, READ_OFFSET = 0x1223, 0x192A, 0x1221, 0x190A, 0x190B
READ_OVERWRITE, READ_NUM_CHANS, READ_DEFAULT_N = 0x1211, 0x217B, 0x31E8
BUF_INPUT_SIZE, BUF_ONBOARD_SIZE = 0x186C, 0x230A
SAMP_CLK_RATE, SAMP_MODE, SAMP_PER_CHAN, SAMP_CLK_EDGE, SAMP_CLK_SRC = 0x1344, 0x1300, 0x1310, 0x1301, 0x1852
REF_CLK_SRC, REF_CLK_RATE = 0x1316, 0x1315
START_TRIG_TERM, START_TRIG_TYPE, START_TRIG_SRC, START_TRIG_EDGE = 0x2F1E, 0x1393, 0x1407, 0x1404
CHAN_TYPE, CHAN_PHYSICAL = 0x187F, 0x18F5
AI_MEAS_TYPE, AI_MAX, AI_MIN, AI_RNG_HIGH, AI_RNG_LOW = 0x695, 0x17DD, 0x17DE, 0x1815, 0x1816
AI_TERM_CFG, AI_VOLTAGE_UNITS, AI_CURRENT_UNITS = 0x1097, 0x1094, 0x701
AI_BRIDGE_UNITS, AI_TEMP_UNITS = 0x2F92, 0x1033
AI_SHUNT_LOC, AI_SHUNT_OHM = 0x17F2, 0x17F3
AI_BRIDGE_CFG, AI_EXCIT_SRC, AI_EXCIT_VAL, AI_BRIDGE_NOM_OHM = 0x87, 0x17F4, 0x17F5, 0x17EC
AI_TC_TYPE, AI_CJC_SRC, AI_CJC_VAL, AI_CJC_CHAN = 0x1050, 0x1035, 0x1036, 0x1034
AI_DEV_SCALING, AI_RAW_SAMP_SIZE, AI_RESOLUTION = 0x1930, 0x22DA, 0x1765

#: Input ranges of the simulated modules, in the channel's base units
#: (V, A, mV/V, degC); the driver picks the smallest that holds [min, max].
RANGES = {
    "voltage": (0.2, 1.0, 5.0, 10.0),
    "current": (0.025,),
    "bridge": (7.8125, 25.0),
    "thermocouple": (1820.0,),
}
#: The simulated current modules' internal shunt, ohms.
SHUNT_OHM = 100.0
#: Terminal block temperature the built-in CJC sensor measures, degC.
TERMINAL_DEGC = 25.0

FAULTS = ("overflow", "timeout", "removal", "exception")


def _error(code: DAQmxErrors, message: str, task: str = "", read: int | None = None) -> DaqError:
    """A DaqError (DaqReadError when ``read`` is given) with the driver's real code."""
    if task:
        message = f"{message}\n\nTask Name: {task}"
    if read is not None:
        return DaqReadError(message, code.value, read)
    return DaqError(message, code.value)


@dataclass
class Fault:
    """A fault to inject (see :meth:`SimulatedDriver.inject`)."""

    kind: str
    device: str
    at_s: float
    duration_s: float = 0.0
    exception: BaseException | None = None

    def sample(self, rate: float) -> int:
        """The first sample (of a clock at ``rate``) at or after the fault time."""
        return max(0, math.ceil(self.at_s * rate - 1e-9))

    def hits(self, device: str) -> bool:
        # A chassis fault (cDAQ1) hits its modules (cDAQ1Mod3) too.
        return device == self.device or device.startswith(self.device + "Mod")


class _Handle:
    """An opaque task handle (what DAQmxCreateTask returns)."""

    __slots__ = ("id",)

    def __init__(self, id_: int):
        self.id = id_

    def __repr__(self):
        return f"<simulated task handle {self.id}>"


class _Chan:
    """One virtual channel of a simulated task."""

    def __init__(self, name, physical, meas, rig_ch, bits, attrs):
        self.name, self.physical, self.meas, self.rig_ch, self.bits = name, physical, meas, rig_ch, bits
        self.attrs = attrs
        self.offset = 0  # generator index of task sample 0 (set at start)

    @property
    def device(self) -> str:
        return self.physical.split("/")[0]

    def full_scale_volts(self, rng: float) -> float:
        if self.meas == "current":
            return rng * self.attrs[AI_SHUNT_OHM]
        if self.meas == "bridge":
            return rng / 1000.0 * self.attrs[AI_EXCIT_VAL]
        return rng

    def coefficients(self) -> list[float]:
        """Device scaling, counts -> volts at the ADC: [c0, c1, c2, c3] as NI reports them."""
        fs = self.full_scale_volts(self.attrs["_range"])
        h = zlib.crc32(self.physical.encode())
        gain_err = ((h % 2001) - 1000) * 5e-7  # within +-5e-4
        offset_err = (((h >> 11) % 2001) - 1000) * 1e-7  # within +-1e-4 of full scale
        return [offset_err * fs, fs / 2 ** (self.bits - 1) * (1 + gain_err), 0.0, 0.0]

    def to_volts(self, sig):
        """Sensor signal (rig units: V, mA, mV/V) -> volts at the ADC."""
        if self.meas == "current":
            return sig / 1000.0 * self.attrs[AI_SHUNT_OHM]
        if self.meas == "bridge":
            return sig / 1000.0 * self.attrs[AI_EXCIT_VAL]
        return sig

    def from_volts(self, v):
        """Volts at the ADC -> the channel's configured units."""
        if self.meas == "current":
            return v / self.attrs[AI_SHUNT_OHM]
        if self.meas == "bridge":
            vpv = v / self.attrs[AI_EXCIT_VAL]
            return vpv * 1000.0 if self.attrs[AI_BRIDGE_UNITS] == BridgeUnits.MILLIVOLTS_PER_VOLT.value else vpv
        return v

    def values(self, gen: SignalGenerator, first: int, n: int, raw: bool) -> np.ndarray:
        """What the device delivers for task samples [first, first+n): counts or scaled values."""
        sig = gen.signal(self.rig_ch, first + self.offset, n)
        if self.meas == "thermocouple":
            degc = np.rint(sig / 1e-4) * 1e-4  # a 24-bit converter on a thermocouple: ~0.1 mdegC
            if self.attrs[AI_CJC_SRC] == CJCSource.CONSTANT_USER_VALUE.value:
                degc = degc + (self.attrs[AI_CJC_VAL] - TERMINAL_DEGC)  # wrong CJC -> offset
            units = self.attrs[AI_TEMP_UNITS]
            if units == TemperatureUnits.K.value:
                return degc + 273.15
            if units == TemperatureUnits.DEG_F.value:
                return degc * 1.8 + 32.0
            if units == TemperatureUnits.DEG_R.value:
                return (degc + 273.15) * 1.8
            return degc
        c0, c1 = self.coefficients()[:2]
        top = 2 ** (self.bits - 1)
        counts = np.clip(np.rint((self.to_volts(sig) - c0) / c1), -top, top - 1)
        if raw:
            return counts
        return self.from_volts(c0 + c1 * counts)


class _Task:
    def __init__(self, handle: _Handle, name: str):
        self.handle, self.name = handle, name
        self.chans: list[_Chan] = []
        self.state = "unverified"  # unverified | committed | running
        self.rate = None  # actual (coerced) sample clock rate
        self.timing = {}
        self.buf_size = None  # explicit input buffer size
        self.trig = {START_TRIG_TYPE: TriggerType.NONE.value}
        self.read_attrs = {READ_RELATIVE_TO: ReadRelativeTo.CURRENT_READ_POSITION.value, READ_OFFSET: 0,
                           READ_OVERWRITE: OverwriteMode.DO_NOT_OVERWRITE_UNREAD_SAMPLES.value}
        self.reset_run()

    def reset_run(self):
        self.t0 = None  # wall time of sample 0 (None: not started, or waiting for a trigger)
        self.armed_at = None
        self.read_pos = 0
        self.faults: list[tuple[Fault, int]] = []  # (fault, sample index on this clock)
        self.removed_at = None  # sample index at which the device went away
        self.sticky: DaqError | None = None

    @property
    def buffer(self) -> int:
        if self.buf_size is not None:
            return self.buf_size
        # DAQmx's default for continuous input: by rate, or samps_per_chan if larger.
        rate = self.rate or 0
        default = 1000 if rate <= 100 else 10_000 if rate <= 10_000 else 100_000 if rate <= 1e6 else 1_000_000
        return max(default, int(self.timing.get(SAMP_PER_CHAN, 0)))

    @property
    def devices(self) -> list[str]:
        return sorted({c.device for c in self.chans})


def _check_array(array, dtype, argument: int = 5):
    """Check a read array as the C library's ctypes signature does."""
    try:
        np.ctypeslib.ndpointer(dtype=dtype, flags=("C", "W")).from_param(array)
    except TypeError as exc:
        raise ctypes.ArgumentError(f"argument {argument}: TypeError: {exc}") from None


class SimulatedDriver(BaseInterpreter):
    """An nidaqmx interpreter that simulates the rig's NI hardware.

    Parameters
    ----------
    rig : Rig
        The stand: which sensor is wired to which physical channel, and
        which devices exist (those the rig names).
    scenario : Scenario, optional
        The simulated firing (default: nominal).
    speed : float
        Simulated seconds per wall-clock second (1 = real time).
    trigger_delay_s : float or None
        An external start trigger fires this long after the first task arms
        on it; None: only on :meth:`pulse`.
    timebase_hz : float
        Sample clocks are ``timebase_hz / divisor``; other rates are coerced.

    Notes
    -----
    Use it through :func:`hotfire.daq.sources.open_source` (``driver=...``) or
    :func:`hotfire.daq.sources.nidaq.use_interpreter`. One instance is the
    whole simulated system: it may serve any number of tasks.
    """

    description = "simulated NI-DAQmx driver"
    simulated = True

    def __init__(self, rig, scenario=None, *, speed: float = 1.0, trigger_delay_s: float | None = 0.25,
                 timebase_hz: float = 12.8e6):
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.rig = rig
        self.gen = SignalGenerator(rig, scenario)
        self.speed = float(speed)
        self.trigger_delay_s = trigger_delay_s
        self.timebase_hz = float(timebase_hz)
        self._wiring = {ch.physical: ch for ch in rig.channels}
        # A module's kinds and resolution follow the rig: int16 streams sit on
        # 16-bit modules, everything else on 24-bit ones.
        self._modules: dict[str, dict] = {}
        for ch in rig.channels:
            dev = ch.physical.split("/")[0]
            m = self._modules.setdefault(dev, {"kinds": set(), "bits": 16})
            m["kinds"].add(ch.kind)
            if rig.streams[ch.stream].dtype != "int16":
                m["bits"] = 24
        self._tasks: dict[int, _Task] = {}
        self._names: dict[str, _Task] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._faults: list[Fault] = []
        self._fire: dict[str, float] = {}  # trigger terminal -> wall time it fired (or will)
        self._origin = None  # wall time of the firing's t = 0 (first sample of any task)
        self.channels: dict[str, _Chan] = {}  # virtual channel name -> last created
        self.calls: list[tuple[str, dict]] = []  # driver calls made, for inspection

    # -- the stand ----------------------------------------------------------
    @property
    def truth(self):
        return self.gen.model.truth

    @property
    def duration_s(self) -> float:
        """Length of the simulated firing sequence, seconds."""
        return self.gen.model.duration

    def sequence_events(self):
        """T0 and cutoff as the stand's sequencer would mark them."""
        return self.gen.sequence_events(reference_stream(self.rig))

    def metadata(self) -> dict:
        return {"scenario": self.gen.scenario.to_dict(), "truth": self.truth.to_dict(),
                "driver": self.description, "speed": self.speed}

    def expected(self, channel: str, first: int, n: int, raw: bool) -> np.ndarray:
        """What virtual channel ``channel`` delivered (or will) for task samples [first, first+n)."""
        return self.channels[channel].values(self.gen, first, n, raw)

    # -- faults ---------------------------------------------------------------
    def inject(self, kind: str, device: str, at_s: float, duration_s: float = 0.0,
               exception: BaseException | None = None) -> Fault:
        """Inject a fault into every task with a channel on ``device`` (or on a module of it).

        Parameters
        ----------
        kind : {"overflow", "timeout", "removal", "exception"}
            ``overflow``: the host stalls for ``duration_s`` in the first read
            that reaches the fault's sample, so the buffer overflows if the
            stall outlasts it (-200279 on that read). ``timeout``: the device
            stops transferring at that sample for ``duration_s`` (reads
            waiting for later samples time out with -200284; nothing is lost).
            ``removal``: the device disappears at that sample (-201003).
            ``exception``: the first read reaching that sample raises
            ``exception`` instead of returning.
        device : str
            Device or chassis name, e.g. ``cDAQ1Mod2`` or ``cDAQ1``.
        at_s : float
            Simulated seconds after the task's first sample; each task's
            fault sample is ``ceil(at_s * rate)`` (see :meth:`Fault.sample`).
        duration_s : float
            Simulated seconds (overflow, timeout).
        exception : BaseException, optional
            For ``exception`` (default: a RuntimeError).
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r} (choose from {', '.join(FAULTS)})")
        if not any(dev == device or dev.startswith(device + "Mod") for dev in self._modules):
            raise ValueError(f"no device {device!r} in rig {self.rig.name!r} (have: {', '.join(self._modules)})")
        if kind == "exception" and exception is None:
            exception = RuntimeError(f"simulated driver failure on {device}")
        fault = Fault(kind, device, float(at_s), float(duration_s), exception)
        with self._lock:
            self._faults.append(fault)
            for t in self._tasks.values():  # running tasks get it now, others when they start
                if t.state == "running" and any(fault.hits(d) for d in t.devices):
                    t.faults.append((fault, fault.sample(t.rate)))
        return fault

    def pulse(self, terminal: str) -> None:
        """Fire an external digital edge on ``terminal`` now (starts tasks armed on it)."""
        with self._lock:
            self._fire[terminal] = time.monotonic()
            self._resolve()

    def _arm_faults(self, t: _Task):
        t.faults = [(f, f.sample(t.rate)) for f in self._faults if any(f.hits(d) for d in t.devices)]

    # -- helpers ---------------------------------------------------------------
    def _log(self, method: str, **kwargs):
        with self._lock:
            self.calls.append((method, kwargs))

    def _task(self, handle) -> _Task:
        t = self._tasks.get(getattr(handle, "id", None))
        if t is None:
            raise _error(DAQmxErrors.INVALID_TASK, "Task specified is invalid or does not exist.")
        return t

    def _clock(self, t: _Task) -> float:
        return t.rate * self.speed  # samples per wall second

    def _acquired(self, t: _Task, now: float) -> int:
        """Samples the device has transferred to the host buffer by wall time ``now``."""
        if t.state != "running" or t.t0 is None or now < t.t0:
            return 0
        n = int((now - t.t0) * self._clock(t))
        if t.removed_at is not None:
            n = min(n, t.removed_at)
        for f, k in t.faults:
            if f.kind == "removal":
                n = min(n, k)
            elif f.kind == "timeout" and n >= k:
                start = t.t0 + k / self._clock(t)
                if now < start + f.duration_s / self.speed:
                    n = k  # held on the device until the transfer resumes
        return n

    def _removed(self, t: _Task, now: float) -> bool:
        if t.removed_at is not None:
            return True
        for f, k in t.faults:
            if f.kind == "removal" and t.t0 is not None and now >= t.t0 + k / self._clock(t):
                t.removed_at = k
                return True
        return False

    def _gone(self, t: _Task):
        return _error(DAQmxErrors.DEV_CANNOT_BE_ACCESSED,
                      f"Device cannot be accessed. Possible causes: the device is no longer present in the "
                      f"system, or is not powered.\n\nDevice: {', '.join(t.devices)}", t.name)

    def _resolve(self):
        """Start tasks whose start trigger has fired (propagating through ai/StartTrigger)."""
        changed = True
        while changed:
            changed = False
            for t in self._tasks.values():
                if t.state != "running" or t.t0 is not None or t.armed_at is None:
                    continue
                src = t.trig.get(START_TRIG_SRC)
                fired = self._fire.get(src)
                if fired is not None and fired >= t.armed_at:
                    self._begin(t, fired)
                    changed = True

    def _begin(self, t: _Task, t0: float):
        t.t0 = t0
        if self._origin is None or t0 < self._origin:
            self._origin = t0
        # Sample k of this task is the physics at (t0 - origin) + k / rate.
        offset = int(round((t0 - self._origin) * self.speed * t.rate))
        for c in t.chans:
            c.offset = offset
        self._fire[self._term(t)] = t0

    @staticmethod
    def _term(t: _Task) -> str:
        dev = t.chans[0].device if t.chans else ""
        chassis = re.match(r"(cDAQ\d+)Mod\d+$", dev)
        return f"/{chassis.group(1) if chassis else dev}/ai/StartTrigger"

    def _uncommit(self, t: _Task):
        if t.state == "committed":
            t.state = "unverified"

    # -- tasks ----------------------------------------------------------------
    @property
    def driver_version(self):
        return DriverVersion(24, 8, 0)

    def hash_task_handle(self, task_handle):
        return hash(task_handle)

    def create_task(self, session_name):
        with self._lock:
            name = session_name or f"_unnamedTask<{len(self._names)}>"
            if name in self._names:
                raise _error(DAQmxErrors.DUPLICATE_TASK, "Task name specified conflicts with an existing task name.",
                             name)
            handle = _Handle(next(self._ids))
            t = _Task(handle, name)
            self._tasks[handle.id] = t
            self._names[name] = t
        self._log("create_task", name=name)
        return handle, True

    def clear_task(self, task):
        with self._lock:
            t = self._tasks.pop(getattr(task, "id", None), None)
            if t is None:
                raise _error(DAQmxErrors.INVALID_TASK, "Task specified is invalid or does not exist.")
            self._names.pop(t.name, None)
            t.state = "cleared"
        self._log("clear_task", name=t.name)

    def task_control(self, task, action):
        t = self._task(task)
        if action in (TaskMode.TASK_START.value,):
            return self.start_task(task)
        if action in (TaskMode.TASK_STOP.value, TaskMode.TASK_ABORT.value):
            return self.stop_task(task)
        with self._lock:
            if action == TaskMode.TASK_UNRESERVE.value:
                self._uncommit(t)
            elif t.state != "running":
                self._verify(t)
                t.state = "committed"
        self._log("task_control", name=t.name, action=TaskMode(action).name)

    def _verify(self, t: _Task):
        if not t.chans:
            raise _error(DAQmxErrors.CAN_NOT_PERFORM_OP_WHEN_NO_CHANS_IN_TASK,
                         "Operation cannot be performed when there are no channels in the task.", t.name)

    def start_task(self, task):
        t = self._task(task)
        with self._lock:
            if t.state == "running":
                return
            self._verify(t)
            if t.rate is None:
                raise _error(DAQmxErrors.UNKNOWN, "The simulated driver only runs sample-clock timed tasks: "
                             "call cfg_samp_clk_timing first.", t.name)
            if not any(o.state == "running" and o.t0 is not None for o in self._tasks.values()):
                self._origin = None  # a new acquisition: its first sample is the firing's t = 0
            t.reset_run()
            t.state = "running"
            now = time.monotonic()
            t.armed_at = now
            self._arm_faults(t)
            src = t.trig.get(START_TRIG_SRC) if t.trig[START_TRIG_TYPE] == TriggerType.DIGITAL_EDGE.value else None
            if src is None:
                self._begin(t, now)
            elif (not src.endswith("/ai/StartTrigger") and self.trigger_delay_s is not None
                  and self._fire.get(src, -math.inf) < now):
                self._fire[src] = now + self.trigger_delay_s / self.speed  # the external edge arrives later
            self._resolve()
        self._log("start_task", name=t.name)

    def stop_task(self, task):
        t = self._task(task)
        with self._lock:
            removed = self._removed(t, time.monotonic())
            if t.state == "running":
                t.state = "committed"
                t.t0 = None
        self._log("stop_task", name=t.name)
        if removed:
            raise self._gone(t)

    def is_task_done(self, task):
        return self._task(task).state != "running"

    def internal_get_last_created_chan(self):
        return getattr(self._local, "last", None)

    # -- channels -------------------------------------------------------------
    def _add(self, task, physical_channel, name, meas, min_val, max_val, attrs, call, to_base=None,
             from_base=None, **logged):
        t = self._task(task)
        physicals = unflatten_channel_string(physical_channel)
        names = [name] if len(physicals) == 1 and name else (
            [f"{name}{i}" for i in range(len(physicals))] if name else physicals)
        # Ranges are tabulated in base units (V, A, mV/V, degC).
        to_base, from_base = to_base or (lambda v: v), from_base or (lambda v: v)
        lo, hi = to_base(min_val), to_base(max_val)
        if not min_val < max_val:
            raise _error(DAQmxErrors.MIN_NOT_LESS_THAN_MAX, f"Minimum must be less than maximum.\n\n"
                         f"Minimum: {min_val}\nMaximum: {max_val}\nChannel Name: {names[0]}", t.name)
        fits = [r for r in RANGES[meas] if -r <= lo and hi <= r]
        if not fits:
            raise _error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE,
                         f"Requested value is not a supported value for this property.\n\nProperty: "
                         f"DAQmx_AI_Max\nRequested Value: {max_val}\nMinimum range: {min_val}, "
                         f"supported ranges: +-{', +-'.join(f'{r:g}' for r in RANGES[meas])} "
                         f"(base units)\nChannel Name: {names[0]}", t.name)
        rng = fits[0]
        created = []
        with self._lock:
            for phys, vname in zip(physicals, names):
                dev = phys.split("/")[0]
                module = self._modules.get(dev)
                if module is None:
                    raise _error(DAQmxErrors.INVALID_DEVICE_ID, f"Device identifier is invalid.\n\nDevice "
                                 f"Specified: {dev}\nSuggested Device(s): {', '.join(self._modules)}", t.name)
                rig_ch = self._wiring.get(phys)
                if rig_ch is None:
                    raise _error(DAQmxErrors.PHYSICAL_CHAN_DOES_NOT_EXIST,
                                 f"Physical channel specified does not exist on this device (no sensor is "
                                 f"wired to it on rig {self.rig.name}).\n\nPhysical Channel Name: {phys}", t.name)
                if meas not in module["kinds"] or rig_ch.kind != meas:
                    raise _error(DAQmxErrors.PHYS_CHAN_MEAS_TYPE,
                                 f"Measurement type not supported by the physical channel: {meas} requested, "
                                 f"the stand has a {rig_ch.kind} sensor ({rig_ch.name}) on it.\n\n"
                                 f"Physical Channel Name: {phys}", t.name)
                if any(c.name == vname for c in t.chans):
                    raise _error(DAQmxErrors.CHAN_ALREADY_IN_TASK, f"Channel is already in the task.\n\n"
                                 f"Channel Name: {vname}", t.name)
                a = dict(attrs)
                a.update({CHAN_TYPE: ChannelType.ANALOG_INPUT.value, CHAN_PHYSICAL: phys, AI_MIN: min_val,
                          AI_MAX: max_val, "_range": rng,
                          AI_RNG_HIGH: from_base(rng), AI_RNG_LOW: from_base(-rng),
                          AI_RAW_SAMP_SIZE: 16 if module["bits"] == 16 else 32})
                c = _Chan(vname, phys, meas, rig_ch, module["bits"], a)
                t.chans.append(c)
                self.channels[vname] = c
                created.append(vname)
            self._uncommit(t)
        self._local.last = ", ".join(created)
        self._log(call, task=t.name, physical_channel=physical_channel, name=name, min_val=min_val,
                  max_val=max_val, **logged)

    @staticmethod
    def _terminal(terminal_config: int) -> int:
        # DEFAULT resolves to what the simulated modules use by default.
        return TerminalConfiguration.DIFF.value if terminal_config == TerminalConfiguration.DEFAULT.value \
            else terminal_config

    def create_ai_voltage_chan(self, task, physical_channel, name_to_assign_to_channel, terminal_config,
                               min_val, max_val, units, custom_scale_name):
        if units != VoltageUnits.VOLTS.value or custom_scale_name:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        self._add(task, physical_channel, name_to_assign_to_channel, "voltage", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.VOLTAGE.value, AI_TERM_CFG: self._terminal(terminal_config),
                   AI_VOLTAGE_UNITS: units},
                  "create_ai_voltage_chan", terminal_config=TerminalConfiguration(terminal_config),
                  units=VoltageUnits(units))

    def create_ai_current_chan(self, task, physical_channel, name_to_assign_to_channel, terminal_config,
                               min_val, max_val, units, shunt_resistor_loc, ext_shunt_resistor_val,
                               custom_scale_name):
        if units != CurrentUnits.AMPS.value or custom_scale_name:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        ohm = ext_shunt_resistor_val if shunt_resistor_loc == CurrentShuntResistorLocation.EXTERNAL.value \
            else SHUNT_OHM
        self._add(task, physical_channel, name_to_assign_to_channel, "current", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.CURRENT.value, AI_TERM_CFG: self._terminal(terminal_config),
                   AI_CURRENT_UNITS: units, AI_SHUNT_LOC: shunt_resistor_loc, AI_SHUNT_OHM: float(ohm)},
                  "create_ai_current_chan", terminal_config=TerminalConfiguration(terminal_config),
                  units=CurrentUnits(units), shunt_resistor_loc=CurrentShuntResistorLocation(shunt_resistor_loc))

    def create_ai_bridge_chan(self, task, physical_channel, name_to_assign_to_channel, min_val, max_val, units,
                              bridge_config, voltage_excit_source, voltage_excit_val, nominal_bridge_resistance,
                              custom_scale_name):
        if units not in (BridgeUnits.MILLIVOLTS_PER_VOLT.value, BridgeUnits.VOLTS_PER_VOLT.value) \
                or custom_scale_name:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        per_volt = units == BridgeUnits.VOLTS_PER_VOLT.value
        # No excitation, no bridge output: the sensor then reads zero.
        excit = 0.0 if voltage_excit_source == ExcitationSource.NONE.value else float(voltage_excit_val)
        if excit <= 0:
            raise _error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE, "A bridge needs a positive excitation voltage.\n\n"
                         f"Channel Name: {name_to_assign_to_channel}", self._task(task).name)
        self._add(task, physical_channel, name_to_assign_to_channel, "bridge", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.BRIDGE.value, AI_BRIDGE_UNITS: units, AI_BRIDGE_CFG: bridge_config,
                   AI_EXCIT_SRC: voltage_excit_source, AI_EXCIT_VAL: excit,
                   AI_BRIDGE_NOM_OHM: float(nominal_bridge_resistance)},
                  "create_ai_bridge_chan", to_base=(lambda v: v * 1000.0) if per_volt else None,
                  from_base=(lambda v: v / 1000.0) if per_volt else None,
                  units=BridgeUnits(units), bridge_config=BridgeConfiguration(bridge_config),
                  voltage_excit_source=ExcitationSource(voltage_excit_source), voltage_excit_val=voltage_excit_val,
                  nominal_bridge_resistance=nominal_bridge_resistance)

    def create_ai_thrmcpl_chan(self, task, physical_channel, name_to_assign_to_channel, min_val, max_val, units,
                               thermocouple_type, cjc_source, cjc_val, cjc_channel):
        if cjc_source == CJCSource.SCANNABLE_CHANNEL.value:
            raise DaqFunctionNotSupportedError("the simulated driver has no scannable CJC channels")
        to_c = {TemperatureUnits.DEG_C.value: lambda v: v, TemperatureUnits.K.value: lambda v: v - 273.15,
                TemperatureUnits.DEG_F.value: lambda v: (v - 32) / 1.8,
                TemperatureUnits.DEG_R.value: lambda v: v / 1.8 - 273.15}
        from_c = {TemperatureUnits.DEG_C.value: lambda v: v, TemperatureUnits.K.value: lambda v: v + 273.15,
                  TemperatureUnits.DEG_F.value: lambda v: v * 1.8 + 32,
                  TemperatureUnits.DEG_R.value: lambda v: (v + 273.15) * 1.8}
        if units not in to_c:
            raise DaqFunctionNotSupportedError("the simulated driver has no custom scales")
        self._add(task, physical_channel, name_to_assign_to_channel, "thermocouple", min_val, max_val,
                  {AI_MEAS_TYPE: UsageTypeAI.TEMPERATURE_THERMOCOUPLE.value, AI_TEMP_UNITS: units,
                   AI_TC_TYPE: thermocouple_type, AI_CJC_SRC: cjc_source, AI_CJC_VAL: float(cjc_val),
                   AI_CJC_CHAN: cjc_channel},
                  "create_ai_thrmcpl_chan", to_base=to_c[units], from_base=from_c[units],
                  units=TemperatureUnits(units),
                  thermocouple_type=ThermocoupleType(thermocouple_type), cjc_source=CJCSource(cjc_source),
                  cjc_val=cjc_val)

    # -- timing and triggers -------------------------------------------------
    def cfg_samp_clk_timing(self, task, rate, source, active_edge, sample_mode, samps_per_chan):
        t = self._task(task)
        if sample_mode != AcquisitionType.CONTINUOUS.value:
            raise DaqFunctionNotSupportedError("the simulated driver only runs continuous acquisitions")
        if not rate > 0:
            raise _error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE, f"Sample clock rate must be positive, got {rate}.",
                         t.name)
        divisor = max(1, round(self.timebase_hz / rate))
        with self._lock:
            t.rate = self.timebase_hz / divisor
            t.timing.update({SAMP_CLK_RATE: t.rate, SAMP_MODE: sample_mode, SAMP_PER_CHAN: int(samps_per_chan),
                             SAMP_CLK_EDGE: active_edge, SAMP_CLK_SRC: source})
            self._uncommit(t)
        self._log("cfg_samp_clk_timing", task=t.name, rate=rate, source=source, active_edge=Edge(active_edge),
                  sample_mode=AcquisitionType(sample_mode), samps_per_chan=samps_per_chan)

    def cfg_dig_edge_start_trig(self, task, trigger_source, trigger_edge):
        t = self._task(task)
        with self._lock:
            t.trig.update({START_TRIG_TYPE: TriggerType.DIGITAL_EDGE.value, START_TRIG_SRC: trigger_source,
                           START_TRIG_EDGE: trigger_edge})
            self._uncommit(t)
        self._log("cfg_dig_edge_start_trig", task=t.name, trigger_source=trigger_source,
                  trigger_edge=Edge(trigger_edge))

    def disable_start_trig(self, task):
        t = self._task(task)
        with self._lock:
            t.trig = {START_TRIG_TYPE: TriggerType.NONE.value}
        self._log("disable_start_trig", task=t.name)

    # -- reading --------------------------------------------------------------
    def read_analog_f64(self, task, num_samps_per_chan, timeout, fill_mode, read_array):
        return self._read(task, num_samps_per_chan, timeout, fill_mode, read_array, np.float64, raw=False)

    def read_binary_i16(self, task, num_samps_per_chan, timeout, fill_mode, read_array):
        return self._read(task, num_samps_per_chan, timeout, fill_mode, read_array, np.int16, raw=True)

    def read_binary_i32(self, task, num_samps_per_chan, timeout, fill_mode, read_array):
        return self._read(task, num_samps_per_chan, timeout, fill_mode, read_array, np.int32, raw=True)

    def _read(self, task, n, timeout, fill_mode, array, dtype, raw):
        _check_array(array, dtype)
        t = self._task(task)
        nch = len(t.chans)
        if t.state != "running":
            raise _error(DAQmxErrors.CANNOT_PERFORM_OP_WHEN_TASK_NOT_RUNNING,
                         "The simulated driver reads only from running tasks: start the task first.", t.name)
        if raw:
            wide = [c.name for c in t.chans if c.meas == "thermocouple" or c.attrs[AI_RAW_SAMP_SIZE] >
                    8 * np.dtype(dtype).itemsize]
            if wide:
                raise _error(DAQmxErrors.UNKNOWN, f"Unscaled {np.dtype(dtype).name} reads are not possible for "
                             f"channel(s) {', '.join(wide)} (raw sample size or thermocouple).", t.name)
        if t.sticky is not None:
            raise t.sticky
        if n == -1:
            n = max(0, self._acquired(t, time.monotonic()) - t.read_pos)
        if array.size < n * nch:
            raise _error(DAQmxErrors.READ_BUFFER_TOO_SMALL, f"Buffer is too small to fit read data.\n\n"
                         f"Buffer Length: {array.size}\nRequired Buffer Size in Samples: {n * nch}", t.name)
        rel, off = t.read_attrs[READ_RELATIVE_TO], t.read_attrs[READ_OFFSET]
        now = time.monotonic()
        with self._lock:
            total = self._acquired(t, now)
        base = {ReadRelativeTo.CURRENT_READ_POSITION.value: t.read_pos, ReadRelativeTo.FIRST_SAMPLE.value: 0,
                ReadRelativeTo.MOST_RECENT_SAMPLE.value: total}.get(rel)
        if base is None:
            raise DaqFunctionNotSupportedError(f"the simulated driver has no relative_to {rel}")
        pos = base + off
        if pos < 0:
            raise _error(DAQmxErrors.NEGATIVE_READ_SAMPLE_NUMBER, "Read position is negative: "
                         f"relative_to {ReadRelativeTo(rel).name} with offset {off}.", t.name)
        self._host_faults(t, pos, n)

        deadline = None if timeout == WAIT_INFINITELY else time.monotonic() + max(0.0, timeout) / self.speed
        code = None
        while True:
            now = time.monotonic()
            with self._lock:
                if t.state != "running":
                    raise _error(DAQmxErrors.INVALID_TASK, "The task was stopped or cleared during the read.",
                                 t.name)
                total = self._acquired(t, now)
                removed = self._removed(t, now)
                overwrite = t.read_attrs[READ_OVERWRITE] == OverwriteMode.OVERWRITE_UNREAD_SAMPLES.value
                if total - t.read_pos > t.buffer and not overwrite:
                    t.sticky = _error(DAQmxErrors.SAMPLES_NO_LONGER_AVAILABLE, (
                        "The application is not able to keep up with the hardware acquisition. Increasing the "
                        "buffer size, reading the data more frequently, or specifying a fixed number of samples "
                        "to read instead of reading all available samples might correct the problem."), t.name, 0)
                    raise t.sticky
                if pos < total - t.buffer:
                    raise _error(DAQmxErrors.SAMPLES_NO_LONGER_AVAILABLE, (
                        "Attempted to read samples that are no longer available. The requested sample was "
                        "previously available, but has since been overwritten. Increasing the buffer size or "
                        "reading the data more frequently might correct the problem.\n\n"
                        f"Property: DAQmx_Read_RelativeTo\nCorresponding Value: {ReadRelativeTo(rel).name}\n"
                        f"Property: DAQmx_Read_Offset\nCorresponding Value: {off}\n"
                        f"Sample Requested: {pos}\nTotal Samples Acquired: {total}\nBuffer Size: {t.buffer}"),
                        t.name, 0)
            if total >= pos + n:
                got = n
                break
            if removed:
                got, code = max(0, total - pos), DAQmxErrors.DEV_CANNOT_BE_ACCESSED
                break
            if deadline is not None and now >= deadline:
                got, code = max(0, total - pos), DAQmxErrors.SAMPLES_NOT_YET_AVAILABLE
                break
            wait = (pos + n - total) / self._clock(t) if t.t0 is not None else 0.02
            if deadline is not None:
                wait = min(wait, deadline - now)
            time.sleep(min(max(wait, 2e-4), 0.02))

        if got:
            self._fill(t, array, pos, n, got, fill_mode, raw)
        with self._lock:
            t.read_pos = pos + got
        if code == DAQmxErrors.DEV_CANNOT_BE_ACCESSED:
            err = self._gone(t)
            raise DaqReadError(str(err), code.value, got)
        if code is not None:
            raise _error(code, (
                "Some or all of the samples requested have not yet been acquired. To wait for the samples to "
                "become available use a longer read timeout or read later in your program.\n\n"
                f"Samples Requested: {n}\nSamples Read: {got}\nTimeout: {timeout} s"), t.name, got)
        return array, got

    def _host_faults(self, t: _Task, pos: int, n: int):
        """Faults of the host side of a read: a stall (overflow) or an exception."""
        for f, k in list(t.faults):
            if f.kind in ("overflow", "exception") and pos + n > k:
                with self._lock:
                    if (f, k) not in t.faults:
                        continue  # another thread took it
                    t.faults.remove((f, k))
                if f.kind == "exception":
                    raise f.exception
                time.sleep(f.duration_s / self.speed)

    def _fill(self, t, array, pos, n, got, fill_mode, raw):
        nch = len(t.chans)
        if fill_mode == FillMode.GROUP_BY_CHANNEL.value:
            # DAQmx lays channel c out at [c*n, c*n + got): n is the samples *requested*.
            view = array.reshape(-1)[: nch * n].reshape(nch, n)
            for j, c in enumerate(t.chans):
                view[j, :got] = c.values(self.gen, pos, got, raw)
        elif fill_mode == FillMode.GROUP_BY_SCAN_NUMBER.value:
            view = array.reshape(-1)[: nch * got].reshape(got, nch)
            for j, c in enumerate(t.chans):
                view[:, j] = c.values(self.gen, pos, got, raw)
        else:
            raise _error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE, f"Invalid fill mode {fill_mode}.", t.name)

    # -- attributes -----------------------------------------------------------
    def _unsupported(self, kind: str, attribute: int, t: _Task | None = None):
        return _error(DAQmxErrors.ATTR_NOT_SUPPORTED, f"Specified property is not supported by the simulated "
                      f"driver.\n\nProperty: {kind} 0x{attribute:X}", t.name if t else "")

    def _get_task(self, task, attribute):
        t = self._task(task)
        vals = {TASK_NAME: t.name, TASK_CHANNELS: ", ".join(c.name for c in t.chans),
                TASK_NUM_CHANS: len(t.chans), TASK_DEVICES: ", ".join(t.devices), TASK_NUM_DEVICES: len(t.devices)}
        if attribute not in vals:
            raise self._unsupported("task", attribute, t)
        return vals[attribute]

    def _get_read(self, task, attribute):
        t = self._task(task)
        if attribute in t.read_attrs:
            return t.read_attrs[attribute]
        with self._lock:
            total = self._acquired(t, time.monotonic())
        avail = max(0, min(total - t.read_pos, t.buffer))
        vals = {READ_AVAIL: avail, READ_DEFAULT_N: avail, READ_TOTAL: total, READ_POS: t.read_pos,
                READ_NUM_CHANS: len(t.chans)}
        if attribute not in vals:
            raise self._unsupported("read", attribute, t)
        return vals[attribute]

    def _set_read(self, task, attribute, value):
        t = self._task(task)
        if attribute not in t.read_attrs:
            raise self._unsupported("read", attribute, t)
        t.read_attrs[attribute] = value
        self._log("set_read_attribute", task=t.name, attribute=attribute, value=value)

    def _get_chan(self, task, channel, attribute):
        t = self._task(task)
        chans = [c for c in t.chans if c.name in unflatten_channel_string(channel)] if channel else t.chans
        if not chans:
            raise _error(DAQmxErrors.PHYSICAL_CHAN_DOES_NOT_EXIST, f"Channel not in task: {channel}", t.name)
        if attribute == AI_DEV_SCALING:
            if t.state == "unverified":
                raise _error(DAQmxErrors.CANNOT_GET_PROPERTY_WHEN_TASK_NOT_RESERVED_COMMITTED_OR_RUNNING,
                             "Specified property cannot be read while the task is not reserved, committed or "
                             "running.\n\nProperty: DAQmx_AI_DevScalingCoeff", t.name)
            vals = [c.coefficients() for c in chans]
        elif attribute == AI_RESOLUTION:
            vals = [float(c.bits) for c in chans]
        else:
            if attribute not in chans[0].attrs:
                raise self._unsupported("channel", attribute, t)
            vals = [c.attrs.get(attribute) for c in chans]
        if any(v != vals[0] for v in vals):
            raise _error(DAQmxErrors.UNKNOWN, f"Channels {channel!r} differ in property 0x{attribute:X}: name one.",
                         t.name)
        return vals[0]

    def _set_chan(self, task, channel, attribute, value):
        t = self._task(task)
        for c in t.chans:
            if not channel or c.name in unflatten_channel_string(channel):
                c.attrs[attribute] = value
        self._uncommit(t)
        self._log("set_chan_attribute", task=t.name, channel=channel, attribute=attribute, value=value)

    def get_task_attribute_string(self, task, attribute):
        return self._get_task(task, attribute)

    def get_task_attribute_uint32(self, task, attribute):
        return self._get_task(task, attribute)

    def get_task_attribute_bool(self, task, attribute):
        return bool(self._get_task(task, attribute))

    def get_read_attribute_uint32(self, task, attribute):
        return int(self._get_read(task, attribute))

    def get_read_attribute_uint64(self, task, attribute):
        return int(self._get_read(task, attribute))

    def get_read_attribute_int32(self, task, attribute):
        return int(self._get_read(task, attribute))

    def get_read_attribute_bool(self, task, attribute):
        return bool(self._get_read(task, attribute))

    def set_read_attribute_int32(self, task, attribute, value):
        self._set_read(task, attribute, int(value))

    def reset_read_attribute(self, task, attribute):
        defaults = _Task(None, "").read_attrs
        if attribute not in defaults:
            raise self._unsupported("read", attribute)
        self._set_read(task, attribute, defaults[attribute])

    def get_buffer_attribute_uint32(self, task, attribute):
        t = self._task(task)
        if attribute == BUF_INPUT_SIZE:
            return t.buffer
        if attribute == BUF_ONBOARD_SIZE:
            return 8191
        raise self._unsupported("buffer", attribute, t)

    def set_buffer_attribute_uint32(self, task, attribute, value):
        t = self._task(task)
        if attribute != BUF_INPUT_SIZE:
            raise self._unsupported("buffer", attribute, t)
        t.buf_size = int(value)
        self._log("set_buffer_attribute", task=t.name, attribute=attribute, value=value)

    def reset_buffer_attribute(self, task, attribute):
        self._task(task).buf_size = None

    def cfg_input_buffer(self, task, num_samps_per_chan):
        self.set_buffer_attribute_uint32(task, BUF_INPUT_SIZE, num_samps_per_chan)

    def _get_timing(self, task, attribute):
        t = self._task(task)
        if attribute not in t.timing:
            raise self._unsupported("timing", attribute, t)
        return t.timing[attribute]

    def _set_timing(self, task, attribute, value):
        t = self._task(task)
        if attribute not in (REF_CLK_SRC, REF_CLK_RATE):
            raise self._unsupported("timing", attribute, t)
        t.timing[attribute] = value
        self._uncommit(t)
        self._log("set_timing_attribute", task=t.name, attribute=attribute, value=value)

    def get_timing_attribute_double(self, task, attribute):
        return float(self._get_timing(task, attribute))

    def get_timing_attribute_string(self, task, attribute):
        return str(self._get_timing(task, attribute))

    def get_timing_attribute_int32(self, task, attribute):
        return int(self._get_timing(task, attribute))

    def get_timing_attribute_uint64(self, task, attribute):
        return int(self._get_timing(task, attribute))

    def set_timing_attribute_double(self, task, attribute, value):
        self._set_timing(task, attribute, float(value))

    def set_timing_attribute_string(self, task, attribute, value):
        self._set_timing(task, attribute, str(value))

    def _get_trig(self, task, attribute):
        t = self._task(task)
        if attribute == START_TRIG_TERM:
            return self._term(t)
        if attribute not in t.trig:
            raise self._unsupported("trigger", attribute, t)
        return t.trig[attribute]

    def get_trig_attribute_string(self, task, attribute):
        return str(self._get_trig(task, attribute))

    def get_trig_attribute_int32(self, task, attribute):
        return int(self._get_trig(task, attribute))

    def get_chan_attribute_double(self, task, channel, attribute):
        return float(self._get_chan(task, channel, attribute))

    def get_chan_attribute_double_array(self, task, channel, attribute):
        return list(self._get_chan(task, channel, attribute))

    def get_chan_attribute_int32(self, task, channel, attribute):
        return int(self._get_chan(task, channel, attribute))

    def get_chan_attribute_uint32(self, task, channel, attribute):
        return int(self._get_chan(task, channel, attribute))

    def get_chan_attribute_string(self, task, channel, attribute):
        return str(self._get_chan(task, channel, attribute))

    def get_chan_attribute_bool(self, task, channel, attribute):
        return bool(self._get_chan(task, channel, attribute))

    def set_chan_attribute_double(self, task, channel, attribute, value):
        self._set_chan(task, channel, attribute, float(value))

    def set_chan_attribute_int32(self, task, channel, attribute, value):
        self._set_chan(task, channel, attribute, int(value))

    def get_error_string(self, error_code):
        try:
            return DAQmxErrors(error_code).name
        except ValueError:
            return f"error {error_code}"

    def get_extended_error_info(self):
        return ""


def _not_simulated(name):
    def method(self, *args, **kwargs):
        raise DaqFunctionNotSupportedError(f"{name} is not implemented by the simulated NI-DAQmx driver")
    method.__name__ = name
    return method


# Everything else BaseInterpreter declares says clearly that it is not simulated.
for _name in sorted(BaseInterpreter.__abstractmethods__):
    if _name not in SimulatedDriver.__dict__:
        setattr(SimulatedDriver, _name, _not_simulated(_name))
SimulatedDriver.__abstractmethods__ = frozenset()
