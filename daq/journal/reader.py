"""Reading a journal: the validating scan of its segments, and single records.

See docs/journal-format.md, "Reading and recovery".
"""
from __future__ import annotations

import errno as _errno
import hashlib
import json
import os
from collections.abc import Iterator

import numpy as np

from hotfire.daq.journal import format as _fmt
from hotfire.daq.journal.format import (
    _SEG, _SEGMENT_RE, DATA, HEADER_SIZE, RECORD_MAGIC, SEGMENT, SEGMENT_MAGIC,
    JournalFormatError, JournalReadError, _check_header, _crc32, segment_name,
)
from hotfire.daq.journal.records import (
    Damage, DataRecord, EventRecord, GapRecord, MetaRecord, SegmentInfo, _Entry, _entry, _materialise,
)


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
        self.format_version = _fmt.FORMAT_VERSION
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
        if version > _fmt.FORMAT_VERSION:
            raise JournalFormatError(
                f"{os.path.join(j.directory, name)}: journal format version {version} is newer than "
                f"this reader ({_fmt.FORMAT_VERSION}); upgrade hotfire to read it")
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

