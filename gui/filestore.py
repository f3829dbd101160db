"""A run file's streams for drawing: level 1 (min/max buckets) for the whole
run, computed when the file is opened in one chunked pass; full-rate samples
for short windows read on demand, with a cache around the playhead.

Samples are read through the run-file reader, so they pass its per-chunk
checksums (:mod:`hotfire.core.runfile.integrity`): a damaged span is never
drawn as data, it stays a break (NaN).
"""
from __future__ import annotations

import numpy as np

from hotfire.gui.decimate import minmax
from hotfire.gui.model import MAX_BUCKETS, StreamStore, pow2, scale_block


class FileStore(StreamStore):
    """One stream of a run file, for drawing.

    Parameters
    ----------
    run : Run
    meta : StreamMeta
    channels : list of Channel
        The stream's channels, in column order.
    """

    def __init__(self, run, meta, channels, seconds0: float = 10.0):
        self.meta, self.run, self.stream = meta, run, meta.name
        self.scalings = [c.scaling for c in channels]
        self.lo, self.hi = run.sample_range(meta.name)
        # spans whose samples fail their checksums (a checksum table damaged alone leaves the samples good)
        self.damage = [d for d in run.stream_damage(meta.name) if not d.reason.startswith("checksum table damaged")]
        self._bad = [(d.first_sample, d.end_sample) if np.isfinite(d.t_start) else (self.lo, self.hi)
                     for d in self.damage]
        self._reduce(len(channels), seconds0)

    def _reduce(self, n: int, seconds0: float) -> None:
        """Level 1 for the whole span ``[lo, hi)``, chunk by chunk (aligned to k1), through :meth:`_read`."""
        self.k1 = max(1, pow2(max(1024, self.meta.rate_hz * seconds0)) // (MAX_BUCKETS // 2))
        self._cache = (0, 0, None)
        self.j0 = self.lo // self.k1
        nb = max(0, -(-self.hi // self.k1) - self.j0)
        self.l1_lo = np.full((n, nb), np.nan, np.float32)
        self.l1_hi = np.full((n, nb), np.nan, np.float32)
        step = self.k1 * 8192
        for a in range(self.j0 * self.k1, self.hi, step):
            y = self._read(a, min(a + step, self.hi))
            b0, mn, mx = minmax(y, y, a, self.k1)
            self.l1_lo[:, b0 - self.j0:b0 - self.j0 + mn.shape[1]] = mn
            self.l1_hi[:, b0 - self.j0:b0 - self.j0 + mx.shape[1]] = mx

    def span(self):
        return self.lo, self.hi

    def _read(self, i0: int, i1: int) -> np.ndarray:
        """Samples [i0, i1) from the file in EU, NaN where the file has none or they are damaged."""
        out = np.full((len(self.scalings), max(0, i1 - i0)), np.nan, np.float32)
        pieces = [(max(i0, self.lo), min(i1, self.hi))]
        for da, db in self._bad:  # leave the damaged spans out
            pieces = [q for a, b in pieces for q in ((a, min(b, da)), (max(a, db), b)) if q[0] < q[1]]
        for a, b in pieces:
            if a >= b:
                continue
            # the span from half a sample before a to half a sample before b holds exactly [a, b)
            ta, tb = (float(x) for x in self.run.times(self.stream, np.array([a - 0.5, b - 0.5])))
            segs, rows = self.run.rows(self.stream, (ta, tb))
            for s0, p0, n in segs:
                out[:, s0 - i0:s0 - i0 + n] = scale_block(rows[p0:p0 + n], self.scalings)
        return out

    def full(self, i0, i1):
        c0, c1, data = self._cache
        if data is None or i0 < c0 or i1 > c1:
            # Read a margin around the request, so a playing window reuses it for a while.
            pad = max(i1 - i0, int(self.meta.rate_hz))
            c0, c1 = i0 - pad, i1 + pad
            data = self._read(c0, c1)
            self._cache = (c0, c1, data)
        return data[:, i0 - c0:i1 - c0]

    def level1(self, j0, j1):
        nb = self.l1_lo.shape[1]
        a, b = j0 - self.j0, j1 - self.j0
        if 0 <= a and b <= nb:
            return self.l1_lo[:, a:b], self.l1_hi[:, a:b]
        lo = np.full((self.l1_lo.shape[0], j1 - j0), np.nan, np.float32)
        hi = lo.copy()
        ca, cb = max(a, 0), min(b, nb)
        if ca < cb:
            lo[:, ca - a:cb - a] = self.l1_lo[:, ca:cb]
            hi[:, ca - a:cb - a] = self.l1_hi[:, ca:cb]
        return lo, hi
