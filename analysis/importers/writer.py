"""Imported streams as a run file (format v1).

Each channel stores the file's values as they are (float64, kind
``voltage``) with a linear calibration to SI (the file's units, any
``scale``/``offset`` the mapping gives, then :mod:`hotfire.core.units`), so
the run reads in SI and the file's own numbers stay recoverable. Gaps are
gaps of the stream (no rows, see docs/runfile-format.md) with a ``gap``
event each; alignment points are ``note`` events.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.analysis.importers.base import ChannelSpec, ImportFailed, Mapping
from hotfire.analysis.importers.header import clean_name
from hotfire.core.channel import Channel, rig_table
from hotfire.core.errors import HotfireError
from hotfire.core.rig import ROLES, parse_rig
from hotfire.core.events import Event
from hotfire.core.runfile.writer import RunFileWriter


@dataclass
class Stream:
    """One sample clock of the run: channels ``specs`` in blocks of rows (file values)."""

    name: str
    rate_hz: float
    t_first: float  # run time of sample 0
    specs: list[ChannelSpec]
    blocks: list[tuple[int, np.ndarray]]  # (first sample index, (n, k) file values)
    events: list[tuple[str, int, str, str]] = field(default_factory=list)  # (kind, sample, channel, message)

    @property
    def data(self) -> np.ndarray:
        return np.concatenate([b for _, b in self.blocks]) if self.blocks else np.empty((0, len(self.specs)))


def _toml_str(s) -> str:
    return json.dumps(str(s))


def write_run(out, streams: list[Stream], mapping: Mapping, source: dict, test_id: str,
              start_time: _dt.datetime | None = None) -> Path:
    """A run file from streams of file values and their specs (``scale``/``offset`` to SI ``units``)."""
    out = Path(out)
    art = dict(mapping.article)
    art.setdefault("serial", test_id)
    lines = ["# Written by hotfire import: channels hold the file's values with a linear calibration to SI",
             "# units; see the run's /import group.", "",
             "[rig]", f"name = {_toml_str('import-' + source['format'])}",
             f"description = {_toml_str('Imported from ' + Path(source['file']).name)}", "", "[article]"]
    for k, v in art.items():
        lines.append(f"{k} = {_toml_str(v) if isinstance(v, str) else json.dumps(v)}")
    lines.append("")
    names_used: set[str] = set()
    for st in streams:
        lines += [f"[streams.{st.name}]", f"rate_hz = {st.rate_hz!r}", 'dtype = "float64"', 'device = "import"', ""]
    for st in streams:
        data = st.data
        for j, sp in enumerate(st.specs):
            name = sp.name or clean_name(sp.source)
            while name in names_used:
                name += "_"
            names_used.add(name)
            sp.name = name
            if sp.role not in ROLES:
                raise ImportFailed(f"{sp.source}: unknown role {sp.role!r} (known: {', '.join(ROLES)}, time, skip)")
            if not np.isfinite(sp.scale) or sp.scale == 0 or not np.isfinite(sp.offset):
                raise ImportFailed(f"{sp.source}: scale {sp.scale!r} and offset {sp.offset!r} must be finite, "
                                   "the scale not 0")
            col = data[:, j]
            fin = col[np.isfinite(col)]
            lo, hi = (float(fin.min()), float(fin.max())) if len(fin) else (0.0, 1.0)
            span = max(hi - lo, abs(hi), 1.0)
            cal = {"type": "linear", "slope": float(sp.scale)}
            if sp.offset:
                cal["offset"] = float(sp.offset)
            ch = Channel(name=name, stream=st.name, column=j, physical=f"import/{st.name}/{sp.source}",
                         kind="voltage", range=(lo - span, hi + span), units=sp.units, role=sp.role,
                         calibration=cal, adc={}, uncertainty={k: float(v) for k, v in sp.uncertainty.items()})
            lines.append(rig_table(ch))
    text = "\n".join(lines)
    try:
        rig = parse_rig(text, f"<import of {source['file']}>")
    except HotfireError as exc:
        raise ImportFailed(f"the mapping does not make a valid rig: {exc}") from None
    meta = {"test_id": test_id, "source": "import", "notes": str(mapping.metadata.get("notes", ""))}
    meta.update({k: v for k, v in mapping.metadata.items() if k != "notes"})
    w = RunFileWriter(out, rig, meta, extra={"import": {"source": source}},
                      start_time=start_time or _dt.datetime.now(_dt.timezone.utc))
    try:
        ev = []
        for st in streams:
            w.set_start_offset(st.name, st.t_first)
            for k0, rows in st.blocks:
                w.append(st.name, k0, np.ascontiguousarray(rows, dtype=float))
            ev += [Event(kind, st.name, s, msg, chan) for kind, s, chan, msg in st.events]
        ref = streams[0]
        for kind, tf in (("T0", mapping.t0), ("cutoff", mapping.cutoff)):
            if tf is not None:
                s = int(round((tf - ref.t_first) * ref.rate_hz))
                ev.append(Event(kind, ref.name, s, f"{kind} (given at import)"))
        w.add_events(ev)
        w.set_attrs(end_time_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"))
    finally:
        w.close()
    return out
