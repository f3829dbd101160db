"""Peak-preserving (min/max) decimation for drawing.

A 5-minute window of a 10 kHz channel is 3 million samples and a chart is
about 1500 pixels wide: drawing every sample is slow, and keeping every n-th
sample hides spikes. Instead each bucket of ``k`` samples becomes two
points, its minimum and its maximum, so a one-sample spike still reaches its
full height on screen.

Buckets are aligned to absolute sample indices and ``k`` is a power of two,
so (1) the picture does not shimmer as the window scrolls, and (2) buckets
of a coarse level nest exactly in those of a finer one: reducing stored
64-sample min/max buckets by 4 gives the same result as reducing the raw
samples by 256. NaN marks missing samples (gaps) and is ignored inside a
bucket; an all-missing bucket stays NaN, which breaks the drawn line.
"""
from __future__ import annotations

import numpy as np


def bucket_size(n_samples: int, n_buckets: int) -> int:
    """The power of two ``k`` such that ``n_samples / k <= n_buckets``.

    Parameters
    ----------
    n_samples : int
        Samples in the window.
    n_buckets : int
        Buckets wanted at most (about the chart width in pixels).

    Returns
    -------
    int
        1 if the samples already fit.
    """
    if n_samples <= n_buckets or n_buckets < 1:
        return 1
    return 1 << int(np.ceil(np.log2(n_samples / n_buckets)))


def _reduce(y, k, op):
    """Bucket reduction along the last axis of ``y`` (length a multiple of k)."""
    y = y.reshape(y.shape[:-1] + (y.shape[-1] // k, k))
    if k > 16:
        return op.reduce(y, axis=-1)
    # numpy reduces a short last axis one bucket at a time (~40 ns each); for
    # small k, halving pairwise is a few whole-array operations instead.
    while y.shape[-1] > 1:
        y = op(y[..., 0::2], y[..., 1::2])
    return y[..., 0]


def minmax(lo: np.ndarray, hi: np.ndarray, first: int, k: int):
    """Min/max over buckets of ``k`` aligned to multiples of ``k``.

    Parameters
    ----------
    lo, hi : ndarray, shape (..., n)
        Lower and upper values of consecutive items (samples: pass the same
        array twice; or the min and max of finer buckets).
    first : int
        Absolute index of item 0 (sample index, or finer bucket index).
    k : int
        Items per bucket (>= 1).

    Returns
    -------
    b0 : int
        Absolute index of the first bucket, in units of ``k`` items: bucket
        ``j`` covers items ``[(b0 + j) k, (b0 + j + 1) k)`` (the first and
        last bucket may be partial).
    lo, hi : ndarray, shape (..., m)
    """
    n = lo.shape[-1]
    if k <= 1 or n == 0:
        return first, lo, hi
    a = min(n, (-first) % k)  # items before the first aligned boundary
    m = (n - a) // k
    c = a + m * k
    los, his = [], []
    if a:
        los.append(np.fmin.reduce(lo[..., :a], axis=-1, keepdims=True))
        his.append(np.fmax.reduce(hi[..., :a], axis=-1, keepdims=True))
    if m:
        los.append(_reduce(lo[..., a:c], k, np.fmin))
        his.append(_reduce(hi[..., a:c], k, np.fmax))
    if c < n:
        los.append(np.fmin.reduce(lo[..., c:], axis=-1, keepdims=True))
        his.append(np.fmax.reduce(hi[..., c:], axis=-1, keepdims=True))
    if len(los) == 1:
        return first // k, los[0], his[0]
    return first // k, np.concatenate(los, axis=-1), np.concatenate(his, axis=-1)


def polyline(t: np.ndarray, lo: np.ndarray, hi: np.ndarray | None, min_height: float = 0.0):
    """Points to draw a min/max envelope as one line.

    Each bucket becomes a vertical stroke from its min to its max at the
    bucket's time; consecutive strokes are joined, so the line never leaves
    the envelope.

    Parameters
    ----------
    t : ndarray, shape (m,)
        Bucket times.
    lo, hi : ndarray, shape (m,)
        Bucket min and max; ``hi`` None (or ``lo`` itself) means undecimated samples.
    min_height : float
        Strokes shorter than this (a pixel, in data units) are drawn this tall about
        their middle: Qt's 1-pixel pen lights only the pixels whose centres a line
        crosses, so a quiet trace made of sub-pixel strokes came out as scattered
        dots, or not at all, depending on where the y range put it.

    Returns
    -------
    x, y : ndarray
    """
    if hi is None or hi is lo:
        return t, lo
    x = np.repeat(t, 2)
    y = np.empty(2 * len(lo), dtype=lo.dtype)
    if min_height > 0:
        mid, half = 0.5 * (lo + hi), np.maximum(0.5 * (hi - lo), 0.5 * min_height)
        lo, hi = mid - half, mid + half
    y[0::2] = lo
    y[1::2] = hi
    return x, y
