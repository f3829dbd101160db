"""Reading run files from scripts: channels by name or role, in engineering
units, on a time base in seconds from T0, sliced without loading the file.

    >>> from hotfire.core.runfile.reader import open_run
    >>> with open_run("runs/LE5-003-20261125T221300.h5") as run:
    ...     pc = run.view("chamber_pressure")              # a lazy ChannelView: nothing read yet
    ...     pc.read((1, 2)), pc.chunks(seconds=5), pc.health
    ...     thrust = run.channel("LC-THRUST", t=(-1, 5))    # seconds from T0
    ...     thrust.t, thrust.values, thrust.units
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from hotfire.core.channel import Channel
from hotfire.core.runfile.chunkread import read_rows
from hotfire.core.runfile.integrity import (
    DamagedSpan, damaged_rows, has_checksums, row_spans_to_samples, segments_intact, table_crc,
)
from hotfire.core.runfile.schema import SCHEMA, SEGMENTS_CRC_ATTR, TABLE_CRC_ATTRS, VERSION
# StreamInfo, Signal and the segment arithmetic are also imported from here
from hotfire.core.runfile.segments import StreamInfo, clip_segments, indices, positions, samples_at  # noqa: F401
from hotfire.core.runfile.signal import Signal
from hotfire.core.runfile.view import ChannelView, TimeSpan
from hotfire.core.scaling import Scaling
from hotfire.core.errors import HotfireError
from hotfire.ext import _signal

if TYPE_CHECKING:
    from hotfire.core.rig import Article, Rig

SUPPORTED_MAJOR = int(VERSION.split(".")[0])


class RunFileError(HotfireError):
    """A file is not a readable hotfire run file (the message says why)."""


class RunDamagedError(RunFileError):
    """Samples asked for fail their checksums: the message names the stream and the span."""


class Run:
    """An open run file. Use :func:`open_run`."""

    def __init__(self, path):
        self.path = str(path)
        try:
            self.f = h5py.File(self.path, "r")
        except FileNotFoundError:
            raise RunFileError(f"{self.path}: no such file") from None
        except OSError as exc:
            p = Path(self.path)
            if p.is_dir() and (p.suffix == ".journal" or any(p.glob("journal-*.hfj"))):
                raise RunFileError(f"{self.path}: this is a run's journal (what acquisition writes as it goes), "
                                   f"not a run file: `hotfire recover {self.path}` builds the run file from it, "
                                   f"or give {p.with_suffix('.h5')}") from None
            raise RunFileError(f"{self.path}: not an HDF5 file or unreadable ({exc})") from None
        try:
            self._open(self.f.attrs)
        except RunFileError:
            self.f.close()
            raise
        except (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            # damaged HDF5 metadata or tables: a clear error, never a traceback
            self.f.close()
            raise RunFileError(f"{self.path}: damaged or incomplete run file "
                               f"({type(exc).__name__}: {exc})") from None

    def _open(self, a) -> None:
        if a.get("schema") != SCHEMA:
            raise RunFileError(f"{self.path}: not a hotfire run file (schema attribute {a.get('schema')!r})")
        version = str(a.get("schema_version", "0"))
        if int(version.split(".")[0]) > SUPPORTED_MAJOR:
            raise RunFileError(
                f"{self.path}: run file format {version} is newer than this hotfire reads "
                f"({VERSION}); upgrade hotfire to read it")
        self.metadata = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in a.items()}
        self._damaged: dict[str, list[DamagedSpan]] = {}
        self._check_tables()
        self.channels = [Channel.from_row(r) for r in self.f["channels"][()]]
        self._by_name = {c.name: c for c in self.channels}
        self.streams = {}
        for name, g in self.f["streams"].items():
            self.streams[name] = StreamInfo(
                name=name, rate_hz=float(g.attrs["rate_hz"]), channels=tuple(json.loads(g.attrs["channels"])),
                rows=int(g["raw"].shape[0]), segments=g["segments"][()],
                start_offset_s=float(g.attrs.get("start_offset_s", 0.0)),
                first_sample=int(g.attrs.get("first_sample", 0)))
        self._blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # stream -> (segments, rows)
        self._eu: dict[str, Signal] = {}
        self._times: dict[str, np.ndarray] = {}  # preloaded streams' sample times
        self._columns: dict[str, dict[int, np.ndarray]] = {}  # contiguous raw columns of preloaded streams
        self._rig = None
        self.events = self._events()
        t0 = [e for e in self.events if e["kind"] == "T0"]
        self.t0 = t0[0]["time_s"] if t0 else 0.0

    # -- metadata ------------------------------------------------------------
    def _events(self) -> list[dict]:
        out = []
        for e in self.f["events"][()]:
            d = {k: (e[k].decode() if isinstance(e[k], bytes) else e[k].item()) for k in e.dtype.names}
            out.append(d)
        out.sort(key=lambda d: d["time_s"])
        return out

    @property
    def test_id(self) -> str:
        return str(self.metadata.get("test_id", Path(self.path).stem))

    @property
    def rig_name(self) -> str:
        return str(self.metadata.get("rig", ""))

    @property
    def rig(self) -> "Rig":
        """The rig description stored in the run (parsed and validated)."""
        from hotfire.core.rig import parse_rig

        if self._rig is None:
            self._rig = parse_rig(self.metadata["rig_config"], f"{self.path}:/rig_config")
        return self._rig

    @property
    def article(self) -> "Article":
        return self.rig.article

    def json_attr(self, group: str, key: str) -> Any:
        """A JSON attribute of a group (e.g. ``("simulation", "truth")``), or None."""
        if group not in self.f:
            return None
        v = self.f[group].attrs.get(key)
        return json.loads(v) if v is not None else None

    @property
    def truth(self) -> dict | None:
        """The simulator's ground truth, for simulated runs."""
        return self.json_attr("simulation", "truth")

    @property
    def scenario(self) -> dict | None:
        """The simulator's scenario, for simulated runs."""
        return self.json_attr("simulation", "scenario")

    @property
    def imported(self) -> dict | None:
        """Where an imported run came from (format, file, ...), or None."""
        return self.json_attr("import", "source")

    def event_times(self, kind: str) -> list[float]:
        """Times (seconds from T0) of every event of ``kind``."""
        return [e["time_s"] - self.t0 for e in self.events if e["kind"] == kind]

    @property
    def has_t0(self) -> bool:
        """Whether the run has a T0 event (imports may not)."""
        return any(e["kind"] == "T0" for e in self.events)

    @property
    def cutoff(self) -> float | None:
        """Time of the first cutoff event, seconds from T0, or None."""
        c = self.event_times("cutoff")
        return c[0] if c else None

    def time_span(self, stream: str | None = None) -> tuple[float, float]:
        """First and last sample time (seconds from T0) of a stream, or of all streams."""
        names = [stream] if stream else list(self.streams)
        a, b = np.inf, -np.inf
        for n in names:
            st = self.streams[n]
            lo, hi = self.sample_range(n)
            if hi > lo:
                a = min(a, lo / st.rate_hz + st.start_offset_s - self.t0)
                b = max(b, (hi - 1) / st.rate_hz + st.start_offset_s - self.t0)
        return float(a), float(b)

    def channel_info(self, name: str) -> Channel:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.path}: no channel {name!r} (have: {', '.join(self._by_name)})") from None

    def roles(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for c in self.channels:
            out.setdefault(c.role, []).append(c.name)
        return out

    # -- data ----------------------------------------------------------------
    def sample_range(self, stream: str, t: TimeSpan | None = None) -> tuple[int, int]:
        """Absolute sample indices [first, stop) covering ``t`` (seconds from T0)."""
        st = self.streams[stream]
        seg = st.segments
        end = int(seg[-1, 0] + seg[-1, 2]) if len(seg) else 0
        start = int(seg[0, 0]) if len(seg) else 0
        if t is None:
            return start, end
        t_a, t_b = t
        pos = lambda x: (x + self.t0 - st.start_offset_s) * st.rate_hz  # noqa: E731  (fractional sample index)
        # first sample at or after t_a, last at or before t_b (1e-9: t on a sample within rounding)
        lo = start if t_a is None else max(start, int(np.ceil(pos(t_a) - 1e-9)))
        hi = end if t_b is None else min(end, int(np.floor(pos(t_b) + 1e-9)) + 1)
        return lo, max(lo, hi)

    def raw(self, name: str, t: TimeSpan | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw samples of a channel and their absolute sample indices (gaps skipped)."""
        values, segs = self.raw_segments(name, t)
        return values, indices(segs)

    def raw_segments(self, name: str, t: TimeSpan | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw samples of a channel and where they sit in the stream: ``(values, segments)``.

        ``segments`` rows are (first absolute sample index, first position in
        ``values``, count), one per run without a gap: what :meth:`raw`'s
        index array says, without an array of one index per sample.
        """
        info = self.channel_info(name)
        if info.stream in self._blocks:
            segs, rows = self._block_rows(info.stream, t)
            return rows[:, info.column], segs
        ds = self.f["streams"][info.stream]["raw"]
        segs, parts = self._segments_in(info.stream, t)
        vals = [ds[r0: r0 + n, info.column] for r0, n in parts]
        return (np.concatenate(vals) if len(vals) > 1 else vals[0] if vals else np.empty(0, ds.dtype)), segs

    def _segments_in(self, stream, t):
        """The stream's recorded pieces within ``t``: (segments with positions from 0, [(file row, count)]).

        Raises RunDamagedError if any of those rows fail their checksums.
        """
        self._require_intact(stream, [])  # a stream damaged as a whole first: its segments may be garbage
        lo, hi = self.sample_range(stream, t)
        out, rows, pos = [], [], 0
        for s0, r0, n in self.streams[stream].segments:
            a, b = max(lo, int(s0)), min(hi, int(s0 + n))
            if a < b:
                out.append((a, pos, b - a))
                rows.append((int(r0) + a - int(s0), b - a))
                pos += b - a
        self._require_intact(stream, rows)
        return np.array(out, dtype=np.int64).reshape(-1, 3), rows

    # -- integrity (integrity.py) ----------------------------------------------
    def _check_tables(self) -> None:
        """Refuse a run whose channel table, events or rig text fail their checksums (format 1.2)."""
        m = self.metadata
        live = int(m.get("sealed", 1)) == 0  # a live file's events and their CRC are not written at once
        for table, attr in TABLE_CRC_ATTRS.items():
            if attr in m and not (live and table == "events") and table_crc(self.f[table][()]) != int(m[attr]):
                raise RunDamagedError(f"{self.path}: the {table} table fails its checksum: the file is damaged "
                                      f"(`hotfire verify {self.path} --repair` rebuilds it from the run's journal)")
        if "checksum" in m and hashlib.sha256(str(m.get("rig_config", "")).encode()).hexdigest() != m.get("rig_sha256"):
            raise RunDamagedError(f"{self.path}: the rig configuration fails its sha256: the file is damaged")

    @property
    def checksummed(self) -> bool:
        """Whether every stream carries checksums (files written since format 1.2)."""
        return all(has_checksums(self.f["streams"][s]) for s in self.streams)

    @property
    def damage(self) -> list[DamagedSpan]:
        """Every span of samples that fails its checksums, all streams (each verified once)."""
        return [d for s in self.streams for d in self.stream_damage(s)]

    def stream_damage(self, stream: str) -> list[DamagedSpan]:
        """The damaged spans of one stream; reads the stream once, on first use."""
        if stream not in self._damaged:
            st = self.streams[stream]
            whole = None
            try:
                g = self.f["streams"][stream]
                if not segments_intact(g):
                    whole = "segments table checksum mismatch: where its samples belong is unknown"
                elif "checksum" in self.metadata and not (has_checksums(g) and SEGMENTS_CRC_ATTR in g.attrs):
                    whole = "its checksums are missing (the file says it has them): damaged metadata"
                elif has_checksums(g):
                    rows = damaged_rows(g, check_digest=int(self.metadata.get("sealed", 1)) != 0)
                    spans = row_spans_to_samples(stream, rows, st.segments, lambda i, s=stream: self.times(s, i))
                else:
                    spans = []
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:  # damaged HDF5 metadata
                whole = f"unreadable ({type(exc).__name__}: {exc})"
            if whole:
                spans = [DamagedSpan(stream, 0, st.rows, float("nan"), float("nan"), (0, max(st.rows, 1)), whole)]
            self._damaged[stream] = spans
        return self._damaged[stream]

    def _require_intact(self, stream: str, parts) -> None:
        for d in self.stream_damage(stream):
            if d.reason.startswith("checksum table damaged"):
                continue  # the samples are right (they match the stream digest)
            for r0, n in (parts if np.isfinite(d.t_start) else [(d.rows[0], 1)]):  # nan: the whole stream
                if d.rows[0] < r0 + n and r0 < d.rows[1]:
                    raise RunDamagedError(
                        f"{self.path}: {d}; not served as data (`hotfire verify {self.path} --repair` "
                        "rebuilds damaged spans from the run's journal)")

    def _block_rows(self, stream, t):
        """Segments and rows of a preloaded block within ``t`` (a view)."""
        segs, rows = self._blocks[stream]
        lo, hi = self.sample_range(stream, t)
        i, j = positions(segs, [lo, hi])
        return clip_segments(segs, i, j), rows[i:j]

    def channel(self, name: str, t: TimeSpan | None = None, calibration: dict | None = None) -> Signal:
        """A channel in engineering units.

        Parameters
        ----------
        name : str
            Channel name.
        t : (float or None, float or None), optional
            Time slice in seconds from T0; only those rows are read.
        calibration : dict, optional
            A calibration to apply instead of the stored one (re-calibration).
        """
        info = self.channel_info(name)
        if calibration is None and info.stream in self._blocks:
            # preloaded: convert the whole channel once, then slice it
            if name not in self._eu:
                self.convert([name])
            sig = self._eu[name]
            return sig if t is None else sig.slice(*t)
        return self._convert(info, t, calibration)

    def convert(self, names: Iterable[str]) -> None:
        """Convert preloaded channels to engineering units now, several at a time.

        A channel is a strided column of its stream's row-major block: taking
        the columns of a stream together reads the block once instead of
        once per channel. :meth:`channel` then returns them without work.
        """
        by_stream: dict[str, list[Channel]] = {}
        for n in dict.fromkeys(names):
            info = self.channel_info(n)
            if n not in self._eu and info.stream in self._blocks:
                by_stream.setdefault(info.stream, []).append(info)
        for stream, infos in by_stream.items():
            st = self.streams[stream]
            times = self.block_times(stream)
            cols = self.block_columns(stream, [i.column for i in infos])
            for info, raw in zip(infos, cols):
                values = np.asarray(Scaling(info.adc, info.calibration).to_eu(raw), dtype=float)
                self._eu[info.name] = Signal(info.name, info.role, info.units, times, values, st.rate_hz)

    def block_columns(self, stream: str, columns) -> list[np.ndarray]:
        """Contiguous copies of columns of a preloaded stream's raw block, kept until :meth:`release`.

        The columns not taken yet are copied together, in one pass over the
        block (each column alone would cost a pass).
        """
        cache = self._columns.setdefault(stream, {})
        todo = [c for c in dict.fromkeys(int(c) for c in columns) if c not in cache]
        if todo:
            cache.update(zip(todo, _signal.take_columns(self._blocks[stream][1], todo)))
        return [cache[int(c)] for c in columns]

    def is_block(self, stream: str, rows: np.ndarray) -> bool:
        """Whether ``rows`` is the whole preloaded block of ``stream`` (a view of it included)."""
        blk = self._blocks.get(stream)
        return (blk is not None and rows.shape == blk[1].shape
                and rows.__array_interface__["data"][0] == blk[1].__array_interface__["data"][0])

    def block_times(self, stream: str) -> np.ndarray:
        """Seconds from T0 of every sample of a preloaded stream's block, computed once."""
        if stream not in self._times:
            # float sample indices are exact (< 2**53): the same values as times(stream, indices)
            segs = self._blocks[stream][0]
            idx = np.concatenate([np.arange(s0, s0 + n, dtype=np.float64) for s0, _, n in segs]) \
                if len(segs) else np.empty(0)
            self._times[stream] = self.times(stream, idx)
        return self._times[stream]

    def _convert(self, info, t, calibration) -> Signal:
        raw, idx = self.raw(info.name, t)
        st = self.streams[info.stream]
        values = Scaling(info.adc, calibration or info.calibration).to_eu(raw)
        times = idx / st.rate_hz + st.start_offset_s - self.t0
        return Signal(info.name, info.role, info.units, times, np.asarray(values, dtype=float), st.rate_hz)

    def role(self, role: str, t: TimeSpan | None = None) -> list[Signal]:
        """Every channel with ``role``, in engineering units."""
        return [self.channel(c.name, t) for c in self.channels if c.role == role]

    def get(self, key: str, t: TimeSpan | None = None, units: str | None = None) -> Signal:
        """A channel by name, or the first channel with that role.

        Parameters
        ----------
        key : str
            Channel name (``"PC"``) or role (``"chamber_pressure"``); role
            ``"thrust"`` on a rig with several load cells is their sum
            (:meth:`total_thrust`).
        t : (float, float), optional
            Time slice in seconds from T0.
        units : str, optional
            Convert to these units (``"bar"``, ``"psi"``, ``"N"``, ...).
        """
        if key == "thrust" and key not in self._by_name and len(self.views("thrust")) > 1:
            sig = self.total_thrust(t)
            return sig.to(units) if units else sig
        return self.view(key).read(t, units)

    def view(self, key: str) -> ChannelView:
        """A channel by name, or the first channel with that role, as a lazy view (nothing is read yet).

        A recorded channel: for role ``thrust`` on a rig with several load
        cells that is the first cell (the total is :meth:`total_thrust`).

        Raises
        ------
        KeyError
            If no channel has that name or role.
        """
        if key in self._by_name:
            return ChannelView(self, self._by_name[key])
        for c in self.channels:
            if c.role == key:
                return ChannelView(self, c)
        raise KeyError(f"{self.path}: no channel or role {key!r}")

    def views(self, role: str | None = None) -> list[ChannelView]:
        """Every channel (of ``role``, when given) as a lazy view, in the rig's order."""
        return [ChannelView(self, c) for c in self.channels if role is None or c.role == role]

    def total_thrust(self, t: TimeSpan | None = None) -> Signal:
        """The total-thrust calculated channel (every ``thrust`` load cell summed, untared), N.

        See :mod:`hotfire.core.calculated`: without a health check every
        sample of every cell counts; NaN samples are estimated from the others.
        """
        from hotfire.core.calculated import total_thrust

        calc = total_thrust(self)
        sig = Signal("+".join(calc.channels), "thrust", "N", calc.t, calc.values, calc.rate_hz)
        return sig if t is None else sig.slice(*t)

    def stream_block(self, stream: str, t: TimeSpan | None = None, columns=None) -> tuple[np.ndarray, np.ndarray]:
        """Raw rows of a stream in one read: (absolute sample indices, (n, k) raw array).

        Reading a whole stream block at once is much faster than reading its
        channels one by one (HDF5 chunks hold all the columns of a row range).
        """
        segs, rows = self.rows(stream, t)
        return indices(segs), (rows if columns is None else rows[:, list(columns)])

    def rows(self, stream: str, t: TimeSpan | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Raw rows of a stream within ``t`` and where they sit: ``(segments, (n, k) rows)``.

        As :meth:`stream_block`, with the positions given as segments (see
        :meth:`raw_segments`); a view of the block when the stream is preloaded.
        """
        if stream in self._blocks:
            return self._block_rows(stream, t)
        ds = self.f["streams"][stream]["raw"]
        segs, parts = self._segments_in(stream, t)
        vals = [read_rows(ds, r0, r0 + n) for r0, n in parts]
        if not vals:
            return segs, np.empty((0, ds.shape[1]), ds.dtype)
        return segs, (vals[0] if len(vals) == 1 else np.concatenate(vals))

    def preload(self, streams: Iterable[str] | None = None) -> None:
        """Keep whole streams in memory, read once: later channel reads slice them.

        For analyses that read many channels of a stream: one read of the
        stream instead of one per channel. :meth:`release` frees them.
        """
        for s in (list(self.streams) if streams is None else streams):
            if s not in self._blocks:
                self._blocks[s] = self.rows(s)

    def release(self) -> None:
        """Forget the streams kept by :meth:`preload`."""
        self._blocks.clear()
        self._eu.clear()
        self._times.clear()
        self._columns.clear()

    def times(self, stream: str, idx: np.ndarray) -> np.ndarray:
        """Seconds from T0 of absolute sample indices of ``stream``."""
        st = self.streams[stream]
        return idx / st.rate_hz + st.start_offset_s - self.t0

    def eu(self, name: str, raw: np.ndarray, calibration: dict | None = None) -> np.ndarray:
        """Engineering units of raw samples of channel ``name``."""
        info = self.channel_info(name)
        return np.asarray(Scaling(info.adc, calibration or info.calibration).to_eu(raw), dtype=float)

    def close(self) -> None:
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_run(path: str | os.PathLike) -> Run:
    """Open a run file for reading (use it as a context manager, or call ``close()``).

    Raises
    ------
    RunFileError
        If the file is missing, not HDF5, not a hotfire run, or of a newer
        major format version.
    """
    return Run(path)
