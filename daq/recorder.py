"""The recorder: a subscriber that drains every ring into the run file."""
from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path

import numpy as np

from hotfire.daq.acquisition import Subscriber
from hotfire.daq.events import Event
from hotfire.daq.runfile import RunFileWriter


class Recorder(Subscriber):
    """Record every sample and event of an acquisition to ``out_dir/<test id>.h5``.

    Parameters
    ----------
    out_dir : str or Path
    flush_interval : float
        Seconds between HDF5 flushes (a reader can follow the file live).
    pretrigger_s : float, optional
        Armed mode: record nothing until a ``trigger`` event, then start this
        many seconds before the trigger sample (the rings hold the history).
    """

    name = "recorder"

    def __init__(self, out_dir, flush_interval: float = 1.0, pretrigger_s: float | None = None):
        self.out_dir = Path(out_dir)
        self.flush_interval = flush_interval
        self.pretrigger_s = pretrigger_s
        self.path = None
        self.lost: dict[str, int] = {}
        self.recorded: dict[str, int] = {}

    def open(self, acq):
        super().open(acq)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / f"{acq.test_id}.h5"
        meta = {"test_id": acq.test_id, "source": acq.source.kind, "notes": acq.notes}
        extra = {"simulation": acq.source_metadata} if "truth" in acq.source_metadata else {}
        self.writer = RunFileWriter(self.path, acq.rig, meta, extra=extra, start_time=acq.start_time,
                                    adc_overrides=acq.source_metadata.get("adc"))
        self.readers = {} if self.pretrigger_s is not None else {
            name: ring.reader(start=0) for name, ring in acq.rings.items()}
        # Batches of up to a quarter ring: large appends are what make HDF5 fast.
        self.bufs = {name: np.empty((max(1, ring.capacity // 4), ring.n_channels), ring.dtype)
                     for name, ring in acq.rings.items()}
        self.lost = {name: 0 for name in acq.rings}
        self.recorded = {name: 0 for name in acq.rings}
        self._last_flush = time.monotonic()

    def poll(self) -> int:
        moved = 0
        for name, r in self.readers.items():
            while r.available:
                first, n, gap = r.read_into(self.bufs[name])
                if gap is not None:
                    self.lost[name] += gap.count
                    self.acq.post([Event("gap", name, self.acq.sample_index(name, gap.first_index),
                                         f"recorder fell behind: {gap.count} samples lost")])
                for sample_first, off, count in self.acq.clocks[name].split(first, n):
                    count = self.acq.clip(name, sample_first, count)
                    self.writer.append(name, sample_first, self.bufs[name][off:off + count])
                    self.recorded[name] = sample_first + count
                moved += n
        now = time.monotonic()
        if now - self._last_flush > self.flush_interval:
            self.writer.flush()
            self._last_flush = now
        return moved

    def on_events(self, events):
        self.writer.add_events(events)
        if self.pretrigger_s is not None and not self.readers:
            trig = next((e for e in events if e.kind == "trigger"), None)
            if trig is not None:
                self._start_at(trig)

    def _start_at(self, trig):
        """Start every stream's reader ``pretrigger_s`` before the trigger sample."""
        rates = {name: spec.rate_hz for name, spec in self.acq.source.streams.items()}
        t_trig = trig.sample / rates[trig.stream]
        for name, ring in self.acq.rings.items():
            pre = int(round(self.pretrigger_s * rates[name]))
            at = (trig.sample if name == trig.stream else int(np.ceil(t_trig * rates[name] - 1e-9))) - pre
            first = max(0, at)
            self.writer.set_first_sample(name, first)
            self.readers[name] = ring.reader(start=self.acq.clocks[name].ring_index(first))

    def close(self):
        self.writer.set_attrs(end_time_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"))
        self.writer.close()
