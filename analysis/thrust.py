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
  ``peak_smooth_s`` within ``smooth_s`` of it, so a fast edge is not
  smeared). Default ``method="steady"``: 10 % of the steady thrust (the
  median thrust where it is above half its maximum). ``method="nfpa1125"``:
  5 % of peak thrust, the NFPA 1125 convention for motors; then there is
  no steady thrust, and every threshold below is a fraction of peak thrust.
  A motor's curve (or an unknown one) without a steady state
  (:func:`steady_state`) is analysed by NFPA 1125 (``hotfire.analysis.performance``);
- **action time**: always the NFPA 1125 one, 5 % of peak thrust to 5 % of
  peak thrust.
- **total impulse**: the trapezoidal integral of the tared thrust between
  the first and last crossing of 1 % of steady thrust (of peak thrust by
  NFPA 1125), so that start and tail-off are included; **average thrust**
  is the impulse inside the burn divided by the burn time.
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
from hotfire.core import health as _health
from hotfire.core.timeseries import (burn_window, crossing_up, crossing_window, gaps,  # noqa: F401 (also imported from here)
                                     integrate, robust_level, smooth)


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
    tare_basis: str = ""  # what the tare was taken on ("the tare window from T0", "the quiet pre-fire data")
    tare_span_s: tuple | None = None
    impulse_window_s: tuple | None = None  # what the total impulse integrates (the impulse threshold's crossings)
    zero_shift_N: float | None = None  # post-fire zero against the tare
    post_fire_span_s: tuple | None = None
    zero_shift_corrected: bool = False
    zero_shift_burn_s: tuple | None = None  # the span the corrected shift ramps over
    estimated_spans: list = field(default_factory=list)  # (from, to): a load cell estimated from the others
    missing_spans: list = field(default_factory=list)  # (from, to): no valid load cell
    gap_spans: list = field(default_factory=list)  # (from, to): gaps in the record inside the impulse window
    status: dict = field(default_factory=dict)  # metric -> {"status": "degraded" | "n/a", "reason"}

    def to_dict(self) -> dict:
        return asdict(self)


def _refined(t, Fs, Fp, level, half):
    """Crossings of ``level`` found on the smoothed thrust ``Fs`` (robust to noise), then
    placed on the lightly smoothed ``Fp`` within ``half`` seconds (a fast edge is not smeared).
    Only the burn around the peak counts: an excursion above ``level`` shorter than 5 smoothing
    windows and farther from the burn than that is left out (:func:`burn_window`)."""
    a, b = burn_window(t, Fs, level, 5 * half)
    i0, i1 = np.searchsorted(t, [a - half, a + half])
    ra = crossing_window(t[i0:i1], Fp[i0:i1], level) if i1 - i0 > 2 else None
    j0, j1 = np.searchsorted(t, [b - half, b + half])
    rb = crossing_window(t[j0:j1], Fp[j0:j1], level) if j1 - j0 > 2 else None
    return (ra[0] if ra else a), (rb[1] if rb else b)


#: a motor's (or an unknown curve's) steady windows must cover at least this fraction of its burn for it to
#: have a steady state (the certified curves' plateau-like stretches cover 17-33 % of theirs)
STEADY_STATE_FRACTION = 0.5


def steady_state(article, plateaus, burn) -> tuple[bool, float]:
    """Whether a firing has a steady state, and the fraction of the burn its steady windows cover.

    A liquid engine (the article names both propellants and has no grain)
    has one whenever a steady window is found: a throttle profile's short
    plateaus are its operating points. A solid or hybrid motor, or a curve
    of unknown origin, has one only when its windows cover at least
    ``STEADY_STATE_FRACTION`` of the burn: a progressive or regressive curve
    passes through a flat stretch without holding it, and a "steady thrust"
    taken there misstates the motor.

    Parameters
    ----------
    article : hotfire.core.rig.Article
    plateaus : list of (float, float)
        Steady windows, seconds from T0.
    burn : (float, float)
    """
    span = max(burn[1] - burn[0], 1e-12)
    covered = sum(min(b, burn[1]) - max(a, burn[0]) for a, b in plateaus if b > a) / span
    liquid = article.grain is None and not article.missing("fuel", "oxidizer")
    return (bool(plateaus) if liquid else covered >= STEADY_STATE_FRACTION), float(covered)


def load_cells(thrust) -> list:
    """The load cells of ``thrust``: a :class:`~hotfire.core.runfile.view.ChannelView`, or a list of them."""
    return list(thrust) if isinstance(thrust, (list, tuple)) else [thrust]


def total_thrust(thrust, settings: ThrustSettings | None = None, health=None):
    """Tared total thrust of load cells (the calculated channel :func:`hotfire.core.calculated.load_cell_total`), N.

    A failed load cell's spans are estimated from the other cells (flagged);
    where no cell is valid the thrust is NaN.

    Parameters
    ----------
    thrust : ChannelView or list of ChannelView
        The load cells, summed (``run.views("thrust")`` for a rig's; any
        force channel, ``run.view("LC-A")``, alone).
    settings : ThrustSettings, optional
    health : dict of ChannelHealth, optional

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
    cells = load_cells(thrust)
    try:
        calc = _calculated.load_cell_total([v.read() for v in cells], health)
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
    calc.tare_span = (float(t[i]), float(t[j - 1])) if tared else None
    calc.tare_basis = "the tare window from T0" if tared else ""
    if not tared:
        quiet = quiet_prefire(t, calc.values, calc.rate_hz, s)
        if quiet is not None:
            tare, calc.tare_span = quiet
            tared = True
            calc.tare_basis = "the quiet pre-fire data" + ("" if cells[0].run.has_t0 else " (no T0 event in the run)")
    return t, calc.values - tare, tare, tared, calc.channels, calc


#: quiet pre-fire data: at most this long, ending this long before the thrust starts to rise
QUIET_S, QUIET_GAP_S = 1.5, 0.1


def quiet_prefire(t, F, rate, s: ThrustSettings):
    """Tare from the data before the thrust rises, when the tare window from T0 holds none: (tare, span) or None.

    The rise is where the thrust, smoothed over ``smooth_s``, first passes
    its lowest level (1st percentile) plus 5 % of its range; the quiet span
    is the ``QUIET_S`` before it, ending ``QUIET_GAP_S`` before it, at least
    0.2 s long and quiet (its standard deviation under 2 % of the range).
    """
    ok = np.isfinite(F)
    if ok.sum() < 10:
        return None
    Fs = smooth(_filled(t, F), rate, s.smooth_s)
    lo, hi = float(np.percentile(Fs, 1)), float(Fs.max())
    rise = crossing_up(t, Fs, lo + 0.05 * (hi - lo))
    if rise is None:
        return None
    b = rise - QUIET_GAP_S
    a = max(float(t[0]), b - QUIET_S)
    if b - a < 0.2:
        return None
    sel = (t >= a) & (t <= b) & ok
    if sel.sum() < 3 or float(np.std(F[sel])) > 0.02 * (hi - lo):
        return None
    return float(np.mean(F[sel])), (a, b)


#: a post-fire zero shift is corrected when larger than this fraction of steady thrust (and than its noise)
ZERO_SHIFT_FRACTION = 0.002


def post_fire_shift(t, F, burn, steady_F, tare_span):
    """The thrust's zero after the burn, against the tare: (shift N, post-fire span) or None.

    The post-fire span starts once the tail-off has settled (``max(0.3 s,
    20 % of the burn)`` after the burn end) and lasts up to 1.5 s; None when
    the record holds less than 0.2 s of it, or it is not quiet.
    """
    a = burn[1] + max(0.3, 0.2 * (burn[1] - burn[0]))
    b = min(float(t[-1]), a + 1.5)
    if b - a < 0.2 or tare_span is None:
        return None
    sel = (t >= a) & (t <= b) & np.isfinite(F)
    if sel.sum() < 10:
        return None
    post = F[sel]
    if float(np.std(post)) > 0.05 * abs(steady_F):
        return None
    return float(np.mean(post)), (a, b), float(np.std(post) / np.sqrt(sel.sum()))


def drift_ramp(t, shift, burn):
    """A zero shift taken as arising during the burn: 0 before it, ``shift`` after it, linear in time over
    it (the stand heats while it fires); what is taken off the thrust when a zero shift is corrected."""
    ta, tb = burn
    return shift * np.clip((t - ta) / max(tb - ta, 1e-9), 0.0, 1.0)


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


def analyze_thrust(thrust, settings: ThrustSettings | None = None, health=None, pc=None,
                   total=None) -> ThrustResult:
    """Thrust metrics of a firing, from its load cells.

    Parameters
    ----------
    thrust : ChannelView or list of ChannelView
        The load cells (summed): ``run.views("thrust")``, or one channel,
        ``run.view("thrust")``. Their run gives T0, the cutoff event and
        whether it was imported.
    settings : ThrustSettings, optional
    health : dict of ChannelHealth, optional
        From :func:`hotfire.core.health.check_run`; failed channels are not used.
    pc : ChannelView, optional
        Chamber pressure, for the ignition delay, Pc rise time and start
        overpressure, and to bridge a span with no valid load cell.
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
    cells = load_cells(thrust)
    run = cells[0].run if cells else None  # events and metadata: T0, cutoff, imported
    t, F, tare, tared, names, calc = total if total is not None else total_thrust(cells, s, health)
    if pc is not None:
        sig = pc.read()
        pv = sig.si()
        h = (health or {}).get(pc.name)
        if h is not None and h.failed_intervals:  # a Pc dropout masks only its own span
            pv = np.array(pv, dtype=float)
            for a, b in h.failed_intervals:
                pv[(sig.t >= a - 0.005) & (sig.t <= b + 0.005)] = np.nan
        pc = (sig.t, pv)
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
    tare_span = getattr(calc, "tare_span", None)
    rate = calc.rate_hz
    if run.imported is not None and not run.has_t0 and not tared:
        t, F, valid_F, start = _rasp_start(t, F, valid_F, rate)
        if start:
            notes.append(f"the curve's first point ({start[0]:.3f} s, {start[1]:.4g} N) is already thrust: by the "
                         "RASP convention it starts from (0, 0), and that first segment is included")
    if not tared:
        notes.append(f"no pre-fire samples in the tare window {s.tare_window_s} s nor quiet pre-fire data: "
                     "thrust not tared (taken as zero-based)")
    elif calc.tare_basis.startswith("the quiet"):
        notes.append(f"thrust tared on {calc.tare_basis}, {tare_span[0]:+.3f} to {tare_span[1]:+.3f} s: "
                     f"{tare:.4g} N")
    shift, burn_first = None, None
    for attempt in range(2):  # again once a post-fire zero shift is taken off
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
        ref = steady_F if s.method == "steady" else peak  # every threshold's reference: no steady thrust by NFPA
        burn = _refined(t, Fs, Fp, frac * ref, s.smooth_s)
        if attempt or not tared:
            break
        shift = post_fire_shift(t, F, burn, ref, tare_span)
        if shift is None or abs(shift[0]) <= max(ZERO_SHIFT_FRACTION * abs(ref), 4 * shift[2]):
            break
        burn_first = burn
        ramp = drift_ramp(t, shift[0], burn)
        F, valid_F = F - ramp, valid_F - ramp
    reference = "steady thrust" if s.method == "steady" else "peak thrust"
    action = _refined(t, Fs, Fp, s.action_threshold * peak, s.smooth_s)
    imp_win = _refined(t, Fs, Fp, s.impulse_threshold * ref, s.smooth_s)
    impulse = integrate(t, valid_F, *imp_win)
    burn_imp = integrate(t, valid_F, *burn)
    # A recording that ends (or starts) mid-burn gives a truncated burn time and impulse; say so rather than
    # report them as the firing's: the first (last) 5 ms of the record are above the burn threshold (their
    # lowest quarter: a curve that starts at 0.3 % of peak and rises steeply is not cut, O5500's 5 ms median was)
    edge = max(4, int(0.005 * rate))
    if float(np.percentile(F[-edge:], 25)) >= frac * ref:
        notes.append("the recording ends during the burn: burn time and impulse cover only what was recorded")
    if float(np.percentile(F[:edge], 25)) >= frac * ref:
        notes.append("the recording starts during the burn: burn time and impulse cover only what was recorded")
    r = ThrustResult(
        channels=names, tare_N=tare, tared=tared,
        thresholds={
            "method": s.method, "burn_fraction": frac,
            "burn_reference": reference,
            "burn_level_N": frac * ref, "action_fraction_of_peak": s.action_threshold,
            "impulse_fraction": s.impulse_threshold, "impulse_reference": reference,
            "impulse_level_N": s.impulse_threshold * ref, "smooth_s": s.smooth_s,
            "peak_smooth_s": s.peak_smooth_s, "tare_window_s": list(s.tare_window_s),
            "ignition_fraction": s.ignition_fraction, "rise_fractions": list(s.rise_fractions),
        },
        steady_thrust_N=steady_F if s.method == "steady" else None,
        burn_start_s=burn[0], burn_end_s=burn[1], burn_time_s=burn[1] - burn[0],
        action_start_s=action[0], action_end_s=action[1], action_time_s=action[1] - action[0],
        total_impulse_Ns=impulse, burn_impulse_Ns=burn_imp,
        average_thrust_N=burn_imp / (burn[1] - burn[0]),
        peak_thrust_N=peak, peak_time_s=float(t[ip]), notes=notes,
    )
    # start transient, on lightly smoothed thrust
    r10, r90 = s.rise_fractions
    i0 = int(np.searchsorted(t, imp_win[0])) - 1
    a = crossing_up(t, Fp, r10 * ref, max(0, i0))
    b = crossing_up(t, Fp, r90 * ref, max(0, i0))
    if a is not None and b is not None:
        r.thrust_rise_time_s = b - a
    # ignition delay: from T0 to the rise of Pc (thrust when no Pc)
    if pc is not None:
        pt, pv = pc
        prate = 1.0 / float(np.median(np.diff(pt[:1001])))
        pvs = smooth(_filled(pt, pv), prate, s.peak_smooth_s)
        pre = (pt >= s.tare_window_s[0]) & (pt <= s.tare_window_s[1]) & np.isfinite(pv)
        base = float(pv[pre].mean()) if pre.sum() >= 3 else float(np.min(pvs))
        mid = pv[np.searchsorted(pt, rough[0]):np.searchsorted(pt, rough[1], "right")]
        steady_pc = robust_level(mid[np.isfinite(mid)])
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
        r.ignition_s = crossing_up(t, Fp, s.ignition_fraction * ref, max(0, i0))
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
    r.tare_basis, r.tare_span_s = getattr(calc, "tare_basis", ""), tare_span
    r.impulse_window_s = imp_win
    if shift is not None:
        r.zero_shift_N, r.post_fire_span_s, r.zero_shift_burn_s = shift[0], shift[1], burn_first
        r.zero_shift_corrected = abs(shift[0]) > max(ZERO_SHIFT_FRACTION * abs(ref), 4 * shift[2])
        if r.zero_shift_corrected:
            notes.append(f"post-fire zero shift {shift[0]:+.4g} N ({shift[0] / ref * 100:+.2f} % of {reference}, "
                         f"{shift[1][0]:+.2f} to {shift[1][1]:+.2f} s): corrected as a zero drift linear "
                         "over the burn")
    r.estimated_spans = [(a, b) for a, b, _ in calc.estimated]
    r.missing_spans = list(calc.missing)
    r.gap_spans = gaps(t, *imp_win)
    r.status = _thrust_status(r, calc, imp_win, bridge[1] if bridge is not None else None, s)
    return r


def zero_shift_health(thrust, r: ThrustResult, health: dict) -> list[str]:
    """A corrected post-fire zero shift as a ``zero shift`` health span of each load cell that shifted
    (:func:`hotfire.core.health.zero_shift`): the names of those cells.

    A cell counts when its own shift exceeds ``ZERO_SHIFT_FRACTION`` of the
    steady thrust (peak thrust when the burn was found by NFPA 1125) shared among the cells (and its noise).
    """
    if not r.zero_shift_corrected or r.tare_span_s is None or r.post_fire_span_s is None:
        return []
    cells = load_cells(thrust)
    ref = r.steady_thrust_N if r.steady_thrust_N is not None else r.peak_thrust_N
    least = ZERO_SHIFT_FRACTION * abs(ref) / max(1, len(cells))
    out = []
    for v in cells:
        h = health.get(v.name)
        if h is None:
            continue
        sig = v.read()
        if _health.zero_shift(h, sig.t, sig.si(), r.tare_span_s, r.post_fire_span_s, least, "N"):
            out.append(v.name)
    return out


def _rasp_start(t, F, valid_F, rate):
    """A thrust curve whose first point (within 0.1 s of t = 0) is already well above zero starts from (0, 0)
    (RASP's convention): the samples from 0 to it, a straight line, are put in front. Returns t, F, valid_F and
    (time, thrust) of the first point, or None when nothing was added."""
    t0, F0 = float(t[0]), float(F[0])
    if not (0 < t0 <= 0.1) or F0 <= 0.05 * float(np.nanmax(F)):
        return t, F, valid_F, None
    k = int(round(t0 * rate))
    if k < 1:
        return t, F, valid_F, None
    tp = t0 - np.arange(k, 0, -1) / rate
    Fp = F0 * np.clip(tp / t0, 0.0, None)
    return (np.concatenate((tp, t)), np.concatenate((Fp, F)), np.concatenate((Fp, valid_F)), (t0, F0))


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


#: the fit of thrust on Pc needs Pc to vary by this fraction of its largest over the fitted points
PC_SPREAD = 0.05


def _bridge_with_pc(t, F, pc):
    """Thrust over the spans where no load cell is valid, from the chamber pressure: (F filled, (a, b, rms)).

    In a nozzle flowing full ``F = At (CF_vac Pc - eps pa)``: a straight
    line in Pc, fitted here where the thrust is valid and above 20 % of its
    largest. None without a Pc or too few points.
    """
    if pc is None:
        return None
    pt, pv = pc
    p = np.interp(t, pt, pv)  # NaN where the Pc is masked: no thrust made up there
    ok = np.isfinite(F)
    top = np.nanmax(F)
    sel = ok & (F > 0.2 * top) & np.isfinite(p)
    if sel.sum() < 20:
        return None
    idx = np.flatnonzero(sel)[:: max(1, int(sel.sum()) // 200_000)]
    x, y = p[idx], F[idx]
    if float(np.ptp(x)) > PC_SPREAD * float(np.max(np.abs(x))):
        b, a = np.polyfit(x, y, 1)
    else:  # a flat Pc does not fix a line (polyfit: rank-deficient): F proportional to Pc, the CF At Pc term
        a, b = 0.0, float(np.dot(x, y) / np.dot(x, x)) if np.dot(x, x) > 0 else 0.0
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
    if r.gap_spans:
        # the thrust at each gap's ends times its length: what the pieces' integral lacks, roughly
        t, F = calc.t, np.nan_to_num(calc.values - r.tare_N)
        lost = sum((b - a) * 0.5 * float(np.interp(a, t, F) + np.interp(b, t, F)) for a, b in r.gap_spans)
        reason = (f"{len(r.gap_spans)} gap(s) in the record ({where(r.gap_spans[:3])}"
                  f"{', ...' if len(r.gap_spans) > 3 else ''}; {sum(b - a for a, b in r.gap_spans):.3g} s "
                  "without samples): not integrated across, the impulse is the recorded pieces', a lower bound "
                  f"(~{lost:.4g} N s, {lost / max(abs(r.total_impulse_Ns), 1e-12) * 100:.2g} % of it, missing "
                  "by the thrust at the gaps' ends)")
        mark(("total_impulse_Ns",), reason)
        spans_of = {"burn_impulse_Ns": (r.burn_start_s, r.burn_end_s), "average_thrust_N": (r.burn_start_s, r.burn_end_s),
                    "shutdown_impulse_Ns": (r.cutoff_s, imp_win[1]) if r.cutoff_s is not None else None}
        for m, span in spans_of.items():
            if span is not None and hit(r.gap_spans, *span):
                mark((m,), reason)
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
