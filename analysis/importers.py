"""Foreign recordings as run files (format v1): CSV, NI TDMS, RASP .eng.

Legacy data joins analyses and comparisons once it is a run file. An import
writes the samples as they are in the file, already in engineering units:
each channel is stored as float64 with an identity calibration (kind
``voltage``, ``signal = value``), and the run's ``/import`` group records
the source file, its format and what was done to it. Channels get their
role and units from a small mapping (command line or sidecar TOML); a
channel without a role gets ``other``.

Time bases: a uniformly sampled file keeps its rate; a non-uniform one (a
digitised thrust curve) is resampled by linear interpolation at
``rate_hz``, and the import group says so. Without a T0 given, the run has
no T0 event and times are the file's.

A RASP .eng curve implicitly starts at (0, 0); the import adds that point.
Its header gives the motor's propellant mass, kept as the run's
``propellant_mass_kg`` attribute (so Isp from impulse / propellant mass is
computed).
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.core.channel import Channel, rig_table
from hotfire.core.rig import ROLES, parse_rig
from hotfire.core.runfile.schema import EVENT_DTYPE
from hotfire.core.runfile.writer import RunFileWriter
from hotfire.core.units import _TABLE as _UNITS
from hotfire.core.errors import HotfireError

FORMATS = ("csv", "tdms", "eng")


class ImportFailed(HotfireError):
    """A foreign file cannot be imported; the message says why."""


@dataclass
class ChannelSpec:
    """How one column of a foreign file becomes a channel: the source column and the fields of
    its :class:`hotfire.core.channel.Channel` the mapping gives (the rest are the import's)."""

    source: str  # column / "group/channel" in the file
    name: str = ""
    role: str = "other"
    units: str = ""
    uncertainty: dict = field(default_factory=dict)


@dataclass
class Mapping:
    """Column -> channel mapping and run metadata for an import."""

    channels: dict[str, ChannelSpec] = field(default_factory=dict)  # by source column
    time: str | None = None  # time column (CSV); None: the first column
    time_units: str = "s"
    t0: float | None = None  # file time of T0
    cutoff: float | None = None  # file time of cutoff
    rate_hz: float | None = None  # resampling rate for non-uniform time
    article: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    only_mapped: bool = False

    def spec(self, source: str) -> ChannelSpec | None:
        if source in self.channels:
            return self.channels[source]
        if self.only_mapped:
            return None
        return ChannelSpec(source, role="other", units=units_from_name(source))


_TIME_SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0}


def units_from_name(col: str) -> str:
    """Units written in a column name: ``thrust [N]``, ``Pc (bar)``, ``thrust_N``."""
    m = re.search(r"[\[(]\s*([^\])]+?)\s*[\])]\s*$", col)
    if m:
        return m.group(1)
    m = re.search(r"_([A-Za-z/]+)$", col)
    if m and m.group(1) in _UNITS:
        return m.group(1)
    return ""


def _clean_name(col: str) -> str:
    base = re.sub(r"\s*[\[(][^\])]*[\])]\s*$", "", col).strip()
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", base).strip("-") or "ch"


def parse_channel_option(text: str) -> ChannelSpec:
    """``COLUMN=role[:units[:NAME]]`` (the command line's ``--channel``)."""
    if "=" not in text:
        raise ImportFailed(f"--channel {text!r}: expected COLUMN=role[:units[:NAME]]")
    col, rest = text.split("=", 1)
    parts = rest.split(":")
    role = parts[0] or "other"
    units = parts[1] if len(parts) > 1 else units_from_name(col)
    name = parts[2] if len(parts) > 2 else ""
    return ChannelSpec(col, name, role, units)


def load_mapping(path) -> Mapping:
    """A sidecar TOML: ``time``, ``time_units``, ``t0``, ``cutoff``, ``rate_hz``,
    ``[article]``, ``[metadata]``, and ``[columns."<column>"]`` tables with
    ``role``, ``units``, ``name``, ``uncertainty``."""
    p = Path(path)
    try:
        d = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ImportFailed(f"{p}: cannot read the mapping: {exc}") from None
    known = {"time", "time_units", "t0", "cutoff", "rate_hz", "article", "metadata", "columns", "only_mapped"}
    for k in d:
        if k not in known:
            raise ImportFailed(f"{p}: {k}: unknown key (expected one of: {', '.join(sorted(known))})")
    m = Mapping(time=d.get("time"), time_units=d.get("time_units", "s"), t0=d.get("t0"), cutoff=d.get("cutoff"),
                rate_hz=d.get("rate_hz"), article=dict(d.get("article", {})), metadata=dict(d.get("metadata", {})),
                only_mapped=bool(d.get("only_mapped", False)))
    for col, spec in d.get("columns", {}).items():
        for k in spec:
            if k not in ("role", "units", "name", "uncertainty"):
                raise ImportFailed(f"{p}: columns.{col}.{k}: unknown key (expected role, units, name, uncertainty)")
        m.channels[col] = ChannelSpec(col, spec.get("name", ""), spec.get("role", "other"),
                                      spec.get("units", units_from_name(col)), dict(spec.get("uncertainty", {})))
    return m


# ---------------------------------------------------------------------------
# writing

@dataclass
class _Stream:
    name: str
    rate_hz: float
    t_first: float  # file time of the first sample
    specs: list[ChannelSpec]
    data: np.ndarray  # (n, k) float64, engineering units


def _toml_str(s) -> str:
    return json.dumps(str(s))


def _uniform(t: np.ndarray, rate_hz: float | None, rel_tol: float = 1e-3):
    """(rate, t_first, resampled?) for a time column."""
    if len(t) < 2:
        raise ImportFailed("need at least two samples")
    dt = np.diff(t)
    if np.any(dt <= 0):
        raise ImportFailed("time must increase strictly")
    steps = dt <= 10 * STEP_S  # a step's twin rows (_steps) say nothing of the sample period
    d = dt[~steps] if (~steps).any() else dt
    med = float(np.median(d))
    if not steps.any() and np.max(np.abs(dt - med)) <= rel_tol * med and rate_hz is None:
        return 1.0 / med, float(t[0]), False
    return float(rate_hz or max(1000.0, min(1e5, 4.0 / float(d.min())))), float(t[0]), True


def _resample(t, cols, rate):
    n = int(np.floor((t[-1] - t[0]) * rate + 1e-9)) + 1
    tt = t[0] + np.arange(n) / rate
    return tt, np.column_stack([np.interp(tt, t, c) for c in cols.T]) if cols.ndim == 2 else np.interp(tt, t, cols)


def write_run(out, streams: list[_Stream], mapping: Mapping, source: dict, test_id: str) -> Path:
    """A run file (format v1) from already-scaled streams."""
    out = Path(out)
    art = dict(mapping.article)
    art.setdefault("serial", test_id)
    lines = ["# Written by hotfire import: channels are stored in engineering units",
             "# (identity calibration); see the run's /import group.", "",
             "[rig]", f"name = {_toml_str('import-' + source['format'])}",
             f"description = {_toml_str('Imported from ' + Path(source['file']).name)}", "", "[article]"]
    for k, v in art.items():
        lines.append(f"{k} = {_toml_str(v) if isinstance(v, str) else json.dumps(v)}")
    lines.append("")
    names_used = set()
    for st in streams:
        lines += [f"[streams.{st.name}]", f"rate_hz = {st.rate_hz!r}", 'dtype = "float64"', 'device = "import"', ""]
    for st in streams:
        for j, sp in enumerate(st.specs):
            name = sp.name or _clean_name(sp.source)
            while name in names_used:
                name += "_"
            names_used.add(name)
            sp.name = name
            if sp.role not in ROLES:
                raise ImportFailed(f"{sp.source}: unknown role {sp.role!r} (known: {', '.join(ROLES)})")
            col = st.data[:, j]
            fin = col[np.isfinite(col)]
            lo, hi = (float(fin.min()), float(fin.max())) if len(fin) else (0.0, 1.0)
            span = max(hi - lo, abs(hi), 1.0)
            ch = Channel(name=name, stream=st.name, column=j, physical=f"import/{st.name}/{sp.source}",
                         kind="voltage", range=(lo - span, hi + span), units=sp.units, role=sp.role,
                         calibration={"type": "linear", "slope": 1.0}, adc={},
                         uncertainty={k: float(v) for k, v in sp.uncertainty.items()})
            lines.append(rig_table(ch))
    text = "\n".join(lines)
    try:
        rig = parse_rig(text, f"<import of {source['file']}>")
    except HotfireError as exc:
        raise ImportFailed(f"the mapping does not make a valid rig: {exc}") from None
    meta = {"test_id": test_id, "source": "import", "notes": mapping.metadata.pop("notes", "")}
    meta.update({k: v for k, v in mapping.metadata.items()})
    w = RunFileWriter(out, rig, meta, extra={"import": {"source": source}},
                      start_time=_dt.datetime.now(_dt.timezone.utc))
    try:
        ev = []
        for st in streams:
            w.f[f"streams/{st.name}"].attrs["start_offset_s"] = st.t_first
            w.append(st.name, 0, np.ascontiguousarray(st.data))
        ref = streams[0]
        for kind, tf in (("T0", mapping.t0), ("cutoff", mapping.cutoff)):
            if tf is not None:
                s = int(round((tf - ref.t_first) * ref.rate_hz))
                ev.append((kind, ref.name, s, s / ref.rate_hz + ref.t_first, "", f"{kind} (given at import)"))
        if ev:
            ds = w.f["events"]
            ds.resize(len(ev), axis=0)
            ds[:] = np.array(ev, dtype=EVENT_DTYPE)
        w.set_attrs(end_time_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"))
    finally:
        w.close()
    return out


# ---------------------------------------------------------------------------
# readers

def _split_streams(t, cols, specs, mapping, fmt):
    rate, t_first, resampled = _uniform(t, mapping.rate_hz)
    if resampled:
        t, cols = _resample(t, cols, rate)
    info = {"resampled": resampled}
    if resampled:
        info["resampling"] = f"linear interpolation at {rate:g} Hz"
    return [_Stream("s0", rate, float(t[0]), specs, np.asarray(cols, dtype=float))], info


def read_csv(path, mapping: Mapping):
    """Columns of a CSV file (``#`` comment lines skipped, one header row)."""
    p = Path(path)
    try:
        with open(p, newline="") as f:
            kept = [(i, line) for i, line in enumerate(f, 1) if line.strip() and not line.lstrip().startswith("#")]
        rows = list(csv.reader(line for _, line in kept))
        line_no = [i for i, _ in kept][1:]  # file line of each data row
    except OSError as exc:
        raise ImportFailed(f"{p}: {exc.strerror}") from None
    if len(rows) < 3:
        raise ImportFailed(f"{p}: expected a header row and at least two data rows")
    header = [h.strip() for h in rows[0]]
    for r, n in zip(rows[1:], line_no):
        if len(r) != len(header):
            raise ImportFailed(f"{p}:{n}: {len(r)} columns, the header has {len(header)} ({', '.join(header)})")
    try:
        data = np.array([[float(x) if x.strip() else np.nan for x in r] for r in rows[1:]], dtype=float)
    except ValueError as exc:
        raise ImportFailed(f"{p}: non-numeric data ({exc})") from None
    tcol = mapping.time or header[0]
    if tcol not in header:
        raise ImportFailed(f"{p}: no time column {tcol!r} (columns: {', '.join(header)})")
    for col in mapping.channels:
        if col not in header:
            raise ImportFailed(f"{p}: no column {col!r} (columns: {', '.join(header)})")
    ti = header.index(tcol)
    scale = _TIME_SCALE.get(mapping.time_units)
    if scale is None:
        raise ImportFailed(f"time units {mapping.time_units!r}: expected one of {', '.join(_TIME_SCALE)}")
    t = _steps(p, data[:, ti] * scale, line_no, tcol, mapping)
    specs, cols = [], []
    for j, h in enumerate(header):
        if j == ti:
            continue
        sp = mapping.spec(h)
        if sp is not None:
            sp.units = sp.units or units_from_name(h)
            specs.append(sp)
            cols.append(data[:, j])
    if not specs:
        raise ImportFailed(f"{p}: no channel to import")
    return t, np.column_stack(cols), specs


#: how far after its twin a repeated time stamp is put (far less than any sample period of a recording)
STEP_S = 1e-6


def _steps(p, t, line_no, tcol, mapping):
    """Time stamps checked: going backwards is an error naming file:line; a repeated stamp is a step
    (RASP's convention: two rows at one time draw a vertical edge), the later row put ``STEP_S`` after."""
    dt = np.diff(t)
    back = np.flatnonzero(dt < 0)
    if back.size:
        k = int(back[0]) + 1
        raise ImportFailed(f"{p}:{line_no[k]}: column {tcol!r}: time goes backwards "
                           f"({t[k - 1]:g} on line {line_no[k - 1]}, then {t[k]:g})")
    same = np.flatnonzero(dt == 0)
    if not same.size:
        return t
    t = t.copy()
    for k in same:
        t[k + 1] = t[k] + STEP_S
    if np.any(np.diff(t) <= 0):
        raise ImportFailed(f"{p}:{line_no[int(same[0]) + 1]}: column {tcol!r}: more than two rows share a time "
                           "stamp (a step is two rows)")
    mapping.metadata.setdefault("import_note", f"{len(same)} repeated time stamp(s) read as steps (RASP "
                                f"convention: the later row {STEP_S:g} s after), first at line {line_no[int(same[0])]}")
    return t


def import_csv(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import a CSV file (a time column and channels) as a run file."""
    m = mapping or Mapping()
    t, cols, specs = read_csv(path, m)
    streams, info = _split_streams(t, cols, specs, m, "csv")
    src = {"format": "csv", "file": str(path), "time_column": m.time or "(first column)", **info,
           "samples": int(len(t))}
    return write_run(out, streams, m, src, test_id or Path(path).stem)


def parse_eng(text: str, where: str = "<eng>"):
    """A RASP .eng motor file: (header dict, t, thrust) with the implicit (0, 0) point added."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(";")]
    if not lines:
        raise ImportFailed(f"{where}: empty .eng file")
    head = lines[0].split()
    if len(head) < 7:
        raise ImportFailed(f"{where}: header line needs 7 fields (name diameter length delays propellant_kg "
                           f"total_kg manufacturer), got {lines[0]!r}")
    try:
        hdr = {"name": head[0], "diameter_mm": float(head[1]), "length_mm": float(head[2]), "delays": head[3],
               "propellant_kg": float(head[4]), "total_kg": float(head[5]), "manufacturer": " ".join(head[6:])}
    except ValueError:
        raise ImportFailed(f"{where}: bad header line {lines[0]!r}") from None
    pts = []
    for ln in lines[1:]:
        parts = ln.split()
        if len(parts) < 2:
            raise ImportFailed(f"{where}: expected 'time thrust', got {ln!r}")
        try:
            pts.append((float(parts[0]), float(parts[1])))
        except ValueError:
            raise ImportFailed(f"{where}: expected numbers, got {ln!r}") from None
    if len(pts) < 2:
        raise ImportFailed(f"{where}: fewer than two data points")
    t = np.array([p[0] for p in pts])
    f = np.array([p[1] for p in pts])
    if t[0] > 0:
        t, f = np.concatenate(([0.0], t)), np.concatenate(([0.0], f))
    return hdr, t, f


def import_eng(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import a RASP .eng thrust curve as a run file (one thrust channel)."""
    m = mapping or Mapping()
    p = Path(path)
    try:
        hdr, t, f = parse_eng(p.read_text(), str(p))
    except OSError as exc:
        raise ImportFailed(f"{p}: {exc.strerror}") from None
    m.rate_hz = m.rate_hz or 1000.0
    spec = m.channels.get("thrust") or ChannelSpec("thrust", "THRUST", "thrust", "N")
    streams, info = _split_streams(t, f[:, None], [spec], m, "eng")
    m.article.setdefault("serial", hdr["name"])
    if hdr["propellant_kg"] > 0:
        m.metadata.setdefault("propellant_mass_kg", hdr["propellant_kg"])
    src = {"format": "eng", "file": str(p), "motor": hdr, "points": int(len(t)), **info,
           "note": "RASP curves start implicitly at (0, 0); that point was added" if t[0] == 0 else ""}
    return write_run(out, streams, m, src, test_id or hdr["name"])


def import_tdms(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import an NI TDMS file: waveform channels (``wf_increment``) grouped by sample clock.

    Channels are named ``group/channel`` in the mapping; their units default
    to the ``unit_string`` property NI writes.
    """
    from nptdms import TdmsFile

    m = mapping or Mapping()
    p = Path(path)
    try:
        tf = TdmsFile.read(str(p))
    except Exception as exc:  # npTDMS raises assorted errors on bad files
        raise ImportFailed(f"{p}: not a readable TDMS file ({exc})") from None
    clocks: dict[tuple, list] = {}
    skipped = []
    for g in tf.groups():
        for ch in g.channels():
            key = f"{g.name}/{ch.name}"
            props = ch.properties
            inc = props.get("wf_increment")
            if inc is None or float(inc) <= 0:
                skipped.append(key)
                continue
            sp = m.channels.get(key) or m.channels.get(ch.name)
            if sp is None:
                if m.only_mapped:
                    continue
                sp = ChannelSpec(key, _clean_name(ch.name), "other", str(props.get("unit_string", "")))
            else:
                sp.source = key
                sp.name = sp.name or _clean_name(ch.name)
                if not sp.units:
                    sp.units = str(props.get("unit_string", ""))
            start = props.get("wf_start_offset", 0.0)
            data = np.asarray(ch[:], dtype=float)
            clocks.setdefault((float(inc), float(start), len(data)), []).append((sp, data))
    if not clocks:
        raise ImportFailed(f"{p}: no waveform channels (with wf_increment) to import"
                           + (f"; skipped {', '.join(skipped)}" if skipped else ""))
    streams = []
    for i, ((inc, start, n), chans) in enumerate(sorted(clocks.items(), key=lambda kv: kv[0][0])):
        streams.append(_Stream(f"s{i}", 1.0 / inc, start, [c[0] for c in chans],
                               np.column_stack([c[1] for c in chans])))
    src = {"format": "tdms", "file": str(p), "skipped_channels": skipped,
           "file_properties": {k: str(v) for k, v in tf.properties.items()}}
    return write_run(out, streams, m, src, test_id or p.stem)


def import_file(path, out, fmt: str | None = None, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import ``path`` as a run file ``out``; ``fmt`` from the extension when not given."""
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ImportFailed(f"{path}: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    fn = {"csv": import_csv, "tdms": import_tdms, "eng": import_eng}[fmt]
    return fn(path, out, mapping, test_id)


def export_csv(run, out, channels: list[str], t=None, rate_hz: float | None = None) -> Path:
    """Channels of a run to CSV: ``time_s`` (from T0) then ``NAME [units]`` columns.

    Channels of one stream keep their samples; channels of several streams
    are interpolated (linearly) onto the first channel's time base, or onto
    a uniform ``rate_hz`` base when given.
    """
    names = []
    for key in channels:
        if key in run._by_name:
            names.append(key)
        else:
            found = [c.name for c in run.channels if c.role == key]
            if not found:
                raise ImportFailed(f"{run.path}: no channel or role {key!r}")
            names.extend(found)
    sigs = [run.channel(n, t) for n in names]
    if rate_hz:
        a = max(s.t[0] for s in sigs)
        b = min(s.t[-1] for s in sigs)
        tb = a + np.arange(int(np.floor((b - a) * rate_hz)) + 1) / rate_hz
    else:
        tb = sigs[0].t
    cols = [s.values if (len(s.t) == len(tb) and np.array_equal(s.t, tb)) else np.interp(tb, s.t, s.values)
            for s in sigs]
    out = Path(out)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time_s"] + [f"{s.name} [{s.units}]" if s.units else s.name for s in sigs])
        np.savetxt(f, np.column_stack([tb] + cols), delimiter=",", fmt="%.10g")
    return out
