"""One stream's rows assembled from a journal, in index order, with what is missing."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hotfire.daq.journal.reader import Journal, read_journal
from hotfire.daq.journal.records import DataRecord, GapRecord


@dataclass
class StreamRows:
    """All valid rows of one stream, concatenated in index order, with what is missing.

    Attributes
    ----------
    stream : str
    rows : numpy.ndarray
        ``(n, n_channels)``: only rows read from the journal; missing rows are
        *not* filled in, so ``rows[k]`` is sample ``index[k]``.
    index : numpy.ndarray
        int64 absolute sample index of each row.
    runs : list of (first_index, count)
        Contiguous ranges covered by ``rows``.
    gaps : list of (first_index, count, reason)
        Ranges not covered, from index 0 to the last row or declared gap: a
        GAP record's reason, or ``"not in journal"`` for rows missing without
        a GAP record (lost to damage, or never recorded).
    overlaps : list of (first_index, count, identical)
        Rows written more than once (e.g. re-sent after a write error); the
        first copy is kept. ``identical`` is False if the copies differ.
    """
    stream: str
    rows: np.ndarray
    index: np.ndarray
    runs: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    overlaps: list = field(default_factory=list)

    @property
    def first_index(self) -> int:
        """Index of the first row (0 if there are no rows)."""
        return int(self.index[0]) if len(self.index) else 0

    @property
    def end_index(self) -> int:
        """One past the index of the last row."""
        return int(self.index[-1]) + 1 if len(self.index) else 0

    @property
    def contiguous(self) -> bool:
        """True if ``rows`` covers ``[0, end_index)`` with no gap."""
        return not self.gaps and self.first_index == 0


def stream_rows(source, stream: str) -> StreamRows:
    """Assemble one stream's valid rows, in index order, with its gaps.

    Parameters
    ----------
    source : str, os.PathLike or Journal
        A journal directory or an already read :class:`Journal`.
    stream : str

    Returns
    -------
    StreamRows

    Raises
    ------
    KeyError
        ``stream`` is not in the journal.
    """
    j = source if isinstance(source, Journal) else read_journal(source)
    if stream not in j.streams:
        raise KeyError(f"stream {stream!r} not in journal; streams: {', '.join(j.streams)}")
    spec = j.streams[stream]
    dt = np.dtype(spec["dtype"]).newbyteorder("=")
    data = sorted(((r.first_index, r.seq, r) for r in j.records(stream=stream, kind=DataRecord)),
                  key=lambda t: (t[0], t[1]))
    declared = sorted((r.first_index, r.count, r.reason) for r in j.records(stream=stream, kind=GapRecord))
    pieces, runs, overlaps = [], [], []
    end = None
    for first, _, r in data:
        rows = r.rows
        if end is not None and first < end:
            k = min(end - first, len(rows))
            prev = _rows_at(pieces, runs, first, k)
            overlaps.append((first, k, bool(np.array_equal(prev.view(np.uint8), rows[:k].view(np.uint8)))))
            rows, first = rows[k:], first + k
            if len(rows) == 0:
                continue
        if runs and runs[-1][0] + runs[-1][1] == first:
            runs[-1] = (runs[-1][0], runs[-1][1] + len(rows))
        else:
            runs.append((first, len(rows)))
        pieces.append((first, rows))
        end = first + len(rows)
    gaps = []
    pos = 0
    for first, count in runs:
        if first > pos:
            gaps.extend(explain_missing(pos, first, declared))
        pos = first + count
    tail = max((f + c for f, c, _ in declared), default=0)
    if tail > pos:  # declared gaps after the last row (e.g. an overrun at the end)
        gaps.extend(explain_missing(pos, tail, declared))
    nch = spec["n_channels"]
    rows = np.concatenate([p for _, p in pieces]) if pieces else np.empty((0, nch), dt)
    index = (np.concatenate([np.arange(f, f + len(p), dtype=np.int64) for f, p in pieces])
             if pieces else np.empty(0, np.int64))
    return StreamRows(stream, rows, index, runs, gaps, overlaps)


def _rows_at(pieces, runs, first, k) -> np.ndarray:
    for f, p in reversed(pieces):
        if f <= first < f + len(p):
            return p[first - f:first - f + k]
    raise AssertionError("overlap outside the assembled rows")


def explain_missing(lo: int, hi: int, declared) -> list:
    """Split the missing range [lo, hi) into declared GAP reasons and 'not in journal'."""
    out, pos = [], lo
    for first, count, reason in sorted(declared):
        a, b = max(first, pos), min(first + count, hi)
        if a >= b:
            continue
        if a > pos:
            out.append((pos, a - pos, "not in journal"))
        out.append((a, b - a, reason))
        pos = b
    if pos < hi:
        out.append((pos, hi - pos, "not in journal"))
    return out
