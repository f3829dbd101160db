"""The publisher's decimated topic: exact min/max buckets, and a viewer that asks for it gets nothing else."""
from __future__ import annotations

import json
import time

import numpy as np
import zmq

from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.publisher import Publisher
from hotfire.daq.pubdecimate import Decimator, step_for
from hotfire.daq.recorder import Recorder
from tests.daq.test_publisher import drain, short


def truth(x, step, k):
    b = x[k * step:(k + 1) * step]
    return b.min(axis=0), b.max(axis=0)


def test_buckets_are_the_min_and_max_whatever_the_block_cuts_and_a_gap_sends_its_broken_bucket():
    rng = np.random.default_rng(7)
    x = rng.integers(-30000, 30000, (20000, 4)).astype("<i2")
    dec, got, i = Decimator(37), {}, 0
    cuts = list(rng.integers(1, 500, 120))
    gap_at = 9000  # samples [9000, 9010) never arrive: bucket 243 is broken
    while i < len(x):
        n = int(cuts.pop()) if cuts else len(x) - i
        if i <= gap_at < i + n:
            n, skip = gap_at - i, 10
        else:
            skip = 0
        for k0, v in dec.feed(i, x[i:i + n]) if n else ():
            for j, b in enumerate(v):
                got.setdefault(k0 + j, []).append(b)
        i += n + skip
    broken = gap_at // 37
    for k, vals in got.items():
        if k == broken:
            assert len(vals) == 2  # the part before the gap, then the part after it
            continue
        lo, hi = truth(x, 37, k)
        assert len(vals) == 1 and np.array_equal(vals[0][0], lo) and np.array_equal(vals[0][1], hi), k
    assert set(got) == set(range(len(x) // 37))  # every complete bucket, in order; the incomplete tail held back
    assert np.array_equal(got[broken][0][1], x[broken * 37:gap_at].max(axis=0))


def test_step_keeps_the_rate_under_the_bound():
    assert step_for(10_000, 200) == 100 and 2 * 10_000 / 100 <= 200
    assert step_for(1000, 300) == 7 and 2 * 1000 / 7 <= 300 < 2 * 1000 / 6
    assert step_for(50, 200) == 1


def test_a_decimated_viewer_gets_exact_buckets_and_no_raw_data(tmp_path):
    rig, src = short()
    pub = Publisher("tcp://127.0.0.1:0", hwm=0, decimate_points=100)
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.SUB)
    s.setsockopt(zmq.RCVHWM, 0)
    for t in (b"meta", b"dec"):
        s.setsockopt(zmq.SUBSCRIBE, t)
    s.connect(pub.address)
    time.sleep(0.3)
    summary = Acquisition(rig, src, [Recorder(tmp_path), pub], test_id="dec").run()
    msgs = drain(s)
    s.close()
    assert {m[0] for m in msgs} == {b"meta", b"dec"}
    meta = json.loads(msgs[0][1])
    buckets = {}
    for m in msgs:
        if m[0] == b"dec":
            h = json.loads(m[1])
            v = np.frombuffer(m[2], h["dtype"]).reshape(h["n"], 2, h["nch"])
            for j in range(h["n"]):
                buckets[(h["stream"], h["first"] + j)] = v[j]
    with open_run(summary.path) as run:
        for name in rig.streams:
            step = meta["decimated"][name]["step"]
            assert 2 * run.streams[name].rate_hz / step <= 100
            raw = run.f["streams"][name]["raw"][()]
            ks = sorted(k for (n, k) in buckets if n == name)
            assert ks == list(range(len(raw) // step))
            for k in ks:
                lo, hi = truth(raw, step, k)
                assert np.array_equal(buckets[(name, k)][0], lo) and np.array_equal(buckets[(name, k)][1], hi)
