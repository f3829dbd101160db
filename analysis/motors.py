"""Solid and hybrid motors: burn-rate law, oxidizer flow, regression rate, O/F.

Run when the rig gives the grain (``[article.grain]``, :class:`hotfire.core.rig.Grain`);
the thrust analysis' burn and action times and the pressure integral of
:mod:`hotfire.analysis.performance` are reused. Conventions (kept with the result):

- **mean Pc** over the burn time (10 % of steady thrust, or the stated
  rule) and over the action time (NFPA 1125, 5 % of peak); absolute Pc;
- **propellant mass**: the run's ``propellant_mass_kg`` when given, else the
  grain's (solid: density x volume; hybrid: oxidizer consumed + fuel burnt);
  Isp from mass and c* from the pressure integral follow from it;
- **solid, burn rate a Pc^n** by the mass balance: the propellant burnt by
  time t is the total times the fraction of the pressure integral reached
  (from where Pc rises above its pre-fire level by 5 % of the rise to where it falls back)
  (nozzle flow Pc At / c*, c* constant), hence the web burnt x(t) from the
  grain's volume; r = dx/dt over ``FIT_BINS`` bins of the span where Pc is
  at least half its peak and 2 % to 95 % of the web is burnt (no ignition,
  no tail-off), and ``ln r = ln a + n ln Pc`` fitted by least squares, a and
  n with their standard errors from the residuals (a in mm/s at Pc in MPa);
  also the **mean burn rate**, web / burn time;
- **hybrid**: oxidizer consumed from the oxidizer tank scale (mass before T0
  less after the tail-off) or the integrated flow meter; its mean flow over
  the burn time; the fuel burnt from the run's (or the grain's)
  ``fuel_mass_burnt_kg``, else from the port diameter after the firing
  (``final_port_diameter_mm``), which is otherwise computed from the fuel
  burnt; **mean regression rate** (D_after - D_before) / (2 burn time);
  **mean oxidizer flux** mean flow / area of the mean port diameter;
  **O/F** oxidizer consumed / fuel burnt; with a tank scale, **a and n of
  r = a G_ox^n** (:func:`fit_regression`: the total flow follows Pc, the
  oxidizer flow is the scale's drop, the fuel their difference, hence the
  port diameter over time; 8 bins, least squares in log space);
- with the grain's propellant mass, the mean Pc over the firing and c* from the
  pressure integral are over where Pc is above its pre-fire level by 5 % of
  its rise (:func:`pc_firing`), not the thrust's 1 % crossings, which noise
  moves away from the burn.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from hotfire.core.timeseries import integrate, smooth
from hotfire.core.grain import bates, port_diameter_after, port_fuel_mass, web_m

FIT_BINS = 40
FIT_PC_FRACTION = 0.5  # of peak Pc
FIT_WEB = (0.02, 0.95)  # fractions of the web
REGRESSION_BINS = 8
FIRING_FRACTION = 0.05  # of the Pc rise: where the mass balance starts and ends


@dataclass
class MotorResult:
    """Results of a solid or hybrid motor (SI, Pc in bar, times from T0; ``a`` in mm/s at Pc in MPa)."""

    motor: str
    channels: list = field(default_factory=list)
    span_s: tuple | None = None
    pc_mean_burn_time_bar: float | None = None
    pc_mean_action_bar: float | None = None
    burn_rate_a: float | None = None
    burn_rate_n: float | None = None
    burn_rate_mean_m_s: float | None = None
    burn_rate_fit: dict = field(default_factory=dict)  # span, bins, residual RMS, pressure range
    ox_mass_kg: float | None = None
    fuel_mass_kg: float | None = None
    ox_mdot_mean_kg_s: float | None = None
    of_mean: float | None = None
    regression_rate_m_s: float | None = None
    gox_mean_kg_m2_s: float | None = None
    regression_a: float | None = None
    regression_n: float | None = None
    regression_fit: dict = field(default_factory=dict)
    final_port_diameter_m: float | None = None
    status: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def pc_firing(t, pc, window) -> tuple[float, float]:
    """Where the chamber pressure is above its pre-fire level by 5 % of its rise, inside ``window``.

    The run of 20 ms means (spikes removed) above that level that holds the peak. The propellant
    burns there: a noisy thrust's 1 % crossings can lie seconds outside the burn, and the
    ambient pressure integrated there is no propellant. NaN samples must be removed first.
    """
    before = pc[t < window[0]]
    base = float(np.median(before)) if len(before) >= 10 else float(np.min(pc))
    inside = (t >= window[0]) & (t <= window[1])
    # spikes out (a 5-sample running median), then 20 ms means; the run above the level that holds the peak
    sm = smooth(median_filter(pc, 5, mode="nearest"), 1.0 / float(np.median(np.diff(t))), 0.02)
    sm = np.where(inside, sm, -np.inf)
    k = int(np.argmax(sm))
    level = base + FIRING_FRACTION * (sm[k] - base)
    below = np.flatnonzero(sm < level)
    lo = below[below < k]
    hi = below[below > k]
    i0 = lo[-1] + 1 if len(lo) else 0
    i1 = hi[0] - 1 if len(hi) else len(t) - 1
    if i1 - i0 < 2:
        raise ValueError("the chamber pressure shows no firing")
    return float(t[i0]), float(t[i1])


# -- the burn-rate law --------------------------------------------------------------

def fit_burn_rate(t, pc, window, grain, bins: int = FIT_BINS) -> dict:
    """a and n of r = a Pc^n from one firing of a BATES grain, by the mass balance (module docstring).

    Parameters
    ----------
    t, pc : ndarray
        Seconds and absolute chamber pressure, Pa (NaN samples are dropped).
    window : (float, float)
        The whole firing (the impulse window): the pressure integral over it is the propellant burnt.
    grain : Grain

    Returns
    -------
    dict
        ``a`` (mm/s at Pc in MPa), ``n``, their standard errors ``u_a``, ``u_n``, ``span_s``,
        ``bins``, ``pc_range_bar``, ``residual_rms`` (of ln r).

    Raises
    ------
    ValueError
        When the span to fit holds too few points or too small a range of Pc.
    """
    fin = np.isfinite(pc)
    t, pc = t[fin], pc[fin]
    a0, a1 = pc_firing(t, pc, window)
    sel = (t >= a0) & (t <= a1)
    t, pc = t[sel], pc[sel]
    if len(t) < 4 * bins:
        raise ValueError(f"{len(t)} samples in the firing: too few to fit a burn rate")
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (pc[1:] + pc[:-1]) * np.diff(t))))
    frac = cum / cum[-1]
    web = web_m(grain)
    xg = np.linspace(0.0, web, 2001)
    _, vg = bates(grain, xg)
    vg[-1] = 0.0
    v0 = vg[0]
    x = np.interp(v0 * (1 - frac), vg[::-1], xg[::-1])  # V decreases with x: interpolate on it reversed
    peak = np.max(pc)
    use = (pc >= FIT_PC_FRACTION * peak) & (x >= FIT_WEB[0] * web) & (x <= FIT_WEB[1] * web)
    idx = np.flatnonzero(use)
    if len(idx) < 2 * bins:
        raise ValueError("too little of the firing is above half its peak Pc with the web burning")
    i0, i1 = idx[0], idx[-1]
    edges = np.linspace(i0, i1, bins + 1).round().astype(int)
    r = (x[edges[1:]] - x[edges[:-1]]) / (t[edges[1:]] - t[edges[:-1]])
    pm = (cum[edges[1:]] - cum[edges[:-1]]) / (t[edges[1:]] - t[edges[:-1]])
    keep = r > 0
    r, pm = r[keep], pm[keep]
    X = np.column_stack([np.ones(len(pm)), np.log(pm / 1e6)])
    y = np.log(r * 1e3)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    res = y - X @ coef
    dof = max(1, len(y) - 2)
    s2 = float(res @ res) / dof
    cov = s2 * np.linalg.inv(X.T @ X)
    if np.ptp(np.log(pm)) < 0.02:
        raise ValueError(f"Pc varies by only {np.ptp(pm) / np.mean(pm) * 100:.1f} % over the fit: n is not "
                         "determined by one firing (a neutral grain)")
    a = float(math.exp(coef[0]))
    return {"a": a, "n": float(coef[1]), "u_a": a * math.sqrt(cov[0, 0]), "u_n": math.sqrt(cov[1, 1]),
            "span_s": [float(t[i0]), float(t[i1])], "bins": int(len(y)),
            "pc_range_bar": [float(pm.min() / 1e5), float(pm.max() / 1e5)], "residual_rms": math.sqrt(s2)}


def fit_regression(t, pc, tm, m_tank, ox_kg, fuel_kg, window, grain, bins: int = REGRESSION_BINS) -> dict:
    """a and n of r = a G_ox^n from one hybrid firing with an oxidizer tank scale (module docstring).

    The total flow follows Pc (its integral is oxidizer + fuel); the oxidizer flow is the scale's drop
    (0.1 s means); the fuel is their difference, hence the port diameter and r = dD/dt / 2 and G_ox, per
    bin over the burn less 0.2 s at each end (the valve strokes). ``a`` in mm/s at G_ox in kg/(m^2 s).
    """
    ok = np.isfinite(pc)
    t, pc = t[ok], pc[ok]
    a0, a1 = pc_firing(t, pc, window)
    sel = (t >= a0) & (t <= a1)
    t, pc = t[sel], pc[sel]
    if a1 - a0 < 0.4 + 0.05 * bins:
        raise ValueError(f"a firing of {a1 - a0:.2f} s is too short to fit a regression law over {bins} bins")
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (pc[1:] + pc[:-1]) * np.diff(t))))
    fin = np.isfinite(m_tank)
    ms = smooth(np.interp(tm, tm[fin], m_tank[fin]), 1.0 / float(np.median(np.diff(tm))), 0.1)
    e = np.linspace(a0 + 0.2, a1 - 0.2, bins + 1)
    total = (ox_kg + fuel_kg) * np.interp(e, t, cum) / cum[-1]
    ox = float(np.interp(a0, tm, ms)) - np.interp(e, tm, ms)
    L, rho, d0 = grain.length_mm * 1e-3, grain.density_kg_m3, grain.port_diameter_mm * 1e-3
    D = np.sqrt(np.maximum(d0 ** 2 + 4 * (total - ox) / (math.pi * rho * L), d0 ** 2))
    dt = np.diff(e)
    r = np.diff(D) / 2 / dt
    G = np.diff(ox) / dt / (math.pi / 4 * (0.5 * (D[1:] + D[:-1])) ** 2)
    keep = (r > 0) & (G > 0)
    if keep.sum() < 4:
        raise ValueError("too few bins with a positive regression rate and oxidizer flux")
    X = np.column_stack([np.ones(keep.sum()), np.log(G[keep])])
    y = np.log(r[keep] * 1e3)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    res = y - X @ coef
    cov = float(res @ res) / max(1, len(y) - 2) * np.linalg.inv(X.T @ X)
    a = float(math.exp(coef[0]))
    return {"a": a, "n": float(coef[1]), "u_a": a * math.sqrt(cov[0, 0]), "u_n": math.sqrt(cov[1, 1]),
            "span_s": [float(e[0]), float(e[-1])], "bins": int(len(y)),
            "gox_range": [float(G[keep].min()), float(G[keep].max())]}


# -- the analysis -------------------------------------------------------------------

def _tank_drop(run, name, burn):
    """Mass a tank scale lost: its mean before T0 less its mean after the tail-off (kg), or None."""
    sig = run.channel(name)
    m = sig.si()
    before = m[(sig.t >= -1.0) & (sig.t <= -0.1)]
    after = m[sig.t >= burn[1] + 0.5]
    if len(before) < 3 or len(after) < 3:
        return None
    return float(np.nanmean(before) - np.nanmean(after[: max(3, len(after) // 2)]))


def _given(run, grain, key):
    v = run.metadata.get(key)
    if v is None:
        v = getattr(grain, key)
    return float(v) if v is not None else None


def analyze_motor(run, perf, pc_arr, picker, impulse_window=None) -> MotorResult | None:
    """The motor results of a run whose rig gives a grain, or None (module docstring).

    Fills ``perf.propellant_mass_kg`` (and Isp from mass, c* from the pressure integral) from the grain
    when the run does not give it, and the fit's standard uncertainties into ``perf.uncertainty``.
    """
    grain = run.article.grain
    if grain is None or perf.burn_start_s is None:
        return None
    from hotfire.analysis.performance import G0, _pressure_integral

    res = MotorResult(grain.motor)
    burn = (perf.burn_start_s, perf.burn_end_s)
    res.span_s = burn
    firing = impulse_window or burn
    tr = perf.thrust
    if pc_arr is not None:
        t, pc = pc_arr
        ok = np.isfinite(pc)
        res.channels.append(picker.pick("chamber_pressure").name)
        res.pc_mean_burn_time_bar = integrate(t[ok], pc[ok], *burn) / (burn[1] - burn[0]) / 1e5
        if tr is not None:
            res.pc_mean_action_bar = integrate(t[ok], pc[ok], tr.action_start_s, tr.action_end_s) / \
                                     (tr.action_end_s - tr.action_start_s) / 1e5
    mass = None
    if grain.motor == "solid":
        mass = float(bates(grain, 0.0)[1]) * grain.density_kg_m3
        res.burn_rate_mean_m_s = web_m(grain) / (burn[1] - burn[0])
        if pc_arr is None:
            res.status["burn_rate_a"] = res.status["burn_rate_n"] = {"status": "n/a", "reason": "no chamber pressure"}
        else:
            try:
                fit = fit_burn_rate(*pc_arr, firing, grain)
            except ValueError as exc:
                res.status["burn_rate_a"] = res.status["burn_rate_n"] = {"status": "n/a", "reason": str(exc)}
            else:
                res.burn_rate_a, res.burn_rate_n = fit["a"], fit["n"]
                res.burn_rate_fit = fit
                perf.uncertainty.update(burn_rate_a=fit["u_a"], burn_rate_n=fit["u_n"])
                prov = {"channels": res.channels, "span_s": fit["span_s"], "excluded": []}
                for k in ("burn_rate_a", "burn_rate_n"):
                    res.status[k] = {"status": "ok", "reason": "", "provenance": prov}
    else:
        mass = _hybrid(run, perf, res, grain, burn, picker)
        if res.ox_mass_kg is not None:  # the liquid engine's note does not apply: one tank scale is enough here
            perf.notes[:] = [n for n in perf.notes if not n.startswith("no flow meters nor tank weigh scales")]
    if mass and perf.propellant_mass_kg is None:
        perf.propellant_mass_kg = mass
        perf.notes.append(f"propellant mass {mass:.4f} kg from the grain ({'density x volume' if grain.motor == 'solid' else 'oxidizer consumed + fuel burnt'})")
        if tr is not None:
            perf.isp_from_mass_s = tr.total_impulse_Ns / (mass * G0)
        if pc_arr is not None:
            ok = np.isfinite(pc_arr[1])
            try:
                win = pc_firing(pc_arr[0][ok], pc_arr[1][ok], firing)
            except ValueError:
                win = firing
            _pressure_integral(perf, pc_arr, win, run.article, mass)
            perf.notes.append(f"mean Pc over the firing and c* from the pressure integral: {win[0]:+.3f} to "
                              f"{win[1]:+.3f} s, where Pc is above its pre-fire level by "
                              f"{FIRING_FRACTION * 100:g} % of its rise")
    elif mass and perf.propellant_mass_kg and abs(mass / perf.propellant_mass_kg - 1) > 0.02:
        perf.notes.append(f"the grain holds {mass:.4f} kg, the run gives {perf.propellant_mass_kg:.4f} kg "
                          "of propellant: the run's is used")
    perf.notes.extend(res.notes)
    return res


def _hybrid(run, perf, res, grain, burn, picker):
    """Oxidizer consumed and its flow, fuel burnt, regression rate, flux, O/F; returns the propellant mass."""
    tb = burn[1] - burn[0]
    scale, meter = (v.name if v else None for v in (picker.pick("ox_tank_mass"), picker.pick("ox_mass_flow", burn)))
    if scale:
        res.ox_mass_kg = _tank_drop(run, scale, burn)
        res.channels.append(scale)
        if res.ox_mass_kg is None:
            res.notes.append(f"{scale}: no settled tank mass before T0 or after the tail-off: oxidizer not measured")
    elif meter:
        sig = run.channel(meter)
        res.ox_mass_kg = integrate(sig.t, sig.si(), burn[0] - 0.3, burn[1] + 0.3)
        res.channels.append(meter)
    else:
        res.notes.append("hybrid: no oxidizer tank scale (role ox_tank_mass) nor flow meter (ox_mass_flow): "
                         "oxidizer flow and O/F not computed")
    if res.ox_mass_kg is not None:
        res.ox_mdot_mean_kg_s = res.ox_mass_kg / tb
    fuel, d_after = _given(run, grain, "fuel_mass_burnt_kg"), _given(run, grain, "final_port_diameter_mm")
    d_after = d_after * 1e-3 if d_after is not None else None
    if fuel is None and d_after is not None:
        fuel = port_fuel_mass(grain, d_after)
    elif fuel is not None and d_after is None:
        d_after = port_diameter_after(grain, fuel)
    if fuel is None:
        why = "no fuel mass burnt nor final port diameter (fuel_mass_burnt_kg, final_port_diameter_mm in the run's metadata or [article.grain])"
        res.notes.append(f"hybrid: {why}: regression rate, O/F, Isp and c* not computed")
        for k in ("fuel_mass_kg", "regression_rate_m_s", "of_mean", "gox_mean_kg_m2_s"):
            res.status[k] = {"status": "n/a", "reason": why}
        return None
    res.fuel_mass_kg, res.final_port_diameter_m = fuel, d_after
    d0 = grain.port_diameter_mm * 1e-3
    res.regression_rate_m_s = (d_after - d0) / (2 * tb)
    if res.ox_mass_kg is None:
        return None
    res.of_mean = res.ox_mass_kg / fuel
    res.gox_mean_kg_m2_s = res.ox_mdot_mean_kg_s / (math.pi / 4 * (0.5 * (d0 + d_after)) ** 2)
    pv = picker.pick("chamber_pressure")
    pcn = pv.name if pv else None
    why = "needs the oxidizer tank scale and the chamber pressure"
    if scale and pcn:
        pcs, sc = run.channel(pcn), run.channel(scale)
        try:
            fit = fit_regression(pcs.t, pcs.si(), sc.t, sc.si(), res.ox_mass_kg, fuel, burn, grain)
        except ValueError as exc:
            why = str(exc)
        else:
            res.regression_a, res.regression_n, res.regression_fit = fit["a"], fit["n"], fit
            perf.uncertainty.update(regression_a=fit["u_a"], regression_n=fit["u_n"])
            prov = {"channels": [pcn, scale], "span_s": fit["span_s"], "excluded": []}
            res.status["regression_a"] = res.status["regression_n"] = {"status": "ok", "reason": "", "provenance": prov}
            why = ""
    if why:
        res.status["regression_a"] = res.status["regression_n"] = {"status": "n/a", "reason": why}
    return res.ox_mass_kg + fuel
