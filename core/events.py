"""Events: sample-exact marks in a run (T0, cutoff, redline, gap, ...)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

KINDS = ("T0", "cutoff", "redline", "warning", "clear", "gap", "driver_error",
         "alarm", "note", "trigger", "sensor")


@dataclass(frozen=True)
class Event:
    """Something that happened at an exact sample of a stream.

    Attributes
    ----------
    kind : str
        One of ``KINDS``.
    stream : str
        The stream whose sample clock dates the event.
    sample : int
        Absolute sample index in ``stream``.
    message : str
        Human-readable text.
    channel : str
        The channel concerned, if any.
    """

    kind: str
    stream: str
    sample: int
    message: str = ""
    channel: str = ""

    def to_dict(self) -> dict:
        return asdict(self)
