"""The metrics of a comparison: each registered key metric
(:mod:`hotfire.analysis.metrics`, level 1) of every subject, its difference
from the reference and the expanded uncertainty (k = 2) of that difference;
as rows and as a terminal table whose columns fit their contents."""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass

from hotfire.analysis import metrics as M


@dataclass
class MetricRow:
    """One metric across the subjects. Values and differences are in the metric's stored unit;
    ``U`` and ``diff_U`` are expanded uncertainties (k = 2)."""

    metric: M.Metric
    cells: list  # M.Value per subject
    diff: list  # value - reference value, None where n/a
    diff_pct: list
    diff_U: list  # expanded (k = 2): root sum of squares of both U's

    @property
    def key(self) -> str:
        return self.metric.key

    @property
    def label(self) -> str:
        return self.metric.short

    @property
    def unit(self) -> str:
        return self.metric.display_unit

    @property
    def values(self) -> list:
        return [c.value for c in self.cells]

    @property
    def U(self) -> list:
        return [c.U for c in self.cells]

    def value_text(self, i: int) -> str:
        """"4,957.6 ±10.7", "n/a", a degraded value marked "*"."""
        c = self.cells[i]
        s = c.text()
        if c.value is not None and c.U:
            s += " " + c.u_text()
        return s + (" *" if c.state == M.DEGRADED else "")

    def diff_text(self, i: int) -> str:
        """"+1.23 % ±0.40" (of the reference value), or ""."""
        if self.diff_pct[i] is None:
            return ""
        s = f"{self.diff_pct[i]:+.2f} %"
        ref = next((c.value for c, d in zip(self.cells, self.diff) if d is None and c.value is not None), None)
        if self.diff_U[i] is not None and ref:
            s += f" ±{abs(self.diff_U[i] / ref) * 100:.2f}"
        return s

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "unit": self.metric.unit, "symbol": self.metric.symbol,
                "values": [c.to_dict() for c in self.cells], "diff": self.diff, "diff_pct": self.diff_pct,
                "diff_U": self.diff_U}


def metric_rows(subjects, ref: int) -> list[MetricRow]:
    """Rows of the registered key metrics that at least one subject has (or says why not)."""
    rows = []
    for m in M.metrics(level=1):
        cells = [s.metrics.get(m.key) or M.Value(m, None, state=M.NA) for s in subjects]
        if all(c.value is None for c in cells):
            continue
        rv, rU = cells[ref].value, cells[ref].U
        diff, pct, dU = [], [], []
        for i, c in enumerate(cells):
            if i == ref or c.value is None or rv is None:
                diff.append(None), pct.append(None), dU.append(None)
                continue
            diff.append(c.value - rv)
            pct.append((c.value - rv) / rv * 100 if rv else None)
            dU.append(math.hypot(c.U, rU) if c.U is not None and rU is not None else None)
        rows.append(MetricRow(m, cells, diff, pct, dU))
    return rows


def _columns(heads: list[str], body: list[list[str]], left: int) -> list[str]:
    """Rows of cells as text columns two spaces apart, each as wide as its widest cell;
    the first ``left`` columns flush left, the others right."""
    widths = [max(len(r[j]) for r in [heads, *body]) for j in range(len(heads))]
    out = []
    for r in [heads, *body]:
        out.append("  " + "  ".join(c.ljust(w) if j < left else c.rjust(w)
                                    for j, (c, w) in enumerate(zip(r, widths))).rstrip())
    return out


def _groups(cmp, width: int) -> list[list[int]]:
    """Subjects per block so that a block's table fits ``width`` columns."""
    label_w = max((len(r.label) for r in cmp.rows), default=10) + max((len(r.unit) for r in cmp.rows), default=4) + 6
    groups, cur, used = [], [], label_w
    for i, s in enumerate(cmp.subjects):
        vw = max([len(s.label)] + [len(r.value_text(i)) for r in cmp.rows]) + 2
        dw = 0 if i == cmp.reference else max([len("Δ vs ref")] + [len(r.diff_text(i)) for r in cmp.rows]) + 2
        if cur and used + vw + dw > width:
            groups.append(cur)
            cur, used = [], label_w
        cur.append(i)
        used += vw + dw
    return groups + ([cur] if cur else [])


def metrics_table(cmp, width: int | None = None) -> list[str]:
    """The metrics as aligned text blocks, as many subjects per block as fit ``width``
    (default: the terminal's, at least 100)."""
    width = width or max(100, shutil.get_terminal_size((120, 24)).columns)
    lines = []
    for group in _groups(cmp, width):
        heads = ["metric", "unit"]
        for i in group:
            heads.append(cmp.subjects[i].label + (" *ref" if i == cmp.reference else ""))
            if i != cmp.reference:
                heads.append("Δ vs ref")
        body = []
        for r in cmp.rows:
            cells = [r.label, r.unit]
            for i in group:
                cells.append(r.value_text(i))
                if i != cmp.reference:
                    cells.append(r.diff_text(i))
            body.append(cells)
        lines += _columns(heads, body, 2) + [""]
    return lines


def flagged(cmp) -> list[str]:
    """One line per subject and reason of its degraded or n/a values
    ("KR-over: Total impulse, Peak thrust degraded: no valid load cell ...")."""
    groups: dict = {}
    for r in cmp.rows:
        for s, c in zip(cmp.subjects, r.cells):
            if c.state == M.DEGRADED or (c.state == M.NA and c.reason):
                groups.setdefault((s.label, c.state, c.reason), []).append(r.label)
    return [f"{who}: {', '.join(labels)} {state}" + (f": {reason}" if reason else "")
            for (who, state, reason), labels in groups.items()]
