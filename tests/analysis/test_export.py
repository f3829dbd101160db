"""hotfire export: anti-aliased rate changes, streams on their own rates, each format read back by its own
library (plain csv/numpy, npTDMS, scipy.io, the RASP parser)."""
import re

import numpy as np
import pytest

from hotfire.analysis.export import ExportFailed, export_run
from hotfire.analysis.importers import import_csv
from hotfire.cli import main
from hotfire.core.runfile.reader import open_run

FS = 10000.0


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """A 2 s run at 10 kHz: TONE_200 (200 Hz), TONE_1050 (1050 Hz), TONE_900 (900 Hz), each amplitude 1 V."""
    d = tmp_path_factory.mktemp("tones")
    t = np.arange(0, 2.0, 1 / FS)
    cols = {f"TONE_{f} [V]": np.sin(2 * np.pi * f * t) for f in (200, 1050, 900)}
    src = d / "tones.csv"
    with open(src, "w") as fh:
        fh.write("time_s," + ",".join(cols) + "\n")
        np.savetxt(fh, np.column_stack([t] + list(cols.values())), delimiter=",", fmt="%.9f")
    return import_csv(src, d / "tones.h5")


def _rms(x):
    x = np.asarray(x)[200:-200]  # the filter's ends
    return float(np.sqrt(np.mean(x ** 2)))


def test_a_tone_above_the_new_nyquist_is_removed_and_one_below_kept(tones, tmp_path):
    out = tmp_path / "x.csv"
    with open_run(tones) as run:
        export_run(run, out, ["TONE_200", "TONE_1050"], rate_hz=2000.0)
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    t, a, b = data.T
    assert np.allclose(np.diff(t), 1 / 2000.0)
    # 1050 Hz is above the 1000 Hz Nyquist frequency of 2000 Hz: at least 60 dB down as stated (measured -63 dB).
    # Without a filter it came out as a 950 Hz tone at full amplitude; resample_poly's default filter leaves
    # it at -12 dB (0.24)
    assert _rms(b) <= 1e-3 * np.sqrt(0.5)
    # 200 Hz is in the pass band: its amplitude kept (measured +0.008 %) and its frequency
    assert _rms(a) == pytest.approx(np.sqrt(0.5), rel=3e-4)
    f = np.fft.rfftfreq(len(a), 1 / 2000.0)
    assert f[np.argmax(np.abs(np.fft.rfft(a)))] == pytest.approx(200.0, abs=0.5)


def test_a_tone_the_filter_can_neither_keep_nor_remove_is_refused(tones, tmp_path, capsys):
    out = tmp_path / "x.csv"
    assert main(["export", str(tones), "--channels", "TONE_900", "-o", str(out), "--rate", "2000"]) != 0
    err = capsys.readouterr().err
    # 900 Hz lies between 800 and 1000 Hz: the message names the channel, the tone and the rates that work
    m = re.search(r"channel TONE_900: .* at (\d+) Hz, between 800 and 1000 Hz.* at (\d+) Hz or more to keep it, "
                  r"or at (\d+) Hz or less to remove it", err)
    assert m, err
    f, keep, remove = map(int, m.groups())  # measured 900, 2250, 1799
    assert f == pytest.approx(900, abs=1) and keep == pytest.approx(2250, abs=3) and remove == pytest.approx(1800, abs=2)
    assert not out.exists()
    assert main(["export", str(tones), "--channels", "TONE_900", "-o", str(out), "--rate", "2500"]) == 0
    _, v = np.loadtxt(out, delimiter=",", skiprows=1).T
    # in the pass band at 2500 Hz: kept to the design's ripple, 1e-3 for 60 dB (measured +0.038 %)
    assert _rms(v) == pytest.approx(np.sqrt(0.5), rel=1e-3)


def test_streams_keep_their_own_rates_unless_aligned(firings, tmp_path):
    path = firings.path("lox-rp1-100kN", "nominal")
    out = tmp_path / "x.csv"
    with open_run(path) as run:
        files, tabs = export_run(run, out, ["PC_MAIN", "T_WALL_1"], t=(-0.5, 1.0))
        pc, tw = run.channel("PC_MAIN", (-0.5, 1.0)), run.channel("T_WALL_1", (-0.5, 1.0))
    assert [f.name for f in files] == ["x.daq.csv", "x.tc.csv"]
    a, b = (np.loadtxt(f, delimiter=",", skiprows=1) for f in files)
    assert files[0].read_text().splitlines()[0] == "time_s,PC_MAIN [psi]"
    # every recorded sample, none interpolated: the 100 Hz stream has its 151 rows, not 15,001
    assert len(a) == len(pc.t) == 15001 and len(b) == len(tw.t) == 151
    assert np.allclose(a[:, 1], pc.values, rtol=1e-9) and np.allclose(b[:, 0], tw.t, atol=1e-9)
    with open_run(path) as run:
        files, tabs = export_run(run, tmp_path / "al.csv", ["PC_MAIN", "T_WALL_1"], t=(-0.5, 1.0), align=True)
    assert len(files) == 1 and "2 streams (daq, tc)" in tabs[0].resampled
    al = np.loadtxt(files[0], delimiter=",", skiprows=1)
    assert np.allclose(np.diff(al[:, 0]), 1e-4)


def test_tdms_and_mat_read_back_by_their_own_libraries(firings, tmp_path):
    from nptdms import TdmsFile
    from scipy.io import loadmat

    path = firings.path("lox-rp1-100kN", "nominal")
    with open_run(path) as run:
        export_run(run, tmp_path / "x.tdms", ["PC_MAIN", "MDOT_OX", "T_WALL_1"], t=(-0.2, 0.8))
        export_run(run, tmp_path / "x.mat", ["PC_MAIN", "T_WALL_1"], t=(-0.2, 0.8))
        pc, tw = run.channel("PC_MAIN", (-0.2, 0.8)), run.channel("T_WALL_1", (-0.2, 0.8))
    f = TdmsFile.read(tmp_path / "x.tdms")
    ch = f["daq"]["PC_MAIN"]
    assert ch.properties["unit_string"] == "psi" and np.allclose(ch[:], pc.values, rtol=1e-12)
    assert np.allclose(ch.time_track(), pc.t, atol=1e-9)  # from wf_start_offset and wf_increment
    assert np.allclose(f["tc"]["T_WALL_1"][:], tw.values) and np.allclose(f["tc"]["time_s"][:], tw.t)
    assert f["daq"]["MDOT_OX"].properties["unit_string"] == "lb/s"
    m = loadmat(tmp_path / "x.mat", simplify_cells=True)
    assert np.allclose(m["daq"]["PC_MAIN"], pc.values) and m["daq"]["units"]["PC_MAIN"] == "psi"
    assert np.allclose(m["tc"]["time_s"], tw.t) and m["tc"]["rate_hz"] == 100.0


def test_eng_holds_the_analysed_thrust_curve(firings, tmp_path):
    from hotfire.analysis.importers.eng import parse_eng

    path = firings.path("lox-ethanol-5kN", "nominal")
    ref = firings.get("lox-ethanol-5kN", "nominal").perf.thrust
    with open_run(path) as run:
        export_run(run, tmp_path / "m.eng", ["thrust"])
        with pytest.raises(ExportFailed, match="not a thrust channel"):
            export_run(run, tmp_path / "p.eng", ["chamber_pressure"])
    hdr, t, F = parse_eng((tmp_path / "m.eng").read_text())
    assert F[-1] == 0.0 and len(t) <= 502
    # the RASP curve's trapezoidal impulse against the analysis' (measured -0.011 %, 254 points at 100 Hz)
    assert np.trapezoid(F, t) == pytest.approx(ref.total_impulse_Ns, rel=3e-4)
    assert t[-1] == pytest.approx(ref.impulse_window_s[1] - ref.impulse_window_s[0], abs=0.02)
