"""Sensor health in acquisition: the analysis's checks (:mod:`hotfire.core.health`:
open circuit, saturation, outside the calibrated range, a load cell over
capacity, flatline) run on the recent samples of every stream, as the
firing goes on.

Every ``interval_s`` of samples, :class:`SensorWatch` checks the last
``window_s`` of each stream with :func:`hotfire.core.health.check_block`,
the function the analysis runs over the whole run file, and posts a
``sensor`` event (dated at the first failed sample, naming the channel and
the failure) when a channel fails. As in the analysis, a channel that has
failed stays failed for the rest of the run: an open circuit that sits at
its rail no longer looks like a jump in later windows, so "no longer seen"
is not "healthy". Viewers show failed channels from these events alone,
live and in replay.
"""
from __future__ import annotations

import numpy as np

from hotfire.core.events import Event
from hotfire.core.health import check_block
from hotfire.daq.acquisition import Subscriber


class _Stream:
    def __init__(self, rate_hz, channels):
        self.rate_hz, self.channels = rate_hz, channels


class _Window:
    """What :func:`check_block` reads of a run, for a window of live samples."""

    imported = None

    def __init__(self, rig, adc: dict, rates: dict):
        self.streams = {s: _Stream(rates[s], st.channels) for s, st in rig.streams.items()}
        self._info = {ch.name: (ch.replace(adc=adc[ch.name]) if ch.name in adc else ch) for ch in rig.channels}
        self.t0_s = rig.sequence.pretrigger_s  # acquisition time of T0 (planned until the T0 event)

    def channel_info(self, name):
        return self._info[name]

    def is_block(self, stream, raw) -> bool:
        return False

    def times(self, stream, idx):
        return np.asarray(idx) / self.streams[stream].rate_hz - self.t0_s


class SensorWatch(Subscriber):
    """Check every channel's health during acquisition; post ``sensor`` events.

    Parameters
    ----------
    window_s : float
        Seconds of samples each check looks at (a failure must show whole in one).
    interval_s : float
        Seconds of samples between checks of a stream.
    """

    name = "sensors"

    def __init__(self, window_s: float = 2.0, interval_s: float = 0.5):
        self.window_s, self.interval_s = window_s, interval_s
        self.failed: dict[str, Event] = {}  # channel -> the event that said so

    def open(self, acq):
        super().open(acq)
        rates = {s: spec.rate_hz for s, spec in acq.source.streams.items()}
        self.view = _Window(acq.rig, acq.source_metadata.get("adc") or {}, rates)
        self.readers = {s: acq.rings[s].reader(start=0) for s in acq.rig.streams}
        self.win = {s: max(1, int(self.window_s * rates[s])) for s in self.readers}
        self.step = {s: max(1, int(self.interval_s * rates[s])) for s in self.readers}
        self.buf = {s: (0, np.empty((0, r.n_channels), r.dtype)) for s, r in self.readers.items()}
        self.next_check = {s: min(self.win[s], self.step[s]) for s in self.readers}

    def on_events(self, events):
        for e in events:
            if e.kind == "T0":
                self.view.t0_s = e.sample / self.view.streams[e.stream].rate_hz

    def poll(self) -> int:
        moved = 0
        for s, r in self.readers.items():
            if not r.available:
                continue
            res = r.read()
            moved += len(res.data)
            first, rows = self.buf[s]
            for sample0, off, count in self.acq.clocks[s].split(res.first_index, len(res.data)):
                block = res.data[off:off + count]
                if res.gap is not None or sample0 != first + len(rows):  # lost samples: start a new window
                    if len(rows) and self.next_check[s] - self.step[s] < first + len(rows):
                        self._check(s, first, rows[-self.win[s]:])  # the samples before the gap not yet seen
                    first, rows = sample0, block
                    self.next_check[s] = first + min(self.win[s], self.step[s])
                else:
                    rows = np.concatenate((rows, block))
                # Every window, not only the last one read: a subscriber that fell behind
                # (a loaded machine, a fast simulation) reads many seconds at once.
                while first + len(rows) >= self.next_check[s]:
                    stop = self.next_check[s] - first
                    self._check(s, first + max(0, stop - self.win[s]), rows[max(0, stop - self.win[s]):stop])
                    self.next_check[s] += self.step[s]
                if len(rows) > self.win[s]:
                    first, rows = first + len(rows) - self.win[s], rows[-self.win[s]:]
            self.buf[s] = (first, rows)
        return moved

    def _check(self, stream, first, rows):
        segs = np.array([[first, 0, len(rows)]], np.int64)
        rate = self.view.streams[stream].rate_hz
        events = []
        for h in check_block(self.view, stream, segs, rows):
            if h.status != "failed" or h.name in self.failed:
                continue
            t_fail = h.failed_from_s
            sample = int(round((t_fail + self.view.t0_s) * rate))
            ev = Event("sensor", stream, sample, f"{h.name} failed: {h.problems[0]}", h.name)
            self.failed[h.name] = ev
            events.append(ev)
        self.acq.post(events)
