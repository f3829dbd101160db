"""The live publisher: a subscriber that streams the acquisition to viewers
over ZeroMQ PUB/SUB.

PUB never waits for a subscriber: each connected viewer has its own queue of
at most ``hwm`` messages, and when a viewer is slow, frozen or gone, messages
to it are dropped by ZeroMQ, not queued in acquisition. Viewers can connect
and leave at any time, any number of them. Without keys the socket binds to
loopback only (``tcp://127.0.0.1``, ``[::1]``, ``localhost``) or to
``ipc://`` / ``inproc://``. A network address (``tcp://*``, an interface, a
routable IP) needs a key folder (``keys=``, ``hotfire acquire --keys DIR``,
made by ``hotfire keys``): the socket is then a CurveZMQ server, the stream
is encrypted and only viewers whose public key is in ``DIR/clients/`` get it
(:mod:`hotfire.daq.pubauth`); refused handshakes are logged and counted in
the health message (``rejected``). docs/live-view.md, "Watching from
another machine".

Wire format (multipart messages, the first frame is the topic):

``[b"meta", json]``
    Run description: test id, rig config text, streams (rate, dtype,
    channels), channels (every field of :class:`hotfire.core.channel.Channel`,
    as its ``to_json``), and the events so far. Sent at start and every ``meta_interval`` seconds, so
    a viewer that joins late is complete within that time.
``[b"data", json, bytes]``
    Raw samples of one stream, exactly as acquired: header ``{"stream",
    "first", "n", "nch", "dtype"}`` (``first`` is the absolute sample index
    of the first row) and the C-ordered ``(n, nch)`` rows. Viewers scale to
    engineering units with the meta's scaling, as the run-file reader does.
    The rig's calculated channels come the same way, as float64 rows of a
    stream ``"<base>:calculated"`` per time base (``"calculated": true`` and
    ``"base"`` in the meta's streams, the same sample clock as ``base``),
    each channel in its engineering units (identity scaling, its role its
    kind: ``total_thrust``, ``injector_dp``, ``mixture_ratio``), evaluated by
    :mod:`hotfire.daq.calclive` with the analysis's code.
``[b"dec", json, bytes]``
    The same streams decimated for slow links (:mod:`hotfire.daq.pubdecimate`):
    header ``{"stream", "first", "n", "nch", "dtype", "step"}`` where ``first``
    is the index of the first bucket of ``step`` samples, and the C-ordered
    ``(n, 2, nch)`` raw minimum and maximum of each bucket; the meta's
    ``"decimated"`` gives each stream's ``step``. A viewer subscribing only to
    ``meta``, ``events``, ``health`` and ``dec`` (``hotfire view --decimated``)
    is sent nothing else: PUB filters topics on the publisher's side.
``[b"events", json]``
    A list of events (``Event.to_dict()``), as they are posted.
``[b"health", json]``
    Every ``health_interval`` s: per stream the measured rate, samples,
    ring fill (the worst subscriber backlog as a fraction of the ring),
    gaps and lost samples; the recording state; rows the publisher missed;
    viewers connected.

Raw blocks are sent at full rate: 32 channels of int16 at 10 kHz are
640 kB/s, nothing for loopback or a LAN. Viewers decimate for drawing
(min/max, so peaks survive); over a slow link the ``dec`` topic carries at
most ``decimate_points`` values/s per channel (docs/live-view.md gives the
bytes/s measured).
"""
from __future__ import annotations

import ipaddress
import json
import time
from pathlib import Path

import numpy as np
import zmq
from zmq.utils.monitor import recv_monitor_message

from hotfire.core.calculated import calc_stream
from hotfire.core.errors import HotfireError
from hotfire.daq.acquisition import Subscriber
from hotfire.daq.calclive import LiveCalculated
from hotfire.daq.pubdecimate import DEFAULT_POINTS_S, Decimator, step_for

DEFAULT_ADDRESS = "tcp://127.0.0.1:5555"
#: kept in the meta for late joiners (T0 and cutoff are always kept)
MAX_META_EVENTS = 500


def _loopback_host(host: str) -> bool | None:
    """True/False for a loopback / other IP literal or name; None if only the bind can tell (a name)."""
    h = host.strip("[]")
    if h == "localhost":
        return True
    if h == "*":
        return False
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return None  # an interface or host name: the bound endpoint tells


def _tcp_host(address: str) -> str:
    """The host part of ``tcp://HOST:PORT`` (a source address ``SRC;HOST:PORT`` included)."""
    rest = address[len("tcp://"):].split(";")[-1]
    return rest.rsplit(":", 1)[0]


def check_local_address(address: str) -> None:
    """Refuse a live-stream address reachable from the network (used when there are no keys).

    Allowed: ``ipc://``, ``inproc://`` and ``tcp://`` on a loopback address.

    Raises
    ------
    HotfireError
        Any other transport, ``tcp://*``, or a non-loopback host.
    """
    if address.startswith(("ipc://", "inproc://")):
        return
    if not address.startswith("tcp://") or _loopback_host(_tcp_host(address)) is False:
        raise HotfireError(_refusal(address))


def _refusal(address: str) -> str:
    return (f"refusing to publish the live stream on {address} without keys: with no authentication only "
            f"loopback (tcp://127.0.0.1:PORT, tcp://[::1]:PORT), ipc:// and inproc:// are allowed. To publish on "
            f"the network make CurveZMQ keys (hotfire keys generate; hotfire keys client NAME for each viewer) "
            f"and add --keys DIR; or publish on loopback and reach it through an SSH tunnel "
            f"(ssh -L PORT:127.0.0.1:PORT STAND), or use --no-publish")


def channel_meta(rig, adc_overrides: dict | None = None) -> list[dict]:
    """Each channel of ``rig`` as JSON (:meth:`hotfire.core.channel.Channel.to_json`), with the
    device's ``adc`` scaling where ``adc_overrides`` gives one."""
    over = adc_overrides or {}
    return [(ch.replace(adc=over[ch.name]) if ch.name in over else ch).to_json() for ch in rig.channels]


class Publisher(Subscriber):
    """Publish the live stream on a ZeroMQ PUB socket.

    The socket is bound here, before acquisition starts, so a bad or busy
    address fails at once with a clear message.

    Parameters
    ----------
    address : str
        ZeroMQ endpoint to bind, e.g. ``tcp://127.0.0.1:5555``; port 0 picks
        a free port (see :attr:`address` afterwards).
    hwm : int
        Send high-water mark: messages queued per viewer before ZeroMQ drops.
    meta_interval, health_interval : float
        Seconds between re-sent metadata and health messages.
    decimate_points : float
        Bound of the ``dec`` topic: min/max values per second per channel.
    keys : path, optional
        Key folder (:mod:`hotfire.core.keys`): CurveZMQ on, any ``tcp://`` address allowed.

    Raises
    ------
    HotfireError
        If the address cannot be bound, is not local and there are no keys
        (:func:`check_local_address`), or a key file is missing or unsafe.
    """

    name = "publisher"

    def __init__(self, address: str = DEFAULT_ADDRESS, hwm: int = 256, meta_interval: float = 1.0,
                 health_interval: float = 0.5, keys: str | Path | None = None,
                 decimate_points: float = DEFAULT_POINTS_S):
        self.meta_interval, self.health_interval = meta_interval, health_interval
        self.decimate_points = decimate_points
        if keys is None:
            check_local_address(address)
        elif not address.startswith(("tcp://", "ipc://", "inproc://")):
            raise HotfireError(f"refusing to publish the live stream on {address}: CurveZMQ needs tcp://")
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.PUB)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.gate = None
        try:
            if keys is not None:
                from hotfire.daq.pubauth import CurveGate
                self.gate = CurveGate(self.ctx, self.sock, Path(keys).expanduser())  # before bind: no plain peer
            self.sock.bind(address)
        except (zmq.ZMQError, HotfireError) as exc:
            self._release()
            if isinstance(exc, HotfireError):
                raise
            raise HotfireError(f"cannot publish the live stream on {address}: {exc} "
                               f"(choose another with --publish ADDRESS, or --no-publish)") from None
        self.address = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        if keys is None and self.address.startswith("tcp://") and not _loopback_host(_tcp_host(self.address)):
            # a name that resolved to a network interface: closed before anything is sent
            self._release()
            raise HotfireError(_refusal(f"{address} ({self.address})"))
        # Connection events only: how many viewers are attached (for health, and tests).
        self._monitor = self.sock.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED)
        self.viewers = 0
        self.viewers_max = 0
        self.dropped = 0   # messages ZeroMQ refused (none with PUB; counted to be sure)
        self.missed = {}   # rows this publisher fell behind on (viewers miss them, the run file does not)
        self.sent = {}

    # -- subscriber ------------------------------------------------------------
    def open(self, acq):
        super().open(acq)
        self.readers = {name: ring.reader(start=0) for name, ring in acq.rings.items()}
        # <= 256 kB per message: large enough to be cheap, small enough to interleave streams
        self.bufs = {name: np.empty((max(1, min(ring.capacity, (1 << 18) // (ring.n_channels * ring.dtype.itemsize))),
                                     ring.n_channels), ring.dtype) for name, ring in acq.rings.items()}
        self.missed = {name: 0 for name in acq.rings}
        self.sent = {name: 0 for name in acq.rings}
        self.gaps = {name: 0 for name in acq.rings}
        self.events: list[dict] = []
        self._meta_static = {
            "version": 1, "test_id": acq.test_id, "rig": acq.rig.name, "rig_config": acq.rig.text,
            "start_time_utc": acq.start_time.isoformat(timespec="microseconds"), "source": acq.source.kind,
            "pretrigger_s": acq.rig.sequence.pretrigger_s,
            "streams": {name: {"rate_hz": s.rate_hz, "dtype": np.dtype(s.dtype).str, "channels": list(s.channels)}
                        for name, s in acq.source.streams.items()},
            "channels": channel_meta(acq.rig, acq.source_metadata.get("adc")),
        }
        self.calc = LiveCalculated(acq) if acq.rig.calculated else None
        for ev in self.calc.evaluators if self.calc else ():
            name = calc_stream(ev.stream)
            self._meta_static["streams"][name] = {"rate_hz": acq.source.streams[ev.stream].rate_hz, "dtype": "<f8",
                                                  "channels": [c.name for c in ev.calcs], "calculated": True,
                                                  "base": ev.stream}
            self._meta_static["channels"] += [c.as_channel(name, k).to_json() for k, c in enumerate(ev.calcs)]
            self.sent[name] = 0
        rates = {name: st["rate_hz"] for name, st in self._meta_static["streams"].items()}
        self.decim = {name: Decimator(step_for(r, self.decimate_points)) for name, r in rates.items()}
        self._meta_static["decimated"] = {name: {"step": d.step} for name, d in self.decim.items()}
        self._last_meta = self._last_health = 0.0
        # stream -> (time, rows written) when its first block was seen: how far a stream is
        # behind the wall clock is measured from there (a rate measured over a few seconds of
        # block arrivals reads a few % low while all is well, and looked like a fault)
        self._first: dict[str, tuple[float, int]] = {}
        self._send_meta()

    def poll(self) -> int:
        moved = 0
        for name, r in self.readers.items():
            while r.available:
                first, n, gap = r.read_into(self.bufs[name])
                if gap is not None:
                    self.missed[name] += gap.count
                for sample0, off, count in self.acq.clocks[name].split(first, n):
                    rows = self.bufs[name][off:off + count]
                    head = {"stream": name, "first": sample0, "n": count, "nch": rows.shape[1],
                            "dtype": rows.dtype.str}
                    self._send([b"data", json.dumps(head).encode(), rows])
                    self._send_dec(name, sample0, rows)
                    self.sent[name] = sample0 + count
                moved += n
        for ev, first, values, _ in self.calc.poll() if self.calc else ():
            name = calc_stream(ev.stream)
            head = {"stream": name, "first": first, "n": len(values), "nch": values.shape[1], "dtype": "<f8"}
            self._send([b"data", json.dumps(head).encode(), np.ascontiguousarray(values)])
            self._send_dec(name, first, values)
            self.sent[name] = first + len(values)
            moved += len(values)
        self._count_viewers()
        now = time.monotonic()
        if now - self._last_meta >= self.meta_interval:
            self._send_meta()
        if now - self._last_health >= self.health_interval:
            self._send_health(now)
        return moved

    def on_events(self, events):
        dicts = [e.to_dict() for e in events]
        for e in events:
            if e.kind == "gap":
                self.gaps[e.stream] = self.gaps.get(e.stream, 0) + 1
        self.events.extend(dicts)
        self._send([b"events", json.dumps(dicts).encode()])

    def close(self):
        """Send a last health message (``ended``) and release the socket."""
        try:
            if getattr(self, "acq", None) is not None:
                self._send_health(time.monotonic(), ended=True)
                self.sock.setsockopt(zmq.LINGER, 200)  # let the last health message leave
        finally:
            self._count_viewers()
            self.sock.disable_monitor()
            self._monitor.close(linger=0)
            self._release()

    def _release(self):
        self.sock.close()
        if self.gate is not None:
            self.gate.stop()
        self.ctx.term()

    @property
    def rejected(self) -> int:
        """Viewer handshakes refused by CurveZMQ (0 without keys)."""
        return self.gate.rejected if self.gate else 0

    def _count_viewers(self):
        while True:
            try:
                ev = recv_monitor_message(self._monitor, flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            if ev["event"] == zmq.EVENT_ACCEPTED:
                self.viewers += 1
                self.viewers_max = max(self.viewers_max, self.viewers)
            elif ev["event"] == zmq.EVENT_DISCONNECTED:
                self.viewers = max(0, self.viewers - 1)

    # -- messages ----------------------------------------------------------------
    def _send(self, frames) -> None:
        try:
            self.sock.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            self.dropped += 1

    def _send_dec(self, name, first, rows):
        dec = self.decim[name]
        for k0, vals in dec.feed(first, rows):
            head = {"stream": name, "first": k0, "n": len(vals), "nch": vals.shape[2], "dtype": vals.dtype.str,
                    "step": dec.step}
            self._send([b"dec", json.dumps(head).encode(), vals])

    def _send_meta(self):
        events = self.events
        if len(events) > MAX_META_EVENTS:
            keep = [e for e in events[:-MAX_META_EVENTS] if e["kind"] in ("T0", "cutoff")]
            events = keep + events[-MAX_META_EVENTS:]
        self._send([b"meta", json.dumps({**self._meta_static, "events": events}).encode()])
        self._last_meta = time.monotonic()

    def health(self, now: float | None = None, ended: bool = False) -> dict:
        """The health message: rates, how far each stream is behind the wall clock, ring fill, gaps, recording state."""
        acq = self.acq
        now = time.monotonic() if now is None else now
        written = {name: ring.written for name, ring in acq.rings.items()}
        rates, behind = {}, {}
        for n, w in written.items():
            if w and n not in self._first:
                self._first[n] = (now, w)
            t1, w1 = self._first.get(n, (now, w))
            nominal = acq.source.streams[n].rate_hz
            rates[n] = (w - w1) / (now - t1) if now > t1 else nominal
            # a real-time source delivers the wall clock's worth of samples; a fast one more
            behind[n] = max(0.0, (now - t1) - (w - w1) / nominal)
        recording = acq.recording()
        streams = {}
        for name, ring in acq.rings.items():
            streams[name] = {
                "rate_hz": rates[name], "nominal_hz": acq.source.streams[name].rate_hz,
                "behind_s": behind[name],
                "samples": acq.clocks[name].sample(written[name]) if written[name] else 0,
                # worst backlog among the ring's readers (the recorder's matters most)
                "fill": acq.backlog(name) / ring.capacity,
                "gaps": self.gaps.get(name, 0),
                "lost": int(recording.lost.get(name, 0)) if recording else 0,
                "viewer_missed": self.missed.get(name, 0),
            }
        # An armed recorder (``--trigger``) records nothing until the trigger fires.
        armed = recording is not None and recording.armed
        return {
            "test_id": acq.test_id, "ended": ended, "producing": acq.producing, "streams": streams,
            "recording": {"active": recording is not None and not ended and not armed, "armed": armed and not ended,
                          "path": str(recording.path) if recording is not None and recording.path else ""},
            "viewers": self.viewers, "rejected": getattr(self, "rejected", 0),
        }

    def _send_health(self, now, ended=False):
        self._send([b"health", json.dumps(self.health(now, ended)).encode()])
        self._last_health = now
