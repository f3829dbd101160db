"""Steady windows ("plateaus") of the chamber pressure, robust to the noise of real stands.

The method is a local-slope test against the measured noise, in six steps:

1. **bins and despiking**: the pressure is averaged into bins of at most
   1 ms, then a running median of 5 bins removes single-sample spikes (a
   spike moves one bin; the median ignores it);
2. **local line fits**: over every window of ``steady_fit_s`` (0.2 s) a
   straight line is fitted by least squares (cumulative sums: one pass); its
   slope and the slope's standard error from the fit residuals are kept;
3. **steady test**: a window is steady when ``|slope| <= steady_slope x
   level + 3 x standard error`` and its level is above 20 % of the burn's
   highest: the physical threshold (15 % of Pc per second) widened by what
   the noise alone can produce, so white, 1/f, mains pickup and combustion
   roughness do not break a plateau, while a throttle ramp (tens of % per
   second) or a transient still does;
   and the residuals of its line are no larger than ``K_RMS`` (3) times
   the **noise floor**: the median residual RMS of the burn's windows (at
   least ``RMS_MIN``, 0.2 % of the top, so that a noise-free record is not
   held to its rounding). The slope test alone lets through a window that
   holds a few points of a sudden step at one end: the step inflates the
   slope's standard error as much as it tilts the line, so at 3 % noise the
   windows each side of a burn-through overlap and bridge it. A step's
   residuals are far above the noise's: this test cuts the plateau there;
4. **plateaus**: the union of the steady windows, inside the burn;
5. **edges**: the union's ends are only where the line fits stop passing,
   which a window straddling a corner can do (measured: 50 ms into the start
   transient). Each end is moved to where the pressure, smoothed over
   ``EDGE_SMOOTH_S``, stays within a band of the plateau's level: ``EDGE_BAND``
   (1 %) of the level, or 3 robust standard deviations of the smoothed
   pressure about it when the noise is larger (1/f wander, a chug), by at
   most one fit window inward and half of one outward. An excursion out of
   the band shorter than ``EDGE_EXCURSION_S`` inside the plateau is the
   noise's own (a 3-sigma excursion of the smoothed pressure: a few a
   second at 3 % noise) and does not cut it; when it did, a 2.4 s plateau at
   3 % noise ended 0.09 s early. Then trimmed by ``steady_trim_s`` (default
   0.02 s, which keeps the window off the first 10 ms of a throttle ramp that
   the 1 % band still holds), kept when at least ``min_plateau_s`` long.
   Before the band, a fixed 0.1 s trim at each end left 51-89 % of the true
   plateau of the throttled, abort, burn-through and overpressure firings
   (the start within 1 % of the level to cutoff or to the next throttle
   ramp); now at least 94 % of every plateau of the noise matrix;
6. **masked spans** (NaN: a sensor's failed span, masked by the caller) are
   bridged when no longer than ``MAX_BRIDGE_S`` and the levels each side
   agree (within the slope allowance over the span and 3 standard errors of
   the two means): a sensor that drops out for 0.3 s does not cut the
   plateau it sits in. The caller's means then leave the span out.

Noise limits what can be told apart: a ramp slower than ~3 standard errors
of the slope is steady to this test (at 3 % white noise on a 1 kHz Pc, one
standard error is ~1 % of Pc per second).
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import median_filter

K_SIGMA = 3.0  # standard errors of the slope the noise may add
K_RMS = 3.0  # a window's residual RMS may be this many times the burn's median (the noise floor)
RMS_MIN = 0.002  # least noise floor, fraction of the burn's highest level
BIN_S = 1e-3
DESPIKE_BINS = 5
EDGE_SMOOTH_S = 0.01  # smoothing of the edge test
EDGE_BAND = 0.01  # least half-width of the edge band, fraction of the plateau's level
K_BAND = 3.0  # robust standard deviations of the smoothed pressure about the level
EDGE_EXCURSION_S = 0.02  # an excursion out of the band this long inside a plateau is an edge, not noise
MAX_BRIDGE_S = 1.0  # longest masked span a plateau is carried across


def binned(t, v, bin_s: float = BIN_S):
    """Block means of ``v`` over bins of at most ``bin_s`` (t, v, bin rate in Hz); NaN samples skipped."""
    rate = 1.0 / float(np.median(np.diff(t[:1001])))
    step = max(1, int(rate * bin_s))
    n = len(v) // step * step
    if step == 1:
        return t[:n], np.asarray(v[:n], float), rate
    vv = np.asarray(v[:n], float).reshape(-1, step)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN bin is NaN: masked
        m = np.nanmean(vv, axis=1) if np.isnan(vv).any() else vv.mean(axis=1)
    return t[:n].reshape(-1, step).mean(axis=1), m, rate / step


def local_slopes(x, w):
    """Least-squares line over every window of ``w`` points of ``x`` (evenly spaced).

    Returns
    -------
    mean, slope, se : ndarray
        Per window start (``len(x) - w + 1`` values): the mean, the slope per
        point and the slope's standard error from the residuals.
    """
    n = len(x) - w + 1
    k = np.arange(len(x), dtype=float)
    c = lambda a: np.concatenate(([0.0], np.cumsum(a)))  # noqa: E731
    sx, skx, sxx = c(x), c(k * x), c(x * x)
    Sx = sx[w:] - sx[:n]
    Skx = skx[w:] - skx[:n]
    Sxx = sxx[w:] - sxx[:n]
    k0 = np.arange(n, dtype=float)
    # window indices k0 .. k0+w-1: sums of k and k^2 in closed form
    Sk = w * k0 + w * (w - 1) / 2.0
    Skk_c = w * (w * w - 1) / 12.0  # sum of (k - mean k)^2, the same for every window
    mean = Sx / w
    sxy = Skx - Sk * mean  # sum of (k - mean k)(x - mean x)
    slope = sxy / Skk_c
    sse = np.maximum(Sxx - Sx * mean - slope * sxy, 0.0)
    se = np.sqrt(sse / max(1, w - 2) / Skk_c)
    return mean, slope, se


def find_plateaus(t, pc, burn, settings=None) -> list[tuple[float, float]]:
    """Steady windows of the chamber pressure inside ``burn`` (seconds from T0; module doc).

    Parameters
    ----------
    t, pc : ndarray
        Times (s) and pressure (any unit; NaN samples are skipped).
    burn : (float, float)
    settings : hotfire.analysis.performance.Settings, optional
    """
    if settings is None:
        from hotfire.analysis.performance import Settings

        settings = Settings()
    s = settings
    i0, i1 = np.searchsorted(t, [burn[0] - 0.5, burn[1] + 0.5])
    t, pc = t[i0:i1], pc[i0:i1]
    if len(t) < 10:
        return []
    tb, x, rb = binned(t, pc)
    good = np.isfinite(x)
    if good.sum() < 10:
        return []
    x = np.interp(tb, tb[good], x[good])  # a masked gap is not a plateau (step 3 drops it), only bridged here
    x = median_filter(x, DESPIKE_BINS, mode="nearest")
    w = int(round(getattr(s, "steady_fit_s", 0.2) * rb))
    if w < 5 or len(x) < w:
        return []
    inb = (tb >= burn[0]) & (tb <= burn[1])
    if not inb.any():
        return []
    top = float(np.max(x[inb]))
    scale = max(abs(top), 1e-12)
    mean, slope, se = local_slopes(x / scale, w)
    slope_s, se_s = slope * rb, se * rb  # fraction of the top per second
    gap = np.convolve(~good, np.ones(w), "valid") > 0  # windows that hold masked samples
    start_t, end_t = tb[:len(mean)], tb[w - 1:]
    candidate = (mean > 0.2) & ~gap & (start_t >= burn[0]) & (end_t <= burn[1])
    if not candidate.any():
        return []
    rms = se * np.sqrt(w * (w * w - 1) / 12.0)  # residual RMS of each window's line
    floor = max(float(np.median(rms[candidate])), RMS_MIN)
    steady = (candidate & (np.abs(slope_s) <= s.steady_slope * np.maximum(mean, 1e-9) + K_SIGMA * se_s)
              & (rms <= K_RMS * floor))
    cover = np.zeros(len(x) + 1)
    idx = np.flatnonzero(steady)
    np.add.at(cover, idx, 1)
    np.add.at(cover, idx + w, -1)
    ok = np.cumsum(cover)[:-1] > 0
    edges = np.diff(np.concatenate(([0], ok.view(np.int8), [0])))
    runs = list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))
    runs = _bridged(runs, x, good, w, rb, floor * scale, s.steady_slope)
    xs = _smoothed(x, max(1, int(round(EDGE_SMOOTH_S * rb))))
    lo_i, hi_i = np.searchsorted(tb, burn[0]), np.searchsorted(tb, burn[1], "right")
    out = []
    for a, b in runs:
        a, b = _edges(xs, good, a, b, w, lo_i, hi_i, rb)
        ta, tb_ = float(tb[a]) + s.steady_trim_s, float(tb[b - 1]) - s.steady_trim_s
        if tb_ - ta >= s.min_plateau_s:
            out.append((ta, tb_))
    return out


def _smoothed(x, k):
    """Centred moving average over ``k`` bins (the ends: the mean of what there is)."""
    if k <= 1:
        return x
    c = np.concatenate(([0.0], np.cumsum(x)))
    i = np.arange(len(x))
    lo, hi = np.maximum(i - k // 2, 0), np.minimum(i + k // 2 + 1, len(x))
    return (c[hi] - c[lo]) / (hi - lo)


def _edges(xs, good, a, b, w, lo_i, hi_i, rb):
    """Bin range [a, b) of a plateau moved to where the smoothed pressure ``xs`` holds the plateau's level
    (module doc, step 5): at most ``w`` bins inward, ``w // 2`` outward, inside the burn [lo_i, hi_i)."""
    inner = slice(a + w // 2, b - w // 2) if b - a > 2 * w else slice(a, b)
    vals = xs[inner][good[inner]]
    if len(vals) < 3:
        return a, b
    level = float(np.median(vals))
    mad = float(np.median(np.abs(vals - level)))
    band = max(EDGE_BAND * abs(level), K_BAND * 1.4826 * mad)
    inside = (np.abs(xs - level) <= band) | ~good  # a masked bin does not end a plateau (bridged or not)
    long_out = max(2, int(round(EDGE_EXCURSION_S * rb)))
    i0, i1 = max(lo_i, a - w // 2), min(a + w, b - 1)
    cut = _departures(~inside[i0:i1], long_out, outer="start")
    na = i0 + (int(cut[-1][1]) if cut else 0)
    j0, j1 = max(a + 1, b - w), min(hi_i, b + w // 2)
    cut = _departures(~inside[j0:j1], long_out, outer="end")
    nb = j0 + (int(cut[0][0]) if cut else j1 - j0)
    return (na, nb) if nb > na else (a, b)


def _departures(out, long_out, outer):
    """Runs [i, j) of ``out`` (bins outside the band) that mark a plateau's edge: the run at the outer side
    (the transient the plateau starts or ends with) and any at least ``long_out`` bins long. Shorter runs
    inside are the noise's own excursions (3 sigma of the smoothed pressure: a few per second, each a few
    ms), which must not cut the plateau."""
    d = np.diff(np.concatenate(([0], out.view(np.int8), [0])))
    runs = list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))
    edge = 0 if outer == "start" else len(out)
    return [(i, j) for i, j in runs if j - i >= long_out or (i == edge if outer == "start" else j == edge)]


def _bridged(runs, x, good, w, rb, noise, slope):
    """Runs of steady bins joined across a masked span between them (module doc, step 6)."""
    out = []
    for a, b in runs:
        if out:
            pa, pb = out[-1]
            between = slice(pb, a)
            gap_s = (a - pb) / rb
            # only a masked span (and at most a window of valid bins about it) between the two
            if (a > pb and (~good[between]).any() and good[between].sum() <= w and gap_s <= MAX_BRIDGE_S):
                before, after = x[max(pa, pb - w):pb], x[a:min(b, a + w)]
                level = 0.5 * (before.mean() + after.mean())
                allowed = slope * abs(level) * (gap_s + w / rb) + 3 * noise * np.sqrt(2.0 / w)
                if abs(after.mean() - before.mean()) <= allowed:
                    out[-1] = (pa, b)
                    continue
        out.append((a, b))
    return out
