"""The report as a PDF on A4 pages (``hotfire analyze RUN --pdf FILE``), for the archive.

The same parts as the HTML report (:mod:`hotfire.analysis.report`): head and uncertainty
convention, results with the rig's units, events, instruments, notes, sign-off, then the same
plots, one or two a page. Text is set in the PDF's standard Courier (so columns align and the
text can be searched and extracted); plots are embedded at 200 dpi.
"""
from __future__ import annotations

import base64
import io

from hotfire.analysis import metrics as M
from hotfire.analysis import report as R
from hotfire.analysis import reportparts as P
from hotfire.analysis.textreport import rows as _rows

A4 = (8.27, 11.69)  # inches
LINES = 86  # text lines a page at 7 pt


def _columns(headers, rows) -> list[str]:
    """A text table with columns padded to their widest cell (long cells cut at 75 characters)."""
    cells = [[str(c)[:75] for c in r] for r in [headers, *rows]]
    w = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in cells]
    return [out[0], "-" * len(max(out, key=len))] + out[1:]


def text_lines(run, res, conductor=None, reviewer=None) -> list[str]:
    """The report's text, line by line."""
    m = run.metadata
    out = [f"Test {run.test_id}   rig {run.rig_name}   article {run.article.serial}",
           f"{str(m.get('start_time_utc', ''))[:19].replace('T', ' ')} UTC   {run.path}", M.CONVENTION, ""]
    perf = res.performance
    if perf is None:
        out += ["No thrust results."] + [f"  {n}" for n in res.notes] + [""]
    else:
        ctx = M.label_context(perf)
        sections = [("Burn", M.section("burn", perf))] + [
            (f"Steady window {w.start_s:+.3f} to {w.end_s:+.3f} s", M.section("steady", w, perf)) for w in perf.plateaus]
        for title, vals in sections:
            rows = [(lab, v, u, unit, P.in_rig_units(run, val), flag) for lab, v, u, unit, _t, _e, flag, val
                    in _rows(vals, None, ctx)]
            out += [title] + _columns(("quantity", "value", "±U (k=2)", "unit", "in the rig's units", ""), rows) + [""]
        if res.stability is not None:
            out += [f"Combustion stability: {res.stability.verdict.upper()}", ""]
    out += ["Events (times from T0)"] + _columns(P.EVENT_HEADERS, P.event_rows(run)) + [""]
    inst, h = P.instrument_rows(run), P.INSTRUMENT_HEADERS  # in two tables: one is wider than A4
    out += ["Instruments"] + _columns(h[:5], [r[:5] for r in inst]) + [""]
    out += _columns(h[:1] + h[5:], [r[:1] + r[5:] for r in inst]) + [""]
    notes = ([n for n in perf.notes if not n.startswith("sensor ")] if perf else []) + res.notes
    if notes:
        out += ["Notes"] + [f"- {n[:110]}" for n in dict.fromkeys(notes)] + [""]
    out += ["Sign-off"] + _columns(("", "name", "signature", "date"), P.signoff_rows(conductor, reviewer))
    return out


def _plots(run, res) -> list[tuple[str, str]]:
    """(title, base64 PNG) of the HTML report's plots."""
    perf, out = res.performance, []
    if perf is None:
        return out
    if perf.thrust is not None:
        out.append(("Thrust", R.plot_thrust(run, perf)))
    for title, fn in (("Chamber pressure", R.plot_pressure), ("Mass flows and O/F", R.plot_flows),
                      ("Efficiencies over time", R.plot_efficiency)):
        png = fn(run, perf)
        if png:
            out.append((title, png))
    png = R.plot_stability(res.stability, run)
    if png:
        out.append(("Combustion stability", png))
    return out


def write_pdf(run, res, path, conductor=None, reviewer=None) -> int:
    """Write the report of ``res`` as a PDF to ``path``; return its number of pages."""
    plt = R._mpl()
    import matplotlib.image as mpimg
    from matplotlib.backends.backend_pdf import PdfPages

    import logging

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # the core fonts have no files: expected
    lines = text_lines(run, res, conductor, reviewer)
    with plt.rc_context({"pdf.use14corefonts": True, "savefig.dpi": 200}), \
            PdfPages(path, metadata={"Title": f"{run.test_id}: hotfire report"}) as pdf:
        n = 0
        for i in range(0, len(lines), LINES):
            fig = plt.figure(figsize=A4)
            fig.text(0.05, 0.97, "\n".join(lines[i:i + LINES]), va="top", ha="left", fontsize=7,
                     family="monospace", linespacing=1.25)
            fig.text(0.95, 0.02, f"{run.test_id}  page {n + 1}", ha="right", fontsize=7)
            pdf.savefig(fig)
            plt.close(fig)
            n += 1
        plots = _plots(run, res)
        for i in range(0, len(plots), 2):
            fig = plt.figure(figsize=A4)
            for j, (title, png) in enumerate(plots[i:i + 2]):
                ax = fig.add_axes((0.04, 0.52 - 0.47 * j, 0.92, 0.44))
                ax.imshow(mpimg.imread(io.BytesIO(base64.b64decode(png)), format="png"))
                ax.set_axis_off()
                ax.set_title(title, loc="left", fontsize=10)
            fig.text(0.95, 0.02, f"{run.test_id}  page {n + 1}", ha="right", fontsize=7)
            pdf.savefig(fig)
            plt.close(fig)
            n += 1
    return n
