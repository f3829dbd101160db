"""The report's tables that come from the run rather than the analysis: events, instruments,
limits, results in the rig's own units, sign-off.

Each part is plain data (headers and rows of text) so the HTML report
(:mod:`hotfire.analysis.report`) and the PDF (:mod:`hotfire.analysis.pdf`)
show the same thing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hotfire.core import units as U
from hotfire.core.scaling import Calibration

EVENT_HEADERS = ("time from T0", "kind", "channel", "stream, sample", "message")
INSTRUMENT_HEADERS = ("channel", "role", "kind", "physical channel", "serial", "calibrated", "range",
                      "uncertainty (rig file, standard, k = 1)")


def event_rows(run) -> list[tuple[str, ...]]:
    """Every event of the run, in time order: time from T0 (``+1.234 s``), kind, channel, where, text."""
    return [(f"{e['time_s'] - run.t0:+.3f} s", e["kind"], e.get("channel") or "", f"{e['stream']} #{e['sample']}",
             e["message"]) for e in run.events]


def _date(text: str):
    """A date ``YYYY-MM-DD`` (the first 10 characters of an ISO date or time), or None."""
    import datetime

    try:
        return datetime.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def calibration_text(ch, test_date) -> str:
    """The channel's calibration date, and ``EXPIRED`` when its ``cal_due`` is before the test."""
    txt = ch.cal_date or "not given"
    due = _date(getattr(ch, "cal_due", "") or "")
    if due is not None:
        expired = test_date is not None and due < test_date
        txt += f"; due {due.isoformat()}" + (" EXPIRED before the test" if expired else "")
    return txt


def range_text(ch) -> str:
    """The channel's full scale in engineering units (from its signal range and calibration)."""
    lo, hi = ch.range
    sig = f"{lo:g} to {hi:g} {ch.signal_units}"
    try:
        a, b = (float(x) for x in Calibration(ch.calibration or {}).to_eu(np.array([lo, hi])))
    except (KeyError, ValueError):
        return sig
    eu = f"{min(a, b):,.6g} to {max(a, b):,.6g} {ch.units}"
    return eu if ch.units == ch.signal_units else f"{eu} ({sig})"


def uncertainty_text(ch) -> str:
    """The rig file's sensor uncertainty, in words (``0.1 % of reading + 0.02 % of full scale``)."""
    u = ch.uncertainty or {}
    parts = []
    if "reading_percent" in u:
        parts.append(f"{u['reading_percent']:g} % of reading")
    if "fs_percent" in u:
        parts.append(f"{u['fs_percent']:g} % of full scale")
    parts += [f"{k} {v}" for k, v in u.items() if k not in ("reading_percent", "fs_percent")]
    return " + ".join(parts) if parts else "not given"


def instrument_rows(run) -> list[tuple[str, ...]]:
    """One row per measured channel: the instrument list (``INSTRUMENT_HEADERS``)."""
    test_date = _date(run.metadata.get("start_time_utc", ""))
    return [(c.name, c.role, c.kind, c.physical, c.serial or "not given", calibration_text(c, test_date),
             range_text(c), uncertainty_text(c)) for c in run.channels]


# -- limits on the plots ---------------------------------------------------------------

@dataclass(frozen=True)
class LimitLine:
    """One bound of a channel: ``value_si`` to draw, and its label in the rig's units."""

    channel: str
    level: str  # "redline" or "warning"
    bound: str  # "max" or "min"
    value_si: float
    label: str


def limit_lines(run, names) -> list[LimitLine]:
    """The redline and warning bounds of the channels (measured or calculated) ``names``, in SI."""
    by_name = {c.name: c for c in run.channels}
    by_name.update({c.name: c for c in run.rig.calculated})
    out = []
    for n in names:
        ch = by_name.get(n)
        if ch is None:
            continue
        for level in ("redline", "warning"):
            lim = getattr(ch, level, None)
            for bound in ("max", "min"):
                v = getattr(lim, bound, None) if lim is not None else None
                if v is None:
                    continue
                si = float(U.to_si(v, ch.units))
                out.append(LimitLine(n, level, bound, si, f"{n} {level} {bound} {v:,.6g} {ch.units}"))
    return out


def total_thrust_channels(run) -> list[str]:
    """The rig's calculated total-thrust channels (their limits belong on the thrust plot)."""
    return [c.name for c in run.rig.calculated if c.kind == "total_thrust"]


LIMIT_STYLE = {"redline": ("#b00020", (0, (6, 3))), "warning": ("#e09f3e", (0, (3, 3)))}


def draw_limits(ax, lines, scale: float, display_unit: str) -> None:
    """Dashed horizontal lines for ``lines`` (:class:`LimitLine`) at ``value_si * scale``, labelled
    at their right end with the rig's value and the displayed one."""
    from matplotlib.transforms import blended_transform_factory

    right = blended_transform_factory(ax.transAxes, ax.transData)
    for ln in lines:
        color, dash = LIMIT_STYLE[ln.level]
        y = ln.value_si * scale
        ax.axhline(y, color=color, lw=1.0, ls=dash)
        shown = f"{y:,.4g} {display_unit}"
        text = ln.label if ln.label.endswith(" " + display_unit) else f"{ln.label} ({shown})"
        ax.annotate(text, (0.995, y), xycoords=right, xytext=(0, 2), textcoords="offset points", ha="right",
                    va="bottom", fontsize=7, color=color)


# -- results in the rig's own units ---------------------------------------------------------

#: SI unit of a metric's stored value -> the channel roles whose units a rig states it in
_ROLES_BY_UNIT = {
    "N": ("thrust",), "N s": ("thrust",), "bar": ("chamber_pressure",), "kg/s": ("ox_mass_flow", "fuel_mass_flow"),
    "kg": ("ox_mass_flow", "fuel_mass_flow", "ox_tank_mass", "fuel_tank_mass"),
}
#: pressure metrics measured by another channel than Pc
_ROLE_BY_KEY = {"ox_injector_dp_bar": "ox_injector_pressure", "fuel_injector_dp_bar": "fuel_injector_pressure"}


#: units of the SI family: a rig in these needs no second column
_METRIC_UNITS = {"N", "kN", "MN", "Pa", "kPa", "MPa", "bar", "kg/s", "g/s", "kg", "g"}


def rig_unit(run, metric) -> str | None:
    """The unit the rig's own channels give ``metric``'s quantity in (``lbf s`` for an impulse from
    load cells in lbf), or None when the rig is metric for it or has no channel of it."""
    roles = (_ROLE_BY_KEY[metric.key],) if metric.key in _ROLE_BY_KEY else _ROLES_BY_UNIT.get(metric.unit, ())
    for role in roles:
        for c in run.channels:
            if c.role != role:
                continue
            base = c.units[:-2] if metric.unit == "kg" and c.units.endswith("/s") else c.units  # lb/s -> lb
            stored = "N" if metric.unit == "N s" else metric.unit
            if base in _METRIC_UNITS or U.si_unit(base) != U.si_unit(stored):
                return None
            return base + " s" if metric.unit == "N s" else base
    return None


def _to_rig(x: float, metric, unit: str) -> float:
    base, stored = (unit[:-2], "N") if metric.unit == "N s" else (unit, metric.unit)
    return float(U.from_si(U.to_si(x, stored), base))


def _sig(like: str) -> int:
    """Significant digits of a shown number (``"±0.103"`` has 3, ``"266,241"`` 6)."""
    return len("".join(c for c in like.split("e")[0] if c.isdigit()).lstrip("0")) or 1


def _fixed(x: float, sig: int) -> tuple[str, int]:
    """``x`` to ``sig`` significant digits, with thousands separators; and its decimals."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}", 0
    dec = max(0, sig - 1 - int(math.floor(math.log10(abs(x)))))
    return f"{x:,.{dec}f}", dec


def in_rig_units(run, v) -> str:
    """``v`` (a :class:`hotfire.analysis.metrics.Value`) in the rig's unit for it, with its ±U (k = 2)
    to as many digits as the SI one and the value to the same decimal, e.g. ``53,283 ± 87 lbf s``;
    "" when the rig's unit is the SI one or there is no value."""
    if v.value is None:
        return ""
    unit = rig_unit(run, v.metric)
    if unit is None:
        return ""
    x = _to_rig(v.value, v.metric, unit)
    if not v.U:
        return f"{_fixed(x, max(3, _sig(v.text())))[0]} {unit}"
    u, dec = _fixed(abs(_to_rig(v.U, v.metric, unit) - _to_rig(0.0, v.metric, unit)), _sig(v.u_text()))
    return f"{x:,.{dec}f} ± {u} {unit}"


# -- sign-off ----------------------------------------------------------------------------------

SIGN_ROLES = ("Test conductor", "Reviewer")


def signoff_rows(conductor: str | None = None, reviewer: str | None = None) -> list[tuple[str, str, str, str]]:
    """(role, name, signature, date): names as given, blanks for the rest to fill by hand."""
    blank = "_" * 24
    return [(role, name or blank, blank, "_" * 12) for role, name in zip(SIGN_ROLES, (conductor, reviewer))]
