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
        window is too short) and ``smooth``.
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
    return {"mean_pa": mean, "pk_percent": float(pk), "rms_percent": float(rms), "exc_percent": float(exc),
            "dominant_hz": dom, "smooth": bool(exc <= SMOOTH_BOUND_PERCENT)}
