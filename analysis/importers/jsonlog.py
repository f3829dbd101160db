"""Plain JSON logs: a list of records, JSON Lines (one record a line), or a dict of arrays.

- ``[{"t": 0.0, "thrust": 1.2}, ...]`` or one such object per line: each key
  a column; a missing key or ``null`` is a blank cell (masked).
- ``{"time": [...], "thrust": [...], "units": {"thrust": "N"}}``: every list
  of the same length is a column; an optional ``units`` object gives units
  by column; other scalar entries are kept as the import's metadata.
Columns then go as in a table (time by name, roles and units from names).
Errors name file, line and column (the record's line and the key).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hotfire.analysis.importers import sniff
from hotfire.analysis.importers.base import ImportFailed, Mapping
from hotfire.analysis.importers.frame import Frame, pick_time, resolve, time_scale
from hotfire.analysis.importers.header import units_from_name
from hotfire.analysis.importers.timebase import CURVE_POINTS


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _elements(text: str, dec: json.JSONDecoder, start: int, close: str):
    """(value, offset) of the elements of a JSON array whose ``[`` is just before ``start``."""
    out, i, n = [], start, len(text)
    ws = " \t\r\n"
    while True:
        while i < n and text[i] in ws:
            i += 1
        if i < n and text[i] == close:
            return out, i + 1
        v, j = dec.raw_decode(text, i)
        out.append((v, i))
        i = j
        while i < n and text[i] in ws:
            i += 1
        if i < n and text[i] == ",":
            i += 1
        elif i < n and text[i] == close:
            return out, i + 1
        else:
            raise json.JSONDecodeError(f"expected ',' or '{close}'", text, i)


def _parse(p: Path, text: str):
    """Columns {key: [(value, line)]} and extra metadata."""
    dec = json.JSONDecoder()
    s = text.lstrip()
    lead = len(text) - len(s)
    cols: dict[str, list] = {}
    meta, units = {}, {}
    try:
        if s.startswith("["):
            recs, end = _elements(text, dec, lead + 1, "]")
            if text[end:].strip():
                raise json.JSONDecodeError("extra data after the list", text, end)
        elif s.startswith("{") and "\n{" in s.strip() and not _one_object(text, dec, lead):
            recs, pos = [], 0
            for k, ln in enumerate(text.splitlines(True)):
                if ln.strip():
                    recs.append((json.loads(ln), pos))
                pos += len(ln)
        elif s.startswith("{"):
            obj = dec.raw_decode(text, lead)[0]
            return _dict_of_arrays(p, text, obj)
        else:
            raise ImportFailed(f"{p}:1: not a JSON log (expected a list of records, JSON Lines, or an object of "
                               "arrays)")
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"{p}:{exc.lineno}: column {exc.colno}: invalid JSON: {exc.msg}") from None
    n = len(recs)
    for r, (rec, off) in enumerate(recs):
        if not isinstance(rec, dict):
            raise ImportFailed(f"{p}:{_line(text, off)}: record {r + 1} is not an object of named values")
        for key, v in rec.items():
            cols.setdefault(key, [(None, 0)] * r)
            cols[key].append((v, _line(text, off)))
        for key in cols:
            if len(cols[key]) < r + 1:
                cols[key].append((None, _line(text, off)))
    for key in cols:
        cols[key] += [(None, 0)] * (n - len(cols[key]))
    return cols, [_line(text, off) for _, off in recs], meta, units


def _one_object(text, dec, lead) -> bool:
    try:
        _, end = dec.raw_decode(text, lead)
    except json.JSONDecodeError:
        return False
    return not text[end:].strip()


def _dict_of_arrays(p, text, obj):
    units = obj.get("units", {}) if isinstance(obj.get("units"), dict) else {}
    arrays = {k: v for k, v in obj.items() if isinstance(v, list)}
    meta = {k: v for k, v in obj.items() if not isinstance(v, (list, dict))}
    if not arrays:
        raise ImportFailed(f"{p}:1: an object with no arrays: nothing to import")
    n = max(len(v) for v in arrays.values())
    for k, v in arrays.items():
        if len(v) != n:
            pos = text.find(json.dumps(k))
            raise ImportFailed(f"{p}:{_line(text, max(pos, 0))}: column {k!r}: {len(v)} values, the longest has {n}")
    cols = {k: [(x, 0) for x in v] for k, v in arrays.items()}
    return cols, list(range(1, n + 1)), meta, units


def _number(v, where) -> float:
    if v is None or v == "":
        return np.nan
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ImportFailed(f"{where}: {json.dumps(v)[:40]} is not a number")
    if isinstance(v, str):
        t = sniff.stamp_seconds(v)
        if t is not None:
            return t
        try:
            v = float(v)
        except ValueError:
            raise ImportFailed(f"{where}: {v!r} is not a number") from None
    v = float(v)
    return v if np.isfinite(v) else np.nan


def read_json_frame(path, m: Mapping) -> Frame:
    p = Path(path)
    text = "\n".join(sniff.read_text(p))
    cols, rows, meta, units = _parse(p, text)
    names = list(cols)
    if not names:
        raise ImportFailed(f"{p}: no records")

    def where(i, j, names=names):
        key = names[j] if j >= 0 else names[ti] if ti is not None else "time"
        line = cols[key][i][1] or rows[i]
        return f"{p}:{line}: column {key!r}" + ("" if cols[key][i][1] else f" (element {i + 1})")

    data = {}

    def column(j):
        if j not in data:
            data[j] = np.array([_number(v, where(i, j)) for i, (v, _) in enumerate(cols[names[j]])])
        return data[j]

    def monotonic(j):
        v = column(j)
        ok = np.isfinite(v)
        return ok.sum() >= 2 and bool(np.all(np.diff(v[ok]) >= 0))

    ti = None
    ti, why = pick_time(names, m, p, monotonic)
    fr = Frame(p, "json", names, np.empty((len(rows), 0)), where, rows,
               units=[units.get(k, "") if isinstance(units.get(k, ""), str) else "" for k in names],
               layout=f"JSON, {len(names)} keys, {len(rows)} records")
    if meta:
        fr.info["metadata"] = {k: v for k, v in list(meta.items())[:50]}
    if ti is not None:
        v = column(ti)
        first = next((x for x, _ in cols[names[ti]] if x is not None), None)
        kind = sniff.stamp_kind(first)
        for i, (x, _) in enumerate(cols[names[ti]]):
            if sniff.stamp_kind(x) != kind:
                raise ImportFailed(f"{where(i, ti)}: {json.dumps(x)[:40]} is not a time stamp like the first, "
                                   f"{json.dumps(first)[:40]}")
        if isinstance(first, str) and sniff.stamp_seconds(first) is not None:
            fr.wallclock = float(v[0])
            fr.t = v - v[0]
            fr.time_name = f"key {names[ti]!r}: date-time stamps, seconds from the first ({first})"
        else:
            fr.t = v * time_scale(names[ti], m, where(0, ti))
            fr.time_name = f"key {names[ti]!r} ({why}), in {m.time_units or units_from_name(names[ti]) or 's'}"
        fr.info["time_column"] = names[ti]
    else:
        fr.time_name = f"{m.rate_hz:g} Hz (--rate: the log has no time key)"
    fr.curve = fr.t is not None and len(rows) < CURVE_POINTS
    resolve(fr, m, exclude={ti} if ti is not None else set())
    fr.data = np.full((len(rows), len(names)), np.nan)
    for j in fr.keep:
        fr.data[:, j] = column(j)
    return fr
