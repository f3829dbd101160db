"""Fuzzing the run-file reader: a damaged file opens and reads, or gives a clear error; no hang.

The examples run in a child process (fuzz_runfile_child.py): HDF5 is C, and
a loop inside it would never return to a Python timeout.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("hypothesis")

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzzing import EXAMPLES  # noqa: E402

from hotfire.core.events import Event  # noqa: E402
from hotfire.core.rig import load_rig  # noqa: E402
from hotfire.core.runfile import writer as writer_mod  # noqa: E402
from hotfire.core.runfile.writer import RunFileWriter  # noqa: E402


def test_damaged_run_files(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_mod, "_chunk_rows", lambda nch, isz: max(16, (1 << 14) // (nch * isz)))
    rig = load_rig("lox-ethanol-5kN")
    path = tmp_path / "small.h5"
    rng = np.random.default_rng(5)
    w = RunFileWriter(path, rig, {"test_id": "FZ"})
    for name, st in rig.streams.items():
        n = 3000
        rows = rng.integers(-100, 100, (n, len(st.channels))).astype(st.dtype)
        w.append(name, 0, rows[:1000])
        w.append(name, 1100, rows[1000:])
    w.add_events([Event("T0", "main", 10, "T0", "")])
    w.close()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    budget = 60 + EXAMPLES * 1.0  # s: ~0.05 s an example here; a hang is far beyond
    try:
        out = subprocess.run([sys.executable, str(Path(__file__).with_name("fuzz_runfile_child.py")), str(path),
                              str(tmp_path)], capture_output=True, text=True, timeout=budget, env=env)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the reader hung on a damaged file (no answer in {budget:g} s): {exc.stdout!r}")
    last = tmp_path / "last-example.txt"
    assert out.returncode == 0, (f"exit {out.returncode}; last input: {last.read_text() if last.exists() else '-'}\n"
                                 + out.stdout[-3000:] + out.stderr[-3000:])
    n = int(out.stdout.split()[1])
    assert n == EXAMPLES or n >= EXAMPLES * 0.9, out.stdout
    print(out.stdout.strip())
