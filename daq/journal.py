"""Durable acquisition journal: append-only, CRC-framed, fdatasync'd segments.

The journal is the record of a run while it is acquired. The HDF5 run file is
produced from it and can always be rebuilt from it, so the journal is the one
thing that must survive a SIGKILL or a power cut. The design follows what was
measured (docs/journal-format.md, DESIGN.md "Durability"):

* files are only ever appended to; nothing already written is rewritten;
* every record carries a header CRC and a CRC over header and payload, and a
  global sequence number, so a torn or corrupt tail is detected and dropped;
* the file is ``fdatasync``'d at most every ``sync_interval`` seconds, from
  ``append`` and from a background timer, and :attr:`JournalWriter.synced_through`
  tells what is known to be on stable storage;
* the reader returns exactly the valid prefix of each segment and never
  fabricates a row: a sensor reading of 0 is plausible, so an invented row
  of zeros is the worst failure there is.

Checksums are CRC-32 (ISO-HDLC, the one of zlib/gzip/PNG): ``isal_zlib.crc32``
of ISA-L where installed (the same function, ~3x faster here), else
:func:`zlib.crc32`; both release the GIL.

Examples
--------
>>> meta = {"test_id": "T-042", "streams": {"fast": {"n_channels": 64,
...         "dtype": "int16", "rate_hz": 10000.0}}}
>>> with JournalWriter(run_dir, meta, rig_text) as j:       # doctest: +SKIP
...     j.append("fast", 0, block)
>>> for rec in read_journal(run_dir): ...                  # doctest: +SKIP
"""
from __future__ import annotations

import ctypes
import errno as _errno
import hashlib
import json
import os
import re
import struct
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from hotfire.core.fsutil import fsync_dir

try:  # ISA-L's CRC-32 is the same function as zlib's, with SIMD (~6 GB/s against ~1.8)
    from isal.isal_zlib import crc32 as _crc32
except ImportError:  # pragma: no cover - isal is a dependency; zlib gives the same values
    from zlib import crc32 as _crc32

__all__ = [
    "FORMAT_VERSION",
    "JournalWriter",
    "JournalWriteError",
    "JournalFormatError",
    "JournalReadError",
    "Journal",
    "DataRecord",
    "GapRecord",
    "EventRecord",
    "MetaRecord",
    "Damage",
    "SegmentInfo",
    "StreamRows",
    "read_journal",
    "read_record",
    "RecordLocation",
    "stream_rows",
    "segment_name",
]

FORMAT_VERSION = 1

RECORD_MAGIC = b"HFJR"
SEGMENT_MAGIC = b"HFJSEG\r\n"  # \r\n: a text-mode copy is caught at once

# Record types.
SEGMENT, DATA, GAP, EVENT, META = 1, 2, 3, 4, 5
_TYPE_NAMES = {SEGMENT: "SEGMENT", DATA: "DATA", GAP: "GAP", EVENT: "EVENT", META: "META"}

NO_STREAM = 0xFFFFFFFF

# dtype code <-> numpy dtype; samples are always little-endian on disk.
DTYPE_CODES = {
    1: np.dtype("<i2"),
    2: np.dtype("<i4"),
    3: np.dtype("<f4"),
    4: np.dtype("<f8"),
    5: np.dtype("<u2"),
    6: np.dtype("<i1"),
    7: np.dtype("<u1"),
    8: np.dtype("<i8"),
    9: np.dtype("<u4"),
}
_CODE_OF = {dt: code for code, dt in DTYPE_CODES.items()}

# Record header, 64 bytes little-endian; see docs/journal-format.md.
#   magic, type, dtype code, flags, sequence, stream id, n_channels,
#   first index, count, payload length, wall time ns | header crc, record crc
_HEAD = struct.Struct("<4sBBHQIIqQQq")
_CRC = struct.Struct("<I")
HEADER_SIZE = _HEAD.size + 8
assert HEADER_SIZE == 64

# Segment header payload prefix, followed by the JSON and the rig text:
#   magic, format version, flags, segment number, rig sha256, json len, rig len
_SEG = struct.Struct("<8sHHI32sII")

_SEGMENT_RE = re.compile(r"^journal-(\d{6,})\.hfj$")

#: drop synced journal pages from the page cache (Linux, most Unixes); None where unsupported
_FADV_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", None) if hasattr(os, "posix_fadvise") else None


def _sync_file_range_fn():
    """Linux ``sync_file_range(fd, offset, nbytes, SYNC_FILE_RANGE_WRITE)`` (start writeback, do not
    wait), or None elsewhere. Python has no binding; ctypes releases the GIL during the call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return lambda fd, offset, nbytes: fn(fd, offset, nbytes, 2)  # 2: SYNC_FILE_RANGE_WRITE


_start_writeback = _sync_file_range_fn()
#: start writing back once this many bytes of whole pages are written and not yet started
_WRITEBACK_BYTES = 1 << 20
_PAGE = 4096

# A valid record never claims more than this; a larger length is corruption
# (and would otherwise make the reader try to allocate it).
_MAX_PAYLOAD = 1 << 40


def segment_name(number: int) -> str:
    """Return the file name of segment ``number`` (``journal-000001.hfj``)."""
    return f"journal-{number:06d}.hfj"


# ----------------------------------------------------------------- errors


class JournalWriteError(OSError):
    """A write or sync of the journal failed; what was on disk before is intact.

    An ``OSError`` with the ``errno`` of the failure (``ENOSPC``, ``EIO``, ...),
    ``filename`` (the segment) and the extra attributes ``offset`` (byte offset
    of the record or of the synced end) and ``operation`` (``"write"``,
    ``"fdatasync"``, ``"create"``). The writer stays usable: call again later.
    """

    def __init__(self, err: int, strerror: str, filename: str, offset: int, operation: str):
        super().__init__(err, strerror, filename)
        self.offset = offset
        self.operation = operation

    def __str__(self) -> str:
        name = _errno.errorcode.get(self.errno, str(self.errno))
        return (f"journal {self.operation} failed in {self.filename} at offset "
                f"{self.offset}: [{name}] {self.strerror}")

    def __reduce__(self):  # keep the extra fields through pickling (multiprocessing)
        return (type(self), (self.errno, self.strerror, self.filename, self.offset, self.operation))


class JournalFormatError(ValueError):
    """The journal cannot be read: no valid segment, or a newer format version."""


class JournalReadError(OSError):
    """A record validated during the scan no longer reads back the same."""


# ---------------------------------------------------------------- helpers


def _json_default(obj):
    if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
        return np.dtype(obj).name
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode("utf-8")


def _pack_header(rtype, dtype_code, seq, stream_id, n_channels, first, count,
                 payload, payload_len, time_ns: int | None = None) -> bytes:
    head = _HEAD.pack(RECORD_MAGIC, rtype, dtype_code, 0, seq, stream_id, n_channels,
                      first, count, payload_len, time.time_ns() if time_ns is None else time_ns)
    hcrc = _crc32(head)
    hcrc_b = _CRC.pack(hcrc)
    rcrc = _crc32(payload, _crc32(hcrc_b, hcrc))  # = crc32(head + hcrc_b + payload)
    return head + hcrc_b + _CRC.pack(rcrc)


def _stream_specs(metadata: dict) -> dict[str, tuple[int, int, np.dtype]]:
    """Validate ``metadata["streams"]``; return name -> (id, n_channels, dtype)."""
    streams = metadata.get("streams")
    if not isinstance(streams, dict) or not streams:
        raise ValueError("metadata['streams'] must be a non-empty dict: "
                         "name -> {'n_channels': int, 'dtype': str, 'rate_hz': float}")
    out = {}
    for sid, (name, spec) in enumerate(streams.items()):
        where = f"metadata['streams'][{name!r}]"
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: stream names must be non-empty strings")
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a dict with n_channels and dtype")
        try:
            nch = int(spec["n_channels"])
            dt = np.dtype(spec["dtype"]).newbyteorder("<")
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{where}: needs 'n_channels' and 'dtype' ({exc})") from None
        if nch < 1:
            raise ValueError(f"{where}['n_channels']: expected >= 1, got {nch}")
        if dt not in _CODE_OF:
            raise ValueError(f"{where}['dtype']: {dt.name} is not supported; expected one of "
                             + ", ".join(sorted(d.name for d in _CODE_OF)))
        out[name] = (sid, nch, dt)
    return out


# ----------------------------------------------------------------- writer


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
            fsync_dir(os.path.dirname(os.path.abspath(self.directory)))
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
        end = self._offset & ~(_PAGE - 1)
        if _start_writeback is None or end - self._wb_from < _WRITEBACK_BYTES:
            return
        _start_writeback(self._fd, self._wb_from, end - self._wb_from)  # an optimisation: errors ignored
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
            if _FADV_DONTNEED is not None and (keep is None or keep[0] != self._path):
                try:  # all of it is on stable storage now: see _drop_synced
                    os.posix_fadvise(self._fd, 0, 0, _FADV_DONTNEED)
                except OSError:
                    pass
            os.close(self._fd)
            self._fd = None
            self._tail_dirty = False
        self._open_segment(self._segment + 1)

    def _open_segment(self, number: int) -> None:
        """Create segment ``number`` with its header record; caller holds the lock.

        The header is written to a temporary name, synced and renamed, so a
        crash never leaves a segment file without a complete header.
        """
        path = os.path.join(self.directory, segment_name(number))
        tmp = path + ".tmp"
        seg_json, rig_b, rig_hash = self._seg_parts
        payload = (_SEG.pack(SEGMENT_MAGIC, FORMAT_VERSION, 0, number, rig_hash, len(seg_json), len(rig_b))
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
            self._write_fd_all(fd, record)
            os.fsync(fd)
            os.rename(tmp, path)
            made = path
            fsync_dir(self.directory)
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

    @staticmethod
    def _write_fd_all(fd: int, data: bytes) -> None:
        mv = memoryview(data)
        while len(mv):
            k = os.write(fd, mv)
            if k <= 0:
                raise OSError(_errno.ENOSPC, os.strerror(_errno.ENOSPC))
            mv = mv[k:]

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
        if offset > start and _FADV_DONTNEED is not None:
            try:
                os.posix_fadvise(fd, start, offset - start, _FADV_DONTNEED)
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


# ----------------------------------------------------------------- reader


@dataclass(frozen=True, slots=True)
class DataRecord:
    """Rows of one stream: ``rows[k]`` is sample ``first_index + k``."""
    seq: int
    stream: str
    first_index: int
    rows: np.ndarray
    time_ns: int
    segment: str
    offset: int


@dataclass(frozen=True, slots=True)
class GapRecord:
    """Rows ``[first_index, first_index + count)`` of ``stream`` were lost, for ``reason``."""
    seq: int
    stream: str
    first_index: int
    count: int
    reason: str
    time_ns: int
    segment: str
    offset: int


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event dict (kind, stream, sample, message, channel)."""
    seq: int
    event: dict
    time_ns: int
    segment: str
    offset: int


@dataclass(frozen=True, slots=True)
class MetaRecord:
    """A metadata dict (end of run, final counts, notes)."""
    seq: int
    meta: dict
    time_ns: int
    segment: str
    offset: int


@dataclass(frozen=True, slots=True)
class Damage:
    """Where and why reading stopped: ``segment`` file name, byte ``offset``, ``reason``."""
    segment: str
    offset: int
    reason: str


@dataclass(slots=True)
class _Entry:
    rtype: int
    seq: int
    stream: str | None
    first: int
    count: int
    nch: int
    dtype: np.dtype | None
    plen: int
    time_ns: int
    seed: int       # crc32 of header bytes 0..59: the record CRC continues from it
    crc: int        # record CRC, to check the payload again when it is read
    segment: str
    offset: int
    text: str = ""  # GAP reason / EVENT / META JSON


@dataclass
class SegmentInfo:
    """One readable segment: file ``name``, ``number``, file ``size``, end of its
    valid records ``valid_end`` (== size unless damaged), first and last sequence."""
    name: str
    number: int
    size: int
    valid_end: int
    first_seq: int
    last_seq: int


class Journal:
    """A validated journal, as returned by :func:`read_journal`.

    Attributes
    ----------
    directory : str
    metadata : dict
        Run metadata given to the writer (from the first valid segment).
    rig_text : str
    rig_sha256 : str
        Hex digest, checked against ``rig_text``.
    journal_id : str
    streams : dict
        name -> ``{"id", "n_channels", "dtype"}``.
    damage : list of Damage
        Torn or corrupt tails, unreadable segments, sequence discontinuities;
        empty for a journal that was closed cleanly.
    segments : list
        Per readable segment: name, number, size, valid_end, first/last seq.

    Iterating yields the valid records in sequence order, reading each
    payload again from disk (so a large journal is never held in memory) and
    checking its CRC again.
    """

    def __init__(self, directory: str):
        self.directory = directory
        self.metadata: dict = {}
        self.rig_text = ""
        self.rig_sha256 = ""
        self.journal_id = ""
        self.streams: dict = {}
        self.format_version = FORMAT_VERSION
        self.damage: list[Damage] = []
        self.segments: list[SegmentInfo] = []
        self._entries: list[_Entry] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[DataRecord | GapRecord | EventRecord | MetaRecord]:
        fds: dict[str, int] = {}
        try:
            for e in self._entries:
                fd = fds.get(e.segment)
                if fd is None:
                    fd = fds[e.segment] = os.open(os.path.join(self.directory, e.segment), os.O_RDONLY)
                yield self._materialise(fd, e)
        finally:
            for fd in fds.values():
                os.close(fd)

    def records(self, stream: str | None = None, kind: type | None = None) -> list:
        """Return the valid records as a list, optionally of one stream and/or one record class."""
        out = []
        for r in self:
            if kind is not None and not isinstance(r, kind):
                continue
            if stream is not None and getattr(r, "stream", None) != stream:
                continue
            out.append(r)
        return out

    def _materialise(self, fd: int, e: _Entry):
        return _materialise(fd, e, os.path.join(self.directory, e.segment))


def _materialise(fd: int, e: _Entry, path: str):
    """Read an entry's record from ``fd``; a DATA payload is checked against its CRC again."""
    if e.rtype == DATA:
        rows = np.empty((e.count, e.nch), dtype=e.dtype)
        n = os.preadv(fd, [rows], e.offset + HEADER_SIZE)
        if n != e.plen or _crc32(rows, e.seed) != e.crc:
            raise JournalReadError(_errno.EIO, f"record at offset {e.offset} changed since the "
                                   "journal was scanned, or is incomplete", path)
        if not rows.dtype.isnative:
            rows = rows.astype(rows.dtype.newbyteorder("="))
        return DataRecord(e.seq, e.stream, e.first, rows, e.time_ns, e.segment, e.offset)
    if e.rtype == GAP:
        return GapRecord(e.seq, e.stream, e.first, e.count, e.text, e.time_ns, e.segment, e.offset)
    if e.rtype == EVENT:
        return EventRecord(e.seq, json.loads(e.text), e.time_ns, e.segment, e.offset)
    return MetaRecord(e.seq, json.loads(e.text), e.time_ns, e.segment, e.offset)


def read_journal(directory) -> Journal:
    """Scan and validate the journal in ``directory``.

    Each segment is read up to its first invalid record (bad magic, short
    header, short payload, header or record CRC mismatch, sequence
    discontinuity, inconsistent fields); the rest of that segment is reported
    in :attr:`Journal.damage` and ignored. Later segments are still read if
    their header is valid, and a sequence discontinuity between segments is
    reported too. No row is ever invented.

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    Journal

    Raises
    ------
    FileNotFoundError
        No journal segment in ``directory``.
    JournalFormatError
        No segment has a valid header, or the journal was written by a newer
        format version than this reader knows.
    """
    directory = os.fspath(directory)
    names = sorted((int(m.group(1)), n) for n in os.listdir(directory) if (m := _SEGMENT_RE.match(n)))
    if not names:
        raise FileNotFoundError(_errno.ENOENT, "no journal segments (journal-*.hfj)", directory)
    j = Journal(directory)
    expected_seq = None
    prev_number = 0
    for number, name in names:
        if number != prev_number + 1:
            missing = ", ".join(segment_name(k) for k in range(prev_number + 1, number))
            j.damage.append(Damage(name, 0, f"segment(s) missing before this one: {missing}"))
        prev_number = number
        expected_seq = _scan_segment(j, name, number, expected_seq)
    if not j.segments:
        reasons = "; ".join(f"{d.segment}@{d.offset}: {d.reason}" for d in j.damage)
        raise JournalFormatError(f"{directory}: no segment with a valid header ({reasons})")
    return j


class _Reader:
    """Positional reads of one segment file."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        self.buf = bytearray(1 << 20)

    def header(self, offset: int) -> bytes:
        return os.pread(self.fd, HEADER_SIZE, offset)

    def read(self, offset: int, n: int) -> memoryview:
        """Read into a reused buffer: the view is valid until the next read."""
        if n > len(self.buf):
            self.buf = bytearray(n)
        mv = memoryview(self.buf)[:n]
        got = os.preadv(self.fd, [mv], offset)
        return mv[:got]

    def close(self):
        os.close(self.fd)


def _parse_header(b) -> tuple:
    return _HEAD.unpack_from(b) + _CRC.unpack_from(b, 56) + _CRC.unpack_from(b, 60)


def _check_header(b, offset: int, size: int) -> tuple[tuple | None, str]:
    """Validate a record header at ``offset``; return (fields, "") or (None, reason)."""
    if len(b) < HEADER_SIZE:
        return None, f"short header ({len(b)} of {HEADER_SIZE} bytes)"
    if b[:4] != RECORD_MAGIC:
        return None, "bad magic"
    f = _parse_header(b)
    if _crc32(b[:56]) != f[11]:
        return None, "header CRC mismatch"
    if f[9] > _MAX_PAYLOAD:
        return None, f"implausible payload length {f[9]}"
    if offset + HEADER_SIZE + f[9] > size:
        return None, f"short payload ({size - offset - HEADER_SIZE} of {f[9]} bytes)"
    return f, ""


def _zero_tail(r: _Reader, offset: int) -> bool:
    pos = offset
    while pos < r.size:
        chunk = r.read(pos, min(1 << 20, r.size - pos))
        if bytes(chunk).count(0) != len(chunk):
            return False
        pos += len(chunk)
    return True


def _scan_segment(j: Journal, name: str, number: int, expected_seq: int | None) -> int | None:
    """Validate one segment, append its entries to ``j``; return the next expected seq."""
    r = _Reader(os.path.join(j.directory, name))
    try:
        # --- segment header record
        b = r.header(0)
        f, why = _check_header(b, 0, r.size)
        if f is None:
            j.damage.append(Damage(name, 0, f"unreadable segment header: {why}"))
            return expected_seq
        _, rtype, _, _, seq, _, _, first, _, plen, _, _, rcrc = f
        if rtype != SEGMENT:
            j.damage.append(Damage(name, 0, f"unreadable segment header: record type {rtype}"))
            return expected_seq
        payload = bytes(r.read(HEADER_SIZE, plen))
        if _crc32(payload, _crc32(b[:60])) != rcrc:
            j.damage.append(Damage(name, 0, "unreadable segment header: CRC mismatch"))
            return expected_seq
        if len(payload) < _SEG.size:
            j.damage.append(Damage(name, 0, "unreadable segment header: too short"))
            return expected_seq
        magic, version, _, seg_no, rig_hash, jlen, rlen = _SEG.unpack_from(payload)
        if magic != SEGMENT_MAGIC:
            j.damage.append(Damage(name, 0, "unreadable segment header: bad segment magic"))
            return expected_seq
        if version > FORMAT_VERSION:
            raise JournalFormatError(
                f"{os.path.join(j.directory, name)}: journal format version {version} is newer than "
                f"this reader ({FORMAT_VERSION}); upgrade hotfire to read it")
        if seg_no != number or first != number or _SEG.size + jlen + rlen != len(payload):
            j.damage.append(Damage(name, 0, f"unreadable segment header: inconsistent "
                                             f"(segment number {seg_no}, lengths)"))
            return expected_seq
        info = json.loads(payload[_SEG.size:_SEG.size + jlen].decode("utf-8"))
        rig_b = payload[_SEG.size + jlen:]
        if hashlib.sha256(rig_b).digest() != rig_hash:
            j.damage.append(Damage(name, 0, "unreadable segment header: rig text sha256 mismatch"))
            return expected_seq
        if not j.segments:
            j.metadata = info["metadata"]
            j.rig_text = rig_b.decode("utf-8")
            j.rig_sha256 = rig_hash.hex()
            j.journal_id = info["journal_id"]
            j.streams = info["streams"]
            j.format_version = version
        elif info["journal_id"] != j.journal_id:
            j.damage.append(Damage(name, 0, f"segment belongs to another journal ({info['journal_id']})"))
            return expected_seq
        if expected_seq is not None and seq != expected_seq:
            j.damage.append(Damage(name, 0, f"sequence discontinuity: expected {expected_seq}, "
                                            f"found {seq} ({seq - expected_seq} records missing)"))
        by_id = {s["id"]: (sname, s["n_channels"], np.dtype(s["dtype"])) for sname, s in info["streams"].items()}
        seg = SegmentInfo(name, number, r.size, HEADER_SIZE + plen, seq, seq)
        j.segments.append(seg)

        # --- records
        offset = HEADER_SIZE + plen
        next_seq = seq + 1
        while offset < r.size:
            b = r.header(offset)
            f, why = _check_header(b, offset, r.size)
            if f is None:
                if why == "bad magic" and _zero_tail(r, offset):
                    why = f"zero-filled tail ({r.size - offset} bytes)"
                j.damage.append(Damage(name, offset, why))
                break
            _, rtype, dcode, _, seq, sid, nch, first, count, plen, tns, _, rcrc = f
            head_crc = _crc32(b[:60])
            payload = r.read(offset + HEADER_SIZE, plen)
            if _crc32(payload, head_crc) != rcrc:
                j.damage.append(Damage(name, offset, "CRC mismatch"))
                break
            if seq != next_seq:
                j.damage.append(Damage(name, offset, f"sequence discontinuity: expected {next_seq}, found {seq}"))
                break
            e, why = _entry(rtype, dcode, seq, sid, nch, first, count, plen, tns, head_crc, rcrc,
                            payload, by_id, name, offset)
            if e is None:
                j.damage.append(Damage(name, offset, f"inconsistent record: {why}"))
                break
            j._entries.append(e)
            seg.last_seq = seq
            next_seq = seq + 1
            offset += HEADER_SIZE + plen
        seg.valid_end = offset
        return next_seq
    finally:
        r.close()


def _entry(rtype, dcode, seq, sid, nch, first, count, plen, tns, head_crc, rcrc, payload,
           by_id, name, offset) -> tuple[_Entry | None, str]:
    """Check a CRC-valid record's fields against each other; build its index entry."""
    if rtype == DATA:
        if sid not in by_id:
            return None, f"unknown stream id {sid}"
        sname, snch, sdt = by_id[sid]
        dt = DTYPE_CODES.get(dcode)
        if dt is None or dt != sdt or nch != snch:
            return None, f"stream {sname!r}: dtype code {dcode} / {nch} channels do not match its spec"
        if count * nch * dt.itemsize != plen or count < 1 or first < 0:
            return None, f"stream {sname!r}: {count} rows x {nch} x {dt.itemsize} B != payload {plen} B"
        # The entry keeps the CRC of the header as the seed and the record CRC
        # (in .text), so iteration can verify the payload again.
        return _Entry(DATA, seq, sname, first, count, nch, dt, plen, tns, head_crc, rcrc, name, offset), ""
    if rtype == GAP:
        if sid not in by_id:
            return None, f"unknown stream id {sid}"
        if count < 1 or first < 0:
            return None, f"gap of {count} rows at {first}"
        try:
            reason = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            return None, "gap reason is not UTF-8"
        return _Entry(GAP, seq, by_id[sid][0], first, count, 0, None, plen, tns, 0, rcrc, name, offset, reason), ""
    if rtype in (EVENT, META):
        try:
            text = bytes(payload).decode("utf-8")
            obj = json.loads(text)
        except (UnicodeDecodeError, ValueError):
            return None, "payload is not JSON"
        if not isinstance(obj, dict):
            return None, "payload is not a JSON object"
        return _Entry(rtype, seq, None, 0, 0, 0, None, plen, tns, 0, rcrc, name, offset, text), ""
    return None, f"unknown record type {rtype}"


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """One record of a journal: segment file ``path``, byte ``offset``, ``size`` (header + payload),
    ``seq``, and the wall time ``time_ns`` in its header."""
    path: str
    offset: int
    size: int
    seq: int
    time_ns: int = 0


def read_record(path, offset: int, streams: dict, fd: int | None = None):
    """Read and validate the single record at ``offset`` of segment file ``path``.

    Checks the magic, both CRCs and the fields against ``streams``, as
    :func:`read_journal` does; the sequence number is returned, not checked.
    Used to produce the run file from the journal while it is written.

    Parameters
    ----------
    path : str or os.PathLike
        The segment file.
    offset : int
        Byte offset of the record (a :class:`RecordLocation`).
    streams : dict
        name -> ``{"id", "n_channels", "dtype"}`` (``JournalWriter.streams``
        or ``Journal.streams``).
    fd : int, optional
        An open descriptor of ``path`` to read from instead of opening it.

    Returns
    -------
    DataRecord, GapRecord, EventRecord or MetaRecord

    Raises
    ------
    JournalReadError
        The record is incomplete, damaged or inconsistent (the message says why).
    """
    path = os.fspath(path)
    own = fd is None
    if own:
        fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        b = os.pread(fd, HEADER_SIZE, offset)
        f, why = _check_header(b, offset, size)
        if f is None:
            raise JournalReadError(_errno.EIO, f"record at offset {offset}: {why}", path)
        _, rtype, dcode, _, seq, sid, nch, first, count, plen, tns, _, rcrc = f
        head_crc = _crc32(b[:60])
        by_id = {s["id"]: (n, s["n_channels"], np.dtype(s["dtype"])) for n, s in streams.items()}
        if rtype == DATA:
            # Read the rows straight into their array; check the CRC there.
            e, why = _entry(rtype, dcode, seq, sid, nch, first, count, plen, tns, head_crc, rcrc,
                            b"", by_id, os.path.basename(path), offset)
            if e is None:
                raise JournalReadError(_errno.EIO, f"record at offset {offset}: inconsistent record: {why}", path)
            return _materialise(fd, e, path)
        payload = os.pread(fd, plen, offset + HEADER_SIZE)
        if len(payload) != plen or _crc32(payload, head_crc) != rcrc:
            raise JournalReadError(_errno.EIO, f"record at offset {offset}: CRC mismatch", path)
        e, why = _entry(rtype, dcode, seq, sid, nch, first, count, plen, tns, head_crc, rcrc,
                        payload, by_id, os.path.basename(path), offset)
        if e is None:
            raise JournalReadError(_errno.EIO, f"record at offset {offset}: inconsistent record: {why}", path)
        return _materialise(fd, e, path)
    finally:
        if own:
            os.close(fd)


# ------------------------------------------------------ per-stream assembly


@dataclass
class StreamRows:
    """All valid rows of one stream, concatenated in index order, with what is missing.

    Attributes
    ----------
    stream : str
    rows : numpy.ndarray
        ``(n, n_channels)``: only rows read from the journal; missing rows are
        *not* filled in, so ``rows[k]`` is sample ``index[k]``.
    index : numpy.ndarray
        int64 absolute sample index of each row.
    runs : list of (first_index, count)
        Contiguous ranges covered by ``rows``.
    gaps : list of (first_index, count, reason)
        Ranges not covered, from index 0 to the last row or declared gap: a
        GAP record's reason, or ``"not in journal"`` for rows missing without
        a GAP record (lost to damage, or never recorded).
    overlaps : list of (first_index, count, identical)
        Rows written more than once (e.g. re-sent after a write error); the
        first copy is kept. ``identical`` is False if the copies differ.
    """
    stream: str
    rows: np.ndarray
    index: np.ndarray
    runs: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    overlaps: list = field(default_factory=list)

    @property
    def first_index(self) -> int:
        """Index of the first row (0 if there are no rows)."""
        return int(self.index[0]) if len(self.index) else 0

    @property
    def end_index(self) -> int:
        """One past the index of the last row."""
        return int(self.index[-1]) + 1 if len(self.index) else 0

    @property
    def contiguous(self) -> bool:
        """True if ``rows`` covers ``[0, end_index)`` with no gap."""
        return not self.gaps and self.first_index == 0


def stream_rows(source, stream: str) -> StreamRows:
    """Assemble one stream's valid rows, in index order, with its gaps.

    Parameters
    ----------
    source : str, os.PathLike or Journal
        A journal directory or an already read :class:`Journal`.
    stream : str

    Returns
    -------
    StreamRows

    Raises
    ------
    KeyError
        ``stream`` is not in the journal.
    """
    j = source if isinstance(source, Journal) else read_journal(source)
    if stream not in j.streams:
        raise KeyError(f"stream {stream!r} not in journal; streams: {', '.join(j.streams)}")
    spec = j.streams[stream]
    dt = np.dtype(spec["dtype"]).newbyteorder("=")
    data = sorted(((r.first_index, r.seq, r) for r in j.records(stream=stream, kind=DataRecord)),
                  key=lambda t: (t[0], t[1]))
    declared = sorted((r.first_index, r.count, r.reason) for r in j.records(stream=stream, kind=GapRecord))
    pieces, runs, overlaps = [], [], []
    end = None
    for first, _, r in data:
        rows = r.rows
        if end is not None and first < end:
            k = min(end - first, len(rows))
            prev = _rows_at(pieces, runs, first, k)
            overlaps.append((first, k, bool(np.array_equal(prev.view(np.uint8), rows[:k].view(np.uint8)))))
            rows, first = rows[k:], first + k
            if len(rows) == 0:
                continue
        if runs and runs[-1][0] + runs[-1][1] == first:
            runs[-1] = (runs[-1][0], runs[-1][1] + len(rows))
        else:
            runs.append((first, len(rows)))
        pieces.append((first, rows))
        end = first + len(rows)
    gaps = []
    pos = 0
    for first, count in runs:
        if first > pos:
            gaps.extend(explain_missing(pos, first, declared))
        pos = first + count
    tail = max((f + c for f, c, _ in declared), default=0)
    if tail > pos:  # declared gaps after the last row (e.g. an overrun at the end)
        gaps.extend(explain_missing(pos, tail, declared))
    nch = spec["n_channels"]
    rows = np.concatenate([p for _, p in pieces]) if pieces else np.empty((0, nch), dt)
    index = (np.concatenate([np.arange(f, f + len(p), dtype=np.int64) for f, p in pieces])
             if pieces else np.empty(0, np.int64))
    return StreamRows(stream, rows, index, runs, gaps, overlaps)


def _rows_at(pieces, runs, first, k) -> np.ndarray:
    for f, p in reversed(pieces):
        if f <= first < f + len(p):
            return p[first - f:first - f + k]
    raise AssertionError("overlap outside the assembled rows")


def explain_missing(lo: int, hi: int, declared) -> list:
    """Split the missing range [lo, hi) into declared GAP reasons and 'not in journal'."""
    out, pos = [], lo
    for first, count, reason in sorted(declared):
        a, b = max(first, pos), min(first + count, hi)
        if a >= b:
            continue
        if a > pos:
            out.append((pos, a - pos, "not in journal"))
        out.append((a, b - a, reason))
        pos = b
    if pos < hi:
        out.append((pos, hi - pos, "not in journal"))
    return out
