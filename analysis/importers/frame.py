"""A parsed foreign file (a :class:`Frame`) and its channels: names, roles and units resolved.

Every reader (table, LabVIEW, JSON, RASP) produces a Frame: the file's
values by column, its time stamps (or none, for a stated rate) and where
each sample came from. :func:`resolve` decides each column's channel: the
mapping's word first, else the role and units its header suggests
(:mod:`hotfire.analysis.importers.header`), and records why, for the
mapping ``hotfire import`` prints.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hotfire.analysis.importers.base import ChannelSpec, ImportFailed, Mapping
from hotfire.core.rig import ROLES
from hotfire.analysis.importers.header import (
    TIME_UNITS, base_name, clean_name, role_from_name, to_si_affine, units_from_name,
)


@dataclass
class Frame:
    """One file's samples before they become a stream."""

    path: Path
    fmt: str
    names: list[str]  # column names as written
    data: np.ndarray  # (n, k) the file's values, NaN where a cell is blank
    where: Callable[[int, int], str]  # (row, column) -> "file:line: column 'X'"
    rows: list[int]  # file line (or record number) of each row
    units: list[str] = field(default_factory=list)  # units written with each column ("" none)
    t: np.ndarray | None = None  # seconds on the file's clock; None: from the rate
    time_name: str = ""  # how the time base was found (printed)
    rate_hz: float | None = None  # the file's own rate when it states one (LabVIEW Delta_X)
    wallclock: float | None = None  # seconds since the epoch at t = 0, when the stamps are date-times
    curve: bool = False  # a digitised curve (points joined by straight lines: no gaps)
    layout: str = ""  # what the sniffing found (printed)
    notes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    specs: list[ChannelSpec] = field(default_factory=list)  # resolved, one per kept column
    keep: list[int] = field(default_factory=list)  # columns kept, in order of specs

    def where_time(self, i: int) -> str:
        return self.where(i, -1)

    def eu(self, j: int) -> np.ndarray:
        """Kept column ``j`` (index into ``specs``) in SI."""
        sp = self.specs[j]
        return self.data[:, self.keep[j]] * sp.scale + sp.offset


def pick_time(names: list[str], m: Mapping, path: Path, monotonic: Callable[[int], bool]) -> tuple[int | None, str]:
    """(index of the time column or None, how it was chosen)."""
    if m.time is not None:
        if m.time not in names:
            raise ImportFailed(f"{path}: no time column {m.time!r} (columns: {', '.join(names)})")
        return names.index(m.time), "given (--time)"
    for j, n in enumerate(names):
        sp = m.given(n, path)
        if sp is not None and sp.role == "time":
            return j, "given (--channel)"
    for j, n in enumerate(names):
        if m.given(n, path) is None and role_from_name(n)[0] == "time":
            return j, f"from its name {base_name(n)!r}"
    if m.rate_hz:
        return None, ""
    if names and monotonic(0):
        return 0, "the first (no name says time; it never decreases)"
    raise ImportFailed(f"{path}: no time column: no column's name says time ({', '.join(names)}) and the first "
                       "decreases: name it with --time COLUMN, or give the sample rate with --rate HZ")


def time_scale(name: str, m: Mapping, where: str) -> float:
    u = m.time_units or units_from_name(name) or "s"
    if u.lower() not in TIME_UNITS and u not in TIME_UNITS:
        raise ImportFailed(f"{where}: time units {u!r}: expected one of {', '.join(sorted(set(TIME_UNITS)))} "
                           "(--time-units)")
    return TIME_UNITS.get(u, TIME_UNITS.get(u.lower(), 1.0))


def resolve(frame: Frame, m: Mapping, exclude: set[int] = frozenset()) -> None:
    """Fill ``frame.specs``/``keep``: role, name, units (SI) and scale of every kept column."""
    specs, keep = [], []
    for j, col in enumerate(frame.names):
        if j in exclude:
            continue
        given = m.given(col, frame.path)
        if given is None and m.only_mapped:
            continue
        sp = copy.copy(given) if given is not None else ChannelSpec(col)
        sp.source = col
        if sp.role == "skip":
            continue
        if sp.role == "time":
            raise ImportFailed(f"{frame.path}: column {col!r} is given role time, but the time base is "
                               f"{frame.time_name or 'another column'}")
        written = sp.units or (frame.units[j] if j < len(frame.units) and frame.units[j] else units_from_name(col))
        si, scale, offset, note = to_si_affine(written)
        if note:
            frame.notes.append(f"column {col!r}: {note}")
        sp.scale, sp.offset = sp.scale * scale, sp.offset * scale + offset
        sp.units = si
        sp.file_units = written
        if given is None or not given.role:
            sp.role, sp.why = role_from_name(col, si)
        else:
            sp.why = "given"
        if sp.role not in ROLES and sp.role != "chamber_pressure?":
            raise ImportFailed(f"{frame.path}: column {col!r}: unknown role {sp.role!r} "
                               f"(known: {', '.join(ROLES)}, time, skip)")
        sp.name = sp.name or clean_name(col)
        specs.append(sp)
        keep.append(j)
    frame.specs, frame.keep = specs, keep


def settle_guesses(frames: list[Frame]) -> None:
    """A lone unqualified pressure is the chamber pressure; otherwise guesses are ``other``."""
    guessed = [sp for f in frames for sp in f.specs if sp.role == "chamber_pressure?"]
    has_pc = any(sp.role == "chamber_pressure" for f in frames for sp in f.specs)
    for sp in guessed:
        if len(guessed) == 1 and not has_pc:
            sp.role = "chamber_pressure"
            sp.why += ", the only pressure"
        else:
            sp.role, sp.why = "other", "an unqualified pressure among several (name its role with --channel)"


def check_given(frames: list[Frame], m: Mapping) -> None:
    """Every column the mapping names exists in some file (a typo is an error, not ignored)."""
    for key in m.channels:
        found = False
        for f in frames:
            for col in f.names:
                if key in (col, f"{f.path.name}:{col}", f"{f.path.stem}:{col}"):
                    found = True
        if not found:
            cols = "; ".join(f"{f.path.name}: {', '.join(f.names)}" for f in frames)
            raise ImportFailed(f"no column {key!r} (columns: {cols})")
