"""Files that share no clock, put on one: each aligned on an event stated in its own channels.

``--align "thrust>50N"`` (repeatable, one per file): the event is the first
time the channel (its name, column or role) rises more than 50 N above its
starting level (the median of the file's first second) and stays there for
``HOLD`` samples in a row, so a single spike does not count; ``<`` is a fall
(``pc<-2bar``). The time is interpolated between the two samples around the
crossing. The first file's clock is the run's; every other file is shifted
so that its event falls at the first file's. ``--offset FILE=SECONDS``
shifts a file by a known amount (after any alignment). Files whose stamps
are all date-times share the wall clock and need neither.
"""
from __future__ import annotations

import re

import numpy as np

from hotfire.analysis.importers.base import ImportFailed, Mapping
from hotfire.analysis.importers.frame import Frame
from hotfire.analysis.importers.header import clean_name, to_si_affine

HOLD = 3  # samples the condition must hold in a row
_EXPR = re.compile(r"^\s*([^<>]+?)\s*([<>])\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\s\d].*)?$")


def parse_align(text: str) -> tuple[str, str, float, str]:
    """``(channel, op, value, units)`` of ``CHANNEL>VALUE[UNITS]``."""
    m = _EXPR.match(text)
    if not m:
        raise ImportFailed(f"--align {text!r}: expected CHANNEL>VALUE[UNITS] or CHANNEL<VALUE[UNITS], "
                           "e.g. thrust>50N")
    return m.group(1), m.group(2), float(m.group(3)), (m.group(4) or "").strip()


def _column(frame: Frame, key: str) -> int | None:
    """The channel ``key`` names: its column, name or role (any case), else the one whose name contains it."""
    k = key.lower()
    for j, sp in enumerate(frame.specs):
        if k in (sp.source.lower(), sp.name.lower(), sp.role, clean_name(sp.source).lower()):
            return j
    part = [j for j, sp in enumerate(frame.specs) if k in sp.name.lower()]
    return part[0] if len(part) == 1 else None


def event_time(frame: Frame, text: str) -> tuple[float, str] | None:
    """File time of the stated event in ``frame`` (None if the frame has no such channel), and a description."""
    key, op, value, units = parse_align(text)
    j = _column(frame, key)
    if j is None:
        return None
    sp = frame.specs[j]
    if units:
        si, scale, offset, _ = to_si_affine(units)
        if si != sp.units:
            raise ImportFailed(f"--align {text!r}: {units!r} is not a unit of {sp.name} ({sp.units or 'no units'})")
        thr = value * scale  # a difference from the starting level: no offset
    else:
        thr = value
    t = frame.t
    v = frame.eu(j)
    ok = np.isfinite(v)
    if ok.sum() < HOLD + 1:
        raise ImportFailed(f"{frame.path}: --align {text!r}: {sp.name} has fewer than {HOLD + 1} valid samples")
    first = ok & (t <= t[0] + 1.0)
    base = float(np.median(v[first] if first.sum() >= 3 else v[ok][:3]))
    d = np.where(ok, v - base, np.nan)
    cond = (d > thr) if op == ">" else (d < thr)
    run = np.convolve(cond.astype(int), np.ones(HOLD, int), "valid") == HOLD
    hits = np.flatnonzero(run)
    if not hits.size:
        raise ImportFailed(f"{frame.path}: --align {text!r}: {sp.name} never goes {'above' if op == '>' else 'below'} "
                           f"its starting level ({base:.6g} {sp.units}) {'+' if thr >= 0 else ''}{thr:.6g} {sp.units} "
                           f"for {HOLD} samples in a row (range of the file: {np.nanmin(v):.6g} to {np.nanmax(v):.6g})")
    i = int(hits[0])
    te = float(t[i])
    if i > 0 and np.isfinite(d[i - 1]) and d[i] != d[i - 1]:
        te = float(t[i - 1] + (thr - d[i - 1]) / (d[i] - d[i - 1]) * (t[i] - t[i - 1]))
    u = units or sp.units
    desc = (f"{sp.name} {'rose' if op == '>' else 'fell'} {abs(value):g} {u} {'above' if op == '>' else 'below'} "
            f"its starting level ({base:.5g} {sp.units}) at {te:.4f} s on its clock (line {frame.rows[i]})")
    return te, desc


def shifts(frames: list[Frame], m: Mapping) -> tuple[list[float], list[str], list]:
    """Seconds added to each frame's clock to put it on the run's, what was done, and each frame's
    alignment event ``(file time, description)`` or None."""
    n = len(frames)
    out, notes = [0.0] * n, []
    events: list[tuple[float, str] | None] = [None] * n
    if n > 1 or m.align:
        events = []
        for f in frames:
            found = [(text, ev) for text in m.align if (ev := event_time(f, text)) is not None]
            if len(found) > 1:
                raise ImportFailed(f"{f.path}: several --align events name its channels "
                                   f"({', '.join(t for t, _ in found)}): give one per file")
            events.append(found[0][1] if found else None)
        unused = [text for text in m.align
                  if not any(_column(f, parse_align(text)[0]) is not None for f in frames)]
        if unused:
            chans = "; ".join(f"{f.path.name}: {', '.join(sp.name for sp in f.specs)}" for f in frames)
            raise ImportFailed(f"--align {unused[0]!r}: no file has that channel (channels: {chans})")
        if m.align:
            ref = events[0]
            for k, (f, ev) in enumerate(zip(frames, events)):
                if ev is None and (k == 0 or m.offset_for(f.path) is None):
                    raise ImportFailed(f"{f.path}: no --align event names one of its channels "
                                       f"({', '.join(sp.name for sp in f.specs)}): give one, or --offset "
                                       f"{f.path.name}=SECONDS")
                if ev is not None and ref is not None:
                    out[k] = ref[0] - ev[0]
                    notes.append(f"{f.path.name}: aligned: {ev[1]}" + (f"; shifted {out[k]:+.4f} s" if k else ""))
        elif all(f.wallclock is not None for f in frames):
            w0 = frames[0].wallclock
            for k, f in enumerate(frames):
                out[k] = f.wallclock - w0
            notes.append("files aligned on their date-time stamps (one wall clock)")
        elif not all(m.offset_for(f.path) is not None for f in frames[1:]):
            chans = "; ".join(f"{f.path.name}: {', '.join(f'{sp.name} ({sp.role})' for sp in f.specs)}"
                              for f in frames)
            raise ImportFailed(f"{', '.join(f.path.name for f in frames)}: these files share no clock: align them "
                               "on an event in each (--align \"thrust>50N\" --align \"chamber_pressure>2bar\") or give "
                               f"--offset FILE=SECONDS for each file after the first (channels: {chans})")
    for k, f in enumerate(frames):
        off = m.offset_for(f.path)
        if off is not None:
            out[k] += off
            notes.append(f"{f.path.name}: shifted {off:+g} s (--offset)")
    return out, notes, events
