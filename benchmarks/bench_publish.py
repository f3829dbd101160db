"""Bytes per second of the live stream, raw and decimated, at 32 channels x 10 kHz int16.

Acquires a simulated firing in a subprocess (publishing on loopback) and
counts what two subscribers receive: one taking everything, one the
decimated viewer's topics (``meta``, ``events``, ``health``, ``dec``).

    .venv/bin/python benchmarks/bench_publish.py [SECONDS]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq

sys.path.insert(0, str(Path(__file__).parent))
from bench_gui import free_port, synthetic_rig  # noqa: E402


def main(seconds: float = 8.0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        rig = Path(tmp) / "bench32.toml"
        rig.write_text(synthetic_rig(32, 10_000.0, burn_s=max(1.0, seconds - 4.0)))
        address = f"tcp://127.0.0.1:{free_port()}"
        ctx = zmq.Context.instance()
        subs = {}
        for kind, topics in (("raw", (b"",)), ("decimated", (b"meta", b"events", b"health", b"dec"))):
            s = ctx.socket(zmq.SUB)
            s.setsockopt(zmq.RCVHWM, 0)
            for t in topics:
                s.setsockopt(zmq.SUBSCRIBE, t)
            s.connect(address)
            subs[kind] = s
        acq = subprocess.Popen([sys.executable, "-m", "hotfire", "acquire", str(rig), "--source", "sim", "--quiet",
                                "--out", tmp, "--publish", address, "--test-id", "bench-pub"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        counts = {k: {} for k in subs}
        span = {k: [None, None] for k in subs}
        poller = zmq.Poller()
        for s in subs.values():
            poller.register(s, zmq.POLLIN)
        while acq.poll() is None or any(dict(poller.poll(300))):
            for s, _ in poller.poll(100):
                kind = next(k for k, v in subs.items() if v is s)
                m = s.recv_multipart()
                counts[kind][m[0]] = counts[kind].get(m[0], 0) + sum(len(f) for f in m)
                if m[0] in (b"data", b"dec"):
                    t = time.monotonic()
                    span[kind][0] = span[kind][0] or t
                    span[kind][1] = t
        for s in subs.values():
            s.close()
    out = {}
    for kind, c in counts.items():
        dt = span[kind][1] - span[kind][0]
        out[kind] = {t.decode(): round(b / dt) for t, b in c.items()} | {"total": round(sum(c.values()) / dt)}
        print(f"{kind:9s} {out[kind]['total']:>10,} B/s  " + "  ".join(f"{t}: {v:,}" for t, v in out[kind].items()
                                                                        if t != "total"))
    return out


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 8.0)
