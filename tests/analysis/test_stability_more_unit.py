"""More of ``analysis/stability.py`` on hand-made run files (the mutants the first unit tests
let through): a quadratic calibration, a parabola whose fluctuation is a known constant,
the spectrogram's time axis, a tone too weak to have an onset, a late tone in broadband
noise, the smallest segment length, ``Prepared.covers`` on two segments and the
nearest predicted mode."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from hotfire.analysis.stability import Prepared, analyze_stability, prepare
from hotfire.core.events import Event
from hotfire.core.rig import parse_rig
from hotfire.core.runfile import RunFileWriter
from hotfire.core.runfile.reader import open_run

FS = 10000
T = np.arange(int(2.0 * FS)) / FS - 0.5  # T0 at sample 5000
BURN = (0.0, 1.0)
LINEAR = '{ type = "linear", slope = 10.0 }'
QUADRATIC = '{ type = "polynomial", coefficients = [0.0, 8.0, 0.4] }'  # bar = 8 V + 0.4 V^2


def rig_text(cal: str = LINEAR, article: str = "") -> str:
    return f'''
[rig]
name = "stab2"
[article]
serial = "S-2"
{article}
[streams.hs]
rate_hz = {FS}
dtype = "int16"
[channels.PCD1]
stream = "hs"
physical = "m/ai0"
kind = "voltage"
range = [0.0, 10.0]
calibration = {cal}
units = "bar"
role = "chamber_pressure_dynamic"
'''


def write(path, pc_bar: np.ndarray, cal: str = LINEAR, article: str = ""):
    """A run file of one 10 kHz int16 channel holding ``pc_bar`` (bar, one value per ``T``)."""
    rig = parse_rig(rig_text(cal, article), "<stab2 rig>")
    volts = pc_bar / 10.0 if cal == LINEAR else (-8.0 + np.sqrt(64.0 + 1.6 * pc_bar)) / 0.8
    c0, c1 = rig.stream_channels("hs")[0].adc["coefficients"]
    w = RunFileWriter(path, rig, {"test_id": "s2"})
    w.append("hs", 0, np.clip(np.rint((volts - c0) / c1), -32768, 32767).astype(np.int16)[:, None])
    w.add_events([Event("T0", "hs", 5000, "T0")])
    w.close()
    return path


def step(level: float = 20.0) -> np.ndarray:
    return np.where((T >= BURN[0]) & (T <= BURN[1] + 0.2), level, 1.0)


def tone(amp_bar: float, hz: float = 1000.0, onset: float = -1.0) -> np.ndarray:
    return np.where(T >= onset, amp_bar * np.sin(2 * np.pi * hz * T), 0.0)


def test_a_quadratic_calibration_gives_the_same_figures_as_a_linear_one(tmp_path):
    # 20 bar with a 2 % sine through bar = 8 V + 0.4 V^2 (inverted exactly when written)
    path = write(tmp_path / "q.h5", step() + tone(0.4), QUADRATIC)
    with open_run(path) as run:
        st = analyze_stability(run, BURN)
    # 10 samples a period: the largest sample is A sin 72 deg, and the 101-sample centred mean of
    # the sine is the sample itself / 101 (ten whole periods and one more), so the fluctuation is
    # the sine times 100/101: excursion 1.8833 %, RMS A/sqrt(2) * 100/101 = 1.4002 %
    assert st.mean_pc_bar == pytest.approx(20.0, abs=0.003)  # measured 0.001
    assert st.max_excursion_percent == pytest.approx(2 * math.sin(0.4 * math.pi) * 100 / 101, abs=0.003)  # 0.001
    assert st.max_rms_percent == pytest.approx(2 / math.sqrt(2) * 100 / 101, abs=0.003)


def test_a_parabola_has_a_constant_fluctuation_of_minus_c_h2_k2_1_over_12(tmp_path):
    # Pc = 20 + c t^2 bar: its k-sample centred mean is Pc + c h^2 (k^2 - 1) / 12, so the
    # fluctuation is that constant, negative: an RMS about the window mean of ~0 and an
    # excursion of the constant over the window's mean Pc
    c, h = 50.0, 1.0 / FS  # 20-70 bar, inside the 100 bar range
    k = 501  # detrend_s = 0.05 s at 10 kHz
    path = write(tmp_path / "p.h5", np.where(step() > 1.0, 20.0 + c * T ** 2, 1.0))
    with open_run(path) as run:
        st = analyze_stability(run, BURN, detrend_s=0.05)
    shift = c * h ** 2 * (k ** 2 - 1) / 12  # 0.0105 bar
    w0 = st.windows[0]
    mean0 = 20.0 + c * np.mean(np.arange(2000, 3000) ** 2 * h ** 2)  # bar, 0.2-0.3 s
    assert w0.mean_bar == pytest.approx(mean0 + shift, abs=0.003)  # the slow part holds the shift
    # counts of 0.0015 bar: +-half a count on the excursion (0.003 % here), measured 0.002 %
    assert w0.max_excursion_percent == pytest.approx(shift / mean0 * 100, abs=0.006)
    assert st.max_rms_percent < 0.005  # only the counts' 0.0004 bar (measured 0.0017 %); the constant: 0.045 %


def test_the_spectrogram_times_are_the_segment_centres_from_the_span_start(tmp_path):
    path = write(tmp_path / "s.h5", step() + tone(0.4))
    with open_run(path) as run:
        st = analyze_stability(run, BURN)
        short = analyze_stability(run, (0.0, 0.28))
    # segments of 1024 from the span start -0.05 s, hop 896: the first inside [0.2 s, 1 s) starts
    # at ceil(2500 / 896) * 896 = 2688 samples into the span, its centre 512 samples later
    t = st.spectrogram[1]
    assert t[0] == pytest.approx(-0.05 + (2688 + 512) / FS, abs=1e-9)
    assert np.diff(t) == pytest.approx(np.full(len(t) - 1, 896 / FS), abs=1e-9)
    assert len(t) == (8000 - 688 - 1024) // 896 + 1
    # a burn too short for 4 of them: 512-sample segments of the 800 samples from 0.2 s
    ts = short.spectrogram[1]
    assert short.settings["welch_nperseg"] == 512
    assert ts[0] == pytest.approx(0.2 + 256 / FS, abs=1e-9) and len(ts) == 1


def test_a_tone_below_0_2_percent_of_pc_has_its_amplitude_and_no_onset(tmp_path):
    # 0.1 % of 20 bar: 25 times the band level of the counts, but under the 0.2 % presence bound
    path = write(tmp_path / "w.h5", step() + tone(0.02))
    with open_run(path) as run:
        st = analyze_stability(run, BURN)
    md = st.modes[0]
    assert md.frequency_hz == pytest.approx(1000.0, abs=2.0)
    assert md.onset_s is None
    assert md.amplitude_percent == pytest.approx(0.1, rel=0.05)  # from the PSD; measured 0.5 %


def test_a_late_tone_in_broadband_noise_has_its_own_amplitude_and_onset(tmp_path):
    # 0.5 bar RMS white noise: a band of 7 bins holds 0.5 * sqrt(14 * 9.77 / 5000) = 0.083 bar
    # (0.4 % of Pc) in every segment, above the 0.2 % bound: only 4 x the bands beside the tone
    # tell the segments with the 3 % tone (from 0.8 s) from those without
    rng = np.random.default_rng(7)
    path = write(tmp_path / "n.h5", step() + tone(0.6, onset=0.8) + 0.5 * rng.standard_normal(len(T)))
    with open_run(path) as run:
        st = analyze_stability(run, BURN)
    md = min(st.modes, key=lambda m: abs(m.frequency_hz - 1000.0))
    assert md.frequency_hz == pytest.approx(1000.0, abs=2.0)
    assert md.amplitude_percent == pytest.approx(3.0, rel=0.15)  # measured -10.8 % (noise in the band)
    assert md.onset_s == pytest.approx(0.8, abs=0.06)  # segments of 0.1 s: half a segment


def test_a_span_of_20_samples_gets_one_segment_of_16(tmp_path):
    path = write(tmp_path / "t.h5", step() + tone(0.4))
    with open_run(path) as run:
        pr = prepare(run.view("PCD1"), (0.5, 0.5 + 19 / FS))
    # 20 samples: the largest power of two is 16, one segment (hop 14), 9 frequencies
    assert pr.nseg == 16 and pr.S.shape == (1, 9)
    assert pr.f[1] == pytest.approx(FS / 16)
    with open_run(path) as run:
        tiny = prepare(run.view("PCD1"), (0.5, 0.5 + 9 / FS))
    # 10 samples: segments of 8 would be under 16, so none, but the frequencies of 8 for the shape
    assert tiny.nseg == 8 and tiny.S.shape == (0, 5) and len(tiny.fluct) == 10
    assert tiny.f == pytest.approx([0.0, 1250.0, 2500.0, 3750.0, 5000.0])


def test_covers_is_the_span_from_the_first_segment_start_to_the_last_segment_end():
    # two segments: samples 100-149 at positions 0-49, samples 300-329 at positions 50-79
    segs = np.array([[100, 0, 50], [300, 50, 30]])
    pr = Prepared("PCD1", "hs", FS, segs, np.zeros(80, np.float32), 16, np.zeros(9), np.zeros((0, 9)))
    run = SimpleNamespace(sample_range=lambda stream, t: t)  # t given as sample indices
    assert pr.covers(run, (100, 330))  # first sample to one past the last: 300 + 30
    assert not pr.covers(run, (99, 330)) and not pr.covers(run, (100, 331))
    assert not pr.covers(run, (120, 340))
    empty = Prepared("PCD1", "hs", FS, np.zeros((0, 3), int), np.zeros(0, np.float32), 16, np.zeros(9),
                     np.zeros((0, 9)))
    assert not empty.covers(run, (0, 0))


ARTICLE = '''fuel = "C2H5OH(L)"
oxidizer = "O2(L)"
fuel_temperature_K = 293.15
oxidizer_temperature_K = 90.17
expansion_ratio = 4.0
nominal_of = 1.4
'''


def test_the_mode_is_named_after_the_nearest_predicted_one_in_ratio(tmp_path):
    # 1T (larger) nearer 1000 Hz than 1L in ratio: a chamber 1 m long and 0.55 m across puts
    # 1L near 600 Hz and 1T near 1200 Hz for a sound speed of ~1100 m/s
    art = ARTICLE + "chamber_length_mm = 1000.0\nchamber_diameter_mm = 550.0\n"
    path = write(tmp_path / "m.h5", step() + tone(0.4), article=art)
    with open_run(path) as run:
        st = analyze_stability(run, BURN)
        nogeo = analyze_stability(run, BURN, of=2.0, pc_bar=30.0)
    pm = st.predicted_modes
    a = pm["sound_speed_m_s"]
    assert 900 < a < 1400  # combustion products of LOX/ethanol at ~20 bar: ~1.1 km/s
    assert pm["1L"] == pytest.approx(a / 2.0) and pm["1T"] == pytest.approx(1.8412 * a / (math.pi * 0.55))
    assert pm["pc_bar"] == pytest.approx(20.0, abs=0.01) and pm["of"] == 1.4  # measured Pc, nominal O/F
    lo, hi = sorted((pm["1L"], pm["1T"]))
    md = st.modes[0]
    want = "1T" if abs(math.log(md.frequency_hz / pm["1T"])) < abs(math.log(md.frequency_hz / pm["1L"])) else "1L"
    assert want == "1T" and md.nearest_predicted == "1T" and md.predicted_hz == pytest.approx(pm["1T"])
    assert nogeo.predicted_modes["pc_bar"] == 30.0 and nogeo.predicted_modes["of"] == 2.0


def test_a_chamber_without_propellants_is_noted(tmp_path):
    path = write(tmp_path / "g.h5", step() + tone(0.4), article="chamber_length_mm = 260.0\n")
    with open_run(path) as run:
        st = analyze_stability(run, BURN)
    assert st.predicted_modes == {} and st.modes[0].nearest_predicted == ""
    assert st.notes == ["predicted acoustic modes need the propellants ([article] fuel, oxidizer, temperatures)"]
