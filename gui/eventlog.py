"""Events as the viewer keeps them: dated, deduplicated, queried by time.

The limit checker in acquisition emits one event per change of a channel's
level (``redline``, ``warning``, ``clear``), so a channel's state at any time
is the kind of its last such event: the same code serves live and replay.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

#: event kinds that raise the alarm banner
ALARM_KINDS = ("redline", "alarm", "driver_error")
LEVELS = {"clear": 0, "warning": 1, "redline": 2}


@dataclass(frozen=True)
class ViewEvent:
    kind: str
    stream: str
    sample: int
    time_s: float  # acquisition time
    message: str = ""
    channel: str = ""

    @property
    def key(self):
        return (self.kind, self.stream, self.sample, self.channel)


class EventLog:
    """Events of one run, sorted by time.

    Parameters
    ----------
    meta : RunMeta
        For each stream's rate (events are dated by sample index).
    """

    def __init__(self, meta):
        self.meta = meta
        self.events: list[ViewEvent] = []
        self._times: list[float] = []
        self._keys: set = set()

    def add(self, dicts) -> list[ViewEvent]:
        """Add events (dicts with kind, stream, sample, message, channel); returns those that were new."""
        new = []
        for d in dicts:
            st = self.meta.streams.get(d["stream"])
            if st is None:
                continue
            ev = ViewEvent(d["kind"], d["stream"], int(d["sample"]), float(st.time(int(d["sample"]))),
                           d.get("message", ""), d.get("channel", ""))
            if ev.key in self._keys:
                continue
            self._keys.add(ev.key)
            i = bisect.bisect_right(self._times, ev.time_s)
            self._times.insert(i, ev.time_s)
            self.events.insert(i, ev)
            new.append(ev)
        return new

    def until(self, t: float) -> list[ViewEvent]:
        """Events at or before acquisition time ``t``."""
        return self.events[:bisect.bisect_right(self._times, t)]

    def t0(self) -> float | None:
        """Acquisition time of T0, or None before it."""
        return next((e.time_s for e in self.events if e.kind == "T0"), None)

    def levels(self, t: float) -> dict[str, int]:
        """Each channel's limit level at time ``t``: 0 in band, 1 warning, 2 redline."""
        out: dict[str, int] = {}
        for e in self.until(t):
            if e.channel and e.kind in LEVELS:
                out[e.channel] = LEVELS[e.kind]
        return out

    def alarms(self, t: float) -> list[ViewEvent]:
        """Alarm events (redline, alarm, driver error) at or before ``t``."""
        return [e for e in self.until(t) if e.kind in ALARM_KINDS]
