"""SIGKILL the journal writer at random moments: every synced row survives, bit-exact.

A child process (journal_kill_child.py) writes a counter pattern (row i, channel c -> a value of i and
c) to three streams through JournalWriter, with small segments so kills also
land in rotations, and prints ``synced_through`` each time it grows. The
parent kills it with SIGKILL at a random moment and checks the journal: every
row reported synced is there, every row read is exactly the pattern (so
nothing is fabricated), the streams are contiguous from 0, and the only
damage is a torn record at the very end.
"""
from __future__ import annotations

import importlib.util
import json
import os
import random
import select
import signal
import subprocess
import sys
import time

import pytest

from hotfire.daq.journal import read_journal, stream_rows

CI = bool(os.environ.get("HOTFIRE_CI") or os.environ.get("CI"))
TRIALS = 20 if CI else 24
MAX_RUN_S = 0.25 if CI else 0.4

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "journal_kill_child.py")
_spec = importlib.util.spec_from_file_location("journal_kill_child", CHILD)
child = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(child)
STREAMS, pattern = child.STREAMS, child.pattern


def run_and_kill(directory: str, seed: int, after: float) -> dict:
    # The child imports hotfire the way this process does.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    p = subprocess.Popen([sys.executable, CHILD, directory, str(seed)], stdout=subprocess.PIPE, env=env)
    try:
        line = p.stdout.readline()
        assert line == b"ready\n", f"child did not start: {line!r}"
        # Keep draining the pipe so the child never blocks on it, then kill.
        buf = b""
        deadline = time.monotonic() + after
        while (left := deadline - time.monotonic()) > 0:
            if select.select([p.stdout], [], [], left)[0]:
                buf += os.read(p.stdout.fileno(), 1 << 16)
        os.kill(p.pid, signal.SIGKILL)
        buf += p.stdout.read()
        assert p.wait() == -signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    synced = {}
    for line in buf.decode().splitlines():  # each line is written whole (< PIPE_BUF)
        synced = json.loads(line)
    return synced


@pytest.mark.slow
def test_sigkill_loses_no_synced_row(tmp_path):
    rng = random.Random(1234)
    t0 = time.monotonic()
    total_synced = survived = torn = 0
    for trial in range(TRIALS):
        d = str(tmp_path / f"run{trial}")
        synced = run_and_kill(d, seed=trial, after=rng.uniform(0.01, MAX_RUN_S))
        j = read_journal(d)
        names = [s.name for s in j.segments]
        # The only acceptable damage: the record being written when the kill came.
        for dmg in j.damage:
            assert dmg.segment == names[-1], f"trial {trial}: damage before the last segment: {dmg}"
        torn += bool(j.damage)
        for s in STREAMS:
            # Every DATA record of the stream, in order: contiguous from 0, no
            # overlap, and every row exactly the pattern (nothing fabricated).
            sr = stream_rows(j, s)
            assert sr.gaps == [] and sr.overlaps == [] and sr.first_index == 0, f"trial {trial}: {s}"
            assert sr.rows.dtype == pattern(s, 0, 0).dtype
            assert sr.rows.tobytes() == pattern(s, 0, sr.end_index).tobytes(), \
                f"trial {trial}: {s} rows are not what was written"
            assert sr.end_index >= synced.get(s, 0), \
                f"trial {trial}: {s} synced through {synced[s]} but only {sr.end_index} rows survived"
            total_synced += synced.get(s, 0)
            survived += sr.end_index
    assert total_synced > 0, "no trial got as far as a sync: the test proved nothing"
    print(f"{TRIALS} kills: {total_synced} rows reported synced, {survived} survived, "
          f"{torn} journals with a torn last record, {time.monotonic() - t0:.1f} s")
