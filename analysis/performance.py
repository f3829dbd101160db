"""Thrust and propellant-efficiency results of a firing.

Conventions (stored with the result so a number can be traced):
- thrust is tared on a pre-T0 window;
- the burn is where the (lightly smoothed) thrust is above a fraction of the
  steady thrust (default 10 %);
- total impulse integrates the tared thrust where it is above 1 % of steady
  thrust, so start and tail-off are included;
- the steady window is the longest stretch of the burn where the smoothed
  chamber pressure stays within a band around its burn median, trimmed at
  both ends; means over it give Pc, mass flows, O/F, Isp, c* and CF.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import uniform_filter1d

from hotfire.analysis.theory import G0, theoretical


@dataclass
class Settings:
    tare_window_s: tuple[float, float] = (-1.5, -0.1)  # seconds from T0
    burn_threshold: float = 0.10  # fraction of steady thrust
    impulse_threshold: float = 0.01
    steady_band: float = 0.03  # fraction of median Pc
    steady_trim_s: float = 0.1
    smooth_s: float = 0.02
    steady_window_s: tuple[float, float] | None = None  # given instead of found


@dataclass
class Performance:
    """Results over the burn and the steady window; SI units, times from T0."""

    burn_start_s: float
    burn_end_s: float
    burn_time_s: float
    total_impulse_Ns: float
    average_thrust_N: float  # over the burn
    peak_thrust_N: float
    steady_window_s: tuple[float, float]
    thrust_N: float  # steady mean
    pc_bar: float
    mdot_kg_s: float | None = None
    ox_mdot_kg_s: float | None = None
    fuel_mdot_kg_s: float | None = None
    of: float | None = None
    isp_s: float | None = None
    c_star_m_s: float | None = None
    cf: float | None = None
    c_star_theory_m_s: float | None = None
    c_star_efficiency: float | None = None
    isp_theory_s: float | None = None
    isp_efficiency: float | None = None
    tare_N: float = 0.0
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["steady_window_s"] = list(self.steady_window_s)
        return d


def _mean_in(t, v, window):
    sel = (t >= window[0]) & (t <= window[1])
    if not sel.any():
        raise ValueError(f"no samples in window {window}")
    return float(np.mean(v[sel]))


def thrust(run, settings: Settings | None = None):
    """Tared total thrust (sum of thrust-role channels), N, and its time base."""
    s = settings or Settings()
    chans = run.role("thrust")
    if not chans:
        raise ValueError(f"{run.path}: no channel with role 'thrust'")
    t = chans[0].t
    total = np.zeros_like(t)
    tare = 0.0
    for sig in chans:
        f = sig.si()
        v = f if np.array_equal(sig.t, t) else np.interp(t, sig.t, f)
        off = _mean_in(t, v, s.tare_window_s)
        tare += off
        total += v - off
    return t, total, tare


def _crossings(t, v, level):
    above = np.nonzero(v >= level)[0]
    if len(above) == 0:
        return None
    return float(t[above[0]]), float(t[above[-1]])


def steady_window(t, pc, burn, settings: Settings | None = None):
    """The longest stretch of the burn where smoothed Pc stays near its median."""
    s = settings or Settings()
    if s.steady_window_s:
        return tuple(s.steady_window_s)
    rate = 1.0 / np.median(np.diff(t))
    sm = uniform_filter1d(pc, max(1, int(s.smooth_s * 5 * rate)))
    inb = (t >= burn[0]) & (t <= burn[1])
    med = np.median(sm[inb])
    ok = inb & (np.abs(sm - med) <= s.steady_band * med)
    # longest run of True
    edges = np.diff(np.concatenate(([0], ok.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    if len(starts) == 0:
        return burn
    k = int(np.argmax(ends - starts))
    a, b = t[starts[k]] + s.steady_trim_s, t[ends[k] - 1] - s.steady_trim_s
    return (float(a), float(b)) if b > a else (float(t[starts[k]]), float(t[ends[k] - 1]))


def analyze(run, settings: Settings | None = None) -> Performance:
    """Burn, impulse and steady-state performance of a run.

    Parameters
    ----------
    run : Run
        An open run file (``hotfire.analysis.run.open_run``).
    settings : Settings, optional

    Returns
    -------
    Performance
    """
    s = settings or Settings()
    t, F, tare = thrust(run, s)
    rate = 1.0 / np.median(np.diff(t))
    Fs = uniform_filter1d(F, max(1, int(s.smooth_s * rate)))
    rough = _crossings(t, Fs, 0.5 * Fs.max())
    if rough is None or Fs.max() <= 0:
        raise ValueError(f"{run.path}: no burn found in the thrust channels")
    steady_F0 = float(np.median(F[(t >= rough[0]) & (t <= rough[1])]))
    burn = _crossings(t, Fs, s.burn_threshold * steady_F0)
    imp_win = _crossings(t, Fs, s.impulse_threshold * steady_F0)
    sel = (t >= imp_win[0]) & (t <= imp_win[1])
    impulse = float(np.trapezoid(F[sel], t[sel]))
    bsel = (t >= burn[0]) & (t <= burn[1])
    pcs = run.role("chamber_pressure")
    if not pcs:
        raise ValueError(f"{run.path}: no channel with role 'chamber_pressure'")
    pc_t, pc = pcs[0].t, pcs[0].si()
    win = steady_window(pc_t, pc, burn, s)
    pc_mean = _mean_in(pc_t, pc, win)
    F_mean = _mean_in(t, F, win)
    perf = Performance(
        burn_start_s=burn[0], burn_end_s=burn[1], burn_time_s=burn[1] - burn[0],
        total_impulse_Ns=impulse, average_thrust_N=float(F[bsel].mean()), peak_thrust_N=float(Fs.max()),
        steady_window_s=win, thrust_N=F_mean, pc_bar=pc_mean / 1e5, tare_N=tare,
        settings=asdict(s),
    )
    ox, fu = run.role("ox_mass_flow"), run.role("fuel_mass_flow")
    if ox and fu:
        perf.ox_mdot_kg_s = _mean_in(ox[0].t, ox[0].si(), win)
        perf.fuel_mdot_kg_s = _mean_in(fu[0].t, fu[0].si(), win)
        mdot = perf.ox_mdot_kg_s + perf.fuel_mdot_kg_s
        perf.mdot_kg_s = mdot
        perf.of = perf.ox_mdot_kg_s / perf.fuel_mdot_kg_s
        perf.isp_s = F_mean / (mdot * G0)
        a = run.article
        perf.c_star_m_s = pc_mean * a.throat_area_m2 / mdot
        perf.cf = F_mean / (pc_mean * a.throat_area_m2)
        th = theoretical(a.fuel, a.oxidizer, pc_mean / 1e5, perf.of, a.expansion_ratio,
                         a.ambient_pressure_bar, a.fuel_temperature_K, a.oxidizer_temperature_K)
        perf.c_star_theory_m_s = th.c_star
        perf.c_star_efficiency = perf.c_star_m_s / th.c_star
        perf.isp_theory_s = th.isp
        perf.isp_efficiency = perf.isp_s / th.isp
    return perf
