"""Results over one steady window: the means of the channels valid there and what follows from them.

Each quantity is taken from the first of its candidate channels that
:mod:`hotfire.core.health` finds usable over the window
(:class:`hotfire.analysis.channels.Picker`); the
window's thrust is the tared total thrust's mean over its valid samples.
From the means: mass flow and O/F, Isp = F / (mdot g0), c* = Pc At / mdot,
CF = F / (Pc At), the injector pressure drops, and their theoretical values
from NASA CEA at the window's measured Pc and O/F (hence efficiencies).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from hotfire.analysis.channels import Picker
from hotfire.core import units as U
from hotfire.core.calculated import injector_dp, mixture_ratio
from hotfire.core.theory import G0, Linearized, theoretical

#: the [article] fields CEA needs
THEORY_FIELDS = ("fuel", "oxidizer", "fuel_temperature_K", "oxidizer_temperature_K", "expansion_ratio")


@dataclass
class Window:
    """Means over one steady window (SI units except Pc in bar; times from T0)."""

    start_s: float
    end_s: float
    pc_bar: float | None = None
    thrust_N: float | None = None
    ox_mdot_kg_s: float | None = None
    fuel_mdot_kg_s: float | None = None
    mdot_kg_s: float | None = None
    of: float | None = None
    isp_s: float | None = None
    c_star_m_s: float | None = None
    cf: float | None = None
    c_star_theory_m_s: float | None = None
    isp_theory_s: float | None = None
    cf_theory: float | None = None
    c_star_efficiency: float | None = None
    isp_efficiency: float | None = None
    cf_efficiency: float | None = None
    ox_injector_dp_bar: float | None = None
    fuel_injector_dp_bar: float | None = None
    channels: dict = field(default_factory=dict)  # quantity -> channel(s) used
    uncertainty: dict = field(default_factory=dict)  # quantity -> standard uncertainty (k=1)
    status: dict = field(default_factory=dict)  # quantity -> {"status": "degraded" | "n/a", "reason"}

    def to_dict(self) -> dict:
        return asdict(self)


def _mean(view, window):
    sig = view.read(window).slice(*window)
    return float(U.to_si(sig.values.mean(), sig.units))  # SI is affine in EU: convert the mean only


def _tank_flow(view, window):
    """Outflow from a tank weigh scale over a window: minus the slope of a line fit, kg/s."""
    sig = view.read(window).slice(*window)
    m = sig.si()
    if len(m) < 3:
        raise ValueError(f"{view.name}: too few samples in {window}")
    return float(-np.polyfit(sig.t - sig.t.mean(), m, 1)[0])


def _theory(article, pc_bar, of):
    return theoretical(article.fuel, article.oxidizer, pc_bar, of, article.expansion_ratio,
                       article.ambient_pressure_bar, article.fuel_temperature_K, article.oxidizer_temperature_K)


def _linearized(article, pc_bar, of) -> Linearized:
    """Theory near a point (three CEA solves, shared through the solver's cache)."""
    return Linearized(article.fuel, article.oxidizer, pc_bar, of, article.expansion_ratio,
                      article.ambient_pressure_bar, article.fuel_temperature_K, article.oxidizer_temperature_K)


def window_means(window, picker: Picker, thrust_sig, thrust_calc=None) -> Window:
    """Means over one steady window and the results derived from them.

    The channels are the picker's (:class:`~hotfire.analysis.channels.Picker`:
    the first candidate healthy over the window). ``thrust_sig`` (t, tared
    F) may be None (no usable thrust) and NaN where no load cell is valid;
    ``thrust_calc`` (the total-thrust calculated channel) says where a load
    cell was estimated from the others.
    """
    w = Window(float(window[0]), float(window[1]))
    a = picker.channels.article
    flow_source = picker.channels.flow_source
    if thrust_sig is not None:
        _thrust_mean(w, window, thrust_sig, thrust_calc)
    pc_view = picker.pick("chamber_pressure", window)
    pc = None
    if pc_view:
        pc = _mean(pc_view, window)
        w.pc_bar = pc / 1e5
        w.channels["pc"] = pc_view.name
    if flow_source == "flow meters":
        ox, fu = picker.pick("ox_mass_flow", window), picker.pick("fuel_mass_flow", window)
        if ox and fu:
            w.ox_mdot_kg_s, w.fuel_mdot_kg_s = _mean(ox, window), _mean(fu, window)
            w.channels.update(ox_mdot=ox.name, fuel_mdot=fu.name)
    elif flow_source == "tank mass":
        ox, fu = picker.pick("ox_tank_mass", window), picker.pick("fuel_tank_mass", window)
        if ox and fu:
            w.ox_mdot_kg_s, w.fuel_mdot_kg_s = _tank_flow(ox, window), _tank_flow(fu, window)
            w.channels.update(ox_mdot=ox.name, fuel_mdot=fu.name)
    if w.ox_mdot_kg_s is not None:
        w.mdot_kg_s = w.ox_mdot_kg_s + w.fuel_mdot_kg_s
        of = float(mixture_ratio(w.ox_mdot_kg_s, w.fuel_mdot_kg_s))
        w.of = of if np.isfinite(of) else None
        if w.thrust_N is not None and w.mdot_kg_s > 0:
            w.isp_s = w.thrust_N / (w.mdot_kg_s * G0)
    At = a.throat_area_m2
    if At and pc is not None:
        if w.mdot_kg_s:
            w.c_star_m_s = pc * At / w.mdot_kg_s
        if w.thrust_N is not None:
            w.cf = w.thrust_N / (pc * At)
    if pc is not None and w.of and not a.missing(*THEORY_FIELDS):
        th = _theory(a, w.pc_bar, w.of)
        w.c_star_theory_m_s, w.isp_theory_s, w.cf_theory = th.c_star, th.isp, th.cf
        if w.c_star_m_s:
            w.c_star_efficiency = w.c_star_m_s / th.c_star
        if w.isp_s:
            w.isp_efficiency = w.isp_s / th.isp
        if w.cf:
            w.cf_efficiency = w.cf / th.cf
    for side in ("ox", "fuel"):
        inj = picker.pick(f"{side}_injector_pressure", window)
        if inj and pc is not None:
            setattr(w, f"{side}_injector_dp_bar", injector_dp(_mean(inj, window), pc) / 1e5)
            w.channels[f"{side}_injector_pressure"] = inj.name
    if "thrust_N" in w.status:
        for k in THRUST_DERIVED:
            if getattr(w, k) is not None:
                w.status[k] = w.status["thrust_N"]
    elif w.thrust_N is None:
        for k in ("thrust_N",) + THRUST_DERIVED:
            w.status[k] = {"status": "n/a", "reason": "no valid thrust in this window"}
    return w


#: results of a window computed from its thrust (Pc, flows, O/F and c* are not)
THRUST_DERIVED = ("isp_s", "cf", "isp_efficiency", "cf_efficiency")


def _thrust_mean(w: Window, window, thrust_sig, calc):
    """The window's mean thrust, over its valid samples; degraded where a load cell was estimated."""
    t, F = thrust_sig
    sel = (t >= window[0]) & (t <= window[1])
    ok = sel & np.isfinite(F)
    if not ok.any():
        return
    w.thrust_N = float(F[ok].mean())
    names = calc.channels if calc is not None else []
    w.channels["thrust"] = names
    if calc is None:
        return
    est = [(a, b, why) for a, b, why in calc.estimated if a <= window[1] and b >= window[0]]
    if est:
        w.channels["thrust_estimated"] = {n: vars(f) for n, f in calc.fits.items()}
        w.status["thrust_N"] = {"status": "degraded", "reason": "; ".join(why for *_, why in est)}
    if ok.sum() < sel.sum():
        lost = (sel.sum() - ok.sum()) / max(1, sel.sum())
        w.status["thrust_N"] = {"status": "degraded",
                                "reason": f"no valid load cell over {lost * 100:.0f} % of the window: "
                                          "mean of the valid samples"}
