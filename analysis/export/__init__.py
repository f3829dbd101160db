"""Channels of a run file out to other tools (``hotfire export``).

Each stream keeps its own rate unless alignment is asked for: a 10 kHz
pressure and a 100 Hz temperature are two tables (two CSV files, two TDMS
groups, two MATLAB structs), not one with the slow channel interpolated
without saying so. A rate change goes through an anti-alias filter
(:mod:`hotfire.analysis.export.resample`) and is refused where it would pass
a channel's content distorted. Formats (by the output's suffix, or
``fmt``): CSV with units in the header, NI TDMS (npTDMS), MATLAB .mat
(scipy.io), and RASP .eng for a motor's thrust curve. Times are seconds from
T0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.analysis.export import resample as rs
from hotfire.core.errors import HotfireError

FORMATS = ("csv", "tdms", "mat", "eng")


class ExportFailed(HotfireError):
    """An export that cannot be made as asked; the message says what, where and how to get one."""


@dataclass
class Table:
    """Channels on one time base: a stream's own, or the aligned one."""

    name: str  # the stream's name ("aligned" when several were put on one base)
    rate_hz: float
    t: np.ndarray  # seconds from T0
    columns: list = field(default_factory=list)  # (name, units, values)
    resampled: str = ""  # how the time base was made, when it is not the recorded one


def select(run, keys) -> list[str]:
    """Channel names for ``keys``: channel names, or roles (a role gives all its channels)."""
    names: list[str] = []
    for key in keys:
        if key in run._by_name:
            names.append(key)
            continue
        found = [c.name for c in run.channels if c.role == key]
        if not found:
            raise ExportFailed(f"{run.path}: no channel or role {key!r} (channels: "
                               f"{', '.join(c.name for c in run.channels)})")
        names.extend(found)
    return list(dict.fromkeys(names))


def tables(run, names, t=None, rate_hz: float | None = None, align: bool = False) -> list[Table]:
    """The channels ``names`` of ``run`` as tables, one per stream, or one when ``align``.

    Parameters
    ----------
    t : (float or None, float or None), optional
        Time window, seconds from T0.
    rate_hz : float, optional
        Every table resampled to this rate (anti-aliased; refused where the
        filter cannot serve it, see :func:`resample.check`).
    align : bool
        One table: every stream resampled to ``rate_hz`` (default: the first
        channel's stream's rate), then interpolated linearly by the fraction
        of a sample between their clocks onto the first channel's grid,
        over the span all of them cover.
    """
    by_stream: dict[str, list] = {}
    for n in names:
        by_stream.setdefault(run.channel_info(n).stream, []).append(run.channel(n, t))
    if not by_stream:
        raise ExportFailed(f"{run.path}: no channels to export")
    first_rate = next(iter(by_stream.values()))[0].rate_hz
    target = rate_hz or (first_rate if align and len(by_stream) > 1 else None)
    out = [_stream_table(run, stream, sigs, target) for stream, sigs in by_stream.items()]
    if align and len(out) > 1:
        out = [_aligned(run, out)]
    return out


def _stream_table(run, stream, sigs, rate) -> Table:
    s0 = sigs[0]
    if len(s0.t) < 2:
        raise ExportFailed(f"{run.path}: stream {stream!r} has fewer than two samples in the window")
    if not rate or rate == s0.rate_hz:
        return Table(stream, s0.rate_hz, s0.t, [(s.name, s.units, s.values) for s in sigs])
    try:
        rs.ratio(s0.rate_hz, rate)
    except ValueError as e:
        raise ExportFailed(f"{run.path}: stream {stream!r}: {e}") from None
    pieces = _pieces(s0.t, s0.rate_hz)
    for s in sigs:
        rs.check(s.values, s.rate_hz, rate, f"{run.path}: channel {s.name}")
    tt, cols = [], [[] for _ in sigs]
    for a, b in pieces:
        if b - a < 2:
            continue
        for k, s in enumerate(sigs):
            cols[k].append(rs.resample(s.values[a:b], s.rate_hz, rate))
        tt.append(s0.t[a] + np.arange(len(cols[0][-1])) / rate)
    nyq = min(s0.rate_hz, rate) / 2
    how = (f"{'resampled' if rate < s0.rate_hz else 'interpolated'} from {s0.rate_hz:g} Hz to {rate:g} Hz through "
           f"{'an anti-alias' if rate < s0.rate_hz else 'a low-pass'} filter (flat to {rs.PASS * nyq:g} Hz, "
           f"{rs.STOP_DB:g} dB down from {nyq:g} Hz)")
    return Table(stream, rate, np.concatenate(tt), [(s.name, s.units, np.concatenate(c)) for s, c in zip(sigs, cols)],
                 how)


def _pieces(t, rate):
    """Index ranges [a, b) of ``t`` without a gap (a recording gap is not filtered across)."""
    cut = np.flatnonzero(np.diff(t) > 1.5 / rate) + 1
    edges = np.concatenate(([0], cut, [len(t)]))
    return list(zip(edges[:-1], edges[1:]))


def _aligned(run, tabs) -> Table:
    base = tabs[0]
    lo = max(tb.t[0] for tb in tabs)
    hi = min(tb.t[-1] for tb in tabs)
    keep = (base.t >= lo - 1e-12) & (base.t <= hi + 1e-12)
    if keep.sum() < 2:
        raise ExportFailed(f"{run.path}: the streams {', '.join(tb.name for tb in tabs)} share no time span to "
                           "align them on")
    t = base.t[keep]
    cols = []
    for tb in tabs:
        for n, u, v in tb.columns:
            cols.append((n, u, v[keep] if tb is base else np.interp(t, tb.t, v)))
    how = f"{len(tabs)} streams ({', '.join(tb.name for tb in tabs)}) on one time base at {base.rate_hz:g} Hz"
    how += "; " + "; ".join(f"{tb.name}: {tb.resampled}" for tb in tabs if tb.resampled)
    return Table("aligned", base.rate_hz, t, cols, how)


def export_run(run, out, keys, t=None, rate_hz: float | None = None, align: bool = False,
               fmt: str | None = None) -> tuple[list[Path], list[Table]]:
    """Export channels (names or roles) of ``run`` to ``out``: the files written, and the tables in them
    (none for .eng).

    Parameters
    ----------
    fmt : {"csv", "tdms", "mat", "eng"}, optional
        Default: from the suffix of ``out``. CSV writes one file per table
        (``out`` itself for one; ``STEM.STREAM.csv`` for several).
    """
    from hotfire.analysis.export import writers

    out = Path(out)
    fmt = fmt or out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportFailed(f"{out}: unknown export format {fmt!r}; one of {', '.join(FORMATS)} (by the file's "
                           "suffix, or --format)")
    if fmt == "eng":
        return [writers.write_eng(run, out, keys, t, rate_hz)], []
    try:
        tabs = tables(run, select(run, keys), t, rate_hz, align)
    except rs.RateRefused as e:
        raise ExportFailed(str(e)) from None
    return getattr(writers, f"write_{fmt}")(run, out, tabs), tabs
