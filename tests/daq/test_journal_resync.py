"""Journal resync: random damage costs only the records it touches.

The truth is an independent walk of the undamaged segment files (it trusts
the framing and checks nothing) cross-checked against what the writer was
given; the reader under test must return every record the damage did not
touch, bit-exact, and nothing else.
"""
from __future__ import annotations

import json
import os
import shutil
import struct

import numpy as np
import pytest

from hotfire.daq.journal import (
    HEADER_COPY, DataRecord, EventRecord, GapRecord, JournalFormatError, JournalWriter, read_journal, segment_name,
)

# ~3 KB of rig text: a segment header (~3.3 KB) then lies inside the first 4 KB
RIG = "[rig]\nname = \"stand-r\"\n" + "".join(f"# line {k:04d} of padding, as a long rig file has\n"
                                               for k in range(60))
META = {"test_id": "R-1", "streams": {"fast": {"n_channels": 3, "dtype": "int16", "rate_hz": 1e4},
                                      "slow": {"n_channels": 2, "dtype": "float64", "rate_hz": 10.0}}}


def walk(path) -> list[tuple[int, int, int, int]]:
    """Independent parse of an undamaged segment: (offset, size, type, seq) of each record."""
    out, data, off = [], open(path, "rb").read(), 0
    while off < len(data):
        assert data[off:off + 4] == b"HFJR"
        rtype = data[off + 4]
        seq, = struct.unpack_from("<Q", data, off + 8)
        plen, = struct.unpack_from("<Q", data, off + 40)
        out.append((off, 64 + plen, rtype, seq))
        off += 64 + plen
    assert off == len(data)
    return out


def key(r) -> tuple:
    if isinstance(r, DataRecord):
        return ("D", r.seq, r.stream, r.first_index, r.rows.tobytes())
    if isinstance(r, GapRecord):
        return ("G", r.seq, r.stream, r.first_index, r.count)
    if isinstance(r, EventRecord):
        return ("E", r.seq, json.dumps(r.event, sort_keys=True))
    return ("M", r.seq, json.dumps(r.meta, sort_keys=True))


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    """A journal of several ~24 KB segments of every record type, and its truth."""
    d = tmp_path_factory.mktemp("resync") / "j"
    written = {}
    rng = np.random.default_rng(11)
    pos = {"fast": 0, "slow": 0}
    with JournalWriter(d, META, RIG, sync_interval=None, segment_bytes=24_000) as w:
        for k in range(300):
            s = "fast" if k % 3 else "slow"
            n = int(rng.integers(1, 60))
            nch = META["streams"][s]["n_channels"]
            rows = (rng.integers(-30000, 30000, (n, nch)).astype(np.int16) if s == "fast"
                    else rng.normal(0, 1, (n, nch)))
            written[w.append(s, pos[s], rows)] = ("D", s, pos[s], rows.tobytes())
            pos[s] += n
            if k % 17 == 0:
                written[w.gap("fast", pos["fast"], 3, "ring overrun")] = ("G", "fast", pos["fast"], 3)
                pos["fast"] += 3
            if k % 23 == 0:
                ev = {"kind": "note", "stream": "fast", "sample": pos["fast"], "message": f"n{k}", "channel": ""}
                written[w.event(ev)] = ("E", json.dumps(ev, sort_keys=True))
        written[w.meta({"end": True})] = ("M", json.dumps({"end": True}))
    segs = sorted(n for n in os.listdir(d) if n.startswith("journal-0"))
    recs = {n: walk(d / n) for n in segs}
    # the walk and the writer agree: every record the writer returned a seq for, at one place
    walked = [(n, o, sz, seq) for n in segs for (o, sz, t, seq) in recs[n] if t != 1]
    assert [w[3] for w in walked] == sorted(written)
    truth = [key(r) for r in read_journal(d)]
    assert [t[1] for t in truth] == sorted(written)
    for t in truth:
        assert t[0] == written[t[1]][0] and t[2:] == written[t[1]][1:] if t[0] == "D" else True
    assert len(segs) >= 4
    return {"dir": d, "segs": segs, "recs": recs, "truth": dict((t[1], t) for t in truth)}


def damage_copy(ref, tmp_path, name, edits) -> tuple:
    """Copy the journal, apply ``edits`` [(segment, offset, new bytes)]; return (dir, seqs touched)."""
    d = tmp_path / name
    shutil.copytree(ref["dir"], d)
    touched = set()
    for seg, off, new in edits:
        with open(d / seg, "r+b") as f:
            f.seek(off)
            old = f.read(len(new))
            f.seek(off)
            f.write(new)
        if old == new:
            continue
        for o, sz, t, seq in ref["recs"][seg]:
            if o < off + len(new) and off < o + sz and t != 1:
                touched.add(seq)
    return d, touched


def check(ref, d, touched, ctx):
    j = read_journal(d)
    got = [key(r) for r in j]
    want = [t for s, t in sorted(ref["truth"].items()) if s not in touched]
    assert got == want, f"{ctx}: {len(got)} records read, {len(want)} untouched ({len(touched)} touched)"
    return j


def test_a_damaged_byte_costs_at_most_its_record(ref, tmp_path):
    """200 seeded single-byte changes anywhere in the journal (segment headers included)."""
    rng = np.random.default_rng(20)
    sizes = [os.path.getsize(ref["dir"] / s) for s in ref["segs"]]
    for t in range(200):
        k = int(rng.integers(len(sizes)))
        off = int(rng.integers(sizes[k]))
        d, touched = damage_copy(ref, tmp_path, f"b{t}", [(ref["segs"][k], off, bytes([int(rng.integers(256))]))])
        j = check(ref, d, touched, f"trial {t}: byte {off} of {ref['segs'][k]}")
        assert len(touched) <= 1
        if touched:
            assert j.damage and j.damage[0].segment == ref["segs"][k], f"trial {t}: {j.damage}"
        shutil.rmtree(d)


def test_random_bursts_cost_only_the_records_they_touch(ref, tmp_path):
    """100 seeded trials of 1-4 bursts (1 byte to 5 KB, random or zero bytes) across segments."""
    rng = np.random.default_rng(21)
    sizes = [os.path.getsize(ref["dir"] / s) for s in ref["segs"]]
    for t in range(100):
        edits = []
        for _ in range(int(rng.integers(1, 5))):
            k = int(rng.integers(len(sizes)))
            off = int(rng.integers(sizes[k]))
            n = min(int(rng.integers(1, 5000)), sizes[k] - off)
            new = bytes(n) if rng.random() < 0.5 else rng.integers(0, 256, n, dtype=np.uint8).tobytes()
            edits.append((ref["segs"][k], off, new))
        d, touched = damage_copy(ref, tmp_path, f"u{t}", edits)
        check(ref, d, touched, f"trial {t}: {[(s, o, len(b)) for s, o, b in edits]}")
        shutil.rmtree(d)


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_zeroed_first_4k_of_a_segment_loses_only_those_4k(ref, tmp_path, which):
    seg = {"first": ref["segs"][0], "middle": ref["segs"][2], "last": ref["segs"][-1]}[which]
    d, touched = damage_copy(ref, tmp_path, which, [(seg, 0, bytes(4096))])
    assert touched  # the header and at least one record were in the first 4 KB
    j = check(ref, d, touched, f"{seg} zeroed")
    assert any(x.segment == seg and x.offset == 0 and "unreadable segment header" in x.reason for x in j.damage)


def test_every_segment_header_lost_uses_the_header_copy(ref, tmp_path):
    edits = [(s, 0, bytes(4096)) for s in ref["segs"]]
    d, touched = damage_copy(ref, tmp_path, "all", edits)
    j = check(ref, d, touched, "every segment's first 4 KB zeroed")
    assert j.metadata == META and j.rig_text == RIG
    os.unlink(d / HEADER_COPY)
    with pytest.raises(JournalFormatError, match="no segment with a valid header"):
        read_journal(d)


def test_single_segment_journal_with_its_header_zeroed(tmp_path):
    d = tmp_path / "one"
    rows = np.arange(3000, dtype=np.int16).reshape(-1, 3)
    with JournalWriter(d, META, RIG, sync_interval=None) as w:
        for i in range(0, 1000, 10):
            w.append("fast", i, rows[i:i + 10])
    recs = walk(d / segment_name(1))
    with open(d / segment_name(1), "r+b") as f:
        f.write(bytes(4096))
    j = read_journal(d)
    lost = sum(1 for o, sz, t, _ in recs if t != 1 and o < 4096)
    got = [r.first_index for r in j]
    assert got == list(range(lost * 10, 1000, 10))
    assert "resynchronised" in j.damage[0].reason and f"{lost} record(s) lost" in j.damage[0].reason
