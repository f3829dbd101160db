"""The journal writer: append-only, CRC-framed records, ``fdatasync``'d segments.

* files are only ever appended to; nothing already written is rewritten;
* every record carries a header CRC and a CRC over header and payload, and a
  global sequence number, so a torn or corrupt tail is detected and dropped;
* the file is ``fdatasync``'d at most every ``sync_interval`` seconds, from
  ``append`` and from a background timer, and :attr:`JournalWriter.synced_through`
  tells what is known to be on stable storage.
"""
from __future__ import annotations

import errno as _errno
import hashlib
import os
import threading
import time
import uuid
import weakref

import numpy as np

from hotfire.daq.journal import format as _fmt
from hotfire.daq.journal import fsio
from hotfire.daq.journal.format import (
    _CODE_OF, _SEG, _SEGMENT_RE, DATA, EVENT, GAP, HEADER_COPY, HEADER_SIZE, META, NO_STREAM, SEGMENT,
    SEGMENT_MAGIC, JournalWriteError, RecordLocation, _dumps, _pack_header, _stream_specs, segment_name,
)


class JournalWriter:
    """Append-only durable journal of one run, in segment files of a directory.

    Parameters
    ----------
    directory : str or os.PathLike
        Run directory; created if missing. It must not hold a journal already.
    metadata : dict
        Run metadata, JSON-serialisable, stored in every segment header. It must
        have ``"streams"``: name -> ``{"n_channels", "dtype", "rate_hz", ...}``;
        rows appended to a stream must match its ``n_channels`` and ``dtype``.
    rig_text : str
        Full text of the rig configuration; stored with its sha256.
    sync_interval : float or None, optional
        ``fdatasync`` at most this often (seconds). An append made once the
        interval has elapsed triggers a sync, which the writer's sync thread
        performs so the caller is not held up by the disk; the same thread
        syncs data still unsynced one interval after the last sync, so the
        tail is durable even when appends stop. ``0`` syncs after every
        record, in the caller; ``None`` syncs only on :meth:`sync`, at
        segment rotation and on :meth:`close`.
    segment_bytes : int, optional
        Start a new segment before a record would take the current one past
        this size (a single larger record gets a segment of its own).

    Raises
    ------
    FileExistsError
        If ``directory`` already holds journal segments.
    ValueError
        If ``metadata["streams"]`` is missing or invalid.
    JournalWriteError
        If the first segment cannot be created.

    Notes
    -----
    Methods are thread-safe. Each record is written with one ``os.writev``
    (header and the caller's buffer, no copy of the rows). A failed write is
    cut back to the last record boundary; if even that fails the writer leaves
    the torn tail (the reader drops it) and continues in a new segment.
    """

    def __init__(self, directory, metadata: dict, rig_text: str, sync_interval: float | None = 0.1,
                 segment_bytes: int = 256 << 20):
        self.directory = os.fspath(directory)
        self._streams = _stream_specs(metadata)
        if segment_bytes < 1024:
            raise ValueError(f"segment_bytes: expected >= 1024, got {segment_bytes}")
        self.segment_bytes = int(segment_bytes)
        self.sync_interval = sync_interval
        self.journal_id = uuid.uuid4().hex
        self.metadata = metadata
        self.rig_text = rig_text
        rig_b = rig_text.encode("utf-8")
        self.rig_sha256 = hashlib.sha256(rig_b).hexdigest()
        seg_json = _dumps({
            "journal_id": self.journal_id,
            "metadata": metadata,
            "streams": {name: {"id": sid, "n_channels": nch, "dtype": dt.name}
                        for name, (sid, nch, dt) in self._streams.items()},
            "checksum": "crc32-iso-hdlc (zlib.crc32)",
        })
        self._seg_parts = (seg_json, rig_b, hashlib.sha256(rig_b).digest())

        created = not os.path.isdir(self.directory)
        os.makedirs(self.directory, exist_ok=True)
        if created:
            fsio.fsync_dir(os.path.dirname(os.path.abspath(self.directory)))
        existing = [n for n in os.listdir(self.directory) if _SEGMENT_RE.match(n)]
        if existing:
            raise FileExistsError(_errno.EEXIST, f"directory already holds a journal ({sorted(existing)[0]}, ...)",
                                  self.directory)

        self._lock = threading.Lock()        # record order, fd, counters
        self._sync_lock = threading.Lock()   # one fdatasync at a time
        self._fd: int | None = None
        self._path = ""
        self._segment = 0
        self._offset = 0                     # end of the last good record in the current segment
        self._seq = 0                        # sequence number of the next record
        self._tail_dirty = False             # a torn record could not be cut off
        self._written: dict[str, int] = {}   # stream -> highest end index of a DATA record
        self._synced: dict[str, int] = {}
        self._synced_seq = 0                 # records [0, _synced_seq) are durable
        self._dropped_path, self._dropped_to = "", 0  # page cache dropped up to here (synced)
        #: (segment path, offset) from which a reader still needs the records (the recorder's
        #: run file, when it lags): synced pages from there on stay in the page cache
        self.keep_cached_from: tuple[str, int] | None = None
        self._dirty = False
        self._last_sync = time.monotonic()
        self._pending: JournalWriteError | None = None  # from the timer thread
        self._closed = False
        self._last: RecordLocation | None = None
        with self._lock:
            self._open_segment(1)

        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = None
        if sync_interval is not None and sync_interval > 0:
            # The thread holds only a weak reference, so a writer that is
            # dropped without close() can still be collected.
            self._thread = threading.Thread(
                target=_timer_loop, args=(weakref.ref(self), self._stop, self._wake),
                name=f"journal-sync:{os.path.basename(self.directory)}", daemon=True)
            self._thread.start()

    # -- public API ------------------------------------------------------

    @property
    def synced_through(self) -> dict[str, int]:
        """Per stream, the highest end index (exclusive) of a DATA record known durable.

        Syncs cover every record written before them, so for a stream appended
        in index order every row below this index that was appended is on
        stable storage: it is what must survive a crash (for a stream written
        from 0 without gaps, the number of rows). Streams with nothing synced
        yet are absent.
        """
        with self._lock:
            return dict(self._synced)

    @property
    def written_through(self) -> dict[str, int]:
        """Per stream, the highest end index of a DATA record written (maybe not yet synced)."""
        with self._lock:
            return dict(self._written)

    @property
    def sequence(self) -> int:
        """Sequence number the next record will get (= records written so far)."""
        return self._seq

    @property
    def path(self) -> str:
        """Path of the current segment file."""
        return self._path

    @property
    def streams(self) -> dict[str, dict]:
        """name -> ``{"id", "n_channels", "dtype"}``, as in the segment header (and :attr:`Journal.streams`)."""
        return {name: {"id": sid, "n_channels": nch, "dtype": dt.name}
                for name, (sid, nch, dt) in self._streams.items()}

    @property
    def last_record(self) -> RecordLocation | None:
        """Where the last record written by this writer is (None before the first).

        Read it in the thread that appends, right after the call, to know where
        that record is; :func:`read_record` reads it back.
        """
        with self._lock:
            return self._last

    def append(self, stream: str, first_index: int, rows: np.ndarray) -> int:
        """Write one DATA record: ``rows`` of ``stream`` starting at ``first_index``.

        Parameters
        ----------
        stream : str
            A stream declared in ``metadata["streams"]``.
        first_index : int
            Absolute sample index of ``rows[0]``.
        rows : numpy.ndarray
            Shape ``(n, n_channels)`` (or ``(n,)`` for one channel), in the
            stream's dtype exactly; no conversion is made, to never alter data.

        Returns
        -------
        int
            The record's sequence number, or -1 if ``rows`` is empty.

        Raises
        ------
        JournalWriteError
            The write (or an earlier background sync) failed; the record was
            not written and may be appended again later.
        ValueError
            Unknown stream, wrong shape or dtype.
        """
        try:
            sid, nch, dt = self._streams[stream]
        except KeyError:
            raise ValueError(f"unknown stream {stream!r}; declared: {', '.join(self._streams)}") from None
        if not isinstance(rows, np.ndarray):
            raise TypeError(f"rows: expected a numpy array, got {type(rows).__name__}")
        if rows.ndim == 1 and nch == 1:
            rows = rows.reshape(-1, 1)
        if rows.ndim != 2 or rows.shape[1] != nch:
            raise ValueError(f"stream {stream!r}: expected rows of shape (n, {nch}), got {rows.shape}")
        if rows.dtype.kind != dt.kind or rows.dtype.itemsize != dt.itemsize:
            raise ValueError(f"stream {stream!r}: expected dtype {dt.name}, got {rows.dtype.name}")
        first_index = int(first_index)
        if first_index < 0:
            raise ValueError(f"first_index: expected >= 0, got {first_index}")
        n = rows.shape[0]
        if n == 0:
            return -1
        if rows.dtype != dt or not rows.flags.c_contiguous:
            rows = np.ascontiguousarray(rows, dtype=dt)  # byte swap / gather: the only copies
        payload = memoryview(rows).cast("B")
        seq = self._write(DATA, _CODE_OF[dt], sid, nch, first_index, n, payload, stream, first_index + n)
        self._maybe_sync()
        return seq

    def gap(self, stream: str, first_index: int, count: int, reason: str) -> int:
        """Write a GAP record: rows ``[first_index, first_index + count)`` of ``stream`` are lost.

        Parameters
        ----------
        stream : str
            A declared stream.
        first_index, count : int
            The lost rows, exactly (``count >= 1``).
        reason : str
            Why, e.g. ``"ring overrun"``, ``"driver error -200279"``.

        Returns
        -------
        int
            The record's sequence number.
        """
        try:
            sid = self._streams[stream][0]
        except KeyError:
            raise ValueError(f"unknown stream {stream!r}; declared: {', '.join(self._streams)}") from None
        if int(count) < 1 or int(first_index) < 0:
            raise ValueError(f"gap: expected first_index >= 0 and count >= 1, got {first_index}, {count}")
        seq = self._write(GAP, 0, sid, 0, int(first_index), int(count), str(reason).encode("utf-8"))
        self._maybe_sync()
        return seq

    def event(self, event: dict) -> int:
        """Write an EVENT record (JSON: ``kind``, ``stream``, ``sample``, ``message``, ``channel``).

        Returns
        -------
        int
            The record's sequence number.
        """
        return self._json_record(EVENT, "event", event)

    def meta(self, meta: dict) -> int:
        """Write a META record (JSON: end of run, final counts, operator notes, ...).

        Returns
        -------
        int
            The record's sequence number.
        """
        return self._json_record(META, "meta", meta)

    def _json_record(self, rtype: int, what: str, obj: dict) -> int:
        if not isinstance(obj, dict):
            raise TypeError(f"{what}: expected a dict, got {type(obj).__name__}")
        seq = self._write(rtype, 0, NO_STREAM, 0, 0, 0, _dumps(obj))
        self._maybe_sync()
        return seq

    def sync(self) -> dict[str, int]:
        """``fdatasync`` everything written so far; return :attr:`synced_through`.

        Raises
        ------
        JournalWriteError
            The sync failed (or an earlier background one did); nothing new
            is counted as synced. Calling again retries.
        """
        self._raise_pending()
        self._sync()
        return self.synced_through

    def close(self) -> None:
        """Sync and close. Idempotent.

        Raises
        ------
        JournalWriteError
            The final sync failed; the writer stays open, so ``close()`` can
            be retried (or the caller gives up and abandons the tail).
        """
        if self._closed:
            return
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._raise_pending()
        self._sync()
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._closed = True

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # No I/O beyond releasing the descriptor: a dropped writer is a bug
        # of the caller, and what was written stays readable.
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
            self._wake.set()
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # -- internals -------------------------------------------------------

    def _raise_pending(self) -> None:
        if self._closed:
            raise ValueError("journal writer is closed")
        err, self._pending = self._pending, None
        if err is not None:
            raise err

    def _write(self, rtype, dtype_code, stream_id, nch, first, count, payload,
               stream=None, end=None) -> int:
        plen = len(payload)
        with self._lock:
            self._raise_pending()
            if (self._fd is None or self._tail_dirty
                    or (self._offset + HEADER_SIZE + plen > self.segment_bytes
                        and self._seq > self._segment_first_seq + 1)):
                self._rotate()
            seq = self._seq
            tns = time.time_ns()
            header = _pack_header(rtype, dtype_code, seq, stream_id, nch, first, count, payload, plen, tns)
            start = self._offset
            try:
                self._write_all(header, payload, HEADER_SIZE + plen)
            except OSError as exc:
                self._cut_back(start)
                raise JournalWriteError(exc.errno or _errno.EIO, exc.strerror or str(exc),
                                        self._path, start, "write") from exc
            # Commit only after the whole record is written: a failed write
            # consumes no sequence number, so the reader sees no discontinuity.
            self._offset = start + HEADER_SIZE + plen
            self._seq = seq + 1
            self._last = RecordLocation(self._path, start, HEADER_SIZE + plen, seq, tns)
            self._dirty = True
            if stream is not None and end > self._written.get(stream, -1):
                self._written[stream] = end
            self._writeback()
            return seq

    def _writeback(self) -> None:
        """Have the kernel start writing out the whole pages written since the last call (no wait).

        The disk then writes the journal as it grows instead of in a burst
        at each ``fdatasync`` (which still decides what counts as durable):
        measured here (1 GiB in 1-8 MiB records, ``fdatasync`` every 0.1 s),
        0.7-0.8 s instead of 1.0-1.2 s from the first write to the end of
        the final ``fsync``. Caller holds the lock.
        """
        end = self._offset & ~(fsio.PAGE - 1)
        if fsio.start_writeback is None or end - self._wb_from < fsio.WRITEBACK_BYTES:
            return
        fsio.start_writeback(self._fd, self._wb_from, end - self._wb_from)  # an optimisation: errors ignored
        self._wb_from = end

    def _write_all(self, header: bytes, payload, total: int) -> None:
        n = os.writev(self._fd, [header, payload])
        if n == total:
            return
        # A short write (disk filling up): finish it with plain writes; the
        # next one then raises ENOSPC and the caller cuts the record off.
        h = len(header)
        rest = [memoryview(header)[n:], memoryview(payload)] if n < h else [memoryview(payload)[n - h:]]
        for part in rest:
            while len(part):
                k = os.write(self._fd, part)
                if k <= 0:  # no progress on a regular file: the disk is full
                    raise OSError(_errno.ENOSPC, os.strerror(_errno.ENOSPC))
                part = part[k:]

    def _cut_back(self, start: int) -> None:
        """Remove a partially written record so the segment ends on a record boundary."""
        try:
            os.ftruncate(self._fd, start)
            os.lseek(self._fd, start, os.SEEK_SET)
        except OSError:
            # Leave the torn bytes for the reader to drop; never write after
            # them: the next record opens a new segment.
            self._tail_dirty = True

    def _rotate(self) -> None:
        """Close the current segment (synced) and open the next; caller holds the lock."""
        if self._fd is not None:
            # The old segment must be durable before records go elsewhere, or
            # synced_through could later count rows that a crash loses.
            try:
                os.fdatasync(self._fd)
            except OSError as exc:
                raise JournalWriteError(exc.errno or _errno.EIO, exc.strerror or str(exc),
                                        self._path, self._offset, "fdatasync") from exc
            self._synced.update(self._written)  # _written only grows
            self._synced_seq = self._seq
            keep = self.keep_cached_from
            if fsio.FADV_DONTNEED is not None and (keep is None or keep[0] != self._path):
                try:  # all of it is on stable storage now: see _drop_synced
                    os.posix_fadvise(self._fd, 0, 0, fsio.FADV_DONTNEED)
                except OSError:
                    pass
            os.close(self._fd)
            self._fd = None
            self._tail_dirty = False
        self._open_segment(self._segment + 1)

    def _open_segment(self, number: int) -> None:
        """Create segment ``number`` with its header record; caller holds the lock.

        The header is written to a temporary name, synced and renamed, so a
        crash never leaves a segment file without a complete header. The first
        segment's header is also copied to ``journal-header.hfj``.
        """
        path = os.path.join(self.directory, segment_name(number))
        tmp = path + ".tmp"
        seg_json, rig_b, rig_hash = self._seg_parts
        payload = (_SEG.pack(SEGMENT_MAGIC, _fmt.FORMAT_VERSION, 0, number, rig_hash, len(seg_json), len(rig_b))
                   + seg_json + rig_b)
        header = _pack_header(SEGMENT, 0, self._seq, NO_STREAM, 0, number, 0, payload, len(payload))
        record = header + payload
        fd = None
        made = None
        try:
            if os.path.exists(path):  # never overwrite a segment
                raise OSError(_errno.EEXIST, os.strerror(_errno.EEXIST))
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
            made = tmp
            fsio.write_fd_all(fd, record)
            os.fsync(fd)
            os.rename(tmp, path)
            made = path
            if number == 1:  # a copy of the header, for when every segment's own is damaged
                fsio.write_file(os.path.join(self.directory, HEADER_COPY), record)
            fsio.fsync_dir(self.directory)
        except OSError as exc:
            if fd is not None:
                os.close(fd)
            if made is not None:
                try:  # holds no record yet: remove it, so a retry starts clean
                    os.unlink(made)
                except OSError:
                    pass
            raise JournalWriteError(exc.errno or _errno.EIO, exc.strerror or str(exc),
                                    path, 0, "create") from exc
        self._fd, self._path, self._segment = fd, path, number
        self._offset = len(record)
        self._wb_from = 0
        self._segment_first_seq = self._seq
        self._seq += 1

    def _maybe_sync(self) -> None:
        iv = self.sync_interval
        if iv is None or time.monotonic() - self._last_sync < iv:
            return
        if self._thread is not None and self._thread.is_alive():
            # Due: have the sync thread do it, so the caller goes on writing
            # while the disk flushes (measured: ~1/3 of the time otherwise).
            self._wake.set()
            return
        # Every record (sync_interval=0), or no thread: sync here, but never
        # wait for a sync already in progress.
        if self._sync_lock.acquire(blocking=False):
            try:
                self._sync_locked()
            except JournalWriteError as exc:
                # The record is written; report the failed sync on the next
                # call, before it writes anything, so "raised" always means
                # "not written".
                self._pending = exc
            finally:
                self._sync_lock.release()

    def _sync(self) -> None:
        with self._sync_lock:
            self._sync_locked()

    def _sync_locked(self) -> None:
        with self._lock:
            if self._fd is None or not self._dirty:
                self._last_sync = time.monotonic()
                return
            # Sync a duplicate descriptor outside the record lock, so appends
            # go on during the (slow) fdatasync and a rotation may close the
            # original; what was written before this point is covered.
            fd = os.dup(self._fd)
            target, target_seq = dict(self._written), self._seq
            path, offset = self._path, self._offset
            self._dirty = False
            started = time.monotonic()
        try:
            os.fdatasync(fd)
        except OSError as exc:
            with self._lock:
                self._dirty = True
                self._last_sync = started  # retry after one interval, not at once
            raise JournalWriteError(exc.errno or _errno.EIO, exc.strerror or str(exc),
                                    path, offset, "fdatasync") from exc
        else:
            self._drop_synced(fd, path, offset)
        finally:
            os.close(fd)
        with self._lock:
            self._last_sync = started
            if target_seq > self._synced_seq:
                self._synced_seq = target_seq
                for k, v in target.items():
                    if v > self._synced.get(k, -1):
                        self._synced[k] = v

    def _drop_synced(self, fd: int, path: str, offset: int) -> None:
        """Drop the page cache of ``path`` up to ``offset``, now on stable storage; caller holds _sync_lock.

        Only clean pages are dropped, so nothing unsynced is affected, and
        none from :attr:`keep_cached_from` on. The journal is rarely read
        back while it is written (records the run file could not get from
        memory, a rebuild of the run file), and a page
        cache that grows by the run's whole size costs more than the disk:
        on a VM that hands freed memory back to its host, every new page is
        a host page fault (measured here: ~1-3 s of system time per GiB,
        against ~0.4 s when the same pages are recycled).
        """
        start = self._dropped_to if self._dropped_path == path else 0
        keep = self.keep_cached_from
        if keep is not None:
            # a reader is still behind: keep what it will read (an older segment: all of this one)
            offset = min(offset, keep[1]) if keep[0] == path else start
        if offset > start and fsio.FADV_DONTNEED is not None:
            try:
                os.posix_fadvise(fd, start, offset - start, fsio.FADV_DONTNEED)
            except OSError:
                return  # only an optimisation
        self._dropped_path, self._dropped_to = path, max(start, offset)

    def _timer_tick(self) -> float:
        """Sync if due; return seconds until the next check."""
        iv = self.sync_interval
        due = self._last_sync + iv - time.monotonic()
        if due > 0:
            return due
        if self._dirty and self._sync_lock.acquire(blocking=False):
            try:
                self._sync_locked()
            except JournalWriteError as exc:
                self._pending = exc  # raised by the next append / sync / close
                return iv
            finally:
                self._sync_lock.release()
        return iv


def _timer_loop(ref, stop: threading.Event, wake: threading.Event) -> None:
    wait = 0.0
    while True:
        wake.wait(wait)
        wake.clear()
        if stop.is_set():
            return
        w = ref()
        if w is None:
            return
        wait = max(0.002, w._timer_tick())
        del w

