"""What the viewer knows about a run: streams and channels (the one
:class:`hotfire.core.channel.Channel`: scaling, limits...).

Built from the publisher's ``meta`` message (live) or from a run file
(replay), so the panels never care which one they show. Live, the rig's
calculated channels are channels of their own streams (``calculated``),
plotted like any other.
"""
from __future__ import annotations

from dataclasses import dataclass

from hotfire.core.channel import Channel


@dataclass(frozen=True)
class StreamMeta:
    name: str
    rate_hz: float
    channels: tuple[str, ...]
    offset_s: float = 0.0  # time of sample 0 from acquisition start
    calculated: bool = False  # values of calculated channels, on the clock of another stream

    def time(self, sample):
        """Acquisition time (s) of a sample index (scalar or array)."""
        return sample / self.rate_hz + self.offset_s

    def sample(self, t: float) -> int:
        """The sample index at acquisition time ``t`` (rounded down)."""
        return int((t - self.offset_s) * self.rate_hz)


@dataclass
class RunMeta:
    """A run as the viewer sees it.

    Attributes
    ----------
    planned_t0_s : float
        Acquisition time at which T0 is planned (the rig's pre-trigger):
        the T-clock counts down to it until the T0 event arrives.
    """

    test_id: str
    rig_name: str
    source: str
    streams: dict[str, StreamMeta]
    channels: list[Channel]
    planned_t0_s: float = 0.0
    path: str = ""

    def channel(self, name: str) -> Channel:
        for ch in self.channels:
            if ch.name == name:
                return ch
        raise KeyError(name)

    def by_role(self, role: str) -> list[Channel]:
        return [ch for ch in self.channels if ch.role == role]

    def stream_channels(self, stream: str) -> list[Channel]:
        return sorted((ch for ch in self.channels if ch.stream == stream), key=lambda c: c.column)

    @property
    def reference_stream(self) -> StreamMeta:
        """The stream whose clock the display follows: the thrust channel's, else the fastest."""
        thrust = self.by_role("thrust")
        if thrust:
            return self.streams[thrust[0].stream]
        return max(self.streams.values(), key=lambda s: s.rate_hz)

    @classmethod
    def from_publisher(cls, d: dict) -> "RunMeta":
        """From the ``meta`` message of :mod:`hotfire.daq.publisher`."""
        streams = {name: StreamMeta(name, float(s["rate_hz"]), tuple(s["channels"]),
                                    calculated=bool(s.get("calculated")))
                   for name, s in d["streams"].items()}
        channels = [Channel.from_json(c) for c in d["channels"]]
        return cls(d["test_id"], d.get("rig", ""), d.get("source", ""), streams, channels,
                   float(d.get("pretrigger_s", 0.0)))

    @classmethod
    def from_run(cls, run) -> "RunMeta":
        """From an open :class:`hotfire.core.runfile.reader.Run`."""
        streams = {name: StreamMeta(name, s.rate_hz, s.channels, s.start_offset_s) for name, s in run.streams.items()}
        channels = list(run.channels)
        return cls(run.test_id, run.rig_name, str(run.metadata.get("source", "")), streams, channels,
                   run.t0, run.path)
