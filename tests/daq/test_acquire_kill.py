"""SIGKILL a real ``hotfire acquire`` at random moments; ``hotfire recover`` gets every synced sample back.

Each trial runs ``hotfire acquire lox-ethanol-5kN --source pattern`` in a
subprocess with ``--status-file``: the recorder appends the journal's
``synced_through`` (and ``written_through``) per stream whenever it changes.
The test kills the process with SIGKILL at a random moment of the recording,
runs ``hotfire recover`` on the journal and checks the recovered run file:

* every sample reported synced is there, and so is every sample reported
  written (a process kill does not lose the page cache; only a power cut
  would cost the unsynced tail, at most one ``--sync-interval``);
* every stored row is bit-exact the counter pattern at its sample index, so
  nothing is fabricated or misplaced;
* a gap (only possible in the as-fast-as-possible trials) is a declared ring
  overrun, never an unexplained hole;
* the only journal damage is the record being written at the kill, in the
  last segment;
* the file opens with the run-file reader (``hotfire info``).

Most trials pace the pattern source in real time (a real acquisition); some
run it as fast as possible, so that kills land inside large writes, during
the run file's sealing, and in ring overruns.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from hotfire.core.runfile.reader import open_run
from hotfire.cli import main
from hotfire.daq.journal import read_journal, stream_rows
from hotfire.daq.sources.pattern import check_pattern

CI = bool(os.environ.get("HOTFIRE_CI") or os.environ.get("CI"))
KILLS = 20 if CI else 24       # kills during recording (status file seen)
EARLY = 2                      # plus kills at a random moment of start-up
MAX_AFTER_S = 0.8 if CI else 1.2


def last_status(path) -> dict:
    st = {"synced": {}, "written": {}}
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        return st
    for line in data.split(b"\n")[:-1]:  # complete lines only
        st = json.loads(line)
    return st


def run_and_kill(out, status, fast: bool, after: float, early: bool) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "hotfire", "acquire", "lox-ethanol-5kN", "--source", "pattern",
           "--out", str(out), "--test-id", "K", "--quiet", "--status-file", str(status),
           "--sync-interval", "0.05", "--no-publish"]
    cmd += ["--fast", "--duration", "3600"] if fast else ["--duration", "60"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    err = open(f"{status}.stderr", "wb")  # what the child said, if it ends on its own
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)

    def said():
        err.flush()
        return open(f"{status}.stderr", "rb").read()[-2000:].decode(errors="replace")

    try:
        t0 = time.monotonic()
        if not early:
            while not (os.path.exists(status) and os.path.getsize(status)):
                assert p.poll() is None, f"hotfire acquire exited with {p.returncode} before recording: {said()}"
                assert time.monotonic() - t0 < 60, "hotfire acquire did not start recording"
                time.sleep(0.01)
        t1 = time.monotonic()
        time.sleep(after)
        os.kill(p.pid, signal.SIGKILL)
        assert p.wait() == -signal.SIGKILL, f"hotfire acquire exited with {p.returncode} before the kill: {said()}"
        return last_status(status), time.monotonic() - t1
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        err.close()


@pytest.mark.slow
def test_sigkill_hotfire_acquire_then_recover(tmp_path, capsys):
    rng = random.Random(20261125)
    t_start = time.monotonic()
    synced_total = stored_total = torn = recovered = 0
    trials = [("early", True)] * EARLY + [("rt", False)] * KILLS
    for k in range(0, len(trials), 5):  # every 5th recording trial: as fast as possible
        if trials[k][0] == "rt":
            trials[k] = ("fast", False)
    for trial, (mode, early) in enumerate(trials):
        out = tmp_path / f"run{trial}"
        status = tmp_path / f"status{trial}.jsonl"
        after = rng.uniform(0.2, 1.5) if early else rng.uniform(0.0, MAX_AFTER_S if mode == "rt" else 0.5)
        st, _ = run_and_kill(out, status, mode == "fast", after, early)
        jdir = out / "K.journal"
        if not jdir.exists() or not any(jdir.glob("journal-*.hfj")):
            assert early and not st["synced"], f"trial {trial}: data reported synced but no journal"
            continue
        rf = out / "R.h5"
        assert main(["recover", str(jdir), "-o", str(rf)]) == 0, f"trial {trial}: recover failed"
        capsys.readouterr()
        recovered += 1
        j = read_journal(jdir)
        last = j.segments[-1].name
        assert all(d.segment == last for d in j.damage), f"trial {trial}: damage before the tail: {j.damage}"
        torn += bool(j.damage)
        with h5py.File(rf, "r") as f:
            assert f.attrs["recovered"] == 1
            for s, g in f["streams"].items():
                raw, seg = g["raw"][()], g["segments"][()]
                idx = (np.concatenate([np.arange(a, a + n) for a, _, n in seg]) if len(seg)
                       else np.empty(0, np.int64))
                assert len(idx) == len(raw)
                assert check_pattern(s, raw, idx).all(), f"trial {trial}: {s}: a row is not the pattern"
                end = int(idx[-1]) + 1 if len(idx) else 0
                assert end >= st["synced"].get(s, 0), \
                    f"trial {trial} ({mode}): {s} synced through {st['synced'][s]}, recovered up to {end}"
                assert end >= st["written"].get(s, 0), \
                    f"trial {trial} ({mode}): {s} written through {st['written'][s]}, recovered up to {end}"
                if mode == "rt":
                    assert len(seg) <= 1 and (not len(seg) or seg[0, 0] == 0), f"trial {trial}: {s} {seg}"
                else:
                    sr = stream_rows(j, s)
                    assert all(reason != "not in journal" for _, _, reason in sr.gaps), sr.gaps
                synced_total += st["synced"].get(s, 0)
                stored_total += end
        with open_run(rf) as run:
            assert run.test_id == "K" and set(run.streams) == {"slow", "main", "dynamic"}
        shutil.rmtree(out)
    assert recovered >= KILLS, f"only {recovered} kills landed in a recording"
    assert synced_total > 0, "no trial got as far as a sync: the test proved nothing"
    print(f"\n{len(trials)} kills ({recovered} during recording): streams synced up to {synced_total:,} "
          f"samples in all, recovered up to {stored_total:,}; {torn} journals with a torn last record; "
          f"{time.monotonic() - t_start:.1f} s")


def _builder_pid(pid: int) -> int | None:
    """The run-file builder process among the children of process ``pid``."""
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            kids = open(f"/proc/{pid}/task/{task}/children").read().split()
        except OSError:
            continue
        for kid in kids:
            try:
                if b"hotfire.daq.buildproc" in open(f"/proc/{kid}/cmdline", "rb").read():
                    return int(kid)
            except OSError:
                pass
    return None


def test_sigkill_the_builder_of_a_real_acquire_costs_nothing(tmp_path):
    # The HDF5 builder of a real `hotfire acquire` is killed mid-run: the acquisition completes
    # (exit 0), says so, and its sealed run file holds every sample, bit-exact, with no gap.
    out, status, duration = tmp_path / "out", tmp_path / "status.jsonl", 4.0
    cmd = [sys.executable, "-m", "hotfire", "acquire", "lox-ethanol-5kN", "--source", "pattern",
           "--out", str(out), "--test-id", "B", "--quiet", "--status-file", str(status),
           "--duration", str(duration), "--no-publish"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    killed = None
    try:
        deadline = time.monotonic() + 60
        live = out / "B.h5.live"
        while time.monotonic() < deadline and p.poll() is None:
            pid = _builder_pid(p.pid)
            if pid is not None and live.exists() and live.stat().st_size > 200_000:
                os.kill(pid, signal.SIGKILL)
                killed = pid
                break
            time.sleep(0.02)
        stdout, stderr = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert killed is not None, "the builder was never seen building"
    err = stderr.decode(errors="replace")
    assert p.returncode == 0, err
    assert "ALARM: run-file builder died: killed by signal SIGKILL" in err
    assert "recorded" in stdout.decode() and "; 0 samples lost;" in stdout.decode()
    with h5py.File(out / "B.h5", "r") as f:
        assert f.attrs["sealed"] == 1
        for s, g in f["streams"].items():
            raw, seg = g["raw"][()], g["segments"][()]
            assert seg.tolist() == [[0, 0, round(duration * g.attrs["rate_hz"])]], s
            assert check_pattern(s, raw, np.arange(len(raw))).all(), s
    with open_run(out / "B.h5") as run:
        assert [e["kind"] for e in run.events].count("alarm") == 1
