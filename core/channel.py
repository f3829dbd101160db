"""The one channel description: what a channel is, in every stage.

The rig parser builds :class:`Channel`; the run file's channel table
(:mod:`hotfire.core.runfile.schema`) stores one row per channel
(:meth:`Channel.to_row`, :meth:`Channel.from_row`); the reader gives it back;
the live publisher sends it to viewers as JSON (:meth:`Channel.to_json`,
:meth:`Channel.from_json`); the viewer and the analyses use it as is; the
importers write their rig file's channel tables from it (:func:`rig_table`).

**Adding a channel field is one change here**: declare it in
:class:`Channel` with one of the codecs below (``text``, ``number``,
``jsonable``...) and a default (run files written before it lack the
column; the reader then gives the default). ``rig=True`` makes it an
optional key of the rig file's channel table as well. The run-file column,
the live metadata and the viewer follow.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import h5py
import numpy as np

from hotfire.core.scaling import Scaling

KINDS = {  # kind -> signal units the driver delivers
    "voltage": "V",
    "current": "mA",
    "bridge": "mV/V",
    "thermocouple": "degC",
}


@dataclass(frozen=True)
class Limits:
    """Redline or warning bounds in engineering units (either may be None)."""

    min: float | None = None
    max: float | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}

    @classmethod
    def from_dict(cls, d: dict | None) -> "Limits | None":
        """``{}`` or None is no limit."""
        if not d:
            return None
        return cls(*(None if d.get(k) is None else float(d[k]) for k in ("min", "max")))


# -- codecs: a field's value <-> JSON-able value <-> run-file column -------------

@dataclass(frozen=True)
class Codec:
    """How a field is stored: ``column`` is the run-file column type ("str", "int" or "json")."""

    column: str
    encode: Callable[[Any], Any] = lambda v: v  # value -> JSON-able
    decode: Callable[[Any], Any] = lambda j: j  # JSON-able -> value


_TEXT = Codec("str", str, str)
_OPT_TEXT = Codec("str", lambda v: v or "", lambda j: j or None)  # "" in the file is None
_INT = Codec("int", int, int)
_NUMBER = Codec("json", lambda v: None if v is None else float(v), lambda j: None if j is None else float(j))
_JSON = Codec("json", lambda v: v, lambda j: j)
_RANGE = Codec("json", lambda v: [float(x) for x in v], lambda j: tuple(float(x) for x in j))
_LIMITS = Codec("json", lambda v: v.to_dict() if v else {}, Limits.from_dict)


def _field(codec: Codec, default=dataclasses.MISSING, default_factory=dataclasses.MISSING, rig: str = ""):
    return field(default=default, default_factory=default_factory, metadata={"codec": codec, "rig": rig})


def text(default=dataclasses.MISSING, *, optional: bool = False, rig: bool = False):
    """A string field (``optional``: None allowed, stored as "")."""
    return _field(_OPT_TEXT if optional else _TEXT, default, rig="text" if rig else "")


def integer(default=dataclasses.MISSING):
    return _field(_INT, default)


def number(default=dataclasses.MISSING, *, rig: bool = False):
    """A float or None."""
    return _field(_NUMBER, default, rig="number" if rig else "")


def jsonable(default_factory=dataclasses.MISSING):
    """A dict or list, stored as JSON text."""
    return _field(_JSON, default_factory=default_factory)


@dataclass(frozen=True)
class Channel:
    """One channel: where it is acquired, how it scales, what it measures.

    ``adc`` scales raw samples to the signal (``signal_units``),
    ``calibration`` the signal to engineering ``units`` (:mod:`hotfire.core.scaling`).
    """

    name: str = text()
    stream: str = text()
    column: int = integer()
    physical: str = text()
    kind: str = text()
    range: tuple[float, float] = _field(_RANGE)  # signal range, in signal units
    units: str = text()
    role: str = text()
    calibration: dict = jsonable()
    adc: dict = jsonable()
    terminal: str = text("default")
    excitation_V: float | None = number(None)
    thermocouple_type: str | None = text(None, optional=True)
    cjc: str | None = text(None, optional=True)
    serial: str = text("")
    cal_date: str = text("")
    redline: Limits | None = _field(_LIMITS, None)
    warning: Limits | None = _field(_LIMITS, None)
    uncertainty: dict = jsonable(dict)
    cal_due: str = text("")  # the calibration's expiry date ("" unknown); a report flags a run after it
    # New fields go here, each with a default (older run files lack them).

    @property
    def signal_units(self) -> str:
        return KINDS[self.kind]

    @cached_property
    def scaling(self) -> Scaling:
        """Raw samples -> engineering units (``adc`` then ``calibration``)."""
        return Scaling(self.adc, self.calibration)

    def replace(self, **changes) -> "Channel":
        return dataclasses.replace(self, **changes)

    # -- JSON (the live stream's metadata) ---------------------------------------
    def to_json(self) -> dict:
        """Every field as a JSON-able value."""
        return {f.name: f.metadata["codec"].encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, d: dict) -> "Channel":
        """From :meth:`to_json`'s dict; a missing field takes its default (an older sender).

        Raises
        ------
        ValueError
            If a field without a default is missing (the message names it and the channel).
        """
        kw = {}
        for f in dataclasses.fields(cls):
            if f.name in d:
                kw[f.name] = f.metadata["codec"].decode(d[f.name])
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"channel {d.get('name', '?')!r}: missing field {f.name!r}")
        return cls(**kw)

    # -- run-file rows ---------------------------------------------------------------
    def to_row(self) -> tuple:
        """This channel as a row of :data:`ROW_DTYPE` (``ROW_FIELDS`` order)."""
        j = self.to_json()
        j["signal_units"] = self.signal_units
        return tuple(json.dumps(j[n]) if c == "json" else j[n] for n, c in _COLUMNS)

    @classmethod
    def from_row(cls, row) -> "Channel":
        """From a row of a run file's channel table (a numpy record, or a dict).

        Columns this version does not know (a newer minor format) are
        ignored; fields the row lacks (an older file) take their defaults.
        """
        names = row.dtype.names if hasattr(row, "dtype") else tuple(row)
        d = {}
        for n, col in _COLUMNS:
            if n not in names:
                continue
            v = row[n]
            v = v.decode() if isinstance(v, bytes) else v.item() if isinstance(v, np.generic) else v
            d[n] = (json.loads(v) if v else None) if col == "json" else v
        return cls.from_json({k: v for k, v in d.items() if not (v is None and _optional_json(k))})


def _optional_json(name: str) -> bool:
    # an empty JSON cell of a dict/list field means "default", not None
    f = _BY_NAME.get(name)
    return f is not None and f.metadata["codec"] in (_JSON, _LIMITS, _RANGE)


_BY_NAME = {f.name: f for f in dataclasses.fields(Channel)}
#: the channel table's columns: every field, then the derived ``signal_units`` (for readers without hotfire)
_COLUMNS = tuple((f.name, f.metadata["codec"].column) for f in dataclasses.fields(Channel)) + (("signal_units", "str"),)
ROW_FIELDS = tuple(n for n, _ in _COLUMNS)
ROW_DTYPE = np.dtype([(n, "<i8" if c == "int" else h5py.string_dtype()) for n, c in _COLUMNS])


#: the keys of a rig file's channel table that hold a field as it is (``column`` and ``adc`` are the
#: parser's: the position in the stream, and the scaling the stream's dtype and range imply)
_RIG_KEYS = ("stream", "physical", "kind", "range", "calibration", "units", "role", "terminal", "excitation_V",
             "thermocouple_type", "cjc", "serial", "cal_date", "redline", "warning", "uncertainty", "cal_due")


def toml_value(v) -> str:
    """A TOML value for a str, bool, number, list or dict (an inline table)."""
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    raise TypeError(f"no TOML value for {v!r}")


def toml_key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k)


def rig_table(ch: Channel) -> str:
    """``ch`` as a rig file's ``[channels.NAME]`` table (what :func:`hotfire.core.rig.parse_rig` reads back).

    Keys at their default, and empty ones, are left out.
    """
    defaults = {f.name: f.default for f in dataclasses.fields(Channel)}
    keys = _RIG_KEYS + tuple(f.name for f in rig_fields())
    lines = [f"[channels.{toml_key(ch.name)}]"]
    for k in keys:
        v = _BY_NAME[k].metadata["codec"].encode(getattr(ch, k))
        if v is None or v == {} or (k in defaults and getattr(ch, k) == defaults[k]):
            continue
        if k == "calibration" and v == {"type": "none"}:
            continue
        lines.append(f"{k} = {toml_value(v)}")
    return "\n".join(lines) + "\n"


def rig_fields() -> list[dataclasses.Field]:
    """Fields declared with ``rig=True``: optional plain keys of a rig file's channel table
    (``field.metadata["rig"]`` is "text" or "number")."""
    return [f for f in dataclasses.fields(Channel) if f.metadata["rig"]]


def channel_rows(channels) -> np.ndarray:
    """The run file's channel table for ``channels``."""
    return np.array([ch.to_row() for ch in channels], dtype=ROW_DTYPE)
