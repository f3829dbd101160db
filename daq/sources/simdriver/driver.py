"""The simulated NI-DAQmx driver: the stand (the rig's devices and the engine
simulator's signals), faults, the sample clock and start triggers, tasks.
Its channel calls, reads and attributes are in the modules beside it."""
from __future__ import annotations

import itertools
import math
import re
import threading
import time

import numpy as np
from nidaqmx._base_interpreter import BaseInterpreter
from nidaqmx.constants import AcquisitionType, Edge, TaskMode, TriggerType
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqFunctionNotSupportedError
from nidaqmx.types import DriverVersion

from hotfire.daq.sources.sim import SignalGenerator, reference_stream
from hotfire.daq.sources.simdriver.attributes import _Attributes
from hotfire.daq.sources.simdriver.channels import _Channels
from hotfire.daq.sources.simdriver.hardware import Fault, _Chan, _Handle, _Task
from hotfire.daq.sources.simdriver.ids import (
    FAULTS,
    SAMP_CLK_EDGE,
    SAMP_CLK_RATE,
    SAMP_CLK_SRC,
    SAMP_MODE,
    SAMP_PER_CHAN,
    START_TRIG_EDGE,
    START_TRIG_SRC,
    START_TRIG_TYPE,
    _error,
)
from hotfire.daq.sources.simdriver.reading import _Reading


class SimulatedDriver(_Channels, _Reading, _Attributes, BaseInterpreter):
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


def _not_simulated(name):
    def method(self, *args, **kwargs):
        raise DaqFunctionNotSupportedError(f"{name} is not implemented by the simulated NI-DAQmx driver")
    method.__name__ = name
    return method


# Everything else BaseInterpreter declares says clearly that it is not simulated.
for _name in sorted(BaseInterpreter.__abstractmethods__):
    if getattr(getattr(SimulatedDriver, _name), "__isabstractmethod__", False):
        setattr(SimulatedDriver, _name, _not_simulated(_name))
SimulatedDriver.__abstractmethods__ = frozenset()
