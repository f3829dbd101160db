"""Where a stream's samples sit: its recorded pieces ("segments") and the gaps between them.

A stream's samples are stored as pieces without a gap, described by rows
of (first absolute sample index, first position, count), in order, with no
overlap: in the file (``/streams/<s>/segments``, position = dataset row)
and in arrays read from it (position = index in the array). The functions
here map between absolute sample indices and positions without building an
array of one index per sample.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StreamInfo:
    name: str
    rate_hz: float
    channels: tuple[str, ...]
    rows: int
    segments: np.ndarray  # (k, 3): first sample index, first row, row count
    start_offset_s: float = 0.0
    first_sample: int = 0  # where recording was meant to start

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """Missing sample ranges, as (first index, count)."""
        out = []
        if len(self.segments) and self.segments[0, 0] > self.first_sample:
            out.append((self.first_sample, int(self.segments[0, 0] - self.first_sample)))
        for (a0, _, an), (b0, _, _) in zip(self.segments[:-1], self.segments[1:]):
            if b0 > a0 + an:
                out.append((int(a0 + an), int(b0 - a0 - an)))
        return out


def indices(segs: np.ndarray) -> np.ndarray:
    """The absolute sample index at every position."""
    if not len(segs):
        return np.empty(0, np.int64)
    parts = [np.arange(s0, s0 + n, dtype=np.int64) for s0, _, n in segs]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def positions(segs: np.ndarray, samples) -> np.ndarray:
    """Positions of absolute sample indices, as ``np.searchsorted(indices(segs), samples)``."""
    samples = np.asarray(samples, dtype=np.int64)
    if not len(segs):
        return np.zeros_like(samples)
    k = np.searchsorted(segs[:, 0], samples, "right") - 1
    kc = np.maximum(k, 0)
    s0, p0, n = segs[kc, 0], segs[kc, 1], segs[kc, 2]
    return np.where(k < 0, 0, p0 + np.minimum(samples - s0, n))


def samples_at(segs: np.ndarray, pos) -> np.ndarray:
    """Absolute sample indices at positions, as ``indices(segs)[pos]``."""
    pos = np.asarray(pos, dtype=np.int64)
    k = np.searchsorted(segs[:, 1], pos, "right") - 1
    return segs[k, 0] + (pos - segs[k, 1])


def clip_segments(segs: np.ndarray, i: int, j: int) -> np.ndarray:
    """The segments of positions ``[i, j)``, positions counted from ``i``."""
    out = []
    for s0, p0, n in segs:
        a, b = max(i, p0), min(j, p0 + n)
        if a < b:
            out.append((s0 + a - p0, a - i, b - a))
    return np.array(out, dtype=np.int64).reshape(-1, 3)
