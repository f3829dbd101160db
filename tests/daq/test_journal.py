"""Journal: round trips, rotation, damaged tails (write and sync faults: test_journal_faults.py)."""
from __future__ import annotations

import hashlib
import os
import shutil
import struct
import threading
import time
import zlib

import numpy as np
import pytest

from hotfire.daq import journal as J
from hotfire.daq.journal import (
    DataRecord,
    JournalFormatError,
    JournalWriter,
    read_journal,
    segment_name,
    stream_rows,
)
from journaldata import META, RIG, block, segments, snap, write_mixed  # noqa: E402


# ------------------------------------------------------------ round trips


def test_round_trip_all_dtypes_streams_gaps_events(tmp_path):
    d = tmp_path / "run"
    expected = write_mixed(d)
    j = read_journal(d)
    assert j.damage == []
    assert [snap(r) for r in j] == expected
    assert j.metadata == META
    assert j.rig_text == RIG
    assert j.rig_sha256 == hashlib.sha256(RIG.encode()).hexdigest()
    assert {s: v["dtype"] for s, v in j.streams.items()} == {s: v["dtype"] for s, v in META["streams"].items()}
    for rec in j:
        if isinstance(rec, DataRecord):
            assert rec.rows.dtype == np.dtype(META["streams"][rec.stream]["dtype"])
            assert rec.rows.flags.writeable and rec.rows.flags.c_contiguous
    # Per stream: the rows, in order, with the declared gaps and nothing else.
    fast = stream_rows(d, "fast")
    data = [r for r in expected if r[0] == "D" and r[2] == "fast"]
    assert fast.rows.tobytes() == b"".join(r[6] for r in data)
    assert [g[2] for g in fast.gaps] == ["ring overrun"] * 3
    assert all(g[1] == 5 for g in fast.gaps)
    assert not np.isin(fast.index, [np.arange(g[0], g[0] + g[1]) for g in fast.gaps]).any()
    volts = stream_rows(j, "volts")
    assert volts.contiguous and volts.rows.shape[1] == 1
    assert volts.rows.tobytes() == b"".join(r[6] for r in expected if r[0] == "D" and r[2] == "volts")


def test_one_channel_1d_rows_and_non_contiguous_input(tmp_path):
    a = np.arange(10, dtype=np.float64)
    b = np.arange(40, dtype=np.int16).reshape(10, 4)[:, ::2][:, :1].repeat(3, axis=1)  # not C-contiguous
    b = b[::2]
    assert not b.flags.c_contiguous
    with JournalWriter(tmp_path / "r", META, RIG) as w:
        w.append("volts", 0, a)
        w.append("fast", 0, b)
    recs = list(read_journal(tmp_path / "r"))
    assert recs[0].rows.shape == (10, 1) and np.array_equal(recs[0].rows[:, 0], a)
    assert np.array_equal(recs[1].rows, b)


def test_segment_rotation(tmp_path):
    d = tmp_path / "run"
    expected = write_mixed(d, n_rounds=40, segment_bytes=4096)
    names = segments(d)
    assert len(names) > 5 and names[0] == segment_name(1)
    assert all(os.path.getsize(d / n) <= 4096 for n in names)
    j = read_journal(d)
    assert j.damage == []
    assert [snap(r) for r in j] == expected
    assert [s.number for s in j.segments] == list(range(1, len(names) + 1))
    # Each segment describes the run on its own: header with metadata and rig text.
    for n in names:
        with open(d / n, "rb") as f:
            raw = f.read()
        assert raw[:4] == J.RECORD_MAGIC and raw[64:72] == J.SEGMENT_MAGIC
        assert RIG.encode() in raw and b'"T-0042"' in raw
        assert hashlib.sha256(RIG.encode()).digest() in raw


def test_record_larger_than_segment_gets_its_own(tmp_path):
    big = block("counts", 0, 2000)  # 16 kB > segment_bytes
    with JournalWriter(tmp_path / "r", META, RIG, segment_bytes=4096) as w:
        w.append("counts", 0, block("counts", 0, 3))
        w.append("counts", 3, big)
        w.append("counts", 2003, block("counts", 2003, 3))
    j = read_journal(tmp_path / "r")
    assert j.damage == [] and len(j.segments) == 3
    assert [r.segment for r in j] == [segment_name(1), segment_name(2), segment_name(3)]
    assert stream_rows(j, "counts").contiguous


def test_synced_through_and_timer_thread(tmp_path, monkeypatch):
    calls = []
    real = os.fdatasync

    def counting(fd):
        calls.append(time.monotonic())
        return real(fd)

    monkeypatch.setattr(os, "fdatasync", counting)
    w = JournalWriter(tmp_path / "r", META, RIG, sync_interval=0.05)
    assert w.synced_through == {}
    w.append("fast", 0, block("fast", 0, 10))
    w.append("volts", 0, block("volts", 0, 4))
    assert w.written_through == {"fast": 10, "volts": 4}
    # No more appends: the timer thread alone must make the tail durable.
    deadline = time.monotonic() + 2.0
    while w.synced_through != {"fast": 10, "volts": 4} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.synced_through == {"fast": 10, "volts": 4}
    # At most one sync per interval while appending fast (a few ms of slack for the clock).
    calls.clear()
    t0 = time.monotonic()
    i = 10
    while time.monotonic() - t0 < 0.3:
        w.append("fast", i, block("fast", i, 5))
        i += 5
    gaps = np.diff(calls)
    assert len(calls) >= 2 and (gaps > 0.045).all(), gaps
    w.close()
    assert w.synced_through["fast"] == i
    w.close()  # idempotent


def test_sync_every_record_and_manual(tmp_path, monkeypatch):
    n = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (n.append(fd), real(fd))[1])
    with JournalWriter(tmp_path / "a", META, RIG, sync_interval=0) as w:
        for i in range(5):
            w.append("fast", i, block("fast", i, 1))
            assert w.synced_through == {"fast": i + 1}
    assert len(n) >= 5
    n.clear()
    with JournalWriter(tmp_path / "b", META, RIG, sync_interval=None) as w:
        w.append("fast", 0, block("fast", 0, 3))
        time.sleep(0.05)
        assert w.synced_through == {} and n == []
        assert w.sync() == {"fast": 3}


def test_writer_thread_safety(tmp_path):
    with JournalWriter(tmp_path / "r", META, RIG, sync_interval=0.01, segment_bytes=8192) as w:
        def run(s):
            for i in range(200):
                w.append(s, i * 2, block(s, i * 2, 2))
        ts = [threading.Thread(target=run, args=(s,)) for s in META["streams"]]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    j = read_journal(tmp_path / "r")
    assert j.damage == [] and len(j) == 800
    for s in META["streams"]:
        sr = stream_rows(j, s)
        assert sr.contiguous and sr.end_index == 400


def test_writer_rejects_bad_input(tmp_path):
    with JournalWriter(tmp_path / "r", META, RIG) as w:
        with pytest.raises(ValueError, match="unknown stream 'nope'"):
            w.append("nope", 0, block("fast", 0, 1))
        with pytest.raises(ValueError, match="expected dtype int16, got float64"):
            w.append("fast", 0, np.zeros((2, 3)))
        with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
            w.append("fast", 0, np.zeros((2, 2), np.int16))
        with pytest.raises(ValueError, match="first_index"):
            w.append("fast", -1, np.zeros((2, 3), np.int16))
        with pytest.raises(ValueError, match="count >= 1"):
            w.gap("fast", 0, 0, "x")
        assert w.append("fast", 0, np.zeros((0, 3), np.int16)) == -1
        assert w.sequence == 1  # only the segment header
    with pytest.raises(FileExistsError, match="already holds a journal"):
        JournalWriter(tmp_path / "r", META, RIG)
    with pytest.raises(ValueError, match="streams"):
        JournalWriter(tmp_path / "x", {"test_id": "x"}, RIG)
    with pytest.raises(ValueError, match="complex128 is not supported"):
        JournalWriter(tmp_path / "y", {"streams": {"s": {"n_channels": 1, "dtype": "complex128"}}}, RIG)
    with pytest.raises(FileNotFoundError):
        read_journal(tmp_path / "x")


def test_newer_format_version_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(J.format, "FORMAT_VERSION", J.FORMAT_VERSION + 1)
    with JournalWriter(tmp_path / "r", META, RIG) as w:
        w.append("fast", 0, block("fast", 0, 2))
    monkeypatch.undo()
    with pytest.raises(JournalFormatError, match="format version 2 is newer than this reader"):
        read_journal(tmp_path / "r")


# --------------------------------------------------------- damaged tails


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A clean journal of 3 segments; the last one holds 15 records of every type."""
    d = tmp_path_factory.mktemp("ref") / "run"
    expected = write_mixed(d, n_rounds=12, segment_bytes=4000)
    j = read_journal(d)
    assert j.damage == [] and [snap(r) for r in j] == expected
    names = segments(d)
    last = names[-1]
    size = os.path.getsize(d / last)
    recs = [(r.offset, snap(r)) for r in j if r.segment == last]
    starts = [o for o, _ in recs]
    spans = list(zip(starts, starts[1:] + [size], strict=True))
    n_before = sum(1 for r in j if r.segment != last)
    assert len(names) == 3 and len(recs) >= 12
    return {"dir": d, "expected": expected, "names": names, "last": last, "size": size,
            "spans": spans, "n_before": n_before, "header_end": starts[0]}


def damaged(reference, tmp_path, name: str, mutate) -> str:
    d = tmp_path / name
    shutil.copytree(reference["dir"], d)
    path = d / reference["last"]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data = mutate(data)
    with open(path, "wb") as f:
        f.write(data)
    return d


def check(reference, d, valid_in_last: int, damage_at: int | None, reason: str | None, ctx: str,
          resync: bool = False):
    """The reader returns exactly the records before the damage (``resync``: all but record
    ``valid_in_last`` of the last segment, the one damaged), and says where and why."""
    j = read_journal(d)
    n = reference["n_before"] + valid_in_last
    want = reference["expected"][:n] + (reference["expected"][n + 1:] if resync else [])
    got = [snap(r) for r in j]
    assert got == want, f"{ctx}: {len(got)} records read, {len(want)} valid"
    if damage_at is None:
        assert j.damage == [], ctx
    else:
        assert len(j.damage) == 1, f"{ctx}: {j.damage}"
        dmg = j.damage[0]
        assert (dmg.segment, dmg.offset) == (reference["last"], damage_at), f"{ctx}: {dmg}"
        assert reason in dmg.reason, f"{ctx}: {dmg.reason!r} lacks {reason!r}"
    # Nothing fabricated, per stream: every row returned is a row written.
    for s in META["streams"]:
        sr = stream_rows(j, s)
        written = {r[3]: r for r in want if r[0] == "D" and r[2] == s}
        rebuilt = b"".join(written[k][6] for k in sorted(written))
        assert sr.rows.tobytes() == rebuilt, f"{ctx}: stream {s}"
    return 1


def test_truncation_at_every_boundary_and_inside_every_record(reference, tmp_path):
    n = 0
    spans = reference["spans"]
    for i, (a, b) in enumerate(spans):
        # at the boundary: a clean, shorter journal
        d = damaged(reference, tmp_path, f"b{i}", lambda x, a=a: x[:a])
        n += check(reference, d, i, None, None, f"truncate at boundary {a}")
        for k in sorted({1, 3, 4, 30, 56, 60, 63, 64, 65, (b - a) // 2, b - a - 1}):
            if not 0 < k < b - a:
                continue
            reason = "short header" if k < 64 else "short payload"
            d = damaged(reference, tmp_path, f"t{i}_{k}", lambda x, a=a, k=k: x[: a + k])
            n += check(reference, d, i, a, reason, f"truncate record {i} at +{k}")
    assert n >= 100


def test_truncation_at_random_offsets(reference, tmp_path):
    rng = np.random.default_rng(5)
    spans = reference["spans"]
    for t, cut in enumerate(rng.integers(reference["header_end"], reference["size"], size=30)):
        i = next(k for k, (a, b) in enumerate(spans) if a <= cut < b)
        a = spans[i][0]
        d = damaged(reference, tmp_path, f"r{t}", lambda x, c=int(cut): x[:c])
        check(reference, d, i, None if cut == a else a, None if cut == a else "short", f"random cut {cut}")


def test_zero_filled_and_garbage_tails(reference, tmp_path):
    spans, size = reference["spans"], reference["size"]
    n = 0
    for i, (a, _) in enumerate(spans[-4:], start=len(spans) - 4):
        # ext4 after power loss: the size grew, the data never landed
        d = damaged(reference, tmp_path, f"z{i}", lambda x, a=a: x[:a] + bytes(len(x) - a))
        n += check(reference, d, i, a, "zero-filled tail", f"zeros from record {i}")
    for extra in (1, 63, 64, 4096):
        d = damaged(reference, tmp_path, f"za{extra}", lambda x, e=extra: x + bytes(e))
        n += check(reference, d, len(spans), size, "zero-filled" if extra >= 64 else "short header",
                   f"{extra} zeros appended")
    rng = np.random.default_rng(7)
    for extra in (1, 10, 64, 100, 5000):
        junk = rng.integers(0, 256, size=extra, dtype=np.uint8).tobytes()
        d = damaged(reference, tmp_path, f"g{extra}", lambda x, j=junk: x + j)
        n += check(reference, d, len(spans), size, "short header" if extra < 64 else "bad magic",
                   f"{extra} garbage bytes appended")
    # garbage that starts with the record magic
    d = damaged(reference, tmp_path, "gm", lambda x: x + J.RECORD_MAGIC + bytes(range(200)))
    n += check(reference, d, len(spans), size, "header CRC mismatch", "magic + garbage")
    # a replay of a valid record: right CRC, wrong sequence number
    a, b = spans[1]
    d = damaged(reference, tmp_path, "replay", lambda x: x + x[a:b])
    n += check(reference, d, len(spans), size, "sequence discontinuity", "replayed record")
    assert n >= 15


def _refresh_crcs(rec: bytearray) -> bytearray:
    """Recompute both CRCs of a record (to forge a well-framed but inconsistent one)."""
    rec[56:60] = struct.pack("<I", zlib.crc32(rec[:56]))
    rec[60:64] = struct.pack("<I", zlib.crc32(rec[64:], zlib.crc32(rec[:60])))
    return rec


def test_bit_flips_in_headers_and_payloads(reference, tmp_path):
    spans = reference["spans"]
    n = 0
    for i in range(len(spans) - 3, len(spans)):
        a, b = spans[i]
        plen = b - a - 64
        positions = [(p, "header") for p in range(64)] + [(64 + k, "payload") for k in sorted({0, plen // 2, plen - 1})]
        for p, where in positions:
            bit = 1 << ((p * 5 + i) % 8)

            def flip(x, q=a + p, bit=bit):
                x[q] ^= bit
                return x

            d = damaged(reference, tmp_path, f"f{i}_{p}", flip)
            if p < 4:
                reason = "bad magic"
            elif p < 60 and where == "header":
                reason = "header CRC mismatch"
            else:
                reason = "CRC mismatch"
            n += check(reference, d, i, a, reason, f"bit flip in record {i} {where} byte {p}", resync=True)
    assert n >= 150


def test_well_framed_but_inconsistent_record(reference, tmp_path):
    """A record with valid CRCs whose fields contradict the stream spec is not trusted."""
    spans = reference["spans"]
    j = read_journal(reference["dir"])
    last_data = [r for r in j if r.segment == reference["last"] and isinstance(r, DataRecord)][-1]
    i = next(k for k, (a, _) in enumerate(spans) if a == last_data.offset)
    a, b = spans[i]

    def more_rows(x):
        rec = bytearray(x[a:b])
        struct.pack_into("<Q", rec, 32, struct.unpack_from("<Q", rec, 32)[0] + 1)  # row count
        return x[:a] + _refresh_crcs(rec) + x[b:]

    d = damaged(reference, tmp_path, "rows", more_rows)
    check(reference, d, i, a, "inconsistent record", "row count larger than the payload", resync=True)


def test_damage_in_a_middle_segment_and_lost_segments(reference, tmp_path):
    names = reference["names"]
    d = tmp_path / "mid"
    shutil.copytree(reference["dir"], d)
    j0 = [(r.segment, r.offset, snap(r)) for r in read_journal(d)]
    first = [(seg, off) for seg, off, _ in j0 if seg == names[0]]
    os.truncate(d / names[0], first[-2][1] + 70)
    j = read_journal(d)
    got = [snap(r) for r in j]
    want = [sn for seg, off, sn in j0 if not (seg == names[0] and off >= first[-2][1])]
    assert got == want
    assert (names[0], first[-2][1]) in [(x.segment, x.offset) for x in j.damage]
    disc = [x for x in j.damage if x.segment == names[1]]
    assert disc and "sequence discontinuity" in disc[0].reason and "2 records missing" in disc[0].reason
    # Lose a whole middle segment: the rest is still read, and the loss is reported.
    os.unlink(d / names[1])
    j = read_journal(d)
    assert any("missing before this one" in x.reason for x in j.damage)
    assert [snap(r) for r in j] == [w for w in want if w[1] not in {sn[1] for seg, _, sn in j0 if seg == names[1]}]
    # A segment whose header is damaged is rebuilt from another header: its records are all read.
    before = [snap(r) for r in read_journal(d)]
    with open(d / names[2], "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 1]))
    j = read_journal(d)
    dmg = [x for x in j.damage if x.segment == names[2] and "unreadable" in x.reason]
    assert len(dmg) == 1 and "unreadable segment header: CRC mismatch; resynchronised at offset" in dmg[0].reason
    assert [snap(r) for r in j] == before and any(r.segment == names[2] for r in j)


def test_no_valid_segment(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    (d / segment_name(1)).write_bytes(bytes(100))
    with pytest.raises(JournalFormatError, match="no segment with a valid header"):
        read_journal(d)


def test_reading_a_live_journal(tmp_path):
    """A reader running beside the writer sees a valid prefix, never a half record."""
    w = JournalWriter(tmp_path / "r", META, RIG, sync_interval=None)
    for i in range(20):
        w.append("counts", i * 5, block("counts", i * 5, 5))
        j = read_journal(tmp_path / "r")
        assert j.damage == [] and len(j) == i + 1
    w.close()


def test_iteration_refuses_a_journal_changed_after_the_scan(tmp_path):
    with JournalWriter(tmp_path / "r", META, RIG) as w:
        w.append("counts", 0, block("counts", 0, 8))
    j = read_journal(tmp_path / "r")
    rec_offset = j.segments[0].valid_end - 64 - 8 * 2 * 4
    with open(tmp_path / "r" / segment_name(1), "r+b") as f:
        f.seek(rec_offset + 64 + 3)
        f.write(b"\xff")
    with pytest.raises(J.JournalReadError, match="changed since the journal was scanned"):
        list(j)


def test_byte_swapped_input_is_stored_little_endian(tmp_path):
    rows = block("counts", 0, 6)
    with JournalWriter(tmp_path / "r", META, RIG) as w:
        w.append("counts", 0, rows.astype(">i4"))
    (rec,) = read_journal(tmp_path / "r")
    assert rec.rows.dtype == np.dtype("int32") and np.array_equal(rec.rows, rows)
