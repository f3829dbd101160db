"""Delimited text tables (CSV, ``;`` with decimal commas, tab, whitespace; columns or rows as channels)."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from hotfire.analysis.importers import sniff
from hotfire.analysis.importers.base import Mapping
from hotfire.analysis.importers.frame import Frame, pick_time, resolve, time_scale
from hotfire.analysis.importers.header import units_from_name
from hotfire.analysis.importers.timebase import CURVE_POINTS


def read_table_frame(path, m: Mapping, fmt: str = "csv") -> Frame:
    """A text table as a :class:`Frame` (time column or stated rate, channels resolved)."""
    p = Path(path)
    tab = sniff.read_table(p)
    cols: dict[int, tuple[np.ndarray, str]] = {}

    def column(j):
        if j not in cols:
            cols[j] = sniff.numbers(tab, j)
        return cols[j]

    def monotonic(j):
        v, kind = column(j)
        ok = np.isfinite(v)
        return kind != "number" or (ok.sum() >= 2 and bool(np.all(np.diff(v[ok]) >= 0)))

    ti, why = pick_time(tab.names, m, p, monotonic)

    def where(i, j):
        return tab.where(i, ti if j == -1 else j)

    frame = Frame(p, fmt, tab.names, np.empty((tab.n, 0)), where,
                  rows=tab.lines if not tab.by_rows else list(range(1, tab.n + 1)),
                  units=[units_from_name(n) for n in tab.names], layout=tab.describe())
    if tab.preamble:
        frame.info["preamble"] = tab.preamble[:50]
    if ti is None:
        frame.time_name = f"{m.rate_hz:g} Hz (--rate: the file has no time column)"
    else:
        v, kind = column(ti)
        name = tab.names[ti]
        if kind == "stamp":
            frame.wallclock = float(v[0]) if np.isfinite(v[0]) else None
            frame.t = v - v[0]
            first = _dt.datetime.fromtimestamp(v[0], _dt.timezone.utc).isoformat(sep=" ", timespec="milliseconds")
            frame.time_name = f"column {name!r}: date-time stamps, seconds from the first ({first[:-6]})"
            frame.info["first_stamp"] = tab.cells[ti][0]
        elif kind == "time of day":
            frame.t = v - v[0]
            frame.time_name = f"column {name!r}: times of day, seconds from the first ({tab.cells[ti][0]})"
        else:
            scale = time_scale(name, m, tab.where(0, ti))
            frame.t = v * scale
            what = "row" if tab.by_rows else "column"
            frame.time_name = f"{what} {name!r} ({why}), in {m.time_units or units_from_name(name) or 's'}"
        frame.info["time_column"] = name
    frame.curve = frame.t is not None and tab.n < CURVE_POINTS
    text = {j for j in range(len(tab.names)) if j != ti and sniff.is_text(tab, j)
            and (m.given(tab.names[j], p) is None or m.given(tab.names[j], p).role in ("", "skip"))}
    for j in sorted(text):
        frame.notes.append(f"column {tab.names[j]!r}: text ({tab.cells[j][0][:20]!r}...), not imported")
    resolve(frame, m, exclude=({ti} if ti is not None else set()) | text)
    frame.data = np.full((tab.n, len(tab.names)), np.nan)
    for j in frame.keep:  # a skipped column may hold text
        frame.data[:, j] = column(j)[0]
    frame.info["layout"] = frame.layout
    return frame
