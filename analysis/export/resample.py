"""Rate change with an anti-alias filter, and the check that refuses a rate the filter cannot serve.

The filter is a Kaiser-window FIR designed for each ratio (``scipy.signal``'s
``kaiserord`` and ``firwin``) and applied by ``resample_poly``: flat to
``PASS`` (0.8) of the new Nyquist frequency, at least ``STOP_DB`` (60 dB)
down from the new Nyquist frequency on, so nothing aliases above -60 dB.
``resample_poly``'s own default filter has its -6 dB point at the new Nyquist
frequency: content just above it folds back at half its amplitude.

Content between 0.8 and 1.0 of the new Nyquist frequency is in the
transition band: passed at some gain between 1 and 1/1000, neither kept nor
removed. A channel with a tone there (more than ``REFUSE_FRACTION`` of its
power, and more than ``REFUSE_OVER_FLAT`` times what its own noise floor puts
in the band) is refused with the rate that would keep it.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal as ss

PASS = 0.8  # pass-band edge, fraction of the new Nyquist frequency
STOP_DB = 60.0  # least attenuation from the new Nyquist frequency on
REFUSE_FRACTION = 0.01  # of a channel's AC power in the transition band
REFUSE_OVER_FLAT = 10.0  # times what a flat spectrum at its median level puts there
MAX_DENOMINATOR = 1000


class RateRefused(ValueError):
    """The requested rate would pass a channel's content distorted (see the module doc)."""


def ratio(rate_in: float, rate_out: float) -> tuple[int, int]:
    """(up, down) with ``rate_in * up / down == rate_out`` (to 1e-9), small integers."""
    fr = Fraction(rate_out / rate_in).limit_denominator(MAX_DENOMINATOR)
    if fr.numerator == 0 or abs(rate_in * fr.numerator / fr.denominator - rate_out) > 1e-9 * rate_out:
        raise ValueError(f"{rate_out:g} Hz is not a ratio of integers up to {MAX_DENOMINATOR} to the stream's "
                         f"{rate_in:g} Hz; the nearest such rate is {rate_in * fr.numerator / fr.denominator:g} Hz")
    return fr.numerator, fr.denominator


def design(up: int, down: int) -> np.ndarray:
    """The anti-alias (or interpolation) filter for ``up/down``, at ``up`` times the input rate."""
    edge = 1.0 / max(up, down)  # the lower of the two Nyquist frequencies, relative to the filter's own
    numtaps, beta = ss.kaiserord(STOP_DB, (1 - PASS) * edge)
    numtaps |= 1  # odd: a linear-phase filter with a whole-sample delay, which resample_poly removes
    return ss.firwin(numtaps, (1 + PASS) / 2 * edge, window=("kaiser", beta))


def resample(x: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """``x`` sampled at ``rate_in`` resampled to ``rate_out`` through :func:`design`'s filter.

    A line through the first and last samples is taken out before filtering
    and put back after (``padtype="line"``): a record that starts or ends
    away from zero does not ring as a step from zero at its ends.
    """
    up, down = ratio(rate_in, rate_out)
    if up == down:
        return np.asarray(x, dtype=float).copy()
    return ss.resample_poly(np.asarray(x, dtype=float), up, down, window=design(up, down), padtype="line")


def check(x: np.ndarray, rate_in: float, rate_out: float, where: str) -> None:
    """Raise :class:`RateRefused` when ``x`` has content in the transition band of the filter for ``rate_out``.

    Parameters
    ----------
    where : str
        What the message names: file and channel.
    """
    if rate_out >= rate_in or len(x) < 64:
        return
    nyq = rate_out / 2
    f, p = ss.welch(np.asarray(x, dtype=float), fs=rate_in, nperseg=min(len(x), 4096), detrend="linear")
    p = p[1:]
    f = f[1:]
    total = p.sum()
    if not total > 0:
        return
    band = (f >= PASS * nyq) & (f < nyq)
    if not band.any():
        return
    flat = np.median(p) * band.sum()
    inband = p[band].sum()
    if inband > REFUSE_FRACTION * total and inband > REFUSE_OVER_FLAT * flat:
        f_peak = _peak(f, p, int(np.flatnonzero(band)[np.argmax(p[band])]))
        raise RateRefused(
            f"{where}: {inband / total * 100:.1f} % of its signal is at {f_peak:.0f} Hz, between "
            f"{PASS * nyq:.0f} and {nyq:.0f} Hz, where the anti-alias filter for {rate_out:g} Hz neither keeps "
            f"nor removes it; export at {np.ceil(2 * f_peak / PASS):.0f} Hz or more to keep it, or at "
            f"{np.floor(2 * f_peak):.0f} Hz or less to remove it (at least {STOP_DB:g} dB down)")


def _peak(f, p, i) -> float:
    """The frequency of the spectral peak at bin ``i``, between bins (a parabola through the log powers)."""
    if 0 < i < len(p) - 1 and (p[i - 1 : i + 2] > 0).all():
        a, b, c = np.log(p[i - 1 : i + 2])
        den = a - 2 * b + c
        if den < 0:
            return float(f[i] + 0.5 * (a - c) / den * (f[1] - f[0]))
    return float(f[i])
