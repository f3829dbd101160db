"""Smoothing, threshold crossings, gaps and integrals of sampled signals: the one implementation.

The thrust analysis (burn, rise, ignition), the stability analysis
(detrending), the comparison (resampling) and the simulator's ground truth
all smooth and find crossings the same way, so a time they report means
the same thing everywhere.
"""
from __future__ import annotations

import numpy as np

from hotfire.ext import _signal


def moving_average(x: np.ndarray, k: int) -> np.ndarray:
    """Centred moving average over ``k`` (odd) samples; the ends repeat the first/last full mean.

    One pass (``hotfire.ext._signal``): on a 60 s record at 100 kHz, the
    cumulative-sum form took four times as long.
    """
    return _signal.moving_average(np.ascontiguousarray(x, dtype=np.float64), int(k))


def window_samples(seconds: float, rate_hz: float) -> int:
    """The odd number of samples nearest ``seconds`` at ``rate_hz`` (odd: a centred window, no time shift)."""
    return int(round(seconds * rate_hz)) | 1


def smooth(v: np.ndarray, rate_hz: float, seconds: float) -> np.ndarray:
    """Centred moving average over ``seconds`` (an odd number of samples: no time shift).

    ``v`` itself when the window is a single sample.
    """
    n = window_samples(seconds, rate_hz)
    return moving_average(v, n) if n > 1 else v


def crossing_up(t: np.ndarray, v: np.ndarray, level: float, start: int = 0) -> float | None:
    """First time ``v`` rises through ``level`` at or after index ``start``, interpolated; None if never.

    A signal already at or above ``level`` at ``start`` (or at its first
    sample) crosses at that sample's time.
    """
    above = v[start:] >= level
    if not len(above):
        return None
    k = int(np.argmax(above))
    if not above[k]:
        return None
    i = start + k
    if i == 0 or v[i - 1] >= level:
        return float(t[i])
    return float(t[i - 1] + (level - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1]))


def crossing_window(t: np.ndarray, v: np.ndarray, level: float) -> tuple[float, float] | None:
    """First up-crossing and last down-crossing of ``level``, interpolated, or None if never above."""
    above = v >= level
    if not len(above):
        return None
    i = int(np.argmax(above))
    if not above[i]:
        return None
    j = len(v) - 1 - int(np.argmax(above[::-1]))
    a = float(t[i]) if i == 0 else float(t[i - 1] + (level - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1]))
    if j == len(v) - 1:
        b = float(t[j])
    else:
        b = float(t[j] + (v[j] - level) / (v[j] - v[j + 1]) * (t[j + 1] - t[j]))
    return a, b


def burn_window(t: np.ndarray, v: np.ndarray, level: float, min_s: float = 0.0) -> tuple[float, float] | None:
    """Like :func:`crossing_window`, but only the burn: the stretches above ``level`` around the main one.

    Starting from the stretch above ``level`` with the largest integral (the most impulse), a neighbouring stretch above ``level``
    is joined when the dip between them is shorter than the window found so far and it lasts at
    least ``min_s`` (or the dip is shorter than ``min_s``). A short excursion long before or after
    the burn (a spike in a raw logger file, a valve click) is thus no part of it, while a burn that
    dips below the level for a moment stays one burn.
    """
    above = v >= level
    if not above.any():
        return None
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    starts = np.concatenate(([0] if above[0] else [], edges[~above[edges]] + 1)).astype(int)
    ends = np.concatenate((edges[above[edges]], [len(v) - 1] if above[-1] else [])).astype(int)
    csum = np.concatenate(([0.0], np.cumsum(v, dtype=np.float64)))
    k = int(np.argmax(csum[ends + 1] - csum[starts]))
    lo = hi = k
    while True:
        span = t[ends[hi]] - t[starts[lo]]
        grew = False
        if lo > 0:
            dip, dur = t[starts[lo]] - t[ends[lo - 1]], t[ends[lo - 1]] - t[starts[lo - 1]]
            if dip <= span and (dur >= min_s or dip < min_s):
                lo, grew = lo - 1, True
        if hi < len(starts) - 1:
            dip, dur = t[starts[hi + 1]] - t[ends[hi]], t[ends[hi + 1]] - t[starts[hi + 1]]
            if dip <= span and (dur >= min_s or dip < min_s):
                hi, grew = hi + 1, True
        if not grew:
            break
    i, j = starts[lo], ends[hi]
    sub = slice(max(i - 1, 0), min(j + 2, len(v)))
    return crossing_window(t[sub], v[sub], level)


def robust_level(v: np.ndarray) -> float:
    """The median of ``v``, of at most ~100 000 evenly spread samples (a level, not a statistic of the
    noise: on a long steady record, every 10th sample gives the same median in a tenth of the time)."""
    step = max(1, len(v) // 100_000)
    return float(np.median(v[::step]))


#: an interval between samples longer than this many nominal intervals is a gap in the record
GAP_FACTOR = 1.5


def _nominal_dt(t) -> float:
    """The sample interval: the smaller median interval of the record's first and last 1000 samples
    (a gap near one end does not change it)."""
    return float(min(np.median(np.diff(t[:1001])), np.median(np.diff(t[-1001:]))))


def gaps(t, a: float, b: float) -> list[tuple[float, float]]:
    """Gaps of the record over [a, b]: (last sample before, first sample after) of each interval between
    samples longer than ``GAP_FACTOR`` nominal intervals (samples the stream lost, a dropout)."""
    if len(t) < 3:
        return []
    d = np.diff(t)
    k = np.flatnonzero(d > GAP_FACTOR * _nominal_dt(t))
    return [(float(t[i]), float(t[i + 1])) for i in k if t[i] < b and t[i + 1] > a]


def integrate(t, v, a, b) -> float:
    """Trapezoidal integral of the samples over [a, b], with the ends interpolated; gaps left out.

    A gap (:func:`gaps`) is not bridged: the integral is the sum over the
    recorded pieces. Outside the record the first (last) sample is held.
    """
    i, j = np.searchsorted(t, a, "right"), np.searchsorted(t, b, "left")
    if j - i >= 2:
        dt = t[i + 1] - t[i]
        ends_ok = ((i == 0 or t[i] - t[i - 1] <= GAP_FACTOR * dt)
                   and (j == len(t) or t[j] - t[j - 1] <= GAP_FACTOR * dt))
        if ends_ok and abs(t[j - 1] - t[i] - (j - 1 - i) * dt) < 0.5 * dt:
            # evenly sampled (a gap would lengthen the span by a sample or more): one pass
            va, vb = np.interp(a, t, v), np.interp(b, t, v)
            inner = dt * (float(np.sum(v[i:j])) - 0.5 * (v[i] + v[j - 1]))
            return float(inner + 0.5 * (t[i] - a) * (va + v[i]) + 0.5 * (b - t[j - 1]) * (v[j - 1] + vb))
    tt = np.concatenate(([a], t[i:j], [b]))
    vv = np.concatenate(([np.interp(a, t, v)], v[i:j], [np.interp(b, t, v)]))
    if len(t) < 3:
        return float(np.trapezoid(vv, tt))
    # each piece lies in the record's interval [t[k-1], t[k]], k = i .. j: left out when that interval is a gap
    d = np.diff(t)
    k = np.arange(i, j + 1)
    inside = (k > 0) & (k < len(t))
    span = np.zeros(len(k))
    span[inside] = d[k[inside] - 1]
    keep = span <= GAP_FACTOR * _nominal_dt(t)
    return float(np.sum(0.5 * (vv[1:] + vv[:-1]) * np.diff(tt) * keep))
