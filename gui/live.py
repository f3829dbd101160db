"""The live feed: a ZeroMQ SUB client of :mod:`hotfire.daq.publisher`.

It only ever receives (SUB cannot talk back), so nothing the viewer does
can slow acquisition: if it falls behind, the publisher drops messages for
it and the missing samples show as breaks in the lines, counted in the
health panel as "missed by this viewer" (the recording has them).
"""
from __future__ import annotations

import json
import math
import time

import numpy as np
import zmq

from hotfire.gui.eventlog import EventLog
from hotfire.gui.meta import RunMeta
from hotfire.gui.model import LiveStore, scale_block

#: the right edge of the charts may run this far ahead of the newest sample,
#: so the charts scroll smoothly between blocks
LEAD_S = 0.15
#: no message for this long: the acquisition is gone or the link is down
STALE_S = 2.5


class LiveFeed:
    """Receive the live stream of a running acquisition.

    Parameters
    ----------
    address : str
        The publisher's ZeroMQ endpoint, e.g. ``tcp://127.0.0.1:5555``.
    budget_s : float
        Most time :meth:`pump` spends receiving per call (the rest waits in
        the socket for the next frame).
    keys, key : path and str, optional
        A publisher with CurveZMQ: the key folder (``server/server.key`` and
        ``clients/KEY.key_secret``, :mod:`hotfire.core.keys`) and this viewer's name.
    decimated : bool
        Take the publisher's ``dec`` topic (min/max buckets, a slow link)
        instead of the raw samples: each stream is held at ``2 * rate / step``
        values per second, a bucket's minimum then its maximum.

    Raises
    ------
    HotfireError
        ``keys`` without ``key``, or a key file missing or unsafe (named).
    """

    live = True

    def __init__(self, address: str, budget_s: float = 0.025, keys=None, key: str | None = None,
                 decimated: bool = False):
        self.address, self.budget_s = address, budget_s
        self.decimated = decimated
        self.key = key
        curve = None
        if keys is not None:
            from hotfire.core import keys as keyfiles
            from hotfire.core.errors import HotfireError
            if not key:
                raise HotfireError("--keys needs --key NAME: the name of this viewer's key (clients/NAME.key_secret)")
            curve = (keyfiles.server_public(keys), *keyfiles.client_secret(keys, key))
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVHWM, 2000)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve:
            self.sock.curve_serverkey, self.sock.curve_publickey, self.sock.curve_secretkey = curve
        # decimated: the raw ``data`` topic is never subscribed, so the publisher never sends it here
        for topic in (b"meta", b"events", b"health", b"dec") if decimated else (b"",):
            self.sock.setsockopt(zmq.SUBSCRIBE, topic)
        self._opened = time.monotonic()
        self.sock.connect(address)
        self.meta: RunMeta | None = None
        self.generation = 0
        self.version = 0  # data messages taken in (the window redraws when it moves)
        self.stores: dict[str, LiveStore] = {}
        self.events: EventLog | None = None
        self.health: dict = {}
        self._scalings = {}
        self._nominal, self._step = {}, {}
        self._last_msg = None
        self._data_time = None
        self._display = None
        self._wall = time.monotonic()

    # -- receiving ---------------------------------------------------------------
    def pump(self) -> bool:
        """Take in what has arrived; True if anything did."""
        if self.sock.closed:
            return False
        got = False
        end = time.monotonic() + self.budget_s
        while time.monotonic() < end:
            try:
                frames = self.sock.recv_multipart(flags=zmq.NOBLOCK, copy=True)
            except zmq.Again:
                break
            got = True
            self._handle(frames)
        now = time.monotonic()
        if got:
            self._last_msg = now
        self._advance(now)
        return got

    def _handle(self, frames):
        topic = frames[0]
        if topic == b"meta":
            d = json.loads(frames[1])
            if self.meta is None or d["test_id"] != self.meta.test_id:
                self._reset(d)
            self.events.add(self._events(d.get("events", [])))
        elif self.meta is None:
            return  # nothing is decodable before the meta (at most one meta interval)
        elif topic == (b"dec" if self.decimated else b"data"):
            head = json.loads(frames[1])
            store = self.stores.get(head["stream"])
            if store is None:
                return
            if self.decimated:  # bucket k's min and max are rows 2k and 2k+1
                raw = np.frombuffer(frames[2], dtype=head["dtype"]).reshape(2 * head["n"], head["nch"])
                first = 2 * int(head["first"])
            else:
                raw = np.frombuffer(frames[2], dtype=head["dtype"]).reshape(head["n"], head["nch"])
                first = int(head["first"])
            store.append(first, scale_block(raw, self._scalings[head["stream"]]))
            self.version += 1
            t = store.last_time()
            self._data_time = t if self._data_time is None else max(self._data_time, t)
        elif topic == b"events":
            self.events.add(self._events(json.loads(frames[1])))
        elif topic == b"health":
            d = json.loads(frames[1])
            if d.get("test_id") == self.meta.test_id:
                self.health = d

    def _events(self, dicts: list) -> list:
        """Events with their sample index in the stream as held here (decimated: bucket k is rows 2k, 2k+1)."""
        if not self._step:
            return dicts
        return [{**e, "sample": 2 * int(e["sample"]) // self._step.get(e["stream"], 1)} for e in dicts]

    def _reset(self, d: dict):
        """A new acquisition (or the first one seen): start afresh."""
        self._nominal = {name: float(st["rate_hz"]) for name, st in d["streams"].items()}
        self._step = {}
        if self.decimated:  # a stream is two values (min, max) per bucket of ``step`` samples: its rate
            # and its events' sample indices are read in that index (see _events)
            self._step = {name: v.get("step", 1) for name, v in d.get("decimated", {}).items()}
            d = {**d, "streams": {name: {**st, "rate_hz": 2 * st["rate_hz"] / self._step.get(name, 1)}
                                  for name, st in d["streams"].items()}}
        self.meta = RunMeta.from_publisher(d)
        self.stores = {name: LiveStore(s) for name, s in self.meta.streams.items()}
        self._scalings = {name: [c.scaling for c in self.meta.stream_channels(name)] for name in self.meta.streams}
        self.events = EventLog(self.meta)
        self.health = {}
        self._data_time = self._display = None
        self.generation += 1

    def _advance(self, now: float):
        """Move the display clock with the wall clock, never past the data by more than LEAD_S."""
        dt, self._wall = now - self._wall, now
        if self._data_time is None:
            return
        if self._display is None or self.health.get("ended"):
            self._display = self._data_time
        else:
            self._display = min(self._display + dt, self._data_time + LEAD_S)
            self._display = max(self._display, self._data_time)

    # -- what the window asks ----------------------------------------------------
    def data_time(self) -> float | None:
        """Acquisition time of the newest sample received."""
        return self._data_time

    def display_time(self) -> float | None:
        """The right edge of the charts."""
        return self._display

    def event_horizon(self) -> float:
        return math.inf  # live: every event received is current

    @property
    def stale(self) -> bool:
        return self._last_msg is None or time.monotonic() - self._last_msg > STALE_S

    def health_view(self) -> dict:
        """Rows for the health panel."""
        h = self.health
        streams = []
        for name, st in (self.meta.streams.items() if self.meta else ()):
            if st.calculated:
                continue  # not acquired: evaluated from the streams shown
            s = h.get("streams", {}).get(name, {})
            streams.append({"name": name, "nominal_hz": self._nominal.get(name, st.rate_hz), "rate_hz": s.get("rate_hz"),
                            "behind_s": s.get("behind_s"),
                            "gaps": s.get("gaps", 0), "lost": s.get("lost", 0), "fill": s.get("fill"),
                            "missed": self.stores[name].missed})
        rec = h.get("recording", {})
        if h.get("ended"):
            recording = f"acquisition ended — {rec.get('path', '')}"
        elif rec.get("active"):
            recording = f"● REC  {rec.get('path', '')}"
        elif rec.get("armed"):
            recording = f"armed: recording starts at the trigger — {rec.get('path', '')}"
        else:
            recording = "not recording" if h else "waiting for health…"
        missed = sum(s["missed"] for s in streams)
        viewers = h.get("viewers")
        viewer = f"{self.address}" + (f" · {viewers} viewer{'s' if viewers != 1 else ''}" if viewers else "")
        viewer += f" · {missed:,} samples missed by this viewer" if missed else ""
        if self.stale and not h.get("ended"):
            viewer = self.silence()
        # failed sensors: the acquisition's health checks (hotfire.core.health, as the analysis) say so by events
        sensors = [{"channel": e.channel, "message": e.message, "time_s": e.time_s}
                   for e in (self.events.events if self.events else ()) if e.kind == "sensor"]
        return {"mode": "live", "producing": h.get("producing", False), "streams": streams, "sensors": sensors,
                "recording": recording, "viewer": viewer, "stale": self.stale and not h.get("ended")}

    def silence(self) -> str:
        """What the health panel says when nothing arrives: with a key and never any data, the likely cause."""
        if self._last_msg is None and self.key:
            waited = time.monotonic() - self._opened
            return (f"no data from {self.address} in {waited:.0f} s: the server may not know this client's key "
                    f"{self.key} (hotfire keys client {self.key} on the stand), or this server key is not the stand's")
        return f"no data from {self.address} for {STALE_S:g}+ s"

    def close(self):
        if not self.sock.closed:
            self.sock.close()
            self.ctx.term()
