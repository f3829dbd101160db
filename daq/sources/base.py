"""The interface every source of samples implements (hardware, simulated
driver, simulator, replay): blocks of raw samples per stream, plus events."""
from __future__ import annotations

import abc
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hotfire.core.events import Event


@dataclass(frozen=True)
class StreamSpec:
    name: str
    rate_hz: float
    dtype: np.dtype
    channels: tuple[str, ...]

    @property
    def n_channels(self) -> int:
        return len(self.channels)


@dataclass(frozen=True)
class Block:
    """Raw samples ``data`` (rows x channels) starting at absolute index ``first_index``."""

    first_index: int
    data: np.ndarray


class Sequencer(Protocol):
    """What marks a firing's sequence for a source that only reads (the simulated NI-DAQmx driver is one)."""

    #: seconds the sequence lasts
    duration_s: float

    def sequence_events(self) -> list[Event]:
        """T0 and cutoff, dated on their stream's sample clock."""

    def metadata(self) -> dict:
        """Scenario, ground truth and the like, stored with the run."""


class Source(abc.ABC):
    """A producer of raw sample blocks for each stream of a rig.

    ``read`` is called from one thread per stream; ``events`` from any thread.
    """

    streams: dict[str, StreamSpec]
    #: what the source is, stored in the run file ("simulator", "nidaqmx", ...)
    kind: str = "source"
    #: seconds of data it will deliver per stream, if known (``inf``: until stopped)
    duration_s: float | None = None

    def start(self) -> None:
        """Start acquiring (all streams on one start trigger)."""

    @abc.abstractmethod
    def read(self, stream: str, timeout: float = 1.0) -> Block | None:
        """The next block of ``stream``, or None once the source has ended."""

    def events(self) -> list[Event]:
        """Events produced since the last call (sequence marks, driver faults)."""
        return []

    def stop(self) -> None:
        """Stop acquiring and release the hardware."""

    def metadata(self) -> dict:
        """Extra run metadata (scenario, ground truth, device scaling, ...)."""
        return {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class ClockedSource(Source):
    """A source that makes its own samples (the simulator, the pattern source).

    It hands out fixed-size blocks per stream, paced by the wall clock when
    ``realtime`` (as hardware would deliver them) or as fast as asked, and
    releases each sequence event only once the data it dates has been
    produced. Subclasses implement :meth:`_make`.

    Parameters
    ----------
    rig : Rig
    duration_s : float
        Seconds of data per stream; ``inf`` runs until :meth:`stop`.
    block_s : float
        Seconds per block (a DAQ is read about 10 times a second).
    realtime : bool
    ref : str
        The stream that dates ``events``.
    events : list of Event
        Sequence events to release as their sample is produced.
    """

    def __init__(self, rig, duration_s: float, block_s: float, realtime: bool, ref: str, events=()):
        self.rig = rig
        self.block_s, self.realtime = block_s, realtime
        self.duration_s = duration_s
        self.streams = {s.name: StreamSpec(s.name, s.rate_hz, np.dtype(s.dtype), s.channels)
                        for s in rig.streams.values()}
        self._total = {s: (np.inf if duration_s == np.inf else int(round(duration_s * st.rate_hz)))
                       for s, st in self.streams.items()}
        self._block = {s: max(1, int(round(block_s * st.rate_hz))) for s, st in self.streams.items()}
        self._next = dict.fromkeys(self.streams, 0)
        self._ref = ref
        self._pending = [e for e in events if e.sample < self._total[ref]]
        self._lock = threading.Lock()
        self._released: list[Event] = []
        self._t_start = None
        self._stopped = threading.Event()

    @abc.abstractmethod
    def _make(self, stream: str, first: int, n: int) -> np.ndarray:
        """Samples [first, first+n) of ``stream``, (n, channels) in its dtype."""

    def start(self):
        if self._t_start is None:
            self._t_start = time.monotonic()

    def read(self, stream: str, timeout: float = 1.0) -> Block | None:
        self.start()
        first = self._next[stream]
        n = int(min(self._block[stream], self._total[stream] - first))
        if n <= 0 or self._stopped.is_set():
            return None
        if self.realtime:
            due = self._t_start + (first + n) / self.streams[stream].rate_hz
            delay = due - time.monotonic()
            if delay > 0 and self._stopped.wait(delay):
                return None
        data = self._make(stream, first, n)
        self._next[stream] = first + n
        if stream == self._ref and self._pending:
            with self._lock:
                self._released.extend(e for e in self._pending if e.sample < first + n)
                self._pending = [e for e in self._pending if e.sample >= first + n]
        return Block(first, data)

    def events(self):
        with self._lock:
            out, self._released = self._released, []
        return out

    def stop(self):
        self._stopped.set()
