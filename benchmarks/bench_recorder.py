"""Recording throughput: raw write vs journal alone vs journal + HDF5 (the real Recorder path).

In one run, for int16 and float64 samples of the heaviest realistic stand
(512 channels at 250 S/s plus 256 channels at 102.4 kS/s):

* **raw**: the same blocks written once with one ``f.write`` each, then one
  ``fsync`` (the baseline: the bytes written once);
* **journal**: the same blocks appended to a :class:`JournalWriter`
  (default settings: 0.1 s fdatasync), closed;
* **journal + HDF5**: a real :class:`Acquisition` with the counter-pattern
  source (as fast as the recorder takes it: the source waits while the
  recorder is more than half a ring behind, so nothing overruns) feeding
  the rings and the :class:`Recorder` (journal, run file built from it by
  the builder process), until the run file is sealed (verified, fsynced, renamed).

MB/s count the sample bytes once. ``x raw`` is the median of the per-round
ratios to the raw write of the same data. Every case starts alike
(:func:`settle`: the disk quiet, as much memory freshly touched and freed). Then a **sustained** run: the
pattern source paced in real time at 4x the heavy stand (~105 MS/s of int16)
for ``--sustain`` seconds; it must record with zero gaps.

Run: ``python benchmarks/bench_recorder.py [--mib 1024] [--rounds 5] [--sustain 10] [-v]``.
Files go to ``$HOTFIRE_BENCH_DIR`` (default /tmp); it should be on the disk
runs will be recorded to.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

from benchargs import parser
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.journal import JournalWriter
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import parse_rig
from hotfire.daq.sources.pattern import PatternSource, pattern, synthetic_rig_text

MiB = 1 << 20
#: before each case, touch and free this many times its sample bytes (settle())
WARM = 2
FAST, SLOW = (102400.0, 256), (250.0, 512)


def heavy_rig(dtype: str, scale: float = 1.0):
    text = synthetic_rig_text({"fast": (FAST[0] * scale, FAST[1], dtype), "slow": (SLOW[0] * scale, SLOW[1], dtype)},
                              name=f"heavy-{dtype}-x{scale:g}")
    return parse_rig(text, "<heavy rig>")


def blocks(dtype: str, n: int = 4) -> list[np.ndarray]:
    """0.1 s blocks of the fast stream (10240 x 256), as the source delivers them."""
    rows = int(FAST[0] * 0.1)
    return [pattern("fast", dtype, FAST[1], k * rows, rows).copy() for k in range(n)]


def _disk_busy(path: str):
    """``(io_ticks ms, requests in flight)`` of the block device holding ``path``, or None."""
    try:
        st = os.stat(path)
        dev = f"{os.major(st.st_dev)} {os.minor(st.st_dev)} "
        with open("/proc/diskstats") as f:
            for line in f:
                if line.split(None, 2)[:2] == dev.split():
                    x = line.split()
                    return int(x[12]), int(x[11])
    except (OSError, ValueError, IndexError):
        pass
    return None


def settle(path: str = "/tmp", warm_bytes: int = 0) -> None:
    """Start each timing from the same state, whatever the case before it did.

    * A quiet disk: write back what earlier steps left, then wait until the
      device has had no request in flight for 0.25 s (the discards of the
      files deleted before, on a file system mounted with ``discard``, ran
      on into the next case for 0.5 s and more), at most 20 s.
    * ``warm_bytes`` of freshly touched free memory: on a VM that returns
      free memory to its host (free page reporting), a page the host took
      back costs a host page fault when the page cache next takes it, so a
      case writing into the page cache ran up to 3x slower when the case
      before had freed its pages long before (the raw write: 350-1170 MB/s
      in consecutive runs). Touching and freeing the same amount before
      every case gives each the same start.
    """
    os.sync()
    prev = _disk_busy(path)
    if prev is None:
        time.sleep(0.3)
    else:
        deadline = time.monotonic() + 20.0
        quiet = 0.0
        while quiet < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
            cur = _disk_busy(path)
            quiet = quiet + 0.05 if cur is not None and cur[0] == prev[0] and cur[1] == 0 else 0.0
            prev = cur or prev
    if warm_bytes:
        a = np.empty(warm_bytes, np.uint8)
        a[::4096] = 1
        del a


def bench_raw(d: str, total: int, bl: list[np.ndarray]) -> float:
    n = max(1, total // bl[0].nbytes)
    settle(d, int(WARM * total))
    path = os.path.join(d, "raw.bin")
    t0 = time.perf_counter()
    with open(path, "wb", buffering=0) as f:
        for i in range(n):
            f.write(bl[i % len(bl)])
        os.fsync(f.fileno())
    dt = time.perf_counter() - t0
    os.unlink(path)
    return n * bl[0].nbytes / dt


def bench_journal(d: str, total: int, bl: list[np.ndarray]) -> float:
    run = os.path.join(d, "run.journal")
    rows, nch = bl[0].shape
    meta = {"test_id": "bench", "streams": {"fast": {"n_channels": nch, "dtype": bl[0].dtype.name,
                                                     "rate_hz": FAST[0]}}}
    n = max(1, total // bl[0].nbytes)
    settle(d, int(WARM * total))
    t0 = time.perf_counter()
    with JournalWriter(run, meta, "# bench\n") as w:
        for i in range(n):
            w.append("fast", i * rows, bl[i % len(bl)])
    dt = time.perf_counter() - t0
    shutil.rmtree(run)
    return n * bl[0].nbytes / dt


class _Backpressured(PatternSource):
    """The pattern as fast as the recorder takes it: wait while it is half a ring behind."""

    def attach(self, acq, rec):
        self.acq, self.rec = acq, rec

    def read(self, stream, timeout=1.0):
        ring = self.acq.rings[stream]
        while True:
            r = getattr(self.rec, "readers", {}).get(stream)
            if r is None or ring.written - r.position <= ring.capacity // 2 or self._stopped.is_set():
                break
            time.sleep(0.0005)
        return super().read(stream, timeout)


def bench_recorder(d: str, total: int, dtype: str) -> tuple[float, float, int, float]:
    """The real path; returns (bytes/s, samples/s, samples lost, seconds from source end to sealed)."""
    rig = heavy_rig(dtype)
    row = (FAST[1] + SLOW[1] * SLOW[0] / FAST[0]) * np.dtype(dtype).itemsize
    duration = total / (row * FAST[0])
    src = _Backpressured(rig, realtime=False, duration_s=duration, events=False)
    out = os.path.join(d, "runs")
    rec = Recorder(out)
    acq = Acquisition(rig, src, [rec], test_id="bench", ring_seconds=1.0)
    src.attach(acq, rec)
    settle(d, int(WARM * total))
    t0 = time.perf_counter()
    summary = acq.run()
    dt = time.perf_counter() - t0
    assert summary.error is None and rec.sealed, (summary.error, rec.messages)
    samples = sum(n * len(rig.streams[s].channels) for s, n in summary.samples.items())
    nbytes = samples * np.dtype(dtype).itemsize
    shutil.rmtree(out)
    return nbytes / dt, samples / dt, sum(summary.gaps.values()), 0.0


def sustained(d: str, seconds: float) -> dict:
    """Pace the pattern in real time at 4x the heavy stand, int16; count gaps and the end lag."""
    rig = heavy_rig("int16", scale=4.0)
    src = PatternSource(rig, realtime=True, duration_s=seconds, events=False)
    out = os.path.join(d, "runs")
    rec = Recorder(out)
    acq = Acquisition(rig, src, [rec], test_id="sustain", ring_seconds=2.0)
    settle(d)
    t0 = time.perf_counter()
    summary = acq.run()
    dt = time.perf_counter() - t0
    assert summary.error is None, summary.error
    rate = sum(len(s.channels) * s.rate_hz for s in rig.streams.values())
    res = {"MS/s": rate / 1e6, "seconds": seconds, "gaps": sum(summary.gaps.values()),
           "samples": sum(n * len(rig.streams[s].channels) for s, n in summary.samples.items()),
           "sealed": rec.sealed, "wall": dt,
           "journal_GB": sum(os.path.getsize(os.path.join(rec.journal_dir, f))
                             for f in os.listdir(rec.journal_dir)) / 1e9}
    shutil.rmtree(out)
    return res


def main(argv=None) -> int:
    ap = parser(__doc__, rounds=5, mib=1024, mib_help="MiB of samples per case and round", directory=True,
                verbose=True)
    ap.add_argument("--sustain", type=float, default=10.0, help="seconds of the paced 105 MS/s run (0: skip)")
    args = ap.parse_args(argv)
    total = args.mib * MiB
    d = tempfile.mkdtemp(prefix="hotfire-bench-rec-", dir=args.dir)
    print(f"dir {d}; {args.mib} MiB of samples per case, median of {args.rounds} rounds; heavy stand "
          f"{SLOW[1]} ch x {SLOW[0]:g} S/s + {FAST[1]} ch x {FAST[0]:g} S/s; cpus {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}")
    ok = True
    try:
        bench_raw(d, total, blocks("int16"))  # warm-up
        hdr = (f"{'case':8s} {'raw MB/s':>9s} {'jnl MB/s':>9s} {'x raw':>6s} {'jnl+h5 MB/s':>12s} {'x raw':>6s} "
               f"{'(min-max)':>11s} {'MS/s':>7s} {'lost':>5s}")
        print(hdr)
        ratios = {}
        for dtype in ("int16", "float64"):
            bl = blocks(dtype)
            raw, jnl, rec, rj, rr, ms, lost = [], [], [], [], [], [], 0
            for _ in range(args.rounds):
                raw.append(bench_raw(d, total, bl))
                jnl.append(bench_journal(d, total, bl))
                b, s, g, _ = bench_recorder(d, total, dtype)
                rec.append(b)
                ms.append(s)
                lost += g
                rj.append(jnl[-1] / raw[-1])
                rr.append(b / raw[-1])
                if args.verbose:
                    print(f"  round: raw {raw[-1] / 1e6:.0f} MB/s, journal {jnl[-1] / 1e6:.0f}, journal+HDF5 "
                          f"{b / 1e6:.0f} ({rr[-1]:.2f}x), load {os.getloadavg()[0]:.1f}", flush=True)
            med = statistics.median
            print(f"{dtype:8s} {med(raw) / 1e6:9.0f} {med(jnl) / 1e6:9.0f} {med(rj):6.2f} {med(rec) / 1e6:12.0f} "
                  f"{med(rr):6.2f} {f'({min(rr):.2f}-{max(rr):.2f})':>11s} {med(ms) / 1e6:7.1f} {lost:5d}")
            ok &= med(rr) >= 0.5 and lost == 0
            ratios[dtype] = med(rr)
            if dtype == "int16":
                ok &= med(ms) >= 105e6
                int16_ms = med(ms)
        print(f"goal journal+HDF5 >= 0.5x raw (int16 and float64) and >= 105 MS/s int16 as fast as possible: "
              f"{'yes' if ok else 'NO'} ({ratios['int16']:.2f}x, {ratios['float64']:.2f}x, "
              f"{int16_ms / 1e6:.0f} MS/s)")
        if args.sustain > 0:
            r = sustained(d, args.sustain)
            good = r["gaps"] == 0 and r["sealed"]
            ok &= good
            print(f"sustained: {r['MS/s']:.1f} MS/s int16 paced for {r['seconds']:g} s ({r['samples']:,} samples, "
                  f"journal {r['journal_GB']:.2f} GB): {r['gaps']} samples lost, sealed {r['sealed']}, "
                  f"sealed {r['wall'] - r['seconds']:.2f} s after the last sample -> {'yes' if good else 'NO'}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
