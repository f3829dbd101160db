"""The metric registry: every view (terminal, JSON, HTML, compare, catalog) is
rendered from it, marks degraded and n/a metrics with their reason, and shows
one uncertainty convention (expanded, k = 2)."""
import copy
import json
import re

import pytest

from hotfire.analysis import metrics as M
from hotfire.analysis.report import render_html
from hotfire.analysis.textreport import format_results
from hotfire.core.runfile.reader import open_run


@pytest.fixture(scope="module")
def nominal(firings):
    return firings.get("lox-ethanol-5kN", "nominal")


def _marked(results):
    """The results with the impulse degraded (one excluded span) and the main window's Isp n/a."""
    res = copy.deepcopy(results)
    perf = res.performance
    perf.status = {"total_impulse_Ns": {
        "status": "degraded", "reason": "LC-THRUST over range for 0.4 s",
        "provenance": {"channels": ["LC-THRUST"], "span_s": [0.1, 2.6],
                       "excluded": [{"channel": "LC-THRUST", "span_s": [1.0, 1.4], "reason": "over range"}]}}}
    perf.steady.status = {"isp_s": M.Status(M.NA, "no valid fuel flow in the window")}
    return res


def test_registry_keys_are_unique_and_every_entry_is_complete():
    keys = [m.key for m in M.REGISTRY]
    assert len(keys) == len(set(keys))
    for m in M.REGISTRY:
        assert m.label and m.symbol and m.description and m.produced_by, m.key
        m.fmt.format(1.0)  # a format that formats a number
    with pytest.raises(ValueError, match="scope"):
        M.Metric("x", "X", "x", "", "d", "{:g}", "nowhere", "test")
    with pytest.raises(ValueError, match="registered already"):
        M.register(M.REGISTRY[0])


def test_uncertainty_shown_is_expanded_k2_everywhere(nominal):
    perf = nominal.perf
    u1 = perf.uncertainty["total_impulse_Ns"]  # standard (k = 1), as the GUM computation makes it
    v = M.collect(perf)["total_impulse_Ns"]
    assert v.U == pytest.approx(2 * u1)
    with open_run(nominal.path) as run:
        text = format_results(run, perf, stability=nominal.stability, results=nominal.results)
        page = render_html(run, nominal.results)
    line = next(s for s in text.splitlines() if s.strip().startswith("Total impulse"))
    assert f"±{2 * u1:,.0f}" in line
    assert "k = 2" in text.splitlines()[2]  # stated in the header
    assert f"±{2 * u1:,.0f}" in page and "k = 2 (~95 %)" in page
    d = nominal.results.to_dict()
    assert d["uncertainty_convention"]["k"] == 2
    assert d["metrics"]["burn"]["total_impulse_Ns"]["U"] == pytest.approx(2 * u1)
    assert d["results"]["uncertainty"]["total_impulse_Ns"] == pytest.approx(2 * u1)


def test_degraded_and_na_are_marked_with_their_reason_in_terminal_json_and_html(nominal):
    res = _marked(nominal.results)
    with open_run(nominal.path) as run:
        text = format_results(run, res.performance, stability=res.stability, results=res)
        page = render_html(run, res)
    lines = text.splitlines()
    imp = next(s for s in lines if s.strip().startswith("Total impulse"))
    assert re.search(r"DEGRADED \[\d\]$", imp)
    isp = next(s for s in lines if s.strip().startswith("Isp (sea level"))
    assert re.search(r"from flow\)\s+n/a\s", isp) and re.search(r"n/a \[\d\]$", isp)  # no number is shown
    foot = "\n".join(lines[lines.index("DEGRADED OR NOT AVAILABLE"):])
    assert "LC-THRUST over range for 0.4 s" in foot and "excluded LC-THRUST +1.00 to +1.40 s (over range)" in foot
    assert "no valid fuel flow in the window" in foot
    d = json.loads(json.dumps(res.to_dict()))
    imp_j = d["metrics"]["burn"]["total_impulse_Ns"]
    assert imp_j["status"] == "degraded" and imp_j["value"] == pytest.approx(res.performance.total_impulse_Ns)
    assert imp_j["provenance"]["excluded"] == [{"channel": "LC-THRUST", "span_s": [1.0, 1.4], "reason": "over range"}]
    isp_j = d["metrics"]["steady_windows"][0]["isp_s"]
    assert isp_j["status"] == "n/a" and isp_j["value"] is None and isp_j["reason"]
    summary = page[page.index("<h2>Degraded or not available</h2>"):page.index("<h2>Thrust</h2>")]
    assert "<b>Total impulse</b> degraded: LC-THRUST over range" in summary and "<b>Isp</b> n/a: no valid" in summary
    row = re.search(r"<tr class='degraded'><td>Total impulse \(1 % of steady thrust\)</td>.*?</tr>", page).group(0)
    assert "LC-THRUST over range for 0.4 s" in row
    assert re.search(r"<tr class='na'><td>Isp \(sea level, from flow\)</td><td>n/a</td>.*?no valid fuel flow", page)


def test_metrics_made_n_a_by_one_reason_share_one_footnote(nominal):
    res = _marked(nominal.results)
    why = M.Status(M.NA, "no valid fuel flow in the window")
    res.performance.steady.status = {"isp_s": why, "isp_efficiency": why, "c_star_m_s": why}
    with open_run(nominal.path) as run:
        lines = format_results(run, res.performance, stability=res.stability, results=res).splitlines()

    def mark(label):
        row = next(s for s in lines if s.strip().startswith(label + "  "))
        return re.search(r"\[(\d+)\]$", row).group(1)

    isp, eff, cstar, imp = mark("Isp (sea level, from flow)"), mark("Isp efficiency"), mark("c*"), \
        mark("Total impulse (1 % of steady thrust)")
    # the same reason from the same channels: one note; c* has the reason but its own channels (Pc, flows)
    assert isp == eff and len({isp, cstar, imp}) == 3
    notes = [s for s in lines[lines.index("DEGRADED OR NOT AVAILABLE") + 1:] if re.match(r"  \[\d+\] ", s)]
    assert len(notes) == 3  # one per reason and provenance, not one per metric
    shared = next(s for s in notes if s.startswith(f"  [{isp}] "))
    assert shared.startswith(f"  [{isp}] Isp (sea level, from flow), Isp efficiency: n/a, no valid fuel flow")


def test_the_impulse_row_carries_the_threshold_rule_it_used(nominal):
    """Terminal, JSON and HTML say between which crossings the impulse was integrated, as the burn time says
    its threshold; the span in its provenance is that window, not the burn's."""
    perf = nominal.perf
    with open_run(nominal.path) as run:
        text = format_results(run, perf, stability=nominal.stability, results=nominal.results)
        page = render_html(run, nominal.results)
    line = next(s for s in text.splitlines() if s.strip().startswith("Total impulse"))
    assert line.strip().startswith("Total impulse (1 % of steady thrust)")
    assert "<td>Total impulse (1 % of steady thrust)</td>" in page
    imp = nominal.results.to_dict()["metrics"]["burn"]["total_impulse_Ns"]
    assert imp["rule"] == "1 % of steady thrust"
    assert nominal.results.to_dict()["metrics"]["burn"]["burn_time_s"]["rule"] == "10 % of steady thrust"
    assert imp["provenance"]["span_s"] == pytest.approx(list(perf.thrust.impulse_window_s))
    assert imp["provenance"]["span_s"][0] < perf.burn_start_s  # 1 % of steady thrust is crossed before 10 %
    # the rule follows the thresholds: by NFPA 1125 every one is a fraction of peak thrust
    th = dict(perf.thrust.thresholds, impulse_reference="peak thrust", impulse_fraction=0.02)
    assert M.label_context(type("P", (), {"thrust": type("T", (), {"thresholds": th, "ignition_basis": ""})})())[
        "impulse"] == "2 % of peak thrust"


def test_every_metric_carries_its_provenance(nominal):
    perf = nominal.perf
    vals = M.collect(perf)
    assert vals["pc_bar"].provenance.channels == ["PC"]
    assert vals["pc_bar"].provenance.span_s == (perf.steady.start_s, perf.steady.end_s)
    assert vals["isp_s"].provenance.channels == ["LC-THRUST", "FM-OX", "FM-F"]
    assert vals["total_impulse_Ns"].provenance.channels == ["LC-THRUST"]


@pytest.fixture
def fake_metric(monkeypatch):
    """A metric the registry did not have: the impulse inside the burn, which the thrust analysis
    computes (``ThrustResult.burn_impulse_Ns``) but no view showed."""
    m = M.Metric("test_burn_impulse_Ns", "Impulse inside the burn (test)", "I_b", "N s", "for the test", "{:,.2f}",
                 "burn", "thrust", headline=True, attr="burn_impulse_Ns")
    monkeypatch.setattr(M, "REGISTRY", M.REGISTRY + [m])
    return m


def test_a_metric_added_to_the_registry_appears_in_every_view(fake_metric, nominal, tmp_path, capsys):
    import shutil

    from hotfire.analysis.batch import Engine
    from hotfire.analysis.catalog import Catalog
    from hotfire.analysis.compare import compare, to_html
    from hotfire.cli import main

    want = nominal.perf.thrust.burn_impulse_Ns
    shown = f"{want:,.2f}"
    with open_run(nominal.path) as run:
        text = format_results(run, nominal.perf, stability=nominal.stability, results=nominal.results)
        page = render_html(run, nominal.results)
    assert re.search(r"Impulse inside the burn \(test\)\s+" + re.escape(shown) + r"\s+N s", text)  # terminal
    assert f"<td>Impulse inside the burn (test)</td><td>{shown}</td>" in page  # HTML table
    assert "<div class='k'>Impulse inside the burn</div>" in page  # a headline card
    d = json.loads(json.dumps(nominal.results.to_dict()))
    assert d["metrics"]["burn"]["test_burn_impulse_Ns"]["value"] == pytest.approx(want)  # JSON
    cmp = compare([nominal.path, nominal.path], roles=["thrust"])
    row = next(r for r in cmp.rows if r.key == "test_burn_impulse_Ns")
    assert row.values == [pytest.approx(want)] * 2 and row.diff == [None, 0.0]
    assert re.search(r"Impulse inside the burn\s+N s\s+" + re.escape(shown), cmp.table())  # compare, terminal
    assert f">{shown}</td>" in to_html(cmp)
    folder = tmp_path / "runs"
    folder.mkdir()
    shutil.copy(nominal.path, folder / "a.h5")
    with Catalog.for_folder(folder) as cat:  # in this process: the helper would not know the test's metric
        cat.update([folder], engine=Engine(serial=True, isolate=False))
        (e,) = cat.query(where=["test_burn_impulse_Ns>1"])  # its own column
        assert e.metrics["test_burn_impulse_Ns"] == pytest.approx(want)
    assert main(["catalog", str(folder), "--no-update", "--list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert "Impulse inside the burn N s" in listing[0] and shown in listing[1]  # a listing column


def test_a_catalog_made_before_a_metric_was_added_is_rebuilt(nominal, tmp_path, monkeypatch):
    import shutil

    from hotfire.analysis.batch import Engine
    from hotfire.analysis.catalog import Catalog

    folder = tmp_path / "runs"
    folder.mkdir()
    shutil.copy(nominal.path, folder / "a.h5")
    with Catalog.for_folder(folder) as cat:
        cat.update([folder], engine=Engine(serial=True, isolate=False))
    m = M.Metric("test_peak_time_s", "Time of peak thrust (test)", "t_pk", "s", "for the test", "{:.3f}", "burn",
                 "thrust", attr="peak_time_s")
    monkeypatch.setattr(M, "REGISTRY", M.REGISTRY + [m])
    with Catalog.for_folder(folder) as cat:
        assert len(cat) == 0  # a cache without the new column: rebuilt ...
        rep = cat.update(engine=Engine(serial=True, isolate=False))  # ... from the folders it indexed
        assert len(rep.added) == 1
        assert cat.query()[0].metrics["test_peak_time_s"] == pytest.approx(nominal.perf.thrust.peak_time_s)


def test_a_run_without_usable_thrust_is_reported_with_every_other_metric(firings):
    # the only load cell fails open circuit before ignition: the burn is found on Pc
    path = firings.path("lox-ethanol-5kN", "failed-sensor", failed_channel_role="thrust", failure_at_s=-0.3)
    with open_run(path) as run:
        from hotfire.analysis.results import analyze_run

        res = analyze_run(run)
        text = format_results(run, res.performance, stability=res.stability, results=res)
        page = render_html(run, res)
    assert res.performance.thrust is None
    assert "BURN  found on the chamber pressure: no usable thrust" in text
    assert re.search(r"Total impulse\s+n/a\s+N s\s+n/a \[\d+\]", text)
    assert re.search(r"c\* efficiency\s+95\.\d\d\s+±0\.\d\d %", text)  # Pc and flows never need thrust
    assert "<h2>Burn</h2>" in page and "<img alt='chamber pressure'" in page
    assert re.search(r"<tr class='na'><td>Total impulse</td><td>n/a</td>", page)
