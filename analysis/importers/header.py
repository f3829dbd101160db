"""Column headers of foreign files: units written in them, and the role a column's name suggests.

Units: ``Thrust (N)``, ``Pc [psi]``, ``time_ms``, ``t [s]``, ``Force(lbf)``,
``5600 Pressure (Bar)``. They are normalised to the names of
:mod:`hotfire.core.units` (``Bar`` -> ``bar``, ``°C`` -> ``degC``, ``kgf`` ->
9.80665 N), through which the import converts every value to SI.

Roles: a column's name (units taken off, lower case) is matched against the
usual names of each quantity (``thrust``, ``force``, ``load cell``; ``pc``,
``chamber pressure``; ``ox flow``, ``mdot_fuel`` ...); a column that matches
nothing but has force units is taken as thrust, and a lone unqualified
``pressure`` as the chamber pressure (said so beside the mapping). Anything
else is ``other``. The mapping printed by ``hotfire import`` shows each
choice and why; ``--channel`` overrides it.
"""
from __future__ import annotations

import re

from hotfire.core import units as U

#: written unit -> (unit of core.units, extra factor): value_in_core_unit = value * factor
_ALIASES = {
    "n": ("N", 1.0), "newton": ("N", 1.0), "newtons": ("N", 1.0), "kn": ("kN", 1.0), "lbf": ("lbf", 1.0),
    "lb_f": ("lbf", 1.0), "lbs": ("lbf", 1.0), "kgf": ("N", 9.80665), "kp": ("N", 9.80665),
    "pa": ("Pa", 1.0), "kpa": ("kPa", 1.0), "mpa": ("MPa", 1.0), "hpa": ("Pa", 100.0), "bar": ("bar", 1.0),
    "bara": ("bar", 1.0), "mbar": ("bar", 1e-3), "psi": ("psi", 1.0), "psia": ("psia", 1.0),
    "kg/s": ("kg/s", 1.0), "g/s": ("g/s", 1.0), "lb/s": ("lb/s", 1.0), "lbm/s": ("lb/s", 1.0),
    "k": ("K", 1.0), "degc": ("degC", 1.0), "°c": ("degC", 1.0), "c": ("degC", 1.0), "deg c": ("degC", 1.0),
    "celsius": ("degC", 1.0), "degf": ("degF", 1.0), "°f": ("degF", 1.0), "f": ("degF", 1.0),
    "kg": ("kg", 1.0), "g": ("kg", 1e-3), "lb": ("lb", 1.0), "lbm": ("lb", 1.0),
}
#: gauge pressures: the same scale; the import notes that they are gauge
_GAUGE = {"psig": "psi", "barg": "bar", "kpag": "kPa"}

#: time units -> seconds
TIME_UNITS = {"s": 1.0, "sec": 1.0, "secs": 1.0, "seconds": 1.0, "ms": 1e-3, "msec": 1e-3, "us": 1e-6,
              "µs": 1e-6, "μs": 1e-6, "usec": 1e-6, "ns": 1e-9, "min": 60.0, "h": 3600.0}


def units_from_name(col: str) -> str:
    """Units written in a column name: ``thrust [N]``, ``Pc (bar)``, ``Force(lbf)``, ``thrust_N``, ``time_ms``."""
    m = re.search(r"[\[(]\s*([^\])]+?)\s*[\])]\s*$", col)
    if m:
        return m.group(1)
    m = re.search(r"[_ ]([A-Za-z/°µμ]+)$", col.strip())
    # a suffix is units only when unambiguous: a unit's exact name, a time unit, or an alias of 2+ letters
    # ("p_c" is no degC, "load_cell" no unit)
    if m and (m.group(1) in U._TABLE or m.group(1) in TIME_UNITS
              or (len(m.group(1)) > 1 and m.group(1).lower() in _ALIASES)):
        return m.group(1)
    return ""


def base_name(col: str) -> str:
    """The name without its units (``Pc [psi]`` -> ``Pc``, ``time_ms`` -> ``time``)."""
    b = re.sub(r"\s*[\[(][^\])]*[\])]\s*$", "", col).strip()
    u = units_from_name(b) if b == col.strip() else ""
    if u and b.endswith(u) and len(b) > len(u) + 1:
        b = b[: -len(u) - 1]
    return b.strip() or col.strip()


def clean_name(col: str) -> str:
    """A channel name from a column name: units off, other characters as ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", base_name(col)).strip("-") or "ch"


def normalise(unit: str) -> tuple[str, float, str]:
    """``(unit of core.units or "", factor, note)`` for a written unit (``""`` when unknown)."""
    u = unit.strip()
    if not u:
        return "", 1.0, ""
    if u in U._TABLE:
        return u, 1.0, ""
    key = u.lower()
    if key in _GAUGE:
        return _GAUGE[key], 1.0, f"{u}: a gauge pressure (kept as written, not made absolute)"
    if key in _ALIASES:
        return _ALIASES[key][0], _ALIASES[key][1], ""
    return "", 1.0, ""


def to_si_affine(unit: str) -> tuple[str, float, float, str]:
    """``(SI unit, scale, offset, note)``: ``si = value * scale + offset`` for a written unit.

    An unknown unit (``V``, ``%``, a typo) is kept as written with scale 1 and a note.
    """
    core, factor, note = normalise(unit)
    if not core:
        if unit.strip():
            return unit.strip(), 1.0, 0.0, f"units {unit.strip()!r} are not known: values kept as written"
        return "", 1.0, 0.0, ""
    scale, offset = U.affine(core)
    return U.si_unit(core), scale * factor, offset, note


# role patterns, tried in order on the lower-case base name (word boundaries: _ - space . digits)
_OX = r"(ox|lox|oxi[dz]i[sz]er|n2o|nitrous|o2)"
_FU = r"(fuel|fu|rp-?1|kerosene|ethanol|eth|ipa|lh2|ch4|methane|paraffin)"
_FLOW = r"(flow|mdot|m_dot|m-dot|massflow|mass flow|flowrate|flow rate)"
_ROLES = [
    ("time", r"^(t|time|times|timestamp|time stamp|datetime|date time|date_time|elapsed|elapsed time|x_value|sec|"
             r"seconds|zeit|temps|tiempo)$|^time[ _-]"),
    ("ox_mass_flow", rf"{_OX}.*{_FLOW}|{_FLOW}.*{_OX}"),
    ("fuel_mass_flow", rf"{_FU}.*{_FLOW}|{_FLOW}.*{_FU}"),
    ("ox_tank_mass", rf"{_OX}.*(tank mass|mass|scale|weight)|(scale|weight).*{_OX}"),
    ("fuel_tank_mass", rf"{_FU}.*(tank mass|mass|scale|weight)"),
    ("ox_tank_pressure", rf"{_OX}.*tank|tank.*{_OX}"),
    ("fuel_tank_pressure", rf"{_FU}.*tank|tank.*{_FU}"),
    ("ox_injector_pressure", rf"{_OX}.*(inj|manifold)|(inj|manifold).*{_OX}"),
    ("fuel_injector_pressure", rf"{_FU}.*(inj|manifold)|(inj|manifold).*{_FU}"),
    ("chamber_wall_temperature", r"(wall|chamber|nozzle|throat).*(temp|tc\b)"),
    ("ambient_temperature", r"(ambient|amb|air|room).*temp|^t ?amb"),
    ("ox_temperature", rf"{_OX}.*temp"),
    ("fuel_temperature", rf"{_FU}.*temp"),
    ("chamber_pressure", r"^(pc|p_c|p-c|pch|p_ch|p_chamber|pcc|chamber|cp)\d*$|chamber.*press|press.*chamber|"
                         r"combustion.*press|^pc[ _-]"),
    ("thrust", r"thrust|force|load ?cell|^lc\d*$|^lc[ _-]|^f$|^fz$|schub|kraft|poussee|empuje|^load$"),
]
_QUALIFIED = re.compile(r"tank|inj|manifold|line|feed|supply|purge|regulat|ox|fuel|n2|he|bottle|vent|upstream|"
                        r"downstream|venturi|orifice|hydro|ambient|atm")


def role_from_name(col: str, si_unit: str = "") -> tuple[str, str]:
    """``(role, why)`` a column's name (and SI units) suggests; ``("other", ...)`` when none."""
    name = base_name(col).lower().replace("_", " ").strip()
    name = re.sub(r"^\d+\s+", "", name)  # a sensor's model number in front ("5600 pressure")
    spaced = name.replace(" ", "_")
    for role, pat in _ROLES:
        if re.search(pat, name) or re.search(pat, spaced):
            return role, f"from its name {base_name(col)!r}"
    if si_unit == "N":
        return "thrust", "from its force units"
    if "press" in name and not _QUALIFIED.search(name):
        return "chamber_pressure?", f"guessed: an unqualified pressure ({base_name(col)!r})"
    return "other", "no role matches its name"
