"""Fuzzing the journal reader: any damage gives records that were written, or a clear error; no hang.

Every DATA record returned must be, bit for bit, the record the writer was
given under that sequence number: damage may lose records, never invent one.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzzing import FUZZ, no_hang  # noqa: E402

from hotfire.core.errors import HotfireError  # noqa: E402
from hotfire.daq.journal import DataRecord, JournalWriter, read_journal, stream_rows  # noqa: E402

META = {"test_id": "F", "streams": {"a": {"n_channels": 2, "dtype": "int16", "rate_hz": 100.0},
                                    "b": {"n_channels": 1, "dtype": "float64", "rate_hz": 10.0}}}


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    d = tmp_path_factory.mktemp("jfuzz") / "j"
    rng = np.random.default_rng(1)
    written = {}
    with JournalWriter(d, META, "[rig]\nname = 'f'\n", sync_interval=None, segment_bytes=3000) as w:
        pos = {"a": 0, "b": 0}
        for k in range(60):
            s = "ab"[k % 2]
            n = int(rng.integers(1, 20))
            rows = (rng.integers(-9, 9, (n, 2)).astype(np.int16) if s == "a" else rng.normal(size=(n, 1)))
            written[w.append(s, pos[s], rows)] = (s, pos[s], rows.tobytes())
            pos[s] += n
            if k % 9 == 0:
                w.event({"kind": "note", "stream": "a", "sample": pos["a"], "message": "m", "channel": ""})
    files = sorted(p.name for p in d.iterdir())
    return {"dir": d, "written": written, "files": files, "sizes": {f: (d / f).stat().st_size for f in files}}


edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.binary(min_size=0, max_size=80),
                           st.booleans()), min_size=1, max_size=5)


@FUZZ
@given(edits=edits)
def test_damaged_journal(ref, tmp_path_factory, edits):
    d = tmp_path_factory.mktemp("case") / "j"
    shutil.copytree(ref["dir"], d)
    for fi, off, data, truncate in edits:
        name = ref["files"][fi % len(ref["files"])]
        size = (d / name).stat().st_size
        off = off % (size + 1)
        with open(d / name, "r+b") as f:
            if truncate and not data:
                f.truncate(off)
            else:
                f.seek(off)
                f.write(data)
    try:
        with no_hang(20):
            j = read_journal(d)
            for r in j:
                if isinstance(r, DataRecord):
                    assert (r.stream, r.first_index, r.rows.tobytes()) == ref["written"][r.seq], r.seq
            for s in META["streams"]:
                stream_rows(j, s)
    except HotfireError:
        pass
    shutil.rmtree(d.parent)


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_segment_file(tmp_path_factory, blob):
    d = tmp_path_factory.mktemp("blob")
    (d / "journal-000001.hfj").write_bytes(blob)
    try:
        with no_hang(10):
            list(read_journal(d))
    except HotfireError:
        pass
    shutil.rmtree(d)
