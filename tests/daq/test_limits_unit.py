"""The limit detectors sample by sample, with hand-worked expectations: strict bounds, the
hysteresis band, the minimum duration counted across blocks, the dates and texts of the
events, the defaults, and the checker's handling of lost samples. Fast: the mutation-test
subset of daq/limits.py with test_limits.py."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from hotfire.core.rig import Limits, load_rig
from hotfire.core.scaling import Scaling
from hotfire.daq.limits import ChannelLimits, Detector, LimitChecker

IDENTITY = Scaling({"coefficients": [0.0, 1.0]}, {"type": "none"})


def states(d, *blocks):
    out = []
    for b in blocks:
        st, _ = d.feed(np.asarray(b, dtype=float))
        out += [int(v) for v in st]
    return out


def test_a_bound_is_strict_and_the_reset_band_too():
    d = Detector(2, "max", 10.0, 1.0, 1)
    # 10 is not beyond 10; 10.5 is; 9.5 is inside but not by the band; 9 is not *below* 9
    assert states(d, [10.0, 10.5, 9.5, 9.0, 8.9]) == [0, 1, 1, 1, 0]
    d = Detector(2, "min", 10.0, 1.0, 1)
    assert states(d, [10.0, 9.5, 10.5, 11.0, 11.1]) == [0, 1, 1, 1, 0]


def test_the_minimum_duration_counts_whole_runs_across_blocks():
    d = Detector(1, "max", 0.0, 0.0, 3)
    assert states(d, [1, 1], [1, -1]) == [0, 0, 1, 1]  # the third sample beyond trips, in the next block
    assert states(d, [-1], [-1, 1, -1]) == [1, 0, 0, 0]  # three back inside (one carried) reset
    fresh = Detector(1, "max", 0.0, 0.0, 3)
    assert states(fresh, [1, 1, -1, 1, 1]) == [0, 0, 0, 0, 0]  # a run starts from nothing
    fresh.reset_runs()
    assert states(fresh, [1, 1]) == [0, 0]  # after a reset the carried run of 2 is forgotten
    fresh.reset_runs()
    assert states(fresh, [1, 1, 1]) == [0, 0, 1]  # ... and a new run counts from its first sample
    carried = Detector(1, "max", 0.0, 0.0, 3)
    states(carried, [1, 1])
    assert states(carried, [1]) == [1]  # ...which without the reset trips here


def test_the_start_of_the_confirming_run_even_from_an_earlier_block():
    d = Detector(2, "max", 5.0, 0.0, 3)
    _, start = d.feed(np.array([0.0, 6.0, 6.0]))
    st, start = d.feed(np.array([6.0, 6.0, 0.0]))
    assert list(st) == [True, True, True]
    assert int(start[0]) == -2  # tripped at sample 0 of this block by the run that began 2 earlier
    assert d._run_out == 0 and d._run_in == 1


def test_degenerate_settings_are_clamped():
    d = Detector(2, "max", 1.0, -5.0, 0)  # a negative band is none, less than a sample is one
    assert (d.hysteresis, d.min_samples) == (0.0, 1)
    assert states(d, [2.0, 0.5]) == [1, 0]
    assert states(Detector(2, "max", 1.0, 0.25, 1), [2.0, 0.8, 0.7]) == [1, 1, 0]


def _channel(redline=None, warning=None, hyst=0.01, min_s=0.0006, rate=5000.0):
    ch = dataclasses.replace(load_rig("lox-ethanol-5kN").channel("PC"), redline=redline, warning=warning)
    return ChannelLimits(ch, IDENTITY, rate, hyst, min_s)


def test_channel_settings_from_the_range_and_the_rate():
    cl = _channel(redline=Limits(max=27.0, min=2.0), warning=Limits(max=24.0))
    # PC: 0-50 bar over its range, 1 % of it is 0.5 bar; 0.6 ms at 5 kHz rounds to 3 samples
    assert [(d.level, d.bound, d.limit) for d in cl.detectors] == [(2, "max", 27.0), (2, "min", 2.0),
                                                                   (1, "max", 24.0)]
    assert all(d.hysteresis == pytest.approx(0.5, rel=1e-12) for d in cl.detectors)
    assert {d.min_samples for d in cl.detectors} == {3}
    assert _channel(redline=Limits(max=1.0), min_s=0.0).detectors[0].min_samples == 1
    # the band is 1 % of the span, not of the upper end: a 10-50 bar range gives 0.4 bar
    ch = dataclasses.replace(load_rig("lox-ethanol-5kN").channel("PC"), redline=Limits(max=27.0), warning=None,
                             range=(2.0, 10.0), calibration={"type": "linear", "slope": 5.0})
    assert ChannelLimits(ch, IDENTITY, 5000.0, 0.01, 0.0).detectors[0].hysteresis == pytest.approx(0.4)
    assert _channel(warning=Limits(min=1.0)).detectors[0].level == 1


def test_events_are_dated_and_worded():
    cl = _channel(redline=Limits(max=27.0), warning=Limits(max=24.0), min_s=0.0004)  # 2 samples
    x = np.array([20, 25, 25, 28, 28, 28, 25, 25, 20, 20, 20], dtype=float)
    ev = cl.check(x, "main", 1000)
    assert [(e.kind, e.sample) for e in ev] == [("warning", 1001), ("redline", 1003), ("warning", 1006),
                                                ("clear", 1008)]
    assert [e.message for e in ev] == [
        "PC 25 bar: above warning 24 bar",
        "PC 28 bar: above redline 27 bar",
        "PC 25 bar: back from redline, still above warning 24 bar",
        "PC 20 bar: back within limits",
    ]
    assert {e.channel for e in ev} == {"PC"} and cl.level == 0


def test_a_redline_straight_from_band_and_back_to_clear():
    cl = _channel(redline=Limits(max=27.0), warning=Limits(max=24.0), min_s=0.0002)  # 1 sample
    ev = cl.check(np.array([20.0, 30.0, 30.0, 10.0]), "main", 0)
    # the warning trips too at sample 1, but the level goes 0 -> 2: one redline event, then clear
    assert [(e.kind, e.sample) for e in ev] == [("redline", 1), ("clear", 3)]
    assert ev[1].message == "PC 10 bar: back within limits"


def test_the_checker_watches_only_channels_with_limits_with_its_defaults():
    checker = LimitChecker()
    assert (checker.hysteresis_fraction, checker.min_duration_s) == (0.01, 0.005)
    rig = dataclasses.replace(load_rig("lox-ethanol-5kN"), calculated=())  # calculated: tests/daq/test_calclive.py
    limited = sorted(c.name for c in rig.channels if c.redline is not None or c.warning is not None)
    starts = []
    rings = {s: SimpleNamespace(reader=lambda start, s=s: starts.append(start) or SimpleNamespace(
        capacity=1000, n_channels=len(rig.streams[s].channels), dtype=np.dtype(rig.streams[s].dtype)))
        for s in rig.streams}
    acq = SimpleNamespace(rig=rig, source_metadata={}, rings=rings)
    checker.open(acq)
    watched = sorted(cl.name for cls in checker.channels.values() for cl in cls)
    assert starts and set(starts) == {0}  # every sample from the first is checked
    assert watched == limited and limited
    for s, cls in checker.channels.items():
        assert all(rig.channel(cl.name).stream == s for cl in cls)
        # a quarter of the ring per read
        assert checker.bufs[s].shape == (250, len(rig.streams[s].channels))
        assert checker._next[s] == 0 and checker.checked[s] == 0
    # 5 ms at each stream's rate
    cl = next(cl for cls in checker.channels.values() for cl in cls)
    rate = rig.streams[rig.channel(cl.name).stream].rate_hz
    assert cl.detectors[0].min_samples == max(1, round(0.005 * rate))


class _Reader:
    """Ring reader stand-in: hands out prepared blocks ``(ring first, rows, gap)``."""

    def __init__(self, blocks):
        self.blocks = list(blocks)

    @property
    def available(self):
        return len(self.blocks)

    def read_into(self, buf):
        first, rows, gap = self.blocks.pop(0)
        buf[:len(rows)] = rows
        return first, len(rows), gap


def _polled(blocks, samples):
    """Run ``LimitChecker.poll`` over ``blocks``; ring index i is sample ``samples[i]`` (a jump = lost samples)."""
    cl = _channel(redline=Limits(max=27.0), min_s=0.0006)  # 3 samples
    posted = []
    clock = SimpleNamespace(split=lambda first, n: [(samples[first], 0, n)])
    checker = LimitChecker()
    checker.acq = SimpleNamespace(post=posted.extend, clocks={"main": clock},
                                  sample_index=lambda stream, i: 1000 + i)
    checker.channels = {"main": [cl]}
    checker.readers = {"main": _Reader(blocks)}
    checker.bufs = {"main": np.empty((16, cl.column + 1))}
    checker._next, checker.checked = {"main": 0}, {"main": 0}
    moved = checker.poll()
    return checker, posted, moved


def _rows(values, column):
    r = np.zeros((len(values), column + 1))
    r[:, column] = values
    return r


def test_lost_samples_restart_the_runs_and_a_reader_gap_is_an_alarm():
    col = _channel().column
    # ring rows 0-1 are samples 0-1 (beyond the redline), rows 2-3 are samples 10-11: a jump
    blocks = [(0, _rows([30.0, 30.0], col), None), (2, _rows([30.0, 30.0], col), None)]
    checker, posted, moved = _polled(blocks, {0: 0, 2: 10})
    assert moved == 4 and posted == []  # 2 + 2 beyond, never 3 in a row: no redline
    assert checker.checked == {"main": 12} and checker._next == {"main": 12}
    # the same rows without the jump: the third sample trips
    checker, posted, _ = _polled([(0, _rows([30.0, 30.0], col), None), (2, _rows([30.0, 30.0], col), None)],
                                 {0: 0, 2: 2})
    assert [(e.kind, e.sample) for e in posted] == [("redline", 0)]
    gap = SimpleNamespace(first_index=5, count=7)
    checker, posted, _ = _polled([(0, _rows([1.0], col), gap)], {0: 0})
    assert [(e.kind, e.sample, e.message) for e in posted] == [
        ("alarm", 1005, "limit checker fell behind: 7 samples not checked")]
