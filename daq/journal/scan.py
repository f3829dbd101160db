"""The validating scan of one segment file, resynchronising after damage.

A record is trusted only if its magic, header CRC, length, record CRC and
fields all check. After a record that fails, the scan looks for the next
place where a whole valid record starts (magic + header CRC + record CRC +
consistent fields), from the byte after the damaged place on (a damaged
length field cannot mislead it): a damaged byte costs only the record it is in. A segment header damaged beyond use is
replaced by another header of the same journal (another segment's, or the
copy the writer keeps in ``journal-header.hfj``), and the segment's records
are found by the same search.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np

from hotfire.daq.journal import format as _fmt
from hotfire.daq.journal.format import (
    _SEG, HEADER_SIZE, RECORD_MAGIC, SEGMENT, SEGMENT_MAGIC, JournalFormatError, _check_header, _crc32,
)
from hotfire.daq.journal.records import Damage, SegmentInfo, _Entry, _entry

#: bytes searched per read while looking for the next valid record
_SCAN_BYTES = 1 << 20


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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass(frozen=True)
class SegmentHeader:
    """What a valid SEGMENT record says: the journal's description and the segment's first seq."""
    info: dict          # journal_id, metadata, streams, checksum
    rig_text: str
    rig_sha256: str
    version: int
    number: int
    seq: int
    end: int            # offset of the first record after it

    @property
    def by_id(self) -> dict:
        return {s["id"]: (name, s["n_channels"], np.dtype(s["dtype"])) for name, s in self.info["streams"].items()}


def read_segment_header(r: _Reader, path: str, number: int | None) -> tuple[SegmentHeader | None, str]:
    """The SEGMENT record at offset 0 of ``r``, or (None, why it cannot be used).

    ``number`` None accepts any segment number (the writer's header copy).

    Raises
    ------
    JournalFormatError
        The header is valid and of a newer format version.
    """
    b = r.header(0)
    f, why = _check_header(b, 0, r.size)
    if f is None:
        return None, why
    _, rtype, _, _, seq, _, _, first, _, plen, _, _, rcrc = f
    if rtype != SEGMENT:
        return None, f"record type {rtype}"
    payload = bytes(r.read(HEADER_SIZE, plen))
    if _crc32(payload, _crc32(b[:60])) != rcrc:
        return None, "CRC mismatch"
    if len(payload) < _SEG.size:
        return None, "too short"
    magic, version, _, seg_no, rig_hash, jlen, rlen = _SEG.unpack_from(payload)
    if magic != SEGMENT_MAGIC:
        return None, "bad segment magic"
    if version > _fmt.FORMAT_VERSION:
        raise JournalFormatError(
            f"{path}: journal format version {version} is newer than "
            f"this reader ({_fmt.FORMAT_VERSION}); upgrade hotfire to read it")
    if (number is not None and (seg_no != number or first != number)) or _SEG.size + jlen + rlen != len(payload):
        return None, f"inconsistent (segment number {seg_no}, lengths)"
    rig_b = payload[_SEG.size + jlen:]
    if hashlib.sha256(rig_b).digest() != rig_hash:
        return None, "rig text sha256 mismatch"
    try:  # CRC-valid but not what a writer writes: treat as unusable, never crash
        info = json.loads(payload[_SEG.size:_SEG.size + jlen].decode("utf-8"))
        rig_text = rig_b.decode("utf-8")
        for s in info["streams"].values():
            int(s["id"]), int(s["n_channels"]), np.dtype(s["dtype"])
        str(info["journal_id"]), info["metadata"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, "unreadable JSON"
    return SegmentHeader(info, rig_text, rig_hash.hex(), version, seg_no, seq, HEADER_SIZE + plen), ""


def _record_at(r: _Reader, offset: int, by_id: dict, name: str) -> tuple[_Entry | None, int, str]:
    """The record at ``offset`` if it is whole and valid: (entry, end offset, ""), else (None, 0, reason)."""
    b = r.header(offset)
    f, why = _check_header(b, offset, r.size)
    if f is None:
        return None, 0, why
    _, rtype, dcode, _, seq, sid, nch, first, count, plen, tns, _, rcrc = f
    end = offset + HEADER_SIZE + plen
    head_crc = _crc32(b[:60])
    payload = r.read(offset + HEADER_SIZE, plen)
    if _crc32(payload, head_crc) != rcrc:
        return None, 0, "CRC mismatch"
    e, why = _entry(rtype, dcode, seq, sid, nch, first, count, plen, tns, head_crc, rcrc,
                    payload, by_id, name, offset)
    if e is None:
        return None, 0, f"inconsistent record: {why}"
    return e, end, ""


def _next_valid(r: _Reader, start: int, by_id: dict, name: str) -> tuple[int, _Entry | None, int]:
    """The first offset >= ``start`` where a valid record starts: (offset, entry, end), or (-1, None, 0)."""
    pos = start
    while pos <= r.size - HEADER_SIZE:
        chunk = os.pread(r.fd, min(_SCAN_BYTES, r.size - pos), pos)
        if not chunk:
            break
        k = chunk.find(RECORD_MAGIC)
        while k >= 0:
            e, end, _ = _record_at(r, pos + k, by_id, name)
            if e is not None:
                return pos + k, e, end
            k = chunk.find(RECORD_MAGIC, k + 1)
        pos += max(1, len(chunk) - len(RECORD_MAGIC) + 1)  # a magic across the boundary is found next round
    return -1, None, 0


def _zero_tail(r: _Reader, offset: int) -> bool:
    pos = offset
    while pos < r.size:
        chunk = os.pread(r.fd, min(_SCAN_BYTES, r.size - pos), pos)
        if not chunk or chunk.count(0) != len(chunk):
            return False
        pos += len(chunk)
    return True


def scan_records(r: _Reader, name: str, offset: int, next_seq: int | None, by_id: dict,
                 entries: list, damage: list, lost_why: str = "") -> tuple[SegmentInfo, int | None]:
    """Validate the records of one segment from ``offset``; append entries and damage.

    ``next_seq`` is the sequence number the first record should carry (None:
    unknown, for a segment whose header was unusable); ``lost_why``, if set,
    says the bytes before ``offset`` are damaged (a lost header), and the
    scan starts by searching for the first valid record.

    Returns the segment's :class:`SegmentInfo` (``first_seq``/``last_seq`` of
    the records found) and the sequence number expected next.
    """
    seg = SegmentInfo(name, 0, r.size, offset, -1, -1)
    pending = None  # (offset, reason) of damage not yet reported: how many records it cost is known later
    if lost_why:
        pending = (0, lost_why)
    while offset < r.size or pending is not None:
        if pending is not None:
            at, why = pending
            nxt, e, end = _next_valid(r, offset, by_id, name)
            if e is None:
                if why == "bad magic" and _zero_tail(r, at):
                    why = f"zero-filled tail ({r.size - at} bytes)"
                damage.append(Damage(name, at, why))
                break
            lost = f", {e.seq - next_seq} record(s) lost" if next_seq is not None and e.seq > next_seq else ""
            damage.append(Damage(name, at, f"{why}; resynchronised at offset {nxt} "
                                           f"({nxt - at} bytes skipped{lost})"))
            pending, offset = None, nxt
            if next_seq is not None and e.seq < next_seq:
                offset = end  # an older record (a replay): never read twice
                damage.append(Damage(name, nxt, f"sequence discontinuity: expected {next_seq}, found {e.seq} "
                                                "(a record already read)"))
                continue
        else:
            e, end, why = _record_at(r, offset, by_id, name)
            if e is None:
                pending = (offset, why)
                offset += 1
                continue
            if next_seq is not None and e.seq != next_seq:
                if e.seq < next_seq:
                    damage.append(Damage(name, offset, f"sequence discontinuity: expected {next_seq}, found {e.seq} "
                                                       "(a record already read)"))
                    offset = end
                    continue
                damage.append(Damage(name, offset, f"sequence discontinuity: expected {next_seq}, found {e.seq} "
                                                   f"({e.seq - next_seq} records missing)"))
        entries.append(e)
        if seg.first_seq < 0:
            seg.first_seq = e.seq
        seg.last_seq = e.seq
        next_seq = e.seq + 1
        offset = end
        seg.valid_end = end
    return seg, next_seq
