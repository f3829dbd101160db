"""The report's run-derived parts (analysis/reportparts.py) as the HTML shows them: events, instruments,
results in the rig's units, limit lines, sign-off. The HTML is parsed (html.parser), not searched."""
import re
import zlib
from html.parser import HTMLParser

import h5py
import numpy as np
import pytest

from hotfire.analysis import report
from hotfire.analysis.results import analyze_run
from hotfire.cli import main
from hotfire.core.rig import load_rig, parse_rig
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import LimitChecker
from hotfire.daq.recorder import Recorder
from hotfire.daq.sources import open_source
from simfirings import scenario_for

LBF_N = 4.4482216152605  # N per lbf (exact, by definition of the pound-force)
PSI_PA = 6894.757293168  # Pa per psi


class Tables(HTMLParser):
    """Each ``<h2>`` section's tables as lists of rows of cell texts."""

    def __init__(self, page):
        super().__init__()
        self.sections, self._title, self._in_h2, self._cell = {}, None, False, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._in_h2, self._title = True, ""
        elif tag == "table" and self._title is not None:
            self.sections.setdefault(self._title, []).append([])
        elif tag == "tr" and self._title is not None:
            self.sections[self._title][-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        elif tag in ("td", "th") and self._cell is not None and self._title is not None:
            self.sections[self._title][-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._in_h2:
            self._title += data
        elif self._cell is not None:
            self._cell += data

    def table(self, section, i=0):
        """(headers, rows) of the ``i``-th table of ``section``."""
        t = self.sections[section][i]
        return t[0], t[1:]


def _rig():
    """The 100 kN rig (psi, lbf) with one load cell's calibration expired before any run of now and one not."""
    text = load_rig("lox-rp1-100kN").text
    a = 'serial = "LC-A-20931"\ncal_date = 2026-01-20\n'
    b = 'serial = "LC-B-20932"\ncal_date = 2026-01-20\n'
    assert a in text and b in text
    text = text.replace(a, a + "cal_due = 2026-01-21\n").replace(b, b + "cal_due = 2099-01-20\n")
    return parse_rig(text, "<rp1 with cal_due>")


@pytest.fixture(scope="module")
def over(tmp_path_factory):
    """An overpressure firing of the 100 kN rig recorded with the limit checker: Pc and the total
    thrust cross their warnings and redlines, then clear."""
    out = tmp_path_factory.mktemp("report")
    rig = _rig()
    src = open_source(rig, "simulator", scenario=scenario_for("overpressure"))
    s = Acquisition(rig, src, [Recorder(out), LimitChecker()], test_id="rp1-over").run()
    assert s.error is None
    with open_run(s.path) as run:
        res = analyze_run(run)
        page = report.render_html(run, res, conductor="A. Conductor")
    return s.path, res, page


def test_the_events_table_lists_every_event_of_the_file_with_its_time_from_T0(over):
    path, _, page = over
    with h5py.File(path, "r") as f:  # the file's own events table, read without hotfire's reader
        ev = f["events"][()]
        name = lambda x: x.decode() if isinstance(x, bytes) else str(x)  # noqa: E731
        t0 = [e["time_s"] for e in ev if name(e["kind"]) == "T0"][0]
        want = sorted(((float(e["time_s"]) - t0, name(e["kind"]), name(e["channel"])) for e in ev))
    head, rows = Tables(page).table("Events")
    assert head[:3] == ["time from T0", "kind", "channel"]
    assert [(r[0], r[1], r[2]) for r in rows] == [(f"{t:+.3f} s", k, c) for t, k, c in want]
    kinds = [r[1] for r in rows]
    assert {"T0", "warning", "redline", "clear", "cutoff"} <= set(kinds)
    assert rows[0][:2] == ["+0.000 s", "T0"] and rows[-1][:2] == ["+2.500 s", "cutoff"]  # the scenario's 2.5 s burn
    assert ("redline", "PC_MAIN") in {(r[1], r[2]) for r in rows}


def test_the_instrument_list_gives_serials_ranges_and_flags_an_expired_calibration(over):
    _, _, page = over
    head, rows = Tables(page).table("Instruments")
    by = {r[0]: dict(zip(head, r)) for r in rows}
    assert set(by) >= {"THRUST_A", "THRUST_B", "PC_MAIN", "PC_HF", "T_WALL_1"}
    assert by["THRUST_A"]["serial"] == "LC-A-20931" and by["PC_MAIN"]["serial"] == "PT-C-118"
    assert by["THRUST_A"]["physical channel"] == "PXI1Slot2/ai0"
    assert "EXPIRED" in by["THRUST_A"]["calibrated"] and "2026-01-20" in by["THRUST_A"]["calibrated"]
    assert "EXPIRED" not in by["THRUST_B"]["calibrated"] and "due 2099-01-20" in by["THRUST_B"]["calibrated"]
    # the rig file: 150 psi/V over 0-10 V; a 15,000 lbf bridge cell over +-3 mV/V
    assert by["PC_MAIN"]["range"] == "0 to 1,500 psi (0 to 10 V)"
    assert by["THRUST_A"]["range"].startswith("-15,000 to 15,000 lbf")
    assert by["THRUST_A"]["uncertainty (rig file, standard, k = 1)"] == "0.1 % of reading + 0.02 % of full scale"


def _num(text):
    return float(text.split()[0].replace(",", ""))


def test_results_are_shown_in_the_rig_units_beside_si(over):
    _, res, page = over
    head, rows = Tables(page).table("Thrust")
    col = head.index("in the rig's units, ±U (k=2)")
    imp = [r for r in rows if r[0].startswith("Total impulse")][0]
    assert imp[col].endswith(" lbf s")
    value, U = imp[col].removesuffix(" lbf s").split(" ± ")
    I = res.performance.thrust.total_impulse_Ns
    assert _num(value) == pytest.approx(I / LBF_N, abs=0.05)  # shown to 0.1 lbf s
    assert _num(U) > 0
    steady = Tables(page).table("Steady state")
    h, r = steady
    pc = [x for x in r if x[0] == "Chamber pressure"][0]
    pc_bar = res.performance.plateaus[0].pc_bar
    assert pc[h.index("in the rig's units, ±U (k=2)")].endswith(" psi")
    assert _num(pc[h.index("in the rig's units, ±U (k=2)")]) == pytest.approx(pc_bar * 1e5 / PSI_PA, abs=0.006)
    # the rig's nominal Pc is 1,000 psi (68.9476 bar): the simulated plateau sits on it
    assert _num(pc[h.index("in the rig's units, ±U (k=2)")]) == pytest.approx(1000.0, rel=0.003)


def test_a_metric_rig_gets_no_second_unit_column(firings):
    nominal = firings.get("lox-ethanol-5kN", "nominal")
    with open_run(nominal.path) as run:
        page = report.render_html(run, nominal.results)
    head, _ = Tables(page).table("Thrust")
    assert "in the rig's units, ±U (k=2)" not in head


def test_the_plots_draw_each_channels_limits_as_labelled_dashed_lines(over, monkeypatch):
    path, res, _ = over
    figs = []
    monkeypatch.setattr(report, "_png", lambda fig: figs.append(fig) or "")
    with open_run(path) as run:
        report.plot_thrust(run, res.performance)
        report.plot_pressure(run, res.performance)
    thrust, pressure = (f.axes[0] for f in figs)

    def dashed_at(ax):
        return {round(float(ln.get_ydata()[0]), 2) for ln in ax.lines
                if ln.get_linestyle() not in ("-", "None", "none") and len(set(ln.get_ydata())) == 1}

    # the rig: F_TOTAL redline 27,000 lbf, warning 25,000 lbf (in kN); PC_MAIN 1,300 / 1,150 psi (in bar)
    assert {round(27000 * LBF_N / 1e3, 2), round(25000 * LBF_N / 1e3, 2)} <= dashed_at(thrust)
    assert {round(1300 * PSI_PA / 1e5, 2), round(1150 * PSI_PA / 1e5, 2)} <= dashed_at(pressure)
    labels = [t.get_text() for t in pressure.texts]
    assert "PC_MAIN redline max 1,300 psi (89.63 bar)" in labels


def test_the_sign_off_block_has_the_names_given_and_blanks_to_sign(over):
    _, _, page = over
    head, rows = Tables(page).table("Sign-off")
    assert head == ["", "name", "signature", "date"]
    by = {r[0]: r for r in rows}
    assert by["Test conductor"][1] == "A. Conductor"
    assert set(by["Reviewer"][1]) == {"_"} and set(by["Test conductor"][2]) == {"_"}


def pdf_pages_and_text(path):
    """(page count, the text of the ``(...) Tj`` strings of every content stream, one line per string)."""
    data = open(path, "rb").read()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        raw = m.group(1)
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            continue
        for s in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", raw):
            s = re.sub(rb"\\([()\\])", rb"\1", s)
            out.append(re.sub(rb"\\(\d{3})", lambda g: bytes([int(g.group(1), 8)]), s).decode("latin-1"))
    return pages, "\n".join(out)


def test_the_pdf_holds_the_events_serials_and_rig_units(over, tmp_path):
    path, _, _ = over
    out = tmp_path / "r.pdf"
    assert main(["analyze", str(path), "--pdf", str(out), "--conductor", "A. Conductor", "--no-truth"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    pages, text = pdf_pages_and_text(out)
    assert pages >= 4  # text pages, then the five plots two a page
    for s in ("LC-A-20931", "LC-B-20932", "PT-C-118", "EXPIRED", "redline", "+2.500 s", "cutoff", "lbf s", "psi",
              "A. Conductor", "Test conductor", "k = 2"):
        assert s in text, s
    assert re.search(r"\+0\.\d{3} s\s+redline\s+PC_MAIN", text)


def test_one_uncertainty_convention_in_the_terminal_the_json_and_the_report(over, capsys):
    """Every ±U is the expanded one, k = 2: twice the standard uncertainty the GUM computation keeps."""
    import json

    path, res, page = over
    u1 = res.performance.uncertainty["total_impulse_Ns"]  # standard, k = 1
    assert main(["analyze", str(path), "--json", "--no-truth"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["uncertainty_convention"]["k"] == 2.0
    U_json = d["metrics"]["burn"]["total_impulse_Ns"]["U"]
    assert U_json == pytest.approx(2 * u1, rel=1e-9)
    assert main(["analyze", str(path), "--no-truth"]) == 0
    term = capsys.readouterr().out
    assert "expanded uncertainty, k = 2 (~95 %)" in term
    line = [ln for ln in term.splitlines() if ln.strip().startswith("Total impulse")][0]
    U_term = _num(re.search(r"±([\d,.]+)", line).group(1))
    head, rows = Tables(page).table("Thrust")
    U_html = _num([r for r in rows if r[0].startswith("Total impulse")][0][head.index("±U (k=2)")].lstrip("±"))
    assert U_term == U_html == pytest.approx(2 * u1, abs=0.5)  # both shown to 1 N s
