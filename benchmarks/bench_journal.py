"""Sustained journal throughput against a raw sequential write of the same bytes.

Writes to a temporary directory (``$HOTFIRE_BENCH_DIR``, default /tmp; it
should be on the same disk as the runs will be), so the numbers include the
real ``fdatasync`` cost. Every timing ends with everything durable: the raw
baseline with one ``fsync``, the journal with ``close()``.

Run: ``python benchmarks/bench_journal.py [--mib 256] [--rounds 5]``.
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
from hotfire.daq.journal import JournalWriter, read_journal

MiB = 1 << 20


def bench_raw(d: str, total: int, bl: list[np.ndarray] | None = None) -> float:
    """Plain sequential writes, one per block (or 1 MiB chunks), then one fsync; bytes/s."""
    if bl is None:
        bl = [np.random.default_rng(2).integers(0, 255, size=MiB, dtype=np.uint8)]
    n = max(1, total // bl[0].nbytes)
    path = os.path.join(d, "raw.bin")
    t0 = time.perf_counter()
    with open(path, "wb", buffering=0) as f:
        for i in range(n):
            f.write(bl[i % len(bl)])
        os.fsync(f.fileno())
    dt = time.perf_counter() - t0
    os.unlink(path)
    return n * bl[0].nbytes / dt


def bench_journal(d: str, total: int, bl: list[np.ndarray], rate: float, read: bool = False) -> tuple:
    """JournalWriter with default settings, closed (synced) at the end; (bytes/s, samples/s[, read bytes/s])."""
    run = os.path.join(d, "run")
    rows, nch = bl[0].shape
    meta = {"test_id": "bench", "streams": {"s": {"n_channels": nch, "dtype": bl[0].dtype.name, "rate_hz": rate}}}
    n = max(1, total // bl[0].nbytes)
    t0 = time.perf_counter()
    with JournalWriter(run, meta, "# bench rig\n") as w:
        for i in range(n):
            w.append("s", i * rows, bl[i % len(bl)])
    dt = time.perf_counter() - t0
    out = (n * bl[0].nbytes / dt, n * rows * nch / dt)
    if read:  # scan (validates every CRC) + iterate (reads and checks again): what recovery costs
        t0 = time.perf_counter()
        got = sum(r.rows.nbytes for r in read_journal(run))
        out += (got / (time.perf_counter() - t0),)
    shutil.rmtree(run)
    return out


def main(argv=None) -> int:
    ap = parser(__doc__, rounds=5, mib=256, directory=True)
    args = ap.parse_args(argv)
    total = args.mib * MiB
    d = tempfile.mkdtemp(prefix="hotfire-bench-", dir=args.dir)
    same = os.stat(d).st_dev == os.stat(os.path.dirname(os.path.abspath(__file__))).st_dev
    print(f"dir {d} ({'same' if same else 'NOT the same'} device as the checkout); {args.mib} MiB per run, "
          f"median of {args.rounds} rounds (raw and journal interleaved); sync_interval 0.1 s")
    cases = [
        ("int16   64 ch x 1000 rows (10 kHz, 0.1 s)", 1000, 64, "int16", 10e3),
        ("float64 64 ch x 1000 rows (10 kHz, 0.1 s)", 1000, 64, "float64", 10e3),
        ("int16   256 ch x 10240 rows (102.4 kS/s, 0.1 s)", 10240, 256, "int16", 102.4e3),
        ("float64 256 ch x 10240 rows (102.4 kS/s, 0.1 s)", 10240, 256, "float64", 102.4e3),
    ]
    try:
        # The first big write on a fresh machine is much slower (page cache
        # and block allocation); warm up so round 1 is not an outlier.
        bench_raw(d, total)
        print(f"{'case':50s} {'raw MB/s':>9s} {'jnl MB/s':>9s} {'jnl MS/s':>9s} {'x raw':>6s}")
        chunk = [bench_raw(d, total) for _ in range(args.rounds)]
        print(f"{'raw f.write, 1 MiB chunks (cache-hot buffer)':50s} {statistics.median(chunk) / 1e6:9.0f}")
        int16_ms = []
        for label, rows, nch, dtype, rate in cases:
            rng = np.random.default_rng(1)
            if np.dtype(dtype).kind == "i":
                bl = [rng.integers(-2000, 2000, size=(rows, nch), dtype=dtype) for _ in range(4)]
            else:
                bl = [rng.normal(0.0, 1.0, size=(rows, nch)).astype(dtype) for _ in range(4)]
            raw, jb, js, ratio = [], [], [], []
            for _ in range(args.rounds):
                raw.append(bench_raw(d, total, bl))
                b, sps = bench_journal(d, total, bl, rate)
                jb.append(b)
                js.append(sps)
                ratio.append(b / raw[-1])
            if dtype == "int16":
                int16_ms.append(statistics.median(js))
            print(f"{label:50s} {statistics.median(raw) / 1e6:9.0f} {statistics.median(jb) / 1e6:9.0f} "
                  f"{statistics.median(js) / 1e6:9.1f} {statistics.median(ratio):6.2f}")
        r = statistics.median(bench_journal(d, total, bl, 1e4, read=True)[2] for _ in range(3))
        print(f"{'read_journal + iterate, last case (page cache hot)':50s} {'':>9s} {r / 1e6:9.0f}")
        worst = min(int16_ms)
        print(f"x raw: median of per-round journal/raw of the same blocks. int16 >= 105 MS/s sustained: "
              f"{'yes' if worst >= 105e6 else 'NO'} (worst median {worst / 1e6:.0f} MS/s)")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
