"""Time-resolved results of a firing: bin means on a common time base, and CEA along the burn."""
from __future__ import annotations

import numpy as np

from hotfire.core.theory import G0
from hotfire.core.timeseries import smooth
from hotfire.analysis.window import THEORY_FIELDS, _linearized, _theory


def time_series(rate_hz: float, thrust_sig, burn, picker, center=None) -> dict:
    """Time-resolved results on a common time base: bin means at ``rate_hz`` from 0.3 s before the burn
    to 0.3 s after it (``"t_s"``: the bin centres), and c*, Isp and their CEA efficiencies per bin.

    The channels are the picker's (:class:`~hotfire.analysis.channels.Picker`,
    healthy over the burn); only the span of the bins is read of each.
    """
    article, flow_source = picker.channels.article, picker.channels.flow_source
    dt = 1.0 / rate_hz
    t0, t1 = burn[0] - 0.3, burn[1] + 0.3
    edges = np.arange(t0, t1 + dt / 2, dt)
    centers = 0.5 * (edges[1:] + edges[:-1])

    span = (t0, float(edges[-1]))
    margin = (t0 - 1.0, span[1] + 1.0)  # a derivative of smoothed samples: its ends stay outside the bins

    def binned(t, v):
        idx = np.searchsorted(t, edges)
        v = v[:idx[-1]]  # reduceat's last sum runs to the end of the array: not past the last bin
        sums = np.add.reduceat(v, np.minimum(idx[:-1], len(v) - 1)) if len(v) else np.zeros(len(centers))
        counts = np.diff(idx)
        out = np.full(len(centers), np.nan)
        ok = counts > 0
        out[ok] = sums[ok] / counts[ok]
        return out

    out = {"t_s": centers}
    if thrust_sig is not None:
        out["thrust_N"] = binned(*thrust_sig)
    pcv, pc_excluded = picker.pick_valid("chamber_pressure", burn)
    if pcv:
        sig = pcv.read(span)
        pc = sig.si()
        for a, b, _ in pc_excluded:  # a failed span: no value there (NaN bins), the rest kept
            pc = np.where((sig.t >= a) & (sig.t <= b), np.nan, pc)
        out["pc_bar"] = binned(sig.t, pc) / 1e5
    if flow_source == "flow meters":
        for side in ("ox", "fuel"):
            v = picker.pick(f"{side}_mass_flow", burn)
            if v:
                sig = v.read(span)
                out[f"{side}_mdot_kg_s"] = binned(sig.t, sig.si())
    elif flow_source == "tank mass":
        for side in ("ox", "fuel"):
            v = picker.pick(f"{side}_tank_mass", burn)
            if v:
                sig = v.read(margin)
                m = sig.si()
                mdot = -np.gradient(smooth(m, sig.rate_hz, 0.1), sig.t)
                out[f"{side}_mdot_kg_s"] = binned(sig.t, mdot)
    burning = (centers >= burn[0]) & (centers <= burn[1])
    thrust = out.get("thrust_N", np.full(len(centers), np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        if "ox_mdot_kg_s" in out and "fuel_mdot_kg_s" in out:
            mdot = out["ox_mdot_kg_s"] + out["fuel_mdot_kg_s"]
            out["mdot_kg_s"] = mdot
            out["of"] = np.where(burning, out["ox_mdot_kg_s"] / out["fuel_mdot_kg_s"], np.nan)
            out["isp_s"] = np.where(burning, thrust / (mdot * G0), np.nan)
            At = article.throat_area_m2
            if "pc_bar" in out and At:
                out["c_star_m_s"] = np.where(burning, out["pc_bar"] * 1e5 * At / mdot, np.nan)
                out["cf"] = np.where(burning, thrust / (out["pc_bar"] * 1e5 * At), np.nan)
            if "pc_bar" in out and not article.missing(*THEORY_FIELDS):
                cs_th, isp_th = _theory_grid(article, out["pc_bar"], out["of"], burning, center)
                if "c_star_m_s" in out:
                    out["c_star_efficiency"] = out["c_star_m_s"] / cs_th
                out["isp_efficiency"] = out["isp_s"] / isp_th
    return out


def _theory_grid(article, pc_bar, of, mask, center=None):
    """CEA c* and Isp at each point: linear about ``center`` (Pc bar, O/F) over a narrow range, else
    interpolated on a small Pc x O/F grid.

    The range is the burn's Pc and O/F (1st-99th percentiles). Within +-5 %
    of Pc and +-0.03 of O/F of the steady point, :class:`Linearized` (whose
    solves the uncertainty analysis shares) is within 0.05 % of c*.
    Otherwise the grid takes as few CEA solves as keep linear interpolation
    within ~0.05 % of c*: a node per 25 % of Pc (c* varies with log Pc,
    weakly) and per 0.1 of O/F (c* is curved in O/F), 2 to 5 nodes each.
    """
    n = len(pc_bar)
    cs, isp = np.full(n, np.nan), np.full(n, np.nan)
    ok = mask & np.isfinite(pc_bar) & np.isfinite(of) & (pc_bar > 1.5 * article.ambient_pressure_bar) & (of > 0)
    if ok.sum() < 2:
        return cs, isp
    p_lo, p_hi = np.percentile(pc_bar[ok], [1, 99])
    o_lo, o_hi = np.percentile(of[ok], [1, 99])
    p_lo, o_lo = max(p_lo, 1.5 * article.ambient_pressure_bar), max(o_lo, 0.05)
    if center is not None and p_lo >= 0.95 * center[0] and p_hi <= 1.05 * center[0] \
            and o_lo >= center[1] - 0.03 and o_hi <= center[1] + 0.03:
        c, _, i = _linearized(article, *center).at(pc_bar[ok], of[ok])
        cs[ok], isp[ok] = c, i
        return _full_flow_only(cs, isp, pc_bar, ok)
    p_hi, o_hi = max(p_hi, p_lo * 1.001), max(o_hi, o_lo * 1.001)
    n_p = int(np.clip(np.ceil(np.log(p_hi / p_lo) / np.log(1.25)) + 1, 2, 5))
    n_o = int(np.clip(np.ceil((o_hi - o_lo) / 0.1) + 1, 2, 5))
    pg, og = np.linspace(p_lo, p_hi, n_p), np.linspace(o_lo, o_hi, n_o)
    C = np.empty((n_p, n_o))
    I = np.empty((n_p, n_o))
    for i, p in enumerate(pg):
        for j, o in enumerate(og):
            th = _theory(article, p, o)
            C[i, j], I[i, j] = th.c_star, th.isp
    from scipy.interpolate import RegularGridInterpolator

    pts = np.column_stack([np.clip(pc_bar[ok], pg[0], pg[-1]), np.clip(of[ok], og[0], og[-1])])
    cs[ok] = RegularGridInterpolator((pg, og), C)(pts)
    isp[ok] = RegularGridInterpolator((pg, og), I)(pts)
    return _full_flow_only(cs, isp, pc_bar, ok)


def _full_flow_only(cs, isp, pc_bar, ok):
    """Isp is only meaningful where the nozzle flows full: drop points below 30 % of peak Pc."""
    low = pc_bar < 0.3 * np.nanmax(pc_bar[ok])
    cs[low], isp[low] = np.nan, np.nan
    return cs, isp
