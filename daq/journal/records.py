"""Journal records as the reader returns them, and the check of one record's fields.

A record that passed its CRCs is still checked against the stream spec of
its segment header (:func:`_entry`) before it is trusted; :func:`_materialise`
reads its payload again and checks the CRC once more.
"""
from __future__ import annotations

import errno as _errno
import json
import os
from dataclasses import dataclass

import numpy as np

from hotfire.daq.journal.format import (
    DATA, DTYPE_CODES, EVENT, GAP, HEADER_SIZE, META, JournalReadError, _crc32,
)


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
