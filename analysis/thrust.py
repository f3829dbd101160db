"""Thrust: tare, burn detection, impulse, start and shutdown transients.

Conventions, all stored with the result (``ThrustResult.thresholds``) so a
number can be traced to how it was obtained:

- **tare**: each thrust channel's mean over the pre-fire window
  (``tare_window_s``, seconds from T0) is subtracted; several thrust load
  cells are summed after taring. No pre-fire data, no tare (said in notes).
- **peak thrust**: the largest mean over ``peak_smooth_s`` after a
  3-sample running median (a single-sample spike is not thrust);
- **burn**: where the thrust, smoothed over ``smooth_s``, is above a
  threshold (each crossing then placed on the thrust smoothed over
  ``peak_smooth_s`` within ``smooth_s`` of it, so a fast edge is not smeared). Default ``method="steady"``: 10 % of the steady thrust (the
  median thrust where it is above half its maximum). ``method="nfpa1125"``:
  5 % of peak thrust, the NFPA 1125 convention for motors.
- **action time**: always the NFPA 1125 one, 5 % of peak thrust to 5 % of
  peak thrust.
- **total impulse**: the trapezoidal integral of the tared thrust between
  the first and last crossing of 1 % of steady thrust, so that start and
  tail-off are included; **average thrust** is the impulse inside the burn
  divided by the burn time.
- **ignition delay**: T0 (valves commanded open) to the first time the
  chamber pressure (thrust if the rig has no Pc) rises above its pre-fire
  level by 10 % of its steady rise; **rise time**: 10 % to 90 % of steady
  thrust (and of Pc); **shutdown impulse**: the impulse after the cutoff
  event. Crossing times are interpolated between samples.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from hotfire.core import calculated as _calculated
from hotfire.core.timeseries import crossing_up, crossing_window, smooth  # noqa: F401 (also imported from here)


class Unavailable(Exception):
    """A result cannot be computed from this run; the message says why."""


@dataclass
class ThrustSettings:
    tare_window_s: tuple[float, float] = (-1.5, -0.1)
    method: str = "steady"  # "steady" (fraction of steady thrust) or "nfpa1125" (fraction of peak)
    burn_threshold: float | None = None  # None: 0.10 for "steady", 0.05 for "nfpa1125"
    action_threshold: float = 0.05  # NFPA 1125, fraction of peak
    impulse_threshold: float = 0.01  # fraction of steady thrust
    smooth_s: float = 0.02  # smoothing for threshold crossings of the burn
    peak_smooth_s: float = 0.001  # smoothing for peak thrust and the start transient
    ignition_fraction: float = 0.10
    rise_fractions: tuple[float, float] = (0.10, 0.90)

    def threshold(self) -> float:
        if self.burn_threshold is not None:
            return self.burn_threshold
        return 0.05 if self.method == "nfpa1125" else 0.10


@dataclass
class ThrustResult:
    """Thrust metrics; N, N s, seconds (times from T0)."""

    channels: list[str]
    tare_N: float
    tared: bool
    thresholds: dict
    steady_thrust_N: float
    burn_start_s: float
    burn_end_s: float
    burn_time_s: float
    action_start_s: float
    action_end_s: float
    action_time_s: float
    total_impulse_Ns: float
    burn_impulse_Ns: float
    average_thrust_N: float
    peak_thrust_N: float
    peak_time_s: float
    thrust_rise_time_s: float | None = None
    ignition_s: float | None = None
    ignition_delay_s: float | None = None
    ignition_basis: str = ""
    pc_rise_time_s: float | None = None
    peak_pc_ratio: float | None = None  # start overpressure: peak Pc over steady Pc
    cutoff_s: float | None = None
    shutdown_impulse_Ns: float | None = None
    notes: list[str] = field(default_factory=list)
    estimated_spans: list = field(default_factory=list)  # (from, to): a load cell estimated from the others
    missing_spans: list = field(default_factory=list)  # (from, to): no valid load cell
    status: dict = field(default_factory=dict)  # metric -> {"status": "degraded" | "n/a", "reason"}

    def to_dict(self) -> dict:
        return asdict(self)


def robust_level(v: np.ndarray) -> float:
    """The median of ``v``, of at most ~100 000 evenly spread samples (a level, not a statistic of the
    noise: on a long steady record, every 10th sample gives the same median in a tenth of the time)."""
    step = max(1, len(v) // 100_000)
    return float(np.median(v[::step]))


def _refined(t, Fs, Fp, level, half):
    """Crossings of ``level`` found on the smoothed thrust ``Fs`` (robust to noise), then
    placed on the lightly smoothed ``Fp`` within ``half`` seconds (a fast edge is not smeared)."""
    a, b = crossing_window(t, Fs, level)
    i0, i1 = np.searchsorted(t, [a - half, a + half])
    ra = crossing_window(t[i0:i1], Fp[i0:i1], level) if i1 - i0 > 2 else None
    j0, j1 = np.searchsorted(t, [b - half, b + half])
    rb = crossing_window(t[j0:j1], Fp[j0:j1], level) if j1 - j0 > 2 else None
    return (ra[0] if ra else a), (rb[1] if rb else b)


def integrate(t, v, a, b) -> float:
    """Trapezoidal integral of the samples over [a, b], with the ends interpolated."""
    i, j = np.searchsorted(t, a, "right"), np.searchsorted(t, b, "left")
    if j - i >= 2:
        dt = t[i + 1] - t[i]
        if abs(t[j - 1] - t[i] - (j - 1 - i) * dt) < 0.5 * dt:
            # evenly sampled (a gap would lengthen the span by a sample or more): one pass
            va, vb = np.interp(a, t, v), np.interp(b, t, v)
            inner = dt * (float(np.sum(v[i:j])) - 0.5 * (v[i] + v[j - 1]))
            return float(inner + 0.5 * (t[i] - a) * (va + v[i]) + 0.5 * (b - t[j - 1]) * (v[j - 1] + vb))
    tt = np.concatenate(([a], t[i:j], [b]))
    vv = np.concatenate(([np.interp(a, t, v)], v[i:j], [np.interp(b, t, v)]))
    return float(np.trapezoid(vv, tt))


def total_thrust(run, settings: ThrustSettings | None = None, health=None):
    """Tared total thrust (the calculated channel :func:`hotfire.core.calculated.total_thrust`), N.

    A failed load cell's spans are estimated from the other cells (flagged);
    where no cell is valid the thrust is NaN.

    Returns
    -------
    t, F, tare_N, tared, channels, calc
        ``calc`` is the :class:`~hotfire.core.calculated.TotalThrust` (its
        estimated and missing spans).

    Raises
    ------
    Unavailable
        No thrust channel, or no valid thrust sample at all.
    """
    s = settings or ThrustSettings()
    try:
        calc = _calculated.total_thrust(run, health)
    except LookupError as exc:
        raise Unavailable(str(exc)) from None
    t = calc.t
    if not np.isfinite(calc.values).any():
        raise Unavailable("every thrust channel failed over the whole run: "
                          + "; ".join(f"{n}: {'; '.join(health[n].problems)}" for n in calc.channels
                                      if health and n in health))
    i, j = np.searchsorted(t, s.tare_window_s[0], "left"), np.searchsorted(t, s.tare_window_s[1], "right")
    pre = calc.values[i:j]
    pre = pre[np.isfinite(pre)]
    tared = bool(len(pre) >= 3)
    tare = float(pre.mean()) if tared else 0.0
    return t, calc.values - tare, tare, tared, calc.channels, calc


def _filled(t, F):
    """``F`` with its NaN spans bridged linearly (for finding crossings only, never for a result)."""
    bad = ~np.isfinite(F)
    if not bad.any():
        return F
    out = F.copy()
    out[bad] = np.interp(t[bad], t[~bad], F[~bad])
    return out


def pressure_burn(t, pc, settings: ThrustSettings | None = None):
    """The burn found on the chamber pressure, when there is no usable thrust: (start, end) or None.

    The burn is where the pressure, smoothed over ``smooth_s``, is above its
    pre-fire level (the tare window's mean, else its 2nd percentile) by
    ``threshold()`` of its steady rise (the median where the rise is above
    half its largest).
    """
    s = settings or ThrustSettings()
    rate = 1.0 / float(np.median(np.diff(t[:1001])))
    ok = np.isfinite(pc)
    if ok.sum() < 10:
        return None
    t, pc = t[ok], pc[ok]
    ps = smooth(pc, rate, s.smooth_s)
    pre = (t >= s.tare_window_s[0]) & (t <= s.tare_window_s[1])
    base = float(pc[pre].mean()) if pre.sum() >= 3 else float(np.percentile(ps, 2))
    rise = ps - base
    if rise.max() <= 0:
        return None
    rough = crossing_window(t, rise, 0.5 * rise.max())
    steady = robust_level(rise[np.searchsorted(t, rough[0]):np.searchsorted(t, rough[1], "right")])
    return crossing_window(t, rise, s.threshold() * steady)


def analyze_thrust(run, settings: ThrustSettings | None = None, health=None, pc=None,
                   total=None) -> ThrustResult:
    """Thrust metrics of a run.

    Parameters
    ----------
    run : Run
    settings : ThrustSettings, optional
    health : dict of ChannelHealth, optional
        From :func:`hotfire.core.health.check_run`; failed channels are not used.
    pc : (t, Pa) arrays, optional
        Chamber pressure, for the ignition delay and Pc rise time.
    total : tuple, optional
        What :func:`total_thrust` returns for these settings, when the caller has it.

    Raises
    ------
    Unavailable
        No thrust channel, a failed one, or no burn.
    """
    s = settings or ThrustSettings()
    if s.method not in ("steady", "nfpa1125"):
        raise ValueError(f"burn method must be 'steady' or 'nfpa1125', got {s.method!r}")
    t, F, tare, tared, names, calc = total if total is not None else total_thrust(run, s, health)
    notes = calc.notes()
    if calc.missing:
        _enough_thrust(t, F, pc, s)
    bridge = _bridge_with_pc(t, F, pc) if calc.missing else None
    if bridge is not None:
        F, fit = bridge
        notes.append(f"thrust where no load cell is valid estimated from the chamber pressure: F = {fit[0]:.4g} N + "
                     f"{fit[1]:.5g} m2 x Pc (fitted on the burn, residual {fit[2]:.3g} N RMS)")
    valid_F = np.where(np.isfinite(F), F, 0.0)  # without a bridge, integrals cover the valid span only
    F = _filled(t, F)  # crossings and smoothing see any missing span bridged
    if not tared:
        notes.append(f"no pre-fire samples in the tare window {s.tare_window_s} s: thrust not tared")
    rate = run.role("thrust")[0].rate_hz
    Fs = smooth(F, rate, s.smooth_s)
    # single-sample spikes (pickup, a bit error) are no thrust: a 3-sample running median before the peak's mean
    Fp = smooth(median_filter(F, 3, mode="nearest"), rate, s.peak_smooth_s)
    if Fs.max() <= 0:
        raise Unavailable("no burn: the tared thrust never rises above zero")
    rough = crossing_window(t, Fs, 0.5 * Fs.max())
    steady_F = robust_level(F[np.searchsorted(t, rough[0]):np.searchsorted(t, rough[1], "right")])
    ip = int(np.argmax(Fp))
    peak = float(Fp[ip])
    frac = s.threshold()
    ref = steady_F if s.method == "steady" else peak
    burn = _refined(t, Fs, Fp, frac * ref, s.smooth_s)
    action = _refined(t, Fs, Fp, s.action_threshold * peak, s.smooth_s)
    imp_win = _refined(t, Fs, Fp, s.impulse_threshold * steady_F, s.smooth_s)
    impulse = integrate(t, valid_F, *imp_win)
    burn_imp = integrate(t, valid_F, *burn)
    # A recording that ends (or starts) mid-burn gives a truncated burn time and
    # impulse; say so rather than report them as the firing's.
    if burn[1] >= t[-1] - 2 * s.smooth_s:
        notes.append("the recording ends during the burn: burn time and impulse cover only what was recorded")
    if burn[0] <= t[0] + 2 * s.smooth_s:
        notes.append("the recording starts during the burn: burn time and impulse cover only what was recorded")
    r = ThrustResult(
        channels=names, tare_N=tare, tared=tared,
        thresholds={
            "method": s.method, "burn_fraction": frac,
            "burn_reference": "steady thrust" if s.method == "steady" else "peak thrust",
            "burn_level_N": frac * ref, "action_fraction_of_peak": s.action_threshold,
            "impulse_fraction_of_steady": s.impulse_threshold, "smooth_s": s.smooth_s,
            "peak_smooth_s": s.peak_smooth_s, "tare_window_s": list(s.tare_window_s),
            "ignition_fraction": s.ignition_fraction, "rise_fractions": list(s.rise_fractions),
        },
        steady_thrust_N=steady_F,
        burn_start_s=burn[0], burn_end_s=burn[1], burn_time_s=burn[1] - burn[0],
        action_start_s=action[0], action_end_s=action[1], action_time_s=action[1] - action[0],
        total_impulse_Ns=impulse, burn_impulse_Ns=burn_imp,
        average_thrust_N=burn_imp / (burn[1] - burn[0]),
        peak_thrust_N=peak, peak_time_s=float(t[ip]), notes=notes,
    )
    # start transient, on lightly smoothed thrust
    r10, r90 = s.rise_fractions
    i0 = int(np.searchsorted(t, imp_win[0])) - 1
    a = crossing_up(t, Fp, r10 * steady_F, max(0, i0))
    b = crossing_up(t, Fp, r90 * steady_F, max(0, i0))
    if a is not None and b is not None:
        r.thrust_rise_time_s = b - a
    # ignition delay: from T0 to the rise of Pc (thrust when no Pc)
    if pc is not None:
        pt, pv = pc
        prate = 1.0 / float(np.median(np.diff(pt[:1001])))
        pvs = smooth(pv, prate, s.peak_smooth_s)
        pre = (pt >= s.tare_window_s[0]) & (pt <= s.tare_window_s[1])
        base = float(pv[pre].mean()) if pre.sum() >= 3 else float(np.min(pvs))
        steady_pc = robust_level(pv[np.searchsorted(pt, rough[0]):np.searchsorted(pt, rough[1], "right")])
        rise = steady_pc - base
        j0 = max(0, int(np.searchsorted(pt, imp_win[0] - 0.5)))
        ign = crossing_up(pt, pvs, base + s.ignition_fraction * rise, j0)
        p10 = crossing_up(pt, pvs, base + r10 * rise, j0)
        p90 = crossing_up(pt, pvs, base + r90 * rise, j0)
        r.ignition_basis = "chamber pressure"
        r.ignition_s = ign
        if p10 is not None and p90 is not None:
            r.pc_rise_time_s = p90 - p10
        k = (pt >= imp_win[0]) & (pt <= imp_win[0] + 0.5)
        if k.any() and steady_pc > 0:
            r.peak_pc_ratio = float(pvs[k].max() / steady_pc)
    else:
        r.ignition_basis = "thrust"
        r.ignition_s = crossing_up(t, Fp, s.ignition_fraction * steady_F, max(0, i0))
    if run.has_t0 and r.ignition_s is not None:
        r.ignition_delay_s = r.ignition_s  # times are from T0
    elif not run.has_t0:
        notes.append("no T0 event in the run: ignition delay not computed")
    # shutdown
    r.cutoff_s = run.cutoff
    if r.cutoff_s is not None and imp_win[0] < r.cutoff_s < imp_win[1]:
        r.shutdown_impulse_Ns = integrate(t, valid_F, r.cutoff_s, imp_win[1])
    elif r.cutoff_s is None:
        notes.append("no cutoff event in the run: shutdown impulse not computed")
    r.estimated_spans = [(a, b) for a, b, _ in calc.estimated]
    r.missing_spans = list(calc.missing)
    r.status = _thrust_status(r, calc, imp_win, bridge[1] if bridge is not None else None, s)
    return r


def _enough_thrust(t, F, pc, s: ThrustSettings):
    """Raise Unavailable when no load cell is valid over most of the burn (found on Pc when there is one):
    over 80 % of it with a Pc (the rest is bridged from Pc), over 50 % without."""
    burn = pressure_burn(*pc, s) if pc is not None else None
    if burn is None:
        ok = np.isfinite(F)
        burn = crossing_window(t[ok], F[ok], 0.5 * float(F[ok].max())) if ok.any() else None
    if burn is None:
        return
    i, j = np.searchsorted(t, burn)
    lost = float(np.mean(~np.isfinite(F[i:j]))) if j > i else 1.0
    # with a Pc, the missing spans are bridged from a fit on the valid burn: a fifth of it is enough
    if lost > (0.8 if pc is not None else 0.5):
        raise Unavailable(f"no valid load cell over {lost * 100:.0f} % of the burn "
                          f"({burn[0]:+.3f} to {burn[1]:+.3f} s)")


def _bridge_with_pc(t, F, pc):
    """Thrust over the spans where no load cell is valid, from the chamber pressure: (F filled, (a, b, rms)).

    In a nozzle flowing full ``F = At (CF_vac Pc - eps pa)``: a straight
    line in Pc, fitted here where the thrust is valid and above 20 % of its
    largest. None without a Pc or too few points.
    """
    if pc is None:
        return None
    pt, pv = pc
    p = np.interp(t, pt, pv)
    ok = np.isfinite(F)
    top = np.nanmax(F)
    sel = ok & (F > 0.2 * top)
    if sel.sum() < 20:
        return None
    idx = np.flatnonzero(sel)[:: max(1, int(sel.sum()) // 200_000)]
    b, a = np.polyfit(p[idx], F[idx], 1)
    rms = float(np.sqrt(np.mean((F[idx] - (a + b * p[idx])) ** 2)))
    out = np.where(ok, F, np.maximum(a + b * p, 0.0))
    return out, (float(a), float(b), rms)


_IMPULSE_METRICS = ("total_impulse_Ns", "burn_impulse_Ns", "average_thrust_N", "shutdown_impulse_Ns")


def _thrust_status(r: ThrustResult, calc, imp_win, pc_fit, s: ThrustSettings) -> dict:
    """Thrust metrics that depend on estimated or missing spans: metric -> {status, reason}."""
    out = {}

    def hit(sp, a, b):
        return [(x, y) for x, y, *_ in sp if x <= b and y >= a]

    def mark(metrics, why):
        for m in metrics:
            out.setdefault(m, {"status": "degraded", "reason": why})

    def where(sp):
        return ", ".join(f"{a:+.3f} to {b:+.3f} s" for a, b in sp)

    edge = 2 * s.smooth_s
    for spans_, why in (
            ([(a, b) for a, b in calc.missing],
             "no valid load cell ({}): " + ("thrust there estimated from Pc (F = a + b Pc, residual "
                                            f"{pc_fit[2]:.3g} N RMS)" if pc_fit else "covers only the valid span")),
            (calc.estimated, "{}")):
        inside = hit(spans_, *imp_win)
        if not inside:
            continue
        reason = why.format(where(inside)) if spans_ is not calc.estimated else "; ".join(
            f"{a:+.3f} to {b:+.3f} s: {w}" for a, b, w in spans_ if a <= imp_win[1] and b >= imp_win[0])
        mark(("total_impulse_Ns", "burn_impulse_Ns", "average_thrust_N"), reason)
        if r.cutoff_s is not None and hit(spans_, r.cutoff_s, imp_win[1]):
            mark(("shutdown_impulse_Ns",), reason)
        if hit(spans_, r.peak_time_s - edge, r.peak_time_s + edge):
            mark(("peak_thrust_N",), reason)
        for m, (a, b) in (("burn_time_s", (r.burn_start_s, r.burn_end_s)),
                          ("action_time_s", (r.action_start_s, r.action_end_s))):
            if hit(spans_, a - edge, a + edge) or hit(spans_, b - edge, b + edge):
                mark((m,), reason)
    return out
