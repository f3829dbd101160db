"""Reading a journal: the validating scan of its segments, and single records.

See docs/journal-format.md, "Reading and recovery".
"""
from __future__ import annotations

import errno as _errno
import os
from collections.abc import Iterator

import numpy as np


from hotfire.daq.journal import format as _fmt
from hotfire.daq.journal.format import (
    _SEGMENT_RE, DATA, HEADER_COPY, HEADER_SIZE, JournalFormatError, JournalReadError, _check_header, _crc32, segment_name,
)
from hotfire.daq.journal.records import (
    Damage, DataRecord, EventRecord, GapRecord, MetaRecord, SegmentInfo, _Entry, _entry, _materialise,
)
from hotfire.daq.journal.scan import _Reader, read_segment_header, scan_records


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

    Every record is checked (magic, header CRC, length, record CRC, sequence
    number, fields against the stream spec). After a record that fails, the
    scan resynchronises on the next valid record, so damage costs only the
    records it touches; a segment header that cannot be used is replaced by
    another header of the journal (another segment's, or the writer's copy in
    ``journal-header.hfj``). Every damaged place, lost segment and sequence
    discontinuity is reported in :attr:`Journal.damage`. No row is ever invented.

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
        No segment has a valid header (and there is no valid header copy), or
        the journal was written by a newer format version than this reader knows.
    """
    directory = os.fspath(directory)
    names = sorted((int(m.group(1)), n) for n in os.listdir(directory) if (m := _SEGMENT_RE.match(n)))
    if not names:
        raise FileNotFoundError(_errno.ENOENT, "no journal segments (journal-*.hfj)", directory)
    j = Journal(directory)
    headers = {}
    for number, name in names:
        path = os.path.join(directory, name)
        with _Reader(path) as r:
            headers[name] = read_segment_header(r, path, number)
    base = next((h for h, _ in headers.values() if h is not None), None)
    copy = os.path.join(directory, HEADER_COPY)
    if base is None and os.path.exists(copy):
        with _Reader(copy) as r:
            base, why = read_segment_header(r, copy, None)
        if base is None:
            j.damage.append(Damage(HEADER_COPY, 0, f"unreadable header copy: {why}"))
    if base is None:
        reasons = "; ".join([f"{n}@0: unreadable segment header: {why}" for n, (_, why) in headers.items()]
                            + [f"{d.segment}@{d.offset}: {d.reason}" for d in j.damage])
        raise JournalFormatError(f"{directory}: no segment with a valid header ({reasons})")
    j.metadata, j.rig_text, j.rig_sha256 = base.info["metadata"], base.rig_text, base.rig_sha256
    j.journal_id, j.streams, j.format_version = base.info["journal_id"], base.info["streams"], base.version
    expected_seq = None
    prev_number = 0
    for number, name in names:
        if number != prev_number + 1:
            missing = ", ".join(segment_name(k) for k in range(prev_number + 1, number))
            j.damage.append(Damage(name, 0, f"segment(s) missing before this one: {missing}"))
        prev_number = number
        h, why = headers[name]
        with _Reader(os.path.join(directory, name)) as r:
            if h is not None:
                if h.info["journal_id"] != j.journal_id:
                    j.damage.append(Damage(name, 0, f"segment belongs to another journal ({h.info['journal_id']})"))
                    continue
                if expected_seq is not None and h.seq != expected_seq:
                    j.damage.append(Damage(name, 0, f"sequence discontinuity: expected {expected_seq}, "
                                                    f"found {h.seq} ({h.seq - expected_seq} records missing)"))
                seg, nxt = scan_records(r, name, h.end, h.seq + 1, h.by_id, j._entries, j.damage)
                seg.first_seq, seg.last_seq = h.seq, max(seg.last_seq, h.seq)
            else:
                # Rebuilt: the journal's description from ``base``; the records found by search.
                start = expected_seq if expected_seq is not None else (0 if number == 1 else None)
                seg, nxt = scan_records(r, name, 0, None if start is None else start + 1, base.by_id,
                                        j._entries, j.damage, lost_why=f"unreadable segment header: {why}")
                if seg.first_seq < 0:
                    continue
        seg.number = number
        j.segments.append(seg)
        expected_seq = nxt
    return j


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

