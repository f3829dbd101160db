"""Arming and triggering: recording starts on a trigger, with pre-trigger history.

While armed, the rings keep the last seconds of every stream; when the
trigger fires at an exact sample, the recorder starts ``pretrigger_s``
before it, so the run file holds the pre-fire history (the tare window)
exact to the sample.

Trigger kinds (``--trigger``):

``T0``            the sequencer's start (a digital start trigger on hardware,
                  the sequence's T0 in the simulator)
``NAME>VALUE``    channel NAME crossing VALUE (engineering units) upwards;
``NAME<VALUE``    downwards
``operator``      an operator command (``Acquisition.fire``; Enter in the CLI)
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from hotfire.daq.acquisition import Subscriber
from hotfire.core.events import Event
from hotfire.core.scaling import Scaling
from hotfire.core.errors import HotfireError

_THRESHOLD = re.compile(r"^\s*([^<>\s]+)\s*([<>])\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class TriggerSpec:
    kind: str  # "T0", "threshold", "operator"
    channel: str = ""
    above: bool = True
    value: float = 0.0

    @classmethod
    def parse(cls, text: str, rig) -> "TriggerSpec":
        if text in ("T0", "t0", "start"):
            return cls("T0")
        if text == "operator":
            return cls("operator")
        m = _THRESHOLD.match(text)
        if not m:
            raise HotfireError(f"--trigger {text!r}: expected T0, operator, or CHANNEL>VALUE / CHANNEL<VALUE")
        name, op, value = m.groups()
        try:
            rig.channel(name)
        except KeyError:
            raise HotfireError(f"--trigger {text!r}: rig {rig.name!r} has no channel {name!r} "
                               f"(channels: {', '.join(c.name for c in rig.channels)})") from None
        return cls("threshold", name, op == ">", float(value))


class Trigger(Subscriber):
    """Watches for the trigger and posts one ``trigger`` event at its exact sample.

    :meth:`fire` may be called from any thread (an operator command) while
    the trigger polls in its own: its state is guarded by a lock, so it fires
    once.

    Parameters
    ----------
    spec : TriggerSpec
    posttrigger_s : float, optional
        Stop the acquisition this long after the trigger.
    """

    name = "trigger"

    def __init__(self, spec: TriggerSpec, posttrigger_s: float | None = None):
        self.spec, self.posttrigger_s = spec, posttrigger_s
        self._lock = threading.Lock()
        self._fired: Event | None = None
        self._stopping = False  # fired with a post-trigger end not reached yet
        self._reader = None

    @property
    def fired(self) -> Event | None:
        """The trigger event, once fired."""
        with self._lock:
            return self._fired

    def open(self, acq):
        super().open(acq)
        if self.spec.kind == "threshold":
            ch = acq.rig.channel(self.spec.channel)
            self._stream, self._col = ch.stream, ch.column
            self._scaling = Scaling(ch.adc, ch.calibration)
            self._reader = acq.rings[ch.stream].reader()

    def fire(self, stream: str | None = None, sample: int | None = None, why: str = "operator command"):
        """Fire now (or at a given sample); later calls do nothing. Thread-safe."""
        acq = self.acq
        with self._lock:
            if self._fired is not None:
                return
            streams = acq.source.streams
            if stream is None:
                stream = max(acq.rings, key=lambda s: streams[s].rate_hz)
                sample = acq.sample_index(stream, max(0, acq.rings[stream].written - 1))
            self._fired = Event("trigger", stream, int(sample), f"trigger: {why}")
            if self.posttrigger_s is not None:
                # The recording ends exactly posttrigger_s after the trigger on every stream; set
                # before the trigger is posted, so the recorder never records past the end.
                t_trig = sample / streams[stream].rate_hz
                stops = {}
                for name, spec in streams.items():
                    at = sample if name == stream else int(np.ceil(t_trig * spec.rate_hz - 1e-9))
                    stops[name] = at + int(round(self.posttrigger_s * spec.rate_hz))
                acq.end_recording_at(stops)
                self._stopping = True
            fired = self._fired
        acq.post([fired])

    def on_events(self, events):
        if self.spec.kind == "T0" and self.fired is None:
            for e in events:
                if e.kind == "T0":
                    self.fire(e.stream, e.sample, "T0 (sequence start)")
                    break

    def poll(self) -> int:
        moved = 0
        if self._reader is not None:
            if self.fired is not None:  # nothing more to watch: stop counting in the ring's backlog
                self.acq.rings[self._stream].drop(self._reader)
                self._reader = None
            else:
                res = self._reader.read()
                moved = len(res.data)
                if moved:
                    v = self._scaling.to_eu(res.data[:, self._col])
                    hit = np.nonzero(v > self.spec.value if self.spec.above else v < self.spec.value)[0]
                    if len(hit):
                        k = res.first_index + int(hit[0])
                        op = ">" if self.spec.above else "<"
                        self.fire(self._stream, self.acq.sample_index(self._stream, k),
                                  f"{self.spec.channel} {op} {self.spec.value:g}")
        with self._lock:
            stopping = self._stopping
        if stopping:
            # Stop once every stream has acquired up to its end: streams run at
            # different speeds (a fast source, a loaded machine), and stopping
            # on the trigger's stream alone could cut another short.
            acq = self.acq
            stops = acq.record_stop
            if all(ring.written > 0 and acq.sample_index(name, ring.written - 1) + 1 >= stops[name]
                   for name, ring in acq.rings.items() if name in stops):
                with self._lock:
                    self._stopping = False
                acq.stop()
        return moved
