"""The replay source: a recorded run file played back through the acquisition.

The raw samples of every stream go through the rings, the recorder, the
limit checker, triggers and the live publisher exactly as they did live, so
a run can be re-checked against new redlines, re-triggered, or shown to a
viewer again; paced by the wall clock (``speed`` recorded seconds per
second) or as fast as the disk reads.

What is replayed:

- every stream's raw samples as stored, in blocks of ``block_s``; samples
  are numbered from the stream's first recorded sample (``first_sample``,
  the start of the pre-trigger history of an armed run), so sample 0 of
  the replay is the first sample of the recording. A gap in the recording
  is a jump in the sample index, which the acquisition posts as a gap again.
- the sequence marks (``T0``, ``cutoff``), each released once the data it
  dates has been read, as the simulator does. Redlines, alarms, triggers
  and gaps are not copied: the acquisition finds them again.
- the ADC scaling of each channel, the simulated scenario and its ground
  truth (simulated runs), and where the replay came from (``replay`` in
  the source metadata).

The rig may differ from the recorded one (other redlines, calibrations,
notes) but its streams must be the recorded ones: names, rates, dtypes and
channels in column order (:func:`check_fits`).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from hotfire.core.errors import HotfireError
from hotfire.core.events import Event
from hotfire.core.runfile.reader import open_run
from hotfire.daq.sources.base import Block, Source, StreamSpec

__all__ = ["ReplaySource", "check_fits", "SEQUENCE_KINDS"]

#: recorded events replayed as the source's own (the rest the acquisition finds again)
SEQUENCE_KINDS = ("T0", "cutoff")


def check_fits(rig, run) -> None:
    """Raise a HotfireError naming the first stream of ``rig`` that ``run`` did not record the same way."""
    where = f"replay {run.path}"
    if set(rig.streams) != set(run.streams):
        raise HotfireError(f"{where}: rig {rig.name!r} has streams {sorted(rig.streams)}, "
                           f"the run has {sorted(run.streams)}")
    for name, st in rig.streams.items():
        rec = run.streams[name]
        dtype = run.f["streams"][name]["raw"].dtype
        if abs(rec.rate_hz - st.rate_hz) > 1e-9 * st.rate_hz:
            raise HotfireError(f"{where}: stream {name!r} was recorded at {rec.rate_hz:g} Hz, "
                               f"rig {rig.name!r} says {st.rate_hz:g} Hz")
        if np.dtype(st.dtype) != dtype:
            raise HotfireError(f"{where}: stream {name!r} was recorded as {dtype}, rig {rig.name!r} says {st.dtype}")
        if tuple(st.channels) != tuple(rec.channels):
            raise HotfireError(f"{where}: stream {name!r} channels differ: recorded {list(rec.channels)}, "
                               f"rig {rig.name!r} has {list(st.channels)}")


class _Cursor:
    """Where one stream's replay is: its recorded pieces, shifted to start at sample 0."""

    def __init__(self, segments: np.ndarray, first_sample: int, total: int):
        # (first replay sample, first file row, rows), cut at ``total`` samples
        self.pieces = []
        for s0, r0, n in segments:
            s = int(s0) - first_sample
            n = min(int(n), total - s)
            if n > 0:
                self.pieces.append((s, int(r0), n))
        self.k = 0        # current piece
        self.done = 0     # rows of it already read


class ReplaySource(Source):
    """Samples from a recorded run file, as a source.

    Parameters
    ----------
    rig : Rig
        Its streams must be the recorded ones (:func:`check_fits`).
    run_file : str or Path
    speed : float, optional
        Recorded seconds per wall-clock second (1: as recorded); None: as
        fast as possible.
    duration_s : float, optional
        Replay only the first seconds of every stream.
    block_s : float
        Seconds per block.

    Raises
    ------
    HotfireError
        The file is not a readable run file, or does not fit the rig.
    """

    kind = "replay"

    def __init__(self, rig, run_file, *, speed: float | None = None, duration_s: float | None = None,
                 block_s: float = 0.1):
        if speed is not None and not speed > 0:
            raise HotfireError(f"replay speed must be > 0, got {speed}")
        self.rig, self.path = rig, Path(run_file)
        self.speed = speed
        self.run = open_run(self.path)
        try:
            check_fits(rig, self.run)
        except BaseException:
            self.run.close()
            raise
        run = self.run
        self.streams = {s.name: StreamSpec(s.name, s.rate_hz, np.dtype(s.dtype), s.channels)
                        for s in rig.streams.values()}
        self._block = {s: max(1, int(round(block_s * st.rate_hz))) for s, st in self.streams.items()}
        first = {s: run.streams[s].first_sample for s in self.streams}
        self._cursor = {}
        for s, st in self.streams.items():
            rec = run.streams[s]
            end = int(rec.segments[-1, 0] + rec.segments[-1, 2]) - first[s] if len(rec.segments) else 0
            total = end if duration_s is None else min(end, int(round(duration_s * st.rate_hz)))
            self._cursor[s] = _Cursor(rec.segments, first[s], total)
        ends = [(c.pieces[-1][0] + c.pieces[-1][2]) / self.streams[s].rate_hz
                for s, c in self._cursor.items() if c.pieces]
        self.duration_s = max(ends, default=0.0)
        self._pending = {s: [] for s in self.streams}
        for e in run.events:
            s = e["stream"]
            if e["kind"] in SEQUENCE_KINDS and s in self.streams and int(e["sample"]) >= first[s]:
                self._pending[s].append(Event(e["kind"], s, int(e["sample"]) - first[s], e["message"]))
        self._meta = self._metadata(first)
        self._released: list[Event] = []
        self._lock = threading.Lock()          # events
        self._file_lock = threading.Lock()     # reads against close
        self._stopped = threading.Event()
        self._t_start: float | None = None

    def _metadata(self, first: dict) -> dict:
        run = self.run
        meta = {"replay": {"run_file": str(self.path), "test_id": run.test_id,
                           "source": str(run.metadata.get("source", "")),
                           "start_time_utc": str(run.metadata.get("start_time_utc", "")),
                           "first_sample": first},
                "adc": {c.name: c.adc for c in run.channels if c.adc}}
        for key in ("scenario", "truth"):
            value = getattr(run, key)
            if value is not None:
                meta[key] = value
        return meta

    def start(self):
        if self._t_start is None:
            self._t_start = time.monotonic()

    def read(self, stream: str, timeout: float = 1.0) -> Block | None:
        self.start()
        cur = self._cursor[stream]
        if cur.k >= len(cur.pieces) or self._stopped.is_set():
            return None
        s0, r0, n_piece = cur.pieces[cur.k]
        n = min(self._block[stream], n_piece - cur.done)
        first, row = s0 + cur.done, r0 + cur.done
        if self.speed is not None:
            due = self._t_start + (first + n) / self.streams[stream].rate_hz / self.speed
            delay = due - time.monotonic()
            if delay > 0 and self._stopped.wait(delay):
                return None
        with self._file_lock:
            if self._stopped.is_set():
                return None
            data = self.run.f["streams"][stream]["raw"][row:row + n]
        cur.done += n
        if cur.done >= n_piece:
            cur.k, cur.done = cur.k + 1, 0
        pending = self._pending[stream]
        if pending and pending[0].sample < first + n:
            with self._lock:
                self._released.extend(e for e in pending if e.sample < first + n)
                self._pending[stream] = [e for e in pending if e.sample >= first + n]
        return Block(first, data)

    def events(self) -> list[Event]:
        with self._lock:
            out, self._released = self._released, []
        return out

    def stop(self):
        self._stopped.set()
        with self._file_lock:
            self.run.close()

    def metadata(self) -> dict:
        return self._meta
