"""Measurement uncertainty of the results, GUM-style.

Inputs are the window means of the channels a result uses (each thrust load
cell, chamber pressure, ox and fuel mass flow). Each has a standard
uncertainty combined from

- **type B**, the channel's ``uncertainty`` table in the rig file:
  ``reading_percent`` (of the reading; of the tared load for thrust, since
  a gain error on the stand's preload cancels in the tare), ``fs_percent`` (of the channel's
  full scale: a load cell's capacity, else the calibrated value at the
  ends of the input range) and ``absolute`` (engineering units). The rig
  file's numbers are taken as **standard uncertainties (k = 1)** of a
  calibration error that stays the same through the run;
- **type A**, the standard error of the window mean (standard deviation
  over the square root of the sample count; samples taken as independent).

The total impulse adds two terms of the thrust's zero, both integrated
over the impulse window of length T: the **tare**'s standard error (the
summed load cells over the tare span cut in ``TARE_BLOCKS`` blocks: the
standard deviation of the block means over the square root of their number,
so 1/f wander counts, which a per-sample standard error would hide), times
T; and the **zero shift** between the tare and the post-fire zero, which
the analysis takes as a linear ramp over the burn when it corrects it: the
true drift lies between a step at the start and a step at the end, a
rectangle of half-width ``|shift| T / 2`` (u = ``|shift| T / (2 sqrt 3)``);
uncorrected (too small to correct), the error lies between 0 and
``shift T``, taken as a rectangle of that half-width (u = ``|shift| T /
sqrt 3``). Measured on the nominal firing of both simulated rigs at ten
noise levels: without them, the impulse error exceeded U (k = 2) with 1/f
noise (0.27 % against 0.22 %) and at stand noise; with them, never.

For tank weigh scales, offsets cancel in the slope: only ``reading_percent``
and the standard error of the fitted slope count. Inputs from different
sensors are uncorrelated. The throat area and the CEA model are taken as
exact (the rig file gives them no uncertainty).

The outputs (thrust, Pc, mass flow, O/F, Isp, c*, CF, and the c*, Isp and
CF efficiencies against CEA at the measured Pc and O/F) are propagated to
first order: ``u(y)^2 = sum (dy/dx_i u(x_i))^2`` with sensitivity
coefficients ``dy/dx_i`` from central differences of the same function
(steps of one standard uncertainty), so the CEA theory's dependence on the
measured Pc and O/F is included. Expanded uncertainties use k = 2 (~95 %).
:func:`monte_carlo` evaluates the same function on random draws, as the
GUM Supplement 1 check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hotfire.core.theory import G0
from hotfire.core import units as U
from hotfire.core.scaling import Calibration
from hotfire.core.runfile.signal import Signal

K_EXPANDED = 2.0
TARE_BLOCKS = 10  # blocks of the tare span for the tare's standard error


def full_scale(info) -> float:
    """A channel's full scale in its engineering units."""
    cal = info.calibration or {"type": "none"}
    if cal.get("type") == "bridge":
        return float(cal["capacity"])
    if cal.get("type") == "table":
        return float(np.max(np.abs(cal["value"])))
    if info.range:
        return float(np.max(np.abs(Calibration(cal).to_eu(np.array(info.range, dtype=float)))))
    return 0.0


def channel_u(info, value_eu: float) -> tuple[float, str]:
    """Type B standard uncertainty of a reading, engineering units, and how it was made."""
    u = info.uncertainty or {}
    parts, terms = [], []
    if "reading_percent" in u:
        parts.append(u["reading_percent"] / 100 * abs(value_eu))
        terms.append(f"{u['reading_percent']:g} % of reading")
    if "fs_percent" in u:
        fs = full_scale(info)
        parts.append(u["fs_percent"] / 100 * fs)
        terms.append(f"{u['fs_percent']:g} % of FS ({fs:g} {info.units})")
    if "absolute" in u:
        parts.append(float(u["absolute"]))
        terms.append(f"{u['absolute']:g} {info.units}")
    return float(math.sqrt(sum(p * p for p in parts))), (", ".join(terms) or "none given in the rig file")


@dataclass
class Input:
    name: str  # e.g. "F[LC-THRUST]"
    value: float  # SI
    u: float  # standard uncertainty, SI
    u_b: float
    u_a: float
    source: str


@dataclass
class Propagation:
    inputs: dict[str, Input]
    values: dict[str, float]
    u: dict[str, float]  # standard uncertainties (k = 1)
    contributions: dict[str, dict[str, float]]  # output -> input -> |c_i u_i|
    notes: list[str] = field(default_factory=list)

    def expanded(self, name: str) -> float:
        return K_EXPANDED * self.u[name]

    def relative(self, name: str) -> float:
        v = self.values[name]
        return self.u[name] / abs(v) if v else float("nan")

    def to_dict(self) -> dict:
        return {
            "k_expanded": K_EXPANDED,
            "inputs": {k: vars(v) for k, v in self.inputs.items()},
            "values": self.values, "u": self.u,
            "U": {k: K_EXPANDED * v for k, v in self.u.items()},
            "contributions": self.contributions, "notes": self.notes,
        }


def model(x: dict, thrust_names, At, theory=None) -> dict:
    """The results as a function of the window means ``x`` (SI)."""
    F = sum(x[f"F[{n}]"] for n in thrust_names) if thrust_names else None
    out = {}
    if F is not None:
        out["thrust_N"] = F
    pc = x.get("Pc")
    if pc is not None:
        out["pc_bar"] = pc / 1e5
    mo, mf = x.get("mdot_ox"), x.get("mdot_fuel")
    if mo is not None and mf is not None:
        mdot = mo + mf
        out["ox_mdot_kg_s"], out["fuel_mdot_kg_s"] = mo, mf
        out["mdot_kg_s"] = mdot
        out["of"] = mo / mf
        if F is not None:
            out["isp_s"] = F / (mdot * G0)
        if pc is not None and At:
            out["c_star_m_s"] = pc * At / mdot
    if pc is not None and At and F is not None:
        out["cf"] = F / (pc * At)
    if theory is not None and pc is not None and "of" in out:
        th = theory(pc / 1e5, out["of"])
        if "c_star_m_s" in out:
            out["c_star_efficiency"] = out["c_star_m_s"] / th.c_star
        if "isp_s" in out:
            out["isp_efficiency"] = out["isp_s"] / th.isp
        if "cf" in out:
            out["cf_efficiency"] = out["cf"] / th.cf
    return out


def gum(func, inputs: dict[str, Input]) -> Propagation:
    """First-order propagation of uncorrelated inputs through ``func`` (dict -> dict)."""
    x0 = {k: v.value for k, v in inputs.items()}
    y0 = func(x0)
    var = {k: 0.0 for k in y0}
    contrib = {k: {} for k in y0}
    for name, inp in inputs.items():
        if inp.u <= 0:
            continue
        xp, xm = dict(x0), dict(x0)
        xp[name] += inp.u
        xm[name] -= inp.u
        yp, ym = func(xp), func(xm)
        for k in y0:
            c_u = (yp[k] - ym[k]) / 2.0  # sensitivity coefficient x u(x_i)
            var[k] += c_u * c_u
            if c_u:
                contrib[k][name] = abs(c_u)
    return Propagation(inputs, y0, {k: math.sqrt(v) for k, v in var.items()}, contrib)


def monte_carlo(func, inputs: dict[str, Input], n: int = 2000, seed: int = 0) -> tuple[dict, dict]:
    """Means and standard deviations of ``func`` over ``n`` normal draws of the inputs."""
    rng = np.random.default_rng(seed)
    names = list(inputs)
    draws = {k: rng.normal(inputs[k].value, inputs[k].u, n) if inputs[k].u > 0 else np.full(n, inputs[k].value)
             for k in names}
    ys = [func({k: float(draws[k][i]) for k in names}) for i in range(n)]
    keys = ys[0].keys()
    arr = {k: np.array([y[k] for y in ys]) for k in keys}
    return {k: float(a.mean()) for k, a in arr.items()}, {k: float(a.std(ddof=1)) for k, a in arr.items()}


def _channels(channels):
    """``channels`` as :class:`~hotfire.analysis.channels.Channels` (a Run stands for its rig's roles)."""
    from hotfire.analysis.channels import Channels

    return channels if isinstance(channels, Channels) else Channels.from_roles(channels)


def _by_name(channels) -> dict:
    return {v.name: v for v in channels.views()}


def window_inputs(channels, window, perf, tares: dict | None = None) -> tuple[dict[str, Input], list[str]]:
    """The uncertain inputs of one steady window.

    Parameters
    ----------
    channels : Channels or Run
        The views the analysis read (:class:`~hotfire.analysis.channels.Channels`); the window
        names the ones it used (``window.channels``). A Run stands for its rig's roles.
    window : Window
    perf : Performance
    tares : dict, optional
        Each load cell's tare, N (:func:`tare_by_channel`).
    """
    views = _by_name(_channels(channels))
    notes = []
    inputs: dict[str, Input] = {}
    a, b = window.start_s, window.end_s
    tares = tares or {}

    def read(name):
        sig = views[name].read((a - 0.01, b + 0.01)).slice(a, b)
        spans = window.excluded(name)  # failed spans the window's means left out
        if spans:
            keep = np.ones(len(sig.t), bool)
            for x, y in spans:
                keep &= (sig.t < x) | (sig.t > y)
            sig = Signal(sig.name, sig.role, sig.units, sig.t[keep], sig.values[keep], sig.rate_hz)
        return sig

    def add(key, name, value_si=None, slope=False, reading_eu=None):
        info = views[name].info
        sig = read(name)
        scale = U.scale_of(info.units) if U.si_unit(info.units) != info.units else 1.0
        v_eu = float(sig.values.mean())
        if slope:
            tt = sig.t - sig.t.mean()
            coef, cov = np.polyfit(tt, sig.values, 1, cov=True)
            v = -coef[0] * scale
            u_a = math.sqrt(cov[0, 0]) * scale
            r = (info.uncertainty or {}).get("reading_percent", 0.0)
            u_b = r / 100 * abs(v)
            src = f"{r:g} % of reading (offsets cancel in a slope)"
        else:
            v = value_si if value_si is not None else float(U.to_si(v_eu, info.units))
            u_b_eu, src = channel_u(info, v_eu if reading_eu is None else reading_eu)
            u_b = u_b_eu * scale
            u_a = float(sig.values.std(ddof=1) / math.sqrt(len(sig.values))) * scale if len(sig.values) > 1 else 0.0
        inputs[key] = Input(f"{key} ({name})", v, math.sqrt(u_a ** 2 + u_b ** 2), u_b, u_a, src)
        if not info.uncertainty:
            notes.append(f"{name}: no uncertainty in the rig file: only its scatter (type A) counts")

    if "thrust_N" in window.status and window.thrust_N is not None:
        # a load cell estimated from the others, or missing in part of the window: one input, the
        # calculated total, with the cells' calibration errors and the estimate's residual
        u_b, srcs = 0.0, []
        for n in window.channels.get("thrust", []):
            info = views[n].info
            scale = U.scale_of(info.units) if U.si_unit(info.units) != info.units else 1.0
            share = window.thrust_N / max(1, len(window.channels["thrust"]))
            u_n, src = channel_u(info, share / scale)
            u_b += (u_n * scale) ** 2
            srcs.append(f"{n}: {src}")
        extra = max((f["rms"] for f in window.channels.get("thrust_estimated", {}).values()), default=0.0)
        u_b = math.sqrt(u_b + extra ** 2)
        inputs["F[total]"] = Input("F (total thrust, calculated)", window.thrust_N, u_b, u_b, 0.0,
                                   "; ".join(srcs) + f"; estimate residual {extra:.3g} N RMS")
        notes.append(f"thrust: {window.status['thrust_N']['reason']}")
    for n in ([] if "F[total]" in inputs else window.channels.get("thrust", [])):
        info = views[n].info
        sig = read(n)
        tared_si = float(U.to_si(sig.values.mean(), info.units)) - tares.get(n, 0.0)
        # a gain error on the preload cancels in the tare: the reading error is on the tared load
        scale = U.scale_of(info.units) if U.si_unit(info.units) != info.units else 1.0
        add(f"F[{n}]", n, value_si=tared_si, reading_eu=tared_si / scale)
    if "pc" in window.channels:
        add("Pc", window.channels["pc"])
    if "ox_mdot" in window.channels:
        tank = perf.flow_source == "tank mass"
        add("mdot_ox", window.channels["ox_mdot"], slope=tank)
        add("mdot_fuel", window.channels["fuel_mdot"], slope=tank)
    return inputs, notes


@dataclass(frozen=True)
class _Theory:
    c_star: float
    cf: float
    isp: float


def window_model(channels, window, perf):
    """The function of the inputs that gives the results of ``window`` (``channels`` as for :func:`window_inputs`)."""
    art = _channels(channels).article
    At = art.throat_area_m2
    theory = None
    from hotfire.analysis.window import THEORY_FIELDS, _linearized

    if not art.missing(*THEORY_FIELDS) and window.pc_bar and window.of:
        # CEA linear about the window's point: the inputs move it by fractions of a percent
        local = _linearized(art, window.pc_bar, window.of)

        def theory(pc_bar, of):
            c_star, cf, isp = local.at(pc_bar, of)
            return _Theory(float(c_star), float(cf), float(isp))
    names = ["total"] if "thrust_N" in window.status and window.thrust_N is not None \
        else window.channels.get("thrust", [])
    return lambda x: model(x, names, At, theory)


def tare_by_channel(thrust, settings=None) -> dict[str, float]:
    """Each load cell's tare, N (mean over the pre-fire window).

    Parameters
    ----------
    thrust : list of ChannelView
        The load cells (``Channels.thrust``).
    settings : ThrustSettings, optional
    """
    from hotfire.analysis.thrust import ThrustSettings

    s = settings or ThrustSettings()
    out = {}
    for v in thrust:
        sig = v.read()
        sel = (sig.t >= s.tare_window_s[0]) & (sig.t <= s.tare_window_s[1])
        out[v.name] = float(sig.si()[sel].mean()) if sel.sum() >= 3 else 0.0
    return out


def propagate(channels, perf) -> dict[str, Propagation]:
    """Uncertainty of every steady window's results, and of the total impulse.

    ``channels`` are the views the analysis read (:class:`~hotfire.analysis.channels.Channels`;
    a Run stands for its rig's roles), ``perf`` its results.

    Fills ``window.uncertainty`` (standard uncertainties, k = 1) of each
    window in ``perf.plateaus`` and ``perf.uncertainty`` for the main
    window, total impulse and Isp from mass. Returns the propagations by
    window index (``"0"``, ``"1"``, ...).
    """
    channels = _channels(channels)
    views = _by_name(channels)
    tares = tare_by_channel(channels.thrust, perf.settings and _thrust_settings(perf))
    out = {}
    for i, w in enumerate(perf.plateaus):
        inputs, notes = window_inputs(channels, w, perf, tares)
        prop = gum(window_model(channels, w, perf), inputs)
        prop.notes = notes
        if channels.article.throat_diameter_mm:
            prop.notes.append("throat area and CEA theory taken as exact")
        w.uncertainty = dict(prop.u)
        out[str(i)] = prop
    if perf.steady is not None:
        perf.uncertainty.update(perf.steady.uncertainty)
    # total impulse: the load cells' calibration errors over the burn
    tr = perf.thrust
    if tr is not None:
        var = 0.0
        for n in tr.channels:
            info = views[n].info
            share = tr.total_impulse_Ns / max(1, len(tr.channels))
            r = (info.uncertainty or {}).get("reading_percent", 0.0) / 100
            fs = (info.uncertainty or {}).get("fs_percent", 0.0) / 100 * full_scale(info) * U.scale_of(info.units)
            ab = (info.uncertainty or {}).get("absolute", 0.0) * U.scale_of(info.units)
            var += (r * share) ** 2 + ((fs ** 2 + ab ** 2) ** 0.5 * tr.burn_time_s) ** 2
        u_tare, u_shift = zero_terms(channels.thrust, tr)
        perf.uncertainty["total_impulse_Ns"] = math.sqrt(var + u_tare ** 2 + u_shift ** 2)
        if perf.isp_from_mass_s and perf.flow_source == "flow meters" and perf.steady is not None:
            # propellant mass: the flow meters' reading error integrates as a reading error
            ch = perf.steady.channels
            m_rel = 0.0
            if "ox_mdot" in ch and perf.of:
                r_ox = (views[ch["ox_mdot"]].info.uncertainty or {}).get("reading_percent", 0.0) / 100
                r_f = (views[ch["fuel_mdot"]].info.uncertainty or {}).get("reading_percent", 0.0) / 100
                m_rel = math.hypot(r_ox * perf.of / (1 + perf.of), r_f / (1 + perf.of))
            rel = math.sqrt((perf.uncertainty["total_impulse_Ns"] / tr.total_impulse_Ns) ** 2 + m_rel ** 2)
            perf.uncertainty["isp_from_mass_s"] = rel * perf.isp_from_mass_s
    return out


def zero_terms(thrust, tr) -> tuple[float, float]:
    """Standard uncertainties (N s) of the total impulse from the tare and from the zero shift (module doc).

    Parameters
    ----------
    thrust : list of ChannelView
        The load cells the analysis summed.
    tr : hotfire.analysis.thrust.ThrustResult
    """
    if not tr.impulse_window_s:
        return 0.0, 0.0
    T = tr.impulse_window_s[1] - tr.impulse_window_s[0]
    u_tare = 0.0
    if tr.tared and tr.tare_span_s:
        a, b = tr.tare_span_s
        total = None
        for v in thrust:
            sig = v.read()
            sel = (sig.t >= a) & (sig.t <= b)
            x = np.asarray(sig.si(), dtype=float)[sel]
            total = x if total is None else total[: len(x)] + x[: len(total)]
        if total is not None and len(total) >= 2 * TARE_BLOCKS:
            n = len(total) // TARE_BLOCKS
            means = np.nanmean(total[: n * TARE_BLOCKS].reshape(TARE_BLOCKS, n), axis=1)
            u_tare = float(np.std(means, ddof=1) / math.sqrt(TARE_BLOCKS)) * T
    u_shift = 0.0
    if tr.zero_shift_N is not None and math.isfinite(tr.zero_shift_N):
        half = abs(tr.zero_shift_N) * T / (2.0 if tr.zero_shift_corrected else 1.0)
        u_shift = half / math.sqrt(3.0)
    return u_tare, u_shift


def _thrust_settings(perf):
    from hotfire.analysis.thrust import ThrustSettings

    s = perf.settings
    return ThrustSettings(tare_window_s=tuple(s.get("tare_window_s", (-1.5, -0.1))))
