"""Calculated channels: quantities made from measured ones, the same code live and afterwards.

- **total thrust**: the sum of the load cells (role ``thrust``). Where a
  cell is not valid (its health marks a failed span, or its samples are
  NaN), its reading is estimated from the others: a straight line fitted to
  that cell against the sum of the other cells over the samples where all
  are valid (the intercept takes the preload difference, the slope the load
  share). Such spans are flagged *estimated*, and the fit's residual (RMS)
  is the extra standard uncertainty there. Where no cell is valid the total
  is NaN: it covers only the valid span, and that span is flagged *missing*.
- **injector pressure drop**: feed (manifold) pressure minus chamber pressure.
- **O/F**: oxidiser over fuel mass flow.

The array functions (:func:`sum_load_cells`, :func:`injector_dp`,
:func:`mixture_ratio`) work on blocks as acquisition sees them; the
``run`` functions read a run file's channels and health.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: samples either side of a failed span also taken as invalid (the edge of a saturation is not clean)
EDGE_SAMPLES = 3


@dataclass
class Fit:
    """One cell as a straight line of the sum of the others: ``cell = a + b * others``."""

    a: float
    b: float
    rms: float  # residual, the cell's units
    n: int  # samples the fit used


@dataclass
class LoadSum:
    """A total of load cells and where it is estimated or missing."""

    total: np.ndarray  # NaN where no cell is valid
    estimated: np.ndarray  # bool: some cell estimated from the others
    missing: np.ndarray  # bool: no cell valid
    u_extra: np.ndarray  # extra standard uncertainty of the total (the fits' residuals), same units
    fits: dict = field(default_factory=dict)  # cell index -> Fit


def fit_cell(cell: np.ndarray, others: np.ndarray, ok: np.ndarray, max_points: int = 200_000) -> Fit | None:
    """Least-squares line ``cell = a + b * others`` over the rows ``ok``, or None (too few, or no spread)."""
    idx = np.flatnonzero(ok)
    if len(idx) < 10:
        return None
    idx = idx[:: max(1, len(idx) // max_points)]
    x, y = others[idx], cell[idx]
    if float(np.ptp(x)) <= 0:
        return None
    b, a = np.polyfit(x, y, 1)
    rms = float(np.sqrt(np.mean((y - (a + b * x)) ** 2)))
    return Fit(float(a), float(b), rms, len(idx))


def sum_load_cells(cells, valid=None, fits=None) -> LoadSum:
    """Sum load-cell readings, estimating each invalid one from the others.

    Parameters
    ----------
    cells : list of ndarray
        One array per load cell, on one time base, in the same units.
    valid : list of bool ndarray, optional
        Where each cell can be used (default: where it is finite).
    fits : dict, optional
        Cell index -> :class:`Fit` known from earlier data (live: from the
        pre-fire and earlier blocks); fitted here when not given.

    Returns
    -------
    LoadSum
    """
    cells = [np.asarray(c, dtype=float) for c in cells]
    n = len(cells[0])
    valid = [np.isfinite(c) for c in cells] if valid is None else \
        [np.asarray(v, bool) & np.isfinite(c) for v, c in zip(valid, cells)]
    all_ok = np.logical_and.reduce(valid)
    total = np.zeros(n)
    for c, v in zip(cells, valid):
        total += np.where(v, c, 0.0)
    estimated = np.zeros(n, bool)
    u2 = np.zeros(n)
    fits = dict(fits or {})
    any_ok = np.logical_or.reduce(valid)
    if not all_ok.all() and len(cells) > 1:
        for i, (c, v) in enumerate(zip(cells, valid)):
            bad = ~v & any_ok
            if not bad.any():
                continue
            others = [j for j in range(len(cells)) if j != i]
            s_other = sum(np.where(valid[j], cells[j], 0.0) for j in others)
            if i not in fits:
                fit = fit_cell(c, sum(cells[j] for j in others), all_ok)
                if fit is None:
                    continue
                fits[i] = fit
            f = fits[i]
            # the fit holds for the sum of *all* other cells; when some of them are missing too, scale the
            # valid ones up by their count (a coarse estimate: its residual is not known, so flag it)
            n_valid = sum(valid[j].astype(int) for j in others)
            scale = np.where(n_valid > 0, len(others) / np.maximum(n_valid, 1), 0.0)
            est = f.a + f.b * s_other * scale
            total = np.where(bad, total + est, total)
            estimated |= bad
            u2 += np.where(bad, f.rms ** 2, 0.0)
    missing = ~any_ok
    if len(cells) > 1:
        # spans where a cell could not be estimated (no fit) are missing too
        for i, v in enumerate(valid):
            if i not in fits:
                missing |= ~v
    total = np.where(missing, np.nan, total)
    estimated &= ~missing
    return LoadSum(total, estimated, missing, np.sqrt(u2), fits)


def injector_dp(feed, chamber):
    """Injector pressure drop: feed (manifold) minus chamber pressure, same units as both."""
    return np.asarray(feed, dtype=float) - np.asarray(chamber, dtype=float)


def mixture_ratio(ox, fuel):
    """O/F from the two mass flows; NaN where the fuel flow is not positive."""
    ox, fuel = np.asarray(ox, dtype=float), np.asarray(fuel, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(fuel > 0, ox / fuel, np.nan)


# ---------------------------------------------------------------------------
# on a run file


def valid_mask(t: np.ndarray, health=None, name: str = "") -> np.ndarray:
    """Rows of a channel outside its failed spans (``health``: ChannelHealth or a dict of them)."""
    h = health.get(name) if isinstance(health, dict) else health
    ok = np.ones(len(t), bool)
    if h is None:
        return ok
    for a, b in h.failed_intervals:
        i, j = np.searchsorted(t, [a, b], "left")[0], np.searchsorted(t, b, "right")
        ok[max(0, i - EDGE_SAMPLES):min(len(t), j + EDGE_SAMPLES)] = False
    return ok


def spans(t: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """(first, last) sample time of each run of True in ``mask``."""
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return [(float(t[a]), float(t[b - 1])) for a, b in zip(edges[0::2], edges[1::2])]


@dataclass
class TotalThrust:
    """The total-thrust calculated channel of a run (untared), SI (N)."""

    t: np.ndarray
    values: np.ndarray  # N; NaN where missing
    rate_hz: float
    channels: list[str]  # the load cells summed
    estimated: list[tuple[float, float, str]]  # (from, to, which cell was estimated from the others)
    missing: list[tuple[float, float]]
    u_extra_N: float  # largest extra standard uncertainty over the estimated spans
    fits: dict = field(default_factory=dict)  # cell name -> Fit (N)
    sum_: LoadSum | None = None

    @property
    def degraded(self) -> bool:
        return bool(self.estimated or self.missing)

    def notes(self) -> list[str]:
        out = []
        for a, b, why in self.estimated:
            out.append(f"total thrust from {a:+.3f} s to {b:+.3f} s: {why}")
        for a, b in self.missing:
            out.append(f"total thrust missing from {a:+.3f} s to {b:+.3f} s: no valid load cell")
        return out


def total_thrust(run, health=None) -> TotalThrust:
    """Sum of a run's load cells (role ``thrust``), N, each failed span estimated from the other cells.

    Raises
    ------
    LookupError
        The run has no channel with role ``thrust``.
    """
    chans = run.role("thrust")
    if not chans:
        raise LookupError("no channel with role 'thrust'")
    t = chans[0].t
    cells, valid = [], []
    for sig in chans:
        f = sig.si()
        cells.append(f if sig.t is t or np.array_equal(sig.t, t) else np.interp(t, sig.t, f))
        valid.append(valid_mask(t, health, sig.name))
    names = [c.name for c in chans]
    if len(cells) == 1:
        ok = valid[0] & np.isfinite(cells[0])
        ls = LoadSum(np.where(ok, cells[0], np.nan), np.zeros(len(t), bool), ~ok, np.zeros(len(t)))
    else:
        ls = sum_load_cells(cells, valid)
    est = []
    for i, v in enumerate(valid):
        if i in ls.fits:
            f = ls.fits[i]
            for a, b in spans(t, ~v & ~ls.missing):
                est.append((a, b, f"{names[i]} not valid, estimated from "
                                  f"{' + '.join(n for j, n in enumerate(names) if j != i)} "
                                  f"(share {f.b:.3f}, residual {f.rms:.3g} N RMS, fitted on {f.n} samples)"))
    est.sort()
    u = float(np.max(ls.u_extra[ls.estimated])) if ls.estimated.any() else 0.0
    return TotalThrust(t, ls.total, chans[0].rate_hz, names, est, spans(t, ls.missing), u,
                       {names[i]: f for i, f in ls.fits.items()}, ls)
