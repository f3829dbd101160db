"""Writing run files (HDF5, format v1; see docs/runfile-format.md).

One file per firing: root metadata, one group per stream with its raw
samples, a channel table and an events table. Raw samples are stored as
acquired; engineering units are computed on reading from the stored
scaling, so a run can be re-calibrated later.

Rows are appended contiguously per stream; a gap (samples that were never
acquired or were lost) is never filled: ``segments`` maps sample indices to
rows, so no row is ever fabricated.
"""
from __future__ import annotations

import datetime as _dt
import json

import h5py
import numpy as np

from hotfire import __version__
from hotfire.daq.events import Event

SCHEMA = "hotfire.run"
VERSION = "1.0"

_STR = h5py.string_dtype()
EVENT_DTYPE = np.dtype([
    ("kind", _STR), ("stream", _STR), ("sample", "<i8"), ("time_s", "<f8"),
    ("channel", _STR), ("message", _STR),
])
CHANNEL_FIELDS = ("name", "stream", "column", "physical", "kind", "role", "units", "signal_units",
                  "range", "adc", "calibration", "redline", "warning", "uncertainty", "serial",
                  "cal_date", "terminal", "excitation_V", "thermocouple_type")
CHANNEL_DTYPE = np.dtype([(f, "<i8" if f == "column" else _STR) for f in CHANNEL_FIELDS])


def channel_rows(rig, adc_overrides: dict | None = None) -> np.ndarray:
    """The channel table for ``rig``; dict-valued fields are JSON text."""
    rows = []
    for ch in rig.channels:
        adc = (adc_overrides or {}).get(ch.name, ch.adc)
        vals = {
            "name": ch.name, "stream": ch.stream, "column": ch.column, "physical": ch.physical,
            "kind": ch.kind, "role": ch.role, "units": ch.units, "signal_units": ch.signal_units,
            "range": json.dumps(list(ch.range)), "adc": json.dumps(adc),
            "calibration": json.dumps(ch.calibration),
            "redline": json.dumps(ch.redline.to_dict() if ch.redline else {}),
            "warning": json.dumps(ch.warning.to_dict() if ch.warning else {}),
            "uncertainty": json.dumps(ch.uncertainty), "serial": ch.serial, "cal_date": ch.cal_date,
            "terminal": ch.terminal, "excitation_V": json.dumps(ch.excitation_V),
            "thermocouple_type": ch.thermocouple_type or "",
        }
        rows.append(tuple(vals[f] for f in CHANNEL_FIELDS))
    return np.array(rows, dtype=CHANNEL_DTYPE)


def _chunk_rows(n_channels: int, itemsize: int) -> int:
    # ~1 MiB chunks: large enough for disk-speed appends, small enough for
    # cheap partial reads by time slice.
    return max(256, (1 << 20) // (n_channels * itemsize))


class RunFileWriter:
    """Create and append to a run file.

    Parameters
    ----------
    path : str or Path
    rig : Rig
    metadata : dict
        Root attributes to add: ``test_id``, ``source``, ``notes``, ...
    extra : dict, optional
        JSON-able groups of attributes (e.g. ``{"simulation": {...}}``).
    adc_overrides : dict, optional
        Per-channel ADC scaling read from the device at run time.
    """

    def __init__(self, path, rig, metadata: dict, extra: dict | None = None,
                 adc_overrides: dict | None = None, start_time: _dt.datetime | None = None):
        self.path = str(path)
        self.rig = rig
        self.f = h5py.File(self.path, "w")
        f = self.f
        start = start_time or _dt.datetime.now(_dt.timezone.utc)
        f.attrs.update({
            "schema": SCHEMA,
            "schema_version": VERSION,
            "software_version": __version__,
            "rig": rig.name,
            "rig_description": rig.description,
            "article_serial": rig.article.serial,
            "start_time_utc": start.isoformat(timespec="microseconds"),
            "rig_config": rig.text,
            "rig_sha256": rig.sha256,
            "notes": "",
        })
        f.attrs.update({k: (v if isinstance(v, (str, int, float)) else json.dumps(v)) for k, v in metadata.items()})
        f.create_dataset("channels", data=channel_rows(rig, adc_overrides))
        f.create_dataset("events", shape=(0,), maxshape=(None,), dtype=EVENT_DTYPE, chunks=(256,))
        self._ds, self._seg, self._rows, self._next = {}, {}, {}, {}
        for s in rig.streams.values():
            g = f.create_group(f"streams/{s.name}")
            g.attrs.update({"rate_hz": s.rate_hz, "device": s.device, "start_offset_s": 0.0, "first_sample": 0,
                            "channels": json.dumps(list(s.channels)), "committed": 0})
            nch = len(s.channels)
            dt = np.dtype(s.dtype)
            self._ds[s.name] = g.create_dataset("raw", shape=(0, nch), maxshape=(None, nch), dtype=dt,
                                                chunks=(_chunk_rows(nch, dt.itemsize), nch))
            self._seg[s.name] = g.create_dataset("segments", shape=(0, 3), maxshape=(None, 3), dtype="<i8",
                                                 chunks=(64, 3))
            self._rows[s.name] = 0
            self._next[s.name] = None
        for name, attrs in (extra or {}).items():
            g = f.require_group(name)
            g.attrs.update({k: json.dumps(v) for k, v in attrs.items()})

    def append(self, stream: str, first_index: int, rows: np.ndarray) -> None:
        """Append rows of ``stream`` whose first sample is ``first_index``.

        A ``first_index`` beyond the next expected sample starts a new segment
        (the gap stays a gap); an index that goes backwards is an error.
        """
        n = len(rows)
        if n == 0:
            return
        expected = self._next[stream]
        if expected is not None and first_index < expected:
            raise ValueError(f"stream {stream!r}: rows from sample {first_index} overlap rows up to {expected}")
        ds = self._ds[stream]
        r0 = self._rows[stream]
        ds.resize(r0 + n, axis=0)
        ds[r0:r0 + n] = rows
        seg = self._seg[stream]
        if expected is None or first_index != expected:
            k = seg.shape[0]
            seg.resize(k + 1, axis=0)
            seg[k] = (first_index, r0, n)
        else:
            seg[-1, 2] += n
        self._rows[stream] = r0 + n
        self._next[stream] = first_index + n
        ds.parent.attrs["committed"] = r0 + n

    def set_first_sample(self, stream: str, sample: int) -> None:
        """Where recording of ``stream`` was meant to start (armed runs)."""
        self.f[f"streams/{stream}"].attrs["first_sample"] = int(sample)

    def add_events(self, events: list[Event]) -> None:
        """Append events (dated by stream and sample)."""
        if not events:
            return
        ds = self.f["events"]
        k = ds.shape[0]
        ds.resize(k + len(events), axis=0)
        arr = np.empty(len(events), dtype=EVENT_DTYPE)
        for i, e in enumerate(events):
            rate = self.rig.streams[e.stream].rate_hz
            arr[i] = (e.kind, e.stream, e.sample, e.sample / rate, e.channel, e.message)
        ds[k:] = arr

    def set_attrs(self, **attrs) -> None:
        self.f.attrs.update({k: (v if isinstance(v, (str, int, float)) else json.dumps(v)) for k, v in attrs.items()})

    def counts(self) -> dict[str, int]:
        return dict(self._rows)

    def flush(self) -> None:
        self.f.flush()

    def close(self) -> None:
        if self.f:
            self.f.close()
            self.f = None
