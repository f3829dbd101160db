"""Tare and burn integration as stands need them: a recording without T0 is tared on its quiet
pre-fire data (and says so), a post-fire zero shift is corrected, and the impulse window is stated."""
import numpy as np
import pytest

from hotfire.analysis.importers import ChannelSpec, Mapping, import_csv
from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run

RATE = 1000.0


def _firing(shift_N=0.0, noise_N=2.0):
    """5 s of a stand's load cell: 500 N preload, a 1000 N burn from 2.0 to 4.0 s (50 ms ramps), and a
    zero that drifts by ``shift_N`` over the burn (thermal), no T0. Returns t, F and the true impulse."""
    t = np.arange(0, 6.0, 1 / RATE)
    burn = np.clip((t - 2.0) / 0.05, 0, 1) * np.clip((4.0 - t) / 0.05, 0, 1) * 1000.0
    drift = shift_N * np.clip((t - 2.0) / 2.0, 0, 1)
    F = 500.0 + burn + drift + np.random.default_rng(5).normal(0, noise_N, len(t))
    return t, F, float(np.trapezoid(burn, t))


def _analyse(tmp_path, t, F):
    src = tmp_path / "stand.csv"
    np.savetxt(src, np.column_stack([t, F]), delimiter=",", header="time_s,thrust_N", comments="", fmt="%.6f")
    m = Mapping()
    m.channels["thrust_N"] = ChannelSpec("thrust_N", "THRUST", "thrust", "N")
    with open_run(import_csv(src, tmp_path / "stand.h5", m)) as run:
        return analyze_run(run, stability=False).performance


def test_no_t0_is_tared_on_the_quiet_pre_fire_data_and_says_so(tmp_path):
    t, F, truth = _firing()
    perf = _analyse(tmp_path, t, F)
    tr = perf.thrust
    assert tr.tared and tr.tare_basis.startswith("the quiet pre-fire data")
    assert tr.tare_N == pytest.approx(500.0, abs=0.3)  # measured 0.1 (2 N noise over 1.4 s)
    assert any("tared on the quiet pre-fire data" in n for n in perf.notes)
    assert perf.total_impulse_Ns == pytest.approx(truth, rel=1e-4)  # measured 2e-5
    a, b = tr.impulse_window_s
    assert 1.9 < a < 2.01 and 3.99 < b < 4.1


def test_post_fire_zero_shift_is_corrected_not_integrated(tmp_path):
    t, F, truth = _firing(shift_N=30.0)  # 3 % of thrust: uncorrected, +1.5 % of impulse and a late end
    perf = _analyse(tmp_path, t, F)
    tr = perf.thrust
    assert tr.zero_shift_corrected and tr.zero_shift_N == pytest.approx(30.0, abs=1.0)  # measured 0.1
    assert any("post-fire zero shift" in n for n in perf.notes)
    assert perf.total_impulse_Ns == pytest.approx(truth, rel=1.5e-4)  # measured 4e-5 (uncorrected: 1.3e-3)
    assert tr.burn_time_s == pytest.approx(2.0 - 0.05 * 0.2, abs=0.001)  # 10 % crossings of the ramps; measured 1e-4


def test_a_certified_style_curve_gets_no_tare_and_no_truncation_note(tmp_path):
    # a curve starting at (0, 0) and ending at zero: already zero-based, neither truncated
    t = np.arange(0, 1.5, 1 / RATE)
    F = np.interp(t, [0, 0.05, 1.2, 1.4, 1.5], [0, 800, 600, 0, 0])
    perf = _analyse(tmp_path, t, F)
    assert not perf.thrust.tared
    assert not any("during the burn" in n for n in perf.notes)
    assert perf.total_impulse_Ns == pytest.approx(float(np.trapezoid(F, t)), rel=1e-4)
