"""Measurements made after a firing (``hotfire analyze RUN --set KEY=VALUE``): the propellant weighed,
a hybrid's port measured. They stand in for the run's metadata of the same name for one analysis; the
run file is not changed."""
from __future__ import annotations

import difflib
import math

from hotfire.core.errors import HotfireError

#: the keys the analyses read from a run's metadata, with what each gives
POST_FIRING = {
    "propellant_mass_kg": "propellant consumed, kg: Isp from mass, c* from the pressure integral",
    "fuel_mass_burnt_kg": "a hybrid's fuel burnt, kg: fuel regression rate, O/F, the regression law",
    "final_port_diameter_mm": "a hybrid's port diameter after the firing, mm (instead of the fuel burnt)",
    "total_mass_kg": "a motor's loaded mass, kg (the RASP export's header)",
}


class BadSetting(HotfireError):
    """A ``--set`` that names no known measurement or gives no positive number."""


def apply(run, pairs) -> dict[str, float]:
    """Set ``KEY=VALUE`` pairs into ``run.metadata`` (for this analysis only); the values set.

    Raises
    ------
    BadSetting
        An unknown key (with the closest known one), or a value that is not a positive number.
    """
    given = {}
    for p in pairs:
        key, sep, text = p.partition("=")
        key = key.strip()
        if not sep:
            raise BadSetting(f"--set {p!r}: give KEY=VALUE, e.g. --set fuel_mass_burnt_kg=0.105")
        if key not in POST_FIRING:
            close = difflib.get_close_matches(key, list(POST_FIRING), 1, 0.6)
            raise BadSetting(f"--set {p!r}: unknown key {key!r}" + (f" (did you mean {close[0]}?)" if close else "")
                             + "; the keys: " + "; ".join(f"{k} ({v})" for k, v in POST_FIRING.items()))
        try:
            v = float(text)
        except ValueError:
            raise BadSetting(f"--set {p!r}: {key} needs a number, got {text!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise BadSetting(f"--set {p!r}: {key} must be a positive number")
        given[key] = v
    run.metadata.update(given)
    return given
