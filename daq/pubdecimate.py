"""The publisher's decimated topic for slow links: min/max pairs per bucket.

Each stream is cut into buckets of ``step`` samples aligned on absolute
sample indices (bucket ``k`` holds samples ``[k*step, (k+1)*step)``), so the
buckets do not depend on how acquisition happened to cut its blocks. A
bucket is sent once complete, as its minimum and maximum raw value per
channel: peaks survive, at ``2 * rate / step`` values per second per channel.
"""
from __future__ import annotations

import math

import numpy as np

#: default bound on the decimated topic: min/max values per second per channel
DEFAULT_POINTS_S = 200


def step_for(rate_hz: float, points_s: float) -> int:
    """Samples per bucket so a stream at ``rate_hz`` sends at most ``points_s`` values/s per channel (2 per bucket)."""
    return max(1, math.ceil(2 * rate_hz / points_s))


class Decimator:
    """Turn a stream's blocks into complete min/max buckets.

    Parameters
    ----------
    step : int
        Samples per bucket.
    """

    def __init__(self, step: int):
        self.step = step
        self.start = 0      # sample index of the first pending row
        self.pend = None    # rows of the bucket not yet complete (fewer than ``step``)

    def feed(self, first: int, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Take rows ``[first, first + n)`` (``(n, nch)``).

        Returns
        -------
        list of (int, ndarray)
            (index of the first bucket, ``(m, 2, nch)`` min and max of ``m`` consecutive buckets).
            A gap before ``first`` sends the bucket it broke as it is.
        """
        s, out = self.step, []
        if self.pend is not None:
            if first == self.start + len(self.pend):
                first, rows = self.start, np.concatenate([self.pend, rows])
            else:
                out.append((self.start // s, _minmax(self.pend)[None]))
            self.pend = None
        e0 = (first // s + 1) * s - first  # rows up to the first bucket boundary (all of them if aligned)
        if len(rows) < e0:
            self.start, self.pend = first, rows.copy()
            return out
        m = (len(rows) - e0) // s
        full = rows[e0:e0 + m * s].reshape(m, s, rows.shape[1])
        vals = np.concatenate([_minmax(rows[:e0])[None], np.stack([full.min(axis=1), full.max(axis=1)], axis=1)])
        out.append((first // s, np.ascontiguousarray(vals)))
        rest = rows[e0 + m * s:]
        if len(rest):
            self.start, self.pend = first + e0 + m * s, rest.copy()
        return out


def _minmax(rows: np.ndarray) -> np.ndarray:
    return np.stack([rows.min(axis=0), rows.max(axis=0)])
