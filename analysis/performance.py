"""Thrust and propellant-efficiency results of a firing.

Conventions (stored with the result so a number can be traced):

- thrust metrics come from :mod:`hotfire.analysis.thrust` (tare, burn,
  impulse, start and shutdown transients);
- **steady windows** ("plateaus") are found on the chamber pressure by
  :mod:`hotfire.analysis.steady`: where local line fits over
  ``steady_fit_s`` have a slope below ``steady_slope`` (fraction of Pc per
  second) widened by three standard errors of the slope (the noise), for at
  least ``min_plateau_s``, inside the burn, its ends where the smoothed Pc
  holds the plateau's level (within 1 %, or 3 standard deviations of its
  noise), less ``steady_trim_s`` (default 0.02 s); a masked span of a failed
  Pc sensor up to 1 s long is bridged. A throttled run has several; each is reported. The main
  steady window is the longest (or is given);
- **mass flows** come from the flow meters (roles ``ox_mass_flow`` and
  ``fuel_mass_flow``) or, when the rig has none, from the tank weigh scales
  (``ox_tank_mass``, ``fuel_tank_mass``): the slope of a straight line
  fitted to the tank mass over the window;
- **propellant consumed** is the flow integrated from the burn start -
  0.3 s to the impulse end + 0.3 s (flow meters), or the tank mass
  before T0 minus the tank mass after the tail-off (weigh scales);
  **Isp from mass** is total impulse / (propellant consumed x g0);
- c* = Pc At / mdot, CF = F / (Pc At), Isp = F / (mdot g0); their
  theoretical values come from NASA CEA at the window's measured Pc and
  O/F, hence c* and Isp efficiencies;
- a channel that :mod:`hotfire.core.health` finds failed over a window
  is not used there; the result says which and why (``notes``).

The means over one window are :mod:`hotfire.analysis.window`'s, the
time-resolved results :mod:`hotfire.analysis.series`'.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING

import numpy as np

from hotfire.core import health as _health
from hotfire.core.theory import G0
from hotfire.analysis.thrust import (STEADY_STATE_FRACTION, ThrustResult, ThrustSettings, Unavailable,  # noqa: F401
                                     analyze_thrust, drift_ramp, integrate, pressure_burn, steady_state,
                                     total_thrust, zero_shift_health)
from hotfire.analysis.series import time_series
from hotfire.analysis.steady import find_plateaus
from hotfire.analysis.channels import Channels, Picker
# Window, THEORY_FIELDS and THRUST_DERIVED are also imported from here
from hotfire.analysis.window import THEORY_FIELDS, THRUST_DERIVED, Window, window_means  # noqa: F401

if TYPE_CHECKING:
    from hotfire.core.runfile.reader import Run


@dataclass
class Settings:
    tare_window_s: tuple[float, float] = (-1.5, -0.1)  # seconds from T0
    burn_method: str = "steady"  # "steady" or "nfpa1125" (see hotfire.analysis.thrust)
    burn_threshold: float | None = None  # None: 0.10 of steady ("steady"), 0.05 of peak ("nfpa1125")
    impulse_threshold: float = 0.01
    steady_slope: float = 0.15  # fraction of Pc per second (widened by the noise: hotfire.analysis.steady)
    steady_fit_s: float = 0.2  # local line fits of the steady test
    min_plateau_s: float = 0.3
    steady_trim_s: float = 0.02  # taken off each end of a steady window, after its edges (hotfire.analysis.steady)
    steady_window_s: tuple[float, float] | None = None  # given instead of found
    series_rate_hz: float = 100.0  # time-resolved results
    check_health: bool = True

    def thrust_settings(self) -> ThrustSettings:
        return ThrustSettings(tare_window_s=tuple(self.tare_window_s), method=self.burn_method,
                              burn_threshold=self.burn_threshold, impulse_threshold=self.impulse_threshold)


@dataclass
class Performance:
    """Everything ``hotfire analyze`` reports. SI units, times from T0.

    The flat attributes (``burn_time_s``, ``isp_s``, ``c_star_efficiency``,
    ...) are the burn's and the main steady window's; ``thrust`` holds every
    thrust metric, ``plateaus`` every steady window, ``series`` the
    time-resolved results.
    """

    burn_start_s: float | None = None
    burn_end_s: float | None = None
    burn_time_s: float | None = None
    action_time_s: float | None = None
    total_impulse_Ns: float | None = None
    average_thrust_N: float | None = None
    peak_thrust_N: float | None = None
    steady_window_s: tuple[float, float] | None = None
    thrust_N: float | None = None  # steady mean
    pc_bar: float | None = None
    mdot_kg_s: float | None = None
    ox_mdot_kg_s: float | None = None
    fuel_mdot_kg_s: float | None = None
    of: float | None = None
    isp_s: float | None = None
    c_star_m_s: float | None = None
    cf: float | None = None
    c_star_theory_m_s: float | None = None
    c_star_efficiency: float | None = None
    isp_theory_s: float | None = None
    isp_efficiency: float | None = None
    cf_theory: float | None = None
    tare_N: float = 0.0
    propellant_mass_kg: float | None = None
    isp_from_mass_s: float | None = None
    pc_mean_burn_bar: float | None = None  # mean Pc over the impulse window (the whole firing; no plateau needed)
    c_star_integral_m_s: float | None = None  # At x integral of Pc over the burn / propellant mass
    cf_integral: float | None = None  # total impulse / (At x integral of Pc over the same window)
    flow_source: str = ""
    burn_basis: str = ""  # "thrust" or "chamber pressure": what the burn was found on
    thrust: ThrustResult | None = None
    motor: object = None  # hotfire.analysis.motors.MotorResult when the rig gives a grain
    steady: Window | None = None
    plateaus: list[Window] = field(default_factory=list)
    health: dict = field(default_factory=dict)
    series: dict = field(default_factory=dict)
    uncertainty: dict = field(default_factory=dict)  # quantity -> standard uncertainty (k=1)
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)  # metric -> {"status": "degraded" | "n/a", "reason"}; absent: ok

    def degraded(self) -> dict:
        """Metrics that are degraded or n/a, with the reason (the main window's and the burn's)."""
        return dict(self.status)

    def to_dict(self, series: bool = False) -> dict:
        d = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "series":
                if series:
                    d["series"] = {k: (np.where(np.isfinite(a), a, np.nan).tolist()
                                       if isinstance(a, np.ndarray) else a) for k, a in v.items()}
                continue
            if f.name == "health":
                v = {k: h.to_dict() for k, h in v.items()}
            elif f.name in ("thrust", "steady", "motor"):
                v = v.to_dict() if v is not None else None
            elif f.name == "plateaus":
                v = [w.to_dict() for w in v]
            elif isinstance(v, tuple):
                v = list(v)
            d[f.name] = v
        return _jsonable(d)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


#: thrust results (n/a together when the run has no usable thrust)
THRUST_METRICS = ("burn_time_s", "action_time_s", "total_impulse_Ns", "average_thrust_N", "peak_thrust_N",
                  "ignition_delay_s", "thrust_rise_time_s", "shutdown_impulse_Ns", "isp_from_mass_s")


def _propellant_mass(burn, picker: Picker, notes):
    flow_source = picker.channels.flow_source
    if flow_source == "flow meters":
        win = (burn[0] - 0.3, burn[1] + 0.3)
        total = 0.0
        for side in ("ox", "fuel"):
            v = picker.pick(f"{side}_mass_flow", win)
            if not v:
                return None
            sig = v.read()
            total += integrate(sig.t, sig.si(), *win)
        return total
    if flow_source == "tank mass":
        total = 0.0
        for side in ("ox", "fuel"):
            v = picker.pick(f"{side}_tank_mass")
            if not v:
                return None
            sig = v.read()
            m = sig.si()
            before = m[(sig.t >= -1.0) & (sig.t <= -0.1)]
            after = m[sig.t >= burn[1] + 0.5]
            if len(before) < 3 or len(after) < 3:
                notes.append(f"{v.name}: no settled tank mass before T0 or after the tail-off: "
                             "propellant mass not computed")
                return None
            total += float(before.mean() - after[: max(3, len(after) // 2)].mean())
        return total
    return None


def _pressure_integral(perf, pc_arr, burn, article, mass, impulse=None):
    """Mean Pc over ``burn``, c* = At x integral of Pc dt over it / propellant mass and CF = impulse /
    (At x integral of Pc dt) (Pc absolute): a motor's figures, no plateau needed."""
    t, pc = pc_arr
    ok = np.isfinite(pc)
    if ok.sum() < 3 or burn[1] <= burn[0]:
        return
    if not ok.all():  # masked spans (a failed sensor's): bridged linearly from the valid samples each side
        pc = np.interp(t, t[ok], pc[ok])
    integral = integrate(t, pc, *burn)
    perf.pc_mean_burn_bar = integral / (burn[1] - burn[0]) / 1e5
    if mass and article.throat_area_m2:
        perf.c_star_integral_m_s = article.throat_area_m2 * integral / mass
    if impulse and article.throat_area_m2 and integral > 0:
        perf.cf_integral = impulse / (article.throat_area_m2 * integral)


def _masked(t, v, excluded):
    """``v`` with NaN over the ``excluded`` spans ((a, b, why), seconds from T0)."""
    if not excluded:
        return v
    v = np.array(v, dtype=float)
    for a, b, _ in excluded:
        v[(t >= a) & (t <= b)] = np.nan
    return v


def _thrust_sig(total, tr):
    """(t, tared F) of the total thrust (NaN where no load cell is valid), a corrected zero shift taken off;
    None without thrust."""
    if total is None:
        return None
    t, F = total[:2]
    if tr is not None and tr.zero_shift_corrected:
        F = F - drift_ramp(t, tr.zero_shift_N, tr.zero_shift_burn_s)
    return t, F


def analyze(channels: Channels | Run, settings: Settings | None = None, health: dict | None = None) -> Performance:
    """Burn, impulse and steady-state performance of a firing, from the channels given.

    Parameters
    ----------
    channels : Channels or Run
        The channels to read, by quantity (:class:`~hotfire.analysis.channels.Channels`:
        load cells, chamber pressure, flows, ...), e.g.
        ``Channels.from_roles(run)``; a :class:`Run` stands for every
        channel of its rig, by role. The run they belong to gives the test
        article, T0 and the cutoff event.
    settings : Settings, optional
    health : dict of ChannelHealth, optional
        Channel health by name; checked here when not given (``settings.check_health``).

    Returns
    -------
    Performance
        Results that cannot be computed are None, and ``notes`` says why.

    Raises
    ------
    Unavailable
        When the run has no usable thrust channel or no burn.
    """
    s = settings or Settings()
    ch = channels if isinstance(channels, Channels) else Channels.from_roles(channels)
    if not ch.views():
        raise Unavailable("neither a usable thrust nor a chamber pressure channel: no burn to analyse")
    run = ch.run
    perf = Performance(settings=asdict(s))
    notes = perf.notes
    if health is None:
        # a run: all its channels, as hotfire analyze reports them; channels: theirs
        streams = None if ch is not channels else list(dict.fromkeys(v.stream for v in ch.views()))
        health = _health.check_run(run, streams) if s.check_health else {}
    perf.health = health
    for h in health.values():
        if h.status != "ok":
            notes.append(f"sensor {h.name} ({h.role}) failed: {'; '.join(h.problems)}")
    picker = Picker(ch, health, notes)
    article = ch.article
    if run.metadata.get("import_note"):
        notes.append(f"import: {run.metadata['import_note']}")

    pc_view, pc_excluded = picker.pick_valid("chamber_pressure")  # a dropout masks only its own span
    pc_arr = None
    if pc_view:
        sig = pc_view.read()
        pc_arr = (sig.t, _masked(sig.t, sig.si(), pc_excluded))
    tr, total = None, None
    try:
        total = total_thrust(ch.thrust, s.thrust_settings(), health)
        tr = analyze_thrust(ch.thrust, s.thrust_settings(), health, pc_view, total=total)
    except Unavailable as exc:
        total = None
        why = f"no thrust: {exc}"
        notes.append(f"thrust results not computed ({why}); pressure and flow results do not need it")
        for k in THRUST_METRICS:
            perf.status[k] = {"status": "n/a", "reason": why}
    wins, no_steady_state = None, False
    if tr is not None and s.burn_method == "steady" and not s.steady_window_s:
        # a motor's curve with no steady state: no steady thrust, the burn by NFPA 1125
        burn = (tr.burn_start_s, tr.burn_end_s)
        wins = (find_plateaus(pc_arr[0], pc_arr[1], burn, s) if pc_arr is not None
                else find_plateaus(*_thrust_sig(total, tr), burn, s))
        steady, covered = steady_state(article, wins, burn)
        if not steady:
            tr = analyze_thrust(ch.thrust, replace(s.thrust_settings(), method="nfpa1125"), health, pc_view,
                                total=total)
            tr.notes.insert(0, f"no steady state: the steady windows cover {covered * 100:.0f} % of the burn "
                               f"(a motor's, or a curve's of unknown origin, must cover {STEADY_STATE_FRACTION * 100:g} %): "
                               "no steady thrust; burn and action time by NFPA 1125 (5 % of peak thrust), "
                               f"impulse between the crossings of {s.impulse_threshold * 100:g} % of peak thrust")
            wins, no_steady_state = [], True
    if tr is not None:
        perf.thrust = tr
        notes.extend(tr.notes)
        perf.status.update(tr.status)
        zero_shift_health(ch.thrust, tr, health)  # a corrected zero shift is a health span of the cells
        for k in ("burn_start_s", "burn_end_s", "burn_time_s", "action_time_s", "total_impulse_Ns",
                  "average_thrust_N", "peak_thrust_N"):
            setattr(perf, k, getattr(tr, k))
        perf.tare_N = tr.tare_N
        burn = (tr.burn_start_s, tr.burn_end_s)
        perf.burn_basis = "thrust"
    elif pc_arr is not None:
        burn = pressure_burn(*pc_arr, s.thrust_settings())
        if burn is None:
            raise Unavailable("no thrust, and the chamber pressure shows no burn")
        perf.burn_start_s, perf.burn_end_s = burn
        perf.burn_time_s = burn[1] - burn[0]
        perf.burn_basis = "chamber pressure"
        notes.append(f"burn found on the chamber pressure ({pc_view.name}): {s.thrust_settings().threshold() * 100:g} % "
                     "of its steady rise above the pre-fire level")
    else:
        raise Unavailable("neither a usable thrust nor a chamber pressure channel: no burn to analyse")
    thrust_sig = _thrust_sig(total, tr)
    thrust_calc = total[5] if total is not None else None

    perf.flow_source = ch.flow_source
    if not perf.flow_source:
        notes.append("no flow meters nor tank weigh scales (ox and fuel): mass flow, O/F, Isp, c* not computed")

    # steady windows
    if s.steady_window_s:
        wins = [tuple(s.steady_window_s)]
    elif wins is None:
        wins = find_plateaus(pc_arr[0], pc_arr[1], burn, s) if pc_arr is not None else find_plateaus(*thrust_sig, burn, s)
    if wins and pc_arr is None and not s.steady_window_s:
        notes.append("no chamber pressure: steady windows found on thrust")
    if not wins and not no_steady_state:  # (no steady state is said with the thrust notes)
        notes.append(f"no steady window found (the {'chamber pressure' if pc_arr is not None else 'thrust'} "
                     f"never settles for {s.min_plateau_s} s): steady-state results not computed")
    perf.plateaus = [window_means(w, picker, thrust_sig, thrust_calc) for w in wins]
    if perf.plateaus:
        main = max(perf.plateaus, key=lambda w: w.end_s - w.start_s)
        perf.steady = main
        perf.steady_window_s = (main.start_s, main.end_s)
        for k in ("thrust_N", "pc_bar", "mdot_kg_s", "ox_mdot_kg_s", "fuel_mdot_kg_s", "of", "isp_s",
                  "c_star_m_s", "cf", "c_star_theory_m_s", "c_star_efficiency", "isp_theory_s",
                  "isp_efficiency", "cf_theory"):
            setattr(perf, k, getattr(main, k))
    missing = article.missing("throat_diameter_mm")
    if missing and perf.flow_source:
        notes.append("c* and CF need the throat diameter ([article] throat_diameter_mm)")
    if article.missing(*THEORY_FIELDS) and perf.plateaus:
        notes.append("CEA theory needs [article] " + ", ".join(article.missing(*THEORY_FIELDS))
                     + ": efficiencies not computed")

    # propellant consumed
    mass = _propellant_mass(burn, picker, notes)
    if mass is None:
        m_known = run.metadata.get("propellant_mass_kg")
        if m_known:
            mass = float(m_known)
            notes.append("propellant mass from the run's metadata (propellant_mass_kg)")
    if mass:
        perf.propellant_mass_kg = mass
        if tr is not None:
            perf.isp_from_mass_s = tr.total_impulse_Ns / (mass * G0)
            if "total_impulse_Ns" in perf.status:
                perf.status["isp_from_mass_s"] = perf.status["total_impulse_Ns"]

    if pc_arr is not None:
        # over the whole firing: the impulse window (1 % of steady thrust) when there is thrust
        win = tr.impulse_window_s if tr is not None and tr.impulse_window_s else burn
        _pressure_integral(perf, pc_arr, win, article, mass, tr.total_impulse_Ns if tr is not None else None)
        inside = [(a, b, why) for a, b, why in pc_excluded if a < win[1] and b > win[0]]
        if inside:
            why = (f"{pc_view.name} failed " + ", ".join(f"{a:+.3f} to {b:+.3f} s" for a, b, _ in inside)
                   + ": left out, the integral bridged linearly across")
            for k in ("pc_mean_burn_bar", "c_star_integral_m_s", "cf_integral"):
                if getattr(perf, k) is not None:
                    perf.status.setdefault(k, {"status": "degraded", "reason": why, "provenance": {
                        "channels": [pc_view.name], "span_s": list(win),
                        "excluded": [{"channel": pc_view.name, "span_s": [a, b], "reason": w} for a, b, w in inside]}})
        if perf.cf_integral is not None and "total_impulse_Ns" in perf.status:
            perf.status["cf_integral"] = perf.status["total_impulse_Ns"]
    if article.grain is not None:  # a solid or hybrid motor
        from hotfire.analysis.motors import analyze_motor

        perf.motor = analyze_motor(run, perf, pc_arr, picker, tr.impulse_window_s if tr is not None else None)

    center = (perf.pc_bar, perf.of) if perf.pc_bar and perf.of else None
    perf.series = time_series(s.series_rate_hz, thrust_sig, burn, picker, center)
    if perf.steady is not None:
        for k, v in perf.steady.status.items():
            perf.status.setdefault(k, v)
    return perf
