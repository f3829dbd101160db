"""A comparison as one self-contained HTML page (plots embedded as PNG) whose
tables fit the page: a block of runs per table, cells that wrap."""
from __future__ import annotations

import base64
import datetime as _dt
import html
from pathlib import Path

from hotfire.analysis import metrics as M
from hotfire.analysis.compare.plots import figures, role_title, swatches
from hotfire.analysis.compare.table import flagged
from hotfire.core.version import __version__

#: runs per results table: the reference takes one column, every other run two (value, difference)
RUNS_PER_TABLE = 4

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px;
       color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; max-width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }
td { white-space: nowrap; } th { background: #f6f6f6; vertical-align: bottom; overflow-wrap: anywhere; }
td.l, th.l { text-align: left; } th.l { white-space: nowrap; overflow-wrap: normal; } td.w { white-space: normal; overflow-wrap: anywhere; font-size: 12px; }
td.d { color: #555; font-size: 12px; } tr.ref td { font-weight: 600; } .na { color: #999; }
td.degraded { background: #fff4e0; }
.scroll { overflow-x: auto; } img { max-width: 100%; } .note { color: #555; font-size: 12.5px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
"""


def _img(alt: str, png: bytes) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _runs(cmp, sw) -> list[str]:
    e = html.escape
    p = ["<h2>Runs</h2><div class='scroll'><table><tr><th class='l'>run</th><th class='l'>rig</th>"
         "<th class='l'>article</th><th class='l'>propellants</th><th class='l'>start (UTC)</th>"
         "<th class='l'>source</th><th>ignition</th></tr>"]
    for i, s in enumerate(cmp.subjects):
        cls = " class='ref'" if i == cmp.reference else ""
        ref = " (reference)" if i == cmp.reference else ""
        p.append(f"<tr{cls}><td class='l'><span class='sw' style='background:{sw[i]}'></span>{e(s.label)}{ref}"
                 f"</td><td class='l'>{e(s.rig)}</td><td class='l'>{e(s.article)}</td>"
                 f"<td class='l'>{e(s.propellants)}</td><td class='l'>{e(s.start_time_utc[:19].replace('T', ' '))}"
                 f"</td><td class='l'>{e(s.source)}</td><td>{e(cmp.ignition_text(s))}</td></tr>")
    p.append("</table></div>")
    p.append("<h2>Channels compared, by role</h2><div class='scroll'><table><tr><th class='l'>run</th>")
    p += [f"<th class='l'>{e(r)}</th>" for r in cmp.roles]
    p.append("</tr>")
    for s in cmp.subjects:
        none = "<span class='na'>none</span>"
        cells = "".join(f"<td class='l w'>{e(s.traces[r].describe()) if r in s.traces else none}</td>"
                        for r in cmp.roles)
        p.append(f"<tr><td class='l'>{e(s.label)}</td>{cells}</tr>")
    p.append("</table></div>")
    return p


def _results(cmp, sw) -> list[str]:
    e = html.escape
    p = ["<h2>Results</h2>",
         f"<p class='note'>{e(M.CONVENTION)}. &Delta; = run minus reference, in % of the reference, "
         "&plusmn; the expanded uncertainty of the difference (root sum of squares of both runs' U). "
         "* degraded (reason in the notes).</p>"]
    others = [i for i in range(len(cmp.subjects)) if i != cmp.reference]
    for lo in range(0, max(1, len(others)), RUNS_PER_TABLE - 1):
        group = [cmp.reference] + others[lo: lo + RUNS_PER_TABLE - 1]
        p.append("<div class='scroll'><table><tr><th class='l'>metric</th><th class='l'>unit</th>")
        for i in group:
            s = cmp.subjects[i]
            span = 1 if i == cmp.reference else 2
            ref = " (reference)" if i == cmp.reference else ""
            p.append(f"<th colspan='{span}'><span class='sw' style='background:{sw[i]}'></span>{e(s.label)}{ref}</th>")
        p.append("</tr><tr><th></th><th></th>")
        p += ["<th>value ±U</th>" if i == cmp.reference else "<th>value ±U</th><th>&Delta; % ±U</th>" for i in group]
        p.append("</tr>")
        for r in cmp.rows:
            p.append(f"<tr><td class='l'>{e(r.label)}</td><td class='l'>{e(r.unit)}</td>")
            for i in group:
                c = r.cells[i]
                cls = " class='degraded'" if c.state == M.DEGRADED else ""
                vt = e(r.value_text(i)) if c.value is not None else "<span class='na'>n/a</span>"
                title = f" title='{e(c.state + ': ' + c.reason)}'" if c.reason else ""
                p.append(f"<td{cls}{title}>{vt}</td>")
                if i != cmp.reference:
                    p.append(f"<td class='d'>{e(r.diff_text(i))}</td>")
            p.append("</tr>")
        p.append("</table></div>")
    return p


def to_html(cmp) -> str:
    """A self-contained HTML report (plots embedded as PNG)."""
    e = html.escape
    figs = figures(cmp)
    sw = swatches(cmp)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    p = ["<!doctype html><html><head><meta charset='utf-8'><title>hotfire comparison</title>"
         f"<style>{_CSS}</style></head><body>",
         f"<h1>Comparison of {len(cmp.subjects)} runs</h1>",
         f"<div class='meta'>hotfire {e(__version__)} &middot; {now} &middot; aligned at "
         f"{e(cmp.align_text())} &middot; reference <b>{e(cmp.ref.label)}</b> &middot; traces in SI "
         f"units, resampled to {cmp.rate_hz:g} Hz &middot; {e(M.CONVENTION)}</div>"]
    p += _runs(cmp, sw)
    p += _results(cmp, sw)
    for role in cmp.roles:
        if role in figs:
            p.append(f"<h2>{e(role_title(role))}</h2>" + _img(role, figs[role]))
    if "metrics" in figs:
        p.append("<h2>Key results</h2>" + _img("metrics", figs["metrics"]))
    notes = flagged(cmp) + [f"{s.label}: {n}" for s in cmp.subjects for n in s.notes] + list(cmp.notes)
    if notes:
        p.append("<h2>Notes</h2><ul class='note'>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    p.append("<p class='note'>Each run's channels of a role are converted to SI (several thrust load cells tared "
             "and summed), averaged over each output interval and resampled onto the common time base; gaps in "
             "the data stay gaps. The lower panels divide each trace by its own steady level (median above half "
             "its maximum), so engines of different size compare in shape.</p>")
    p.append("</body></html>")
    return "\n".join(p)


def write_html(cmp, path) -> Path:
    """Write :func:`to_html` to ``path``."""
    path = Path(path)
    path.write_text(to_html(cmp), encoding="utf-8")
    return path
