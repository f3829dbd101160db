"""Traces of a comparison: a run's channels of a role in SI, resampled onto the
lattice of times ``k / rate_hz`` after the alignment point."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hotfire.core import units as U
from hotfire.core.rig import ROLES
from hotfire.core.timeseries import moving_average


def resample(t: np.ndarray, v: np.ndarray, rate_hz: float) -> tuple[int, np.ndarray]:
    """Resample onto the lattice ``k / rate_hz``; returns ``(first k, values)``.

    A faster signal is boxcar-averaged over one output interval first (no
    aliasing of noise above the output rate); a slower one is linearly
    interpolated. Lattice points in a gap of the data (successive samples
    more than 1.5 sample periods apart) are NaN: never bridged.
    """
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    if len(t) < 2:
        return 0, np.empty(0)
    dt = np.diff(t)
    period = float(np.median(dt))
    k_lo = int(math.ceil(t[0] * rate_hz - 1e-6))
    k_hi = int(math.floor(t[-1] * rate_hz + 1e-6))
    out = np.full(max(0, k_hi - k_lo + 1), np.nan)
    breaks = np.nonzero(dt > 1.5 * period)[0] + 1
    width = int(round(1.0 / (period * rate_hz)))
    for tp, vp in zip(np.split(t, breaks), np.split(v, breaks)):
        if len(tp) < 2:
            continue
        if width > 1:
            vp = moving_average(vp, width | 1)
        ka = max(k_lo, int(math.ceil(tp[0] * rate_hz - 1e-6)))
        kb = min(k_hi, int(math.floor(tp[-1] * rate_hz + 1e-6)))
        if kb >= ka:
            out[ka - k_lo: kb - k_lo + 1] = np.interp(np.arange(ka, kb + 1) / rate_hz, tp, vp)
    return k_lo, out


@dataclass
class Trace:
    """One role of one subject on the lattice ``k / rate_hz`` (aligned seconds), SI units."""

    role: str
    unit: str
    rate_hz: float
    k0: int
    values: np.ndarray
    channels: list[str]
    source_units: list[str]
    source_rates: list[float]

    @property
    def t(self) -> np.ndarray:
        return (self.k0 + np.arange(len(self.values))) / self.rate_hz

    def on(self, k0: int, n: int) -> np.ndarray:
        """Values on lattice points ``k0 .. k0 + n - 1`` (NaN where there are none)."""
        out = np.full(n, np.nan)
        a, b = max(k0, self.k0), min(k0 + n, self.k0 + len(self.values))
        if b > a:
            out[a - k0: b - k0] = self.values[a - self.k0: b - self.k0]
        return out

    def describe(self) -> str:
        """"PC_MAIN [psi] @ 10000 Hz -> Pa"."""
        parts = []
        for name, unit, rate in zip(self.channels, self.source_units, self.source_rates):
            r = "" if not np.isfinite(rate) else f" @ {rate:g} Hz"
            parts.append(f"{name} [{unit}]{r}")
        conv = f" -> {self.unit}" if any(u != self.unit for u in self.source_units) else ""
        return " + ".join(parts) + conv


def si_unit(role: str) -> str:
    return U.si_unit(ROLES.get(role, ""))


def role_signals(run, roles, health, notes) -> dict:
    """``{role: (t from T0, SI values, [Signal])}`` of the roles the run has.

    Thrust is the analysis's own tared total
    (:func:`hotfire.analysis.thrust.total_thrust`: several load cells summed);
    any other role is its first channel (the others are noted).
    """
    from hotfire.analysis.performance import Settings
    from hotfire.analysis.thrust import Unavailable, total_thrust

    out = {}
    for role in roles:
        chans = run.role(role)
        if not chans:
            continue
        if role == "thrust":
            try:
                got = total_thrust(run.views("thrust"), Settings().thrust_settings(), health)
            except Unavailable as exc:
                notes.append(f"thrust not compared: {exc}")
                continue
            t, F, _tare, tared = got[:4]
            if not tared:
                notes.append("thrust not tared (no pre-fire samples)")
            out[role] = (t, F, chans)
            continue
        if len(chans) > 1:
            notes.append(f"{role}: {len(chans)} channels ({', '.join(c.name for c in chans)}); "
                         f"{chans[0].name} is compared")
        c = chans[0]
        out[role] = (c.t, c.si(), [c])
    return out


def make_trace(role, t, v, chans, shift_s, rate_hz, notes) -> Trace | None:
    """``v`` at ``t`` (from T0) as a trace aligned at ``shift_s``, or None (noted) when its units are not SI-convertible."""
    units = [c.units for c in chans]
    want = si_unit(role)
    if want and any(U.si_unit(u) != want for u in units):
        notes.append(f"{role}: units {', '.join(units)} do not convert to {want}; not compared")
        return None
    k0, vals = resample(np.asarray(t) - shift_s, v, rate_hz)
    return Trace(role, want or units[0], rate_hz, k0, vals, [c.name for c in chans], units,
                 [c.rate_hz for c in chans])
