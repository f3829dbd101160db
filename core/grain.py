"""Grain geometry of solid and hybrid motors (``[article.grain]``, :class:`hotfire.core.rig.Grain`),
shared by the simulator and the analysis. Lengths in the grain are mm; results SI."""
from __future__ import annotations

import math

import numpy as np


def bates(grain, x):
    """Burning area (m^2) and propellant volume (m^3) of a BATES grain after ``x`` m of web (array)."""
    x = np.asarray(x, dtype=float)
    D, d0, L0 = grain.outer_diameter_mm * 1e-3, grain.core_diameter_mm * 1e-3, grain.length_mm * 1e-3
    ends = 2 - grain.inhibited_ends
    d = np.minimum(d0 + 2 * x, D)
    L = np.maximum(L0 - ends * x, 0.0)
    alive = (d < D) & (L > 0)
    area = np.where(alive, math.pi * d * L + ends * math.pi / 4 * (D * D - d * d), 0.0) * grain.segments
    vol = np.where(alive, math.pi / 4 * (D * D - d * d) * L, 0.0) * grain.segments
    return area, vol


def web_m(grain) -> float:
    """A BATES grain's web (m): the core reaches the outer diameter, or the length is burnt from the ends."""
    D, d0, L0 = grain.outer_diameter_mm * 1e-3, grain.core_diameter_mm * 1e-3, grain.length_mm * 1e-3
    ends = 2 - grain.inhibited_ends
    return min((D - d0) / 2, L0 / ends if ends else math.inf)


def port_fuel_mass(grain, d_after_m: float) -> float:
    """Fuel burnt (kg) when a circular port grows from its diameter to ``d_after_m``."""
    d0, L = grain.port_diameter_mm * 1e-3, grain.length_mm * 1e-3
    return grain.density_kg_m3 * math.pi / 4 * (d_after_m ** 2 - d0 ** 2) * L


def port_diameter_after(grain, fuel_kg: float) -> float:
    """Port diameter (m) after ``fuel_kg`` of fuel burnt evenly along the port."""
    d0, L = grain.port_diameter_mm * 1e-3, grain.length_mm * 1e-3
    return math.sqrt(d0 ** 2 + 4 * fuel_kg / (math.pi * grain.density_kg_m3 * L))
