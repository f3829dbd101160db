"""Ground truth of a simulated run over any window, from the noise-free model.

The simulator stores its scenario with the run; rebuilding the engine model
from it gives the true value of every quantity at any time, so each
measured result can be compared with the truth *by the same definition*
(the same window, the same thresholds) rather than with the simulator's
summary, whose steady window is fixed.
"""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from hotfire.core.theory import G0, theoretical
from hotfire.core.timeseries import crossing_up


def model_of(run):
    """The simulator's engine model and signal generator for a simulated run, or (None, None)."""
    d = run.scenario
    if not d:
        return None, None
    from hotfire.daq.sources.engine import Scenario
    from hotfire.daq.sources.sim import SignalGenerator

    known = {f.name for f in fields(Scenario)}
    kw = {k: v for k, v in d.items() if k in known}
    kw["throttle"] = tuple(tuple(p) for p in kw.get("throttle", ()))
    kw["load_share"] = tuple(kw.get("load_share", ()))
    gen = SignalGenerator(run.rig, Scenario(**kw))
    return gen.model, gen


def window_truth(run, window, dt: float = 2e-5) -> dict | None:
    """True means and results over ``window`` (seconds from T0)."""
    m, gen = model_of(run)
    if m is None:
        return None
    t = np.arange(window[0], window[1], dt) + m.t0
    pc = m.chamber_pressure(t).mean()
    F = m.thrust(t).mean()
    mo, mf = m.ox_flow(t).mean(), m.fuel_flow(t).mean()
    mdot = mo + mf
    a = run.article
    out = {"pc_bar": pc / 1e5, "thrust_N": F, "mdot_kg_s": mdot, "c_star_m_s": pc * m.At / mdot, "cf": F / (pc * m.At)}
    if mo > 0 and mf > 0:  # a liquid engine or a hybrid (a solid has no separate flows)
        out.update(ox_mdot_kg_s=mo, fuel_mdot_kg_s=mf, of=mo / mf, isp_s=F / (mdot * G0))
    if mo > 0 and mf > 0 and not a.missing("fuel", "oxidizer"):
        th = theoretical(a.fuel, a.oxidizer, pc / 1e5, mo / mf, a.expansion_ratio, a.ambient_pressure_bar,
                         a.fuel_temperature_K, a.oxidizer_temperature_K)
        out.update(c_star_theory_m_s=th.c_star, isp_theory_s=th.isp, cf_theory=th.cf)
        out["c_star_efficiency"] = out["c_star_m_s"] / th.c_star
        out["isp_efficiency"] = out["isp_s"] / th.isp
        out["cf_efficiency"] = out["cf"] / th.cf
    for side in ("ox", "fuel"):
        chans = run.rig.by_role(f"{side}_injector_pressure")
        if chans:
            p_inj = gen.quantity(chans[0], t, 0).mean()
            out[f"{side}_injector_dp_bar"] = (p_inj - pc) / 1e5
    return out


def thrust_truth(run, burn_fraction: float = 0.10, method: str = "steady", dt: float = 1e-5) -> dict | None:
    """True thrust metrics by the definitions of :mod:`hotfire.analysis.thrust`.

    The steady thrust (reference of the 10 % burn threshold) is the median
    where thrust is above half its maximum, as in the analysis.
    """
    m, _ = model_of(run)
    if m is None:
        return None
    t = np.arange(0.0, m.duration, dt)
    F = m.thrust(t)
    pc = m.chamber_pressure(t)
    tt = t - m.t0
    half = F >= 0.5 * F.max()
    i, j = np.nonzero(half)[0][[0, -1]]
    steady = float(np.median(F[i:j + 1]))
    peak = float(F.max())
    ref = steady if method == "steady" else peak

    def window(level):
        idx = np.nonzero(F >= level)[0]
        return float(tt[idx[0]]), float(tt[idx[-1]])

    b0, b1 = window(burn_fraction * ref)
    a0, a1 = window(0.05 * peak)
    sel = (tt >= b0) & (tt <= b1)
    burn_imp = float(np.trapezoid(F[sel], tt[sel]))
    out = {
        "steady_thrust_N": steady, "burn_start_s": b0, "burn_end_s": b1, "burn_time_s": b1 - b0,
        "action_time_s": a1 - a0, "total_impulse_Ns": float(np.trapezoid(F, t)),
        "burn_impulse_Ns": burn_imp, "average_thrust_N": burn_imp / (b1 - b0), "peak_thrust_N": peak,
    }
    i_ign = int(np.searchsorted(t, m.t0))
    out["thrust_rise_time_s"] = crossing_up(tt, F, 0.9 * steady, i_ign) - crossing_up(tt, F, 0.1 * steady, i_ign)
    base = m.pa
    steady_pc = float(np.median(pc[i:j + 1]))
    rise = steady_pc - base
    out["ignition_delay_s"] = crossing_up(tt, pc, base + 0.1 * rise, i_ign)
    out["pc_rise_time_s"] = crossing_up(tt, pc, base + 0.9 * rise, i_ign) - crossing_up(tt, pc, base + 0.1 * rise, i_ign)
    k = (tt >= b0 - 0.05) & (tt <= b0 + 0.5)
    out["peak_pc_ratio"] = float(pc[k].max() / steady_pc)
    cut = m.t_cut
    after = t >= cut
    out["shutdown_impulse_Ns"] = float(np.trapezoid(F[after], t[after]))
    out["cutoff_s"] = cut - m.t0
    out["propellant_mass_kg"] = float(np.trapezoid(m.mass_flow(t), t))
    out["isp_from_mass_s"] = out["total_impulse_Ns"] / (out["propellant_mass_kg"] * G0)
    s = m.scenario
    out["instability_hz"] = s.instability_hz
    out["instability_amplitude_percent"] = 100 * s.instability_amplitude
    out["instability_onset_s"] = (m.t_ign + s.instability_start_s - m.t0) if s.instability_amplitude else None
    out.update(motor_truth(m, out["burn_time_s"]))
    return out


def motor_truth(m, burn_time_s: float) -> dict:
    """True motor results by the definitions of :mod:`hotfire.analysis.motors` (the burn time given)."""
    motor = getattr(m, "motor", "")
    if motor == "solid":
        return {"burn_rate_a": m.scenario.burn_rate_a, "burn_rate_n": m.scenario.burn_rate_n}
    if motor != "hybrid":
        return {}
    x = m.truth.extras
    d0, d1 = x["initial_port_diameter_mm"] * 1e-3, x["final_port_diameter_mm"] * 1e-3
    ox = x["ox_mass_kg"] / burn_time_s
    return {"regression_a": m.scenario.regression_a, "regression_n": m.scenario.regression_n,
            "ox_mass_kg": x["ox_mass_kg"], "ox_mdot_mean_kg_s": ox, "of_mean": x["of"],
            "regression_rate_m_s": (d1 - d0) / (2 * burn_time_s),
            "gox_mean_kg_m2_s": ox / (np.pi / 4 * (0.5 * (d0 + d1)) ** 2)}
