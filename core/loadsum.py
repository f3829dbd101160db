"""Totals of several load cells, each invalid cell estimated from the others (array functions:
:mod:`hotfire.core.calculated` explains the rule and uses them live and on run files)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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


def sum_load_cells(cells, valid=None, fits=None, estimate: bool = True) -> LoadSum:
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
    estimate : bool
        False: an invalid cell makes the total missing there (no fit; a block
        then gives the same sums whatever rows come with it).

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
    if estimate and not all_ok.all() and len(cells) > 1:
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


class RunningLoadSum:
    """A total of load cells evaluated block by block, each invalid cell estimated from the others.

    A cell is valid where it is finite and its magnitude is at most its full
    scale (``limits``). Where every cell is valid the total is their sum, and
    each cell's least-squares line against the sum of the others
    (``cell = a + b * others``, as :func:`fit_cell`) is updated; where one
    cell is not valid and all the others are, it is estimated from the line
    fitted on the samples before. Anything else (two cells out, or no fit
    yet: the others' sum has not spread over ``min_spread``) is NaN. The sums
    are carried from block to block in sample order, so the values do not
    depend on how the samples were split into blocks.

    Parameters
    ----------
    limits : sequence of float
        Each cell's full scale (its capacity), in the total's units; ``inf``: none.
    min_spread : float
        Standard deviation the others' sum must have reached before a cell is estimated.
    """

    def __init__(self, limits, min_spread: float = 0.0):
        self.limits = np.asarray(limits, dtype=float)
        self.min_spread = float(min_spread)
        k = len(self.limits)
        self.sums = np.zeros((k, 6))  # per cell: n, sum x, sum y, sum xx, sum xy, sum yy (x: the others' sum)
        self.estimated = 0  # samples estimated so far

    def total(self, cols: list[np.ndarray]) -> np.ndarray:
        """The total of one block (each cell's untared reading, same units)."""
        c = np.vstack([np.asarray(x, dtype=float) for x in cols])
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(c) & (np.abs(c) <= self.limits[:, None])
        all_ok = valid.all(axis=0)
        total = np.where(all_ok, c.sum(axis=0), np.nan)
        if len(c) < 2:
            return total
        whole = np.where(valid, c, 0.0).sum(axis=0)
        for i in range(len(c)):
            x, y = whole - np.where(valid[i], c[i], 0.0), c[i]
            ok = all_ok.astype(float)
            terms = np.vstack([ok, x * ok, y * ok, x * x * ok, x * y * ok, y * y * ok])
            terms = np.where(all_ok, terms, 0.0)  # 0 * inf of an invalid sample is NaN
            # sums through each sample, in sample order: the carried sums first, so blocks do not matter
            cum = np.cumsum(np.hstack([self.sums[i][:, None], terms]), axis=1)[:, 1:]
            self.sums[i] = cum[:, -1] if cum.shape[1] else self.sums[i]
            only = ~valid[i] & np.delete(valid, i, axis=0).all(axis=0)
            if not only.any():
                continue
            n, sx, sy, sxx, sxy, _ = cum[:, only]
            with np.errstate(invalid="ignore", divide="ignore"):
                var = sxx / n - (sx / n) ** 2
                b = (sxy / n - sx * sy / n ** 2) / var
                a = (sy - b * sx) / n
                fitted = (n >= 10) & (var > self.min_spread ** 2)
            est = np.where(fitted, a + b * x[only] + x[only], np.nan)
            total[only] = est
            self.estimated += int(np.count_nonzero(fitted))
        return total
