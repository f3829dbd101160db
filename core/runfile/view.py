"""A channel of an open run, read lazily: what analyses take.

A :class:`ChannelView` holds no samples. It knows the channel
(:class:`hotfire.core.channel.Channel`: units, role, scaling), its time base
(rate, span, gaps) and its health, and reads what is asked: a time span
(:meth:`~ChannelView.read`), or the whole record piece by piece
(:meth:`~ChannelView.chunks`), so a long run never has to be in memory at once.

    >>> with open_run("runs/LE5-003.h5") as run:
    ...     pc = run.view("chamber_pressure")
    ...     pc.units, pc.rate_hz, pc.span(), pc.health.failed
    ...     steady = pc.read((1.0, 2.0), units="psi")
    ...     peak = max(float(s.values.max()) for s in pc.chunks(seconds=5.0))
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from hotfire.core.channel import Channel

if TYPE_CHECKING:
    from hotfire.core.health import ChannelHealth
    from hotfire.core.runfile.reader import Run, Signal

TimeSpan = tuple[float | None, float | None]


class ChannelView:
    """One channel of ``run``; get one with :meth:`Run.view <hotfire.core.runfile.reader.Run.view>`.

    Attributes
    ----------
    run : Run
    info : Channel
        The channel's description (name, role, units, scaling, limits, uncertainty).
    """

    def __init__(self, run: "Run", info: Channel):
        self.run, self.info = run, info

    def __repr__(self) -> str:
        a, b = self.span()
        return f"<ChannelView {self.name} ({self.role}, {self.units}, {self.rate_hz:g} Hz, {a:.3f}..{b:.3f} s)>"

    # -- what it is ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.info.name

    @property
    def role(self) -> str:
        return self.info.role

    @property
    def units(self) -> str:
        return self.info.units

    @property
    def stream(self) -> str:
        return self.info.stream

    @property
    def rate_hz(self) -> float:
        return self.run.streams[self.info.stream].rate_hz

    def span(self) -> tuple[float, float]:
        """First and last sample time, seconds from T0."""
        return self.run.time_span(self.info.stream)

    @property
    def gaps(self) -> list[tuple[float, float]]:
        """Missing spans ``(first missing sample time, seconds missing)``, seconds from T0."""
        st = self.run.streams[self.info.stream]
        return [(float(self.run.times(self.stream, np.float64(i))), n / st.rate_hz) for i, n in st.gaps]

    @property
    def health(self) -> "ChannelHealth":
        """The sensor-health verdict (:mod:`hotfire.core.health`), checked once per stream."""
        from hotfire.core.health import check_run  # health reads runs: imported when asked

        cache = self.run.__dict__.setdefault("_health_cache", {})
        if self.name not in cache:
            cache.update(check_run(self.run, [self.stream]))
        return cache[self.name]

    # -- reading ---------------------------------------------------------------------
    def read(self, t: TimeSpan | None = None, units: str | None = None) -> "Signal":
        """Samples within ``t`` (seconds from T0; None: all) in engineering units (or ``units``).

        Only those rows are read from the file.
        """
        sig = self.run.channel(self.name, t)
        return sig.to(units) if units else sig

    def raw(self, t: TimeSpan | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw samples within ``t`` and where they sit: ``(values, segments)`` (see ``Run.raw_segments``)."""
        return self.run.raw_segments(self.name, t)

    def chunks(self, seconds: float = 10.0, t: TimeSpan | None = None,
               units: str | None = None) -> Iterator["Signal"]:
        """The samples within ``t`` as consecutive pieces of ``seconds`` each.

        Every sample is in exactly one piece; a piece is read when the
        iteration reaches it. A piece that falls in a gap is left out, so
        none is empty; one that holds part of a gap is shorter.
        """
        if seconds <= 0:
            raise ValueError(f"{self.name}: chunks of {seconds} s")
        lo, hi = self.run.sample_range(self.stream, t)
        step = max(1, int(round(seconds * self.rate_hz)))
        for a in range(lo, hi, step):
            b = min(a + step, hi)
            # the span from half a sample before a to half a sample before b holds exactly [a, b)
            ta, tb = (float(x) for x in self.run.times(self.stream, np.array([a - 0.5, b - 0.5])))
            sig = self.read((ta, tb), units)
            if len(sig):
                yield sig
