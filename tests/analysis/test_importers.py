"""Imports (RASP .eng, CSV, NI TDMS) into run files that ``hotfire analyze``
reads; export back to CSV; the command line."""
import json

import numpy as np
import pytest

from hotfire.analysis.importers import ImportFailed, Mapping, ChannelSpec, import_csv, import_eng, import_tdms
from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run
from hotfire.cli import main


def eng_curve():
    """A made-up motor: points at uneven times; its impulse, exact for the piecewise-linear curve."""
    t = np.array([0.013, 0.05, 0.11, 0.2, 0.45, 0.9, 1.3, 1.52, 1.61, 1.7])
    f = np.array([40.0, 610.0, 700.0, 655.0, 640.0, 600.0, 520.0, 300.0, 80.0, 0.0])
    tt, ff = np.concatenate(([0.0], t)), np.concatenate(([0.0], f))  # RASP's implicit (0, 0)
    impulse = float(np.sum(0.5 * (ff[1:] + ff[:-1]) * np.diff(tt)))
    text = "; a test motor\n; second comment\nH650 38 250 0-6-10 0.480 0.950 Test\n"
    text += "".join(f"   {a:.3f} {b:.1f}\n" for a, b in zip(t, f))
    return text, impulse


def test_rasp_import_keeps_the_impulse(tmp_path):
    text, impulse = eng_curve()
    src = tmp_path / "H650.eng"
    src.write_text(text)
    out = import_eng(src, tmp_path / "h650.h5")
    with open_run(out) as run:
        assert run.imported["format"] == "eng" and run.imported["resampled"]
        assert run.metadata["propellant_mass_kg"] == pytest.approx(0.48)
        assert [c.role for c in run.channels] == ["thrust"]
        res = analyze_run(run)
    perf = res.performance
    # resampled at 1 kHz by linear interpolation: the knots fall between samples
    assert perf.total_impulse_Ns == pytest.approx(impulse, rel=0.002)
    assert perf.peak_thrust_N == pytest.approx(700.0, rel=0.002)
    assert perf.isp_from_mass_s == pytest.approx(perf.total_impulse_Ns / (0.48 * 9.80665))
    # and it says what it cannot compute
    text = " ".join(perf.notes + res.notes)
    for what in ("not tared", "ignition delay", "shutdown impulse", "mass flow", "stability"):
        assert what in text
    assert perf.isp_s is None and perf.c_star_efficiency is None


def test_bad_eng_is_a_clear_error(tmp_path):
    src = tmp_path / "bad.eng"
    src.write_text("H650 38 250\n0.1 20\n")
    with pytest.raises(ImportFailed, match="header line needs 7 fields"):
        import_eng(src, tmp_path / "x.h5")


def test_csv_import_with_mapping_and_export_round_trip(tmp_path, firings):
    path = firings.path("lox-ethanol-5kN", "nominal")
    out_csv = tmp_path / "exp.csv"
    assert main(["export", str(path), "--channels", "LC-THRUST,chamber_pressure,FM-OX,FM-F", "-o", str(out_csv),
                 "--t=-1.5:3.5"]) == 0
    header = out_csv.read_text().splitlines()[0]
    assert header == "time_s,LC-THRUST [N],PC [bar],FM-OX [kg/s],FM-F [kg/s]"
    m = Mapping(t0=0.0, cutoff=2.5, article={"serial": "LE5-003", "fuel": "C2H5OH(L)", "oxidizer": "O2(L)",
                                             "fuel_temperature_K": 293.15, "oxidizer_temperature_K": 90.17,
                                             "throat_diameter_mm": 48.0, "expansion_ratio": 4.0})
    m.channels["LC-THRUST [N]"] = ChannelSpec("LC-THRUST [N]", role="thrust")
    m.channels["PC [bar]"] = ChannelSpec("PC [bar]", role="chamber_pressure")
    m.channels["FM-OX [kg/s]"] = ChannelSpec("FM-OX [kg/s]", role="ox_mass_flow")
    m.channels["FM-F [kg/s]"] = ChannelSpec("FM-F [kg/s]", role="fuel_mass_flow")
    back = import_csv(out_csv, tmp_path / "back.h5", m)
    with open_run(back) as run, open_run(path) as orig:
        assert [c.units for c in run.channels] == ["N", "Pa", "kg/s", "kg/s"]  # bar read from the header, to SI
        a, b = run.channel("LC-THRUST", t=(0.5, 0.6)), orig.channel("LC-THRUST", t=(0.5, 0.6))
        assert np.allclose(a.t, b.t, atol=1e-9) and np.allclose(a.values, b.values, rtol=1e-9)
        res = analyze_run(run)
    ref = firings.get("lox-ethanol-5kN", "nominal").perf
    p = res.performance
    for k in ("total_impulse_Ns", "isp_s", "c_star_efficiency", "of", "shutdown_impulse_Ns"):
        got = getattr(p, k) if hasattr(p, k) and getattr(p, k) is not None else getattr(p.thrust, k)
        want = getattr(ref, k) if hasattr(ref, k) and getattr(ref, k) is not None else getattr(ref.thrust, k)
        assert got == pytest.approx(want, rel=2e-3), k


def test_tdms_import(tmp_path):
    from nptdms import ChannelObject, GroupObject, RootObject, TdmsWriter

    rate, n = 2000.0, 6000
    t = np.arange(n) / rate - 0.5
    thrust = np.where((t > 0.2) & (t < 2.2), 1000.0, 0.0) + 3.0
    pc = np.where((t > 0.2) & (t < 2.2), 10.0, 1.0)
    tc = np.full(30, 21.0)
    path = tmp_path / "fire.tdms"
    with TdmsWriter(str(path)) as w:
        props = {"wf_increment": 1 / rate, "wf_start_offset": -0.5}
        w.write_segment([
            RootObject({"name": "stand test"}), GroupObject("fast"),
            ChannelObject("fast", "Thrust", thrust, {**props, "unit_string": "N"}),
            ChannelObject("fast", "Pc", pc, {**props, "unit_string": "bar"}),
            ChannelObject("slow", "T amb", tc, {"wf_increment": 0.1, "wf_start_offset": -0.5, "unit_string": "degC"}),
        ])
    m = Mapping(t0=0.0)
    m.channels["fast/Thrust"] = ChannelSpec("fast/Thrust", role="thrust")
    m.channels["Pc"] = ChannelSpec("Pc", role="chamber_pressure")
    out = import_tdms(path, tmp_path / "fire.h5", m)
    with open_run(out) as run:
        assert {c.name: (c.role, c.units) for c in run.channels} == {
            "Thrust": ("thrust", "N"), "Pc": ("chamber_pressure", "Pa"), "T-amb": ("ambient_temperature", "K")}
        assert sorted(s.rate_hz for s in run.streams.values()) == [10.0, 2000.0]
        sig = run.channel("Thrust")
        assert sig.t[0] == pytest.approx(-0.5) and len(sig) == n
        perf = analyze_run(run).performance
    assert perf.thrust.tare_N == pytest.approx(3.0)
    assert perf.total_impulse_Ns == pytest.approx(2000.0, rel=2e-3)
    assert perf.pc_bar == pytest.approx(10.0)


def test_cli_import_analyze_json_and_html(tmp_path, capsys):
    text, impulse = eng_curve()
    src = tmp_path / "H650.eng"
    src.write_text(text)
    run = tmp_path / "h650.h5"
    assert main(["import", str(src), "-o", str(run)]) == 0
    assert "THRUST (thrust, N)" in capsys.readouterr().out
    assert main(["analyze", str(run), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["results"]["total_impulse_Ns"] == pytest.approx(impulse, rel=0.002)
    assert d["imported"]["format"] == "eng"
    html = tmp_path / "r.html"
    assert main(["analyze", str(run), "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "Total impulse" in out and "no flow meters" in out
    assert "data:image/png;base64," in html.read_text()


def test_csv_mapping_errors_name_the_problem(tmp_path, capsys):
    src = tmp_path / "a.csv"
    src.write_text("time_s,thrust_N\n0,0\n0.1,5\n0.2,0\n")
    assert main(["import", str(src), "-o", str(tmp_path / "a.h5"), "--channel", "thrust=thrust"]) == 1
    assert "no column 'thrust'" in capsys.readouterr().err
    assert main(["import", str(src), "-o", str(tmp_path / "a.h5"), "--channel", "thrust_N=thrusty"]) == 1
    assert "unknown role 'thrusty'" in capsys.readouterr().err


def test_rasp_steps_are_read_as_steps_and_backwards_time_names_the_line(tmp_path):
    from hotfire.analysis.importers import ChannelSpec, ImportFailed, Mapping, import_csv
    from hotfire.analysis.results import analyze_run
    from hotfire.core.runfile.reader import open_run

    src = tmp_path / "step.csv"
    src.write_text("# a certified curve that steps down at 2.5 s\ntime_s,thrust_N\n0,0\n0.1,100\n2.5,100\n"
                   "2.5,50\n4,50\n4.1,0\n")
    m = Mapping()
    m.channels["thrust_N"] = ChannelSpec("thrust_N", "THRUST", "thrust", "N")
    with open_run(import_csv(src, tmp_path / "step.h5", m)) as run:
        perf = analyze_run(run, stability=False).performance
        assert run.streams[run.channel_info("THRUST").stream].rate_hz == 1000.0  # the step's twin sets no rate
    # trapezoid of the curve with its vertical edge: 5 + 240 + 75 + 2.5 N s (measured 0.0 %)
    assert perf.total_impulse_Ns == pytest.approx(322.5, rel=1e-4)
    assert any("repeated time stamp(s) read as steps (RASP" in n and "first at line 5" in n for n in perf.notes)
    back = tmp_path / "back.csv"
    back.write_text("time_s,thrust_N\n0,0\n0.1,100\n2.5,100\n2.4,50\n")
    with pytest.raises(ImportFailed, match=r"back.csv:5: column 'time_s': time goes backwards"):
        import_csv(back, tmp_path / "back.h5", m)
