"""Chamber-pressure stability figures: the one definition, for the analysis and the live view.

A window's **fluctuation** is the pressure minus its 10 ms centred moving
average (:func:`hotfire.core.timeseries.moving_average`), its **slow part**
that average. Per window, as % of the slow part's mean: the fluctuation's
peak-to-peak, its RMS about its own mean, and its largest excursion from
zero. A window is **smooth** when the excursion stays within
``SMOOTH_BOUND_PERCENT`` (the conventional +-5 % of mean Pc).
``analysis/stability.py`` feeds this per-block sums over a whole record;
the live view feeds it the last fraction of a second.
"""
from __future__ import annotations

import numpy as np

from hotfire.core.timeseries import moving_average

SMOOTH_BOUND_PERCENT = 5.0
DETREND_S = 0.01


def percent_stats(fmin, fmax, fsum, fsumsq, n, slow_mean):
    """Peak-to-peak, RMS and largest excursion of a fluctuation, % of the mean pressure.

    Parameters
    ----------
    fmin, fmax, fsum, fsumsq : float or ndarray
        The fluctuation's extremes, sum and sum of squares per window, Pa.
    n : int
        Samples per window.
    slow_mean : float or ndarray
        The mean of the slow part per window, Pa.

    Returns
    -------
    (pk, rms, exc) : floats or ndarrays, % of ``slow_mean``.
    """
    pk = (fmax - fmin) / slow_mean * 100
    rms = np.sqrt(np.maximum(fsumsq / n - (fsum / n) ** 2, 0.0)) / slow_mean * 100
    exc = np.maximum(fmax, -fmin) / slow_mean * 100
    return pk, rms, exc


def window_figures(pc_pa: np.ndarray, rate_hz: float, detrend_s: float = DETREND_S) -> dict:
    """Stability figures of one window of chamber pressure (Pa), as the live view shows them.

    Parameters
    ----------
    pc_pa : ndarray
        The pressure samples, Pa (at least ~4 detrend windows long).
    rate_hz : float
        Sample rate.

    Returns
    -------
    dict
        ``mean_pa``, ``pk_percent``, ``rms_percent``, ``exc_percent``, ``dominant_hz``
        (the largest FFT bin of the Hann-windowed fluctuation above 20 Hz; None when the
        window is too short), ``smooth``, and ``slow_span_percent`` (how far the slow part moves
        across the window: large in the start and the shutdown).
    """
    x = np.asarray(pc_pa, dtype=np.float64)
    k = max(3, int(round(detrend_s * rate_hz)) | 1)
    if len(x) < 2 * k:
        raise ValueError(f"stability window of {len(x)} samples is shorter than two {k}-sample detrend windows")
    slow = moving_average(x, k)
    fl = x - slow
    mean = float(slow.mean())
    if mean <= 0:
        raise ValueError(f"stability window: mean pressure {mean:g} Pa is not positive")
    pk, rms, exc = percent_stats(fl.min(), fl.max(), fl.sum(), np.dot(fl, fl), len(fl), mean)
    spec = np.abs(np.fft.rfft(fl * np.hanning(len(fl))))
    f = np.fft.rfftfreq(len(fl), 1.0 / rate_hz)
    band = f > 20.0
    dom = float(f[band][np.argmax(spec[band])]) if band.any() else None
    return {"mean_pa": mean, "slow_span_percent": float(np.ptp(slow) / mean * 100), "pk_percent": float(pk), "rms_percent": float(rms), "exc_percent": float(exc),
            "dominant_hz": dom, "smooth": bool(exc <= SMOOTH_BOUND_PERCENT)}


class LiveStability:
    """Rolling stability figures and alarm over the last ``window_s`` of live chamber pressure.

    Feed sample blocks as they arrive with :meth:`feed`. The alarm is armed once the window's
    mean has stayed above ``arm_pa``, with its slow part moving less than ``steady_percent``
    across the window, for ``settle_s`` (the start rise and the shutdown are not oscillations;
    the analysis likewise covers the burn from 0.2 s after its start) and fires when a window's largest
    excursion exceeds ``bound_percent``; ``alarm_t`` is the time of the first such window's end.

    Parameters
    ----------
    rate_hz : float
    window_s : float
        Rolling window, s (default 0.1 s, the analysis' window).
    bound_percent : float
        Alarm threshold on the excursion, % of mean Pc (the rig's; default +-5 %).
    arm_pa : float
        Mean pressure above which the burn counts as started, Pa.
    """

    def __init__(self, rate_hz: float, window_s: float = 0.1, bound_percent: float = SMOOTH_BOUND_PERCENT,
                 arm_pa: float = 5e5, settle_s: float = 0.2, steady_percent: float = 10.0):
        self.steady_percent = steady_percent
        self.rate_hz, self.bound, self.arm_pa, self.settle_s = rate_hz, bound_percent, arm_pa, settle_s
        self.n = max(16, int(round(window_s * rate_hz)))
        self.buf = np.empty(0)
        self.t_end = None
        self.armed_since = None
        self.figures = None
        self.alarm_t = None
        self.alarm_figures = None

    def feed(self, t_last: float, pc_pa: np.ndarray) -> dict | None:
        """Add samples ending at time ``t_last`` (s); return the latest window's figures or None."""
        self.buf = np.concatenate((self.buf, np.asarray(pc_pa, dtype=float)))[-self.n:]
        self.t_end = t_last
        if len(self.buf) < self.n:
            return None
        if self.buf.mean() < self.arm_pa:
            self.armed_since, self.figures = None, None
            return None
        fig = window_figures(self.buf, self.rate_hz)
        if fig["slow_span_percent"] > self.steady_percent:
            self.armed_since = None
        elif self.armed_since is None:
            self.armed_since = t_last
        fig["armed"] = self.armed_since is not None and t_last - self.armed_since >= self.settle_s
        fig["alarm"] = fig["armed"] and fig["exc_percent"] > self.bound
        if fig["alarm"] and self.alarm_t is None:
            self.alarm_t, self.alarm_figures = t_last, fig
        self.figures = fig
        return fig
