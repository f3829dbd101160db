"""SIGKILLs and simulated power cuts of a real ``hotfire acquire``, then ``hotfire recover``: what is lost.

By hand (the issue-20 goal, 50 kills and 20 power cuts)::

    nice .venv/bin/python tests/daq/crash_campaign.py --kills 50 --cuts 20

test_acquire_power_cut.py runs a few of each in the suite. Each trial runs
``hotfire acquire lox-ethanol-5kN --source pattern --no-publish`` (every
sample a known function of its index: the truth, sample for sample) with a
``--status-file`` (the journal's synced and written sample counts) and kills
it with SIGKILL at a random moment of the recording.

- kill: the journal is recovered as the kill left it (the page cache survives).
- power cut: the child ran under powercut_child.py; the journal is first cut
  to what a power cut would keep (each file to the size its last sync made
  durable, names no directory sync made durable removed), then recovered.

Checked per stream: every recovered row is the pattern at its index (nothing
invented or misplaced); no sample reported synced is missing; the samples
missing at the end (reported written but not recovered) were all written in
the last sync interval before the cut. That is what the interval bounds: the
data span lost can be longer, since one write carries a whole source block.
Prints the counts, the longest data span lost and how long before the cut the
oldest lost sample had been written.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from hotfire.daq.sources.pattern import check_pattern

SYNC_S = 0.05
HERE = Path(__file__).parent


def _statuses(path) -> list[dict]:
    """Every status line the recorder wrote: journal synced and written counts per stream, and the wall time."""
    try:
        lines = open(path, "rb").read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines]


def _acquire(out: Path, status: Path, after: float, synclog: Path | None) -> float:
    """Run ``hotfire acquire`` and SIGKILL it ``after`` s into the recording; return the wall time of the kill."""
    args = ["acquire", "lox-ethanol-5kN", "--source", "pattern", "--out", str(out), "--test-id", "K", "--quiet",
            "--status-file", str(status), "--sync-interval", str(SYNC_S), "--no-publish", "--duration", "60"]
    cmd = [sys.executable] + ([str(HERE / "powercut_child.py"), str(synclog)] if synclog else ["-m", "hotfire"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    p = subprocess.Popen(cmd + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        t0 = time.monotonic()
        while not (status.exists() and status.stat().st_size):
            if p.poll() is not None:
                raise RuntimeError(f"hotfire acquire exited ({p.returncode}): {p.stderr.read()[-2000:]!r}")
            if time.monotonic() - t0 > 90:
                raise RuntimeError("hotfire acquire did not start recording in 90 s")
            time.sleep(0.01)
        time.sleep(after)
        killed_at = time.time()
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        return killed_at
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stderr.close()


def power_cut(jdir: Path, synclog: Path) -> None:
    """Leave ``jdir`` as a power cut would: files cut to their synced size, undurable names gone."""
    size: dict[str, int] = {}
    names: set[str] = set()
    for line in synclog.read_text().splitlines():
        e = json.loads(line)
        if "file" in e:
            size[e["file"]] = max(size.get(e["file"], 0), e["size"])
        elif "dir" in e and os.path.realpath(e["dir"]) == os.path.realpath(jdir):
            names |= set(e["names"])
        elif "rename" in e and e["rename"] in size:
            size[e["to"]] = size.pop(e["rename"])
    for f in list(jdir.iterdir()):
        real = os.path.realpath(f)
        if f.name not in names:
            f.unlink()  # created after the directory's last sync: the name itself is lost
        elif f.is_file():
            os.truncate(f, min(f.stat().st_size, size.get(real, 0)))


def trial(work: Path, rng: random.Random, cut: bool) -> dict:
    """One kill (or power cut) and its recovery; returns per-stream figures."""
    out, status, synclog = work / "out", work / "status.jsonl", work / "sync.log"
    killed_at = _acquire(out, status, rng.uniform(0.0, 1.2), synclog if cut else None)
    lines = _statuses(status)
    st = lines[-1] if lines else {"synced": {}, "written": {}}
    jdir = out / "K.journal"
    if cut:
        power_cut(jdir, synclog)
    rf = work / "R.h5"
    r = subprocess.run([sys.executable, "-m", "hotfire", "recover", str(jdir), "-o", str(rf)], capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)))
    if r.returncode != 0:
        raise AssertionError(f"recover failed ({r.returncode}): {r.stdout[-1500:]} {r.stderr[-1500:]}")
    res = {}
    with h5py.File(rf, "r") as f:
        for s, g in f["streams"].items():
            raw, seg, rate = g["raw"][()], g["segments"][()], float(g.attrs["rate_hz"])
            idx = np.concatenate([np.arange(a, a + n) for a, _, n in seg]) if len(seg) else np.empty(0, np.int64)
            assert len(idx) == len(raw) and check_pattern(s, raw, idx).all(), f"{s}: a row is not the truth"
            assert len(seg) <= 1 and (not len(seg) or seg[0, 0] == 0), f"{s}: a hole inside the run: {seg}"
            end = int(idx[-1]) + 1 if len(idx) else 0
            synced, written = st["synced"].get(s, 0), st["written"].get(s, 0)
            # how long before the cut the first sample lost had been written (the status line that first
            # reports it written comes just after the write): the sync interval bounds this, not the
            # data span lost, since one write carries a whole source block (0.1 s of data)
            first = next((ln["t"] for ln in lines if ln["written"].get(s, 0) > end), None)
            res[s] = {"rate": rate, "end": end, "synced": synced, "written": written,
                      "lost_synced": max(0, synced - end), "lost_s": max(0, written - end) / rate,
                      "lost_age_s": 0.0 if first is None else killed_at - first}
    shutil.rmtree(out)
    for p in (status, synclog, rf):
        p.unlink(missing_ok=True)
    return res


def campaign(kills: int, cuts: int, seed: int = 20, work: Path | None = None, say=print) -> dict:
    """Run the trials; return counts, samples lost beyond the last sync, and the longest lost window."""
    rng = random.Random(seed)
    work = Path(work or tempfile.mkdtemp(prefix="hotfire-crash-"))
    out = {"kills": 0, "cuts": 0, "lost_synced": 0, "longest_lost_s": {"kill": 0.0, "cut": 0.0},
           "oldest_lost_s": {"kill": 0.0, "cut": 0.0}, "sync_s": SYNC_S}
    for k, cut in enumerate([False] * kills + [True] * cuts):
        res = trial(work, rng, cut)
        kind = "cut" if cut else "kill"
        out["kills" if not cut else "cuts"] += 1
        out["lost_synced"] += sum(r["lost_synced"] for r in res.values())
        worst = max(r["lost_s"] for r in res.values())
        out["longest_lost_s"][kind] = max(out["longest_lost_s"][kind], worst)
        oldest = max(r["lost_age_s"] for r in res.values())
        out["oldest_lost_s"][kind] = max(out["oldest_lost_s"][kind], oldest)
        say(f"{kind} {k + 1}: recovered " + ", ".join(f"{s} {r['end']:,} (synced {r['synced']:,}, written "
                                                     f"{r['written']:,})" for s, r in res.items())
            + f"; lost {worst * 1e3:.0f} ms of data, written in the last {oldest * 1e3:.0f} ms before the cut")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--cuts", type=int, default=20)
    ap.add_argument("--seed", type=int, default=20)
    a = ap.parse_args()
    t = time.monotonic()
    r = campaign(a.kills, a.cuts, a.seed)
    print(f"\n{r['kills']} SIGKILLs and {r['cuts']} power cuts recovered in {time.monotonic() - t:.0f} s: "
          f"{r['lost_synced']} samples lost that were reported synced; longest window lost at the end "
          f"{r['longest_lost_s']['kill'] * 1e3:.0f} ms (kills), {r['longest_lost_s']['cut'] * 1e3:.0f} ms "
          f"(power cuts); the oldest lost sample had been written {r['oldest_lost_s']['cut'] * 1e3:.0f} ms "
          f"before its cut; sync interval {SYNC_S * 1e3:.0f} ms")
    sys.exit(0 if r["lost_synced"] == 0 else 1)
