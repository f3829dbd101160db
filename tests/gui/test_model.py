"""Decimation and the viewer's buffers: peaks survive, levels agree, gaps stay gaps."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from hotfire.gui.decimate import bucket_size, minmax, polyline
from hotfire.gui.eventlog import EventLog
from hotfire.gui.meta import RunMeta, StreamMeta
from hotfire.gui.model import LiveStore, Mirror


def reference(y, first, k):
    """Min/max per aligned bucket, the slow obvious way."""
    b0, b1 = first // k, -(-(first + y.shape[-1]) // k)
    lo, hi = [], []
    for b in range(b0, b1):
        seg = y[..., max(first, b * k) - first:min(first + y.shape[-1], (b + 1) * k) - first]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # all-NaN buckets
            lo.append(np.nanmin(seg, axis=-1))
            hi.append(np.nanmax(seg, axis=-1))
    return b0, np.stack(lo, -1), np.stack(hi, -1)


@pytest.mark.parametrize("k", [1, 2, 4, 16, 32, 256])
@pytest.mark.parametrize("first", [0, 5, 1023])
def test_minmax_matches_the_obvious_reduction(k, first):
    rng = np.random.default_rng(k + first)
    y = rng.standard_normal((3, 5000)).astype(np.float32)
    y[1, 700:900] = np.nan  # a gap
    b0, lo, hi = minmax(y, y, first, k)
    if k == 1:
        assert lo is y and hi is y and b0 == first
        return
    rb0, rlo, rhi = reference(y, first, k)
    assert b0 == rb0
    assert np.array_equal(lo, rlo, equal_nan=True) and np.array_equal(hi, rhi, equal_nan=True)


def test_a_single_sample_spike_survives():
    y = np.zeros((1, 1_000_000), np.float32)
    y[0, 123_457] = 9.0
    y[0, 765_432] = -7.0
    k = bucket_size(y.shape[1], 1500)
    _, lo, hi = minmax(y, y, 0, k)
    assert k == 1024 and hi.max() == 9.0 and lo.min() == -7.0
    x, yy = polyline(np.arange(lo.shape[1], dtype=float), lo[0], hi[0])
    assert len(yy) == 2 * lo.shape[1] and yy.max() == 9.0 and yy.min() == -7.0


def test_mirror_gives_contiguous_views_across_the_wrap():
    m = Mirror(2, 8)
    data = np.arange(40, dtype=np.float32).reshape(2, 20)
    m.put(0, data[:, :6])
    m.put(6, data[:, 6:13])  # wraps
    v = m.get(6, 13)
    assert v.base is not None and np.array_equal(v, data[:, 6:13])
    out = m.get(3, 15)  # partly gone, partly not yet written
    assert np.isnan(out[:, :2]).all() and np.array_equal(out[:, 2:10], data[:, 5:13]) and np.isnan(out[:, 10:]).all()


def test_both_levels_draw_the_same_picture():
    meta = StreamMeta("s", 10000.0, ("a", "b"))
    store = LiveStore(meta)
    rng = np.random.default_rng(2)
    y = rng.standard_normal((2, 180_000)).astype(np.float32)
    y[0, 150_001] = 40.0
    pos = 0
    for n in rng.integers(1, 3000, size=400):
        if pos >= y.shape[1]:
            break
        store.append(pos, y[:, pos:pos + n])
        pos += n
    lo, hi = store.span()
    assert hi == y.shape[1]
    for k in (store.k1, 2 * store.k1, 8 * store.k1):
        i0 = hi - 100 * k - 37
        b_l1 = store.fetch(meta.time(i0), meta.time(hi - 1), 100)  # level 1
        # the same buckets reduced from the samples
        b0, rlo, rhi = minmax(y[:, i0:hi], y[:, i0:hi], i0, b_l1.k)
        # level 1 holds whole buckets: the first one may cover samples before i0
        assert b_l1.b0 == b0
        assert np.array_equal(b_l1.lo[:, 1:], rlo[:, 1:]) and np.array_equal(b_l1.hi[:, 1:], rhi[:, 1:])
    assert store.fetch(meta.time(hi - 60_000), meta.time(hi), 1000).hi[0].max() == 40.0


def test_missing_samples_become_a_break_not_a_line():
    meta = StreamMeta("s", 1000.0, ("a",))
    store = LiveStore(meta)
    store.append(0, np.ones((1, 500), np.float32))
    store.append(800, np.ones((1, 200), np.float32))  # 300 samples never arrived
    assert store.missed == 300
    tr = store.fetch(0.0, 1.0, 2000)
    assert tr.k == 1 and np.isnan(tr.lo[0, 500:800]).all() and np.isfinite(tr.lo[0, 800:]).all()
    assert store.mean(0, 1.0, 0.1) == 1.0


def test_levels_follow_the_limit_events():
    meta = RunMeta("t", "rig", "sim", {"main": StreamMeta("main", 1000.0, ("PC",))}, [], 2.0)
    log = EventLog(meta)
    ev = lambda kind, s, ch="PC": {"kind": kind, "stream": "main", "sample": s, "channel": ch}  # noqa: E731
    new = log.add([ev("redline", 2500), ev("T0", 2000, ""), ev("warning", 2400), ev("clear", 3000)])
    assert len(new) == 4 and log.add([ev("redline", 2500)]) == []  # duplicates (meta re-sends) ignored
    assert log.t0() == 2.0
    assert log.levels(2.45) == {"PC": 1} and log.levels(2.6) == {"PC": 2} and log.levels(3.5) == {"PC": 0}
    assert [a.kind for a in log.alarms(10)] == ["redline"]
