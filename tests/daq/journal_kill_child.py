"""Child process of test_journal_kill.py: write a counter pattern until killed.

Usage: ``python journal_kill_child.py DIRECTORY SEED``. Prints ``ready``, then
``synced_through`` as one JSON line each time it grows. Imports nothing but
numpy and the journal, so it starts fast.
"""
import json
import sys

import numpy as np

STREAMS = {
    "thrust": {"n_channels": 8, "dtype": "int32", "rate_hz": 10000.0},
    "pc": {"n_channels": 4, "dtype": "int16", "rate_hz": 25600.0},
    "tc": {"n_channels": 3, "dtype": "float64", "rate_hz": 100.0},
}


def pattern(stream: str, first: int, n: int) -> np.ndarray:
    """Rows [first, first + n) of the counter pattern; every value depends on (row, channel)."""
    i = np.arange(first, first + n, dtype=np.int64)[:, None]
    c = np.arange(STREAMS[stream]["n_channels"], dtype=np.int64)[None, :]
    if stream == "thrust":
        return (i * 8 + c).astype(np.int32)
    if stream == "pc":
        return ((i * 31 + c * 7 + 1) % 65536 - 32768).astype(np.int16)
    return (i + c / 4.0 + 0.125).astype(np.float64)  # exact in binary


def main(directory: str, seed: int) -> None:
    from hotfire.daq.journal import JournalWriter

    rng = np.random.default_rng(seed)
    # Small segments, so that kills also land in rotations.
    w = JournalWriter(directory, {"test_id": "kill", "streams": STREAMS}, "rig = 'kill'\n",
                      sync_interval=0.02, segment_bytes=1 << 20)
    pos = dict.fromkeys(STREAMS, 0)
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    last = {}
    k = 0
    while True:
        s = ("thrust", "pc", "thrust", "pc", "tc")[k % 5]
        k += 1
        # Mostly small blocks; now and then a large one (a few ms in write),
        # so that some kills land inside a write and tear the last record.
        n = int(rng.integers(1, 600)) if k % 23 else int(rng.integers(50_000, 150_000))
        w.append(s, pos[s], pattern(s, pos[s], n))
        pos[s] += n
        if k % 97 == 0:
            w.event({"kind": "note", "stream": "thrust", "sample": pos["thrust"], "message": "tick"})
        now = w.synced_through
        if now != last:
            out.write(json.dumps(now) + "\n")  # one write < PIPE_BUF: whole or not at all
            out.flush()
            last = now


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
