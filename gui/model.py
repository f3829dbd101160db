"""The viewer's data buffers: each stream's recent samples in engineering
units, at two levels, so any window from 5 s to 5 min draws quickly.

Level 0 holds every sample of the last ~10 s (readouts, the spectrum, short
windows). Level 1 holds min/max buckets of ``k1`` samples over the last
5.5 min, kept up to date as blocks arrive; a long window is reduced from
those buckets instead of from millions of samples. ``k1`` is a power of two
and the drawing decimation (:mod:`hotfire.gui.decimate`) aligns buckets to
absolute sample indices, so both levels draw exactly the same picture.

Layout is channel-major ``(n_channels, n)`` float32, and every buffer is
*mirrored* (each value is written at slot ``i % cap`` and ``i % cap + cap``),
so any range of up to ``cap`` items is one contiguous view: no copy when
drawing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hotfire.gui.decimate import bucket_size, minmax

#: most buckets a chart asks for (a 4K screen's width)
MAX_BUCKETS = 4096


def pow2(x: float) -> int:
    """The smallest power of two >= x (at least 1)."""
    return 1 << max(0, int(np.ceil(np.log2(max(1.0, x)))))


@dataclass
class Trace:
    """A decimated window of every channel of a stream.

    Bucket ``j`` covers samples ``[(b0 + j) k, (b0 + j + 1) k)``; with
    ``k == 1``, ``lo`` is ``hi`` and holds the samples themselves.
    """

    k: int
    b0: int
    lo: np.ndarray  # (n_channels, m)
    hi: np.ndarray

    def times(self, stream) -> np.ndarray:
        """Acquisition time of each bucket's centre."""
        j = np.arange(self.b0, self.b0 + self.lo.shape[-1], dtype=np.float64)
        return stream.time(j * self.k + (self.k - 1) / 2.0)


def scale_block(raw: np.ndarray, scalings) -> np.ndarray:
    """Raw rows ``(n, n_channels)`` to engineering units, channel-major ``(n_channels, n)`` float32."""
    out = np.empty((raw.shape[1], raw.shape[0]), np.float32)
    for j, sc in enumerate(scalings):
        out[j] = sc.to_eu(raw[:, j])
    return out


class Mirror:
    """A mirrored ring of ``(rows, cap)`` float32 indexed by absolute position."""

    def __init__(self, rows: int, cap: int):
        self.cap = cap
        self.buf = np.full((rows, 2 * cap), np.nan, np.float32)
        self.start = self.stop = 0  # absolute positions held: [max(start, stop - cap), stop)

    @property
    def lo(self) -> int:
        return max(self.start, self.stop - self.cap)

    def put(self, pos: int, data: np.ndarray | None, count: int | None = None):
        """Write ``data`` ``(rows, n)`` at ``pos`` (or ``count`` NaNs).

        Rewriting the newest items (a partial bucket) is allowed; items more
        than ``cap`` behind the newest are gone.
        """
        n = data.shape[-1] if data is not None else count
        if n > self.cap:  # only the newest cap items survive
            pos, data = pos + n - self.cap, (data[..., n - self.cap:] if data is not None else None)
            n = self.cap
        cap, s = self.cap, pos % self.cap
        k = min(n, cap - s)
        for dst in (s, s + cap):
            self.buf[:, dst:dst + k] = np.nan if data is None else data[:, :k]
        if k < n:
            for dst in (0, cap):
                self.buf[:, dst:dst + n - k] = np.nan if data is None else data[:, k:]
        self.stop = max(self.stop, pos + n)

    def get(self, i0: int, i1: int) -> np.ndarray:
        """Items ``[i0, i1)`` (a view when all are held, else a copy with NaN for the rest)."""
        lo, hi = self.lo, self.stop
        if lo <= i0 and i1 <= hi and i1 - i0 <= self.cap:
            s = i0 % self.cap
            return self.buf[:, s:s + i1 - i0]
        out = np.full((self.buf.shape[0], max(0, i1 - i0)), np.nan, np.float32)
        a, b = max(i0, lo), min(i1, hi)
        if a < b:
            out[:, a - i0:b - i0] = self.get(a, b)
        return out


class StreamStore:
    """Samples of one stream for drawing; subclasses provide the two levels.

    Subclasses set ``meta`` (StreamMeta), ``k1`` and implement ``span``,
    ``full`` and ``level1``.
    """

    meta = None
    k1 = 1

    def span(self) -> tuple[int, int]:
        """Sample indices ``[lo, hi)`` that can be drawn."""
        raise NotImplementedError

    def full(self, i0: int, i1: int) -> np.ndarray:
        """Samples ``[i0, i1)`` of every channel, ``(n_channels, i1 - i0)``, NaN where missing."""
        raise NotImplementedError

    def level1(self, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
        """Min and max of level-1 buckets ``[j0, j1)``, NaN where missing."""
        raise NotImplementedError

    def fetch(self, t0: float, t1: float, n_buckets: int) -> Trace | None:
        """Every channel between acquisition times ``t0`` and ``t1``, decimated to about ``n_buckets``.

        Returns None when the stream has no samples there.
        """
        lo, hi = self.span()
        i0 = max(lo, self.meta.sample(t0))
        i1 = min(hi, self.meta.sample(t1) + 1)
        if i1 <= i0:
            return None
        k = bucket_size(i1 - i0, max(1, min(int(n_buckets), MAX_BUCKETS)))
        if k >= self.k1:
            # Long window: reduce stored buckets (they nest exactly in the wanted ones).
            j0, j1 = i0 // self.k1, -(-i1 // self.k1)
            blo, bhi = self.level1(j0, j1)
            b0, mn, mx = minmax(blo, bhi, j0, k // self.k1)
            return Trace(k, b0, mn, mx)
        y = self.full(i0, i1)
        b0, mn, mx = minmax(y, y, i0, k)
        return Trace(k, b0, mn, mx)

    def mean(self, column: int, t: float, seconds: float) -> float:
        """Mean of one channel over ``seconds`` before acquisition time ``t`` (NaN if none)."""
        lo, hi = self.span()
        i1 = min(hi, self.meta.sample(t) + 1)
        i0 = max(lo, i1 - max(1, int(seconds * self.meta.rate_hz)))
        if i1 <= i0:
            return float("nan")
        y = self.full(i0, i1)[column]
        y = y[np.isfinite(y)]
        return float(y.mean()) if len(y) else float("nan")

    def last_time(self) -> float | None:
        """Acquisition time just after the newest sample, or None if empty."""
        lo, hi = self.span()
        return None if hi <= lo else float(self.meta.time(hi))


class LiveStore(StreamStore):
    """A stream's recent samples, appended block by block as they arrive.

    Parameters
    ----------
    meta : StreamMeta
    seconds0 : float
        At least this much history at full rate (level 0).
    seconds1 : float
        At least this much history as min/max buckets (level 1).
    """

    def __init__(self, meta, seconds0: float = 10.0, seconds1: float = 330.0):
        self.meta = meta
        n = len(meta.channels)
        cap0 = pow2(max(1024, meta.rate_hz * seconds0))
        # k1 <= cap0 / (MAX_BUCKETS / 2): a window drawn from level 0 always fits in it.
        self.k1 = max(1, cap0 // (MAX_BUCKETS // 2))
        self.l0 = Mirror(n, cap0)
        self.l1_lo = Mirror(n, pow2(meta.rate_hz * seconds1 / self.k1))
        self.l1_hi = Mirror(n, self.l1_lo.cap)
        self.started = False
        self.missed = 0  # samples that never reached this viewer

    def span(self):
        if not self.started:
            return 0, 0
        return max(self.l0.start, self.l1_lo.lo * self.k1), self.l0.stop

    def full(self, i0, i1):
        return self.l0.get(i0, i1)

    def level1(self, j0, j1):
        return self.l1_lo.get(j0, j1), self.l1_hi.get(j0, j1)

    def append(self, first: int, eu: np.ndarray) -> None:
        """Add samples ``[first, first + n)``: ``eu`` is ``(n_channels, n)``.

        Samples skipped since the last block become NaN (a break in the
        line, counted in ``missed``); samples already held are ignored.
        """
        n = eu.shape[-1]
        half = self.l0.cap // 2
        if n > half:  # keep level 1 exact: each piece must still be in level 0 when reduced
            for a in range(0, n, half):
                self.append(first + a, eu[:, a:a + half])
            return
        k1, l0 = self.k1, self.l0
        if not self.started:
            self.started = True
            l0.start = l0.stop = first
            self.l1_lo.start = self.l1_lo.stop = self.l1_hi.start = self.l1_hi.stop = first // k1
        if first < l0.stop:
            skip = l0.stop - first
            if skip >= n:
                return
            first, eu, n = first + skip, eu[:, skip:], n - skip
        old = l0.stop
        if first > old:
            self.missed += first - old
            l0.put(old, None, first - old)
        l0.put(first, eu)
        # Recompute every level-1 bucket touched since the last block (the
        # partial one included); buckets older than level 0 are all NaN.
        a = max(old // k1 * k1, l0.lo // k1 * k1)
        if a // k1 > old // k1:
            self.l1_lo.put(old // k1, None, a // k1 - old // k1)
            self.l1_hi.put(old // k1, None, a // k1 - old // k1)
        y = l0.get(a, l0.stop)
        b0, mn, mx = minmax(y, y, a, k1)
        self.l1_lo.put(b0, mn)
        self.l1_hi.put(b0, mx)
