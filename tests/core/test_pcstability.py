"""The live view's stability figures (``core/pcstability.py``): a sine of known amplitude gives
peak-to-peak 2A, RMS A/sqrt(2), excursion A and its frequency; and on the same record the live
figures of a window agree with ``analysis/stability.py``'s window (one definition, two feeds)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hotfire.analysis.stability import analyze_stability
from hotfire.core.events import Event
from hotfire.core.pcstability import SMOOTH_BOUND_PERCENT, LiveStability, window_figures
from hotfire.core.rig import parse_rig
from hotfire.core.runfile import RunFileWriter
from hotfire.core.runfile.reader import open_run

FS = 10000
RIG = '''
[rig]
name = "live-stab"
[article]
serial = "S-1"
[streams.hs]
rate_hz = 10000
dtype = "int16"
[channels.PCD1]
stream = "hs"
physical = "m/ai0"
kind = "voltage"
range = [0.0, 10.0]
calibration = { type = "linear", slope = 10.0 }
units = "bar"
role = "chamber_pressure_dynamic"
'''


def pressure(amp: float, hz: float, n: int, seed: int = 3) -> np.ndarray:
    """20 bar plus a sine of ``amp`` (fraction of the mean) and 0.01 bar white noise, bar."""
    t = np.arange(n) / FS
    return 20.0 + amp * 20.0 * np.sin(2 * np.pi * hz * t) + 0.01 * np.random.default_rng(seed).standard_normal(n)


def test_a_sine_gives_its_textbook_figures_and_frequency():
    fig = window_figures(pressure(0.03, 1850.0, 2000) * 1e5, FS)
    # A = 3 %: the 0.05 % noise's extremes add to pk-pk and excursion (measured errors 0.18, 0.03, 0.11)
    assert fig["pk_percent"] == pytest.approx(6.0, abs=0.5)
    assert fig["rms_percent"] == pytest.approx(3.0 / math.sqrt(2), abs=0.09)
    assert fig["exc_percent"] == pytest.approx(3.0, abs=0.3)
    assert fig["dominant_hz"] == pytest.approx(1850.0, abs=FS / 2000)  # one FFT bin
    assert fig["smooth"] and fig["mean_pa"] == pytest.approx(20e5, rel=1e-3)


def test_beyond_the_bound_is_rough_and_white_noise_is_smooth():
    assert not window_figures(pressure(0.06, 900.0, 2000) * 1e5, FS)["smooth"]
    # 1 % RMS white noise: excursions of ~3.5 sigma in 2000 samples stay inside +-5 %
    x = 20e5 * (1 + 0.01 * np.random.default_rng(5).standard_normal(2000))
    assert window_figures(x, FS)["smooth"]
    assert SMOOTH_BOUND_PERCENT == 5.0


def test_too_short_or_empty_windows_are_refused_by_name():
    with pytest.raises(ValueError, match="shorter than two"):
        window_figures(np.full(100, 20e5), FS)
    with pytest.raises(ValueError, match="not positive"):
        window_figures(np.zeros(1000), FS)


def test_live_window_figures_agree_with_the_analysis_windows(tmp_path):
    rig = parse_rig(RIG, "<live-stab rig>")
    n = int(1.5 * FS)
    pc = np.where(np.arange(n) >= FS // 2, pressure(0.04, 1200.0, n), 1.0)  # burn from T0 (sample 5000)
    c0, c1 = rig.stream_channels("hs")[0].adc["coefficients"]
    counts = np.clip(np.rint((pc / 10.0 - c0) / c1), -32768, 32767).astype(np.int16)
    path = tmp_path / "r.h5"
    w = RunFileWriter(path, rig, {"test_id": "s"})
    w.append("hs", 0, counts[:, None])
    w.add_events([Event("T0", "hs", FS // 2, "T0")])
    w.close()
    pc_q = (c0 + c1 * counts.astype(float)) * 10.0  # the recorded (quantised) bar
    with open_run(path) as run:
        st = analyze_stability(run, (0.0, 1.0))
    assert len(st.windows) >= 5
    for win in st.windows:
        i0 = int(round(win.start_s * FS)) + FS // 2
        live = window_figures(pc_q[i0:i0 + int(round(0.1 * FS))] * 1e5, FS)
        # the analysis detrends across window edges, the live view within the window only
        # (measured differences 0.070, 0.003, 0.031 % of Pc)
        assert live["pk_percent"] == pytest.approx(win.pk_pk_percent, abs=0.2)
        assert live["rms_percent"] == pytest.approx(win.rms_percent, abs=0.01)
        assert live["exc_percent"] == pytest.approx(win.max_excursion_percent, abs=0.1)
        assert live["smooth"] == win.smooth


def run_live(scen_name: str, rate: float = 20000.0, noise: float = 0.0, block_s: float = 0.02):
    """Feed the simulator's chamber pressure (its truth, plus white noise of ``noise`` x mean) in blocks."""
    from hotfire.core.rig import load_rig, resolve_rig_path
    from hotfire.daq.sources.engine import EngineModel, scenario
    m = EngineModel(load_rig(resolve_rig_path("lox-rp1-100kN")), scenario(scen_name))
    t = np.arange(int(m.duration * rate)) / rate
    pc = m.chamber_pressure(t) + m.instability(t)
    if noise:
        pc = pc + noise * m.pc_target(t).max() * np.random.default_rng(7).standard_normal(len(t))
    live = LiveStability(rate)
    b = int(block_s * rate)
    for i in range(0, len(t), b):
        live.feed(t[min(i + b, len(t)) - 1], pc[i:i + b])
    return m, live


def test_the_live_alarm_fires_at_the_simulated_instability_onset():
    m, live = run_live("unstable")
    onset = m.t_ign + m.scenario.instability_start_s  # the simulator's truth
    # 8 % sine: the first 20 ms block after onset trips it (measured delay 0.020 s, one block)
    assert live.alarm_t is not None and onset < live.alarm_t <= onset + 0.05
    assert live.alarm_figures["dominant_hz"] == pytest.approx(1850.0, abs=20.0)  # 10 Hz bins


def test_the_live_alarm_stays_quiet_on_the_nominal_run_and_on_white_noise():
    assert run_live("nominal")[1].alarm_t is None
    # nominal: largest armed excursion measured 0.004 %; 3 % peak-to-peak white noise
    # (sigma 0.5 % of Pc): 2.3 %
    assert run_live("nominal", noise=0.005)[1].alarm_t is None


def test_the_rig_sets_the_alarm_bound_and_a_bad_one_names_file_line_and_key():
    from hotfire.core.rig import RigError
    assert parse_rig(RIG, "<r>").stability_alarm_percent == 5.0
    text = RIG.replace('name = "live-stab"\n', 'name = "live-stab"\nstability_alarm_percent = 8\n')
    assert parse_rig(text, "<r>").stability_alarm_percent == 8.0
    for bad, why in (("-1", "positive"), ("80", "at most 50"), ('"5 %"', "expected a number")):
        with pytest.raises(RigError) as e:
            parse_rig(text.replace("= 8\n", f"= {bad}\n"), "stab.toml")
        msg = str(e.value)
        assert "stab.toml:4" in msg and "rig.stability_alarm_percent" in msg and why in msg, msg
