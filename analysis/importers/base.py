"""What every import shares: the error, a column's mapping to a channel, the import's options."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hotfire.core.errors import HotfireError


class ImportFailed(HotfireError):
    """A foreign file cannot be imported; the message names file, line and column where it can."""


@dataclass
class ChannelSpec:
    """How one column of a foreign file becomes a channel: the source column and the fields of
    its :class:`hotfire.core.channel.Channel` the mapping gives (the rest are the import's).

    ``scale`` and ``offset`` turn the file's values into ``units`` (``value * scale + offset``,
    e.g. volts of a load-cell amplifier into newtons); the import then converts ``units`` to SI.
    """

    source: str  # column / "group/channel" in the file
    name: str = ""
    role: str = ""  # "" until given or inferred from the column's name
    units: str = ""
    uncertainty: dict = field(default_factory=dict)
    scale: float = 1.0
    offset: float = 0.0
    why: str = "given"  # how the role was chosen (printed with the mapping)
    file_units: str = ""  # the units the file writes (``units`` is SI once resolved)


@dataclass
class Mapping:
    """Column -> channel mapping, time base and run metadata for an import.

    Column keys are the column's name as the file writes it, or ``FILE:COLUMN`` (file name or
    stem) when several files are imported into one run.
    """

    channels: dict[str, ChannelSpec] = field(default_factory=dict)  # by source column
    time: str | None = None  # time column; None: inferred from the names (else the first column)
    time_units: str | None = None  # None: from the time column's name, else seconds
    t0: float | None = None  # file time of T0
    cutoff: float | None = None  # file time of cutoff
    rate_hz: float | None = None  # sample rate of a file without time, or resampling rate for non-uniform time
    gap_s: float | None = None  # an interval longer than this is a gap (None: the rule in timebase)
    repeated: str = "auto"  # repeated time stamps: "steps" (RASP), "clock" (coarse logger clock), "auto"
    align: list[str] = field(default_factory=list)  # "CHANNEL>VALUE[UNITS]", one per file
    offsets: dict[str, float] = field(default_factory=dict)  # file name or stem -> seconds added to its clock
    article: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    only_mapped: bool = False

    def given(self, source: str, file: Path | None = None) -> ChannelSpec | None:
        """The spec the user gave for ``source`` (of ``file``), or None."""
        if file is not None:
            for key in (f"{file.name}:{source}", f"{file.stem}:{source}"):
                if key in self.channels:
                    return self.channels[key]
        return self.channels.get(source)

    def offset_for(self, file: Path) -> float | None:
        for key in (file.name, file.stem, str(file)):
            if key in self.offsets:
                return self.offsets[key]
        return None


def parse_channel_option(text: str) -> ChannelSpec:
    """``COLUMN=role[:units[:NAME]]`` (the command line's ``--channel``)."""
    from hotfire.analysis.importers.header import units_from_name

    if "=" not in text:
        raise ImportFailed(f"--channel {text!r}: expected COLUMN=role[:units[:NAME]]")
    col, rest = text.split("=", 1)
    parts = rest.split(":")
    role = parts[0] or "other"
    units = parts[1] if len(parts) > 1 else units_from_name(col.split(":")[-1])
    name = parts[2] if len(parts) > 2 else ""
    return ChannelSpec(col, name, role, units)


def parse_scale_option(text: str, m: Mapping) -> None:
    """``COLUMN=FACTOR[,OFFSET]`` (``--scale``): the column's values times FACTOR plus OFFSET."""
    col, eq, rest = text.partition("=")
    try:
        parts = [float(x) for x in rest.split(",")]
        if not eq or not 1 <= len(parts) <= 2:
            raise ValueError
    except ValueError:
        raise ImportFailed(f"--scale {text!r}: expected COLUMN=FACTOR[,OFFSET] (numbers)") from None
    sp = m.channels.setdefault(col, ChannelSpec(col))
    sp.scale = parts[0]
    sp.offset = parts[1] if len(parts) > 1 else 0.0


_KEYS = {"time", "time_units", "t0", "cutoff", "rate_hz", "gap_s", "repeated", "align", "offsets", "article",
         "metadata", "columns", "only_mapped"}
_COLUMN_KEYS = ("role", "units", "name", "uncertainty", "scale", "offset")


def load_mapping(path) -> Mapping:
    """A sidecar TOML: ``time``, ``time_units``, ``t0``, ``cutoff``, ``rate_hz``, ``gap_s``,
    ``repeated``, ``align`` (list), ``[offsets]``, ``[article]``, ``[metadata]``, and
    ``[columns."<column>"]`` tables with ``role``, ``units``, ``name``, ``uncertainty``,
    ``scale``, ``offset``."""
    from hotfire.analysis.importers.header import units_from_name

    p = Path(path)
    try:
        d = tomllib.loads(p.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportFailed(f"{p}: cannot read the mapping: {exc}") from None
    for k in d:
        if k not in _KEYS:
            raise ImportFailed(f"{p}: {k}: unknown key (expected one of: {', '.join(sorted(_KEYS))})")
    align = d.get("align", [])
    m = Mapping(time=d.get("time"), time_units=d.get("time_units"), t0=d.get("t0"), cutoff=d.get("cutoff"),
                rate_hz=d.get("rate_hz"), gap_s=d.get("gap_s"), repeated=d.get("repeated", "auto"),
                align=[align] if isinstance(align, str) else list(align), offsets=dict(d.get("offsets", {})),
                article=dict(d.get("article", {})), metadata=dict(d.get("metadata", {})),
                only_mapped=bool(d.get("only_mapped", False)))
    for col, spec in d.get("columns", {}).items():
        for k in spec:
            if k not in _COLUMN_KEYS:
                raise ImportFailed(f"{p}: columns.{col}.{k}: unknown key (expected {', '.join(_COLUMN_KEYS)})")
        m.channels[col] = ChannelSpec(col, spec.get("name", ""), spec.get("role", ""),
                                      spec.get("units", units_from_name(col.split(":")[-1])),
                                      dict(spec.get("uncertainty", {})), float(spec.get("scale", 1.0)),
                                      float(spec.get("offset", 0.0)))
    return m
