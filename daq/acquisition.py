"""The acquisition engine: a source feeds one ring per stream; subscribers
(the recorder, limits, the live publisher) each read the rings with their
own cursor and never touch the source.

One producer thread per stream moves blocks from the source into its ring;
the ring never blocks it. The recorder thread drains every ring into the
run file. A subscriber that falls behind loses data only as an exact,
recorded gap.
"""
from __future__ import annotations

import datetime as _dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.daq.events import Event
from hotfire.daq.runfile import RunFileWriter
from hotfire.ext.ring import Ring


@dataclass
class RunSummary:
    path: Path
    test_id: str
    samples: dict[str, int]
    events: list[Event]
    gaps: dict[str, int] = field(default_factory=dict)
    truth: dict | None = None
    error: BaseException | None = None


def default_test_id(rig, when: _dt.datetime | None = None) -> str:
    when = when or _dt.datetime.now(_dt.timezone.utc)
    return f"{rig.article.serial}-{when:%Y%m%dT%H%M%S}"


class Acquisition:
    """Acquire one firing from ``source`` and record it.

    Parameters
    ----------
    rig : Rig
    source : Source
    out_dir : str or Path
        Where the run file goes (created if missing).
    test_id : str, optional
        Default: ``<article serial>-<UTC start time>``.
    notes : str
        Operator notes stored with the run.
    ring_seconds : float
        Ring capacity per stream, in seconds of data.
    """

    def __init__(self, rig, source, out_dir, test_id: str | None = None, notes: str = "",
                 ring_seconds: float = 20.0):
        self.rig, self.source = rig, source
        self.out_dir = Path(out_dir)
        self.start_time = _dt.datetime.now(_dt.timezone.utc)
        self.test_id = test_id or default_test_id(rig, self.start_time)
        self.notes = notes
        self.rings = {
            name: Ring(max(1024, int(ring_seconds * spec.rate_hz)), spec.n_channels, spec.dtype)
            for name, spec in source.streams.items()
        }
        self.path = self.out_dir / f"{self.test_id}.h5"
        self._done = {name: threading.Event() for name in source.streams}
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self.events: list[Event] = []
        self.recorded = {name: 0 for name in source.streams}

    # -- producers -------------------------------------------------------------
    def _produce(self, stream: str):
        ring = self.rings[stream]
        try:
            while not self._stop.is_set():
                block = self.source.read(stream, timeout=1.0)
                if block is None:
                    break
                if block.first_index != ring.written:
                    raise RuntimeError(f"stream {stream!r}: source skipped from sample {ring.written} "
                                       f"to {block.first_index}")
                ring.write(np.ascontiguousarray(block.data))
        except BaseException as exc:  # reported by run(); the recorder still drains
            self._errors.append(exc)
        finally:
            self._done[stream].set()

    def stop(self):
        """Ask the acquisition to end early (operator abort)."""
        self._stop.set()
        self.source.stop()

    # -- the recorder subscriber --------------------------------------------------
    def run(self, progress=None, progress_interval: float = 0.5) -> RunSummary:
        """Acquire until the source ends (or ``stop()``), recording everything.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(acquisition)`` about every ``progress_interval`` s.
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        meta = {"test_id": self.test_id, "source": self.source.kind, "notes": self.notes}
        extra = {}
        src_meta = self.source.metadata()
        if "truth" in src_meta:
            extra["simulation"] = src_meta
        writer = RunFileWriter(self.path, self.rig, meta, extra=extra, start_time=self.start_time)
        readers = {name: ring.reader(start=0) for name, ring in self.rings.items()}
        bufs = {name: np.empty((max(1, ring.capacity // 4), ring.n_channels), ring.dtype)
                for name, ring in self.rings.items()}
        producers = [threading.Thread(target=self._produce, args=(s,), name=f"produce-{s}", daemon=True)
                     for s in self.rings]
        self.source.start()
        for t in producers:
            t.start()
        last_progress = last_flush = time.monotonic()
        try:
            while True:
                all_done = all(d.is_set() for d in self._done.values())
                moved = 0
                for name, r in readers.items():
                    while r.available:
                        first, n, gap = r.read_into(bufs[name])
                        if gap is not None:
                            self._add_events(writer, [Event(
                                "gap", name, gap.first_index,
                                f"recorder fell behind: {gap.count} samples lost", "")])
                        if n:
                            writer.append(name, first, bufs[name][:n])
                            self.recorded[name] = first + n
                            moved += n
                self._add_events(writer, self.source.events())
                now = time.monotonic()
                if now - last_flush > 1.0:
                    writer.flush()
                    last_flush = now
                if progress and now - last_progress >= progress_interval:
                    progress(self)
                    last_progress = now
                if all_done and not any(r.available for r in readers.values()):
                    break
                if not moved:
                    time.sleep(0.01)
        finally:
            self.source.stop()
            for t in producers:
                t.join(timeout=5)
            self._add_events(writer, self.source.events())
            writer.set_attrs(end_time_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
                             complete=int(not self._errors))
            counts = writer.counts()
            writer.close()
        if progress:
            progress(self)
        gaps = {name: r.lost for name, r in readers.items()}
        return RunSummary(self.path, self.test_id, counts, list(self.events), gaps,
                          src_meta.get("truth"), self._errors[0] if self._errors else None)

    def _add_events(self, writer, events):
        if events:
            writer.add_events(events)
            self.events.extend(events)
