"""Replay of a run file: the same panels, driven by a playhead.

Each stream is a :class:`~hotfire.gui.filestore.FileStore` (level 1 for the
whole run, full rate on demand). Gaps in the file (segments) stay gaps:
NaN, drawn as breaks. A span whose samples fail their checksums is never
drawn as data; it stays a break, and an ``alarm`` event in the log names
its stream and span. The rig's calculated channels are evaluated from the
file when it opens (:mod:`hotfire.gui.replaycalc`) and shown as live.
"""
from __future__ import annotations

import time

import numpy as np

from hotfire.core.runfile.reader import open_run
from hotfire.gui.eventlog import EventLog
from hotfire.gui.meta import RunMeta
from hotfire.gui.filestore import FileStore
from hotfire.gui.replaycalc import calculated

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


class ReplayFeed:
    """Play a run file back: a playhead that moves at ``speed`` times real time.

    Parameters
    ----------
    path : str or Path
        A run file.

    Raises
    ------
    RunFileError
        If the file is not a readable run file.
    """

    live = False
    version = 0  # the file does not change

    def __init__(self, path):
        self.run = open_run(path)
        self.meta = RunMeta.from_run(self.run)
        self.generation = 1
        self.stores = {name: FileStore(self.run, s, self.meta.stream_channels(name))
                       for name, s in self.meta.streams.items()}
        self.events = EventLog(self.meta)
        self.events.add(self.run.events)
        self.damage = [d for st in self.stores.values() for d in st.damage]
        streams, chans, stores, problem = calculated(self.run, self.meta)
        self.meta.streams.update(streams)
        self.meta.channels += chans
        self.stores.update(stores)
        self.events.add([{"kind": "alarm", "stream": d.stream, "sample": d.first_sample if np.isfinite(d.t_start)
                          else self.stores[d.stream].lo, "message": f"damaged, not drawn: {d}"}
                         for d in self.damage])
        if problem:  # dated at the start of the run: it concerns the whole record
            first = next(iter(self.run.streams))
            self.events.add([{"kind": "alarm", "stream": first, "sample": self.stores[first].lo, "message": problem}])
        spans = [(st.meta.time(st.lo), st.meta.time(st.hi)) for st in self.stores.values() if st.hi > st.lo]
        self.start_s = min((a for a, _ in spans), default=0.0)
        self.end_s = max((b for _, b in spans), default=0.0)
        self.playhead = self.end_s  # opens on the whole end of the run, paused
        self.playing = False
        self.speed = 1.0
        self._wall = time.monotonic()

    # -- playback ----------------------------------------------------------------
    def play(self):
        if self.playhead >= self.end_s:
            self.playhead = self.start_s
        self.playing = True
        self._wall = time.monotonic()

    def pause(self):
        self.playing = False

    def seek(self, t: float):
        """Move the playhead to acquisition time ``t`` (clamped to the run)."""
        self.playhead = min(max(t, self.start_s), self.end_s)

    def pump(self) -> bool:
        now = time.monotonic()
        dt, self._wall = now - self._wall, now
        if not self.playing:
            return False
        self.seek(self.playhead + dt * self.speed)
        if self.playhead >= self.end_s:
            self.playing = False
        return True

    # -- what the window asks ----------------------------------------------------
    def data_time(self):
        return self.playhead

    def display_time(self):
        return self.playhead

    def event_horizon(self) -> float:
        return self.playhead

    stale = False

    def health_view(self) -> dict:
        streams = []
        for name, st in self.run.streams.items():
            gaps = st.gaps
            streams.append({"name": name, "nominal_hz": st.rate_hz, "rate_hz": None, "gaps": len(gaps),
                            "lost": sum(n for _, n in gaps), "fill": None,
                            "damaged": [str(d) for d in self.damage if d.stream == name]})
        return {"mode": "replay", "streams": streams, "recording": f"replay of {self.run.path}",
                "viewer": f"{'playing' if self.playing else 'paused'} at {self.speed:g}×"}

    def close(self):
        self.run.close()
