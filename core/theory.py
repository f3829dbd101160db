"""Theoretical rocket performance from NASA's CEA (the ``cea`` package).

Equilibrium expansion, infinite-area combustor. The vacuum thrust
coefficient comes from CEA; the thrust coefficient at a given ambient
pressure follows as ``CF = CF_vac - eps * pa / pc``.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

G0 = 9.80665  # m/s^2, standard gravity (Isp in seconds)


@dataclass(frozen=True)
class Theory:
    """Theoretical performance at one chamber pressure and mixture ratio.

    Attributes are SI: ``c_star`` m/s, ``tc`` K, ``isp_vac`` and ``isp`` s
    (``isp`` at the given ambient pressure), ``cf_vac`` and ``cf``
    dimensionless, ``sound_speed`` m/s (equilibrium, chamber station),
    ``molecular_weight`` kg/kmol.
    """

    c_star: float
    tc: float
    cf_vac: float
    cf: float
    isp_vac: float
    isp: float
    gamma: float
    sound_speed: float  # m/s, equilibrium sonic velocity in the chamber
    molecular_weight: float  # kg/kmol, chamber products
    pc_bar: float
    of: float
    expansion_ratio: float
    ambient_bar: float

    def to_dict(self) -> dict:
        return asdict(self)


@functools.lru_cache(maxsize=4096)
def _solve(fuel, oxidizer, fuel_T, ox_T, pc_bar, of, eps):
    import cea  # imported lazily: it loads its thermo data on import

    names = [fuel, oxidizer]
    try:
        reac = cea.Mixture(names)
        prod = cea.Mixture(names, products_from_reactants=True)
    except RuntimeError as exc:
        raise ValueError(f"CEA does not know the propellants {fuel!r}/{oxidizer!r}: {exc}") from None
    solver = cea.RocketSolver(prod, reactants=reac)
    sol = cea.RocketSolution(solver)
    weights = reac.of_ratio_to_weights(np.array([0.0, 1.0]), np.array([1.0, 0.0]), of)
    hc = reac.calc_property(cea.ENTHALPY, weights, np.array([fuel_T, ox_T])) / cea.R
    solver.solve(sol, weights, pc_bar, [10.0], supar=[eps], hc=hc)
    if not sol.converged:
        raise ValueError(f"CEA did not converge for {fuel}/{oxidizer} at {pc_bar} bar, O/F {of}")
    # points: chamber, throat, pc/p=10, exit at eps
    return (
        float(sol.c_star[0]),
        float(sol.T[0]),
        float(sol.Isp_vacuum[-1]),
        float(sol.gamma_s[0]),
        float(sol.sonic_velocity[0]),
        float(sol.MW[0]),
    )


def theoretical(
    fuel: str,
    oxidizer: str,
    pc_bar: float,
    of: float,
    expansion_ratio: float,
    ambient_bar: float = 1.01325,
    fuel_temperature_K: float = 298.15,
    oxidizer_temperature_K: float = 90.17,
) -> Theory:
    """Equilibrium c*, CF and Isp from NASA CEA.

    Parameters
    ----------
    fuel, oxidizer : str
        CEA species names, e.g. ``"RP-1"``, ``"C2H5OH(L)"``, ``"O2(L)"``.
    pc_bar : float
        Chamber pressure, bar absolute.
    of : float
        Oxidizer-to-fuel mass ratio.
    expansion_ratio : float
        Nozzle exit to throat area ratio.
    ambient_bar : float
        Ambient pressure for the sea-level thrust coefficient and Isp.

    Returns
    -------
    Theory
    """
    if not (pc_bar > 0 and of > 0 and expansion_ratio >= 1):
        raise ValueError(f"theory needs pc > 0, O/F > 0, eps >= 1; got pc={pc_bar}, O/F={of}, eps={expansion_ratio}")
    # Round the inputs so that noisy measured values share the cache.
    c_star, tc, isp_vac_ms, gamma, sound_speed, mw = _solve(
        fuel, oxidizer, round(fuel_temperature_K, 2), round(oxidizer_temperature_K, 2),
        round(float(pc_bar), 4), round(float(of), 5), round(float(expansion_ratio), 4),
    )
    cf_vac = isp_vac_ms / c_star
    cf = cf_vac - expansion_ratio * ambient_bar / pc_bar
    return Theory(
        c_star=c_star, tc=tc, cf_vac=cf_vac, cf=cf,
        isp_vac=isp_vac_ms / G0, isp=cf * c_star / G0, gamma=gamma,
        sound_speed=sound_speed, molecular_weight=mw,
        pc_bar=float(pc_bar), of=float(of), expansion_ratio=float(expansion_ratio), ambient_bar=float(ambient_bar),
    )


class Linearized:
    """CEA theory near one point, from three solves: for sensitivities and narrow ranges.

    c* and the vacuum thrust coefficient are taken as linear in ln(Pc) and
    O/F around ``(pc_bar, of)`` (forward differences over 2 % of Pc and 0.01
    of O/F); CF at the ambient pressure and Isp then follow exactly, as in
    :func:`theoretical`. Within +-5 % of Pc and +-0.03 of O/F this is
    within 0.05 % of CEA's c* (LOX/RP-1 and LOX/ethanol, tested; c* is
    curved in O/F: at +-10 % and +-0.05 the error grows to ~0.1 %).
    """

    DP, DOF = 0.02, 0.01

    def __init__(self, fuel, oxidizer, pc_bar, of, expansion_ratio, ambient_bar=1.01325,
                 fuel_temperature_K=298.15, oxidizer_temperature_K=90.17):
        args = (expansion_ratio, ambient_bar, fuel_temperature_K, oxidizer_temperature_K)
        self.center = c = theoretical(fuel, oxidizer, pc_bar, of, *args)
        tp = theoretical(fuel, oxidizer, pc_bar * (1 + self.DP), of, *args)
        to = theoretical(fuel, oxidizer, pc_bar, of + self.DOF, *args)
        lp = np.log1p(self.DP)
        self.pc_bar, self.of, self.eps, self.ambient = float(pc_bar), float(of), expansion_ratio, ambient_bar
        self.c_star0, self.cf_vac0 = c.c_star, c.cf_vac
        self.dc_dlnp, self.dc_dof = (tp.c_star - c.c_star) / lp, (to.c_star - c.c_star) / self.DOF
        self.dcf_dlnp, self.dcf_dof = (tp.cf_vac - c.cf_vac) / lp, (to.cf_vac - c.cf_vac) / self.DOF

    def at(self, pc_bar, of):
        """``(c_star m/s, cf, isp s)`` at ``pc_bar`` and ``of`` (scalars or arrays)."""
        dl = np.log(np.asarray(pc_bar, dtype=float) / self.pc_bar)
        do = np.asarray(of, dtype=float) - self.of
        c_star = self.c_star0 + self.dc_dlnp * dl + self.dc_dof * do
        cf = self.cf_vac0 + self.dcf_dlnp * dl + self.dcf_dof * do - self.eps * self.ambient / np.asarray(pc_bar)
        return c_star, cf, cf * c_star / G0


def for_article(article, pc_bar: float | None = None, of: float | None = None) -> Theory:
    """Theory for a rig's test article, at its nominal point unless given."""
    return theoretical(
        article.fuel, article.oxidizer,
        article.nominal_pc_bar if pc_bar is None else pc_bar,
        article.nominal_of if of is None else of,
        article.expansion_ratio, article.ambient_pressure_bar,
        article.fuel_temperature_K, article.oxidizer_temperature_K,
    )
