"""Ring buffer between acquisition and its subscribers.

One writer appends blocks of samples and never blocks; any number of readers
follow, each with its own cursor. A reader that falls more than ``capacity``
rows behind loses the overwritten rows as an exact :class:`Gap` and goes on
at the oldest intact row: it never gets a torn or fabricated row.

Every row has a 64-bit absolute index: the first row ever written is 0.

Examples
--------
>>> import numpy as np
>>> from hotfire.ext.ring import Ring
>>> ring = Ring(1024, 4, np.int16)
>>> r = ring.reader()
>>> ring.write(np.zeros((100, 4), np.int16))
0
>>> res = r.read()
>>> res.first_index, res.data.shape, res.gap
(0, (100, 4), None)

The per-block methods (:meth:`Ring.write`, :meth:`Reader.read_into`) are those
of the Cython base classes in :mod:`hotfire.ext._ring`, inherited unchanged so
that no Python frame sits on the hot path.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _ring

__all__ = ["Ring", "Reader", "Gap", "ReadResult", "View", "GapError"]


class Gap(NamedTuple):
    """Rows ``[first_index, first_index + count)`` that a reader lost."""

    first_index: int
    count: int

    @property
    def stop(self) -> int:
        """Absolute index just past the last lost row."""
        return self.first_index + self.count


class ReadResult(NamedTuple):
    """Rows copied by :meth:`Reader.read`.

    ``data[i]`` is the row of absolute index ``first_index + i``; ``gap`` is
    the rows lost just before ``first_index``, or None.
    """

    first_index: int
    data: np.ndarray
    gap: Gap | None


View = _ring.View


class GapError(LookupError):
    """Rows asked for are no longer in the ring.

    Attributes
    ----------
    gap : Gap
        The rows of the request that are gone.
    """

    def __init__(self, gap: Gap, message: str):
        super().__init__(message)
        self.gap = gap


class Reader(_ring.ReaderBase):
    """A cursor on a :class:`Ring`; use each reader from one thread at a time.

    Create with :meth:`Ring.reader`. A reader cannot write: it has no
    attribute leading to its ring (it shows the ring's ``capacity``,
    ``n_channels``, ``dtype`` and ``written``), and the arrays
    :meth:`acquire` lends are read-only views.

    Attributes
    ----------
    gaps : list of Gap
        Every gap this reader met, oldest first (adjacent gaps merged).
    """

    def __init__(self, ring: Ring, start: int):
        self.gaps: list[Gap] = []

    def _on_gap(self, first: int, count: int) -> Gap:
        # Called by the low level, only when rows were lost.
        gap = Gap(first, count)
        gaps = self.gaps
        if gaps and gaps[-1].stop == first:
            gaps[-1] = Gap(gaps[-1].first_index, gaps[-1].count + count)
        else:
            gaps.append(gap)
        return gap

    # acquire(max_rows=None) -> View and release(view) -> Gap | None, with
    # read_into(out), are inherited from the low level unchanged.

    def read(self, max_rows: int | None = None) -> ReadResult:
        """Copy the next rows into a new array.

        Parameters
        ----------
        max_rows : int, optional
            Read at most this many rows; all available rows if None.

        Returns
        -------
        ReadResult
            ``(first_index, data, gap)``; data may have 0 rows.
        """
        n = self.available
        if max_rows is not None:
            if max_rows < 0:
                raise ValueError(f"max_rows must be >= 0, got {max_rows}")
            n = min(n, max_rows)
        out = np.empty((n, self.n_channels), dtype=self.dtype)
        first, k, gap = self.read_into(out)
        return ReadResult(first, out if k == n else out[:k], gap)

    def __repr__(self) -> str:
        return (f"<Reader position={self.position} available={self.available} lost={self.lost} "
                f"of {self.written} rows written, capacity={self.capacity}>")


class Ring(_ring.RingBase):
    """Lock-free ring buffer of ``capacity`` rows of ``n_channels`` samples.

    One thread writes with :meth:`write`; each consumer reads through its own
    :meth:`reader`. The buffer is allocated (and its pages touched) once.

    Parameters
    ----------
    capacity : int
        Rows held; the writer overwrites the oldest rows once full.
    n_channels : int
        Samples per row.
    dtype : dtype-like
        int16, int32, float32 or float64 (native byte order).

    Raises
    ------
    TypeError
        For another dtype.
    ValueError
        For capacity or n_channels < 1.
    """

    def reader(self, start: int | None = None) -> Reader:
        """Make a reader with its own cursor.

        Parameters
        ----------
        start : int, optional
            Absolute index of the first row to read. None: the next row to be
            written (only new data). An older index replays history still in
            the ring (pre-trigger); if it is older than the oldest intact row,
            the first read reports the rows lost as a gap.

        Returns
        -------
        Reader
        """
        return Reader(self, self.written if start is None else start)

    def latest(self, n: int) -> tuple[int, np.ndarray]:
        """Copy the newest rows (for a live view).

        Parameters
        ----------
        n : int
            Rows wanted; fewer are returned if fewer were written.

        Returns
        -------
        first_index : int
            Absolute index of the first row returned.
        data : numpy.ndarray
            ``(m, n_channels)`` copy, ``m <= n``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        n = min(n, self.capacity)
        for _ in range(3):
            stop = self.written
            first = max(0, stop - n)
            out = np.empty((stop - first, self.n_channels), dtype=self.dtype)
            bad = self._peek_into(first, out)
            if bad == 0:
                return first, out
        # The writer lapped us each time (a huge block rate): keep what is intact.
        return first + bad, out[bad:]

    def copy_range(self, start: int, stop: int) -> np.ndarray:
        """Copy rows ``[start, stop)``.

        Returns
        -------
        numpy.ndarray
            ``(stop - start, n_channels)`` copy.

        Raises
        ------
        GapError
            If any row of the range is no longer in the ring (its ``gap``
            names the rows gone).
        ValueError
            If start > stop, start < 0 or stop > written.
        """
        if not 0 <= start <= stop:
            raise ValueError(f"need 0 <= start <= stop, got start={start}, stop={stop}")
        if stop > self.written:
            raise ValueError(f"rows [{start}, {stop}) are not all written (written: {self.written})")
        if stop - start > self.capacity:
            # Not all in the ring: fail before allocating.
            gap = Gap(start, min(stop, max(self.oldest, stop - self.capacity)) - start)
            raise GapError(gap, f"rows [{start}, {stop}) span more than the capacity "
                                f"({self.capacity} rows); rows [{start}, {gap.stop}) are gone")
        out = np.empty((stop - start, self.n_channels), dtype=self.dtype)
        bad = self._peek_into(start, out)
        if bad:
            gap = Gap(start, bad)
            raise GapError(gap, f"rows [{start}, {gap.stop}) of [{start}, {stop}) were "
                                f"overwritten (the oldest intact row is now {self.oldest})")
        return out

    def __repr__(self) -> str:
        return (f"<Ring capacity={self.capacity} n_channels={self.n_channels} "
                f"dtype={self.dtype} written={self.written}>")
