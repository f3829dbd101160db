"""LabVIEW measurement files (.lvm, text): a file header, then segments each with a header block.

Read as NI's specification describes them: the file header (up to the first
``***End_of_Header***``) gives ``Separator`` (Tab or Comma),
``Decimal_Separator`` and ``X_Columns`` (No: time from each segment's
``X0`` and ``Delta_X``; One: an ``X_Value`` column; Multi: one before every
channel, the first taken as the time). Each segment's header gives
``Channels``, ``X0``, ``Delta_X``, ``Date``/``Time`` and ``Y_Unit_Label``,
then a line of column names and the data. Segments join on one clock: one
whose time starts again from zero is placed by its Date and Time stamps;
the space between segments is a gap like any other.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from hotfire.analysis.importers.base import ImportFailed, Mapping
from hotfire.analysis.importers.frame import Frame, resolve
from hotfire.analysis.importers.sniff import read_text

END = "***End_of_Header***"


def _num(x: str, dec: str, where: str) -> float:
    x = x.strip()
    if not x:
        return np.nan
    try:
        v = float(x.replace(dec, ".") if dec != "." else x)
    except ValueError:
        raise ImportFailed(f"{where}: {x!r} is not a number") from None
    return v if np.isfinite(v) else np.nan


def _stamp(date: str, time: str) -> float | None:
    try:
        d = _dt.datetime.strptime(date.strip(), "%Y/%m/%d").replace(tzinfo=_dt.timezone.utc)
        h, mi, s = time.strip().replace(",", ".").split(":")
        return d.timestamp() + int(h) * 3600 + int(mi) * 60 + float(s)
    except (ValueError, TypeError):
        return None


def read_lvm_frame(path, m: Mapping) -> Frame:
    p = Path(path)
    lines = read_text(p)
    if not lines or not lines[0].startswith("LabVIEW Measurement"):
        raise ImportFailed(f"{p}:1: not a LabVIEW measurement file (it must start with 'LabVIEW Measurement')")
    i, head = 1, {}
    while i < len(lines) and not lines[i].startswith(END):
        parts = lines[i].replace(",", "\t").split("\t") if "\t" not in lines[i] else lines[i].split("\t")
        if parts and parts[0].strip():
            head[parts[0].strip()] = parts[1].strip() if len(parts) > 1 else ""
        i += 1
    if i >= len(lines):
        raise ImportFailed(f"{p}: no {END} line ending the file header")
    sep = {"tab": "\t", "comma": ",", "": "\t"}.get(head.get("Separator", "Tab").lower(), head.get("Separator"))
    dec = head.get("Decimal_Separator", ".") or "."
    xcols = head.get("X_Columns", "One")
    if xcols not in ("No", "One", "Multi"):
        raise ImportFailed(f"{p}: X_Columns {xcols!r}: expected No, One or Multi")
    i += 1
    names: list[str] | None = None
    units: list[str] = []
    ts, vals, rows, seg_notes = [], [], [], []
    seg, last_t, first_stamp = 0, None, None
    while i < len(lines):
        # a segment header block
        sh = {}
        while i < len(lines) and not lines[i].startswith(END):
            f = lines[i].split(sep)
            if f and f[0].strip():
                sh[f[0].strip()] = [x.strip() for x in f[1:]]
            i += 1
        if i >= len(lines):
            if sh:
                raise ImportFailed(f"{p}:{i}: a segment header without its {END} line")
            break
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines):
            break
        seg += 1
        cols = [x.strip() for x in lines[i].split(sep)]
        head_line = i + 1
        if cols and cols[-1] == "Comment":
            cols = cols[:-1]
        xi = [j for j, c in enumerate(cols) if c == "X_Value"] if xcols != "No" else []
        yi = [j for j, c in enumerate(cols) if j not in xi and (xcols != "No" or j > 0)]
        if xcols == "One" and xi != [0]:
            raise ImportFailed(f"{p}:{head_line}: X_Columns is One but the first column is not X_Value")
        seg_names = [cols[j] or f"ch{j}" for j in yi]
        if names is None:
            names = seg_names
            yu = sh.get("Y_Unit_Label", [])
            units = [(yu[k] if k < len(yu) and yu[k] != "Default SI Unit" else "") for k in range(len(names))]
        elif seg_names != names:
            raise ImportFailed(f"{p}:{head_line}: segment {seg} has channels {seg_names}, the first had {names}")
        i += 1
        start = i
        data = []
        while i < len(lines) and lines[i].strip() and not lines[i].split(sep)[0].strip().isalpha():
            f = lines[i].split(sep)
            if len(f) < len(cols):
                raise ImportFailed(f"{p}:{i + 1}: {len(f)} fields, the column names have {len(cols)}")
            data.append(([_num(f[j], dec, f"{p}:{i + 1}: column {cols[j]!r}") for j in xi[:1]],
                         [_num(f[j], dec, f"{p}:{i + 1}: column {cols[j]!r}") for j in yi]))
            rows.append(i + 1)
            i += 1
        if not data:
            continue
        if xi:
            t = np.array([d[0][0] for d in data])
        else:
            try:
                x0 = float(sh.get("X0", ["0"])[0].replace(dec, "."))
                dx = float(sh.get("Delta_X", [""])[0].replace(dec, "."))
            except (ValueError, IndexError):
                raise ImportFailed(f"{p}:{start}: X_Columns is No but the segment gives no X0 and Delta_X") from None
            t = x0 + np.arange(len(data)) * dx
        stamp = _stamp((sh.get("Date") or [head.get("Date", "")])[0], (sh.get("Time") or [head.get("Time", "")])[0])
        if first_stamp is None:
            first_stamp = stamp
        if last_t is not None and len(t) and t[0] <= last_t:
            if stamp is None or first_stamp is None:
                raise ImportFailed(f"{p}:{start}: segment {seg}'s time starts again ({t[0]:g} s after "
                                   f"{last_t:g} s) and it gives no Date and Time to place it")
            t = t + (stamp - first_stamp)
            seg_notes.append(f"segment {seg} placed by its Date/Time stamp ({stamp - first_stamp:+.6g} s)")
        last_t = float(t[-1])
        ts.append(t)
        vals += [d[1] for d in data]
    if not vals or names is None:
        raise ImportFailed(f"{p}: no data rows")
    t = np.concatenate(ts)
    rowmap = rows

    def where(r, j):
        col = "X_Value" if j == -1 else names[j]
        return f"{p}:{rowmap[r]}: column {col!r}"

    fr = Frame(p, "lvm", names, np.array(vals, dtype=float), where, rows, units=units, t=t,
               time_name="X_Value column" if xcols != "No" else "each segment's X0 + Delta_X",
               layout=f"LabVIEW measurement, {seg} segment(s), X_Columns {xcols}, {len(vals)} rows",
               notes=[f"{p.name}: {n}" for n in seg_notes])
    fr.info.update({"time_column": "X_Value", "lvm_header": {k: v for k, v in head.items()}})
    if xcols == "Multi":
        fr.notes.append(f"{p.name}: X_Columns Multi: the first X column is the time of every channel")
    resolve(fr, m)
    return fr
