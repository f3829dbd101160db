"""The NI-DAQmx source: one ``nidaqmx.Task`` per stream of the rig.

Each stream (one sample clock) becomes a task with one AI channel per rig
channel (:func:`channel_call` is the mapping), a hardware-timed continuous
sample clock at the stream's rate, an input buffer of at least 2 s, and reads
of about a tenth of a second through nidaqmx's stream readers into
preallocated arrays: ``AnalogMultiChannelReader`` for float streams,
``AnalogUnscaledReader`` for int16/int32 streams, whose ADC counts are stored
with each channel's device scaling coefficients (``metadata()["adc"]``) so
that counts convert exactly. All tasks start on one start trigger (the first
task's ``ai/StartTrigger``, itself optionally on an external digital edge),
so sample ``k`` of every stream is ``k / rate`` seconds after the same
instant; on PXI, pass ``ref_clock="PXI_Clk10"`` so the streams' clocks do
not drift apart.

Reads happen in the caller's thread: the acquisition's producer thread for
the stream is the reader thread, so a driver error surfaces exactly where
the samples stop, and nothing else touches the task meanwhile.

Fault policy (see docs/nidaqmx.md):

- -200279 samples no longer available: the task keeps running in overwrite
  mode, so the hardware clock never stops. The read position moves to the
  oldest sample still in the buffer (plus headroom); the samples skipped are
  exactly ``new position - driver read position`` and show as a gap.
- -200284 read timeout: the samples the read did get are kept (a short read
  consumes only what it returned); one ``driver_error`` event marks where
  samples stopped; reading continues.
- device removed (-201003, -200045): the samples before it are kept, an
  event marks the sample, and that stream ends cleanly.
- anything else: the samples read are kept, then the stream stops with a
  :class:`~hotfire.core.errors.HotfireError` naming the stream, which the
  acquisition records and reports.
"""
from __future__ import annotations

import contextlib
import math
import threading

import nidaqmx
import nidaqmx.utils
import numpy as np
from nidaqmx.constants import (
    AcquisitionType,
    BridgeConfiguration,
    BridgeUnits,
    CJCSource,
    CurrentShuntResistorLocation,
    CurrentUnits,
    Edge,
    ExcitationSource,
    OverwriteMode,
    TaskMode,
    TemperatureUnits,
    TerminalConfiguration,
    ThermocoupleType,
    VoltageUnits,
)
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqError, DaqNotFoundError, DaqNotSupportedError, DaqReadError
from nidaqmx.stream_readers import AnalogMultiChannelReader, AnalogUnscaledReader

from hotfire.core.events import Event
from hotfire.daq.sources.base import Block, Source, StreamSpec
from hotfire.core.errors import HotfireError

TERMINALS = {
    "default": TerminalConfiguration.DEFAULT,
    "diff": TerminalConfiguration.DIFF,
    "rse": TerminalConfiguration.RSE,
    "nrse": TerminalConfiguration.NRSE,
    "pseudodiff": TerminalConfiguration.PSEUDO_DIFF,
}
#: Errors after which the device is gone: the stream ends, keeping what it read.
DEVICE_GONE = (DAQmxErrors.DEV_CANNOT_BE_ACCESSED.value, DAQmxErrors.DEVICE_REMOVED.value)
#: Give up after this many -200279 errors in a row (reading cannot keep up at all).
MAX_RESYNCS = 8
#: Nominal resistance passed for load cells (the rig does not name one; it
#: does not enter mV/V scaling).
BRIDGE_OHM = 350.0
#: Cold-junction temperature assumed for ``cjc = "constant"`` (DAQmx's default).
CJC_CONSTANT_DEGC = 25.0

_select_lock = threading.Lock()


@contextlib.contextmanager
def use_interpreter(interpreter):
    """Make ``nidaqmx.Task()`` use ``interpreter`` inside the block (None: the real driver).

    nidaqmx picks the driver interpreter in ``nidaqmx.utils._select_interpreter``
    when a Task is constructed (NI's own unit tests patch the same function);
    the task then keeps it, so only construction needs the patch.
    """
    if interpreter is None:
        yield
        return
    with _select_lock:
        saved = nidaqmx.utils._select_interpreter

        def select(grpc_options=None, interpreter_=None):
            return interpreter_ or interpreter

        nidaqmx.utils._select_interpreter = select
        try:
            yield
        finally:
            nidaqmx.utils._select_interpreter = saved


def channel_call(ch) -> tuple[str, dict]:
    """The ``task.ai_channels`` method and keyword arguments for rig channel ``ch``.

    Parameters
    ----------
    ch : Channel

    Returns
    -------
    (str, dict)
        e.g. ``("add_ai_voltage_chan", {"physical_channel": "cDAQ1Mod3/ai0", ...})``.

    Raises
    ------
    HotfireError
        If the channel cannot be expressed in DAQmx (the message names it).
    """
    lo, hi = ch.range
    common = {"physical_channel": ch.physical, "name_to_assign_to_channel": ch.name}
    if ch.kind in ("bridge", "thermocouple") and ch.terminal != "default":
        raise HotfireError(f"channel {ch.name!r} ({ch.physical}): terminal = {ch.terminal!r} applies to voltage "
                           f"and current channels only, not {ch.kind}")
    if ch.kind == "voltage":
        return "add_ai_voltage_chan", {**common, "terminal_config": TERMINALS[ch.terminal], "min_val": lo,
                                       "max_val": hi, "units": VoltageUnits.VOLTS}
    if ch.kind == "current":
        # Rig ranges are in mA; DAQmx measures amps.
        return "add_ai_current_chan", {**common, "terminal_config": TERMINALS[ch.terminal], "min_val": lo / 1000.0,
                                       "max_val": hi / 1000.0, "units": CurrentUnits.AMPS,
                                       "shunt_resistor_loc": CurrentShuntResistorLocation.LET_DRIVER_CHOOSE}
    if ch.kind == "bridge":
        return "add_ai_bridge_chan", {**common, "min_val": lo, "max_val": hi,
                                      "units": BridgeUnits.MILLIVOLTS_PER_VOLT,
                                      "bridge_config": BridgeConfiguration.FULL_BRIDGE,
                                      "voltage_excit_source": ExcitationSource.INTERNAL,
                                      "voltage_excit_val": float(ch.excitation_V),
                                      "nominal_bridge_resistance": BRIDGE_OHM}
    if ch.kind == "thermocouple":
        # nidaqmx defaults to a constant CJC value: say built-in explicitly.
        cjc = CJCSource.BUILT_IN if ch.cjc == "builtin" else CJCSource.CONSTANT_USER_VALUE
        return "add_ai_thrmcpl_chan", {**common, "min_val": lo, "max_val": hi, "units": TemperatureUnits.DEG_C,
                                       "thermocouple_type": ThermocoupleType[ch.thermocouple_type],
                                       "cjc_source": cjc, "cjc_val": CJC_CONSTANT_DEGC}
    raise HotfireError(f"channel {ch.name!r}: no NI-DAQmx mapping for kind {ch.kind!r}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Stream:
    """One stream's task, reader, buffers and read state."""

    def __init__(self, spec: StreamSpec, channels, task, chunk: int, total: int | None):
        self.spec, self.channels, self.task = spec, channels, task
        self.name = spec.name
        self.chunk, self.total = chunk, total
        self.pos = 0  # absolute index of the next sample this stream delivers
        self.lock = threading.Lock()
        self.done = False
        self.pending: BaseException | None = None  # raised by the next read
        self.stalled = False  # a timeout was reported; samples have not resumed
        self.resync: tuple[int, int, int] | None = None  # (read position, total acquired, buffer) after -200279
        self.overflows = 0  # consecutive -200279 errors
        self.rate = spec.rate_hz
        self.buffer = 0
        raw = spec.dtype.kind in "iu"
        read_dtype = spec.dtype if raw else np.dtype(np.float64)
        n = len(channels)
        # nidaqmx fills channel-major (channels x samples); blocks are
        # samples x channels. Both arrays live for the whole run.
        self.flat = np.empty(n * chunk, dtype=read_dtype)
        self.rows = np.empty((chunk, n), dtype=spec.dtype)
        if not raw:
            self.reader = AnalogMultiChannelReader(task.in_stream)
            self.read_into = self.reader.read_many_sample
        else:
            self.reader = AnalogUnscaledReader(task.in_stream)
            self.read_into = {np.dtype(np.int16): self.reader.read_int16,
                              np.dtype(np.int32): self.reader.read_int32}[spec.dtype]

    @property
    def devices(self) -> str:
        return ", ".join(sorted({ch.physical.split("/")[0] for ch in self.channels}))


class NidaqSource(Source):
    """Acquire a rig's streams from NI-DAQmx hardware (or a driver interpreter).

    Parameters
    ----------
    rig : Rig
    interpreter : nidaqmx interpreter, optional
        Driver to use instead of the NI-DAQmx library, e.g.
        :class:`~hotfire.daq.sources.simdriver.SimulatedDriver`.
    sequencer : Sequencer, optional
        What marks the firing sequence (:class:`~hotfire.daq.sources.base.Sequencer`:
        ``sequence_events()``, ``metadata()``, ``duration_s``); the simulated
        driver is one. Without it the run has no sequence events.
    duration_s : float, optional
        Seconds to acquire (default: the sequencer's, else the rig's sequence).
    trigger : str, optional
        Start on a digital edge at this terminal (e.g. ``/cDAQ1/PFI0``);
        default: start at once.
    ref_clock : str, optional
        Reference clock source for every task (e.g. ``PXI_Clk10``).
    ref_clock_hz : float
        Its frequency.
    buffer_s : float
        DAQ input buffer per task, seconds of samples (>= 2).
    reads_per_s : float
        Reads per second per stream.
    read_timeout_s : float
        How long one read waits for its samples before reporting -200284.

    Raises
    ------
    HotfireError
        No NI-DAQmx driver, or a channel/stream the hardware refuses (the
        message names it).
    """

    def __init__(self, rig, *, interpreter=None, sequencer=None, duration_s: float | None = None,
                 trigger: str | None = None, ref_clock: str | None = None, ref_clock_hz: float = 10e6,
                 buffer_s: float = 2.0, reads_per_s: float = 10.0, read_timeout_s: float = 2.0):
        if buffer_s < 2.0:
            raise HotfireError(f"the DAQ buffer must hold at least 2 s of samples, got buffer_s={buffer_s}")
        self.rig = rig
        self.interpreter, self.sequencer = interpreter, sequencer
        self.kind = "nidaqmx" if interpreter is None else \
            f"nidaqmx ({getattr(interpreter, 'description', type(interpreter).__name__)})"
        self.trigger, self.read_timeout_s = trigger, float(read_timeout_s)
        if duration_s is None:
            seq = rig.sequence
            duration_s = sequencer.duration_s if sequencer is not None else \
                seq.pretrigger_s + seq.burn_s + seq.posttrigger_s
        self.duration_s = duration_s
        self.streams = {s.name: StreamSpec(s.name, s.rate_hz, np.dtype(s.dtype), s.channels)
                        for s in rig.streams.values()}
        self._st: dict[str, _Stream] = {}
        self._adc: dict[str, dict] = {}
        self._events: list[Event] = []
        self._ev_lock = threading.Lock()
        self._stopping = threading.Event()
        self._started = False
        self._sequence = list(sequencer.sequence_events()) if sequencer is not None else []
        try:
            for s in rig.streams.values():
                self._st[s.name] = self._open(s, buffer_s, reads_per_s)
            self._synchronise(ref_clock, ref_clock_hz)
        except BaseException:
            self._close_all()
            raise
        if duration_s is not None:
            self._sequence = [e for e in self._sequence if e.sample < self._st[e.stream].total]

    # -- set-up ------------------------------------------------------------------
    def _open(self, s, buffer_s: float, reads_per_s: float) -> _Stream:
        channels = self.rig.stream_channels(s.name)
        spec = self.streams[s.name]
        where = f"rig {self.rig.name!r}, stream {s.name!r}"
        if spec.dtype.kind in "iu":
            if spec.dtype not in (np.dtype(np.int16), np.dtype(np.int32)):
                raise HotfireError(f"{where}: NI-DAQmx unscaled reads are int16 or int32, not {spec.dtype}")
            tcs = [ch.name for ch in channels if ch.kind == "thermocouple"]
            if tcs:
                raise HotfireError(f"{where}: thermocouple channel(s) {', '.join(tcs)} need a float stream: "
                                   f"ADC counts to degC is not a polynomial (cold-junction compensation)")
        task = self._new_task(f"hotfire {self.rig.name} {s.name}")
        try:
            for ch in channels:
                method, kwargs = channel_call(ch)
                try:
                    getattr(task.ai_channels, method)(**kwargs)
                except DaqError as exc:
                    raise HotfireError(f"{where}, channel {ch.name!r} ({ch.physical}): NI-DAQmx refused the "
                                       f"{ch.kind} channel: {_first_line(exc)} (error {exc.error_code})") from exc
            chunk = max(1, int(round(s.rate_hz / reads_per_s)))
            buffer = max(int(math.ceil(buffer_s * s.rate_hz)), 4 * chunk)
            try:
                task.timing.cfg_samp_clk_timing(s.rate_hz, sample_mode=AcquisitionType.CONTINUOUS,
                                                samps_per_chan=buffer)
                task.in_stream.input_buf_size = buffer
                # Overwrite mode keeps the sample clock running through an
                # overflow, so the samples lost are counted exactly.
                task.in_stream.overwrite = OverwriteMode.OVERWRITE_UNREAD_SAMPLES
                actual = task.timing.samp_clk_rate
            except DaqError as exc:
                raise HotfireError(f"{where}: NI-DAQmx refused the sample clock at {s.rate_hz:g} Hz: "
                                   f"{_first_line(exc)} (error {exc.error_code})") from exc
            if abs(actual - s.rate_hz) > 1e-9 * s.rate_hz:
                # Sample index k is dated k / rate: a coerced clock would mis-date every sample.
                raise HotfireError(f"{where}: the device runs the sample clock at {actual:.9g} Hz, not the rig's "
                                   f"{s.rate_hz:g} Hz; set rate_hz to a rate the device supports")
            total = None if self.duration_s is None else int(round(self.duration_s * s.rate_hz))
            st = _Stream(spec, channels, task, chunk, total)
            st.buffer = buffer
            return st
        except BaseException:
            with contextlib.suppress(Exception):
                task.close()
            raise

    def _new_task(self, name: str):
        try:
            with use_interpreter(self.interpreter):
                return nidaqmx.Task(name)
        except (DaqNotFoundError, DaqNotSupportedError) as exc:
            raise HotfireError(
                f"no NI-DAQmx driver on this machine ({_first_line(exc)}); to run without hardware use the "
                f"engine simulator (--source sim) or the simulated NI-DAQmx driver (--source nidaq-sim)") from None

    def _synchronise(self, ref_clock, ref_clock_hz):
        """One start trigger for all tasks; optionally one reference clock."""
        streams = list(self._st.values())
        master = streams[0]
        try:
            for st in streams:
                if ref_clock:
                    st.task.timing.ref_clk_src = ref_clock
                    st.task.timing.ref_clk_rate = ref_clock_hz
            if self.trigger:
                master.task.triggers.start_trigger.cfg_dig_edge_start_trig(self.trigger, trigger_edge=Edge.RISING)
            master.task.control(TaskMode.TASK_COMMIT)
            term = master.task.triggers.start_trigger.term
            for st in streams[1:]:
                # Armed first, started by the master's start: sample 0 is the same instant everywhere.
                st.task.triggers.start_trigger.cfg_dig_edge_start_trig(term, trigger_edge=Edge.RISING)
                st.task.control(TaskMode.TASK_COMMIT)
        except DaqError as exc:
            raise HotfireError(f"rig {self.rig.name!r}: NI-DAQmx refused the shared start trigger / reference "
                               f"clock: {_first_line(exc)} (error {exc.error_code})") from exc
        for st in streams:
            self._read_scaling(st)

    def _read_scaling(self, st: _Stream):
        """Each channel's raw -> signal scaling, as stored in the run file."""
        raw = st.spec.dtype.kind in "iu"
        for ch in st.channels:
            if not raw:
                # Float reads are scaled by the driver; only amps -> mA remains.
                self._adc[ch.name] = {"coefficients": [0.0, 1000.0 if ch.kind == "current" else 1.0]}
                continue
            where = f"stream {st.name!r}, channel {ch.name!r} ({ch.physical})"
            try:
                aic = st.task.ai_channels[ch.name]
                bits = aic.ai_raw_samp_size
                volts = [float(c) for c in aic.ai_dev_scaling_coeff]  # counts -> volts at the ADC
                if ch.kind == "current":
                    ohm = aic.ai_current_shunt_resistance
                    factor, how = 1000.0 / ohm, {"shunt_ohm": ohm}
                elif ch.kind == "bridge":
                    excit = aic.ai_excit_val
                    factor, how = 1000.0 / excit, {"excitation_V": excit}
                else:
                    factor, how = 1.0, {}
            except DaqError as exc:
                raise HotfireError(f"{where}: cannot read the device scaling: {_first_line(exc)} "
                                   f"(error {exc.error_code})") from exc
            if bits > 8 * st.spec.dtype.itemsize:
                raise HotfireError(f"{where}: the device delivers {bits}-bit raw samples, which do not fit "
                                   f"{st.spec.dtype}; use an int32 or float stream")
            self._adc[ch.name] = {"coefficients": [c * factor for c in volts], "device_coefficients": volts,
                                  "device_units": "V", **how}

    # -- Source interface ------------------------------------------------------
    @property
    def tasks(self) -> dict:
        """The ``nidaqmx.Task`` of each stream (until :meth:`stop`)."""
        return {name: st.task for name, st in self._st.items()}

    def start(self):
        """Start every task: the others first, armed on the first one's start trigger."""
        if self._started:
            return
        self._started = True
        streams = list(self._st.values())
        for st in streams[1:] + streams[:1]:
            try:
                st.task.start()
            except DaqError as exc:
                self.stop()  # release the tasks already started
                raise HotfireError(f"stream {st.name!r} (devices {st.devices}): NI-DAQmx cannot start the task: "
                                   f"{_first_line(exc)} (error {exc.error_code})") from exc

    def read(self, stream: str, timeout: float = 1.0) -> Block | None:
        """The next block of ``stream`` (about ``1 / reads_per_s`` seconds), or None once it has ended.

        ``timeout`` is not used: reads wait ``read_timeout_s`` for the driver,
        and a stalled stream reports -200284 as an event, then keeps waiting.

        Warnings
        --------
        The block's array is reused by the next read of the same stream:
        copy it to keep it.
        """
        if not self._started:
            self.start()
        st = self._st[stream]
        with st.lock:
            while True:
                if st.pending is not None:
                    exc, st.pending, st.done = st.pending, None, True
                    raise exc
                n = st.chunk if st.total is None else min(st.chunk, st.total - st.pos)
                if st.done or n <= 0 or self._stopping.is_set() or st.task is None:
                    self._end(st)
                    return None
                block = self._read_once(st, n)
                if block is not None:
                    return block

    def _read_once(self, st: _Stream, n: int) -> Block | None:
        data = st.flat[: len(st.channels) * n].reshape(len(st.channels), n)
        error = None
        try:
            got = st.read_into(data, number_of_samples_per_channel=n, timeout=self.read_timeout_s)
        except DaqReadError as exc:
            got, error = exc.samps_per_chan_read, exc
        except DaqError as exc:
            got, error = 0, exc
        except Exception as exc:
            raise HotfireError(f"stream {st.name!r} (devices {st.devices}): the NI-DAQmx read failed at sample "
                               f"{st.pos}: {type(exc).__name__}: {exc}") from exc
        code = error.error_code if error is not None else None
        if code == DAQmxErrors.SAMPLES_NO_LONGER_AVAILABLE.value and not got:
            st.overflows += 1
            if st.overflows > MAX_RESYNCS:
                st.done = True
                raise HotfireError(f"stream {st.name!r} (devices {st.devices}): NI-DAQmx error -200279 "
                                   f"{st.overflows} times in a row at sample {st.pos}: reading cannot keep up "
                                   f"with the device") from error
            self._resync(st)
            return None
        st.overflows = 0
        if st.resync is not None and code != DAQmxErrors.SAMPLES_NO_LONGER_AVAILABLE.value:
            self._resynced(st)
        # Before the first sample of a triggered start, waiting is normal.
        waiting = st.pos == 0 and self.trigger
        block = self._take(st, data, got) if got else None
        if code is None:
            st.stalled = False
        elif code == DAQmxErrors.SAMPLES_NOT_YET_AVAILABLE.value:
            if not st.stalled and not waiting:
                st.stalled = True
                self._post(Event("driver_error", st.name, st.pos,
                                 f"NI-DAQmx error -200284 (read timeout): no new samples after sample {st.pos - 1} "
                                 f"for {self.read_timeout_s:g} s on devices {st.devices}; still waiting"))
        elif code in DEVICE_GONE:
            self._post(Event("driver_error", st.name, st.pos,
                             f"NI-DAQmx error {code}: devices {st.devices} are no longer accessible; stream "
                             f"{st.name!r} stopped at sample {st.pos}, every sample before it kept"))
            st.done = True
        else:
            failure = HotfireError(f"stream {st.name!r} (devices {st.devices}): NI-DAQmx error {code} at sample "
                                   f"{st.pos}: {_first_line(error)}")
            failure.__cause__ = error
            if block is None:
                st.done = True
                raise failure
            st.pending = failure  # deliver what was read first
        return block

    def _take(self, st: _Stream, data: np.ndarray, got: int) -> Block:
        rows = st.rows[:got]
        np.copyto(rows, data[:, :got].T, casting="same_kind")
        block = Block(st.pos, rows)
        st.pos += got
        if self._sequence:
            with self._ev_lock:
                due = [e for e in self._sequence if e.stream == st.name and e.sample < st.pos]
                self._sequence = [e for e in self._sequence if e not in due]
                self._events.extend(due)
        return block

    def _resync(self, st: _Stream):
        """After -200279: move the read position past the overwritten samples."""
        ins = st.task.in_stream
        read_pos, total, buffer = ins.curr_read_pos, ins.total_samp_per_chan_acquired, ins.input_buf_size
        expected = st.resync[0] if st.resync else st.pos
        if read_pos != expected:
            raise HotfireError(f"stream {st.name!r}: the driver's read position {read_pos} disagrees with the "
                               f"{expected} samples received; cannot account for the samples lost")
        # Resume a quarter buffer past the oldest sample still held, so the
        # catch-up reads are not overwritten in turn.
        resume = max(read_pos, total - buffer + buffer // 4)
        ins.offset = resume - read_pos
        st.resync = (read_pos, total, buffer)
        st.pos = resume

    def _resynced(self, st: _Stream):
        """The first read after a resync succeeded: back to plain reads, and report."""
        read_pos, total, buffer = st.resync
        st.resync = None
        st.task.in_stream.offset = 0
        lost = st.pos - read_pos
        self._post(Event("driver_error", st.name, read_pos,
                         f"NI-DAQmx error -200279 (samples no longer available): the read fell {total - read_pos} "
                         f"samples behind a {buffer}-sample buffer; samples {read_pos} to {st.pos - 1} "
                         f"({lost}) lost, reading resumed at sample {st.pos}"))

    def _end(self, st: _Stream):
        st.done = True
        if st.task is not None:
            with contextlib.suppress(Exception):
                st.task.stop()

    def _post(self, event: Event):
        with self._ev_lock:
            self._events.append(event)

    def events(self) -> list[Event]:
        with self._ev_lock:
            out, self._events = self._events, []
        return out

    def stop(self):
        """Stop and clear every task (waits for a read in progress to return)."""
        self._stopping.set()
        self._close_all()

    def _close_all(self):
        for st in self._st.values():
            locked = st.lock.acquire(timeout=self.read_timeout_s + 1.0)
            try:
                if st.task is not None:
                    with contextlib.suppress(Exception):
                        st.task.stop()
                    with contextlib.suppress(Exception):
                        st.task.close()
                    st.task = None
            finally:
                if locked:
                    st.lock.release()

    def metadata(self) -> dict:
        meta = {"adc": dict(self._adc),
                "nidaqmx": {name: {"task": f"hotfire {self.rig.name} {name}", "rate_hz": st.rate,
                                   "buffer_samples": st.buffer, "read_samples": st.chunk}
                            for name, st in self._st.items()}}
        if self.sequencer is not None:
            meta.update(self.sequencer.metadata())
        return meta
