"""Journal test data shared by the journal tests: a rig text, stream metadata, rows covering each
dtype's extremes, and a journal with every record type."""
from __future__ import annotations

import json
import os

import numpy as np

from hotfire.daq.journal import DataRecord, EventRecord, GapRecord, JournalWriter, MetaRecord

RIG = '[rig]\nname = "stand-b"\n# a comment, and non-ASCII: Δp, °C\n'

META = {
    "test_id": "T-0042",
    "rig": "stand-b",
    "start_utc": "2025-01-01T00:00:00Z",
    "streams": {
        "fast": {"n_channels": 3, "dtype": "int16", "rate_hz": 10000.0},
        "counts": {"n_channels": 2, "dtype": "int32", "rate_hz": 1000.0},
        "slow": {"n_channels": 4, "dtype": "float32", "rate_hz": 100.0},
        "volts": {"n_channels": 1, "dtype": "float64", "rate_hz": 50.0},
    },
}


def segments(d) -> list[str]:
    """The segment files of journal directory ``d``, in order (not the header copy)."""
    return sorted(n for n in os.listdir(d) if n.startswith("journal-0"))


def block(stream: str, first: int, n: int, seed: int = 0) -> np.ndarray:
    """Deterministic rows covering each dtype's extremes (and NaN/inf for floats)."""
    spec = META["streams"][stream]
    dt = np.dtype(spec["dtype"])
    rng = np.random.default_rng(hash((stream, first, seed)) & 0xFFFFFFFF)
    shape = (n, spec["n_channels"])
    if dt.kind == "i":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
        a.flat[:2] = [info.min, info.max][: a.size]
        return a
    a = rng.normal(0.0, 1e3, size=shape).astype(dt)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], dtype=dt)
    a.flat[: min(a.size, 5)] = specials[: min(a.size, 5)]
    return a


def snap(rec) -> tuple:
    """A comparable, bit-exact summary of a record (NaN compares by bits)."""
    if isinstance(rec, DataRecord):
        return ("D", rec.seq, rec.stream, rec.first_index, rec.rows.dtype.str, rec.rows.shape, rec.rows.tobytes())
    if isinstance(rec, GapRecord):
        return ("G", rec.seq, rec.stream, rec.first_index, rec.count, rec.reason)
    if isinstance(rec, EventRecord):
        return ("E", rec.seq, json.dumps(rec.event, sort_keys=True))
    assert isinstance(rec, MetaRecord)
    return ("M", rec.seq, json.dumps(rec.meta, sort_keys=True))


def write_mixed(directory, n_rounds=6, segment_bytes=256 << 20, **kw):
    """Write every record type over all streams; return the list written, as snaps."""
    expected = []
    pos = dict.fromkeys(META["streams"], 0)
    with JournalWriter(directory, META, RIG, segment_bytes=segment_bytes, **kw) as w:
        for r in range(n_rounds):
            for k, s in enumerate(META["streams"]):
                n = 1 + (r * 7 + k * 3) % 11
                rows = block(s, pos[s], n)
                seq = w.append(s, pos[s], rows)
                expected.append(("D", seq, s, pos[s], rows.dtype.str, rows.shape, rows.tobytes()))
                pos[s] += n
            if r % 2 == 1:
                seq = w.gap("fast", pos["fast"], 5, "ring overrun")
                expected.append(("G", seq, "fast", pos["fast"], 5, "ring overrun"))
                pos["fast"] += 5
            ev = {"kind": "note", "stream": "fast", "sample": pos["fast"], "message": f"round {r} ✓", "channel": ""}
            seq = w.event(ev)
            expected.append(("E", seq, json.dumps(ev, sort_keys=True)))
        m = {"end_of_run": True, "counts": pos}
        seq = w.meta(m)
        expected.append(("M", seq, json.dumps(m, sort_keys=True)))
    return expected
