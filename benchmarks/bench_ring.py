"""Throughput of hotfire's ring buffer against copies and other rings.

Run by ``make bench`` (about 20 s). Every row of the table moves blocks of
``rows x 16`` samples from a writer to a reader, either in one thread (write
then read, in a loop) or across two threads (producer / consumer; the
producer waits, yielding, when the ring is full so no row is lost, and an
empty consumer yields rather than sleeps). MB/s counts the bytes delivered to
the reader; "x copy" is the ratio to one np.copyto of 64 MiB (larger than the
caches) in the same run. The ring is 4 MiB, a realistic size that fits the
L3 cache, while the 64 MiB copy does not: that is why a ring can beat it.
The deque copies each block once (the consumer takes the copy), and so does
the zero-copy row (the consumer reads views into the ring); the other rings
copy twice (in and out).

Each figure is the best of ``--rounds`` short runs spread over the whole run: the
machine is shared and its caches too, so a mean mostly measures the
neighbours.

Options: ``--rounds`` (default 8), ``--seconds`` (time per run, default 0.06).
Environment: HOTFIRE_NOGIL_MIN_BYTES (copy size from which the ring releases the GIL).
"""
from __future__ import annotations

import collections
import os
import sys
import threading
import time

import numpy as np

from benchargs import parser
from hotfire.ext import _ring
from hotfire.ext.ring import Ring

try:
    import ringbuf
except ImportError:  # optional comparison (needs Boost to build)
    ringbuf = None

RING_BYTES = 4 << 20
N_CHANNELS = 16
SECONDS = 0.06  # per run; --seconds
_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


class HotfireRing:
    name = "hotfire ring"

    def __init__(self, cap, nch, dtype, block_rows):
        self.ring = Ring(cap, nch, dtype)
        self.reader = self.ring.reader()
        self.write = self.ring.write
        self._read_into = self.reader.read_into

    def read(self, out):
        return self._read_into(out)[1]

    def free(self):
        return self.ring.capacity - (self.ring.written - self.reader.position)

    def check(self):
        assert self.reader.lost == 0, self.reader.gaps


class HotfireRingViews(HotfireRing):
    """The same ring read in place: acquire() a view, then release() it."""

    name = "hotfire ring, zero-copy"

    def __init__(self, cap, nch, dtype, block_rows):
        super().__init__(cap, nch, dtype, block_rows)
        self._acquire = self.reader.acquire
        self._release = self.reader.release

    def read(self, out):
        view = self._acquire(len(out))
        gap = self._release(view)
        assert gap is None
        return view.n


class NumpyRing:
    """The obvious pure-numpy ring: slice assignment, one reader, no atomics."""

    name = "numpy ring (pure Python)"

    def __init__(self, cap, nch, dtype, block_rows):
        self.buf = np.zeros((cap, nch), dtype)
        self.cap = cap
        self.w = 0
        self.r = 0

    def write(self, block):
        n = len(block)
        s = self.w % self.cap
        k = min(n, self.cap - s)
        self.buf[s:s + k] = block[:k]
        if k < n:
            self.buf[:n - k] = block[k:]
        self.w += n

    def read(self, out):
        n = min(len(out), self.w - self.r)
        s = self.r % self.cap
        k = min(n, self.cap - s)
        out[:k] = self.buf[s:s + k]
        if k < n:
            out[k:n] = self.buf[:n - k]
        self.r += n
        return n

    def free(self):
        return self.cap - (self.w - self.r)

    def check(self):
        pass


class DequeRing:
    """collections.deque of copied blocks (thread-safe append/popleft)."""

    name = "deque of block copies"

    def __init__(self, cap, nch, dtype, block_rows):
        self.q = collections.deque()
        self.cap = cap
        self.rows = block_rows

    def write(self, block):
        self.q.append(block.copy())

    def read(self, out):
        try:
            b = self.q.popleft()
        except IndexError:
            return 0
        return len(b)

    def free(self):
        return self.cap - len(self.q) * self.rows

    def check(self):
        pass


class RingbufRing:
    """The ringbuf package (Boost lock-free SPSC queue, flat samples)."""

    name = "ringbuf 2.x"

    def __init__(self, cap, nch, dtype, block_rows):
        self.nch = nch
        fmt = {np.dtype(np.float64): "d", np.dtype(np.int16): "h"}[np.dtype(dtype)]
        self.q = ringbuf.RingBuffer(format=fmt, capacity=cap * nch)

    def write(self, block):
        rest = self.q.push(block.reshape(-1))
        assert rest is None, "ringbuf overflow"

    def read(self, out):
        got = self.q.pop(out.size)
        return 0 if got is None else len(got) // self.nch

    def free(self):
        return self.q.write_available // self.nch

    def check(self):
        pass


def best_copy_64mib():
    src = np.ones(8 << 20)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(10):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return src.nbytes / best / 1e6


def loop_block_copy(block):
    out = np.empty_like(block)
    copyto = np.copyto
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + SECONDS
    while True:
        for _ in range(100):
            copyto(out, block)
        n += 100
        t = time.perf_counter()
        if t > deadline:
            return n * block.nbytes / (t - t0) / 1e6, (t - t0) / n


def one_thread(impl, block):
    out = np.empty_like(block)
    write, read = impl.write, impl.read
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + SECONDS
    while True:
        for _ in range(100):
            write(block)
            read(out)
        n += 100
        t = time.perf_counter()
        if t > deadline:
            impl.check()
            return n * block.nbytes / (t - t0) / 1e6, (t - t0) / n


def two_threads(impl, block):
    rows = len(block)
    out = np.empty_like(block)
    stop = threading.Event()
    got = [0]

    def producer():
        write, free = impl.write, impl.free
        while not stop.is_set():
            for _ in range(50):
                while free() < rows:    # ring full: let the consumer run
                    if stop.is_set():
                        return
                    _yield()
                write(block)

    def consumer():
        read = impl.read
        n = 0
        while not stop.is_set():
            k = read(out)
            if k:
                n += k
            else:
                _yield()
        got[0] = n

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    time.sleep(SECONDS)
    stop.set()
    for th in threads:
        th.join()
    dt = time.perf_counter() - t0
    impl.check()
    nbytes = got[0] * block.nbytes / rows
    return nbytes / dt / 1e6, dt / (got[0] / rows)


GOALS = {  # (dtype, rows, threads): minimum ratio to the 64 MiB copy
    ("float64", 100, 1): 1.0, ("float64", 100, 2): 0.5,
    ("float64", 1000, 1): 1.5, ("float64", 1000, 2): 1.5,
}


def main(argv=None):
    global SECONDS
    ap = parser(__doc__, rounds=8, rounds_help="rounds; the best is shown")
    ap.add_argument("--seconds", type=float, default=SECONDS, help=f"time per run (default {SECONDS})")
    args = ap.parse_args(argv)
    SECONDS, reps = args.seconds, args.rounds
    t_start = time.perf_counter()
    if "HOTFIRE_NOGIL_MIN_BYTES" in os.environ:
        _ring.set_nogil_min_bytes(int(os.environ["HOTFIRE_NOGIL_MIN_BYTES"]))
    nogil_min = _ring.nogil_min_bytes()
    impls = [HotfireRing, HotfireRingViews, NumpyRing, DequeRing]
    if ringbuf is not None:
        impls.append(RingbufRing)
    switch = sys.getswitchinterval()
    # Neighbours on a shared machine come and go: every row is measured once
    # per round, the rounds spread over the whole run, and the best of each
    # row is kept, the 64 MiB baseline included (so a busy moment cannot
    # inflate the ratios).
    cases = []
    for dtype in (np.float64, np.int16):
        for rows in (100, 1000):
            block = np.ones((rows, N_CHANNELS), dtype)
            cap = RING_BYTES // block[0].nbytes
            key = (f"{rows}x{N_CHANNELS}", np.dtype(dtype).name)
            cases.append(("np.copyto of one block", *key, 1, lambda b=block: loop_block_copy(b)))
            for impl in impls:
                for threads, fn in ((1, one_thread), (2, two_threads)):
                    cases.append((impl.name, *key, threads,
                                  lambda i=impl, f=fn, b=block, c=cap, d=dtype, r=rows:
                                  f(i(c, N_CHANNELS, d, r), b)))
    best = [(0.0, 0.0)] * len(cases)
    bases = []
    for k in range(reps):
        print(f"round {k + 1}/{reps} ...", file=sys.stderr, flush=True)
        bases.append(best_copy_64mib())
        for j, case in enumerate(cases):
            best[j] = max(best[j], case[-1]())
    bases.append(best_copy_64mib())
    base = max(bases)
    table = [(*case[:4], *b) for case, b in zip(cases, best)]

    print(f"ring {RING_BYTES >> 20} MiB; {N_CHANNELS} channels; best of {reps} rounds of {SECONDS} s; "
          f"copies >= {nogil_min} B release the GIL; GIL switch interval {switch * 1e3:g} ms")
    print(f"baseline np.copyto 64 MiB: {base:.0f} MB/s = 1.00x (best of "
          f"{' '.join(f'{b:.0f}' for b in bases)})")
    if ringbuf is None:
        print("ringbuf: not importable here, rows skipped (pip install ringbuf needs "
              "Debian's libboost-dev and libboost-system-dev)")
    head = (f"{'implementation':26} {'block':>9} {'dtype':>7} {'threads':>7} {'MB/s':>8} "
            f"{'x copy':>7} {'us/block':>9}")
    print(head)
    print("-" * len(head))
    results = {}
    for name, shape, dname, threads, mbs, sec in table:
        print(f"{name:26} {shape:>9} {dname:>7} {threads:>7} {mbs:8.0f} "
              f"{mbs / base:6.2f}x {sec * 1e6:9.2f}")
        if name == HotfireRing.name:
            results[dname, int(shape.split("x")[0]), threads] = mbs / base
    for (dname, rows, threads), goal in GOALS.items():
        got = results[dname, rows, threads]
        print(f"goal hotfire {rows}x{N_CHANNELS} {dname}, {threads} thread(s): >= {goal:.1f}x, "
              f"got {got:.2f}x {'ok' if got >= goal else 'MISSED'}")
    print(f"total {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
