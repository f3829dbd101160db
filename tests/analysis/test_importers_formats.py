"""Raw files as stands write them: units and roles from headers, separators and decimal commas,
blank cells, gaps, stated rates, date-time stamps, rows as channels, LabVIEW .lvm, JSON logs,
two files with no common clock (and the real HANARO raw pair, when ../shared/reference is there)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from hotfire.analysis.importers import ImportFailed, Mapping, import_file, import_files
from hotfire.cli import main
from hotfire.core.runfile.reader import open_run

RNG = np.random.default_rng(14)


def firing(n=400, rate=100.0, t0=0.0):
    """A 1000 N, 20 bar burn from 1 to 3 s, with noise: (t, thrust N, pc bar)."""
    t = t0 + np.arange(n) / rate
    on = (t >= 1.0) & (t < 3.0)
    F = np.where(on, 1000.0, 0.0) + RNG.normal(0, 2.0, n) + 5.0
    pc = np.where(on, 20.0, 1.0) + RNG.normal(0, 0.02, n)
    return t, F, pc


def test_units_and_roles_from_headers_semicolon_decimal_comma_preamble_blank_cell(tmp_path, capsys):
    t, F, pc = firing()
    lbf, psi = F / 4.4482216152605, pc * 1e5 / 6894.757293168
    lines = ["Stand B static fire", "Operator: A. N. Other", "", "time_ms;Force(lbf);Pc [psi];Status"]
    for i, (a, b, c) in enumerate(zip(t, lbf, psi)):
        cell = "" if i == 150 else f"{c:.4f}".replace(".", ",")
        lines.append(f"{a * 1000:.1f};{b:.4f}".replace(".", ",") + f";{cell};ok")
    src = tmp_path / "b.csv"
    src.write_text("\n".join(lines) + "\n")
    assert main(["import", str(src), "-o", str(tmp_path / "b.h5"), "--channel", "Status=skip"]) == 0
    out = capsys.readouterr().out
    assert "';'-separated, decimal comma, header on line 4, 2 preamble line(s), 400 rows" in out
    assert "column 'time_ms'" in out and "in ms" in out
    assert "thrust" in out and "'Force(lbf)' as Force (N) [lbf -> N" in out
    assert "chamber_pressure <- 'Pc [psi]' as Pc (Pa)" in out
    with open_run(tmp_path / "b.h5") as run:
        assert {c.name: (c.role, c.units) for c in run.channels} == {
            "Force": ("thrust", "N"), "Pc": ("chamber_pressure", "Pa")}
        assert run.streams["s0"].rate_hz == pytest.approx(100.0)
        f, p = run.channel("Force"), run.channel("Pc")
        assert np.allclose(f.values, F, atol=1e-3 * 4.45)  # 4 decimals of lbf
        assert np.isnan(p.values[150]) and np.isfinite(p.values[149]) and np.isfinite(p.values[151])
        assert np.allclose(np.delete(p.values, 150), np.delete(pc * 1e5, 150), atol=0.35)  # 4 decimals of psi
        assert "blank or non-finite cells masked" in run.metadata["import_note"] and "Pc 1" in run.metadata[
            "import_note"]
        assert run.imported["files"][0]["preamble"][0] == "Stand B static fire"


def test_tab_and_whitespace_tables_and_a_rate_for_a_file_without_time(tmp_path):
    t, F, _ = firing()
    (tmp_path / "tab.txt").write_text("Thrust (N)\tT amb (C)\n" + "".join(f"{x:.3f}\t21.5\n" for x in F))
    with pytest.raises(ImportFailed, match="no time column"):
        import_file(tmp_path / "tab.txt", tmp_path / "x.h5")
    out = import_file(tmp_path / "tab.txt", tmp_path / "tab.h5", mapping=Mapping(rate_hz=250.0))
    with open_run(out) as run:
        sig = run.channel("Thrust")
        assert run.streams["s0"].rate_hz == 250.0 and len(sig) == len(F)
        assert sig.t[-1] - sig.t[0] == pytest.approx((len(F) - 1) / 250.0)
        assert run.channel_info("T-amb").units == "K" and run.channel("T-amb").values[0] == pytest.approx(294.65)
    (tmp_path / "ws.dat").write_text("# t [s]  load\n t_s   thrust_N\n" + "".join(
        f"  {a:.2f}    {b:.3f}\n" for a, b in zip(t, F)))
    with open_run(import_file(tmp_path / "ws.dat", tmp_path / "ws.h5")) as run:
        assert [c.role for c in run.channels] == ["thrust"] and len(run.channel("thrust")) == len(F)


def test_a_gap_is_a_gap_and_iso_stamps_are_seconds_from_the_first(tmp_path):
    import datetime as dt

    start = dt.datetime(2025, 2, 20, 14, 3, 5, 123000)
    keep = np.r_[0:100, 130:200]  # 0.3 s of a 100 Hz log missing
    lines = ["Datetime,Thrust [N]"] + [
        f"{(start + dt.timedelta(milliseconds=10 * int(i))).isoformat(sep=' ', timespec='milliseconds')},"
        f"{500 + RNG.normal(0, 1):.2f}" for i in keep]
    (tmp_path / "g.csv").write_text("\n".join(lines) + "\n")
    with open_run(import_file(tmp_path / "g.csv", tmp_path / "g.h5")) as run:
        st = run.streams["s0"]
        assert st.rate_hz == pytest.approx(100.0) and st.gaps == [(100, 30)]  # exact, not interpolated
        sig = run.channel("Thrust")
        assert len(sig) == 170 and sig.t[0] == pytest.approx(0.0) and sig.t[100] == pytest.approx(1.30)
        gaps = [e for e in run.events if e["kind"] == "gap"]
        assert len(gaps) == 1 and "lines 101-102" in run.metadata["import_note"]
        assert "0.99" in gaps[0]["message"] and "1.3" in gaps[0]["message"]
    # a non-uniform recording: resampled within each stretch, never across the gap
    tt = np.arange(3000) / 300.0 + RNG.uniform(0, 2e-3, 3000)  # a logger's jittery clock
    tt = tt[(tt < 4) | (tt > 6)]
    (tmp_path / "n.csv").write_text("t,pc_bar\n" + "".join(f"{a:.6f},{10 + a:.4f}\n" for a in tt))
    with open_run(import_file(tmp_path / "n.csv", tmp_path / "n.h5")) as run:
        sig = run.channel("pc")
        assert not ((sig.t > tt[tt < 4][-1] + 1e-3) & (sig.t < tt[tt > 6][0] - 1e-3)).any()
        assert len([e for e in run.events if e["kind"] == "gap"]) == 1
        assert np.allclose(sig.to("bar").values, 10 + sig.t, atol=1e-3)


def test_rows_as_channels(tmp_path):
    t = np.arange(200) / 50.0
    v = 0.1 + np.where((t > 1) & (t < 3), 2.0, 0.0)
    (tmp_path / "r.csv").write_text(",".join(f"{x:.3f}" for x in t) + "\n" + ",".join(f"{x:.4f}" for x in v) + "\n")
    m = Mapping()
    from hotfire.analysis.importers import parse_channel_option, parse_scale_option

    sp = parse_channel_option("row2=thrust:N:LC")
    m.channels[sp.source] = sp
    parse_scale_option("row2=500", m)
    rep = import_files([tmp_path / "r.csv"], tmp_path / "r.h5", mapping=m)
    assert "2 rows as channels of 200 values" in rep.lines[0]
    with open_run(rep.path) as run:
        assert np.allclose(run.channel("LC").values, v * 500) and run.streams["s0"].rate_hz == pytest.approx(50.0)
    (tmp_path / "bad.csv").write_text(",".join(f"{x:.3f}" for x in t) + "\n" + ",".join(
        "x" if i == 17 else "1" for i in range(200)) + "\n")
    with pytest.raises(ImportFailed, match=r"bad.csv:2: field 18 \(row 'row2'\): 'x' is not a number"):
        import_file(tmp_path / "bad.csv", tmp_path / "bad.h5")


LVM = """LabVIEW Measurement\t
Writer_Version\t2
Reader_Version\t2
Separator\tTab
Decimal_Separator\t,
Multi_Headings\tYes
X_Columns\tOne
Time_Pref\tRelative
Operator\tstand
Date\t2025/02/20
Time\t14:03:05,1
***End_of_Header***\t
\t
Channels\t2\t
Samples\t{n}\t{n}\t
Date\t2025/02/20\t2025/02/20\t
Time\t{time}\t{time}\t
Y_Unit_Label\tN\tbar\t
X_Dimension\tTime\tTime\t
X0\t0,0\t0,0\t
Delta_X\t0,01\t0,01\t
***End_of_Header***\t
X_Value\tThrust\tChamber Pressure\tComment
"""


def test_labview_lvm_two_segments_decimal_comma(tmp_path):
    t, F, pc = firing(200)
    text = LVM.format(n=100, time="14:03:05,1")
    text += "".join(f"{a:.2f}\t{b:.3f}\t{'' if i == 40 else f'{c:.4f}'}\n".replace(".", ",")
                    for i, (a, b, c) in enumerate(zip(t[:100], F[:100], pc[:100])))
    # the second segment's X restarts: placed by its Time stamp, 1.5 s after the first (a 0.51 s gap: 50 samples)
    text += "\n" + LVM.split("***End_of_Header***\t\n", 1)[1].format(n=100, time="14:03:06,6")
    text += "".join(f"{a:.2f}\t{b:.3f}\t{c:.4f}\n".replace(".", ",") for a, b, c in zip(t[:100], F[100:], pc[100:]))
    (tmp_path / "f.lvm").write_text(text)
    with open_run(import_file(tmp_path / "f.lvm", tmp_path / "f.h5")) as run:
        assert {c.name: (c.role, c.units) for c in run.channels} == {
            "Thrust": ("thrust", "N"), "Chamber-Pressure": ("chamber_pressure", "Pa")}
        sig = run.channel("Thrust")
        assert len(sig) == 200 and run.streams["s0"].gaps == [(100, 50)]
        assert np.allclose(sig.values, np.round(F, 3), atol=1e-9)
        assert np.isnan(run.channel("Chamber-Pressure").values[40])
        assert "segment 2 placed by its Date/Time stamp (+1.5 s)" in run.metadata["import_note"]
    bad = text.replace("0,05\t", "0,05x\t", 1)
    (tmp_path / "bad.lvm").write_text(bad)
    with pytest.raises(ImportFailed, match=r"bad.lvm:29: column 'X_Value': '0,05x' is not a number"):
        import_file(tmp_path / "bad.lvm", tmp_path / "bad.h5")


def test_json_logs_records_lines_and_arrays(tmp_path):
    t, F, pc = firing(300)
    recs = [{"t": a, "thrust_N": b} | ({} if i == 7 else {"pc_bar": c}) for i, (a, b, c) in enumerate(zip(t, F, pc))]
    (tmp_path / "a.json").write_text(json.dumps(recs, indent=1))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    (tmp_path / "c.json").write_text(json.dumps({"time": list(t), "Thrust": list(F), "Pc": list(pc),
                                                 "units": {"Thrust": "N", "Pc": "bar"}, "stand": "B"}))
    for name in ("a.json", "b.jsonl", "c.json"):
        with open_run(import_file(tmp_path / name, tmp_path / f"{name}.h5")) as run:
            roles = {c.role: c.name for c in run.channels}
            assert set(roles) == {"thrust", "chamber_pressure"}, name
            assert np.allclose(run.channel(roles["thrust"]).values, F), name
            p = run.channel(roles["chamber_pressure"]).to("bar").values
            assert np.isnan(p[7]) == (name != "c.json") and np.nanmax(np.abs(np.delete(p, 7) - np.delete(pc, 7))) < 1e-9
    recs[11]["thrust_N"] = "high"
    (tmp_path / "bad.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    with pytest.raises(ImportFailed, match=r"bad.jsonl:12: column 'thrust_N': 'high' is not a number"):
        import_file(tmp_path / "bad.jsonl", tmp_path / "bad.h5")
    (tmp_path / "broken.json").write_text('[{"t": 0, "x": 1},\n {"t": 1, "x": }]')
    with pytest.raises(ImportFailed, match=r"broken.json:2: column 16: invalid JSON"):
        import_file(tmp_path / "broken.json", tmp_path / "bad.h5")


def test_two_files_without_a_common_clock_are_aligned_on_their_events(tmp_path, capsys):
    t, F, pc = firing(500, 100.0)
    (tmp_path / "thrust.csv").write_text("time_s,Load Cell [kgf]\n" + "".join(
        f"{a:.2f},{b / 9.80665:.4f}\n" for a, b in zip(t, F)))
    tp = np.arange(100) / 20.0 + 37.0  # another logger: 20 Hz, its clock 36 s ahead (37 - 1)
    pp = np.where((tp >= 38.0) & (tp < 40.0), 20.0, 1.0)
    (tmp_path / "pressure.csv").write_text("t,Pressure (bar)\n" + "".join(f"{a:.2f},{b:.3f}\n" for a, b in zip(tp, pp)))
    args = ["import", str(tmp_path / "thrust.csv"), str(tmp_path / "pressure.csv"), "-o", str(tmp_path / "two.h5")]
    assert main(args) == 1
    assert "share no clock" in capsys.readouterr().err
    assert main(args + ["--align", "thrust>50N", "--align", "pressure>5bar"]) == 0
    out = capsys.readouterr().out
    assert "shifted -36.97" in out and "chamber_pressure <- 'Pressure (bar)'" in out
    with open_run(tmp_path / "two.h5") as run:
        pcs = run.channel("Pressure")
        # both steps are at 1.0 s; each crossing is interpolated between its file's samples around the step:
        # the alignment is good to a sample of the slower file (50 ms; measured 27 ms)
        assert pcs.t[0] == pytest.approx(0.0, abs=0.05)
        assert pcs.t[np.argmax(pcs.values > 5e5)] == pytest.approx(1.0, abs=0.05)
        notes = [e["message"] for e in run.events if e["kind"] == "note"]
    assert main(args + ["--offset", "pressure.csv=-37"]) == 0
    with open_run(tmp_path / "two.h5") as run:
        assert run.channel("Pressure").t[0] == pytest.approx(0.0, abs=1e-9)  # 37 s on its clock: 0 on the run's
    assert any("rose 5 bar above its starting level" in n for n in notes)


def test_errors_name_file_line_and_column(tmp_path):
    (tmp_path / "a.csv").write_text("time_s,thrust_N\n0,1\n0.1,2\n0.2,abc\n0.3,4\n")
    with pytest.raises(ImportFailed, match=r"a.csv:4: column 'thrust_N': 'abc' is not a number"):
        import_file(tmp_path / "a.csv", tmp_path / "a.h5")
    (tmp_path / "b.csv").write_text("time_s,thrust_N\n0,1\n0.1,2\n0.2,3,9\n0.3,4\n")
    with pytest.raises(ImportFailed, match=r"b.csv:4: 3 fields"):
        import_file(tmp_path / "b.csv", tmp_path / "b.h5")
    (tmp_path / "c.csv").write_text("time_s,thrust_N\n0,1\n0.1,2\n,3\n0.3,4\n")
    with pytest.raises(ImportFailed, match=r"c.csv:4: column 'time_s': blank"):
        import_file(tmp_path / "c.csv", tmp_path / "c.h5")


def _reference():
    for p in (os.environ.get("HOTFIRE_REFERENCE"), Path(__file__).resolve().parents[3] / "shared" / "reference"):
        if p and (Path(p) / "hanaro-raw").is_dir():
            return Path(p)
    return None


REF = _reference()
V_TO_N = 1000 / (1 + 49.4e3 / 200.4) / 11.94 / 3 * 500 * 9.80665  # the toolkit's config (README): 553.07 N/V


@pytest.fixture(scope="module")
def hanaro(tmp_path_factory):
    if REF is None:
        pytest.skip("no reference data folder (shared/reference/hanaro-raw)")
    out = tmp_path_factory.mktemp("hanaro") / "knsb.h5"
    raw = REF / "hanaro-raw"
    assert main(["import", str(raw / "KNSB_250220_thrust_raw.csv"), str(raw / "KNSB_250220_pressure_raw.csv"),
                 "-o", str(out), "--channel", "row2=thrust:N:THRUST", "--scale", f"row2={V_TO_N}",
                 "--align", "thrust>50N", "--align", "pressure>2bar", "--article", "throat_diameter_mm=20",
                 "--propellant-mass", "4.9963"]) == 0
    return out


def test_hanaro_raw_pair_gives_the_published_impulse_and_pressure(hanaro):
    with open_run(hanaro) as run:
        F, pc = run.channel("THRUST"), run.channel("5600-Pressure").to("bar")
        assert run.channel_info("5600-Pressure").role == "chamber_pressure"
        pre = F.slice(150.0, 159.0).values
        tare = float(np.median(pre[np.isfinite(pre)]))
        w = F.slice(159.5, 164.5)
        impulse = float(np.trapezoid(w.values - tare, w.t))
        p = pc.slice(159.5, 164.5)
        pc_integral = float(np.trapezoid(p.values, p.t))
        thrust_rise = w.t[np.argmax(w.values - tare > 200)]
        pc_rise = p.t[np.argmax(p.values > 5)]
        gaps = [e for e in run.events if e["kind"] == "gap"]
    # published (HANARO, processed file): 6411.11 N s, peak 2221.68 N, mean Pc 31.17 bar over 4.35 s, max 45.88 bar
    assert impulse == pytest.approx(6411.11, rel=0.006)  # measured -0.17 % (their tare is 10 N lower)
    assert float(np.nanmax(w.values)) - tare == pytest.approx(2221.68, rel=0.01)  # measured +0.46 %
    assert pc_integral / 4.35 == pytest.approx(31.17, rel=0.03)  # measured +1.0 % (10 Hz logger)
    assert float(np.nanmax(p.values)) == pytest.approx(45.88, rel=0.02)  # measured +0.6 %
    assert abs(pc_rise - thrust_rise) < 0.25  # aligned on the burn: the rises agree within a 10 Hz sample or two
    assert len(gaps) == 290  # the thrust logger's 0.09-0.17 s pauses, all before and after the burn


def test_hanaro_raw_pair_analysed(hanaro):
    from hotfire.analysis.results import analyze_run

    with open_run(hanaro) as run:
        perf = analyze_run(run, stability=False).performance
    assert perf.total_impulse_Ns == pytest.approx(6411.11, rel=0.01)
    assert perf.pc_mean_burn_bar == pytest.approx(31.17 * 4.35 / (perf.thrust.impulse_window_s[1]
                                                                  - perf.thrust.impulse_window_s[0]), rel=0.03)


def test_sidecar_mapping_gap_option_and_a_text_column(tmp_path, capsys):
    t = np.arange(0, 4, 0.01) + RNG.uniform(0, 2e-3, 400)  # jittery: resampled
    t = t[(t < 1.5) | (t > 1.55)]  # a 0.05 s pause: ~6 intervals, no gap by default (10 x median) ...
    (tmp_path / "s.csv").write_text("time [s],V1,state\n" + "".join(f"{a:.5f},{0.5 + a:.4f},armed\n" for a in t))
    (tmp_path / "m.toml").write_text('gap_s = 0.03\n[columns.V1]\nrole = "thrust"\nunits = "N"\nscale = 100.0\n'
                                     'uncertainty = { reading_percent = 0.5 }\n')
    assert main(["import", str(tmp_path / "s.csv"), "-o", str(tmp_path / "s.h5"), "--map", str(tmp_path / "m.toml")]) == 0
    out = capsys.readouterr().out
    assert "column 'state': text ('armed'...), not imported" in out
    assert "no uncertainty given" not in out
    with open_run(tmp_path / "s.h5") as run:  # ... but one with gap_s = 0.03
        assert [c.name for c in run.channels] == ["V1"] and run.channel_info("V1").uncertainty == {
            "reading_percent": 0.5}
        assert len([e for e in run.events if e["kind"] == "gap"]) == 1
        sig = run.channel("V1")
        assert np.allclose(sig.values, 100 * (0.5 + sig.t), atol=0.01)  # the file's volts x 100, N
    (tmp_path / "bad.toml").write_text('gap = 0.05\n')
    assert main(["import", str(tmp_path / "s.csv"), "-o", str(tmp_path / "s.h5"), "--map", str(tmp_path / "bad.toml")]) == 1
    assert "bad.toml: gap: unknown key" in capsys.readouterr().err
