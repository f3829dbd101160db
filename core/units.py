"""Engineering units to SI and back, for the units rigs use.

A deliberately small table (pressure, force, mass flow, temperature, time):
rigs name their units as strings and analyses work in SI, so runs from a
psi/lbf stand and a bar/N stand compare by role.
"""
from __future__ import annotations

import numpy as np

# unit -> (SI unit, scale, offset): si = value * scale + offset
_TABLE = {
    "Pa": ("Pa", 1.0, 0.0),
    "kPa": ("Pa", 1e3, 0.0),
    "MPa": ("Pa", 1e6, 0.0),
    "bar": ("Pa", 1e5, 0.0),
    "psi": ("Pa", 6894.757293168, 0.0),
    "psia": ("Pa", 6894.757293168, 0.0),
    "N": ("N", 1.0, 0.0),
    "kN": ("N", 1e3, 0.0),
    "lbf": ("N", 4.4482216152605, 0.0),
    "kg/s": ("kg/s", 1.0, 0.0),
    "g/s": ("kg/s", 1e-3, 0.0),
    "lb/s": ("kg/s", 0.45359237, 0.0),
    "K": ("K", 1.0, 0.0),
    "degC": ("K", 1.0, 273.15),
    "degF": ("K", 5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
    "s": ("s", 1.0, 0.0),
    "kg": ("kg", 1.0, 0.0),
    "lb": ("kg", 0.45359237, 0.0),
}


def si_unit(unit: str) -> str:
    """The SI unit ``unit`` converts to (``unit`` itself when unknown)."""
    return _TABLE.get(unit, (unit, 1.0, 0.0))[0]


def to_si(values, unit: str):
    """Convert values in ``unit`` to SI; unknown units (%, V) pass unchanged."""
    _, scale, offset = _TABLE.get(unit, (unit, 1.0, 0.0))
    if scale == 1.0 and offset == 0.0:
        return values
    if offset == 0.0:
        return np.asarray(values) * scale
    return np.asarray(values) * scale + offset


def from_si(values, unit: str):
    """Convert SI values to ``unit``."""
    _, scale, offset = _TABLE.get(unit, (unit, 1.0, 0.0))
    if scale == 1.0 and offset == 0.0:
        return values
    return (np.asarray(values) - offset) / scale


def affine(unit: str) -> tuple[float, float]:
    """``(scale, offset)`` with ``si = value * scale + offset``."""
    _, scale, offset = _TABLE.get(unit, (unit, 1.0, 0.0))
    return scale, offset


def scale_of(unit: str) -> float:
    """Multiplicative SI scale of ``unit`` (for uncertainties and differences)."""
    return _TABLE.get(unit, (unit, 1.0, 0.0))[1]
