"""Sensor health and combustion stability on the simulated scenarios."""
import math

import pytest

from simfirings import RIGS, SCENARIOS
from hotfire.core.runfile.reader import open_run
from hotfire.analysis.stability import predicted_modes
from hotfire.core.rig import load_rig


@pytest.mark.parametrize("rig", RIGS)
def test_failed_sensor_is_found_and_not_used(firings, rig):
    f = firings.get(rig, "failed-sensor")
    failed = {h.name: h for h in f.perf.health.values() if h.status == "failed"}
    fuel_inj = load_rig(rig).by_role("fuel_injector_pressure")[0].name
    assert list(failed) == [fuel_inj]
    # open circuit at ignition + 1.5 s = T0 + 1.62 s, found to the sample (5 kHz / 10 kHz)
    assert failed[fuel_inj].failed_from_s == pytest.approx(1.62, abs=0.001)
    assert "open circuit" in failed[fuel_inj].problems[0]
    assert f.perf.steady.fuel_injector_dp_bar is None  # the window spans the failure
    assert any(fuel_inj in n and "not used" in n for n in f.perf.notes)
    # everything else is unaffected
    assert f.perf.steady.ox_injector_dp_bar is not None and f.perf.isp_s is not None


@pytest.mark.parametrize("rig", RIGS)
@pytest.mark.parametrize("scen", [s for s in SCENARIOS if s != "failed-sensor"])
def test_no_false_failures(firings, rig, scen):
    health = firings.get(rig, scen).perf.health
    assert [h.name for h in health.values() if h.status != "ok"] == []


def test_failed_flow_meter_stops_isp_instead_of_using_it(firings):
    f = firings.get("lox-ethanol-5kN", "failed-sensor", failed_channel_role="ox_mass_flow")
    h = f.perf.health["FM-OX"]
    assert h.status == "failed" and h.failed_from_s == pytest.approx(1.62, abs=0.001)
    assert f.perf.isp_s is None and f.perf.c_star_efficiency is None and f.perf.of is None
    assert any("FM-OX" in n and "not used" in n for n in f.perf.notes)
    assert f.perf.total_impulse_Ns > 0  # thrust metrics still there


def test_failed_chamber_pressure_falls_back_to_the_dynamic_transducer(firings):
    f = firings.get("lox-ethanol-5kN", "failed-sensor", failed_channel_role="chamber_pressure")
    assert f.perf.health["PC"].status == "failed"
    assert f.perf.steady.channels["pc"] == "PC-DYN"
    assert f.perf.pc_bar == pytest.approx(20.0, rel=0.003)
    assert any("using PC-DYN" in n for n in f.perf.notes)


@pytest.mark.parametrize("rig", RIGS)
def test_stability_verdicts(firings, rig):
    for scen in SCENARIOS:
        st = firings.get(rig, scen).stability
        if scen == "unstable":
            assert st.verdict == "rough"
            assert st.rough_from_s == pytest.approx(1.12, abs=0.11)  # per 0.1 s window
            assert st.modes[0].nearest_predicted == "1L"
        else:
            assert st.verdict == "smooth", scen
            assert st.max_excursion_percent < 4.0
            assert all(m.amplitude_percent < 1.0 for m in st.modes), scen


def test_predicted_modes_are_the_textbook_formulas():
    art = load_rig("lox-ethanol-5kN").article  # D 110 mm, L 260 mm
    pm = predicted_modes(art, 1000.0)
    assert pm["1L"] == pytest.approx(1000.0 / (2 * 0.260))
    assert pm["1T"] == pytest.approx(1.8412 * 1000.0 / (math.pi * 0.110))


def test_stability_uses_cea_sound_speed(firings):
    f = firings.get("lox-ethanol-5kN", "unstable")
    pm = f.stability.predicted_modes
    from hotfire.core.theory import theoretical

    with open_run(f.path) as r:
        a = r.article
        th = theoretical(a.fuel, a.oxidizer, f.perf.pc_bar, f.perf.of, a.expansion_ratio)
    assert pm["sound_speed_m_s"] == pytest.approx(th.sound_speed, rel=1e-3)
    assert 900 < pm["sound_speed_m_s"] < 1500


@pytest.mark.parametrize("rig,hz,amp", [("lox-ethanol-5kN", 1234.56, 0.03), ("lox-rp1-100kN", 3456.7, 0.02)])
def test_an_oscillation_between_spectral_bins_is_measured(firings, rig, hz, amp):
    # 1850 Hz (the unstable scenario) sits on a 12.5 Hz bin of both rigs; these do not
    f = firings.get(rig, "unstable", instability_hz=hz, instability_amplitude=amp)
    md = f.stability.modes[0]
    assert md.frequency_hz == pytest.approx(hz, abs=2.0)
    assert md.amplitude_percent == pytest.approx(amp * 100, rel=0.05)
    assert md.onset_s == pytest.approx(f.truth["instability_onset_s"], abs=0.03)


def test_spectra_are_scipys_spectrogram_and_welch():
    import numpy as np
    from scipy import signal

    from hotfire.analysis.stability import _hop, spectra

    rng = np.random.default_rng(5)
    fs, n = 51200.0, 4096
    t = np.arange(200_000) / fs
    x = 3e4 * np.sin(2 * np.pi * 1234.5 * t) + 1e4 * rng.standard_normal(len(t))
    f, tt, S, P = spectra(x, fs, n)
    f2, t2, S2 = signal.spectrogram(x, fs, "hann", n, n - _hop(n), detrend=False)
    np.testing.assert_allclose(f, f2)
    np.testing.assert_allclose(tt, t2)
    np.testing.assert_allclose(S.T, S2, rtol=2e-3, atol=1e-6 * S2.max())  # float32 transforms
    _, P2 = signal.welch(x, fs, "hann", n, n - _hop(n), detrend=False)
    np.testing.assert_allclose(P, P2, rtol=2e-3, atol=1e-6 * P2.max())
