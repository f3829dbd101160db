"""Child of test_fuzz_runfile: fuzz open_run on damaged copies of one run file.

Run as a script (argv: run file, work dir) so that a hang inside the HDF5 C
library, which no Python signal interrupts, is caught by the parent's timeout.
Prints ``ok N`` after N examples; any exception other than HotfireError fails.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from hypothesis import given, strategies as st

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzzing import FUZZ  # noqa: E402

from hotfire.core.errors import HotfireError  # noqa: E402
from hotfire.core.runfile.reader import open_run  # noqa: E402

SRC, WORK = Path(sys.argv[1]), Path(sys.argv[2])
SIZE = SRC.stat().st_size
ORIG = SRC.read_bytes()
count = [0]


@FUZZ
@given(st.lists(st.tuples(st.integers(0, SIZE - 1), st.binary(min_size=1, max_size=512)), min_size=1, max_size=4))
def fuzz(edits):
    p = WORK / "f.h5"
    shutil.copy(SRC, p)
    with open(p, "r+b") as fh:
        for off, data in edits:
            fh.seek(off)
            fh.write(data)
    count[0] += 1
    # kept on disk before the read: if HDF5 crashes the process (a C fault), the parent shows the input
    (WORK / "last-example.txt").write_text(repr(edits))
    try:
        with open_run(p) as r:
            r.damage
            for c in r.channels:
                r.channel(c.name)
            r.events
    except HotfireError:
        pass


if __name__ == "__main__":
    fuzz()
    print(f"ok {count[0]}")
