"""A physical model of a liquid rocket engine firing, and its ground truth.

The model is deterministic and noise-free: the simulator adds what the
sensors add. Chamber pressure follows the firing sequence (quiet pre-fire
period, T0 = valves open, ignition after a delay, first-order start
transient, steady state or a throttle profile, cutoff, exponential tail-off);
the rest follows from it:

    mdot = Pc * At / c*          c* = eta_c* x c*_CEA(Pc, O/F)
    F    = At * (eta_CF x CF_vac,CEA x Pc - eps x pa)

so that in steady state ``F = CF * Pc * At`` with ``CF = eta_CF x CF_vac -
eps x pa / Pc``. Theoretical c* and CF come from NASA CEA for the rig's
propellants, tabulated over the chamber pressures the scenario visits.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from hotfire.core.theory import G0, theoretical


@dataclass(frozen=True)
class Scenario:
    """What happens in a simulated firing.

    Times are seconds; ``throttle`` is a list of (seconds after ignition,
    fraction of nominal Pc) points, linearly interpolated.
    """

    name: str = "nominal"
    pretrigger_s: float | None = None  # None: the rig's sequence
    burn_s: float | None = None
    posttrigger_s: float | None = None
    pc_bar: float | None = None  # None: the article's nominal
    of: float | None = None
    eta_cstar: float = 0.955
    eta_cf: float = 0.975
    ignition_delay_s: float = 0.12
    rise_tau_s: float = 0.035
    tailoff_tau_s: float = 0.06
    throttle: tuple[tuple[float, float], ...] = ()
    hard_start_factor: float = 0.0  # peak overpressure at ignition, fraction of Pc
    instability_hz: float = 0.0
    instability_amplitude: float = 0.0  # peak, fraction of mean Pc
    instability_start_s: float = 1.0  # after ignition
    roughness: float = 0.006  # broadband combustion noise, RMS fraction of Pc
    failed_channel_role: str = ""  # a sensor that fails open circuit mid-burn
    failure_at_s: float = 1.5  # after ignition
    failure_duration_s: float | None = None  # None: for good; else a dropout that recovers
    abort_at_s: float | None = None  # after ignition: the sequence aborts (cutoff) early
    instability_all: bool = False  # the oscillation is in the mean Pc, flows and thrust too (chug)
    load_share: tuple[float, ...] = ()  # fraction of thrust on each load cell (default: equal)
    # sensor noise (sim.py), fractions of each analog channel's steady reading; the first two are RMS
    white_noise: float = 0.0
    pink_noise: float = 0.0  # 1/f noise
    mains_noise: float = 0.0  # amplitude of the mains pickup
    mains_hz: float = 50.0
    spikes_per_s: float = 0.0  # single-sample spikes of either sign
    spike_size: float = 0.2
    zero_drift_per_s: float = 0.0  # transducer zero drift from the start of the record
    roughness_pp: float = 0.0  # combustion roughness in the mean Pc and thrust, peak-to-peak
    adc_bits: int | None = None  # coarser converter (quantisation), bits over the input range
    seed: int = 1
    # solid and hybrid motors (hotfire.daq.sources.motormodel; the rig's [article.grain] chooses the model)
    burn_rate_a: float = 5.0  # solid: r = a Pc^n, mm/s at Pc in MPa (absolute)
    burn_rate_n: float = 0.35
    regression_a: float = 0.155  # hybrid: r = a G_ox^n, mm/s at G_ox in kg/(m^2 s)
    regression_n: float = 0.5
    ox_flow_kg_s: float = 0.5  # hybrid: oxidizer flow at ignition
    ox_blowdown: float = 0.3  # hybrid: fraction the oxidizer flow falls by over the burn
    motor_c_star_m_s: float | None = None  # None: 880 m/s (solid), 1500 m/s (hybrid)
    cf_vac: float = 1.55  # motors' vacuum CF (eta_cf applies)
    chamber_tau_s: float = 0.005  # motors: the chamber's gas storage, seconds of nozzle flow

    def to_dict(self) -> dict:
        d = asdict(self)
        d["throttle"] = [list(p) for p in self.throttle]
        d["load_share"] = list(self.load_share)
        return d

    @property
    def noisy(self) -> bool:
        return bool(self.white_noise or self.pink_noise or self.mains_noise or self.spikes_per_s
                    or self.zero_drift_per_s or self.roughness_pp or self.adc_bits)


SCENARIOS = {
    "nominal": Scenario(),
    "throttled": Scenario(name="throttled", throttle=((0.0, 1.0), (1.5, 1.0), (1.8, 0.7), (3.0, 0.7), (3.3, 1.0))),
    "hard-start": Scenario(name="hard-start", hard_start_factor=0.9, ignition_delay_s=0.25),
    "unstable": Scenario(name="unstable", instability_hz=1850.0, instability_amplitude=0.08),
    "failed-sensor": Scenario(name="failed-sensor", failed_channel_role="fuel_injector_pressure"),
    # Chamber overpressure to 1.45 x nominal for 0.4 s: crosses the Pc warning and redline.
    "overpressure": Scenario(name="overpressure", throttle=((0.0, 1.0), (0.5, 1.0), (0.7, 1.45), (1.1, 1.45), (1.3, 1.0))),
    # The sequence aborts 1.2 s after ignition (cutoff early): a short, truncated steady state.
    "abort": Scenario(name="abort", abort_at_s=1.2),
    # The Pc transducer drops out (open circuit) for 0.3 s mid-burn, then recovers.
    "pc-dropout": Scenario(name="pc-dropout", failed_channel_role="chamber_pressure", failure_at_s=1.0,
                           failure_duration_s=0.3),
    # Chug: a 120 Hz, 6 % oscillation of the whole feed-chamber system from ignition + 0.8 s.
    "chug": Scenario(name="chug", instability_hz=120.0, instability_amplitude=0.06, instability_start_s=0.8,
                     instability_all=True),
    # Burn-through: the chamber breaches 1.4 s after ignition; Pc falls to 35 % within 20 ms and stays.
    "burn-through": Scenario(name="burn-through", throttle=((0.0, 1.0), (1.4, 1.0), (1.42, 0.35))),
    # One of two load cells carries 62 % of the thrust and goes over capacity in an overpressure.
    "load-cell-saturation": Scenario(name="load-cell-saturation", load_share=(0.62, 0.38),
                                     throttle=((0.0, 1.0), (0.5, 1.0), (0.7, 1.45), (1.1, 1.45), (1.3, 1.0))),
}

#: noise levels of the test matrix: name -> Scenario fields (fractions of each channel's steady reading)
NOISE = {
    "clean": {},
    "white-0.3%": {"white_noise": 0.003},
    "white-1%": {"white_noise": 0.01},
    "white-3%": {"white_noise": 0.03},
    "pink-1%": {"pink_noise": 0.01},
    "rough-5%pp": {"roughness_pp": 0.05},
    "mains-2%": {"mains_noise": 0.02, "mains_hz": 50.0},
    "spikes": {"spikes_per_s": 5.0, "spike_size": 0.3},
    "drift": {"zero_drift_per_s": 0.002},
    "stand": {"white_noise": 0.01, "pink_noise": 0.005, "mains_noise": 0.01, "mains_hz": 60.0,
              "roughness_pp": 0.03, "spikes_per_s": 2.0, "adc_bits": 12},
}


def scenario(name: str, **overrides) -> Scenario:
    """A named scenario (``SCENARIOS``) with fields overridden."""
    try:
        base = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class Truth:
    """The firing's true performance, from the noise-free model.

    Steady-state values are over the model's steady window (ignition +
    0.5 s to cutoff - 0.2 s); burn time uses the 10 %-of-steady-thrust
    convention, action time the NFPA 1125 5 %-of-peak one.
    """

    c_star: float  # m/s, delivered (steady)
    c_star_theory: float  # m/s, CEA at the steady Pc and O/F
    c_star_efficiency: float
    cf: float  # delivered (steady, at ambient)
    isp: float  # s, steady F / (mdot g0)
    isp_theory: float  # s, CEA at ambient
    of: float
    pc_bar: float  # steady mean
    thrust_N: float  # steady mean
    mdot_kg_s: float  # steady mean
    total_impulse_Ns: float
    propellant_mass_kg: float
    isp_from_mass: float  # total impulse / (propellant mass g0)
    burn_time_s: float  # 10 % of steady thrust
    action_time_s: float  # 5 % of peak thrust
    t0_s: float  # T0, seconds from acquisition start
    ignition_s: float  # seconds from acquisition start
    cutoff_s: float
    steady_window_s: tuple[float, float]  # seconds from T0
    instability_hz: float = 0.0
    instability_amplitude: float = 0.0
    extras: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["steady_window_s"] = list(self.steady_window_s)
        return d


class EngineModel:
    """The noise-free physics of one firing on one rig.

    Parameters
    ----------
    rig : Rig
    scen : Scenario
    """

    def __init__(self, rig, scen: Scenario):
        a = rig.article
        missing = a.missing("fuel", "oxidizer", "fuel_temperature_K", "oxidizer_temperature_K",
                            "throat_diameter_mm", "expansion_ratio", "nominal_pc_bar", "nominal_of")
        if missing:
            raise ValueError(f"rig {rig.name!r}: the simulator needs [article] {', '.join(missing)}")
        seq = rig.sequence
        self.rig, self.scenario = rig, scen
        self.At = a.throat_area_m2
        self.eps = a.expansion_ratio
        self.pa = a.ambient_pressure_bar * 1e5
        self.pc_nom = (scen.pc_bar or a.nominal_pc_bar) * 1e5
        self.of = scen.of or a.nominal_of
        self.t0 = seq.pretrigger_s if scen.pretrigger_s is None else scen.pretrigger_s
        burn = seq.burn_s if scen.burn_s is None else scen.burn_s
        post = seq.posttrigger_s if scen.posttrigger_s is None else scen.posttrigger_s
        self.t_ign = self.t0 + scen.ignition_delay_s
        self.t_cut = self.t0 + burn
        if scen.abort_at_s is not None:
            self.t_cut = min(self.t_cut, self.t_ign + scen.abort_at_s)
        self.duration = self.t_cut + post
        # CEA over the pressures the throttle profile visits (c* and CF
        # depend weakly on Pc): a small table, interpolated.
        fracs = [p[1] for p in scen.throttle] or [1.0]
        lo, hi = min(fracs + [1.0]) * 0.5, max(fracs + [1.0]) * 1.1
        self._pc_grid = np.linspace(lo, hi, 9) * self.pc_nom
        th = [theoretical(a.fuel, a.oxidizer, p / 1e5, self.of, self.eps, a.ambient_pressure_bar,
                          a.fuel_temperature_K, a.oxidizer_temperature_K) for p in self._pc_grid]
        self._cstar_grid = np.array([t.c_star for t in th])
        self._cfvac_grid = np.array([t.cf_vac for t in th])
        self.theory_nominal = theoretical(a.fuel, a.oxidizer, self.pc_nom / 1e5, self.of, self.eps,
                                          a.ambient_pressure_bar, a.fuel_temperature_K, a.oxidizer_temperature_K)
        self.truth = self._truth()

    # -- the sequence ------------------------------------------------------
    def throttle(self, t):
        """Commanded fraction of nominal Pc at time t (seconds from acquisition start)."""
        t = np.asarray(t, dtype=float)
        pts = self.scenario.throttle
        if not pts:
            return np.ones_like(t)
        x = np.array([p[0] for p in pts]) + self.t_ign
        y = np.array([p[1] for p in pts])
        return np.interp(t, x, y)

    def combustion(self, t):
        """Fraction of the way to steady combustion, 0..1 (start and tail-off)."""
        t = np.asarray(t, dtype=float)
        s = self.scenario
        rise = 1.0 - np.exp(-np.maximum(t - self.t_ign, 0.0) / s.rise_tau_s)
        at_cut = 1.0 - math.exp(-(self.t_cut - self.t_ign) / s.rise_tau_s)
        fall = at_cut * np.exp(-np.maximum(t - self.t_cut, 0.0) / s.tailoff_tau_s)
        return np.where(t < self.t_cut, rise, fall)

    def pc_target(self, t):
        """Pc the engine settles to under the throttle command, Pa."""
        return self.pc_nom * self.throttle(t)

    def chamber_pressure(self, t):
        """Mean (acoustically quiet) chamber pressure, Pa absolute."""
        t = np.asarray(t, dtype=float)
        f = self.combustion(t)
        pc = self.pa + (self.pc_target(t) - self.pa) * f
        if self.scenario.instability_all:
            pc = pc + self.instability(t)
        k = self.scenario.hard_start_factor
        if k:
            dt = np.maximum(t - self.t_ign, 0.0) / 0.004
            spike = k * self.pc_nom * dt * np.exp(1 - np.minimum(dt, 700.0))
            pc = pc + spike
        return pc

    def c_star(self, t):
        """Delivered c*, m/s."""
        pc = np.clip(self.pc_target(t), self._pc_grid[0], self._pc_grid[-1])
        return self.scenario.eta_cstar * np.interp(pc, self._pc_grid, self._cstar_grid)

    def mass_flow(self, t):
        """Total propellant mass flow, kg/s (it follows a chug: feed and chamber oscillate together)."""
        pc = self.pc_target(t)
        if self.scenario.instability_all:
            pc = pc + self.instability(t)
        return self.combustion(t) * pc * self.At / self.c_star(t)

    def ox_flow(self, t):
        return self.mass_flow(t) * self.of / (1 + self.of)

    def fuel_flow(self, t):
        return self.mass_flow(t) / (1 + self.of)

    def thrust(self, t):
        """Thrust, N (zero until the nozzle flows full)."""
        pc_target = np.clip(self.pc_target(t), self._pc_grid[0], self._pc_grid[-1])
        cf_vac = self.scenario.eta_cf * np.interp(pc_target, self._pc_grid, self._cfvac_grid)
        pc = self.chamber_pressure(t)
        return self.At * np.maximum(cf_vac * pc - self.eps * self.pa, 0.0)

    def valve_position(self, t):
        """Main valve opening, 0..1: opens at T0 and closes at cutoff, 40 ms strokes."""
        t = np.asarray(t, dtype=float)
        opening = np.clip((t - self.t0) / 0.04, 0, 1)
        closing = np.clip((t - self.t_cut) / 0.04, 0, 1)
        return opening * (1 - closing)

    def instability(self, t):
        """Acoustic pressure oscillation, Pa (zero unless the scenario has one)."""
        s = self.scenario
        if not s.instability_amplitude:
            return np.zeros_like(np.asarray(t, dtype=float))
        t = np.asarray(t, dtype=float)
        on = (t > self.t_ign + s.instability_start_s) & (t < self.t_cut)
        if s.instability_all:  # the oscillation grows and decays with combustion
            on = on * self.combustion(t)
        amp = s.instability_amplitude * self.pc_target(t)
        return on * amp * np.sin(2 * np.pi * s.instability_hz * t)

    # -- ground truth ------------------------------------------------------
    def steady_window(self):
        """Steady window, seconds from T0."""
        return (self.t_ign + 0.5 - self.t0, self.t_cut - 0.2 - self.t0)

    def _truth(self) -> Truth:
        a = self.rig.article
        t = np.arange(0.0, self.duration, 1e-5)  # 100 kHz: far finer than any transient
        F = self.thrust(t)
        mdot = self.mass_flow(t)
        impulse = float(np.trapezoid(F, t))
        mprop = float(np.trapezoid(mdot, t))
        w0, w1 = (x + self.t0 for x in self.steady_window())
        sw = (t >= w0) & (t <= w1)
        F_s, mdot_s = float(F[sw].mean()), float(mdot[sw].mean())
        pc_s = float(self.chamber_pressure(t[sw]).mean())
        steady_F = F_s
        above = np.nonzero(F >= 0.10 * steady_F)[0]
        burn = float(t[above[-1]] - t[above[0]]) if len(above) else 0.0
        above5 = np.nonzero(F >= 0.05 * F.max())[0]
        action = float(t[above5[-1]] - t[above5[0]]) if len(above5) else 0.0
        cstar = float(pc_s * self.At / mdot_s)
        th = theoretical(a.fuel, a.oxidizer, pc_s / 1e5, self.of, self.eps, a.ambient_pressure_bar,
                         a.fuel_temperature_K, a.oxidizer_temperature_K)
        return Truth(
            c_star=cstar,
            c_star_theory=th.c_star,
            c_star_efficiency=cstar / th.c_star,
            cf=F_s / (pc_s * self.At),
            isp=F_s / (mdot_s * G0),
            isp_theory=th.isp,
            of=self.of,
            pc_bar=pc_s / 1e5,
            thrust_N=F_s,
            mdot_kg_s=mdot_s,
            total_impulse_Ns=impulse,
            propellant_mass_kg=mprop,
            isp_from_mass=impulse / (mprop * G0),
            burn_time_s=burn,
            action_time_s=action,
            t0_s=self.t0,
            ignition_s=self.t_ign,
            cutoff_s=self.t_cut,
            steady_window_s=self.steady_window(),
            instability_hz=self.scenario.instability_hz,
            instability_amplitude=self.scenario.instability_amplitude,
        )
