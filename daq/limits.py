"""The limit checker: a subscriber that turns redline and warning crossings
into events, in acquisition, whether or not anyone watches.

Each channel with limits in the rig gets one detector per bound (redline
max/min, warning max/min). A detector trips when the value has been beyond
its bound for ``min_duration_s`` without a break, and resets when it has been
back inside by more than a hysteresis band for as long: a noisy signal that
sits on a limit gives one event, not one per sample. Events are dated at the
first sample of the run that confirmed them, so the run file says when the
value actually crossed.

The channel's *level* is the highest tripped bound: 0 in band, 1 warning,
2 redline. Every level change is one event:

========== ===============================================================
``redline`` the level rose to 2
``warning`` the level is now 1 (rose from 0, or fell back from a redline)
``clear``   the level fell to 0
========== ===============================================================

so the state of every channel at any time follows from the events alone
(the viewer, live or in replay, relies on that). Work is vectorised per
block; Python only loops over detectors and over the rare transitions.

Calculated channels (the rig's ``[calculated.NAME]``: total thrust,
injector pressure drop, O/F) are checked the same way, on the values
:class:`hotfire.daq.calclive.LiveCalculated` evaluates with the analysis's
code; their events are dated on the channel's time base (its fastest input
stream) and name it. Where its ``check_while`` input is not above its
value, a calculated channel counts as within limits (a low injector
pressure drop before ignition is no warning). A NaN (an input lost, a
total thrust before its tare) neither trips nor resets a detector.
"""
from __future__ import annotations

import numpy as np

from hotfire.core.calculated import CalcChannel
from hotfire.core.events import Event
from hotfire.daq.acquisition import Subscriber
from hotfire.daq.calclive import LiveCalculated
from hotfire.core.scaling import Calibration, Scaling

LEVEL_KIND = {0: "clear", 1: "warning", 2: "redline"}


def runs(cond: np.ndarray, carry: int) -> np.ndarray:
    """Length of the run of True ending at each element.

    Parameters
    ----------
    cond : ndarray of bool
    carry : int
        Length of the run of True just before ``cond[0]`` (from the previous block).

    Returns
    -------
    ndarray of int64
        0 where ``cond`` is False.
    """
    idx = np.arange(1, len(cond) + 1, dtype=np.int64)
    last_false = np.maximum.accumulate(np.where(cond, 0, idx))
    run = idx - last_false
    run[last_false == 0] += carry
    return run


class Detector:
    """One bound of one channel, with hysteresis and a minimum duration.

    Parameters
    ----------
    level : int
        1 for a warning bound, 2 for a redline.
    bound : {"max", "min"}
    limit : float
        The bound, in engineering units.
    hysteresis : float
        How far back inside the bound the value must go to reset, EU (>= 0).
    min_samples : int
        Consecutive samples beyond the bound (or back inside) needed to change state.
    """

    def __init__(self, level: int, bound: str, limit: float, hysteresis: float, min_samples: int):
        self.level, self.bound, self.limit = level, bound, float(limit)
        self.hysteresis = max(0.0, float(hysteresis))
        self.min_samples = max(1, int(min_samples))
        self.state = False
        self._run_out = 0  # run of samples beyond the bound, up to the block end
        self._run_in = 0   # run of samples back inside the hysteresis band

    def reset_runs(self) -> None:
        """Forget partial runs (after samples were lost): a run must be seen whole."""
        self._run_out = self._run_in = 0

    def feed(self, x: np.ndarray, checked: np.ndarray | None = None):
        """Advance over a block of values (``checked``: where the bound applies; elsewhere in band).

        Returns
        -------
        state : ndarray of bool
            Tripped or not at each sample.
        start : ndarray of int64
            For each sample, the offset of the run that set its state (where a
            state change happens, the first sample of the confirming run; may
            be negative when the run began in an earlier block).
        """
        if self.bound == "max":
            out, back = x > self.limit, x < self.limit - self.hysteresis
        else:
            out, back = x < self.limit, x > self.limit + self.hysteresis
        if checked is not None:
            out, back = out & checked, back | ~checked
        r_out, r_in = runs(out, self._run_out), runs(back, self._run_in)
        n = self.min_samples
        # A confirmed run beyond the bound trips, a confirmed run back inside resets;
        # the two are exclusive, and in between the state holds.
        mark = np.where(r_out >= n, 1, np.where(r_in >= n, 0, -1))
        idx = np.arange(len(x))
        last = np.maximum.accumulate(np.where(mark >= 0, idx, -1))
        state = np.where(last >= 0, mark[np.maximum(last, 0)] == 1, self.state)
        start = idx - np.where(state, r_out, r_in) + 1
        if len(x):
            self.state = bool(state[-1])
            self._run_out, self._run_in = int(r_out[-1]), int(r_in[-1])
        return state, start

    def describe(self, units: str) -> str:
        name = "redline" if self.level == 2 else "warning"
        word = "above" if self.bound == "max" else "below"
        return f"{word} {name} {self.limit:g} {units}".rstrip()


class ChannelLimits:
    """The detectors of one channel (a :class:`Channel`, or a :class:`CalcChannel` with no scaling)
    and its current level."""

    def __init__(self, ch, scaling: Scaling | None, rate_hz: float, hysteresis_fraction: float,
                 min_duration_s: float):
        self.name, self.units, self.column = ch.name, ch.units, getattr(ch, "column", None)
        self.scaling = scaling
        if isinstance(ch, CalcChannel):
            lo, hi = ch.range  # already engineering units
        else:
            lo, hi = Calibration(ch.calibration).to_eu(np.array(ch.range, dtype=float))
        hyst = hysteresis_fraction * abs(float(hi) - float(lo))
        n = max(1, int(round(min_duration_s * rate_hz)))
        self.detectors = [
            Detector(level, bound, value, hyst, n)
            for level, lim in ((2, ch.redline), (1, ch.warning)) if lim is not None
            for bound, value in (("max", lim.max), ("min", lim.min)) if value is not None
        ]
        self.level = 0

    def reset_runs(self):
        for d in self.detectors:
            d.reset_runs()

    def check(self, raw: np.ndarray, stream: str, sample0: int) -> list[Event]:
        """Events for a block of this channel's raw samples starting at sample ``sample0``."""
        return self.check_eu(self.scaling.to_eu(raw), stream, sample0)

    def check_eu(self, x: np.ndarray, stream: str, sample0: int, checked: np.ndarray | None = None) -> list[Event]:
        """Events for a block of values in engineering units (``checked``: where the limits apply)."""
        fed = []
        for d in self.detectors:
            before = d.state
            state, start = d.feed(x, checked)
            fed.append((d, state, start, np.concatenate(([before], state[:-1]))))
        level = np.zeros(len(x), dtype=np.int8)
        for d, state, _, _ in fed:
            np.maximum(level, np.where(state, d.level, 0).astype(np.int8), out=level)
        prev = np.concatenate(([self.level], level[:-1]))
        events = []
        for i in np.flatnonzero(level != prev):  # rare: one per transition
            new, old = int(level[i]), int(prev[i])
            # Date the change by the detector runs that caused it: rising, the
            # run that tripped the new level; falling, the latest run back inside.
            changed = [(d, st, start) for d, st, start, st_prev in fed if st[i] != st_prev[i]]
            if new > old:
                starts = [start[i] for d, st, start in changed if st[i] and d.level == new]
                sample = sample0 + int(min(starts)) if starts else sample0 + int(i)
            else:
                starts = [start[i] for d, st, start in changed if not st[i]]
                sample = sample0 + int(max(starts)) if starts else sample0 + int(i)
            events.append(Event(LEVEL_KIND[new], stream, sample, self._message(new, old, i, fed, x), self.name))
        if len(x):
            self.level = int(level[-1])
        return events

    def _message(self, new, old, i, fed, x) -> str:
        value = f"{x[i]:.4g} {self.units}".rstrip()
        if new == 0:
            return f"{self.name} {value}: back within limits"
        active = [d for d, st, _, _ in fed if st[i] and d.level == new]
        bound = active[0].describe(self.units) if active else ""
        if new < old:
            return f"{self.name} {value}: back from redline, still {bound}"
        return f"{self.name} {value}: {bound}"


class LimitChecker(Subscriber):
    """Check every channel with limits, as a subscriber of the acquisition.

    Parameters
    ----------
    hysteresis_fraction : float
        Reset band, as a fraction of the channel's full scale (its range in
        engineering units).
    min_duration_s : float
        How long a value must stay beyond a bound (or back inside the band)
        before the state changes; at least one sample.
    """

    name = "limits"
    calc = None  # LiveCalculated of the calculated channels with limits (set by open)

    def __init__(self, hysteresis_fraction: float = 0.01, min_duration_s: float = 0.005):
        self.hysteresis_fraction = hysteresis_fraction
        self.min_duration_s = min_duration_s
        self.checked: dict[str, int] = {}

    def open(self, acq):
        super().open(acq)
        adc = acq.source_metadata.get("adc") or {}
        self.channels: dict[str, list[ChannelLimits]] = {}
        for ch in acq.rig.channels:
            if ch.redline is None and ch.warning is None:
                continue
            rate = acq.rig.streams[ch.stream].rate_hz
            scaling = Scaling(adc.get(ch.name, ch.adc), ch.calibration)
            self.channels.setdefault(ch.stream, []).append(
                ChannelLimits(ch, scaling, rate, self.hysteresis_fraction, self.min_duration_s))
        self.readers = {s: acq.rings[s].reader(start=0) for s in self.channels}
        self.bufs = {s: np.empty((max(1, min(r.capacity // 4, 1 << 16)), r.n_channels), r.dtype)
                     for s, r in self.readers.items()}
        self._next = {s: 0 for s in self.channels}
        self.checked = {s: 0 for s in self.channels}
        calcs = [c for c in acq.rig.calculated if c.redline is not None or c.warning is not None]
        self.calc = LiveCalculated(acq, calcs) if calcs else None
        self.calc_limits = {c.name: ChannelLimits(c, None, acq.rig.streams[c.stream].rate_hz,
                                                  self.hysteresis_fraction, self.min_duration_s) for c in calcs}
        self._calc_lost = {}

    def poll(self) -> int:
        moved = 0
        for stream, r in self.readers.items():
            while r.available:
                first, n, gap = r.read_into(self.bufs[stream])
                events = []
                if gap is not None:
                    events.append(Event("alarm", stream, self.acq.sample_index(stream, gap.first_index),
                                        f"limit checker fell behind: {gap.count} samples not checked"))
                for sample0, off, count in self.acq.clocks[stream].split(first, n):
                    if sample0 != self._next[stream]:  # lost or never acquired: runs start afresh
                        for cl in self.channels[stream]:
                            cl.reset_runs()
                    block = self.bufs[stream][off:off + count]
                    for cl in self.channels[stream]:
                        events += cl.check(block[:, cl.column], stream, sample0)
                    self._next[stream] = sample0 + count
                    self.checked[stream] = sample0 + count
                self.acq.post(events)
                moved += n
        if self.calc is not None:
            moved += self._poll_calculated()
        return moved

    def _poll_calculated(self) -> int:
        moved, events = 0, []
        for s, n in self.calc.lost.items():
            if n > self._calc_lost.get(s, 0):
                events.append(Event("alarm", s, self.acq.sample_index(s, max(0, self.acq.rings[s].written - 1)),
                                    f"limit checker fell behind on calculated channels' inputs: "
                                    f"{n - self._calc_lost.get(s, 0)} samples not checked"))
                self._calc_lost[s] = n
        for ev, first, values, checked in self.calc.poll():
            for k, c in enumerate(ev.calcs):
                events += self.calc_limits[c.name].check_eu(values[:, k], ev.stream, first, checked[:, k])
            moved += len(values)
        self.acq.post(events)
        return moved
