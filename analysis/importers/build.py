"""Frames (parsed files) -> one run file: time bases checked, files aligned, gaps kept, notes written."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.analysis.importers import align, timebase
from hotfire.analysis.importers.base import ImportFailed, Mapping
from hotfire.analysis.importers.frame import Frame, check_given, settle_guesses
from hotfire.analysis.importers.writer import Stream, write_run


@dataclass
class ImportReport:
    """What an import did, for the user: the run file and the lines ``hotfire import`` prints."""

    path: Path
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _mapping_lines(f: Frame, clk: timebase.Clock, shift: float) -> list[str]:
    out = [f"{f.path.name}: {f.fmt}, {f.layout}", f"  {'time':<16} <- {f.time_name}"]
    w = 16
    for sp in f.specs:
        conv = ""
        if sp.file_units != sp.units or sp.scale != 1.0 or sp.offset:
            conv = f" [{sp.file_units or 'as written'} -> {sp.units or '-'}: x {sp.scale:.6g}" + (
                f" {sp.offset:+.6g}" if sp.offset else "") + "]"
        unc = "" if sp.uncertainty else "; no uncertainty given"
        out.append(f"  {sp.role:<{w}} <- {sp.source!r} as {sp.name} ({sp.units or 'no units'}){conv}  "
                   f"({sp.why}{unc})")
    n = sum(len(b) for _, b in clk.blocks)
    clock = f"  clock: {clk.rate_hz:g} Hz, {n} samples, {clk.t_first + shift:.6g} s to " \
            f"{clk.t_first + shift + (clk.blocks[-1][0] + len(clk.blocks[-1][1]) - 1) / clk.rate_hz:.6g} s"
    out.append(clock + (f" (shifted {shift:+.4f} s)" if shift else ""))
    return out


def build(frames: list[Frame], out, m: Mapping, test_id: str | None = None, extra_source: dict | None = None,
          start_time=None) -> ImportReport:
    """Write the run file ``out`` from parsed files (the first file's clock is the run's)."""
    if not frames:
        raise ImportFailed("nothing to import")
    check_given(frames, m)
    settle_guesses(frames)
    notes: list[str] = []
    for f in frames:
        if not f.specs:
            raise ImportFailed(f"{f.path}: no channel to import (columns: {', '.join(f.names)})")
        if f.t is None:
            rate = f.rate_hz or m.rate_hz
            if not rate or rate <= 0 or not np.isfinite(rate):
                raise ImportFailed(f"{f.path}: no time column: give the sample rate with --rate HZ")
            f.t = np.arange(len(f.data)) / rate
            f.rate_hz = rate
        else:
            f.t, tn = timebase.ordered(f.t, f.where_time, m.repeated, f.rows)
            notes += [f"{f.path.name}: {x}" for x in tn]
    offsets, an, marks = align.shifts(frames, m)
    notes += an
    streams, files = [], []
    for k, f in enumerate(frames):
        kept = f.data[:, f.keep]
        rate = m.rate_hz if (m.rate_hz and f.info.get("time_column")) else None
        try:
            clk = timebase.place(f.t, kept, rate, m.gap_s, f.curve, f.rows)
        except ImportFailed as exc:
            raise ImportFailed(f"{f.path}: {exc}") from None
        if not f.info.get("time_column") and f.rate_hz and not clk.resampled:
            clk.rate_hz = float(f.rate_hz)  # the stated rate, not its float round trip
        notes += [f"{f.path.name}: {x}" for x in f.notes + clk.notes]
        st = Stream(f"s{k}", clk.rate_hz, clk.t_first + offsets[k], f.specs, clk.blocks)
        for a, b, ra, rb in clk.gaps:
            s = int(np.floor((a - clk.t_first) * clk.rate_hz)) + 1
            st.events.append(("gap", s, "", f"{f.path.name}: no samples from {a:.6g} to {b:.6g} s on its clock "
                                            f"(rows {ra}-{rb}): a gap, not interpolated"))
        if marks[k] is not None:
            te, desc = marks[k]
            st.events.append(("note", int(round((te - clk.t_first) * clk.rate_hz)), "", f"aligned here: {desc}"))
        g = timebase.describe_gaps(clk, f.path.name, "fields" if f.layout and "rows as channels" in f.layout else "lines")
        if g:
            notes.append(g)
        blanks = [(sp.name, int(np.isnan(kept[:, j]).sum())) for j, sp in enumerate(f.specs)]
        blanks = [(n, c) for n, c in blanks if c]
        if blanks:
            notes.append(f"{f.path.name}: blank or non-finite cells masked (not zero, not interpolated): "
                         + ", ".join(f"{n} {c}" for n, c in blanks))
        streams.append(st)
        files.append({"file": str(f.path), "format": f.fmt, "layout": f.layout, "time": f.time_name,
                      "rows": int(len(f.t)), "rate_hz": clk.rate_hz, "resampled": clk.resampled,
                      "gaps": [[a, b, ra, rb] for a, b, ra, rb in clk.gaps[:1000]], "shift_s": offsets[k],
                      "channels": [{"column": sp.source, "name": sp.name, "role": sp.role, "why": sp.why,
                                    "file_units": sp.file_units, "units": sp.units, "slope": sp.scale,
                                    "offset": sp.offset, "uncertainty": sp.uncertainty or "none given"}
                                   for sp in f.specs], **{k2: v for k2, v in f.info.items()}})
        f.clock = clk  # type: ignore[attr-defined]
    missing = [sp.name for f in frames for sp in f.specs if not sp.uncertainty]
    if missing:
        notes.append(f"no uncertainty given for {', '.join(missing)}: their results carry only the scatter of the "
                     "data (type A), not the sensors' (give it in the mapping's [columns] uncertainty)")
    first = frames[0]
    source = {"format": first.fmt, "file": str(first.path), "resampled": any(x["resampled"] for x in files),
              "files": files, "notes": notes, **(extra_source or {})}
    if first.info.get("time_column"):
        source["time_column"] = first.info["time_column"]
    if any(x["resampled"] for x in files):
        source["resampling"] = "linear interpolation within each stretch between gaps"
    if notes:
        prev = m.metadata.get("import_note")
        m.metadata["import_note"] = "; ".join(([prev] if prev else []) + notes)
    path = write_run(out, streams, m, source, test_id or first.path.stem, start_time)
    rep = ImportReport(Path(path), notes=notes)
    for k, f in enumerate(frames):
        rep.lines += _mapping_lines(f, f.clock, offsets[k])  # type: ignore[attr-defined]
    return rep
