"""Stability (``analysis/stability.py``) on a small hand-made run file: a 20 bar chamber
pressure at 10 kHz with a sine of known frequency, amplitude and onset, so the
windows' excursion, peak-to-peak and RMS (A, 2A, A/sqrt(2) of the mean), the verdict
against the +-5 % bound, the mode and its onset are known without the simulator."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hotfire.analysis.stability import (
    SMOOTH_BOUND_PERCENT, _block, _hop, _nseg, _window_n, analyze_stability, predicted_modes, prepare,
)
from hotfire.core.events import Event
from hotfire.core.health import ChannelHealth
from hotfire.core.rig import parse_rig
from hotfire.core.runfile import RunFileWriter
from hotfire.core.runfile.reader import open_run

RIG = '''
[rig]
name = "stab"
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
[channels.PCD2]
stream = "hs"
physical = "m/ai1"
kind = "voltage"
range = [0.0, 10.0]
calibration = { type = "linear", slope = 10.0 }
units = "bar"
role = "chamber_pressure_dynamic"
'''
FS = 10000
T = np.arange(int(2.0 * FS)) / FS - 0.5  # T0 at sample 5000
BURN = (0.0, 1.0)


def make(tmp_path, amp: float, hz: float = 1000.0, onset: float = 0.0, name="r.h5"):
    """Pc = 20 bar from the burn start, with a sine of ``amp`` (fraction of Pc) from ``onset``."""
    rig = parse_rig(RIG, "<stab rig>")
    rng = np.random.default_rng(1)
    pc = np.where((T >= BURN[0]) & (T <= BURN[1] + 0.2), 20.0, 1.0)
    pc = pc + np.where(T >= onset, amp * 20.0 * np.sin(2 * np.pi * hz * T), 0.0) + 0.01 * rng.standard_normal(len(T))
    cols = []
    for ch in rig.stream_channels("hs"):
        c0, c1 = ch.adc["coefficients"]
        cols.append(np.clip(np.rint((pc / 10.0 - c0) / c1), -32768, 32767).astype(np.int16))
    path = tmp_path / name
    w = RunFileWriter(path, rig, {"test_id": "s"})
    w.append("hs", 0, np.column_stack(cols))
    w.add_events([Event("T0", "hs", 5000, "T0")])
    w.close()
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("stab")
    return {"smooth": make(d, 0.02, name="a.h5"), "rough": make(d, 0.06, onset=0.5, name="b.h5")}


def test_a_2_percent_sine_is_smooth_with_the_expected_window_figures(runs):
    with open_run(runs["smooth"]) as run:
        st = analyze_stability(run, BURN)
    assert st.channel == "PCD1" and st.verdict == "smooth" and st.rough_from_s is None
    assert st.mean_pc_bar == pytest.approx(20.0, abs=0.01)
    assert len(st.windows) == 8  # 0.2-1.0 s in 0.1 s windows
    assert st.windows[0].start_s == pytest.approx(0.2, abs=0.1 / 500 + 1e-9)
    assert all(w.end_s - w.start_s == pytest.approx(0.1 - 1 / FS) for w in st.windows)
    # A = 2 %: excursion A, peak-to-peak 2A, RMS A/sqrt(2); noise and counts add < 0.1 % (measured 0.03)
    assert st.max_excursion_percent == pytest.approx(2.0, abs=0.1)
    assert st.max_pk_pk_percent == pytest.approx(4.0, abs=0.15)
    assert st.max_rms_percent == pytest.approx(2.0 / math.sqrt(2), abs=0.02)
    assert all(w.smooth and w.mean_bar == pytest.approx(20.0, abs=0.01) for w in st.windows)
    assert st.interval_s[0] == pytest.approx(0.2, abs=1 / FS) and st.interval_s[1] == pytest.approx(1.0, abs=1 / FS)
    md = st.modes[0]
    assert md.frequency_hz == pytest.approx(1000.0, abs=2.0)
    assert md.amplitude_percent == pytest.approx(2.0, rel=0.05)
    assert md.onset_s is not None and md.onset_s < 0.3
    assert st.settings["welch_nperseg"] == 1024 and st.bound_percent == SMOOTH_BOUND_PERCENT
    assert st.predicted_modes == {} and st.notes == []
    d = st.to_dict()
    assert "psd" not in d and "spectrogram" not in d and d["verdict"] == "smooth"
    f, P = st.psd
    assert f[int(np.argmax(P))] == pytest.approx(1000.0, abs=10.0)


def test_a_6_percent_sine_from_half_a_second_is_rough_from_there(runs):
    with open_run(runs["rough"]) as run:
        st = analyze_stability(run, BURN)
    assert st.verdict == "rough"
    assert st.rough_from_s == pytest.approx(0.5, abs=0.01)
    assert [w.smooth for w in st.windows] == [True, True, True] + [False] * 5
    assert st.max_excursion_percent == pytest.approx(6.0, abs=0.1)
    md = st.modes[0]
    assert md.frequency_hz == pytest.approx(1000.0, abs=2.0)
    assert md.amplitude_percent == pytest.approx(6.0, rel=0.05)
    assert md.onset_s == pytest.approx(0.5, abs=0.06)  # segments of 0.1 s: half a segment


def test_the_first_healthy_channel_is_used_and_the_other_is_noted(runs):
    bad = ChannelHealth("PCD1", "chamber_pressure_dynamic", "failed", ["flatline from +0.3 s"],
                        failed_intervals=[(0.3, 0.4)])
    with open_run(runs["smooth"]) as run:
        st = analyze_stability(run, BURN, health={"PCD1": bad})
        assert st.channel == "PCD2" and st.notes == ["PCD1 not used: flatline from +0.3 s"]
        early = ChannelHealth("PCD1", "x", "failed", ["x"], failed_intervals=[(0.0, 0.15)])
        assert analyze_stability(run, BURN, health={"PCD1": early}).channel == "PCD1"  # before the settle time
        both = {n: ChannelHealth(n, "x", "failed", ["x"], failed_intervals=[(0.5, 0.6)]) for n in ("PCD1", "PCD2")}
        assert analyze_stability(run, BURN, health=both) is None
        assert analyze_stability(run, (0.0, 0.2 + 10 / FS)) is None  # fewer than 16 samples after settling


def test_a_prepared_analysis_is_the_same_and_a_short_burn_gets_shorter_segments(runs):
    with open_run(runs["smooth"]) as run:
        st = analyze_stability(run, BURN)
        pr = prepare(run.view("PCD1"), (-0.05, 1.05))
        st2 = analyze_stability(run, BURN, prepared=pr)
        short = analyze_stability(run, (0.0, 0.28))  # 800 samples: 512-sample segments
    assert st2.to_dict() == st.to_dict()
    assert short.settings["welch_nperseg"] < 1024 and short.modes[0].frequency_hz == pytest.approx(1000.0, abs=20)


def test_helpers_by_hand():
    assert _nseg(10000) == 1024 and _nseg(1000) == 256 and _nseg(51200) == 4096
    assert _hop(1024) == 896 and _hop(8) == 7
    assert _window_n(0.1, 10000) == 1000 and _window_n(0.001, 1000) == 16
    assert _block(1000) == 2 and _block(16) == 1 and _block(1001) == 1 and _block(1500) == 3


def test_predicted_modes_of_a_cylinder_by_hand():
    class Art:
        chamber_length_mm, chamber_diameter_mm = 250.0, 100.0

    pm = predicted_modes(Art, 1000.0)
    assert pm["1L"] == pytest.approx(2000.0) and pm["1T"] == pytest.approx(5860.72, abs=0.01)
    Art.chamber_length_mm = None
    assert "1L" not in predicted_modes(Art, 1000.0)
