"""One stream's rows from a journal (``daq/journal/rows.py``): runs, gaps and overlaps
of a small hand-written journal, each checked against ranges worked out by hand.
Row k of sample i holds 10 i + channel, so every row says which sample it is."""
from __future__ import annotations

import numpy as np
import pytest

from hotfire.daq.journal import JournalWriter, explain_missing, read_journal, stream_rows

META = {"test_id": "T-rows", "streams": {"s": {"n_channels": 2, "dtype": "int32", "rate_hz": 1000.0},
                                         "q": {"n_channels": 3, "dtype": "float32", "rate_hz": 10.0}}}
NIJ = "not in journal"


def rows(first: int, n: int) -> np.ndarray:
    i = np.arange(first, first + n, dtype=np.int32)[:, None]
    return 10 * i + np.arange(2, dtype=np.int32)


def test_explain_missing_by_hand():
    assert explain_missing(0, 10, []) == [(0, 10, NIJ)]
    assert explain_missing(0, 10, [(2, 3, "overrun")]) == [(0, 2, NIJ), (2, 3, "overrun"), (5, 5, NIJ)]
    assert explain_missing(0, 10, [(8, 5, "late")]) == [(0, 8, NIJ), (8, 2, "late")]       # cut at hi
    assert explain_missing(5, 10, [(0, 7, "early")]) == [(5, 2, "early"), (7, 3, NIJ)]     # cut at lo
    assert explain_missing(5, 10, [(0, 5, "before"), (10, 2, "after")]) == [(5, 5, NIJ)]   # touching only
    assert explain_missing(0, 10, [(0, 10, "all")]) == [(0, 10, "all")]
    assert explain_missing(0, 10, [(6, 2, "b"), (1, 2, "a")]) == [
        (0, 1, NIJ), (1, 2, "a"), (3, 3, NIJ), (6, 2, "b"), (8, 2, NIJ)]
    assert explain_missing(0, 10, [(1, 4, "a"), (3, 4, "b")]) == [(0, 1, NIJ), (1, 4, "a"), (5, 2, "b"), (7, 3, NIJ)]


@pytest.fixture
def journal(tmp_path):
    with JournalWriter(tmp_path, META, '[rig]\nname = "rows"\n') as w:
        w.append("s", 0, rows(0, 5))
        w.append("s", 5, rows(5, 5))          # contiguous: one run 0-10
        w.gap("s", 10, 3, "ring overrun")
        w.append("s", 13, rows(13, 7))         # 13-20
        w.append("s", 16, rows(16, 2))         # re-sent, identical: overlap (16, 2, True)
        w.append("s", 18, rows(18, 4) + 1)     # 18-22: 2 overlapping rows that differ, then 20-22 new
        w.append("s", 27, rows(27, 3))         # 22-27 never recorded
        w.gap("s", 30, 4, "driver error")      # declared after the last row
        w.append("q", 0, np.ones((2, 3), np.float32))
    return tmp_path


def test_runs_gaps_and_overlaps(journal):
    r = stream_rows(journal, "s")
    assert r.runs == [(0, 10), (13, 9), (27, 3)]
    assert r.gaps == [(10, 3, "ring overrun"), (22, 5, NIJ), (30, 4, "driver error")]
    assert r.overlaps == [(16, 2, True), (18, 2, False)]
    want = np.r_[0:10, 13:22, 27:30]
    assert r.index.dtype == np.int64 and r.index.tolist() == want.tolist()
    expect = 10 * want[:, None] + np.arange(2)
    expect[(want >= 20) & (want < 22)] += 1  # rows 20-21 came only from the second, different copy; 18-19 keep the first
    assert np.array_equal(r.rows, expect) and r.rows.dtype == np.int32
    assert (r.first_index, r.end_index, r.contiguous) == (0, 30, False)


def test_a_journal_object_and_an_unknown_stream(journal):
    j = read_journal(journal)
    assert stream_rows(j, "q").runs == [(0, 2)]
    q = stream_rows(j, "q")
    assert q.gaps == [] and q.overlaps == [] and q.contiguous and (q.first_index, q.end_index) == (0, 2)
    with pytest.raises(KeyError, match="'nope' not in journal; streams: s, q"):
        stream_rows(j, "nope")


def test_rows_that_start_late_and_a_stream_with_none(tmp_path):
    with JournalWriter(tmp_path, META, "") as w:
        w.append("s", 4, rows(4, 2))
        w.append("s", 4, rows(4, 1))  # wholly inside what is there: nothing new
    r = stream_rows(tmp_path, "s")
    assert r.runs == [(4, 2)] and r.gaps == [(0, 4, NIJ)] and r.overlaps == [(4, 1, True)]
    assert (r.first_index, r.end_index, r.contiguous) == (4, 6, False)
    assert r.rows.tolist() == [[40, 41], [50, 51]]
    q = stream_rows(tmp_path, "q")
    assert q.rows.shape == (0, 3) and q.index.shape == (0,) and q.index.dtype == np.int64
    assert (q.first_index, q.end_index, q.contiguous) == (0, 0, True)


def test_only_a_declared_gap(tmp_path):
    with JournalWriter(tmp_path, META, "") as w:
        w.gap("s", 2, 3, "overrun at start")
    r = stream_rows(tmp_path, "s")
    assert r.runs == [] and r.gaps == [(0, 2, NIJ), (2, 3, "overrun at start")] and not r.contiguous


def test_blocks_written_out_of_order_are_assembled_in_index_order(tmp_path):
    with JournalWriter(tmp_path, META, "") as w:
        w.append("s", 10, rows(10, 5))
        w.append("s", 0, rows(0, 10))
    r = stream_rows(tmp_path, "s")
    assert r.runs == [(0, 15)] and r.overlaps == [] and r.gaps == [] and r.contiguous
    assert np.array_equal(r.rows, rows(0, 15))
