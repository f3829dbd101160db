"""Physical models of a solid motor and of a hybrid motor firing, with their ground truth.

Both are noise-free, like :class:`~hotfire.daq.sources.engine.EngineModel`,
whose interface they share (the simulator sees a rig's sensors through it).
The rig's ``[article.grain]`` chooses the model (:func:`model_for`).

Solid (``type = "bates"``): the burn rate is ``r = a Pc^n`` (``Scenario.burn_rate_a``
in mm/s at Pc in MPa, absolute; ``burn_rate_n``). The chamber stores the
gas of a time constant ``tau`` (``Scenario.chamber_tau_s``) of nozzle flow,
so mass is conserved exactly::

    tau dPc/dt = (c* / At) rho_p A_b(x) r(Pc) - Pc        dx/dt = r(Pc)

whose equilibrium is the classic ``Pc = (a rho_p A_b c* / At)^(1/(1-n))``.
It burns until the web is gone (A_b = 0), then the chamber empties.

Hybrid (``type = "port"``): the oxidizer flows at ``Scenario.ox_flow_kg_s``
(falling linearly by ``ox_blowdown`` over the burn, a blowdown tank) from
ignition to cutoff (40 ms valve strokes); the fuel port regresses by
``r = a G_ox^n`` (``regression_a`` in mm/s at G_ox in kg/(m^2 s),
``regression_n``) and the chamber follows the total flow as above.

Thrust of both: ``F = At (eta_CF CF_vac Pc - eps pa)`` (``Scenario.cf_vac``),
zero until the nozzle flows full; c* is ``Scenario.motor_c_star_m_s``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from hotfire.core.grain import bates as bates_area_volume, web_m as bates_web_m
from hotfire.core.theory import G0

_DT = 1e-5  # the truth's integration grid, s


def model_for(rig, scen):
    """The physical model of a firing on ``rig``: a motor's when it has a grain, else the liquid engine's."""
    from hotfire.daq.sources.engine import EngineModel

    grain = rig.article.grain
    if grain is None:
        return EngineModel(rig, scen)
    return SolidMotorModel(rig, scen) if grain.motor == "solid" else HybridMotorModel(rig, scen)


class _MotorModel:
    """What both motors share: the sequence, the nozzle, the interface of the engine model."""

    motor = ""

    def __init__(self, rig, scen):
        a = rig.article
        missing = a.missing("throat_diameter_mm", "expansion_ratio")
        if missing:
            raise ValueError(f"rig {rig.name!r}: the motor simulator needs [article] {', '.join(missing)}")
        self.rig, self.scenario, self.grain = rig, scen, a.grain
        self.At, self.eps = a.throat_area_m2, a.expansion_ratio
        self.pa = a.ambient_pressure_bar * 1e5
        seq = rig.sequence
        self.t0 = seq.pretrigger_s if scen.pretrigger_s is None else scen.pretrigger_s
        self.burn_s = seq.burn_s if scen.burn_s is None else scen.burn_s
        self.post = seq.posttrigger_s if scen.posttrigger_s is None else scen.posttrigger_s
        self.t_ign = self.t0 + scen.ignition_delay_s
        self.cstar = scen.motor_c_star_m_s or (880.0 if self.motor == "solid" else 1500.0)
        self.of = 0.0
        self._solve()
        self.duration = self.t_end + self.post
        self.pc_nom = float(np.max(self._pc))
        self.truth = self._truth()

    # the solution on a fine grid, interpolated
    def _grid(self, y):
        return lambda t: np.interp(np.asarray(t, dtype=float), self._t, y, left=y[0], right=y[-1])

    def chamber_pressure(self, t):
        return self._grid(self._pc)(t)

    def pc_target(self, t):
        return self.chamber_pressure(t)

    def combustion(self, t):
        return np.clip((self.chamber_pressure(t) - self.pa) / (self.pc_nom - self.pa), 0.0, 1.0)

    def c_star(self, t):
        return np.full_like(np.asarray(t, dtype=float), self.cstar)

    def mass_flow(self, t):
        """Flow through the nozzle, kg/s."""
        pc = self.chamber_pressure(t)
        return np.where(pc > self.pa * 1.0001, pc * self.At / self.cstar, 0.0)

    def thrust(self, t):
        pc = self.chamber_pressure(t)
        return self.At * np.maximum(self.scenario.eta_cf * self.scenario.cf_vac * pc - self.eps * self.pa, 0.0)

    def instability(self, t):
        return np.zeros_like(np.asarray(t, dtype=float))

    def valve_position(self, t):
        return np.zeros_like(np.asarray(t, dtype=float))

    def nominal_flows(self):
        tm = np.array([0.5 * (self.t_ign + self.t_cut)])
        return max(float(self.ox_flow(tm)[0]), 1e-6), max(float(self.fuel_flow(tm)[0]), 1e-6)

    def steady_window(self):
        return (self.t_ign + 0.5 - self.t0, self.t_cut - 0.2 - self.t0)

    def _ode(self, rhs, y0, t_stop, events=None):
        sol = solve_ivp(rhs, (self.t_ign, t_stop), y0, method="LSODA", max_step=2e-3, rtol=1e-9, atol=1e-9,
                        events=events, dense_output=True)
        return sol

    def _truth(self):
        from hotfire.daq.sources.engine import Truth

        extras = self._extras()
        t = self._t
        F, mdot = self.thrust(t), self.mass_flow(t)
        impulse, mprop = float(np.trapezoid(F, t)), float(np.trapezoid(mdot, t))
        above = np.nonzero(F >= 0.05 * F.max())[0]
        action = float(t[above[-1]] - t[above[0]]) if len(above) else 0.0
        pc_mean = float(self.chamber_pressure(t[above[0]:above[-1] + 1]).mean()) if len(above) else 0.0
        return Truth(c_star=self.cstar, c_star_theory=None, c_star_efficiency=None, cf=None, isp=None,
                     isp_theory=None, of=self.of or None, pc_bar=pc_mean / 1e5, thrust_N=None, mdot_kg_s=None,
                     total_impulse_Ns=impulse, propellant_mass_kg=mprop, isp_from_mass=impulse / (mprop * G0),
                     burn_time_s=action, action_time_s=action, t0_s=self.t0, ignition_s=self.t_ign,
                     cutoff_s=self.t_cut, steady_window_s=self.steady_window(), extras=extras)


class SolidMotorModel(_MotorModel):
    """A solid motor of BATES segments whose burn rate is a Pc^n (module docstring)."""

    motor = "solid"

    def _solve(self):
        s, g = self.scenario, self.grain
        a_si = s.burn_rate_a * 1e-3 / (1e6 ** s.burn_rate_n)  # m/s at Pc in Pa
        web = bates_web_m(g)
        k = self.cstar * g.density_kg_m3 / self.At

        def rhs(_, y):
            x, pc = y
            r = a_si * max(pc, 1.0) ** s.burn_rate_n if x < web else 0.0
            ab = float(bates_area_volume(g, min(x, web))[0]) if x < web else 0.0
            return [r, (k * ab * r - pc) / s.chamber_tau_s]

        def burnt(_, y):
            return y[0] - (web - 1e-9)  # r is 0 at the web: x reaches it, never crosses
        burnt.terminal = True
        sol = self._ode(rhs, [0.0, self.pa], self.t_ign + 120.0, burnt)
        t_out = float(sol.t[-1])
        pc_out = float(sol.y[1, -1])
        # after burnout the chamber empties through the nozzle: tau dPc/dt = -Pc, to ambient
        t_empty = t_out + s.chamber_tau_s * math.log(max(pc_out / self.pa, 1.0))
        self.t_cut = t_out  # burnout
        self.t_end = t_empty
        t = np.arange(0.0, t_empty + self.post + 0.01, _DT)
        burn = (t >= self.t_ign) & (t <= t_out)
        y = sol.sol(np.clip(t, self.t_ign, t_out))
        pc = np.where(burn, y[1], self.pa)
        after = t > t_out
        pc[after] = np.maximum(pc_out * np.exp(-(t[after] - t_out) / s.chamber_tau_s), self.pa)
        self._t, self._pc, self._x = t, pc, np.where(t < self.t_ign, 0.0, np.where(burn, y[0], web))
        self.web = web

    def ox_flow(self, t):
        return np.zeros_like(np.asarray(t, dtype=float))

    def fuel_flow(self, t):
        return self.mass_flow(t)

    def _extras(self):
        g, s = self.grain, self.scenario
        vol0 = float(bates_area_volume(g, 0.0)[1])
        return {"motor": "solid", "burn_rate_a_mm_s_MPa": s.burn_rate_a, "burn_rate_n": s.burn_rate_n,
                "web_mm": self.web * 1e3, "burnout_s": self.t_cut - self.t0,
                "grain_propellant_mass_kg": vol0 * g.density_kg_m3}


class HybridMotorModel(_MotorModel):
    """A hybrid motor: oxidizer from a blowdown tank, a fuel port regressing by a G_ox^n (module docstring)."""

    motor = "hybrid"

    def _ox(self, t):
        """Oxidizer flow, kg/s: valve strokes of 40 ms at ignition and cutoff, a linear blowdown between."""
        t = np.asarray(t, dtype=float)
        s = self.scenario
        open_ = np.clip((t - self.t_ign) / 0.04, 0, 1) * (1 - np.clip((t - self.t_cut) / 0.04, 0, 1))
        frac = np.clip((t - self.t_ign) / max(self.t_cut - self.t_ign, 1e-9), 0, 1)
        return s.ox_flow_kg_s * (1 - s.ox_blowdown * frac) * open_

    def _solve(self):
        s, g = self.scenario, self.grain
        self.t_cut = self.t0 + self.burn_s
        L, rho = g.length_mm * 1e-3, g.density_kg_m3
        Dmax = g.outer_diameter_mm * 1e-3

        def r_of(ox, D):
            G = ox / (math.pi / 4 * D * D)
            return s.regression_a * 1e-3 * G ** s.regression_n if G > 0 and D < Dmax else 0.0

        def rhs(t, y):
            D, pc = y
            ox = float(self._ox(t))
            r = r_of(ox, D)
            fuel = rho * math.pi * D * L * r
            return [2 * r, (self.cstar * (ox + fuel) / self.At - pc) / s.chamber_tau_s]

        t_stop = self.t_cut + 0.04 + 20 * s.chamber_tau_s
        sol = self._ode(rhs, [g.port_diameter_mm * 1e-3, self.pa], t_stop)
        self.t_end = t_stop
        t = np.arange(0.0, t_stop + self.post + 0.01, _DT)
        y = sol.sol(np.clip(t, self.t_ign, t_stop))
        live = t >= self.t_ign
        self._t = t
        self._pc = np.maximum(np.where(live, y[1], self.pa), self.pa)
        self._D = np.where(live, y[0], g.port_diameter_mm * 1e-3)
        ox = self._ox(t)
        G = ox / (math.pi / 4 * self._D ** 2)
        r = s.regression_a * 1e-3 * np.maximum(G, 0) ** s.regression_n
        self._fuel = rho * math.pi * self._D * L * r
        self._oxv = ox

    def ox_flow(self, t):
        return self._grid(self._oxv)(t)

    def fuel_flow(self, t):
        return self._grid(self._fuel)(t)

    def mass_flow(self, t):
        return self.ox_flow(t) + self.fuel_flow(t)

    def _extras(self):
        g, s = self.grain, self.scenario
        m_ox, m_f = float(np.trapezoid(self._oxv, self._t)), float(np.trapezoid(self._fuel, self._t))
        self.of = m_ox / m_f
        return {"motor": "hybrid", "regression_a_mm_s": s.regression_a, "regression_n": s.regression_n,
                "ox_mass_kg": m_ox, "fuel_mass_kg": m_f, "of": m_ox / m_f,
                "final_port_diameter_mm": float(self._D[-1]) * 1e3,
                "initial_port_diameter_mm": g.port_diameter_mm}
