"""The recorder: a subscriber that makes every sample durable, then builds the run file.

Two stages, two threads, so that a slow HDF5 never costs a sample:

1. The subscriber thread drains every ring into the run's **journal**
   (``<out>/<test id>.journal/``, :mod:`hotfire.daq.journal`): each batch of
   each stream is one DATA record, written with one ``writev`` and
   ``fdatasync``'d at most every ``sync_interval`` (0.1 s). Events are EVENT
   records, rows lost to a ring overrun exact GAP records. This is the
   durable record of the run.
2. A builder thread appends each record, once the journal write of it has
   returned, to the **run file** ``<test id>.h5.live`` (HDF5, SWMR: readers
   can open it during the firing), flushed every ``flush_interval``. Rows
   come from memory (the batch buffer the journal wrote them from, lent to
   the builder from a small pool) or, when none was free or the run file is
   rebuilt, are read back from the journal (CRC checked).
   At the end the file is sealed: verified against the journal's sample
   counts, fsynced and renamed to ``<test id>.h5``.

If the HDF5 falls behind, only the run file lags: the journal keeps up. If a
journal write fails (full disk, I/O error), the recorder raises an ``alarm``
event, prints a message, keeps the unwritten batch and stops reading the
rings; acquisition goes on, and recording resumes where it stopped when
writes succeed again. Rows the ring overwrote meanwhile become an exact
GAP record and a ``gap`` event. Nothing already written is touched. If the
run file cannot be written, it is rebuilt from the journal once it can (and
``hotfire recover`` can always rebuild it). See docs/durability.md.
"""
from __future__ import annotations

import collections
import datetime as _dt
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from hotfire.daq.acquisition import Recording, Subscriber
from hotfire.core.events import Event
from hotfire.daq.journal import DataRecord, JournalReadError, JournalWriteError, JournalWriter, read_record
from hotfire.daq.preflight import check_free_space, run_paths
from hotfire.daq.runbuild import JOURNAL_SUFFIX, LIVE_SUFFIX, RunBuilder, run_metadata
from hotfire.core.errors import HotfireError


#: batch buffers per stream the recorder may lend to the run-file thread (besides
#: its own, which it never lends): at least _POOL, more up to _POOL_BYTES per stream.
#: A record written from the recorder's own buffer is read back from the journal (which
#: keeps such records cached), a copy more; the pool covers the run file's usual lag
#: (measured at 1 GB/s: up to ~100 MiB behind, in bursts).
_POOL = 3
_POOL_BYTES = 128 << 20


class _Batch:
    """A pool buffer lent to the run-file thread: back to the pool once its ``refs`` records are built."""
    __slots__ = ("buf", "stream", "refs")

    def __init__(self, buf, stream, refs):
        self.buf, self.stream, self.refs = buf, stream, refs


class _Entry:
    """A record written to the journal, for the run-file thread: where it is, and
    for a DATA record written from a lent buffer, its rows (dropped once built)."""
    __slots__ = ("loc", "stream", "first", "rows", "batch")

    def __init__(self, loc, stream=None, first=0, rows=None, batch=None):
        self.loc, self.stream, self.first, self.rows, self.batch = loc, stream, first, rows, batch


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
                 check_space: bool = True):
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
        first = next(iter(acq.rings))
        acq.post([Event("note", first, 0, w) for w in self.warnings])  # in the run file too
        self.readers = {} if self.pretrigger_s is not None else {
            name: ring.reader(start=0) for name, ring in acq.rings.items()}
        self.bufs = {}      # per stream: the recorder's own batch buffer, never lent
        self._pool = {}     # per stream: free buffers that can be lent to the run-file thread
        self._pooled = {}   # per stream: pool buffers allocated so far (at most _pool_max)
        self._pool_max = {}
        for name, ring in acq.rings.items():
            row = ring.n_channels * np.dtype(ring.dtype).itemsize
            rows = max(1, min(ring.capacity // 4, self.batch_bytes // row))
            self.bufs[name] = np.empty((rows, ring.n_channels), ring.dtype)
            self._pool[name] = collections.deque()
            self._pooled[name] = 0
            self._pool_max[name] = max(_POOL, _POOL_BYTES // self.bufs[name].nbytes)
        self.lost = {name: 0 for name in acq.rings}
        self.recorded = {name: 0 for name in acq.rings}
        self._journal_rows = {name: 0 for name in acq.rings}
        self._ops: collections.deque = collections.deque()  # journal writes not done yet, in order
        self._failing: float | None = None   # monotonic time journal writes started failing
        self._fail_note = ""
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
        # the builder thread's state
        self._index: list = []               # _Entry of every record written, in order
        self._cond = threading.Condition()
        self._closing = False
        self._builder: RunBuilder | None = None
        self._built = 0                      # records of _index applied to the run file
        self._keep_idx = None                # the first unbuilt record to read back (the journal keeps it cached)
        self._hdf5_failing = False
        self._hdf5_retry_at = 0.0
        self._next_flush = time.monotonic() + self.flush_interval
        self._fds: dict[str, int] = {}
        self._thread = threading.Thread(target=self._builder_loop, name="recorder-runfile", daemon=True)
        self._thread.start()

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
                buf = self._lendable(name)
                lent = buf is not None
                if not lent:
                    buf = self.bufs[name]
                first, n, gap = r.read_into(buf)
                if gap is not None:
                    self._on_gap(name, gap)
                ops = []
                if n:
                    for sample_first, off, count in self.acq.clocks[name].split(first, n):
                        count = self.acq.clip(name, sample_first, count)  # a post-trigger end
                        if count > 0:
                            ops.append(["data", name, sample_first, buf[off:off + count], None])
                    moved += n
                    progress = True
                if lent:
                    if ops:
                        batch = _Batch(buf, name, len(ops))
                        for op in ops:
                            op[4] = batch
                    else:
                        self._pool[name].append(buf)
                self._ops.extend(ops)
                # the batch buffer is reused: write it before reading more
                if not self._run_ops():
                    self._status()
                    return moved
        self._status()
        return moved

    def on_events(self, events):
        for e in events:
            self._ops.append(("event", e.to_dict()))
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

    def _lendable(self, name):
        """A free pool buffer of ``name`` (allocated as needed, up to its maximum), or None: all are
        with the builder."""
        pool = self._pool[name]
        if pool:
            return pool.popleft()
        if self._pooled[name] < self._pool_max[name]:
            self._pooled[name] += 1
            return np.empty_like(self.bufs[name])
        return None

    def _on_gap(self, name, gap):
        """Rows the ring overwrote before they were read: an exact GAP record and a gap event."""
        self.lost[name] += gap.count
        reason = self._overrun_reason.pop(name, "ring overrun: the recorder fell behind")
        for sample_first, _, count in self.acq.clocks[name].split(gap.first_index, gap.count):
            count = self.acq.clip(name, sample_first, count)
            if count > 0:
                self._ops.append(("gap", name, sample_first, count, reason))
        self.acq.post([Event("gap", name, self.acq.sample_index(name, gap.first_index),
                             f"recorder fell behind: {gap.count} samples lost ({reason})")])

    def _run_ops(self) -> bool:
        """Write pending records in order; False (and an alarm) if a write failed."""
        j = self.journal
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
                # Rows in a lent buffer go to the builder from memory: they are
                # exactly the bytes just written (the buffer is not reused until
                # the builder has built them), and only now, after the journal
                # write returned, so the run file never holds rows the journal
                # does not.
                entry = _Entry(loc, op[1], op[2], op[3], op[4]) if op[4] is not None else _Entry(loc)
            else:
                entry = _Entry(loc)
            with self._cond:
                self._index.append(entry)
                if entry.rows is None and self._keep_idx is None:
                    self._keep(len(self._index) - 1)  # the run file reads this one back
                self._cond.notify()
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
        self.acq.post([Event(kind, stream, int(sample), msg)])

    def _status(self, force: bool = False):
        if self._status_fd is None:
            return
        st = (self.journal.synced_through, self.journal.written_through)
        if st != self._last_status or force:
            self._last_status = st
            line = json.dumps({"synced": st[0], "written": st[1], "t": time.time()}) + "\n"
            os.write(self._status_fd, line.encode())

    # ------------------------------------------------------- run file thread
    def _builder_loop(self):
        while True:
            with self._cond:
                if not self._closing and self._built >= len(self._index):
                    self._cond.wait(timeout=self.flush_interval)
                if self._closing:
                    return
            self._build_step(final=False)

    def _space_ok(self) -> bool:
        try:
            st = os.statvfs(self.out_dir)
        except OSError:
            return True
        reserve = self.hdf5_reserve_bytes
        if reserve is None:
            reserve = min(512 << 20, st.f_blocks * st.f_frsize // 50)
        return st.f_bavail * st.f_frsize >= reserve

    def _fd(self, path: str) -> int:
        fd = self._fds.get(path)
        if fd is None:
            for old in list(self._fds):  # records come in segment order: keep one open
                os.close(self._fds.pop(old))
            fd = self._fds[path] = os.open(path, os.O_RDONLY)
        return fd

    def _build_step(self, final: bool) -> bool:
        """Apply new journal records to the run file; True if it is up to date."""
        now = time.monotonic()
        if self._builder is None:
            if now < self._hdf5_retry_at or (not final and not self._space_ok()):
                return False
            try:
                self._builder = RunBuilder(self.live_path, self.meta, self.acq.rig.text, self._jstreams,
                                           self.journal_dir.name, self.journal.journal_id, live=True,
                                           rig=self.acq.rig)
                self._built = 0
                with self._cond:
                    self._keep_from(0)  # a rebuild reads back what is not in memory
            except Exception as exc:  # noqa: BLE001 - any failure of the file: retry from the journal
                self._hdf5_failed(exc)
                return False
        try:
            n = len(self._index)
            while self._built < n:
                if not final and not self._space_ok():
                    return False  # lag: the journal has it all, and needs the space more
                e = self._index[self._built]
                loc = e.loc
                if e.rows is not None:
                    rec = DataRecord(loc.seq, e.stream, e.first, e.rows, loc.time_ns,
                                     os.path.basename(loc.path), loc.offset)
                    try:
                        self._builder.add(rec)
                    finally:
                        # built or failed: a rebuild reads it back from the journal
                        self._release(e)
                else:
                    rec = read_record(loc.path, loc.offset, self._jstreams, fd=self._fd(loc.path))
                    if rec.seq != loc.seq:
                        raise JournalReadError(0, f"record at offset {loc.offset} has sequence {rec.seq}, "
                                                  f"expected {loc.seq}", loc.path)
                    self._builder.add(rec)
                self._built += 1
                if self._keep_idx is not None and self._built > self._keep_idx:
                    with self._cond:
                        self._keep_from(self._built)
                if not final and time.monotonic() >= self._next_flush:
                    break
            if final or time.monotonic() >= self._next_flush:
                self._builder.flush()
                self._next_flush = time.monotonic() + self.flush_interval
        except Exception as exc:  # noqa: BLE001
            self._hdf5_failed(exc)
            return False
        if self._hdf5_failing and self._built == len(self._index):
            self._hdf5_failing = False
            stream = next(iter(self.recorded))
            self._alarm(stream, self.recorded[stream], f"run file rebuilt from the journal: {self.live_path}",
                        kind="note")
        return self._built == len(self._index)

    def _keep(self, i):
        """Have the journal keep its synced pages cached from record ``_index[i]`` on (None: from
        none), the first the run file must read back from it. Caller holds ``_cond``."""
        self._keep_idx = i
        self.journal.keep_cached_from = None if i is None else (self._index[i].loc.path, self._index[i].loc.offset)

    def _keep_from(self, i):
        """:meth:`_keep` the first record from ``_index[i]`` on whose rows are not in memory. Caller holds
        ``_cond``."""
        idx = self._index
        while i < len(idx) and idx[i].rows is not None:
            i += 1
        self._keep(i if i < len(idx) else None)

    def _release(self, e):
        """Drop an entry's rows; the last record of a lent buffer gives it back to the pool."""
        b = e.batch
        e.rows = e.batch = None
        b.refs -= 1
        if b.refs == 0:
            self._pool[b.stream].append(b.buf)

    def _hdf5_failed(self, exc):
        if self._builder is not None:
            self._builder.abandon()
            self._builder = None
        self._hdf5_retry_at = time.monotonic() + self.hdf5_retry_interval
        if not self._hdf5_failing:
            self._hdf5_failing = True
            stream = next(iter(self.recorded))
            self._alarm(stream, self.recorded[stream],
                        f"writing the run file failed: {type(exc).__name__}: {exc}. Every sample is in the "
                        f"journal {self.journal_dir}; the run file is rebuilt from it when writing works again "
                        f"(or by `hotfire recover {self.journal_dir}`).")

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

    def _close_journal(self):
        deadline = time.monotonic() + self.close_timeout
        if not self._retry_until(self._run_ops, deadline):
            unwritten = {}
            for op in self._ops:
                if op[0] == "data":
                    unwritten[op[1]] = unwritten.get(op[1], 0) + len(op[3])
            self._problem(f"giving up after {self.close_timeout:g} s: {sum(unwritten.values())} samples "
                          f"({unwritten}) could not be written to the journal")
            for s, n in unwritten.items():
                self.lost[s] += n
            self._ops.clear()
        self._ops.append(("meta", {
            "end_time_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
            "recorded_samples": self._journal_rows, "lost_samples": self.lost}))
        self._retry_until(self._run_ops, deadline)
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

    def _close_run_file(self):
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        deadline = time.monotonic() + self.close_timeout
        ok = self._retry_until(lambda: self._build_step(final=True), deadline)
        try:
            if not ok:
                self._problem(f"the run file could not be written; every recorded sample is in the journal: "
                              f"run `hotfire recover {self.journal_dir}`")
                if self._builder is not None:
                    self._builder.abandon()
                return
            try:
                self._builder.seal(self.path, dict(self._journal_rows))
                self.sealed = True
            except Exception as exc:  # noqa: BLE001
                self._problem(f"sealing the run file failed ({exc}); every recorded sample is in the journal: "
                              f"run `hotfire recover {self.journal_dir}`")
        finally:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

    def _problem(self, msg):
        self.messages.append(msg)
        print(f"\nhotfire: recorder: {msg}", file=sys.stderr, flush=True)

