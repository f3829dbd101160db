"""One channel's samples in memory, in engineering units, on the run's time base (seconds from T0)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hotfire.core import units as U


@dataclass
class Signal:
    """One channel's samples: ``t`` seconds from T0, ``values`` in ``units``."""

    name: str
    role: str
    units: str
    t: np.ndarray
    values: np.ndarray
    rate_hz: float

    def si(self) -> np.ndarray:
        """Values converted to SI (Pa, N, kg/s, K); computed once per signal (do not modify it)."""
        cached = self.__dict__.get("_si")
        if cached is None:
            cached = self.__dict__["_si"] = np.asarray(U.to_si(self.values, self.units), dtype=float)
        return cached

    def to(self, units: str) -> "Signal":
        """The same samples in other units of the same quantity (``"psi"``, ``"bar"``, ...)."""
        if U.si_unit(units) != U.si_unit(self.units):
            raise ValueError(f"{self.name}: cannot convert {self.units!r} to {units!r}")
        v = U.from_si(U.to_si(self.values, self.units), units)
        return Signal(self.name, self.role, units, self.t, np.asarray(v, dtype=float), self.rate_hz)

    def slice(self, t_a: float | None = None, t_b: float | None = None) -> "Signal":
        """Samples with ``t_a <= t <= t_b`` (seconds from T0; None = open end)."""
        eps = 1e-9  # s: sample times are computed, t_a may sit on one within rounding
        lo = 0 if t_a is None else int(np.searchsorted(self.t, t_a - eps, "left"))
        hi = len(self.t) if t_b is None else int(np.searchsorted(self.t, t_b + eps, "right"))
        out = Signal(self.name, self.role, self.units, self.t[lo:hi], self.values[lo:hi], self.rate_hz)
        if "_si" in self.__dict__:
            out.__dict__["_si"] = self.__dict__["_si"][lo:hi]
        return out

    def mean(self, t_a: float | None = None, t_b: float | None = None) -> float:
        """Mean value over ``[t_a, t_b]``; ValueError if the window holds no sample."""
        v = self.slice(t_a, t_b).values
        if not len(v):
            raise ValueError(f"{self.name}: no samples in [{t_a}, {t_b}] s")
        return float(v.mean())

    def __len__(self):
        return len(self.values)
