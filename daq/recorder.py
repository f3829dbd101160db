"""The recorder: a subscriber that makes every sample durable; a child process builds the run file.

1. The subscriber thread drains every ring into the run's **journal**
   (``<out>/<test id>.journal/``, :mod:`hotfire.daq.journal`): each batch of
   each stream is one DATA record, written with one ``writev`` and
   ``fdatasync``'d at most every ``sync_interval`` (0.1 s). Events are EVENT
   records, rows lost to a ring overrun exact GAP records. This is the
   durable record of the run.
2. A **builder process** (:mod:`hotfire.daq.buildproc`) is told where each
   record is once its journal write has returned, reads it back from the
   journal and appends it to the **run file** ``<test id>.h5.live`` (HDF5,
   SWMR: readers can open it during the firing), flushed every
   ``flush_interval``. At the end it seals the file: verified against the
   journal's sample counts, fsynced and renamed to ``<test id>.h5``.

HDF5 never runs in the acquisition process: if it crashes, hangs or fails,
the builder process is restarted and rebuilds the run file from the journal
(an ``alarm`` event says so); the sources, the journal and the live stream
go on. If the HDF5 falls behind, only the run file lags. If a journal write
fails (full disk, I/O error), the recorder raises an ``alarm`` event, prints
a message, keeps the unwritten batch and stops reading the rings;
acquisition goes on, and recording resumes where it stopped when writes
succeed again. Rows the ring overwrote meanwhile become an exact GAP record
and a ``gap`` event. Nothing already written is touched; ``hotfire
recover`` can always rebuild the run file. See docs/durability.md.
"""
from __future__ import annotations

import collections
import datetime as _dt
import errno
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from hotfire.daq.acquisition import Recording, Subscriber
from hotfire.core.events import Event
from hotfire.daq.buildproc import Supervisor
from hotfire.daq.journal import JournalWriteError, JournalWriter
from hotfire.daq.preflight import check_free_space, run_paths
from hotfire.daq.runbuild import JOURNAL_SUFFIX, LIVE_SUFFIX, run_metadata
from hotfire.core.errors import HotfireError


#: a file in the journal directory holding space for the end of the run (its GAP records and
#: end-of-run record) should the disk stay full to the end; deleted then, or at the end
RESERVE_NAME = "space-reserve"
_RESERVE_BYTES = 1 << 20


def _make_reserve(path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return
    try:
        os.posix_fallocate(fd, 0, _RESERVE_BYTES)
    except (OSError, AttributeError):
        os.close(fd)
        fd = None
        os.unlink(path)  # no space even for that: nothing to reserve
    finally:
        if fd is not None:
            os.close(fd)


class Recorder(Subscriber):
    """Record every sample and event of an acquisition: journal, then ``out_dir/<test id>.h5``.

    Parameters
    ----------
    out_dir : str or Path
    flush_interval : float
        Seconds between flushes of the live run file (what a live reader sees).
    pretrigger_s : float, optional
        Armed mode: record nothing until a ``trigger`` event, then start this
        many seconds before the trigger sample (the rings hold the history).
    sync_interval : float
        Journal ``fdatasync`` interval, seconds: at most this much recorded
        data is lost on a power cut (on SIGKILL, nothing written is lost).
    segment_bytes : int
        Journal segment size.
    status_file : str or Path, optional
        Append a JSON line ``{"synced": {...}, "written": {...}}`` (per stream,
        the end sample index of the journal data known durable / handed to
        the kernel) each time it changes. For tests and monitoring.
    retry_interval : float
        Seconds between retries of a failed journal write.
    close_timeout : float
        At the end, how long to keep retrying failed writes before giving up.
    batch_bytes : int
        Largest journal record (rows read from a ring at once).
    hdf5_reserve_bytes : int, optional
        Pause the live run file (it lags; the journal does not) while the file
        system has less than this free, so that the run file never takes the
        last space the journal needs. Default: 2 % of the file system, at
        most 512 MiB.
    hdf5_retry_interval : float
        Seconds between the death of a builder process and the start of the next.
    builder_timeout : float
        Seconds without a sign of life from the builder process before it is
        killed (and replaced).
    check_space : bool
        Refuse to start when the run's expected size (from the source's
        planned duration) is more than the free space
        (:func:`hotfire.daq.preflight.check_free_space`).
    """

    name = "recorder"

    def __init__(self, out_dir, flush_interval: float = 1.0, pretrigger_s: float | None = None, *,
                 sync_interval: float = 0.1, segment_bytes: int = 256 << 20, status_file=None,
                 retry_interval: float = 0.25, close_timeout: float = 10.0, batch_bytes: int = 2 << 20,
                 hdf5_reserve_bytes: int | None = None, hdf5_retry_interval: float = 2.0,
                 builder_timeout: float = 30.0, check_space: bool = True):
        self.out_dir = Path(out_dir)
        self.flush_interval = flush_interval
        self.pretrigger_s = pretrigger_s
        self.sync_interval = sync_interval
        self.segment_bytes = segment_bytes
        self.status_file = status_file
        self.retry_interval = retry_interval
        self.close_timeout = close_timeout
        self.batch_bytes = batch_bytes
        self.hdf5_reserve_bytes = hdf5_reserve_bytes
        self.hdf5_retry_interval = hdf5_retry_interval
        self.builder_timeout = builder_timeout
        self.check_space = check_space
        self.warnings: list[str] = []
        self._checked = None
        self.path = None          # the sealed run file (once sealed)
        self.live_path = None
        self.journal_dir = None
        self.sealed = False
        self.lost: dict[str, int] = {}
        self.recorded: dict[str, int] = {}
        self.messages: list[str] = []   # alarms and problems, as printed

    def recording(self) -> Recording:
        """The run file, its journal, samples lost, and whether it is armed or sealed."""
        return Recording(self.path, self.journal_dir, dict(self.lost),
                         armed=self.pretrigger_s is not None and not getattr(self, "readers", None),
                         sealed=self.sealed)

    # ------------------------------------------------------------------ open
    def preflight(self, acq) -> list[str]:
        """Check before anything starts: the test id, the run's paths, free space; return warnings.

        Called by :meth:`open` (once per test id); call it earlier to fail
        before the hardware starts.

        Raises
        ------
        HotfireError
            A bad test id, a path outside the output folder, a run already
            recorded under this id, or not enough free space.
        """
        tid = acq.test_id
        if self._checked == tid:
            return self.warnings
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path, self.live_path, self.journal_dir = run_paths(self.out_dir, tid, (".h5", LIVE_SUFFIX,
                                                                                     JOURNAL_SUFFIX))
        for p in (self.path, self.journal_dir, self.live_path):
            if p.exists() or p.is_symlink():
                raise HotfireError(f"{p} exists: test id {tid!r} was recorded already (choose another --test-id)")
        self.warnings = []
        if self.check_space:
            duration = getattr(acq.source, "duration_s", None)
            if duration is not None and self.pretrigger_s is not None:
                duration += self.pretrigger_s
            warning = check_free_space(self.out_dir, acq.source.streams, duration)
            if warning:
                self.warnings.append(warning)
                print(f"hotfire: warning: {warning}", file=sys.stderr, flush=True)
        self._checked = tid
        return self.warnings

    def open(self, acq):
        super().open(acq)
        self.preflight(acq)
        self.meta = run_metadata(acq, self.pretrigger_s)
        try:
            self.journal = JournalWriter(self.journal_dir, self.meta, acq.rig.text,
                                         sync_interval=self.sync_interval, segment_bytes=self.segment_bytes)
        except JournalWriteError as exc:
            raise HotfireError(f"cannot start recording: {exc}") from None
        self._jstreams = self.journal.streams
        self._reserve = self.journal_dir / RESERVE_NAME
        _make_reserve(self._reserve)
        first = next(iter(acq.rings))
        acq.post([Event("note", first, 0, w) for w in self.warnings])  # in the run file too
        self.readers = {} if self.pretrigger_s is not None else {
            name: ring.reader(start=0) for name, ring in acq.rings.items()}
        self.bufs = {}      # per stream: the batch buffer rings are read into
        for name, ring in acq.rings.items():
            row = ring.n_channels * np.dtype(ring.dtype).itemsize
            rows = max(1, min(ring.capacity // 4, self.batch_bytes // row))
            self.bufs[name] = np.empty((rows, ring.n_channels), ring.dtype)
        self.lost = {name: 0 for name in acq.rings}
        self.recorded = {name: 0 for name in acq.rings}
        self._journal_rows = {name: 0 for name in acq.rings}
        self._ops: collections.deque = collections.deque()  # journal writes not done yet, in order
        self._failing: float | None = None   # monotonic time journal writes started failing
        self._fail_note = ""
        self._fail_cause = ""
        self._retry_at = 0.0
        self._overrun_reason: dict[str, str] = {}
        self._status_fd = None
        self._last_status = None
        if self.status_file is not None:
            try:
                self._status_fd = os.open(self.status_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            except OSError as exc:
                self.journal.close()
                raise HotfireError(f"cannot open the status file: {exc}") from None
        self._events_lock = threading.Lock()
        self._unjournaled: list[Event] = []  # the recorder's own events not yet journaled
        self._late: list[dict] | None = None  # once the journal closes: events only the run file gets
        # where every record written is, for the builder process (in order)
        self._locs: list[tuple[str, str, int, int]] = []
        self._builder = Supervisor(
            {"live_path": str(self.live_path), "journal_dir": str(self.journal_dir), "metadata": self.meta,
             "rig_text": acq.rig.text, "streams": self._jstreams, "journal_name": self.journal_dir.name,
             "journal_id": self.journal.journal_id, "flush_interval": self.flush_interval,
             "reserve_bytes": self.hdf5_reserve_bytes},
            self._locs, self._builder_report, self._keep_cached, hang_timeout=self.builder_timeout,
            retry_interval=self.hdf5_retry_interval)

    @property
    def builder_pid(self) -> int | None:
        """Process id of the run-file builder now running (None if none is)."""
        return self._builder.pid

    # ------------------------------------------------------- subscriber thread
    def poll(self) -> int:
        moved = 0
        if self._ops:
            if time.monotonic() < self._retry_at or not self._run_ops():
                return 0
        progress = True
        while progress:
            progress = False
            for name, r in self.readers.items():
                if not r.available:
                    continue
                buf = self.bufs[name]
                first, n, gap = r.read_into(buf)
                if gap is not None:
                    self._on_gap(name, gap)
                if n:
                    for sample_first, off, count in self.acq.clocks[name].split(first, n):
                        count = self.acq.clip(name, sample_first, count)  # a post-trigger end
                        if count > 0:
                            self._ops.append(("data", name, sample_first, buf[off:off + count]))
                    moved += n
                    progress = True
                # the batch buffer is reused: write it before reading more
                if not self._run_ops():
                    self._status()
                    return moved
        self._status()
        return moved

    def on_events(self, events):
        with self._events_lock:
            for e in events:
                self._ops.append(("event", e.to_dict()))
                if self._unjournaled and e in self._unjournaled:
                    self._unjournaled.remove(e)
        if self.pretrigger_s is not None and not self.readers:
            trig = next((e for e in events if e.kind == "trigger"), None)
            if trig is not None:
                self._start_at(trig)
        if self._failing is None or time.monotonic() >= self._retry_at:
            self._run_ops()

    def _start_at(self, trig):
        """Start every stream's reader ``pretrigger_s`` before the trigger sample."""
        rates = {name: spec.rate_hz for name, spec in self.acq.source.streams.items()}
        t_trig = trig.sample / rates[trig.stream]
        firsts = {}
        for name, ring in self.acq.rings.items():
            pre = int(round(self.pretrigger_s * rates[name]))
            at = (trig.sample if name == trig.stream else int(np.ceil(t_trig * rates[name] - 1e-9))) - pre
            firsts[name] = first = max(0, at)
            self.readers[name] = ring.reader(start=self.acq.clocks[name].ring_index(first))
        self._ops.append(("meta", {"first_sample": firsts}))

    def _on_gap(self, name, gap):
        """Rows the ring overwrote before they were read: an exact GAP record and a gap event."""
        self.lost[name] += gap.count
        reason = self._overrun_reason.pop(name, "ring overrun: the recorder fell behind")
        for sample_first, _, count in self.acq.clocks[name].split(gap.first_index, gap.count):
            count = self.acq.clip(name, sample_first, count)
            if count > 0:
                self._ops.append(("gap", name, sample_first, count, reason))
        self._post(Event("gap", name, self.acq.sample_index(name, gap.first_index),
                         f"recorder fell behind: {gap.count} samples lost ({reason})"))

    def _run_ops(self) -> bool:
        """Write pending records in order; False (and an alarm) if a write failed."""
        n = len(self._locs)
        try:
            return self._write_ops(self.journal)
        finally:
            if len(self._locs) > n:
                self._builder.wake()

    def _write_ops(self, j) -> bool:
        while self._ops:
            op = self._ops[0]
            kind = op[0]
            try:
                if kind == "data":
                    j.append(op[1], op[2], op[3])
                elif kind == "gap":
                    j.gap(op[1], op[2], op[3], op[4])
                elif kind == "event":
                    j.event(op[1])
                else:
                    j.meta(op[1])
            except JournalWriteError as exc:
                self._write_failed(exc, op)
                return False
            loc = j.last_record
            self._ops.popleft()
            if kind == "data":
                self._journal_rows[op[1]] += len(op[3])
                self.recorded[op[1]] = op[2] + len(op[3])
            # only now, after the journal write returned: the run file never holds a row the journal does not
            self._locs.append((loc.seq, loc.path, loc.offset, loc.offset + loc.size))
        if self._failing is not None:
            # Resumed only once what is written is durable again (a failing
            # fdatasync lets writes through but not syncs).
            if time.monotonic() < self._retry_at:
                return True
            try:
                self.journal.sync()
            except JournalWriteError as exc:
                self._write_failed(exc, ("meta", {}))
                return True
            self._write_resumed()
        return True

    def _write_failed(self, exc, op):
        now = time.monotonic()
        self._retry_at = now + self.retry_interval
        if self._failing is not None:
            return
        self._failing = now
        self._fail_note = str(exc)
        self._fail_cause = f"{errno.errorcode.get(exc.errno, exc.errno)}: {exc.strerror}" if exc.errno else str(exc)
        if op[0] in ("data", "gap"):
            stream, sample = op[1], op[2]
        elif op[0] == "event" and op[1].get("stream") in self.recorded:
            stream, sample = op[1]["stream"], int(op[1].get("sample", 0))
        else:
            stream = next(iter(self.recorded))
            sample = self.recorded[stream]
        ring_s = min(r.capacity / self.acq.source.streams[s].rate_hz for s, r in self.acq.rings.items())
        self._alarm(stream, sample,
                    f"recording to disk failed: {exc}. Acquisition continues; samples wait in the ring "
                    f"buffer (~{ring_s:.3g} s) and recording resumes when the disk accepts data. Samples the "
                    f"ring overwrites meanwhile are recorded as an exact gap; nothing already recorded is affected.")

    def _write_resumed(self):
        dt = time.monotonic() - self._failing
        why = f"ring overrun while journal writes failed for {dt:.1f} s ({self._fail_note})"
        self._overrun_reason = dict.fromkeys(self.readers, why)
        self._failing = None
        stream = next(iter(self.recorded))
        self._alarm(stream, self.recorded[stream],
                    f"recording resumed after {dt:.1f} s of failed journal writes; any samples lost "
                    f"meanwhile follow as gap events", kind="note")

    def _alarm(self, stream, sample, msg, kind="alarm"):
        self.messages.append(msg)
        print(f"\nhotfire: {'ALARM' if kind == 'alarm' else 'note'}: {msg}", file=sys.stderr, flush=True)
        self._post(Event(kind, stream, int(sample), msg))

    def _post(self, event):
        """Post an event of the recorder's own; it reaches the journal even when posted at the close
        (after the acquisition's last ``on_events``), and the run file even after the journal closed."""
        with self._events_lock:
            if self._late is None:
                self._unjournaled.append(event)  # until on_events has journaled it (or close does)
            else:
                self._late.append(event.to_dict())  # the journal is closed: the builder adds it
        self.acq.post([event])

    def _status(self, force: bool = False):
        if self._status_fd is None:
            return
        st = (self.journal.synced_through, self.journal.written_through)
        if st != self._last_status or force:
            self._last_status = st
            line = json.dumps({"synced": st[0], "written": st[1], "t": time.time()}) + "\n"
            os.write(self._status_fd, line.encode())

    # ------------------------------------------------------- the builder process
    def _builder_report(self, kind, msg):
        """The supervisor's news (from its thread): a builder died, or a new one caught up."""
        stream = next(iter(self.recorded))
        self._alarm(stream, self.recorded[stream], msg, kind=kind)

    def _keep_cached(self, loc):
        """The journal keeps its synced pages cached from ``loc`` on: the builder reads them next."""
        self.journal.keep_cached_from = loc

    # ----------------------------------------------------------------- close
    def close(self):
        """Write what is pending, close the journal, finish, verify and seal the run file. Never raises."""
        try:
            self._close_journal()
        finally:
            self._close_run_file()
            if self._status_fd is not None:
                self._status(force=True)
                os.close(self._status_fd)
                self._status_fd = None

    def _retry_until(self, fn, deadline) -> bool:
        while True:
            if fn():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.retry_interval)

    def _drain(self) -> bool:
        """Write what is pending and what the rings still hold; True once all of it is in the journal."""
        if not self._run_ops():
            return False
        while self.poll():
            pass
        return not self._ops and not any(r.available for r in self.readers.values())

    def _close_journal(self):
        deadline = time.monotonic() + self.close_timeout
        if not self._retry_until(self._drain, deadline):
            self._declare_unwritten()
        self._free_reserve()
        with self._events_lock:  # events no on_events will bring any more
            self._ops.extend(("event", e.to_dict()) for e in self._unjournaled)
            self._unjournaled.clear()
            self._late = []
        self._ops.append(("meta", {
            "end_time_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
            "recorded_samples": self._journal_rows, "lost_samples": self.lost,
            "acquired_samples": self._acquired()}))
        self._retry_until(self._run_ops, max(deadline, time.monotonic() + self.retry_interval))
        self._ops.clear()

        def close_journal():
            try:
                self.journal.close()
                return True
            except JournalWriteError as exc:
                self._problem(f"closing the journal failed: {exc}")
                return False
        if not self._retry_until(close_journal, max(deadline, time.monotonic() + self.retry_interval)):
            self._problem(f"the journal's last writes may not be durable ({self.journal_dir})")
        self._status(force=True)

    def _declare_unwritten(self):
        """Giving up: what never reached the journal (held batches, rows left in the rings) becomes
        exact GAP records and gap events, written in the space the reserve file frees."""
        cause = self._fail_cause or "unknown error"
        why = f"never written: journal writes failed until the end of the run ({cause})"
        gaps = []

        def add(name, first, count):
            last = next((g for g in reversed(gaps) if g[0] == name), None)
            if last is not None and last[1] + last[2] == first:
                last[2] += count  # a held batch and the ring rows after it: one gap
            else:
                gaps.append([name, first, count])
        for op in self._ops:
            if op[0] == "data":
                add(op[1], op[2], len(op[3]))
        for name, r in self.readers.items():
            n = self.acq.rings[name].written - r.position
            for sample_first, _, count in self.acq.clocks[name].split(r.position, n) if n > 0 else ():
                count = self.acq.clip(name, sample_first, count)
                if count > 0:
                    add(name, sample_first, count)
        total = sum(c for _, _, c in gaps)
        self._problem(f"giving up after {self.close_timeout:g} s: {total} samples could not be written to the "
                      f"journal; they are recorded as gaps")
        self._ops = collections.deque(op for op in self._ops if op[0] != "data")
        self._free_reserve()
        for name, first, count in gaps:
            self.lost[name] += count
            self._ops.append(("gap", name, first, count, why))
            self._ops.append(("event", Event("gap", name, first, f"{count} samples not recorded ({why})").to_dict()))

    def _acquired(self) -> dict[str, int]:
        """Per recorded stream, the end sample index of what the acquisition produced (to record)."""
        out = {}
        for name in self.readers:
            w = self.acq.rings[name].written
            end = self.acq.clocks[name].sample(w - 1) + 1 if w else 0
            out[name] = min(end, self.acq.record_stop.get(name, end))
        return out

    def _free_reserve(self):
        try:
            os.unlink(self._reserve)
        except OSError:
            pass

    def _close_run_file(self):
        expected = dict(self._journal_rows)
        if self._builder.seal(self.path, expected, self._late):
            self.sealed = True
            return
        why = f" ({self._builder.deaths[-1]})" if self._builder.deaths else ""
        self._problem(f"the run file could not be written{why}; every recorded sample is in the journal: "
                      f"run `hotfire recover {self.journal_dir}`")

    def _problem(self, msg):
        self.messages.append(msg)
        print(f"\nhotfire: recorder: {msg}", file=sys.stderr, flush=True)

