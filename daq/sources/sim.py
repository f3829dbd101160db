"""The simulated test stand: the engine model seen through the rig's sensors.

``SignalGenerator`` turns the noise-free engine model into what each
channel's sensor and ADC would deliver: engineering value -> the sensor's
signal (V, mA, mV/V, degC) through the inverse of the channel's calibration,
plus sensor noise, then ADC quantization (int16 counts over the channel's
range, or a 24-bit-resolution float). The simulated NI-DAQmx driver uses the
same generator, so the real nidaqmx code path yields the same physics.

Noise is a fixed table indexed by absolute sample index, so any block
boundaries give bit-identical data: a run can be regenerated exactly.
"""
from __future__ import annotations

import zlib

import numpy as np

from hotfire.core import units as U
from hotfire.core.events import Event
from hotfire.core.scaling import ADC_BITS, Calibration
from hotfire.daq.sources.base import ClockedSource
from hotfire.daq.sources.engine import Scenario
from hotfire.daq.sources.motormodel import model_for

_NOISE_BITS = 21
_NOISE = np.random.default_rng(20261125).standard_normal(1 << _NOISE_BITS)
_MASK = (1 << _NOISE_BITS) - 1


#: roles whose readings get the scenario's stand noise (analog transducers of the firing)
NOISY_ROLES = {"thrust", "chamber_pressure", "ox_injector_pressure", "fuel_injector_pressure", "ox_tank_pressure",
               "fuel_tank_pressure", "ox_mass_flow", "fuel_mass_flow", "ox_tank_mass", "fuel_tank_mass"}
_PINK = []


def _pink(key: str, first: int, n: int) -> np.ndarray:
    """Unit-RMS 1/f noise for samples [first, first+n) of one channel, reproducible (a table, as _noise)."""
    if not _PINK:
        f = np.fft.rfftfreq(len(_NOISE))
        spec = np.fft.rfft(_NOISE)
        spec[1:] /= np.sqrt(f[1:] * len(_NOISE))  # power ~ 1/f
        spec[0] = 0.0
        p = np.fft.irfft(spec, len(_NOISE))
        _PINK.append(p / p.std())
    offset = zlib.crc32((key + "/pink").encode()) & _MASK
    idx = (np.arange(first, first + n, dtype=np.int64) + offset) & _MASK
    return _PINK[0][idx]


def _noise(key: str, first: int, n: int) -> np.ndarray:
    """Unit normal noise for samples [first, first+n) of one channel, reproducible."""
    offset = zlib.crc32(key.encode()) & _MASK
    idx = (np.arange(first, first + n, dtype=np.int64) + offset) & _MASK
    return _NOISE[idx]


class SignalGenerator:
    """Sensor signals for every channel of a rig during one simulated firing.

    Parameters
    ----------
    rig : Rig
    scen : Scenario
    """

    def __init__(self, rig, scen: Scenario | None = None):
        self.rig = rig
        self.model = model_for(rig, scen or Scenario())
        self.scenario = self.model.scenario
        self._cal = {ch.name: Calibration(ch.calibration) for ch in rig.channels}
        thrust = rig.by_role("thrust")
        self._n_thrust = max(1, len(thrust))
        share = self.scenario.load_share
        if share and len(share) != len(thrust):
            raise ValueError(f"scenario {self.scenario.name!r}: load_share has {len(share)} entries, "
                             f"the rig {len(thrust)} load cells")
        self._share = {ch.name: (share[i] if share else 1.0 / self._n_thrust) for i, ch in enumerate(thrust)}
        # A thrust stand carries a preload: every load cell reads something
        # before the firing, which is why analyses tare.
        self._preload = {ch.name: 0.015 * (i + 1) * _full_scale(ch) for i, ch in enumerate(thrust)}
        self._nominals, self._rough = {}, None
        m = self.model
        if hasattr(m, "nominal_flows"):  # a motor
            self._ox_nom, self._fuel_nom = m.nominal_flows()
        else:
            self._ox_nom = m.pc_nom * m.At / m.c_star(m.t_cut - 0.5) * m.of / (1 + m.of)
            self._fuel_nom = self._ox_nom / m.of
        # Propellant used so far, for tank weigh scales (the tanks start
        # with 50 % more than the firing uses).
        tg = np.arange(0.0, m.duration + 0.002, 1e-3)
        self._tank_t = tg
        self._tank_used = {}
        for role, flow in (("ox_tank_mass", m.ox_flow), ("fuel_tank_mass", m.fuel_flow)):
            f = flow(tg)
            used = np.concatenate(([0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(tg))))
            self._tank_used[role] = (1.5 * used[-1], used)

    def duration_samples(self, stream: str) -> int:
        return int(round(self.model.duration * self.rig.streams[stream].rate_hz))

    def quantity(self, ch, t: np.ndarray, first: int) -> np.ndarray:
        """The true physical value at channel ``ch`` (SI, or % for valves)."""
        m, role = self.model, ch.role
        if role == "thrust":
            return m.thrust(t) * self._share[ch.name] + U.to_si(self._preload[ch.name], ch.units)
        if role == "chamber_pressure":
            return m.chamber_pressure(t)
        if role == "chamber_pressure_dynamic":
            rough = self.scenario.roughness * m.pc_target(t) * m.combustion(t)
            return m.chamber_pressure(t) + m.instability(t) + rough * _noise(ch.name + "/rough", first, len(t))
        if role == "ox_injector_pressure":
            return m.chamber_pressure(t) + 0.20 * m.pc_nom * (m.ox_flow(t) / self._ox_nom) ** 2
        if role == "fuel_injector_pressure":
            return m.chamber_pressure(t) + 0.25 * m.pc_nom * (m.fuel_flow(t) / self._fuel_nom) ** 2
        if role == "ox_tank_pressure":
            return 1.7 * m.pc_nom * (1 - 0.04 * m.ox_flow(t) / self._ox_nom)
        if role == "fuel_tank_pressure":
            return 1.7 * m.pc_nom * (1 - 0.04 * m.fuel_flow(t) / self._fuel_nom)
        if role == "ox_mass_flow":
            return m.ox_flow(t)
        if role == "fuel_mass_flow":
            return m.fuel_flow(t)
        if role in self._tank_used:
            full, used = self._tank_used[role]
            return full - np.interp(t, self._tank_t, used)
        if role == "ox_temperature":
            return np.full_like(t, self.rig.article.oxidizer_temperature_K)
        if role == "fuel_temperature":
            return np.full_like(t, self.rig.article.fuel_temperature_K)
        if role == "chamber_wall_temperature":
            heat = 650.0 * (1 - np.exp(-np.maximum(t - m.t_ign, 0) / 1.5))
            at_cut = 650.0 * (1 - np.exp(-(m.t_cut - m.t_ign) / 1.5))
            cool = at_cut * np.exp(-np.maximum(t - m.t_cut, 0) / 20.0)
            return 293.15 + np.where(t < m.t_cut, heat, cool)
        if role == "ambient_temperature":
            return np.full_like(t, 288.15)
        if role in ("ox_valve_position", "fuel_valve_position"):
            return 100.0 * m.valve_position(t)
        return np.zeros_like(t)

    def signal(self, ch, first: int, n: int) -> np.ndarray:
        """Channel ``ch``'s sensor signal (V, mA, mV/V or degC) for samples [first, first+n), noisy."""
        rate = self.rig.streams[ch.stream].rate_hz
        t = np.arange(first, first + n, dtype=np.float64) / rate
        value = U.from_si(self.quantity(ch, t, first), ch.units)
        lo, hi = ch.range
        span = hi - lo
        if self.scenario.noisy and ch.role in NOISY_ROLES:
            value = value + self._stand_noise(ch, t, first, n)
        sig = self._cal[ch.name].to_signal(value, (lo - span, hi + span))
        sigma = 0.05 if ch.kind == "thermocouple" else 2e-4 * span
        sig = sig + sigma * _noise(ch.name, first, n)
        bits = self.scenario.adc_bits
        if bits and ch.kind != "thermocouple":
            lsb = span / (1 << bits)
            sig = lo + np.rint((sig - lo) / lsb) * lsb
        sc = self.scenario
        if sc.failed_channel_role and ch.role == sc.failed_channel_role:
            # open circuit: the input sits at its lower rail from the failure on (or for a dropout's duration)
            start = self.model.t_ign + sc.failure_at_s
            failed = t >= start
            if sc.failure_duration_s is not None:
                failed &= t < start + sc.failure_duration_s
            sig = np.where(failed, lo + 1e-3 * span * _noise(ch.name + "/open", first, n), sig)
        return sig

    def _roughness(self):
        """The chamber's roughness over the firing: unit-RMS noise below ~1 kHz, on a 20 kHz grid."""
        if self._rough is None:
            tg = np.arange(0.0, self.model.duration + 0.01, 5e-5)
            w = np.random.default_rng(self.scenario.seed + 7).standard_normal(len(tg))
            r = np.convolve(w, np.ones(20) / 20, mode="same")  # 1 ms moving mean: a ~1 kHz band
            self._rough = (tg, r / r.std())
        return self._rough

    def _nominal(self, ch) -> float:
        """A channel's steady reading (engineering units): the scale of its noise."""
        if ch.name not in self._nominals:
            m = self.model
            tm = np.array([m.t_ign + 0.5 * (m.t_cut - m.t_ign)])
            v = float(np.abs(U.from_si(self.quantity(ch, tm, 0), ch.units))[0])
            if ch.role == "thrust":  # the load, not the preload
                v = float(U.from_si(m.thrust(tm)[0] * self._share[ch.name], ch.units))
            self._nominals[ch.name] = v
        return self._nominals[ch.name]

    def _stand_noise(self, ch, t, first, n) -> np.ndarray:
        """What a real stand adds to a reading (engineering units): white and 1/f noise, mains pickup,
        single-sample spikes, zero drift, and the combustion roughness of Pc and thrust."""
        sc, v = self.scenario, self._nominal(ch)
        out = np.zeros(n)
        if sc.white_noise:
            out += sc.white_noise * v * _noise(ch.name + "/white", first, n)
        if sc.pink_noise:
            out += sc.pink_noise * v * _pink(ch.name, first, n)
        if sc.mains_noise:
            phase = (zlib.crc32(ch.name.encode()) % 628) / 100.0
            out += sc.mains_noise * v * np.sin(2 * np.pi * sc.mains_hz * t + phase)
        if sc.spikes_per_s:
            rate = self.rig.streams[ch.stream].rate_hz
            u = _noise(ch.name + "/spike", first, n)
            # |N(0,1)| beyond z occurs with probability erfc(z / sqrt 2): place spikes_per_s spikes a second
            from scipy.special import erfcinv
            z = np.sqrt(2) * erfcinv(min(1.0, sc.spikes_per_s / rate))
            out += np.where(np.abs(u) > z, np.sign(u) * sc.spike_size * v, 0.0)
        if sc.zero_drift_per_s:
            out += sc.zero_drift_per_s * v * t
        if sc.roughness_pp and ch.role in ("chamber_pressure", "thrust"):
            # one physical fluctuation (the chamber's), seen by Pc and thrust alike: ~6 sigma peak-to-peak
            m = self.model
            out += sc.roughness_pp / 6.0 * v * np.interp(t, *self._roughness()) * m.combustion(t)
        return out

    def raw(self, stream: str, first: int, n: int) -> np.ndarray:
        """Raw samples of ``stream`` as its ADC delivers them: (n, channels) in the stream dtype."""
        st = self.rig.streams[stream]
        chans = self.rig.stream_channels(stream)
        out = np.empty((n, len(chans)), dtype=st.dtype)
        for j, ch in enumerate(chans):
            sig = self.signal(ch, first, n)
            c0, c1 = ch.adc["coefficients"]
            if st.dtype in ADC_BITS:
                top = 2 ** (ADC_BITS[st.dtype] - 1)
                out[:, j] = np.clip(np.rint((sig - c0) / c1), -top, top - 1)
            else:
                lo, hi = ch.range
                lsb = (hi - lo) / (1 << 24)  # a 24-bit converter's resolution
                out[:, j] = np.clip(np.rint(sig / lsb) * lsb, lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        return out

    def sequence_events(self, stream: str) -> list[Event]:
        """T0 and cutoff, dated on ``stream``'s sample clock."""
        rate = self.rig.streams[stream].rate_hz
        m = self.model
        if getattr(m, "motor", "") == "solid":  # nothing to cut off: it burns out
            return [Event("T0", stream, int(round(m.t0 * rate)), "T0: igniter fired")]
        return [
            Event("T0", stream, int(round(m.t0 * rate)), "T0: main valves commanded open"),
            Event("cutoff", stream, int(round(m.t_cut * rate)), "cutoff: main valves commanded closed"),
        ]


def _full_scale(ch) -> float:
    """A channel's full scale in engineering units."""
    cal = Calibration(ch.calibration)
    vals = cal.to_eu(np.array(ch.range))
    return float(np.max(np.abs(vals)))


def reference_stream(rig) -> str:
    """The stream that dates sequence events: the thrust channel's, else the fastest."""
    thrust = rig.by_role("thrust")
    if thrust:
        return thrust[0].stream
    return max(rig.streams.values(), key=lambda s: s.rate_hz).name


class SimulatedSource(ClockedSource):
    """The simulator as a source: blocks of every stream, optionally in real time.

    Parameters
    ----------
    rig : Rig
    scen : Scenario, optional
    block_s : float
        Seconds per block (DAQ reads about 10 times a second).
    realtime : bool
        Pace blocks by the wall clock, as hardware would; else as fast as possible.
    duration_s : float, optional
        Stop after this many seconds (default: the whole sequence).
    """

    kind = "simulator"

    def __init__(self, rig, scen: Scenario | None = None, block_s: float = 0.1,
                 realtime: bool = False, duration_s: float | None = None):
        self.gen = SignalGenerator(rig, scen)
        ref = reference_stream(rig)
        super().__init__(rig, self.gen.model.duration if duration_s is None else duration_s, block_s,
                         realtime, ref, self.gen.sequence_events(ref))

    @property
    def truth(self):
        return self.gen.model.truth

    def _make(self, stream, first, n):
        return self.gen.raw(stream, first, n)

    def metadata(self) -> dict:
        return {"scenario": self.gen.scenario.to_dict(), "truth": self.truth.to_dict()}
