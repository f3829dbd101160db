"""Stress: a producer at full speed and three readers, one deliberately slow.

Every row the readers get must be the one written at its index, in order, and
every index a reader passes must be either delivered or in a reported gap.
HOTFIRE_STRESS_SECONDS sets the duration (default 10 s, 3 s when CI is set).
"""
import os
import threading
import time

import numpy as np
import pytest

from hotfire.ext import _ring
from hotfire.ext.ring import Gap, Ring

SECONDS = float(os.environ.get("HOTFIRE_STRESS_SECONDS", "3" if os.environ.get("CI") else "10"))
N_CHANNELS = 8
CAPACITY = 5003       # odd: a row from another lap never matches the pattern


def pattern(first, n, dtype):
    """The rows [first, first+n) the producer writes: each row checkable."""
    i = np.arange(first, first + n, dtype=np.int64)[:, None]
    c = np.arange(N_CHANNELS, dtype=np.int64)
    if dtype == np.float64:
        return (i * N_CHANNELS + c).astype(np.float64)          # exact up to 2**53
    return ((i * 7 + c) % 2**15).astype(dtype)                  # int16


class Tally:
    """What one reader saw; checks order, values and gap indices as it goes."""

    def __init__(self, reader, dtype):
        self.reader = reader
        self.dtype = dtype
        self.expected = reader.position
        self.start = reader.position
        self.delivered = 0
        self.gaps = []          # as returned, before a read or by release()
        self.reads = 0

    def pre_gap(self, gap, first):
        if gap is not None:
            assert gap.first_index == self.expected, (gap, self.expected)
            assert gap.count > 0
            self.gaps.append(gap)
            self.expected += gap.count
        assert first == self.expected, (first, self.expected)

    def rows(self, first, data):
        bad = np.flatnonzero((data != pattern(first, len(data), self.dtype)).any(axis=1))
        return first + bad

    def check(self, first, data):
        wrong = self.rows(first, data)
        assert len(wrong) == 0, f"wrong rows {wrong[:5]} in [{first}, {first + len(data)})"
        self.delivered += len(data)
        self.expected = first + len(data)
        self.reads += 1


def fast_reader(t, stop):
    out = np.empty((4096, N_CHANNELS), t.dtype)
    r = t.reader
    while not stop.is_set() or r.available:
        first, n, gap = r.read_into(out)
        t.pre_gap(gap, first)
        t.check(first, out[:n])
        if n == 0:
            time.sleep(0)


def slow_reader(t, stop):
    r = t.reader
    while not stop.is_set() or r.available:
        res = r.read(max_rows=500)
        t.pre_gap(res.gap, res.first_index)
        t.check(res.first_index, res.data)
        time.sleep(0.005)               # falls behind: must get exact gaps


def view_reader(t, stop):
    r = t.reader
    while not stop.is_set() or r.available:
        view = r.acquire(max_rows=3000)
        t.pre_gap(view.gap, view.first_index)
        first = view.first_index
        wrong = np.concatenate([t.rows(first, view.parts[0]),
                                t.rows(first + len(view.parts[0]), view.parts[1])
                                if len(view.parts) == 2 else np.empty(0, np.int64)])
        gap = r.release(view)
        # Rows overwritten while held may be torn: they must all be in the gap.
        torn = 0
        if gap is not None:
            assert gap.first_index == first and 0 < gap.count <= view.n
            t.gaps.append(gap)
            torn = gap.count
        assert (wrong < first + torn).all(), (wrong[:5], gap)
        t.delivered += view.n - torn
        t.expected = first + view.n
        t.reads += 1
        if view.n == 0:
            time.sleep(0)


def producer(ring, dtype, stop, seconds, errors):
    sizes = [1, 37, 100, 1000, 2500, CAPACITY, 3, 4999]
    deadline = time.monotonic() + seconds
    k = 0
    try:
        while time.monotonic() < deadline:
            n = sizes[k % len(sizes)]
            k += 1
            first = ring.written
            assert ring.write(pattern(first, n, dtype)) == first
    except BaseException as e:          # noqa: BLE001 - re-raised in the test
        errors.append(e)
    finally:
        stop.set()


def merged(gaps):
    out = []
    for g in gaps:
        if out and out[-1].stop == g.first_index:
            out[-1] = Gap(out[-1].first_index, out[-1].count + g.count)
        else:
            out.append(g)
    return out


def run_stress(dtype, seconds):
    ring = Ring(CAPACITY, N_CHANNELS, dtype)
    ring.write(pattern(0, 1234, dtype))
    # One reader replays history from index 0 (pre-trigger); the others
    # start at the current write index.
    kinds = [("fast", fast_reader, 0), ("view", view_reader, None), ("slow", slow_reader, None)]
    tallies = {name: Tally(ring.reader(start=start), dtype) for name, _, start in kinds}
    stop = threading.Event()
    errors = []

    def guard(fn, t):
        try:
            fn(t, stop)
        except BaseException as e:      # noqa: BLE001
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=guard, args=(fn, tallies[name])) for name, fn, _ in kinds]
    threads.append(threading.Thread(target=producer, args=(ring, dtype, stop, seconds, errors)))
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=seconds + 60)
        assert not th.is_alive(), "a stress thread hung"
    if errors:
        raise errors[0]

    written = ring.written
    assert written > 10 * CAPACITY, "the producer barely ran"
    for name, t in tallies.items():
        r = t.reader
        lost = sum(g.count for g in t.gaps)
        assert r.position == t.expected == written, name
        assert t.delivered + lost == written - t.start, name
        assert r.lost == lost, name
        assert r.gaps == merged(t.gaps), name
    assert tallies["slow"].reader.lost > 0, "the slow reader never fell behind"
    return tallies


@pytest.mark.slow
def test_stress_float64_every_copy_without_gil():
    # Release the GIL for every copy, so readers really copy while the writer writes.
    old = _ring.set_nogil_min_bytes(0)
    try:
        run_stress(np.float64, SECONDS)
    finally:
        _ring.set_nogil_min_bytes(old)


@pytest.mark.slow
def test_stress_int16_default_gil_policy():
    run_stress(np.int16, max(1.0, SECONDS / 5))
