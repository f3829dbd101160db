"""Which channels an analysis reads: chosen by the caller, from the rig's roles or by hand.

    >>> from hotfire.analysis.channels import Channels
    >>> with open_run("runs/LE5-003.h5") as run:
    ...     ch = Channels.from_roles(run)                        # what hotfire analyze reads
    ...     ch = Channels(thrust=[run.view("LC-A")], chamber_pressure=[run.view("PC-2")])  # or by hand
    ...     perf = performance.analyze(ch)

Each quantity is a list of candidate channels
(:class:`~hotfire.core.runfile.view.ChannelView`, lazy: nothing is read
until an analysis asks), best first: the analyses use, over each span, the
first candidate that :mod:`hotfire.core.health` finds usable there
(:class:`Picker`), except thrust, whose load cells are all summed
(:mod:`hotfire.core.calculated`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotfire.core.rig import Article
    from hotfire.core.runfile.reader import Run
    from hotfire.core.runfile.view import ChannelView

#: quantity -> the roles whose channels are its candidates, in order (a high-rate Pc stands in for a static one)
ROLES = {
    "thrust": ("thrust",),
    "chamber_pressure": ("chamber_pressure", "chamber_pressure_dynamic"),
    "ox_mass_flow": ("ox_mass_flow",),
    "fuel_mass_flow": ("fuel_mass_flow",),
    "ox_tank_mass": ("ox_tank_mass",),
    "fuel_tank_mass": ("fuel_tank_mass",),
    "ox_injector_pressure": ("ox_injector_pressure",),
    "fuel_injector_pressure": ("fuel_injector_pressure",),
}


@dataclass
class Channels:
    """The channels of one run that the thrust and performance analyses read, by quantity.

    Every list holds views of the same run; its events (T0, cutoff), test
    article and metadata are that run's.
    """

    thrust: list["ChannelView"] = field(default_factory=list)  # load cells, summed
    chamber_pressure: list["ChannelView"] = field(default_factory=list)
    ox_mass_flow: list["ChannelView"] = field(default_factory=list)
    fuel_mass_flow: list["ChannelView"] = field(default_factory=list)
    ox_tank_mass: list["ChannelView"] = field(default_factory=list)
    fuel_tank_mass: list["ChannelView"] = field(default_factory=list)
    ox_injector_pressure: list["ChannelView"] = field(default_factory=list)
    fuel_injector_pressure: list["ChannelView"] = field(default_factory=list)

    @classmethod
    def from_roles(cls, run: "Run") -> "Channels":
        """Every channel of ``run`` by its role (:data:`ROLES`), in the rig's order."""
        return cls(**{q: [v for r in roles for v in run.views(r)] for q, roles in ROLES.items()})

    def views(self) -> list["ChannelView"]:
        """Every candidate, once each."""
        seen: dict[str, ChannelView] = {}
        for f in fields(self):
            for v in getattr(self, f.name):
                seen.setdefault(v.name, v)
        return list(seen.values())

    @property
    def run(self) -> "Run":
        """The run the channels belong to."""
        views = self.views()
        if not views:
            raise ValueError("no channels given")
        run = views[0].run
        if any(v.run is not run for v in views):
            raise ValueError("channels of different runs: " + ", ".join(f"{v.name} ({v.run.path})" for v in views))
        return run

    @property
    def article(self) -> "Article":
        return self.run.article

    @property
    def flow_source(self) -> str:
        """Where mass flows come from: ``"flow meters"``, ``"tank mass"`` (weigh scales) or ``""`` (none)."""
        if self.ox_mass_flow and self.fuel_mass_flow:
            return "flow meters"
        if self.ox_tank_mass and self.fuel_tank_mass:
            return "tank mass"
        return ""


#: a channel whose failed spans cover at most this fraction of a window is used there without them
MAX_EXCLUDED = 0.25
#: a failed span is left out this much wider at each end (the samples next to a jump)
GUARD_S = 0.005


def _record_span(view) -> float:
    a, b = view.span()
    return float(b - a)


def _failed_within(h, view, window) -> list:
    """``h``'s failed spans inside ``window`` (None: all), widened by ``GUARD_S`` and clipped, with why."""
    lo, hi = window if window else (-float("inf"), float("inf"))
    out = []
    for a0, b0 in h.failed_intervals:
        a, b = max(a0 - GUARD_S, lo), min(b0 + GUARD_S, hi)
        if b > a:
            out.append((a, b, _why(h, a0)))
    return out


def _why(h, start) -> str:
    """The problem of ``h`` that starts at ``start`` (its text up to " from "), else all of them."""
    for p in h.problems:
        if f"from {start:+.3f} s" in p:
            return p.split(" from ")[0]
    return "; ".join(h.problems)


class Picker:
    """Chooses, per span, the first candidate of a quantity that health finds usable; notes the others once."""

    def __init__(self, channels: Channels, health: dict, notes: list):
        self.channels, self.health, self.notes = channels, health, notes
        self._said: set[str] = set()

    def pick(self, quantity: str, window=None) -> "ChannelView | None":
        """The first candidate of ``quantity`` usable over ``window`` (seconds from T0; None: the record)."""
        for v in getattr(self.channels, quantity):
            h = self.health.get(v.name)
            if h is None or h.usable(*(window or (None, None))):
                if v.role != quantity:
                    self._say(f"{quantity}: no healthy channel, using {v.name} ({v.role}) instead")
                return v
            self._say(f"{v.name} ({v.role}) not used: {'; '.join(h.problems)}")
        return None

    def pick_valid(self, quantity: str, window=None):
        """The channel of ``quantity`` to use over ``window``, and the failed spans to leave out of it.

        The first candidate healthy over the whole window is used whole. A
        candidate whose failed spans cover at most ``MAX_EXCLUDED`` of the
        window (a dropout that recovers) is preferred to a later one (a
        high-rate stand-in): a failed span masks only itself. ``window``
        None: the record.

        Returns
        -------
        (ChannelView, list of (float, float, str)) or (None, [])
            The view, and its failed spans inside the window (seconds from T0,
            widened by ``GUARD_S``) with why.
        """
        for v in getattr(self.channels, quantity):
            h = self.health.get(v.name)
            if h is None or h.usable(*(window or (None, None))):
                return self.pick(quantity, window), []
            spans = _failed_within(h, v, window)
            span = (window[1] - window[0]) if window else _record_span(v)
            lost = sum(y - x for x, y, _ in spans)
            if span > 0 and lost <= MAX_EXCLUDED * span:
                return v, spans
        return self.pick(quantity, window), []

    def _say(self, msg):
        if msg not in self._said:
            self._said.add(msg)
            self.notes.append(msg)
