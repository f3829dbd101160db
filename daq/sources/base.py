"""The interface every source of samples implements (hardware, simulated
driver, simulator, replay): blocks of raw samples per stream, plus events."""
from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

from hotfire.daq.events import Event


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


class Source(abc.ABC):
    """A producer of raw sample blocks for each stream of a rig.

    ``read`` is called from one thread per stream; ``events`` from any thread.
    """

    streams: dict[str, StreamSpec]
    #: what the source is, stored in the run file ("simulator", "nidaqmx", ...)
    kind: str = "source"

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
