"""The journal's validating scan (``daq/journal/scan.py``) on small hand-made damage.

Every expected offset, byte count and sequence number here is computed from the
record layout (a 64-byte header, then ``rows x channels x 2`` bytes of int16), by a
walk of the undamaged file that trusts the framing and checks nothing: the reader
must report exactly where it lost sync, how many bytes it skipped and how many
records were lost, and return every record the damage did not touch.
"""
from __future__ import annotations

import dataclasses
import json
import os
import struct

import numpy as np
import pytest

from hotfire.daq.journal import Damage, DataRecord, GapRecord, JournalWriter, read_journal, segment_name
from hotfire.daq.journal import scan
from hotfire.daq.journal.format import _SEG, NO_STREAM, SEGMENT, _pack_header

META = {"test_id": "T-scan", "streams": {"s": {"n_channels": 2, "dtype": "int16", "rate_hz": 1000.0}}}
RIG = '[rig]\nname = "scan"\n'
SEG1 = segment_name(1)


def rows(first: int, n: int) -> np.ndarray:
    return ((np.arange(2 * n).reshape(n, 2) + 7 * first) % 30000).astype(np.int16)


def write(d, sizes, gap_last=False, **kw) -> None:
    """DATA records of ``sizes`` rows (seq 1, 2, ...), and a GAP with an empty reason last if asked."""
    first = 0
    with JournalWriter(d, META, RIG, **kw) as w:
        for n in sizes:
            w.append("s", first, rows(first, n))
            first += n
        if gap_last:
            w.gap("s", first, 3, "")


def walk(path) -> list[tuple[int, int, int]]:
    """(offset, size, seq) of every record of a segment file, trusting the framing."""
    data = open(path, "rb").read()
    out, pos = [], 0
    while pos < len(data):
        seq, plen = struct.unpack_from("<Q", data, pos + 8)[0], struct.unpack_from("<Q", data, pos + 40)[0]
        out.append((pos, 64 + plen, seq))
        pos += 64 + plen
    return out


def splice(path, at: int, remove: int = 0, insert: bytes = b"") -> None:
    data = open(path, "rb").read()
    open(path, "wb").write(data[:at] + insert + data[at + remove:])


def seqs(j) -> list[int]:
    return [r.seq for r in j]


def test_a_damaged_payload_costs_its_record_and_says_how_much(tmp_path):
    write(tmp_path, [3, 5, 7, 2])
    recs = walk(tmp_path / SEG1)
    assert [s for _, _, s in recs] == [0, 1, 2, 3, 4]
    (o2, n2, _), (o3, _, _) = recs[2], recs[3]
    data = bytearray(open(tmp_path / SEG1, "rb").read())
    data[o2 + 64 + 3] ^= 0x10  # one bit of record 2's rows
    open(tmp_path / SEG1, "wb").write(bytes(data))
    j = read_journal(tmp_path)
    assert seqs(j) == [1, 3, 4]
    assert n2 == 64 + 5 * 2 * 2 and o3 - o2 == n2
    assert j.damage == [Damage(SEG1, o2, f"CRC mismatch; resynchronised at offset {o3} "
                                         f"({n2} bytes skipped, 1 record(s) lost)")]
    assert [(s.first_seq, s.last_seq, s.valid_end) for s in j.segments] == [(0, 4, os.path.getsize(tmp_path / SEG1))]


def test_one_inserted_byte_costs_no_record(tmp_path):
    write(tmp_path, [3, 5, 7, 2])
    o3 = walk(tmp_path / SEG1)[3][0]
    splice(tmp_path / SEG1, o3, insert=b"\x00")
    j = read_journal(tmp_path)
    assert seqs(j) == [1, 2, 3, 4]
    assert [r.first_index for r in j] == [0, 3, 8, 15]
    assert j.damage == [Damage(SEG1, o3, f"bad magic; resynchronised at offset {o3 + 1} (1 bytes skipped)")]


def test_a_zero_filled_tail_is_named_with_its_length(tmp_path):
    write(tmp_path, [3, 5])
    size = os.path.getsize(tmp_path / SEG1)
    splice(tmp_path / SEG1, size, insert=bytes(100))
    j = read_journal(tmp_path)
    assert seqs(j) == [1, 2]
    assert j.damage == [Damage(SEG1, size, "zero-filled tail (100 bytes)")]
    assert j.segments[0].valid_end == size


def test_a_missing_record_is_a_discontinuity_with_its_count(tmp_path):
    write(tmp_path, [3, 5, 7, 2])
    o1, n1, _ = walk(tmp_path / SEG1)[1]
    (o2, n2, _), (o3, n3, _) = walk(tmp_path / SEG1)[2:4]
    splice(tmp_path / SEG1, o2, remove=n2 + n3)  # records 2 and 3
    j = read_journal(tmp_path)
    assert seqs(j) == [1, 4]
    assert j.damage == [Damage(SEG1, o2, "sequence discontinuity: expected 2, found 4 (2 records missing)")]


def test_a_replayed_record_is_read_once_and_the_rest_still_read(tmp_path):
    write(tmp_path, [3, 5, 7, 2])
    recs = walk(tmp_path / SEG1)
    o2, n2, _ = recs[2]
    o4 = recs[4][0]
    copy = open(tmp_path / SEG1, "rb").read()[o2:o2 + n2]
    splice(tmp_path / SEG1, o4, insert=copy)  # record 2 again, before record 4
    j = read_journal(tmp_path)
    assert seqs(j) == [1, 2, 3, 4]
    assert j.damage == [Damage(SEG1, o4, "sequence discontinuity: expected 4, found 2 (a record already read)")]


def test_a_replayed_record_found_after_damage_is_skipped_too(tmp_path):
    write(tmp_path, [3, 5, 7, 2])
    recs = walk(tmp_path / SEG1)
    o2, n2, _ = recs[2]
    o4 = recs[4][0]
    copy = open(tmp_path / SEG1, "rb").read()[o2:o2 + n2]
    splice(tmp_path / SEG1, o4, insert=b"\xff" * 10 + copy)
    j = read_journal(tmp_path)
    assert seqs(j) == [1, 2, 3, 4]
    assert j.damage == [
        Damage(SEG1, o4, f"bad magic; resynchronised at offset {o4 + 10} (10 bytes skipped)"),
        Damage(SEG1, o4 + 10, "sequence discontinuity: expected 4, found 2 (a record already read)"),
    ]


def test_resync_at_every_alignment_with_the_read_chunk(tmp_path, monkeypatch):
    """With 67-byte reads, g garbage bytes before the last record put its magic at every
    position of a chunk, across the boundary too, and the record (a 64-byte GAP, the
    smallest there is, ending the file) starts exactly where a chunk would begin for
    g = 1, 65, 129."""
    monkeypatch.setattr(scan, "_SCAN_BYTES", 67)
    write(tmp_path / "clean", [3, 5], gap_last=True)
    clean = open(tmp_path / "clean" / SEG1, "rb").read()
    o_gap, n_gap, _ = walk(tmp_path / "clean" / SEG1)[3]
    assert n_gap == 64 and o_gap + n_gap == len(clean)
    for g in range(1, 2 * 67 + 2):
        d = tmp_path / f"g{g}"
        d.mkdir()
        (d / SEG1).write_bytes(clean[:o_gap] + b"\xee" * g + clean[o_gap:])
        j = read_journal(d)
        got = [(type(r), r.seq) for r in j]
        assert got == [(DataRecord, 1), (DataRecord, 2), (GapRecord, 3)], g
        assert j.damage == [Damage(SEG1, o_gap, f"bad magic; resynchronised at offset {o_gap + g} "
                                                f"({g} bytes skipped)")], g


def test_a_segment_with_only_its_header(tmp_path):
    write(tmp_path, [])
    j = read_journal(tmp_path)
    size = os.path.getsize(tmp_path / SEG1)
    assert seqs(j) == [] and j.damage == []
    assert [(s.first_seq, s.last_seq, s.valid_end, s.size) for s in j.segments] == [(0, 0, size, size)]


def test_a_lost_segment_header_keeps_the_segment_and_its_records(tmp_path):
    write(tmp_path, [40] * 12, segment_bytes=1024)  # 224-byte records: a few per segment
    names = sorted(n for n in os.listdir(tmp_path) if n.startswith("journal-0"))
    assert len(names) >= 3
    seg2 = walk(tmp_path / names[1])
    h_end, h_seq = seg2[0][1], seg2[0][2]
    data = bytearray((tmp_path / names[1]).read_bytes())
    data[64 + 20] ^= 0x01  # inside the header's payload: its CRC fails
    (tmp_path / names[1]).write_bytes(bytes(data))
    j = read_journal(tmp_path)
    assert seqs(j) == [s for n in names for _, _, s in walk(tmp_path / n)[1:]]
    assert j.damage == [Damage(names[1], 0, f"unreadable segment header: CRC mismatch; resynchronised at "
                                            f"offset {h_end} ({h_end} bytes skipped)")]
    s2 = j.segments[1]
    assert (s2.name, s2.number, s2.first_seq, s2.last_seq) == (names[1], 2, h_seq + 1, seg2[-1][2])
    assert h_seq + 1 > 1  # a first_seq that kept its initial value would not pass


# ------------------------------------------------ CRC-valid segment headers a writer never writes

def _header_parts(path):
    data = open(path, "rb").read()
    (o, n, seq), = walk(path)[:1]
    payload = data[64:n]
    magic, version, flags, seg_no, rig_hash, jlen, rlen = _SEG.unpack_from(payload)
    info = json.loads(payload[_SEG.size:_SEG.size + jlen])
    rig = payload[_SEG.size + jlen:]
    first = struct.unpack_from("<q", data, 24)[0]
    return dict(version=version, flags=flags, seg_no=seg_no, rig_hash=rig_hash, info=info, rig=rig, seq=seq,
                first=first, jlen=None, rlen=None)


def _write_header(path, p) -> None:
    jb = json.dumps(p["info"], separators=(",", ":"), ensure_ascii=False).encode() if not isinstance(p["info"], bytes) else p["info"]
    jlen = len(jb) if p["jlen"] is None else p["jlen"]
    rlen = len(p["rig"]) if p["rlen"] is None else p["rlen"]
    payload = _SEG.pack(b"HFJSEG\r\n", p["version"], p["flags"], p["seg_no"], p["rig_hash"], jlen, rlen) + jb + p["rig"]
    head = _pack_header(SEGMENT, 0, p["seq"], NO_STREAM, 0, p["first"], 0, payload, len(payload))
    open(path, "wb").write(head + payload)


def _read(path, number=1):
    with scan._Reader(str(path)) as r:
        return scan.read_segment_header(r, str(path), number)


def test_a_rewritten_header_is_read_like_the_writers(tmp_path):
    """The crafting below is faithful: unchanged fields give back the writer's header."""
    write(tmp_path, [])
    h, why = _read(tmp_path / SEG1)
    _write_header(tmp_path / "copy.hfj", _header_parts(tmp_path / SEG1))
    h2, why2 = _read(tmp_path / "copy.hfj")
    assert why == why2 == "" and h2 == h and h.number == 1 and h.seq == 0
    with pytest.raises(dataclasses.FrozenInstanceError):  # one header is shared by the scans of every segment
        h.seq = 5


@pytest.mark.parametrize("change", ["seg_no", "first", "rlen", "jlen"])
def test_a_header_with_inconsistent_numbers_or_lengths_is_refused(tmp_path, change):
    write(tmp_path, [])
    p = _header_parts(tmp_path / SEG1)
    if change in ("seg_no", "first"):
        p[change] = 2  # the file is segment 1
    else:  # one byte fewer than the text that follows: the rig's sha256 still matches the rest
        p[change] = len(p["rig"]) - 1 if change == "rlen" else len(json.dumps(p["info"], separators=(",", ":"), ensure_ascii=False).encode()) - 1
    _write_header(tmp_path / SEG1, p)
    h, why = _read(tmp_path / SEG1)
    assert h is None and why.startswith("inconsistent"), why
    assert _read(tmp_path / SEG1, None)[0] is None or change in ("seg_no", "first")  # the copy: any number


@pytest.mark.parametrize("info", [
    b"{not json",                                                            # ValueError
    {"journal_id": "x", "metadata": {}, "streams": {"s": {"id": 0, "n_channels": 2, "dtype": "nonsense"}}},
    {"metadata": {}, "streams": {"s": {"id": 0, "n_channels": 2, "dtype": "int16"}}},  # KeyError
    {"journal_id": "x", "metadata": {}, "streams": {"s": {"id": None, "n_channels": 2, "dtype": "int16"}}},
    {"journal_id": "x", "metadata": {}, "streams": ["s"]},                  # AttributeError
], ids=["not-json", "bad-dtype", "no-journal-id", "id-none", "streams-a-list"])
def test_a_header_with_unusable_json_is_refused_not_a_crash(tmp_path, info):
    write(tmp_path, [])
    p = _header_parts(tmp_path / SEG1)
    p["info"] = info
    _write_header(tmp_path / SEG1, p)
    assert _read(tmp_path / SEG1) == (None, "unreadable JSON")
