"""Sensor health (``core/health.py``) on hand-made raw columns, without a run file.

A stand-in for :class:`Run` gives ``check_block`` one 1 kHz int16 stream (1 count =
1 mV, 1 uA or 1 uV/V), T0 at row 1000, so every threshold and time below is
computed by hand: the rail band is 0.5 % of the input span, a step 10 % of it within
2 ms, a failure lasts >= 20 samples (0.02 s), a flatline >= 200 (0.2 s), and a
4-20 mA loop is out of range below 3.6 mA or above 20.4 mA (2.5 % of 16 mA).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hotfire.core import health as H

N = 3000
T = np.arange(N) / 1000.0 - 1.0  # T0 at row 1000
WIGGLE = (np.arange(N) % 7) * 3  # a live signal: changes every sample, 18 counts at most


def volts(v, lo=0.0, hi=10.0, adc=(0.0, 0.001), role="other"):
    return SimpleNamespace(name=None, role=role, kind="voltage", adc={"coefficients": list(adc)}, range=(lo, hi),
                           calibration=None,
                           signal_units="V", units="bar", col=np.asarray(v))


def loop(ma):
    c = volts(ma, 0.0, 24.0)  # the upper rail band starts at 23.88 mA
    c.calibration, c.signal_units = {"type": "table", "signal": [4.0, 20.0], "value": [0.0, 100.0]}, "mA"
    return c


def cell(mv_v):
    c = volts(mv_v, -4.0, 4.0)
    c.calibration, c.units = {"type": "bridge", "capacity": 1000.0, "rated_output_mV_V": 2.0}, "N"
    return c


class FakeRun:
    """What check_block reads of a Run: one stream, its channels, its sample times."""

    def __init__(self, chans: dict, imported=None, block=True):
        self.info = chans
        self.raw = np.column_stack([np.asarray(c.col, dtype=np.int16) for c in chans.values()])
        self.streams = {"s": SimpleNamespace(rate_hz=1000.0, channels=list(chans))}
        self.imported, self.block = imported, block
        self.segs = np.array([[0, 0, len(self.raw)]], dtype=np.int64)

    def channel_info(self, name):
        return self.info[name]

    def rows(self, stream):
        return self.segs, self.raw

    def is_block(self, stream, raw):
        return self.block

    def block_times(self, stream):
        return T[:len(self.raw)]

    def block_columns(self, stream, which):
        return [np.ascontiguousarray(self.raw[:, j]) for j in which]

    def times(self, stream, idx):
        return T[idx]


def iv(a, b):
    """The failed interval of rows a..b, as sample times."""
    return (float(T[a]), float(T[b]))


def counts(base, at=None, to=None, n=0):
    """A live column at ``base`` counts, set to ``to`` for rows [at, at + n)."""
    c = (base + WIGGLE).astype(float)
    if at is not None:
        c[at:at + n] = to
    return c


def check(chans, **kw):
    run = FakeRun(chans, **kw)
    return {h.name: h for h in H.check_block(run, "s", run.segs, run.raw)}


# ----------------------------------------------------------------- rails

def test_a_jump_to_the_upper_rail_is_an_open_circuit_from_its_first_sample():
    h = check({"A": volts(counts(5000, 2000, 10000, 100))})["A"]
    assert h.status == "failed"
    assert h.failed_intervals == [iv(2000, 2099)]
    assert h.problems == ["jumped to the upper rail of its input (open circuit) from +1.000 s to +1.099 s"]
    assert h.failed_from_s == 1.0 and not h.warnings


def test_a_jump_to_the_lower_rail_is_an_open_circuit_too():
    h = check({"A": volts(counts(5000, 2500, 0, 30))})["A"]
    assert h.failed_intervals == [iv(2500, 2529)]
    assert h.problems == ["jumped to the lower rail of its input (open circuit) from +1.500 s to +1.529 s"]


@pytest.mark.parametrize("n, fails", [(19, False), (20, True)])
def test_a_rail_counts_from_twenty_samples(n, fails):
    h = check({"A": volts(counts(5000, 2000, 10000, n))})["A"]
    assert (h.status == "failed") is fails
    assert h.failed_intervals == ([iv(2000, 2000 + n - 1)] if fails else [])


def test_at_the_upper_rail_from_the_first_sample_is_saturated():
    h = check({"A": volts(counts(5000, 0, 10000, 200))})["A"]
    assert h.problems == ["at the upper rail of its input from the start (saturated) from -1.000 s to -0.801 s"]


def test_reaching_a_rail_smoothly_is_a_warning_only():
    ramp = np.clip(5000 + np.arange(N) * 5, None, 10000) - WIGGLE  # 5 V/s: 10 V at row 1000, held
    h = check({"V": volts(ramp)})["V"]
    assert h.status == "ok" and h.failed_intervals == []
    first = int(np.argmax(ramp >= 9950))  # the rail band starts at 9.95 V
    assert h.warnings == [f"at the upper rail of its input from {T[first]:+.3f} s to +1.999 s "
                          "(end of travel, or saturated?)"]


def test_a_smooth_fall_to_the_lower_rail_is_a_warning_only():
    ramp = np.clip(5000 - np.arange(N) * 5, 0, None) + WIGGLE
    h = check({"V": volts(ramp)})["V"]
    assert h.status == "ok" and len(h.warnings) == 1 and "lower rail" in h.warnings[0]


def test_a_channel_that_rests_at_its_lower_rail_is_not_failed_there():
    c = counts(5000)
    c[:1000] = 0  # a closed valve at 0 V until T0, then a step: no fault
    h = check({"V": volts(c)})["V"]
    assert h.status == "ok" and h.warnings == [] and h.problems == []


def test_the_rail_follows_the_adc_sign():
    """adc slope -1 mV per count, offset 10 V: the upper rail (10 V) is count 0."""
    h = check({"A": volts(5000 + WIGGLE + 0.0, adc=(10.0, -0.001))})["A"]
    assert h.status == "ok"
    c = counts(5000, 2000, 0, 50)
    h = check({"A": volts(c, adc=(10.0, -0.001))})["A"]
    assert h.problems == ["jumped to the upper rail of its input (open circuit) from +1.000 s to +1.049 s"]


def test_a_nonlinear_adc_finds_the_same_rail_in_the_signal_domain():
    adc = (0.0, 0.001, 1e-9)  # +1 % at 10 V: the upper band starts at 9,901 counts (9.95 V)
    h = check({"A": volts(counts(5000, 2000, 9920, 40), adc=adc)})["A"]  # 10.018 V; 9.92 V if read linear
    assert h.failed_intervals == [iv(2000, 2039)]
    assert h.problems[0].startswith("jumped to the upper rail")
    assert check({"A": volts(counts(5000, 2000, 9800, 40), adc=adc)})["A"].status == "ok"


# -------------------------------------------------------- calibrated range

@pytest.mark.parametrize("level, fails", [(3500, True), (3700, False), (20300, False), (20500, True)])
def test_a_current_loop_outside_its_calibrated_range_namur(level, fails):
    h = check({"L": loop(counts(12000, 2000, level, 60))})["L"]
    assert (h.status == "failed") is fails, h.problems
    if fails:
        assert h.problems == ["signal outside its calibrated range 4-20 mA from +1.000 s to +1.059 s"]


def test_a_loop_read_through_a_nonlinear_adc_is_checked_too():
    c = loop(counts(12000, 2000, 3500, 60))
    c.adc = {"coefficients": [0.0, 0.001, 1e-12]}
    assert check({"L": c})["L"].failed_intervals == [iv(2000, 2059)]


@pytest.mark.parametrize("level, fails", [(2200, True), (-2200, True), (1900, False)])
def test_a_load_cell_beyond_its_capacity(level, fails):
    """2 mV/V rated, 1000 N: 2.2 mV/V is 1100 N."""
    h = check({"F": cell(counts(0, 2000, level, 50))})["F"]
    assert (h.status == "failed") is fails
    if fails:
        assert h.problems == ["beyond the load cell's capacity (1000 N) from +1.000 s to +1.049 s"]


# ---------------------------------------------------------------- flatline

@pytest.mark.parametrize("n, fails", [(200, False), (201, True)])
def test_a_flatline_counts_from_200_unchanged_samples(n, fails):
    c = counts(5000, 1500, 4321, n)
    h = check({"S": volts(c)})["S"]
    assert (h.status == "failed") is fails
    if fails:  # from the last sample that changed into the flat value
        assert h.failed_intervals == [iv(1500, 1700)]
        assert h.problems == ["flatline: the raw value stopped changing from +0.500 s to +0.700 s"]


def test_a_flatline_to_the_end():
    h = check({"S": volts(counts(5000, 1500, 4321, N))})["S"]
    assert h.failed_intervals == [iv(1500, 2999)]


def test_constant_from_the_start_never_changed_so_is_not_a_flatline():
    h = check({"S": volts(counts(5000, 0, 4321, 500))})["S"]
    assert h.status == "ok"


def test_imported_recordings_are_not_checked_for_flatlines():
    c = counts(5000, 1500, 4321, 600)
    assert check({"S": volts(c)})["S"].status == "failed"
    assert check({"S": volts(c)}, imported={"format": "csv"})["S"].status == "ok"


# ------------------------------------------------------------ the whole block

def test_healthy_channels_beside_failed_ones_and_both_read_paths():
    chans = {"OK": volts(counts(5000)), "A": volts(counts(5000, 2000, 10000, 100)),
             "L": loop(counts(12000, 2000, 3500, 60)), "F": cell(counts(0))}
    for block in (True, False):
        out = check(chans, block=block)
        assert {k: h.status for k, h in out.items()} == {"OK": "ok", "A": "failed", "L": "failed", "F": "ok"}
        assert out["A"].failed_intervals == [iv(2000, 2099)] and out["L"].failed_intervals == [iv(2000, 2059)]
        assert out["OK"].role == "other" and out["OK"].warnings == []
    run = FakeRun(chans)
    assert {k: h.status for k, h in H.check_run(run).items()} == {k: h.status for k, h in out.items()}
    assert H.check_run(run, streams=[]) == {}


def test_two_failures_of_one_channel_are_merged_where_they_overlap():
    c = counts(12000)
    c[2000:2100] = 24000  # upper rail (23.88 mA on) and out of the 4-20 mA range at once
    h = check({"L": loop(c)})["L"]
    assert h.failed_intervals == [iv(2000, 2099)]
    assert sorted(p.split(" from ")[0] for p in h.problems) == [
        "jumped to the upper rail of its input (open circuit)", "signal outside its calibrated range 4-20 mA"]


def test_an_empty_block_is_healthy():
    run = FakeRun({"A": volts(counts(5000))})
    run.raw = run.raw[:0]
    out = H.check_block(run, "s", run.segs[:0], run.raw)
    assert [(h.name, h.status) for h in out] == [("A", "ok")]


# ---------------------------------------------------------------- helpers

def test_runs_of_true_at_least_min_len():
    m = np.array([1, 1, 0, 1, 1, 1, 0, 0, 1], bool)
    assert H._runs(m, 1) == [(0, 2), (3, 6), (8, 9)]
    assert H._runs(m, 2) == [(0, 2), (3, 6)]
    assert H._runs(m, 3) == [(3, 6)]
    assert H._runs(np.zeros(5, bool), 1) == []


def test_rest_rows_before_t0_else_the_first_5_percent():
    t = np.arange(100) / 1000.0 - 0.06  # 10 samples before -0.05 s
    assert H._rest_rows(t).tolist() == [True] * 10 + [False] * 90
    t = np.arange(100) / 1000.0 - 0.059  # 9: too few, the first 100 // 20 = 5 rows instead
    assert H._rest_rows(t).tolist() == [True] * 5 + [False] * 95
    assert H._rest_rows(np.arange(10) / 1000.0).tolist() == [True] + [False] * 9
    assert H._rest_rows(np.arange(40) / 1000.0).sum() == 2 and H._rest_rows(np.arange(38) / 1000.0).sum() == 1


def test_abrupt_compares_with_the_median_before_the_step():
    col = np.array([0, 0, 0, 10, 0, 0, 100, 100], float)
    assert H._abrupt(col, 6, 2, 50, None, None)        # median(col[2:5]) = 0, 100 > 50
    assert not H._abrupt(col, 7, 2, 150, None, None)   # 100 - 0 < 150
    assert not H._abrupt(col, 6, 2, 100, None, None)   # exactly the step is not more than it
    assert H._abrupt(col, 6, 2, None, col * 2, 150)    # the signal domain: 200 > 150
    assert not H._abrupt(col, 6, 2, None, col * 2, 200)


def test_merge_joins_overlapping_and_touching_intervals():
    assert H._merge([(3, 4), (0, 1), (0.5, 2)]) == [(0, 2), (3, 4)]
    assert H._merge([(1, 2), (2, 3)]) == [(1, 3)]
    assert H._merge([(0, 5), (1, 2)]) == [(0, 5)]


def test_usable_is_false_for_any_window_touching_a_failure():
    h = H.ChannelHealth("A", "thrust", failed_intervals=[(1.0, 2.0), (5.0, 6.0)])
    assert h.usable(0.0, 0.99) and h.usable(2.01, 4.99) and h.usable(6.01)
    assert not h.usable(0.0, 1.0) and not h.usable(2.0, 3.0) and not h.usable() and not h.usable(t_b=1.5)
    assert not h.usable(5.5, 5.6) and not h.usable(t_a=5.9)
    assert h.failed_from_s == 1.0 and H.ChannelHealth("B", "x").failed_from_s is None
    assert H.ChannelHealth("B", "x").usable()
    d = h.to_dict()
    assert d["failed_from_s"] == 1.0 and d["name"] == "A" and d["status"] == "ok"


def test_a_rail_of_a_range_that_is_not_from_zero():
    """-10..10 V: the band is 0.1 V, so 9.95 V is at the upper rail."""
    h = check({"A": volts(counts(0, 2000, 9950, 50), lo=-10.0, hi=10.0)})["A"]
    assert h.failed_intervals == [iv(2000, 2049)]
    assert check({"A": volts(counts(0, 2000, 9850, 50), lo=-10.0, hi=10.0)})["A"].status == "ok"


def test_a_value_that_changed_once_then_froze_is_a_flatline_from_there():
    c = np.full(N, 4321.0)
    c[0] = 4000.0  # changed between rows 0 and 1, then never again
    h = check({"S": volts(c)})["S"]
    assert h.failed_intervals == [iv(1, N - 1)]


def test_a_nonlinear_adc_reaching_a_rail_smoothly_and_a_loop_inside_its_band():
    ramp = np.clip(5000 + np.arange(N) * 5, None, 10000) - WIGGLE
    h = check({"V": volts(ramp, adc=(0.0, 0.001, 1e-12))})["V"]
    assert h.status == "ok" and len(h.warnings) == 1
    c = loop(counts(12000, 2000, 20300, 60))
    c.adc = {"coefficients": [0.0, 0.001, 1e-12]}  # 20.3 mA: inside 20.4
    assert check({"L": c})["L"].status == "ok"


def test_a_rail_in_the_rows_after_the_last_whole_screening_window():
    """2950 rows: 29 windows of 100 and a tail of 50, where the open circuit is."""
    a, b = counts(5000)[:2950], counts(5000, 2910, 10000, 40)[:2950]
    run = FakeRun({"A": volts(a), "B": volts(b)})
    out = {h.name: h for h in H.check_block(run, "s", run.segs, run.raw)}
    assert out["A"].status == "ok" and out["B"].failed_intervals == [iv(2910, 2949)]
