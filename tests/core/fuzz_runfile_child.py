"""Child of test_fuzz_runfile: fuzz the guarded run-file open on damaged copies of one run file.

Run as a script (argv: run file, work dir). Each example is read in a
forked process of its own, so that a crash of the HDF5 C library (a
signal) or a hang (no Python signal interrupts C code) is seen per example
and fails it, instead of ending the whole run. The read is what the command
line does: :func:`open_run_guarded` (whose own child meets the HDF5 crash
first), then every channel, the events and the damage report. Any exception
other than HotfireError fails.

Prints ``ok N guarded: HDF5 crashed C, hung H`` after N examples: the ones
the guard refused, HDF5 having crashed or hung on them in its child. A 10,000-example run, by hand::

    HOTFIRE_FUZZ_EXAMPLES=10000 nice .venv/bin/python -m pytest -q -p no:cacheprovider \\
        tests/core/test_fuzz_runfile.py -s
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from hypothesis import given, strategies as st

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzzing import FUZZ  # noqa: E402

from hotfire.core.errors import HotfireError  # noqa: E402
from hotfire.core.runfile.guard import RunFileCrashError, open_run_guarded  # noqa: E402

SRC, WORK = Path(sys.argv[1]), Path(sys.argv[2])
SIZE = SRC.stat().st_size
GUARD_S = 3.0   # the guard's limit on HDF5 reading the metadata (ms when it does not hang)
CASE_S = 60.0   # the whole example: the guard's limit plus the reads, on a loaded machine
count = {"n": 0, "crashed": 0, "hung": 0}


def read_all(p) -> str:
    """What a command does with a run file; returns 'crashed' or 'hung' (refused by the guard), 'error' or 'ok'."""
    try:
        with open_run_guarded(p, timeout_s=GUARD_S) as r:
            r.damage
            for c in r.channels:
                try:
                    r.channel(c.name)
                except HotfireError:
                    pass
            r.events
    except RunFileCrashError as exc:
        return "hung" if "HDF5 library hung" in str(exc) else "crashed"
    except HotfireError:
        return "error"
    return "ok"


def in_child(p) -> str:
    """:func:`read_all` in a forked process; raise if it died by a signal, hung or raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        try:
            msg = read_all(p)
        except BaseException:  # noqa: BLE001
            msg = "traceback " + traceback.format_exc()
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    buf, deadline = b"", time.monotonic() + CASE_S
    while True:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([r], [], [], wait)[0]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            raise AssertionError(f"hang: no answer in {CASE_S:g} s")
        chunk = os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise AssertionError(f"the reading process died by {signal.Signals(os.WTERMSIG(status)).name}")
    msg = buf.decode(errors="replace")
    if msg.startswith("traceback "):
        raise AssertionError(msg)
    return msg


@FUZZ
@given(st.lists(st.tuples(st.integers(0, SIZE - 1), st.binary(min_size=1, max_size=512)), min_size=1, max_size=4))
def fuzz(edits):
    p = WORK / "f.h5"
    shutil.copy(SRC, p)
    with open(p, "r+b") as fh:
        for off, data in edits:
            fh.seek(off)
            fh.write(data)
    count["n"] += 1
    (WORK / "last-example.txt").write_text(repr(edits))  # the input, if this run itself goes down
    got = in_child(p)
    if got in count:
        count[got] += 1


if __name__ == "__main__":
    fuzz()
    print(f"ok {count['n']} guarded: HDF5 crashed {count['crashed']}, hung {count['hung']}")
