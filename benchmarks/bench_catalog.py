"""Benchmark: catalog 200 runs, re-catalog after one changes, compare 20.

The 200 run files are made quickly: four firings are simulated and recorded
(both sample rigs, two scenarios each, 2.5 s of data), then each is copied 50
times and every copy is given its own test id, start time and notes (root
attributes rewritten with h5py), so each file has its own content and hash.

    python benchmarks/bench_catalog.py [--runs 200] [--compare 20] [--workers N] [--keep DIR]
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

from hotfire.analysis.batch import Engine
from hotfire.analysis.catalog import Catalog
from hotfire.analysis.compare import compare, write_html
from benchargs import parser
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

SEQ = dict(pretrigger_s=0.5, burn_s=1.5, posttrigger_s=0.5)
BASES = [("lox-ethanol-5kN", "nominal", {}), ("lox-ethanol-5kN", "nominal", {"eta_cstar": 0.93, "seed": 3}),
         ("lox-rp1-100kN", "nominal", {}), ("lox-rp1-100kN", "hard-start", {})]


def make_runs(root: Path, n: int) -> list[Path]:
    base_dir = root / "bases"
    bases = []
    for i, (rig_name, scen, over) in enumerate(BASES):
        rig = load_rig(rig_name)
        src = open_source(rig, "simulator", scenario=scenario(scen, **{**SEQ, **over}))
        bases.append((rig_name, Acquisition(rig, src, [Recorder(base_dir)], test_id=f"base-{i}").run().path))
    out = []
    t0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    for k in range(n):
        rig_name, src = bases[k % len(bases)]
        dst = root / "runs" / rig_name / f"R{k:04d}.h5"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        with h5py.File(dst, "a") as f:
            f.attrs["test_id"] = f"R{k:04d}"
            f.attrs["start_time_utc"] = (t0 + dt.timedelta(hours=7 * k)).isoformat(timespec="microseconds")
            f.attrs["notes"] = f"benchmark copy {k} of {Path(src).name}"
        out.append(dst)
    shutil.rmtree(base_dir)
    return out


def main(argv=None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--compare", type=int, default=20)
    ap.add_argument("--workers", type=int, help="local Dask cluster size (default: CPU count, at most 8)")
    ap.add_argument("--keep", metavar="DIR", help="make the runs in DIR and keep them")
    args = ap.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hotfire-bench-catalog-"))
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        t = time.perf_counter()
        files = make_runs(root, args.runs)
        size = sum(p.stat().st_size for p in files)
        print(f"made {len(files)} run files ({size / 2**20:.0f} MiB) in {time.perf_counter() - t:.1f} s: "
              f"{len(BASES)} simulated firings (2 rigs x 2 scenarios, 2.5 s each), each copied "
              f"{len(files) // len(BASES)} times with its own test id, start time and notes (h5py attributes)")
        data = root / "runs"

        engine = Engine(workers=args.workers)
        cat = Catalog(root / "dask.sqlite")
        rep = cat.update([data], engine=engine)
        assert len(rep.added) == len(files) and not rep.problems, rep.summary()
        rows.append((f"catalog {len(files)} runs, {rep.engine}", rep.seconds, len(rep.read)))

        ser = Catalog(root / "serial.sqlite")
        rep_s = ser.update([data], engine=Engine(serial=True))
        rows.append((f"catalog {len(files)} runs, {rep_s.engine} (one helper process)", rep_s.seconds,
                     len(rep_s.read)))
        same = _rows(cat) == _rows(ser)
        rows.append(("  Dask and serial catalogs identical", None, "yes" if same else "NO"))

        rep = cat.update(engine=engine)
        rows.append(("re-catalog, nothing changed", rep.seconds, len(rep.read)))

        changed = files[len(files) // 2]
        with h5py.File(changed, "a") as f:
            f.attrs["notes"] = "re-reviewed after the firing"
        rep = cat.update(engine=engine)
        assert rep.read == [str(changed)], rep.read
        rows.append((f"re-catalog after one run changed ({rep.engine})", rep.seconds, len(rep.read)))

        # the same from the command line: a new process (imports, the helper process) each time
        with h5py.File(changed, "a") as f:
            f.attrs["notes"] = "re-reviewed twice"
        cli = [sys.executable, "-m", "hotfire", "catalog", str(data), "--db", str(cat.path), "--quiet"]
        t = time.perf_counter()
        done = subprocess.run(cli, capture_output=True, text=True, check=True)
        n_read = done.stderr.split("read ")[1].split(" ")[0]
        rows.append(("  the same with `hotfire catalog` (a new process)", time.perf_counter() - t, n_read))
        t = time.perf_counter()
        done = subprocess.run(cli, capture_output=True, text=True, check=True)
        rows.append(("  `hotfire catalog`, nothing changed", time.perf_counter() - t,
                     done.stderr.split("read ")[1].split(" ")[0]))

        t = time.perf_counter()
        half = args.compare // 2
        chosen = cat.query(rig="lox-ethanol-5kN", limit=half) + cat.query(rig="lox-rp1-100kN",
                                                                          limit=args.compare - half)
        q = time.perf_counter() - t
        rows.append((f"query the catalog for {len(chosen)} runs (both rigs)", q, 0))
        t = time.perf_counter()
        cmp = compare(chosen, align="ignition")
        tc = time.perf_counter() - t
        rows.append((f"compare {len(chosen)} runs by role, aligned at ignition", tc, len(chosen)))
        t = time.perf_counter()
        html = write_html(cmp, root / "compare.html")
        rows.append((f"  HTML report with plots ({html.stat().st_size / 1024:.0f} KiB)", time.perf_counter() - t, 0))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  {os.cpu_count()} CPUs, load average {load:.1f} at the end")
    print(f"  {'step':<66} {'seconds':>8} {'files read':>10}")
    for name, secs, n in rows:
        s = "" if secs is None else f"{secs:8.2f}"
        print(f"  {name:<66} {s:>8} {n!s:>10}")
    return 0


def _rows(cat):
    return sorted(tuple(v for k, v in e.row.items() if k not in ("catalogued_utc",)) for e in cat.query())


if __name__ == "__main__":  # Dask's worker processes start by importing this module: keep the guard
    sys.exit(main())
