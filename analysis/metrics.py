"""The metric registry: every result of ``hotfire analyze`` declared once.

The terminal table (:mod:`hotfire.analysis.textreport`), the JSON
(:meth:`hotfire.analysis.results.Results.to_dict`), the HTML report
(:mod:`hotfire.analysis.report`), ``hotfire compare`` and the catalog's
columns are all rendered from :data:`REGISTRY`. Adding a metric is one
:class:`Metric` entry here (and the analysis that computes it).

Where a value is found (``Metric.scope``)
------------------------------------------
- ``"burn"``: an attribute of :class:`~hotfire.analysis.performance.Performance`
  or, failing that, of its ``thrust``
  (:class:`~hotfire.analysis.thrust.ThrustResult`) or its ``motor``
  (:class:`~hotfire.analysis.motors.MotorResult`); standard uncertainty in
  ``Performance.uncertainty[key]``;
- ``"steady"``: an attribute of each steady window
  (:class:`~hotfire.analysis.performance.Window`; the main one is
  ``Performance.steady``); standard uncertainty in ``Window.uncertainty[key]``;
- ``"stability"``: an attribute of
  :class:`~hotfire.analysis.stability.Stability`.

``Metric.attr`` names the attribute (default: the key). Values are stored in
``Metric.unit`` (SI, except Pc in bar) and shown times ``Metric.scale`` in
``Metric.display_unit``.

Status and provenance (filled in by the analyses)
-------------------------------------------------
Any object holding metric values (Performance, ThrustResult, Window,
Stability) may carry a dict attribute ``status``: registry key -> a
:class:`Status` or its dict form (both are read, :func:`as_status`). A key
that is absent means "ok" when the value exists, and "not computed" (not
shown in the tables; ``n/a`` in JSON) when it is None::

    perf.status["total_impulse_Ns"] = {
        "status": "degraded",                      # "ok" | "degraded" | "n/a"
        "reason": "THRUST_A over range +2.10 to +2.60 s: estimated from THRUST_B",
        "provenance": {"channels": ["THRUST_A", "THRUST_B"], "span_s": [0.31, 4.92],
                       "excluded": [{"channel": "THRUST_A", "span_s": [2.10, 2.60], "reason": "over range"}]}}
    # the same, typed:
    Status("degraded", "...", Provenance(["THRUST_A", "THRUST_B"], (0.31, 4.92),
                                         [Exclusion("THRUST_A", (2.10, 2.60), "over range")]))

For the burn scope, ``Performance.status`` is read first, then
``ThrustResult.status``; a window's metrics read ``Window.status``.

A degraded metric keeps its value (and usually a widened uncertainty) and is
marked in every view with its reason; an ``n/a`` one has no value, and every
view shows ``n/a`` with the reason. When no provenance is given, one is
derived: the channels the window or the thrust analysis used, and the window
or burn span.

Every view reads a metric through :func:`value` (or :func:`collect`), which
returns a :class:`Value`: value, **expanded** uncertainty ``U`` (k = 2,
~95 %: the only convention shown anywhere; the objects keep standard
uncertainties, k = 1, as the GUM computation makes them), status, reason,
provenance. JSON of one value (:meth:`Value.to_dict`)::

    {"value": 8123.4, "U": 95.1, "unit": "N s", "status": "ok", "reason": "",
     "provenance": {"channels": ["LC-THRUST"], "span_s": [0.012, 5.104], "excluded": []}}
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

K = 2.0  #: coverage factor of every uncertainty shown (expanded, ~95 %)
CONVENTION = "±U: expanded uncertainty, k = 2 (~95 %)"
OK, DEGRADED, NA = "ok", "degraded", "n/a"
STATES = (OK, DEGRADED, NA)
SCOPES = ("burn", "steady", "stability")

#: how an uncertainty is found (``Metric.uncertainty``)
UNCERTAINTY_METHODS = {
    "gum": "propagated to first order (GUM) from the rig file's sensor uncertainties",
    "gum+mass": "impulse uncertainty (GUM) combined with the propellant mass's",
    "theory": "NASA CEA at the measured Pc and O/F; the model is taken as exact",
    "fit": "least squares in log space: standard errors from the fit's residuals",
    "none": "not evaluated",
}


@dataclass(frozen=True)
class Metric:
    """One result: how it is named, shown, found and qualified.

    Parameters
    ----------
    key : str
        Unique name: JSON key, catalog column, ``compare`` row.
    label : str
        Long label of the results tables; may hold ``{burn}``, ``{impulse}`` and
        ``{basis}`` (filled from the thrust analysis's thresholds: the rule the
        value was found by, also the JSON's ``rule``).
    symbol, unit, description : str
        ``unit`` is the unit of the stored value.
    fmt : str
        Format of the shown value (after ``scale``).
    scope : {"burn", "steady", "stability"}
        Where the value is found (module docstring).
    produced_by : str
        The analysis that computes it (thrust, steady window, propellant mass,
        theory (CEA), stability).
    uncertainty : str
        A key of :data:`UNCERTAINTY_METHODS`.
    scale, display_unit : float, str
        Shown value = stored value x ``scale``, in ``display_unit``.
    level : int
        1: a key result (analyze tables, HTML, compare, catalog); 2: detail
        (analyze tables, HTML); 0: bookkeeping (JSON and catalog only).
    headline : bool
        Among the few figures of the report's cards and the catalog listing.
    short : str
        Column heading (compare, catalog); default: ``label`` without its
        parenthesis.
    truth : str, optional
        Key of the simulator's summary truth (``run.truth``).
    attr : str, optional
        Attribute holding the value (default: ``key``).
    inputs : tuple of str
        For a steady-window metric, the ``Window.channels`` entries it is
        computed from (its default provenance).
    """

    key: str
    label: str
    symbol: str
    unit: str
    description: str
    fmt: str
    scope: str
    produced_by: str
    uncertainty: str = "none"
    scale: float = 1.0
    display_unit: str | None = None
    level: int = 1
    headline: bool = False
    short: str = ""
    truth: str | None = None
    attr: str = ""
    inputs: tuple = ()

    def __post_init__(self):
        if self.scope not in SCOPES:
            raise ValueError(f"metric {self.key}: scope must be one of {SCOPES}, got {self.scope!r}")
        if self.uncertainty not in UNCERTAINTY_METHODS:
            raise ValueError(f"metric {self.key}: uncertainty must be one of {tuple(UNCERTAINTY_METHODS)}")
        if not self.attr:
            object.__setattr__(self, "attr", self.key)
        if self.display_unit is None:
            object.__setattr__(self, "display_unit", self.unit)
        if not self.short:
            object.__setattr__(self, "short", self.label.split(" (")[0])

    def text(self, v) -> str:
        """``v`` (stored units) as shown, or "-" when there is none."""
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "-"
        return self.fmt.format(v * self.scale)

    def u_text(self, U) -> str:
        """An expanded uncertainty as shown ("±95"), "" when there is none."""
        if not U:
            return ""
        return "±" + self.fmt.format(U * self.scale).lstrip()

    def title(self, ctx: dict | None = None) -> str:
        try:
            return self.label.format(**(ctx or {})).replace(" ()", "")
        except (KeyError, IndexError):
            return self.short

    def rule(self, ctx: dict | None = None) -> str:
        """The rule the value was found by, from a placeholder of the label ("1 % of steady thrust"), or ""."""
        if "{" not in self.label or not ctx:
            return ""
        try:
            return ", ".join(f"{{{k}}}".format(**ctx) for k in ("burn", "impulse", "basis")
                             if f"{{{k}}}" in self.label)
        except KeyError:
            return ""


def _m(key, label, symbol, unit, fmt, scope, produced_by, description, **kw) -> Metric:
    return Metric(key, label, symbol, unit, description, fmt, scope, produced_by, **kw)


_T, _S, _W, _MO = "thrust", "steady window", "stability", "motor"
REGISTRY: list[Metric] = [
    # the burn (hotfire.analysis.thrust; propellant mass: hotfire.analysis.performance)
    _m("burn_start_s", "Burn start", "t_b0", "s", "{:+.3f}", "burn", _T, "start of the burn, from T0", level=0),
    _m("burn_end_s", "Burn end", "t_b1", "s", "{:+.3f}", "burn", _T, "end of the burn, from T0", level=0),
    _m("burn_time_s", "Burn time ({burn})", "t_b", "s", "{:.3f}", "burn", _T,
       "time the thrust stays above the burn threshold", headline=True, truth="burn_time_s"),
    _m("action_time_s", "Action time (NFPA 1125, 5 % of peak)", "t_a", "s", "{:.3f}", "burn", _T,
       "5 % of peak thrust to 5 % of peak thrust"),
    _m("total_impulse_Ns", "Total impulse ({impulse})", "I_t", "N s", "{:,.0f}", "burn", _T,
       "tared thrust integrated between the crossings of 1 % of steady thrust (of peak thrust by NFPA 1125)",
       uncertainty="gum", headline=True, truth="total_impulse_Ns", short="Total impulse"),
    _m("average_thrust_N", "Average thrust over the burn", "F_avg", "N", "{:,.1f}", "burn", _T,
       "impulse inside the burn over the burn time", short="Average thrust"),
    _m("peak_thrust_N", "Peak thrust", "F_max", "N", "{:,.1f}", "burn", _T, "largest lightly smoothed thrust"),
    _m("ignition_delay_s", "Ignition delay (T0 to {basis} rise)", "t_ign", "s", "{:.1f}", "burn", _T,
       "T0 to 10 % of the steady rise of Pc (thrust when no Pc)", scale=1e3, display_unit="ms",
       short="Ignition delay"),
    _m("thrust_rise_time_s", "Thrust rise time 10-90 %", "t_rF", "s", "{:.1f}", "burn", _T,
       "10 % to 90 % of steady thrust", scale=1e3, display_unit="ms", level=2),
    _m("pc_rise_time_s", "Pc rise time 10-90 %", "t_rPc", "s", "{:.1f}", "burn", _T,
       "10 % to 90 % of the steady Pc rise", scale=1e3, display_unit="ms", level=2),
    _m("peak_pc_ratio", "Start overpressure, peak / steady Pc", "Pc_max/Pc", "", "{:.3f}", "burn", _T,
       "peak Pc in the first 0.5 s of the burn over the steady Pc", level=2, short="Start overpressure"),
    _m("shutdown_impulse_Ns", "Shutdown impulse (after cutoff)", "I_sd", "N s", "{:,.1f}", "burn", _T,
       "impulse after the cutoff event", level=2),
    _m("propellant_mass_kg", "Propellant consumed", "m_p", "kg", "{:.3f}", "burn", "propellant mass",
       "flow integrated over the burn, or tank mass before T0 less after the tail-off", level=2),
    _m("isp_from_mass_s", "Isp from impulse / propellant mass", "Isp_m", "s", "{:.2f}", "burn",
       "propellant mass", "total impulse over propellant consumed times g0", uncertainty="gum+mass",
       short="Isp from propellant mass"),
    _m("pc_mean_burn_bar", "Mean chamber pressure over the firing", "Pc_b", "bar", "{:.3f}", "burn", "propellant mass",
       "chamber pressure averaged over the impulse window (solids and hybrids: no plateau needed)",
       short="Mean Pc (firing)"),
    _m("c_star_integral_m_s", "c* from the pressure integral", "c*_int", "m/s", "{:.1f}", "burn", "propellant mass",
       "throat area x integral of Pc over the impulse window / propellant mass", short="c* (Pc integral)"),
    _m("cf_integral", "CF from the impulse and the pressure integral", "CF_int", "", "{:.4f}", "burn", _T,
       "total impulse / (throat area x integral of Pc over the impulse window)", short="CF (Pc integral)", level=2),
    # solid and hybrid motors (hotfire.analysis.motors: when the rig gives [article.grain])
    _m("pc_mean_burn_time_bar", "Mean chamber pressure over the burn time", "Pc_tb", "bar", "{:.3f}", "burn", _MO,
       "absolute Pc averaged over the burn time", short="Mean Pc (burn time)", level=2),
    _m("pc_mean_action_bar", "Mean chamber pressure over the action time", "Pc_ta", "bar", "{:.3f}", "burn", _MO,
       "absolute Pc averaged over the action time (NFPA 1125)", short="Mean Pc (action time)", level=2),
    _m("burn_rate_a", "Burn-rate coefficient a (r = a Pc^n, Pc in MPa)", "a", "mm/s/MPa^n", "{:.4f}", "burn", _MO,
       "mass balance over the firing, web burnt from the grain, ln r on ln Pc by least squares",
       uncertainty="fit", short="Burn-rate a"),
    _m("burn_rate_n", "Burn-rate pressure exponent n", "n", "", "{:.4f}", "burn", _MO,
       "exponent of the same fit", uncertainty="fit", short="Burn-rate n"),
    _m("burn_rate_mean_m_s", "Mean burn rate (web / burn time)", "r_avg", "m/s", "{:.3f}", "burn", _MO,
       "the grain's web over the burn time", scale=1e3, display_unit="mm/s", level=2),
    _m("ox_mass_kg", "Oxidizer consumed", "m_ox", "kg", "{:.4f}", "burn", _MO,
       "oxidizer tank mass before T0 less after the tail-off (or the flow meter integrated)", level=2),
    _m("ox_mdot_mean_kg_s", "Oxidizer mass flow over the burn time", "mdot_ox_b", "kg/s", "{:.4f}", "burn", _MO,
       "oxidizer consumed over the burn time", short="Mean ox flow"),
    _m("fuel_mass_kg", "Fuel burnt", "m_f", "kg", "{:.4f}", "burn", _MO,
       "given (fuel_mass_burnt_kg), or from the port diameters before and after", level=2),
    _m("of_mean", "O/F (oxidizer consumed / fuel burnt)", "O/F_m", "", "{:.3f}", "burn", _MO,
       "mass ratio over the whole firing", short="O/F (masses)"),
    _m("regression_rate_m_s", "Mean fuel regression rate", "r_f", "m/s", "{:.3f}", "burn", _MO,
       "(port diameter after - before) / (2 x burn time)", scale=1e3, display_unit="mm/s",
       short="Regression rate"),
    _m("gox_mean_kg_m2_s", "Mean oxidizer flux G_ox", "G_ox", "kg/(m2 s)", "{:.1f}", "burn", _MO,
       "mean oxidizer flow over the area of the mean port diameter", level=2),
    _m("regression_a", "Regression coefficient a (r = a G_ox^n, G_ox in kg/(m2 s))", "a_f", "mm/s", "{:.4f}",
       "burn", _MO, "fuel flow = Pc-following total flow less the tank scale's oxidizer flow; ln r on ln G_ox",
       uncertainty="fit", short="Regression a", level=2),
    _m("regression_n", "Regression flux exponent n", "n_f", "", "{:.3f}", "burn", _MO, "exponent of the same fit",
       uncertainty="fit", short="Regression n", level=2),
    _m("final_port_diameter_m", "Port diameter after the firing", "D_f", "m", "{:.2f}", "burn", _MO,
       "given, or from the fuel burnt", scale=1e3, display_unit="mm", level=2),
    _m("tare_N", "Thrust tare", "F_0", "N", "{:,.1f}", "burn", _T, "pre-fire thrust subtracted", level=0),
    # each steady window (hotfire.analysis.performance, uncertainty: hotfire.analysis.uncertainty)
    _m("steady_start_s", "Steady window start", "t_s0", "s", "{:+.3f}", "steady", _S, "from T0", level=0,
       attr="start_s"),
    _m("steady_end_s", "Steady window end", "t_s1", "s", "{:+.3f}", "steady", _S, "from T0", level=0,
       attr="end_s"),
    _m("thrust_N", "Thrust", "F", "N", "{:,.1f}", "steady", _S, "mean tared thrust", uncertainty="gum",
       headline=True, short="Steady thrust", truth="thrust_N", inputs=("thrust",)),
    _m("pc_bar", "Chamber pressure", "Pc", "bar", "{:.3f}", "steady", _S, "mean chamber pressure",
       uncertainty="gum", headline=True, short="Steady Pc", truth="pc_bar", inputs=("pc",)),
    _m("ox_mdot_kg_s", "Oxidizer mass flow", "mdot_ox", "kg/s", "{:.4f}", "steady", _S,
       "flow meter mean, or minus the slope of the tank mass", uncertainty="gum", level=2, inputs=("ox_mdot",)),
    _m("fuel_mdot_kg_s", "Fuel mass flow", "mdot_f", "kg/s", "{:.4f}", "steady", _S,
       "flow meter mean, or minus the slope of the tank mass", uncertainty="gum", level=2, inputs=("fuel_mdot",)),
    _m("mdot_kg_s", "Total mass flow", "mdot", "kg/s", "{:.4f}", "steady", _S, "oxidizer plus fuel flow",
       uncertainty="gum", short="Mass flow", truth="mdot_kg_s", inputs=("ox_mdot", "fuel_mdot")),
    _m("of", "O/F", "O/F", "", "{:.4f}", "steady", _S, "mixture ratio, oxidizer over fuel flow",
       uncertainty="gum", headline=True, truth="of", inputs=("ox_mdot", "fuel_mdot")),
    _m("isp_s", "Isp (sea level, from flow)", "Isp", "s", "{:.2f}", "steady", _S, "F / (mdot g0)",
       uncertainty="gum", headline=True, short="Isp", truth="isp", inputs=("thrust", "ox_mdot", "fuel_mdot")),
    _m("c_star_m_s", "c*", "c*", "m/s", "{:.1f}", "steady", _S, "Pc At / mdot", uncertainty="gum",
       truth="c_star", inputs=("pc", "ox_mdot", "fuel_mdot")),
    _m("cf", "CF", "CF", "", "{:.4f}", "steady", _S, "F / (Pc At)", uncertainty="gum", truth="cf",
       inputs=("thrust", "pc")),
    _m("c_star_theory_m_s", "c* theoretical (CEA)", "c*_th", "m/s", "{:.1f}", "steady", "theory (CEA)",
       "NASA CEA equilibrium at the measured Pc and O/F", uncertainty="theory", level=2, truth="c_star_theory",
       inputs=("pc", "ox_mdot", "fuel_mdot")),
    _m("isp_theory_s", "Isp theoretical (CEA, ambient)", "Isp_th", "s", "{:.2f}", "steady", "theory (CEA)",
       "NASA CEA at the measured Pc and O/F, expanded to ambient", uncertainty="theory", level=2,
       truth="isp_theory", inputs=("pc", "ox_mdot", "fuel_mdot")),
    _m("cf_theory", "CF theoretical (CEA)", "CF_th", "", "{:.4f}", "steady", "theory (CEA)",
       "NASA CEA at the measured Pc and O/F", uncertainty="theory", level=0, inputs=("pc", "ox_mdot", "fuel_mdot")),
    _m("c_star_efficiency", "c* efficiency", "eta_c*", "", "{:.2f}", "steady", _S, "c* over CEA's",
       uncertainty="gum", scale=100, display_unit="%", headline=True, truth="c_star_efficiency",
       inputs=("pc", "ox_mdot", "fuel_mdot")),
    _m("isp_efficiency", "Isp efficiency", "eta_Isp", "", "{:.2f}", "steady", _S, "Isp over CEA's",
       uncertainty="gum", scale=100, display_unit="%", inputs=("thrust", "ox_mdot", "fuel_mdot")),
    _m("cf_efficiency", "CF efficiency", "eta_CF", "", "{:.2f}", "steady", _S, "CF over CEA's",
       uncertainty="gum", scale=100, display_unit="%", level=2, inputs=("thrust", "pc")),
    _m("ox_injector_dp_bar", "Ox injector pressure drop", "dp_ox", "bar", "{:.3f}", "steady", _S,
       "ox injector pressure less Pc", level=2, inputs=("ox_injector_pressure", "pc")),
    _m("fuel_injector_dp_bar", "Fuel injector pressure drop", "dp_f", "bar", "{:.3f}", "steady", _S,
       "fuel injector pressure less Pc", level=2, inputs=("fuel_injector_pressure", "pc")),
    # combustion stability (hotfire.analysis.stability)
    _m("stability_max_excursion_percent", "Largest excursion from the mean Pc", "max|p'|", "%", "{:.1f}",
       "stability", _W, "largest |p - mean| per window, % of mean Pc", attr="max_excursion_percent",
       short="Pc excursion"),
    _m("stability_max_pk_pk_percent", "Largest peak-to-peak", "p'_pp", "%", "{:.1f}", "stability", _W,
       "largest peak-to-peak per window, % of mean Pc", attr="max_pk_pk_percent", level=2),
    _m("stability_max_rms_percent", "Largest RMS", "p'_rms", "%", "{:.2f}", "stability", _W,
       "largest RMS fluctuation per window, % of mean Pc", attr="max_rms_percent", short="Pc RMS"),
]


def by_key() -> dict[str, Metric]:
    """The registry as ``{key: Metric}``."""
    return {m.key: m for m in REGISTRY}


def metrics(scope: str | None = None, level: int | None = None) -> list[Metric]:
    """Registered metrics of ``scope`` (all when None) with ``0 < m.level <= level`` (any when None)."""
    return [m for m in REGISTRY if (scope is None or m.scope == scope)
            and (level is None or 0 < m.level <= level)]


def register(metric: Metric) -> Metric:
    """Add a metric (a script's or a plug-in's); its key must be new."""
    if metric.key in by_key():
        raise ValueError(f"metric {metric.key!r} is registered already")
    REGISTRY.append(metric)
    return metric


# -- values ---------------------------------------------------------------------------

@dataclass
class Exclusion:
    """Data left out of a metric: a channel over a span (seconds from T0), and why."""

    channel: str
    span_s: tuple | None
    reason: str

    def to_dict(self) -> dict:
        return {"channel": self.channel, "span_s": list(self.span_s) if self.span_s else None,
                "reason": self.reason}


@dataclass
class Provenance:
    """What a metric was computed from: channels, time span (from T0), what was excluded."""

    channels: list = field(default_factory=list)
    span_s: tuple | None = None
    excluded: list = field(default_factory=list)  # Exclusion

    def to_dict(self) -> dict:
        return {"channels": list(self.channels), "span_s": list(self.span_s) if self.span_s else None,
                "excluded": [e.to_dict() if hasattr(e, "to_dict") else dict(e) for e in self.excluded]}

    def text(self) -> str:
        """One line: "LC-THRUST, +0.012 to +5.104 s; excluded THRUST_A +2.10 to +2.60 s (over range)"."""
        parts = []
        if self.channels:
            parts.append(", ".join(self.channels))
        if self.span_s:
            parts.append(f"{self.span_s[0]:+.3f} to {self.span_s[1]:+.3f} s")
        s = ", ".join(parts)
        for e in self.excluded:
            e = e if isinstance(e, Exclusion) else Exclusion(e["channel"], e.get("span_s"), e.get("reason", ""))
            span = f" {e.span_s[0]:+.2f} to {e.span_s[1]:+.2f} s" if e.span_s else ""
            s += f"; excluded {e.channel}{span} ({e.reason})"
        return s


@dataclass
class Status:
    """What the analysis says of one metric (``obj.status[key]``; module docstring)."""

    state: str = OK
    reason: str = ""
    provenance: Provenance | None = None

    def __post_init__(self):
        if self.state not in STATES:
            raise ValueError(f"status must be one of {STATES}, got {self.state!r}")


@dataclass
class Value:
    """One metric's value as every view shows it. ``U`` is expanded (k = 2), in the metric's unit."""

    metric: Metric
    value: float | None
    U: float | None = None
    state: str = OK
    reason: str = ""
    provenance: Provenance = field(default_factory=Provenance)
    rule: str = ""  # the threshold rule it was found by (Metric.rule), when its label names one

    @property
    def key(self) -> str:
        return self.metric.key

    @property
    def shown(self) -> bool:
        """Whether a table shows it: a value, or an n/a with its reason."""
        return self.value is not None or bool(self.reason)

    def text(self) -> str:
        return "n/a" if self.value is None else self.metric.text(self.value)

    def u_text(self) -> str:
        return self.metric.u_text(self.U) if self.value is not None else ""

    def flag(self) -> str:
        """"" (ok), "DEGRADED" or "n/a"."""
        return {OK: "", DEGRADED: "DEGRADED", NA: "n/a"}[self.state]

    def to_dict(self) -> dict:
        d = {"value": _finite(self.value), "U": _finite(self.U), "unit": self.metric.unit,
             "status": self.state, "reason": self.reason, "provenance": self.provenance.to_dict()}
        if self.rule:
            d["rule"] = self.rule
        return d

    @classmethod
    def from_dict(cls, metric: Metric, d: dict | None) -> "Value":
        """A value back from :meth:`to_dict` (the catalog's stored JSON)."""
        if not d:
            return cls(metric, None, state=NA)
        p = d.get("provenance") or {}
        prov = Provenance(p.get("channels") or [], tuple(p["span_s"]) if p.get("span_s") else None,
                          [Exclusion(e["channel"], tuple(e["span_s"]) if e.get("span_s") else None, e.get("reason", ""))
                           for e in p.get("excluded") or []])
        return cls(metric, d.get("value"), d.get("U"), d.get("status", OK), d.get("reason", ""), prov,
                   d.get("rule", ""))


def _finite(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def as_status(s) -> Status:
    """A :class:`Status` from itself or its dict form ``{"status" (or "state"), "reason",
    "provenance" (or "channels", "span_s", "excluded" at the top)}``."""
    if isinstance(s, Status):
        return s
    p = s.get("provenance")
    if p is None and any(k in s for k in ("channels", "span_s", "excluded")):
        p = s
    if isinstance(p, dict):
        p = Provenance(list(p.get("channels") or []), tuple(p["span_s"]) if p.get("span_s") else None,
                       [e if isinstance(e, Exclusion) else
                        Exclusion(e["channel"], tuple(e["span_s"]) if e.get("span_s") else None, e.get("reason", ""))
                        for e in p.get("excluded") or []])
    return Status(s.get("status", s.get("state", OK)), s.get("reason", ""), p)


def _status_of(objs, key) -> Status | None:
    for o in objs:
        st = (getattr(o, "status", None) or {}) if o is not None else {}
        if key in st:
            return as_status(st[key])
    return None


def value(metric: Metric, obj, perf=None) -> Value:
    """The :class:`Value` of ``metric`` held by ``obj``.

    Parameters
    ----------
    metric : Metric
    obj : Performance, Window or Stability (per ``metric.scope``), or None
    perf : Performance, optional
        For a steady-window metric, the thrust channels of its provenance.
    """
    if obj is None:
        return Value(metric, None, state=NA)
    holders = [obj]
    if metric.scope == "burn":
        holders += [h for h in (getattr(obj, "thrust", None), getattr(obj, "motor", None)) if h is not None]
    v = None
    for h in holders:
        if hasattr(h, metric.attr):
            v = _number(getattr(h, metric.attr))
            if v is not None:
                break
    u = (getattr(obj, "uncertainty", None) or {}).get(metric.key) if metric.scope != "stability" else None
    st = _status_of(holders, metric.key) or Status(OK if v is not None else NA)
    prov = st.provenance or _default_provenance(metric, obj, perf)
    state = st.state if not (v is None and st.state == OK) else NA
    if state == NA:  # the analysis says the number is not to be used: no view shows it
        v = None
    U = K * float(u) if isinstance(u, (int, float)) and math.isfinite(u) and v is not None else None
    rule = metric.rule(label_context(obj)) if metric.scope == "burn" and v is not None else ""
    return Value(metric, v, U, state, st.reason, prov, rule)


def _default_provenance(metric: Metric, obj, perf) -> Provenance:
    if metric.scope == "steady":
        chans = []
        used = getattr(obj, "channels", None) or {}
        for q in metric.inputs:
            c = used.get(q)
            chans += c if isinstance(c, list) else ([c] if c else [])
        return Provenance(list(dict.fromkeys(chans)), (obj.start_s, obj.end_s))
    if metric.scope == "burn":
        tr = getattr(obj, "thrust", None)
        if tr is None:
            return Provenance()
        span = tr.impulse_window_s if metric.key == "total_impulse_Ns" and tr.impulse_window_s else None
        return Provenance(list(tr.channels), tuple(span) if span else (tr.burn_start_s, tr.burn_end_s))
    return Provenance([obj.channel], tuple(obj.interval_s)) if hasattr(obj, "channel") else Provenance()


def section(scope: str, obj, perf=None, level: int = 2) -> list[Value]:
    """Values of the registered metrics of ``scope`` held by ``obj``, up to ``level``, in registry order."""
    return [value(m, obj, perf) for m in metrics(scope, level)]


def collect(perf, stability=None, level: int | None = None) -> dict[str, Value]:
    """The run's main figures, ``{key: Value}``: the burn's, the main steady window's, the stability's.

    What ``compare`` and the catalog hold of a run. ``perf`` None (no thrust
    results): every burn and steady metric is n/a.
    """
    out = {}
    for m in REGISTRY:
        if level is not None and not 0 < m.level <= level:
            continue
        if m.scope == "burn":
            out[m.key] = value(m, perf)
        elif m.scope == "steady":
            out[m.key] = value(m, getattr(perf, "steady", None), perf)
        else:
            out[m.key] = value(m, stability)
    return out


def to_json(values: dict[str, Value] | list[Value]) -> dict:
    """``{key: Value.to_dict()}``."""
    vals = values.values() if isinstance(values, dict) else values
    return {v.key: v.to_dict() for v in vals}


def label_context(perf) -> dict:
    """What ``Metric.label`` placeholders are filled with, from the thrust analysis."""
    tr = getattr(perf, "thrust", None)
    if tr is None:
        return {}
    th = tr.thresholds
    burn = (f"{th['burn_fraction'] * 100:g} % of steady thrust" if th.get("method") == "steady"
            else f"NFPA 1125, {th['burn_fraction'] * 100:g} % of peak")
    impulse = f"{th['impulse_fraction'] * 100:g} % of {th['impulse_reference']}" if "impulse_fraction" in th else ""
    return {"burn": burn, "impulse": impulse, "basis": "Pc" if tr.ignition_basis == "chamber pressure" else "thrust"}

