"""The acquisition engine: a source feeds one ring per stream; subscribers
(the recorder, limits, triggers, the live publisher) each read the rings with
their own cursor, in their own thread, and never touch the source: they are
given an :class:`AcquisitionView`, which reads the acquisition and can post
events, end the recording at a sample or ask the acquisition to stop, but
cannot write a ring, a clock or another subscriber's state.

One producer thread per stream moves blocks from the source into its ring;
the ring never blocks it. A subscriber that falls behind loses data only as
an exact gap that is posted as an event, so the recorder stores it.

Ring indices count rows written to a ring; sample indices count the
stream's sample clock. They differ only after the source itself lost
samples (a driver overflow): ``StreamClock`` maps one to the other.
"""
from __future__ import annotations

import bisect
import copy
import datetime as _dt
import threading
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.core.events import Event
from hotfire.daq.sources.base import StreamSpec
from hotfire.ext.ring import Ring


class StreamClock:
    """Maps ring indices to sample indices across gaps in the source."""

    def __init__(self):
        self._ring = [0]
        self._sample = [0]
        self._lock = threading.Lock()

    def jump(self, ring_index: int, sample_index: int):
        with self._lock:
            self._ring.append(ring_index)
            self._sample.append(sample_index)

    def split(self, ring_first: int, n: int) -> list[tuple[int, int, int]]:
        """Pieces ``(sample_first, row_offset, count)`` of ring rows [ring_first, ring_first+n)."""
        with self._lock:
            r, s = list(self._ring), list(self._sample)
        out = []
        pos = ring_first
        end = ring_first + n
        k = bisect.bisect_right(r, pos) - 1
        while pos < end:
            stop = min(end, r[k + 1]) if k + 1 < len(r) else end
            out.append((s[k] + pos - r[k], pos - ring_first, stop - pos))
            pos = stop
            k += 1
        return out

    def sample(self, ring_index: int) -> int:
        return self.split(ring_index, 1)[0][0]

    def ring_index(self, sample: int) -> int:
        """The ring index holding ``sample`` (or the next sample acquired after it)."""
        with self._lock:
            r, s = list(self._ring), list(self._sample)
        k = max(0, bisect.bisect_right(s, sample) - 1)
        return r[k] + max(0, sample - s[k])


@dataclass(frozen=True)
class Recording:
    """What a recording subscriber reports (:meth:`Subscriber.recording`).

    Attributes
    ----------
    path : Path
        The run file (complete once ``sealed``).
    journal : Path
        The journal it is built from (``hotfire recover`` rebuilds the file from it).
    lost : dict
        Stream -> samples acquired but not recorded (the recorder fell behind).
    armed : bool
        Waiting for a trigger: nothing is recorded yet.
    sealed : bool
        The run file was completed and verified.
    """

    path: Path | None
    journal: Path | None = None
    lost: Mapping[str, int] = field(default_factory=dict)
    armed: bool = False
    sealed: bool = False


class Subscriber:
    """Something that reads the rings during acquisition (in its own thread).

    Subclasses implement ``poll`` (read what is available, return the number
    of rows handled) and may override ``open``, ``on_events``, ``close`` and,
    for the one that records, ``recording``.
    """

    name = "subscriber"

    def open(self, acq: "AcquisitionView") -> None:
        """Start; ``acq`` is the subscriber's view of the acquisition (kept as ``self.acq``)."""
        self.acq = acq

    def recording(self) -> Recording | None:
        """The run being recorded by this subscriber, or None if it records nothing."""
        return None

    def poll(self) -> int:
        return 0

    def on_events(self, events: list[Event]) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class RunSummary:
    """What an acquisition did.

    Attributes
    ----------
    path : Path or None
        The run file (None without a recorder).
    test_id : str
    samples : dict
        Stream -> samples acquired.
    events : list of Event
    gaps : dict
        Stream -> samples acquired but not recorded.
    truth : dict, optional
        The simulator's ground truth (simulated sources).
    error : BaseException, optional
        What stopped the acquisition early.
    journal : Path, optional
        The journal the run file is built from.
    sealed : bool
        The run file was completed and verified.
    """

    path: Path | None
    test_id: str
    samples: dict[str, int]
    events: list[Event]
    gaps: dict[str, int] = field(default_factory=dict)
    truth: dict | None = None
    error: BaseException | None = None
    journal: Path | None = None
    sealed: bool = False


def default_test_id(rig, when: _dt.datetime | None = None) -> str:
    when = when or _dt.datetime.now(_dt.timezone.utc)
    return f"{rig.article.serial}-{when:%Y%m%dT%H%M%S}"


@dataclass(frozen=True)
class SourceInfo:
    """What subscribers know of the source: its kind (stored in the run file), its streams, and
    the seconds it will deliver if known."""

    kind: str
    streams: Mapping[str, StreamSpec]
    duration_s: float | None = None


class RingView:
    """A stream's ring as a subscriber sees it: it makes readers and shows counters, and cannot write.

    Readers made here are known to the acquisition, which reports the worst
    backlog (:meth:`AcquisitionView.backlog`); :meth:`drop` one that is no
    longer read.
    """

    def __init__(self, ring: Ring, lock: threading.Lock):
        self._ring, self._lock, self._readers = ring, lock, []

    def reader(self, start: int | None = None):
        """A reader with its own cursor (see :meth:`hotfire.ext.ring.Ring.reader`)."""
        r = self._ring.reader(start)
        with self._lock:
            self._readers.append(r)
        return r

    def drop(self, reader) -> None:
        """Forget ``reader`` (it no longer counts in the backlog)."""
        with self._lock:
            self._readers = [r for r in self._readers if r is not reader]

    def backlog(self) -> int:
        """Rows written that the slowest reader has not read yet."""
        with self._lock:
            readers = list(self._readers)
        written = self._ring.written
        return max((written - r.position for r in readers), default=0)

    written = property(lambda self: self._ring.written, doc="Rows written so far.")
    capacity = property(lambda self: self._ring.capacity, doc="Rows held.")
    n_channels = property(lambda self: self._ring.n_channels)
    dtype = property(lambda self: self._ring.dtype)

    def __repr__(self) -> str:
        return f"<RingView of {self._ring!r}>"


class ClockView:
    """A stream's :class:`StreamClock`, read-only."""

    def __init__(self, clock: StreamClock):
        self._clock = clock

    def split(self, ring_first: int, n: int) -> list[tuple[int, int, int]]:
        return self._clock.split(ring_first, n)

    def sample(self, ring_index: int) -> int:
        return self._clock.sample(ring_index)

    def ring_index(self, sample: int) -> int:
        return self._clock.ring_index(sample)


class AcquisitionView:
    """The acquisition as its subscribers see it (each gets one in ``open``).

    It reads everything a subscriber needs (the rig, the source's kind and
    streams, rings, clocks, events, the recording state) and offers the few
    requests a subscriber may make: :meth:`post` events,
    :meth:`end_recording_at` a sample, :meth:`stop` the acquisition. It cannot
    write a ring or a clock, read from the source, or reach another
    subscriber.
    """

    def __init__(self, acq: "Acquisition"):
        self._acq = acq
        self.rig = acq.rig
        self.test_id, self.notes, self.start_time = acq.test_id, acq.notes, acq.start_time
        self.source = SourceInfo(acq.source.kind, types.MappingProxyType(dict(acq.source.streams)),
                                 acq.source.duration_s)
        lock = threading.Lock()
        self.rings: Mapping[str, RingView] = types.MappingProxyType(
            {name: RingView(ring, lock) for name, ring in acq.rings.items()})
        self.clocks: Mapping[str, ClockView] = types.MappingProxyType(
            {name: ClockView(c) for name, c in acq.clocks.items()})

    # -- reading ---------------------------------------------------------------
    @property
    def source_metadata(self) -> dict:
        """What the source says of itself (scenario, truth, device scaling): a copy each time, so a
        subscriber cannot change what the others, and the run file, see."""
        return copy.deepcopy(self._acq.source_metadata)

    @property
    def producing(self) -> bool:
        """True until every stream's source has ended and its ring holds all data."""
        return self._acq.producing

    @property
    def events(self) -> list[Event]:
        """Every event posted so far (a copy)."""
        return self._acq.events

    def events_since(self, cursor: int) -> tuple[list[Event], int]:
        return self._acq.events_since(cursor)

    def sample_index(self, stream: str, ring_index: int) -> int:
        return self._acq.sample_index(stream, ring_index)

    def clip(self, stream: str, sample_first: int, count: int) -> int:
        """How many of ``count`` samples from ``sample_first`` lie before the recording's end."""
        return self._acq.clip(stream, sample_first, count)

    @property
    def record_stop(self) -> Mapping[str, int]:
        """Stream -> first sample not to record (set by :meth:`end_recording_at`)."""
        return self._acq.record_stop

    def recording(self) -> Recording | None:
        """The recording subscriber's report, or None when nothing records."""
        return self._acq.recording()

    def backlog(self, stream: str) -> int:
        """Rows of ``stream`` not yet read by its slowest reader."""
        return self.rings[stream].backlog()

    # -- requests --------------------------------------------------------------
    def post(self, events: list[Event]) -> None:
        """Give events to every subscriber (and the run file); thread-safe."""
        self._acq.post(events)

    def end_recording_at(self, stops: Mapping[str, int]) -> None:
        """Record no sample at or after ``stops[stream]`` (a post-trigger end); thread-safe."""
        self._acq.end_recording_at(stops)

    def stop(self) -> None:
        """Ask the acquisition to end (it drains what was acquired)."""
        self._acq.stop()


class Acquisition:
    """Acquire one firing from ``source`` and hand it to subscribers.

    Parameters
    ----------
    rig : Rig
    source : Source
    subscribers : list of Subscriber
        Typically a :class:`hotfire.daq.recorder.Recorder` and others.
    test_id : str, optional
        Default: ``<article serial>-<UTC start time>``.
    notes : str
        Operator notes stored with the run.
    ring_seconds : float
        Ring capacity per stream, in seconds of data.
    """

    def __init__(self, rig, source, subscribers=(), test_id: str | None = None, notes: str = "",
                 ring_seconds: float = 20.0):
        self.rig, self.source = rig, source
        self.start_time = _dt.datetime.now(_dt.timezone.utc)
        self.test_id = test_id or default_test_id(rig, self.start_time)
        self.notes = notes
        self.rings = {
            name: Ring(max(1024, int(ring_seconds * spec.rate_hz)), spec.n_channels, spec.dtype)
            for name, spec in source.streams.items()
        }
        self.clocks = {name: StreamClock() for name in source.streams}
        self.subscribers = list(subscribers)
        self._record_stop: dict[str, int] = {}  # stream -> first sample not to record; replaced, never changed
        self.source_metadata = source.metadata()
        self._done = {name: threading.Event() for name in source.streams}
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._events: list[Event] = []
        self._drained: set[int] = set()  # subscribers with nothing left to read
        self._ev_lock = threading.Lock()
        self.view = AcquisitionView(self)

    # -- events ------------------------------------------------------------------
    def post(self, events: list[Event]) -> None:
        """Publish events to every subscriber (thread-safe)."""
        if events:
            with self._ev_lock:
                self._events.extend(events)

    def events_since(self, cursor: int) -> tuple[list[Event], int]:
        with self._ev_lock:
            return self._events[cursor:], len(self._events)

    @property
    def events(self) -> list[Event]:
        with self._ev_lock:
            return list(self._events)

    @property
    def producing(self) -> bool:
        """True until every stream's source has ended and its ring holds all data."""
        return not all(d.is_set() for d in self._done.values())

    @property
    def record_stop(self) -> Mapping[str, int]:
        """Stream -> first sample not to record (empty: record until the source ends)."""
        return types.MappingProxyType(self._record_stop)

    def end_recording_at(self, stops: Mapping[str, int]) -> None:
        """Record no sample at or after ``stops[stream]``; thread-safe."""
        with self._ev_lock:
            self._record_stop = {**self._record_stop, **{k: int(v) for k, v in stops.items()}}

    def clip(self, stream: str, sample_first: int, count: int) -> int:
        """How many of ``count`` samples from ``sample_first`` lie before the recording's end."""
        stop = self._record_stop.get(stream)  # the dict is replaced whole, never changed in place
        return count if stop is None else max(0, min(count, stop - sample_first))

    def recording(self) -> Recording | None:
        """The report of the subscriber that records (the first one that does), or None."""
        for sub in self.subscribers:
            rec = sub.recording()
            if rec is not None:
                return rec
        return None

    def sample_index(self, stream: str, ring_index: int) -> int:
        return self.clocks[stream].sample(ring_index)

    # -- producers -------------------------------------------------------------
    def _produce(self, stream: str):
        ring, clock = self.rings[stream], self.clocks[stream]
        expected = 0
        try:
            while not self._stop.is_set():
                block = self.source.read(stream, timeout=1.0)
                if block is None:
                    break
                if block.first_index != expected:
                    if block.first_index < expected:
                        raise RuntimeError(f"stream {stream!r}: source went back from sample {expected} "
                                           f"to {block.first_index}")
                    clock.jump(ring.written, block.first_index)
                    self.post([Event("gap", stream, expected,
                                     f"source lost {block.first_index - expected} samples")])
                ring.write(np.ascontiguousarray(block.data))
                expected = block.first_index + len(block.data)
                # Sequence events follow the data they date, never precede it.
                self.post(self.source.events())
        except BaseException as exc:  # reported by run(); subscribers still drain
            self._errors.append(exc)
            self.post([Event("driver_error", stream, expected, f"acquisition stopped: {exc}")])
        finally:
            self.post(self.source.events())
            self._done[stream].set()

    def stop(self):
        """Ask the acquisition to end early (operator abort)."""
        self._stop.set()
        self.source.stop()

    def _subscribe(self, sub: Subscriber):
        cursor = 0
        try:
            while True:
                producing = self.producing
                evs, cursor = self.events_since(cursor)
                if evs:
                    sub.on_events(evs)
                moved = sub.poll()
                if not producing and not moved:
                    # Drained, but another subscriber may still post events from
                    # the last rows (a redline in the final block): leave only once
                    # every subscriber is drained and this one has seen every event.
                    with self._ev_lock:
                        self._drained.add(id(sub))
                    evs, cursor = self.events_since(cursor)
                    if evs:
                        sub.on_events(evs)
                        continue
                    with self._ev_lock:
                        done = len(self._drained) == len(self.subscribers) and cursor == len(self._events)
                    if done and not sub.poll():
                        break
                if not moved:
                    time.sleep(0.005)
        except BaseException as exc:
            self._errors.append(exc)
            self._stop.set()
            self.source.stop()
        finally:
            with self._ev_lock:
                self._drained.add(id(sub))  # a failed subscriber must not hold the others

    def run(self, progress=None, progress_interval: float = 0.5) -> RunSummary:
        """Acquire until the source ends (or ``stop()``); subscribers drain everything.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(view)`` (an :class:`AcquisitionView`) about every
            ``progress_interval`` s.
        """
        for sub in self.subscribers:
            sub.open(self.view)
        producers = [threading.Thread(target=self._produce, args=(s,), name=f"produce-{s}", daemon=True)
                     for s in self.rings]
        workers = [threading.Thread(target=self._subscribe, args=(sub,), name=f"sub-{sub.name}", daemon=True)
                   for sub in self.subscribers]
        try:
            self.source.start()
        except BaseException:
            # nothing was acquired; release what the subscribers opened
            for sub in self.subscribers:
                sub.close()
            raise
        for t in producers + workers:
            t.start()
        try:
            while any(t.is_alive() for t in workers + producers):
                if progress:
                    progress(self.view)
                for t in workers:
                    t.join(timeout=progress_interval / max(1, len(workers)))
                if not workers:
                    time.sleep(progress_interval)
        finally:
            self.source.stop()
            for t in producers:
                t.join(timeout=5)
            for t in workers:
                t.join()
            for sub in self.subscribers:
                sub.close()
        if progress:
            progress(self.view)
        rec = self.recording() or Recording(None)
        return RunSummary(
            rec.path, self.test_id,
            {name: ring.written for name, ring in self.rings.items()}, self.events,
            dict(rec.lost), self.source_metadata.get("truth"),
            self._errors[0] if self._errors else None, rec.journal, rec.sealed)
