"""Comparing runs across rigs by role: units, rates and names differ, the
overlay is in SI on one time base, aligned at T0 or at ignition; metrics
against a reference run or a RASP thrust curve; the HTML report."""
import base64
import math
import re
from pathlib import Path

import numpy as np
import pytest

from hotfire.analysis import metrics as M
from hotfire.analysis.compare import Subject, Trace, compare, load_eng, read_eng, resample, to_html, write_html
from hotfire.analysis.performance import analyze
from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run
from hotfire.cli import main
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario
from hotfire.core.units import to_si

SHORT = dict(pretrigger_s=0.5, burn_s=1.5, posttrigger_s=0.5)


@pytest.fixture(scope="session")
def pair(tmp_path_factory):
    """A run from each sample rig, with different ignition delays: (5 kN, 100 kN)."""
    out = tmp_path_factory.mktemp("compare-runs")
    paths = []
    for test_id, rig_name, delay in (("LE5-A", "lox-ethanol-5kN", 0.12), ("KR100-A", "lox-rp1-100kN", 0.30)):
        rig = load_rig(rig_name)
        src = open_source(rig, "simulator", scenario=scenario("nominal", ignition_delay_s=delay, **SHORT))
        paths.append(Acquisition(rig, src, [Recorder(out)], test_id=test_id).run().path)
    return paths


def _steady(t, v, perf, shift=0.0):
    a, b = perf["steady_window_s"]
    sel = (t >= a - shift) & (t <= b - shift)
    return float(np.mean(v[sel]))


def test_runs_from_both_rigs_compare_by_role_in_si(pair):
    le, kr = pair
    cmp = compare([le, kr], align="t0")
    a, b = cmp.subjects
    # different channel names, rates and units, found by role
    assert b.traces["thrust"].channels == ["THRUST_A", "THRUST_B"]
    assert b.traces["thrust"].source_units == ["lbf", "lbf"] and a.traces["thrust"].source_units == ["N"]
    assert b.traces["chamber_pressure"].channels == ["PC_MAIN"] and a.traces["chamber_pressure"].channels == ["PC"]
    assert (b.traces["chamber_pressure"].source_units, a.traces["chamber_pressure"].source_units) == (["psi"], ["bar"])
    assert (b.traces["chamber_pressure"].source_rates, a.traces["chamber_pressure"].source_rates) == \
        ([10000.0], [5000.0])
    assert all(tr.unit == "Pa" for s in cmp.subjects for r, tr in s.traces.items() if r == "chamber_pressure")
    # the overlay of chamber pressure: one time base, in Pa
    t, pc = cmp.overlay("chamber_pressure")
    assert np.allclose(np.diff(t), 1e-3)
    for s, path in zip(cmp.subjects, pair):
        with open_run(path) as run:
            perf = analyze(run).to_dict()
            raw = run.role("chamber_pressure")[0]
        assert _steady(t, pc[s.label], perf) == pytest.approx(perf["pc_bar"] * 1e5, rel=2e-3)
        # the 100 kN rig's psi, converted: same numbers as converting the raw channel by hand
        sel = (raw.t > 0.5) & (raw.t < 0.8)
        assert _steady(t, pc[s.label], {"steady_window_s": (0.5, 0.8)}) == \
            pytest.approx(float(np.mean(to_si(raw.values[sel], raw.units))), rel=1e-3)
    # thrust of two lbf load cells, tared and summed, in N
    t, F = cmp.overlay("thrust")
    with open_run(kr) as run:
        perf = analyze(run).to_dict()
        cells = run.role("thrust")
    assert _steady(t, F["KR100-A"], perf) == pytest.approx(perf["thrust_N"], rel=2e-3)
    lbf = sum(c.values for c in cells)
    assert perf["thrust_N"] == pytest.approx(4.4482216152605 * (np.mean(lbf[(cells[0].t > 0.6) & (cells[0].t < 0.9)])
                                                                 - np.mean(lbf[cells[0].t < -0.1])), rel=2e-3)
    # the metrics table: differences from the reference (the first run), with the
    # analysis's uncertainties expanded (k = 2) and combined; n/a where it gives none
    u = []
    for p in pair:
        with open_run(p) as run:
            u.append(analyze_run(run, stability=False).performance.uncertainty)
    rows = {r.key: r for r in cmp.rows}
    isp = rows["isp_s"]
    assert isp.diff[1] == pytest.approx(isp.values[1] - isp.values[0])
    assert isp.diff_pct[1] == pytest.approx((isp.values[1] / isp.values[0] - 1) * 100)
    assert isp.U == [2 * u[0]["isp_s"], 2 * u[1]["isp_s"]]
    assert isp.diff_U[1] == pytest.approx(2 * math.hypot(u[0]["isp_s"], u[1]["isp_s"]))
    assert rows["burn_time_s"].diff_U == [None, None]  # the analysis gives no uncertainty for it
    text = cmp.table()
    assert "THRUST_A [lbf] @ 10000 Hz + THRUST_B [lbf] @ 10000 Hz -> N" in text
    assert "PC_MAIN [psi] @ 10000 Hz -> Pa" in text and "expanded uncertainty, k = 2" in text


def _column_ends(header: str) -> list[int]:
    """Where each right-aligned column of a table's header ends (after the metric and unit columns)."""
    return [m.end() for m in re.finditer(r"\S+(?: \S+)*", header)][2:]


def test_terminal_metric_columns_are_aligned_and_apart(pair):
    cmp = compare([pair[0], pair[1], pair[0]], roles=["thrust"])
    lines = cmp.table(width=100).splitlines()
    heads = [i for i, ln in enumerate(lines) if ln.startswith("  metric ")]
    assert len(heads) >= 2  # three runs do not fit 100 columns in one block
    for h in heads:
        ends = _column_ends(lines[h])
        body = []
        for ln in lines[h + 1:]:
            if not ln.strip():
                break
            body.append(ln)
        assert len(body) == len(cmp.rows)
        for ln in body:
            assert len(ln) <= 100, ln
            for e in ends:  # a cell ends where its heading does, two spaces before the next
                if e <= len(ln) and ln[e - 1] != " ":
                    assert e == len(ln) or ln[e:e + 2] == "  ", ln
                else:
                    assert ln[e - 2:e].strip() == "" or e > len(ln), ln  # an empty cell
            cells = re.split(r"\s{2,}", ln.strip())
            assert all(len(c) < 30 for c in cells), ln  # no two numbers run together
    imp = next(ln for ln in lines if ln.strip().startswith("Total impulse"))
    assert re.search(r"\d ±\d+  +\d", imp)  # "19,278 ±42   584,097 ±856": two spaces at least between runs


def test_alignment_at_ignition_lines_up_the_starts(pair):
    le, kr = pair
    truth = {}
    for p in pair:
        with open_run(p) as run:
            truth[run.test_id] = run.truth["ignition_s"] - run.truth["t0_s"]
    by_t0 = compare([le, kr], align="t0")
    by_ign = compare([le, kr], align="ignition", window=(-0.2, 0.6))
    for s, p in zip(by_ign.subjects, pair):
        with open_run(p) as run:  # the very ignition `hotfire analyze` reports
            assert s.ignition_s == analyze_run(run, stability=False).performance.thrust.ignition_delay_s
        assert s.ignition_role == "chamber_pressure"
        # detected at 10 % of the Pc rise: a few ms after the model's ignition
        assert 0.0 <= s.ignition_s - truth[s.test_id] < 0.010
        assert s.shift_s == s.ignition_s
    assert [s.shift_s for s in by_t0.subjects] == [0.0, 0.0]

    def half_rise(cmp):
        t, pc = cmp.overlay("chamber_pressure", window=(-0.2, 0.8))
        out = []
        for v in pc.values():
            lo, hi = np.nanmedian(v[t < -0.05]) if (t < -0.05).any() else v[0], np.nanmax(v)
            out.append(t[np.argmax(v > lo + 0.5 * (hi - lo))])
        return out

    a, b = half_rise(by_t0)
    assert b - a == pytest.approx(0.18, abs=0.01)  # the ignition delays differ by 180 ms
    a, b = half_rise(by_ign)
    assert abs(b - a) <= 0.002
    assert by_ign.window == (-0.2, 0.6)


def test_resample_averages_down_and_never_bridges_a_gap():
    fs = 5000.0
    t = np.arange(0, 10000) / fs
    v = np.where(np.arange(10000) % 2 == 0, 1.0, -1.0) + 3.0  # noise at Nyquist around 3
    k0, out = resample(t, v, 1000.0)
    assert k0 == 0 and len(out) == 2000
    assert np.allclose(out[1:-1], 3.0, atol=0.21)  # averaged over 5 samples: not aliased to +-1
    keep = (t < 0.5) | (t >= 0.7)  # 200 ms of lost samples
    k0, out = resample(t[keep], v[keep], 1000.0)
    tt = (k0 + np.arange(len(out))) / 1000.0
    gap = (tt > 0.4998 + 1e-9) & (tt < 0.7 - 1e-9)  # no sample from 0.4998 s to 0.7 s
    assert np.isnan(out[gap]).all() and np.isfinite(out[~gap]).all()
    slow = np.arange(0, 11) / 10.0  # 10 Hz, interpolated up
    k0, out = resample(slow, slow * 2, 100.0)
    assert k0 == 0 and np.allclose(out, np.arange(101) / 50.0)


ENG = """; made up for the test: a 1.0 s trapezoid
TST-1 75 500 0 1.2 3.4 Testco
0.05 1000.0
0.95 1000.0
1.0 0.0
"""


def test_compare_against_a_rasp_thrust_curve(pair, tmp_path):
    eng = tmp_path / "tst.eng"
    eng.write_text(ENG)
    c = read_eng(eng)
    assert (c.name, c.diameter_mm, c.propellant_mass_kg, c.manufacturer) == ("TST-1", 75.0, 1.2, "Testco")
    assert c.t[0] == 0.0 and c.F[0] == 0.0  # the implicit first point
    cmp = compare([pair[0]], reference=str(eng), align="ignition", roles=["thrust", "chamber_pressure"])
    ref, run = cmp.subjects
    assert cmp.reference == 0 and ref.kind == "eng" and ref.label == "TST-1 (.eng)"
    assert run.ignition_role == "thrust"  # detected like the curve's, on thrust
    assert ref.results["total_impulse_Ns"] == pytest.approx(950.0, rel=2e-3)  # the trapezoid's area
    assert ref.results["burn_time_s"] == pytest.approx(1.0 - 0.005 - 0.005, abs=0.005)
    assert ref.results["isp_from_mass_s"] == pytest.approx(950.0 / (1.2 * 9.80665), rel=2e-3)
    rows = {r.key: r for r in cmp.rows}
    assert rows["total_impulse_Ns"].diff[1] == pytest.approx(run.results["total_impulse_Ns"] - 950.0, rel=5e-3)
    assert rows["isp_s"].values[0] is None and rows["isp_s"].diff[1] is None  # a curve has no Isp
    t, F = cmp.overlay("thrust", window=(0.1, 0.8))
    assert np.allclose(F["TST-1 (.eng)"], 1000.0)
    t, pc = cmp.overlay("chamber_pressure")
    assert list(pc) == ["LE5-A"]


def test_public_certified_curves_total_impulse(tmp_path, reference_dir):
    certified = {"L2775": 3149.9, "J670": 1269.8, "I426": 505.04, "M1378": 5363.0, "O5500": 21384.0}
    for csv in sorted((reference_dir / "thrustcurves").glob("*.csv")):
        name = csv.name.split("_")[0]
        if name not in certified:
            continue
        pts = [ln.strip() for ln in csv.read_text().splitlines() if ln[:1].isdigit()]
        eng = tmp_path / f"{name}.eng"
        eng.write_text(f"{name} 75 500 0 1 2 X\n" + "\n".join(p.replace(",", " ") for p in pts) + "\n")
        subj = load_eng(eng)  # imported as a run and analysed as every run is
        assert subj.metrics["total_impulse_Ns"].value == pytest.approx(certified[name], rel=0.01), name


def test_differences_carry_expanded_uncertainties_and_degraded_values_are_marked():
    isp = M.by_key()["isp_s"]
    a = Subject("A", "a.h5", "run", "A", metrics={"isp_s": M.Value(isp, 250.0, 6.0)})
    b = Subject("B", "b.h5", "run", "B", metrics={"isp_s": M.Value(isp, 260.0, 8.0, M.DEGRADED, "FM-F drifts")})
    c = Subject("C", "c.h5", "run", "C", metrics={"isp_s": M.Value(isp, None, None, M.NA, "no fuel flow meter")})
    for s in (a, b, c):
        s.traces["thrust"] = Trace("thrust", "N", 1000.0, 0, np.ones(10), ["F"], ["N"], [1000.0])
    cmp = compare([a, b, c], roles=["thrust"])
    row = next(r for r in cmp.rows if r.key == "isp_s")
    assert row.diff == [None, 10.0, None] and row.diff_U == [None, 10.0, None]
    text = cmp.table()
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("Isp "))
    assert re.search(r"260\.00 ±8\.00 \*\s+\+4\.00 % ±4\.00\s+n/a$", line)
    assert "B: Isp degraded: FM-F drifts" in text and "C: Isp n/a: no fuel flow meter" in text
    html = to_html(cmp)
    assert "<td class='degraded' title='degraded: FM-F drifts'>260.00 ±8.00 *</td>" in html
    assert "+4.00 % ±4.00" in html and "k = 2" in html
    assert "C: Isp n/a: no fuel flow meter" in html


def _pngs(html: str) -> dict:
    return {m.group(1): base64.b64decode(m.group(2))
            for m in re.finditer(r"alt='([^']+)' src='data:image/png;base64,([^']+)'", html)}


def test_html_report_is_self_contained_from_the_command_line(pair, tmp_path, capsys):
    out = tmp_path / "cmp.html"
    assert main(["compare", *map(str, pair), "--align", "ignition", "--html", str(out)]) == 0
    text = capsys.readouterr().out
    assert "aligned at ignition" in text and "KR100-A" in text
    html = out.read_text()
    pngs = _pngs(html)
    assert set(pngs) == {"thrust", "chamber_pressure", "ox_mass_flow", "fuel_mass_flow", "metrics"}
    assert all(p.startswith(b"\x89PNG") and len(p) > 10_000 for p in pngs.values())
    assert "http://" not in html.replace("http://www.w3.org", "") and "<script" not in html
    assert "PC_MAIN [psi] @ 10000 Hz -&gt; Pa" in html and "lox-rp1-100kN" in html


def test_compare_a_catalog_query(pair, tmp_path, capsys):
    import shutil

    for p in pair:
        shutil.copy(p, tmp_path / Path(p).name)
    assert main(["catalog", str(tmp_path), "--serial", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", "--catalog", str(tmp_path), "--rig", "lox-*", "--sort=-thrust_N",
                 "--roles", "chamber_pressure", "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert [s["test_id"] for s in d["subjects"]] == ["KR100-A", "LE5-A"] and d["reference"] == "KR100-A"
    assert main(["compare", "--catalog", str(tmp_path), "--rig", "nope"]) == 1
    assert "matched no runs" in capsys.readouterr().err
    assert main(["compare", str(pair[0]), "--roles", "thrust,bogus"]) == 1
    assert "unknown role(s) bogus" in capsys.readouterr().err


def test_write_html_returns_the_path(pair, tmp_path):
    cmp = compare(pair, roles=["thrust"])
    assert write_html(cmp, tmp_path / "r.html").read_text().startswith("<!doctype html>")


def test_html_results_tables_stay_narrow_with_many_runs(pair):
    cmp = compare([pair[0], pair[1]] * 4, roles=["thrust"])  # eight runs
    html = to_html(cmp)
    results = html[html.index("<h2>Results</h2>"):html.index("<h2>Thrust</h2>")]
    tables = re.findall(r"<table>.*?</table>", results, re.S)
    assert len(tables) == 3  # the reference and up to three runs per table: 7 others in 3 tables
    for tab in tables:
        first = re.search(r"<tr>(.*?)</tr>", tab, re.S).group(1)
        columns = sum(int(n) for n in re.findall(r"colspan='(\d)'", first)) + 2
        assert columns <= 9  # metric, unit, the reference, three runs x (value, difference): fits 1100 px
        assert "(reference)" in tab  # every table carries the reference beside the runs
