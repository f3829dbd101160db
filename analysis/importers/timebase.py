"""A file's time stamps as a run's sample clock: order, repeated stamps, gaps, resampling.

Rules (each reported in the run's ``/import`` group and the analysis notes):

- Time going backwards is an error naming file and line.
- Repeated stamps: two rows at one time in a curve are a step (RASP: the
  later row is put ``STEP_S`` after its twin); a logger whose clock ticks
  slower than it samples (groups of three or more rows on one stamp, or
  more than 5 % of the rows repeated) has its rows of one stamp spread
  evenly over the clock's tick (the median interval between distinct
  stamps), never past the next stamp.
- Uniform time (every stamp within a tenth of a sample of a grid) keeps its
  rate; a stamp missing from the grid is a gap, exact to the sample.
- Non-uniform time is resampled by linear interpolation at ``rate_hz``
  within each stretch between gaps, never across one. A gap is an interval
  longer than ``gap_s`` (default: 10 times the median interval); a curve
  (RASP .eng, or a table of fewer than ``CURVE_POINTS`` points) is a
  polyline and has none.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hotfire.analysis.importers.base import ImportFailed

#: how far after its twin a repeated time stamp is put (far less than any sample period of a recording)
STEP_S = 1e-6
#: a table with fewer points than this and non-uniform time is a digitised curve (no gaps)
CURVE_POINTS = 500
#: default gap: an interval longer than this many median intervals
GAP_FACTOR = 10.0
#: at most this many samples from resampling (a wrong time unit would otherwise ask for terabytes)
MAX_SAMPLES = 5e7


@dataclass
class Clock:
    """A file's samples placed on a stream's clock."""

    rate_hz: float
    t_first: float  # file time of sample 0
    blocks: list[tuple[int, np.ndarray]]  # (first sample index, (n, k) rows)
    gaps: list[tuple[float, float, int, int]] = field(default_factory=list)  # (t_a, t_b, row_a, row_b) missing
    resampled: bool = False
    notes: list[str] = field(default_factory=list)


def ordered(t: np.ndarray, where, mode: str = "auto", rows=None) -> tuple[np.ndarray, list[str]]:
    """Checked, strictly increasing time stamps and notes on what was done.

    ``where(i)`` names row ``i``'s place (``file:line: column 'time'``).
    """
    notes: list[str] = []
    if len(t) < 2:
        raise ImportFailed(f"{where(0)}: need at least two samples")
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise ImportFailed(f"{where(int(bad[0]))}: blank or non-finite time stamp")
    dt = np.diff(t)
    back = np.flatnonzero(dt < 0)
    if back.size:
        k = int(back[0]) + 1
        raise ImportFailed(f"{where(k)}: time goes backwards ({t[k - 1]:g} on the row before, then {t[k]:g})")
    same = np.flatnonzero(dt == 0)
    if not same.size:
        return t, notes
    distinct, first, count = np.unique(t, return_index=True, return_counts=True)
    if mode not in ("auto", "steps", "clock"):
        raise ImportFailed(f"repeated time stamps: {mode!r}: expected auto, steps or clock")
    clock = mode == "clock" or (mode == "auto" and (count.max() > 2 or (same.size > 10 and same.size > 0.05 * len(t))))
    t = t.astype(float).copy()
    if not clock:
        for k in same:
            t[k + 1] = t[k] + STEP_S
        if np.any(np.diff(t) <= 0):
            raise ImportFailed(f"{where(int(same[0]) + 1)}: more than two rows share a time stamp (a step is "
                               "two rows; --repeated clock spreads them)")
        notes.append(f"{same.size} repeated time stamp(s) read as steps (RASP convention: the later row "
                     f"{STEP_S:g} s after), first at line {rows[int(same[0])] if rows else int(same[0]) + 1}")
        return t, notes
    if len(distinct) < 2:
        raise ImportFailed(f"{where(0)}: every row has the same time stamp")
    tick = float(np.median(np.diff(distinct)))
    span = np.minimum(np.append(np.diff(distinct), tick), tick)
    for a, m, w in zip(first, count, span):
        if m > 1:
            t[a:a + m] = t[a] + np.arange(m) * (w / m)
    notes.append(f"{same.size} repeated time stamps: the logger's clock ticks slower than it samples (every "
                 f"{tick * 1e3:.3g} ms, up to {int(count.max())} rows on one stamp); the rows of one stamp were "
                 "spread evenly over its tick")
    return t, notes


def _grid(t: np.ndarray):
    """(period, integer positions) if every stamp is within a tenth of a sample of a grid, else None."""
    dt = np.diff(t)
    med = float(np.median(dt))
    if med <= 0:
        return None
    r = np.round((t - t[0]) / med)
    if r[-1] <= 0:
        return None
    period = float(np.dot(t - t[0], r) / np.dot(r, r))  # least squares through the first stamp
    r = np.round((t - t[0]) / period)
    if np.any(np.diff(r) < 1) or np.max(np.abs((t - t[0]) / period - r)) > 0.1:
        return None
    return period, r.astype(np.int64)


def place(t: np.ndarray, data: np.ndarray, rate_hz: float | None = None, gap_s: float | None = None,
          curve: bool = False, rows=None) -> Clock:
    """Samples at strictly increasing file times ``t`` as blocks on a uniform clock.

    ``rows[i]`` is the file line (or record) of sample ``i``, for the gaps' messages.
    """
    rows = list(range(1, len(t) + 1)) if rows is None else rows
    grid = None if rate_hz else _grid(t)
    if grid is not None:
        period, r = grid
        breaks = np.flatnonzero(np.diff(r) > 1)
        cuts = np.concatenate(([0], breaks + 1, [len(t)]))
        blocks = [(int(r[a]), data[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
        gaps = [(float(t[k]), float(t[k + 1]), rows[k], rows[k + 1]) for k in breaks]
        clk = Clock(1.0 / period, float(t[0]), blocks, gaps)
        dev = float(np.max(np.abs((t - t[0]) / period - r))) * period
        if dev > 1e-3 * period:
            clk.notes.append(f"time stamps put on a {1 / period:g} Hz grid (at most {dev * 1e3:.3g} ms away)")
        return clk
    dt = np.diff(t)
    real = dt[dt > 10 * STEP_S] if (dt > 10 * STEP_S).any() else dt  # a step's twin says nothing of the period
    med = float(np.median(real))
    if curve:
        thr = np.inf if gap_s is None else gap_s
        rate = float(rate_hz or max(1000.0, min(1e5, 4.0 / float(real.min()))))
    else:
        thr = GAP_FACTOR * med if gap_s is None else gap_s
        rate = float(rate_hz or max(1000.0, min(1e5, 4.0 / med)))
    breaks = np.flatnonzero(dt > thr)
    cuts = np.concatenate(([0], breaks + 1, [len(t)]))
    t0 = float(t[0])
    total = sum(float(t[b - 1] - t[a]) for a, b in zip(cuts[:-1], cuts[1:])) * rate
    if total > MAX_SAMPLES:
        raise ImportFailed(f"resampling {float(t[-1] - t0):.6g} s of non-uniform time at {rate:g} Hz would make "
                           f"{total:.3g} samples (more than {MAX_SAMPLES:.0e}): check the time column and its "
                           "units, or give a lower --rate or a --gap")
    blocks, lost = [], 0
    for a, b in zip(cuts[:-1], cuts[1:]):
        k0 = int(np.ceil((t[a] - t0) * rate - 1e-6))
        k1 = int(np.floor((t[b - 1] - t0) * rate + 1e-6))
        if k1 < k0:
            lost += b - a
            continue
        tt = t0 + np.arange(k0, k1 + 1) / rate
        cols = [np.interp(tt, t[a:b], data[a:b, j]) for j in range(data.shape[1])]
        blocks.append((k0, np.column_stack(cols) if cols else np.empty((len(tt), 0))))
    if not blocks:
        raise ImportFailed("no two samples between gaps: nothing to resample")
    gaps = [(float(t[k]), float(t[k + 1]), rows[k], rows[k + 1]) for k in breaks]
    clk = Clock(rate, t0, blocks, gaps, resampled=True)
    clk.notes.append(f"non-uniform time resampled by linear interpolation at {rate:g} Hz"
                     + ("" if not gaps else ", within each stretch between gaps"))
    if lost:
        clk.notes.append(f"{lost} sample(s) alone between two gaps dropped (no grid point between them)")
    return clk


def describe_gaps(clk: Clock, where: str, word: str = "lines", limit: int = 3) -> str:
    """One line on a file's gaps: how many, how long, the first few with their lines."""
    if not clk.gaps:
        return ""
    lengths = [b - a for a, b, _, _ in clk.gaps]
    first = "; ".join(f"{a:.6g} to {b:.6g} s ({word} {ra}-{rb})" for a, b, ra, rb in clk.gaps[:limit])
    more = f"; and {len(clk.gaps) - limit} more" if len(clk.gaps) > limit else ""
    return (f"{where}: {len(clk.gaps)} gap(s) in time, {min(lengths):.3g} to {max(lengths):.3g} s each, "
            f"{sum(lengths):.4g} s in all, masked (not interpolated): {first}{more}")
