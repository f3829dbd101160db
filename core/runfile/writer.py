"""Writing run files (HDF5, format v1; see docs/runfile-format.md and schema.py).

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

from hotfire.core.version import __version__
from hotfire.core.events import Event
from hotfire.core.runfile.integrity import crc32, segments_crc, table_crc
from hotfire.core.runfile.schema import (  # noqa: F401
    CHANNEL_DTYPE, CHECKSUM, CHUNK_CRC, DIGEST_ATTR, EVENT_DTYPE, SCHEMA, SEGMENTS_CRC_ATTR, TABLE_CRC_ATTRS, VERSION,
    channel_rows,
)

def _chunk_rows(n_channels: int, itemsize: int) -> int:
    # ~1 MiB chunks: large enough for disk-speed appends, small enough for
    # cheap partial reads by time slice.
    return max(256, (1 << 20) // (n_channels * itemsize))


class _Stream:
    """Append state of one stream: whole chunks go to the file as they fill
    (``write_direct_chunk``: no chunk cache, no filter pipeline, ~ the speed of a
    plain write); the last, partial chunk waits in ``buf`` until :meth:`flush`."""

    def __init__(self, ds, seg_ds, crc_ds):
        self.ds, self.seg_ds, self.crc_ds = ds, seg_ds, crc_ds
        self.crcs: list[int] = []  # CRC-32 of each chunk's rows (integrity.py)
        self.crcs_in_file = 0
        self.digest = 0            # CRC-32 of every row appended, in order
        self.dtype = ds.dtype
        self.chunk = ds.chunks[0]
        self.buf = np.zeros((self.chunk, ds.shape[1]), ds.dtype)
        self.fill = 0          # rows waiting in buf
        self.base = 0          # dataset row of buf[0] (a multiple of chunk)
        self.rows = 0          # rows appended
        self.extent = 0        # rows in the dataset's current shape
        self.tail_dirty = False
        self.segs: list[list[int]] = []   # (first sample, first row, count)
        self.segs_in_file = 0
        self.committed = 0     # rows referenced by segments in the file
        self.next = None       # next expected sample index

    def write(self, rows: np.ndarray) -> None:
        n, cr, pos = len(rows), self.chunk, 0
        full_end = (self.rows + n) // cr * cr
        if full_end > self.extent:
            # A chunk can only be written inside the extent; readers of a live
            # file never read past the segments table, written after the data.
            self.ds.resize(full_end, axis=0)
            self.extent = full_end
        wdc = self.ds.id.write_direct_chunk
        self.digest = crc32(rows, self.digest)
        if self.fill:
            k = min(cr - self.fill, n)
            self.buf[self.fill:self.fill + k] = rows[:k]
            self.fill += k
            pos = k
            if self.fill == cr:
                wdc((self.base, 0), self.buf)
                self._chunk_crc(self.buf)
                self.base += cr
                self.fill = 0
        while n - pos >= cr:
            chunk = rows[pos:pos + cr]
            wdc((self.base, 0), chunk)
            self._chunk_crc(chunk)
            self.base += cr
            pos += cr
        if pos < n:
            self.buf[:n - pos] = rows[pos:]
            self.fill = n - pos
        self.rows += n
        self.tail_dirty = self.fill > 0

    def _chunk_crc(self, rows: np.ndarray) -> None:
        """Record the CRC of the rows of chunk ``base // chunk`` (a partial one is replaced later)."""
        k = self.base // self.chunk
        del self.crcs[k:]
        self.crcs.append(crc32(rows))
        self.crcs_in_file = min(self.crcs_in_file, k)

    def flush_data(self) -> None:
        """Write the partial last chunk (zero-padded, so files are reproducible)."""
        if self.tail_dirty:
            self.buf[self.fill:] = 0
            if self.extent < self.rows:
                self.ds.resize(self.rows, axis=0)
                self.extent = self.rows
            self.ds.id.write_direct_chunk((self.base, 0), self.buf)
            self._chunk_crc(self.buf[:self.fill])
            self.tail_dirty = False

    def flush_segments(self) -> None:
        """Write the segments table and ``committed``: the commit mark of the rows written."""
        if self.committed == self.rows:
            return
        k = len(self.segs)
        lo = max(0, self.segs_in_file - 1)  # the last segment in the file may have grown
        if k > self.seg_ds.shape[0]:
            self.seg_ds.resize(k, axis=0)
        self.seg_ds[lo:k] = np.asarray(self.segs[lo:k], dtype=np.int64)
        self.segs_in_file = k
        m = len(self.crcs)
        if m > self.crc_ds.shape[0]:
            self.crc_ds.resize(m, axis=0)
        self.crc_ds[self.crcs_in_file:m] = np.asarray(self.crcs[self.crcs_in_file:m], dtype=np.uint32)
        self.crcs_in_file = m
        g = self.ds.parent
        g.attrs[DIGEST_ATTR] = np.uint32(self.digest)
        g.attrs[SEGMENTS_CRC_ATTR] = np.uint32(segments_crc(self.segs))
        g.attrs["committed"] = self.rows
        self.committed = self.rows


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
    start_time : datetime, optional
        Time of sample 0 (default: now).
    libver : str, optional
        HDF5 format bounds; ``"latest"`` is needed for :meth:`start_swmr`.
    stream_dtypes : dict, optional
        stream -> dtype of the samples as acquired, when it differs from the
        rig's (the source's dtype rules).

    Notes
    -----
    Appended rows reach the file a chunk (~1 MiB) at a time; the last,
    partial chunk, the ``segments`` table, ``committed`` and the events are
    written by :meth:`flush` (and :meth:`close`). A live reader (SWMR) must
    read ``segments`` first, then ``raw`` rows within them: rows are
    written before the segments that reference them.
    """

    def __init__(self, path, rig, metadata: dict, extra: dict | None = None,
                 adc_overrides: dict | None = None, start_time: _dt.datetime | None = None,
                 libver: str | None = None, stream_dtypes: dict | None = None):
        self.path = str(path)
        self.rig = rig
        self.f = h5py.File(self.path, "w", libver=libver) if libver else h5py.File(self.path, "w")
        f = self.f
        self.swmr = False
        start = start_time or _dt.datetime.now(_dt.timezone.utc)
        f.attrs.update({
            "schema": SCHEMA,
            "schema_version": VERSION,
            "software_version": __version__,
            "rig": rig.name,
            "rig_description": rig.description,
            "article_serial": rig.article.serial,
            "start_time_utc": start.isoformat(timespec="microseconds") if not isinstance(start, str) else start,
            "rig_config": rig.text,
            "rig_sha256": rig.sha256,
            "checksum": CHECKSUM,
            "notes": "",
        })
        f.attrs.update({k: (v if isinstance(v, (str, int, float)) else json.dumps(v)) for k, v in metadata.items()})
        chans = channel_rows(rig, adc_overrides)
        f.create_dataset("channels", data=chans)
        f.create_dataset("events", shape=(0,), maxshape=(None,), dtype=EVENT_DTYPE, chunks=(256,))
        f.attrs[TABLE_CRC_ATTRS["channels"]] = np.uint32(table_crc(chans))
        f.attrs[TABLE_CRC_ATTRS["events"]] = np.uint32(table_crc(np.empty(0, EVENT_DTYPE)))
        self._event_rows = np.empty(0, EVENT_DTYPE)
        self._streams: dict[str, _Stream] = {}
        self._events: list[Event] = []
        self._events_in_file = 0
        for s in rig.streams.values():
            g = f.create_group(f"streams/{s.name}")
            g.attrs.update({"rate_hz": s.rate_hz, "device": s.device, "start_offset_s": 0.0, "first_sample": 0,
                            "channels": json.dumps(list(s.channels)), "committed": 0})
            nch = len(s.channels)
            dt = np.dtype((stream_dtypes or {}).get(s.name, s.dtype))
            # Floats: rows never written read as NaN, never as a plausible 0.0.
            fill = np.nan if dt.kind == "f" else None
            ds = g.create_dataset("raw", shape=(0, nch), maxshape=(None, nch), dtype=dt,
                                  chunks=(_chunk_rows(nch, dt.itemsize), nch), fillvalue=fill)
            seg = g.create_dataset("segments", shape=(0, 3), maxshape=(None, 3), dtype="<i8", chunks=(64, 3))
            crc = g.create_dataset(CHUNK_CRC, shape=(0,), maxshape=(None,), dtype="<u4", chunks=(1024,))
            # created now: no attribute may be created once the file is in SWMR mode
            g.attrs[DIGEST_ATTR] = np.uint32(0)
            g.attrs[SEGMENTS_CRC_ATTR] = np.uint32(segments_crc(np.empty((0, 3))))
            self._streams[s.name] = _Stream(ds, seg, crc)
        for name, attrs in (extra or {}).items():
            g = f.require_group(name)
            g.attrs.update({k: json.dumps(v) for k, v in attrs.items()})

    def start_swmr(self) -> None:
        """Let readers open the file while it is written (needs ``libver="latest"``).

        From here on no object (group, dataset, attribute) may be created:
        create every attribute to be updated later before calling this.
        """
        self.f.swmr_mode = True
        self.swmr = True

    def append(self, stream: str, first_index: int, rows: np.ndarray) -> None:
        """Append rows of ``stream`` whose first sample is ``first_index``.

        A ``first_index`` beyond the next expected sample starts a new segment
        (the gap stays a gap); an index that goes backwards is an error. Rows
        are converted to the stream's dtype as h5py would.
        """
        st = self._streams[stream]
        rows = np.asarray(rows)
        if rows.ndim == 1:
            rows = rows.reshape(-1, 1)
        n = len(rows)
        if n == 0:
            return
        if rows.shape[1] != st.buf.shape[1]:
            raise ValueError(f"stream {stream!r}: expected rows of {st.buf.shape[1]} channels, got {rows.shape}")
        expected = st.next
        if expected is not None and first_index < expected:
            raise ValueError(f"stream {stream!r}: rows from sample {first_index} overlap rows up to {expected}")
        if rows.dtype != st.dtype or not rows.flags.c_contiguous:
            rows = np.ascontiguousarray(rows, dtype=st.dtype)
        if expected is None or first_index != expected:
            st.segs.append([int(first_index), st.rows, n])
        else:
            st.segs[-1][2] += n
        st.write(rows)
        st.next = int(first_index) + n

    def set_start_offset(self, stream: str, seconds: float) -> None:
        """Time of ``stream``'s sample 0 on the run's clock (imports whose first stamp is not 0)."""
        self.f[f"streams/{stream}"].attrs["start_offset_s"] = float(seconds)

    def set_first_sample(self, stream: str, sample: int) -> None:
        """Where recording of ``stream`` was meant to start (armed runs)."""
        self.f[f"streams/{stream}"].attrs["first_sample"] = int(sample)

    def add_events(self, events: list[Event]) -> None:
        """Add events (dated by stream and sample); written at the next :meth:`flush`."""
        self._events.extend(events)

    def set_attrs(self, **attrs) -> None:
        self.f.attrs.update({k: (v if isinstance(v, (str, int, float)) else json.dumps(v)) for k, v in attrs.items()})

    def counts(self) -> dict[str, int]:
        return {name: st.rows for name, st in self._streams.items()}

    def segments(self, stream: str) -> list[tuple[int, int, int]]:
        """``(first sample, first row, count)`` of every segment appended so far."""
        return [tuple(s) for s in self._streams[stream].segs]

    def flush(self) -> None:
        """Write everything appended, then the segments tables that commit it, and flush the file."""
        for st in self._streams.values():
            st.flush_data()
        self.f.flush()  # the rows first ...
        for st in self._streams.values():
            st.flush_segments()  # ... then what says they are there
        if len(self._events) > self._events_in_file:
            ds = self.f["events"]
            new = self._events[self._events_in_file:]
            k = ds.shape[0]
            arr = np.empty(len(new), dtype=EVENT_DTYPE)
            for i, e in enumerate(new):
                st = self.rig.streams.get(e.stream)
                t = (e.sample / st.rate_hz + float(self.f[f"streams/{e.stream}"].attrs["start_offset_s"])
                     if st is not None else float("nan"))
                arr[i] = (e.kind, e.stream, e.sample, t, e.channel, e.message)
            ds.resize(k + len(new), axis=0)
            ds[k:] = arr
            self._events_in_file = len(self._events)
            self._event_rows = np.concatenate([self._event_rows, arr])
            self.f.attrs[TABLE_CRC_ATTRS["events"]] = np.uint32(table_crc(self._event_rows))
        self.f.flush()

    def close(self) -> None:
        if self.f:
            try:
                self.flush()
                self.f.attrs[TABLE_CRC_ATTRS["events"]] = np.uint32(table_crc(self.f["events"][()]))
            finally:
                self.f.close()
                self.f = None
