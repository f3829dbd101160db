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
    row = re.search(r"<tr class='degraded'><td>Total impulse</td>.*?</tr>", page).group(0)
    assert "LC-THRUST over range for 0.4 s" in row
    assert re.search(r"<tr class='na'><td>Isp \(sea level, from flow\)</td><td>n/a</td>.*?no valid fuel flow", page)


def test_every_metric_carries_its_provenance(nominal):
    perf = nominal.perf
    vals = M.collect(perf)
    assert vals["pc_bar"].provenance.channels == ["PC"]
    assert vals["pc_bar"].provenance.span_s == (perf.steady.start_s, perf.steady.end_s)
    assert vals["isp_s"].provenance.channels == ["LC-THRUST", "FM-OX", "FM-F"]
    assert vals["total_impulse_Ns"].provenance.channels == ["LC-THRUST"]
