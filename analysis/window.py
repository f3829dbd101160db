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

    def excluded(self, channel: str) -> list[tuple[float, float]]:
        """Spans of ``channel`` left out of this window's means (a failed span: its results' provenance)."""
        out = []
        for st in self.status.values():
            for e in ((st.get("provenance") or {}).get("excluded") or []) if isinstance(st, dict) else []:
                if e.get("channel") == channel and e.get("span_s") and tuple(e["span_s"]) not in out:
                    out.append(tuple(e["span_s"]))
        return out


def _mean(view, window, excluded=()):
    """Mean of ``view`` over ``window`` in SI, leaving out the ``excluded`` spans ((a, b, why), from T0)."""
    sig = view.read(window).slice(*window)
    v = sig.values
    if excluded:
        keep = np.ones(len(v), bool)
        for a, b, _ in excluded:
            keep &= (sig.t < a) | (sig.t > b)
        v = v[keep]
    return float(U.to_si(v.mean(), sig.units))  # SI is affine in EU: convert the mean only


def _tank_flow(view, window, excluded=()):
    """Outflow from a tank weigh scale over a window: minus the slope of a line fit, kg/s (the ``excluded``
    spans left out)."""
    sig = view.read(window).slice(*window)
    t, m = sig.t, sig.si()
    if excluded:
        keep = np.ones(len(t), bool)
        for a, b, _ in excluded:
            keep &= (t < a) | (t > b)
        t, m = t[keep], m[keep]
    if len(m) < 3:
        raise ValueError(f"{view.name}: too few samples in {window}")
    return float(-np.polyfit(t - t.mean(), m, 1)[0])


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
    excluded = {}  # Window.channels key -> (channel, its failed spans left out of the window's mean)
    pc_view, pc_excluded = picker.pick_valid("chamber_pressure", window)
    pc = None
    if pc_view:
        pc = _mean(pc_view, window, pc_excluded)
        w.pc_bar = pc / 1e5
        w.channels["pc"] = pc_view.name
        if pc_excluded:
            excluded["pc"] = (pc_view.name, pc_excluded)
    if flow_source in ("flow meters", "tank mass"):
        meters = flow_source == "flow meters"
        (ox, ox_x), (fu, fu_x) = (picker.pick_valid(f"{side}_{'mass_flow' if meters else 'tank_mass'}", window)
                                  for side in ("ox", "fuel"))
        if ox and fu:
            flow = _mean if meters else _tank_flow
            w.ox_mdot_kg_s, w.fuel_mdot_kg_s = flow(ox, window, ox_x), flow(fu, window, fu_x)
            w.channels.update(ox_mdot=ox.name, fuel_mdot=fu.name)
            excluded.update({k: v for k, v in (("ox_mdot", (ox.name, ox_x)), ("fuel_mdot", (fu.name, fu_x))) if v[1]})
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
        inj, inj_x = picker.pick_valid(f"{side}_injector_pressure", window)
        if inj and pc is not None:
            setattr(w, f"{side}_injector_dp_bar", injector_dp(_mean(inj, window, inj_x), pc) / 1e5)
            w.channels[f"{side}_injector_pressure"] = inj.name
            if inj_x:
                excluded[f"{side}_injector_pressure"] = (inj.name, inj_x)
    for used, (name, spans) in excluded.items():
        _degraded(w, used, name, spans)
    if "thrust_N" in w.status:
        for k in THRUST_DERIVED:
            if getattr(w, k) is not None:
                w.status[k] = w.status["thrust_N"]
    elif w.thrust_N is None:
        for k in ("thrust_N",) + THRUST_DERIVED:
            w.status[k] = {"status": "n/a", "reason": "no valid thrust in this window"}
    return w


def _degraded(w: Window, used: str, name, excluded):
    """The window's results computed from ``used`` (a ``Window.channels`` key, e.g. "pc"), whose channel
    ``name`` failed over the ``excluded`` spans: from the valid samples only, degraded, the spans in their
    provenance (a failed span masks only itself)."""
    from hotfire.analysis import metrics as M

    lost = sum(b - a for a, b, _ in excluded)
    spans = ", ".join(f"{a:+.3f} to {b:+.3f} s" for a, b, _ in excluded)
    reason = (f"{name} failed {spans}: left out, its mean is that of the valid "
              f"{100 * (1 - lost / max(w.end_s - w.start_s, 1e-12)):.0f} % of the window")
    for m in M.metrics("steady"):
        k = m.attr
        if used not in m.inputs or getattr(w, k, None) is None or k in w.status:
            continue
        chans = []
        for q in m.inputs:
            c = w.channels.get(q)
            chans += c if isinstance(c, list) else ([c] if c else [])
        w.status[k] = {"status": "degraded", "reason": reason,
                       "provenance": {"channels": list(dict.fromkeys(chans)), "span_s": [w.start_s, w.end_s],
                                      "excluded": [{"channel": name, "span_s": [a, b], "reason": why}
                                                   for a, b, why in excluded]}}


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
