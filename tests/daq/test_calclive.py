"""Calculated channels live: what acquisition evaluates (limits, the live stream) is what the analysis
computes from the run file afterwards, sample for sample, and a limit on one fires at the right sample."""
from __future__ import annotations

import dataclasses
import json
import time
from fractions import Fraction

import numpy as np
import pytest
import zmq

from hotfire.core.calculated import CalcChannel, Evaluator, evaluate_run
from hotfire.core.channel import Limits
from hotfire.core.rig import RigError, load_rig, parse_rig
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import LimitChecker
from hotfire.daq.publisher import Publisher
from hotfire.daq.recorder import Recorder
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario
from hotfire.daq.sources.simtruth import model_of, window_truth

RIG = "lox-rp1-100kN"  # two load cells (a total), two injector drops, O/F


def _sub(address):
    s = zmq.Context.instance().socket(zmq.SUB)
    s.setsockopt(zmq.RCVHWM, 0)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SUBSCRIBE, b"")
    s.connect(address)
    return s


def _fire(tmp_path, rig, name="nominal"):
    """A short simulated firing with a recorder, the limit checker and a publisher (port 0) that a
    subscriber reads whole: (summary, the published calculated blocks by stream, the meta)."""
    scen = scenario(name, pretrigger_s=1.0, burn_s=1.5, posttrigger_s=0.5)
    src = open_source(rig, "simulator", scenario=scen)
    pub = Publisher("tcp://127.0.0.1:0", hwm=0)
    s = _sub(pub.address)
    time.sleep(0.3)  # the subscription reaches the publisher before the first message
    summary = Acquisition(rig, src, [Recorder(tmp_path), LimitChecker(), pub], test_id="calc").run()
    msgs = []
    while s.poll(500):
        msgs.append(s.recv_multipart())
    s.close()
    meta = json.loads(next(m[1] for m in msgs if m[0] == b"meta"))
    calc = {n for n, st in meta["streams"].items() if st.get("calculated")}
    blocks = {n: [] for n in calc}
    for m in msgs:
        if m[0] == b"data":
            h = json.loads(m[1])
            if h["stream"] in calc:
                blocks[h["stream"]].append((h["first"], np.frombuffer(m[2], h["dtype"]).reshape(h["n"], h["nch"])))
    return summary, blocks, meta


@pytest.fixture(scope="module")
def nominal(tmp_path_factory):
    rig = load_rig(RIG)
    return rig, *_fire(tmp_path_factory.mktemp("calc"), rig)


def test_published_calculated_channels_are_the_run_files_sample_for_sample(nominal):
    rig, summary, blocks, meta = nominal
    (stream, bl), = blocks.items()
    assert stream == "daq:calculated" and meta["streams"][stream]["base"] == "daq"
    names = meta["streams"][stream]["channels"]
    assert names == [c.name for c in rig.calculated]
    firsts = [f for f, _ in bl]
    assert firsts[0] == 0 and all(b == a + len(d) for (a, d), b in zip(bl, firsts[1:]))  # complete, in order
    live = np.concatenate([d for _, d in bl])
    with open_run(summary.path) as run:
        after = evaluate_run(run)
        for k, name in enumerate(names):
            # the same arithmetic on the same samples in the same order: measured difference 0 (bit for bit)
            np.testing.assert_array_equal(live[:, k], after[name].values, err_msg=name)
            assert np.array_equal(after[name].sample, np.arange(len(live)))


def test_live_total_thrust_and_injector_dp_agree_with_the_analysis_and_the_simulator(nominal):
    from hotfire.analysis.thrust import total_thrust
    from hotfire.core import units as U

    rig, summary, blocks, _ = nominal
    live = np.concatenate([d for _, d in blocks["daq:calculated"]])
    col = {c.name: k for k, c in enumerate(rig.calculated)}
    with open_run(summary.path) as run:
        # total thrust: tared on the first 0.5 s live, NaN before; the analysis tares on -1.5..-0.1 s from T0
        F_live = U.to_si(live[:, col["F_TOTAL"]], "lbf")
        assert np.isnan(F_live[:5000]).all() and np.isfinite(F_live[5000:]).all()
        t, F_an, tare, tared, chans, _ = total_thrust(run.views("thrust"))
        assert tared and chans == ["THRUST_A", "THRUST_B"] and len(t) == len(F_live)
        d = F_live[5000:] - F_an[5000:]
        # only the tares differ: a constant (spread measured 3.6e-11 N on ~1e5 N, 2.5 ulp: the analysis works in
        # N, the live channel in lbf), and both tares are taken at rest (measured 0.065 N apart)
        assert np.ptp(d) < 1e-10
        assert abs(np.mean(d)) < 0.2
        # the live tare is the preload the simulator puts on the cells (1.5 % and 3 % of 15 klbf = 675 lbf)
        (_, tare_lbf), = [(c.name, evaluate_run(run, ["F_TOTAL"])["F_TOTAL"].tare[2]) for c in rig.calculated[:1]]
        assert tare_lbf == pytest.approx(675.0, abs=0.5)
        # steady window: the live total against the simulator's true thrust
        i = (t > 0.6) & (t < 1.3)
        truth = window_truth(run, (0.6, 1.3))
        assert np.mean(F_live[i]) == pytest.approx(truth["thrust_N"], rel=3.5e-5)  # measured 1.1e-5
        # injector drops: feed minus chamber from the reader's channels, and the simulator's truth
        for name, feed, side in (("DP_OX_INJ", "POX_MAN", "ox"), ("DP_F_INJ", "PF_MAN", "fuel")):
            dp = run.channel(feed).values - run.channel("PC_MAIN").values
            np.testing.assert_array_equal(live[:, col[name]], dp)  # measured 0 psi apart
            assert U.to_si(np.mean(live[i, col[name]]), "psi") / 1e5 == pytest.approx(
                truth[f"{side}_injector_dp_bar"], rel=1.6e-4)  # measured 5.4e-5 (ox), 3.0e-5 (fuel)
        of = live[:, col["OF"]]
        assert np.mean(of[i]) == pytest.approx(truth["of"], rel=6e-6)  # measured 1.8e-6


def test_a_nominal_firing_trips_no_calculated_limit(nominal):
    rig, summary, _, _ = nominal
    calc = {c.name for c in rig.calculated}
    assert not [e for e in summary.events if e.channel in calc]


def _crossing(x, limit, n, above=True, checked=None):
    """First sample of the first run of ``n`` samples beyond ``limit`` (by hand, sample by sample)."""
    run = 0
    for i, v in enumerate(x):
        beyond = (v > limit if above else v < limit) and (checked is None or checked[i])
        run = run + 1 if beyond else 0
        if run == n:
            return i - n + 1
    return None


def test_a_redline_on_the_total_thrust_and_a_gated_warning_on_an_injector_dp_fire_at_the_right_sample(tmp_path):
    base = load_rig(RIG)
    calcs = list(base.calculated)
    calcs[0] = dataclasses.replace(calcs[0], warning=None, redline=Limits(max=15000.0))  # crossed in the start
    # nominal dp is 200 psi: a warning below 210 psi checked while Pc > 900 psi trips as Pc passes 900
    calcs[1] = dataclasses.replace(calcs[1], warning=Limits(min=210.0))
    rig = dataclasses.replace(base, calculated=tuple(calcs))
    summary, _, _ = _fire(tmp_path, rig)
    with open_run(summary.path) as run:
        raw = {n: run.raw_segments(n)[0] for n in ("THRUST_A", "THRUST_B", "POX_MAN", "PC_MAIN")}
        eu = {n: run.channel_info(n).scaling.to_eu(v) for n, v in raw.items()}
        total = eu["THRUST_A"] + eu["THRUST_B"]
        F = total - total[:5000].mean()
        F[:5000] = np.nan
        n = 50  # 5 ms at 10 kHz, the checker's default
        want_F = _crossing(F, 15000.0, n)
        dp = eu["POX_MAN"] - eu["PC_MAIN"]
        want_dp = _crossing(dp, 210.0, n, above=False, checked=eu["PC_MAIN"] > 900.0)
        # against the simulator's truth: the true thrust crosses 15 klbf within a millisecond of it
        m, _ = model_of(run)
        tt = np.arange(0, 4.0, 1e-5)
        true_cross = tt[np.argmax(m.thrust(tt) > 15000.0 * 4.4482216152605)]
    red = [e for e in summary.events if e.channel == "F_TOTAL"]
    warn = [e for e in summary.events if e.channel == "DP_OX_INJ"]
    assert want_F is not None and red[0].kind == "redline" and red[0].stream == "daq"
    assert red[0].sample == want_F
    assert abs(want_F / 1e4 - true_cross) < 1e-3
    assert want_dp is not None and warn[0].kind == "warning" and warn[0].sample == want_dp
    # the warning clears at shutdown (the gate closes: counted as within limits), not before
    assert [e.kind for e in warn] == ["warning", "clear"]
    assert warn[1].sample > 10000 * 2.4


def _blocks(x, rng):
    """``x`` cut in pieces of random sizes (blocks as the ring gives them)."""
    cuts = np.sort(rng.choice(np.arange(1, len(x)), size=min(len(x) - 1, 12), replace=False))
    return np.split(x, cuts), np.concatenate(([0], cuts))


@pytest.mark.parametrize("slow_rate", [100.0, 3000.0, 7.0])
def test_a_slower_input_is_held_and_blocks_do_not_change_the_values(slow_rate):
    """Base 10 kHz, the chamber pressure on a slower stream: base sample i takes the slower stream's latest
    sample at or before it (found here from exact times, not from the evaluator's formula)."""
    rates = {"fast": 10000.0, "slow": slow_rate}
    c = CalcChannel("DP", "injector_dp", ("FEED", "PC"), "bar", "fast", (-10.0, 10.0))
    chans = {"FEED": ("fast", "bar"), "PC": ("slow", "bar")}
    rng = np.random.default_rng(3)
    n_fast = 20000
    n_slow = int(n_fast * slow_rate / 1e4) + 1
    feed, pc = rng.normal(30, 1, n_fast), rng.normal(20, 1, n_slow)
    t_fast = [Fraction(i, 10000) for i in range(n_fast)]
    t_slow = [Fraction(j) / Fraction(slow_rate) for j in range(n_slow)]
    held = np.searchsorted(t_slow, t_fast, side="right") - 1
    want = feed - pc[held]
    ev = Evaluator([c], chans, rates)
    fb, f0 = _blocks(feed, rng)
    sb, s0 = _blocks(pc, rng)
    got, firsts = [], []
    # interleave the two streams as threads would deliver them: the slow one sometimes ahead, sometimes behind
    # (each stream in its own order)
    lag = np.maximum.accumulate(s0 / slow_rate + rng.uniform(-0.3, 0.3, len(s0)))
    order = sorted([(a / 1e4, "fast", a, b) for a, b in zip(f0, fb)] +
                   [(w, "slow", a, b) for w, a, b in zip(lag, s0, sb)], key=lambda x: (x[0], x[1]))
    for _, s, a, b in order:
        ev.feed(s, int(a), {"FEED": b} if s == "fast" else {"PC": b})
        r = ev.take()
        if r is not None:
            firsts.append(r[0])
            got.append(r[1][:, 0])
    got = np.concatenate(got)
    assert firsts[0] == 0 and len(got) <= n_fast
    np.testing.assert_array_equal(got, want[:len(got)])  # exact: the same subtraction of the same samples
    assert len(got) >= n_fast - 10000 / slow_rate - 1  # only what the slow stream does not cover yet waits


def test_a_gap_in_an_input_is_nan_in_the_calculated_channel():
    c = CalcChannel("DP", "injector_dp", ("A", "B"), "bar", "s", (-10.0, 10.0))
    ev = Evaluator([c], {"A": ("s", "bar"), "B": ("s", "bar")}, {"s": 100.0})
    ev.feed("s", 0, {"A": np.full(5, 3.0), "B": np.ones(5)})
    ev.feed("s", 8, {"A": np.full(2, 3.0), "B": np.ones(2)})  # samples 5..7 lost
    first, v, _ = ev.take()
    assert first == 0 and np.array_equal(np.isnan(v[:, 0]), [False] * 5 + [True] * 3 + [False] * 2)


def test_rig_errors_name_the_line_and_key():
    text = load_rig(RIG).text
    cases = {
        'kind = "injector_dp"\ninputs = ["POX_MAN", "PC_MAIN"]\nwarning = { min = 150.0 }\n'
        'check_while = { channel = "PC_MAIN", above = 900.0 }':
            ('kind = "injector_dp"\ninputs = ["POX_MAN", "PC_MAINX"]', "calculated.DP_OX_INJ.inputs: no channel 'PC_MAINX'"),
    }
    for old, (new, msg) in cases.items():
        assert old in text
        with pytest.raises(RigError, match=msg):
            parse_rig(text.replace(old, new), "rigs/x.toml")
    bad = text + '\n[calculated.X]\nkind = "sum"\n'
    with pytest.raises(RigError, match=r"rigs/x.toml:\d+: calculated.X.kind: expected one of total_thrust"):
        parse_rig(bad, "rigs/x.toml")
    bad = text + '\n[calculated.X]\nkind = "injector_dp"\ninputs = ["POX_MAN", "PC_MAIN"]\n' \
                 'check_while = { channel = "T_LOX", above = 1.0 }\n'
    with pytest.raises(RigError, match="calculated.X.check_while.channel: expected one of its inputs"):
        parse_rig(bad, "rigs/x.toml")
    bad = text + '\n[calculated.PC_main]\nkind = "mixture_ratio"\ninputs = ["MDOT_OX", "MDOT_F"]\n'
    with pytest.raises(RigError, match="name already used by channel 'PC_MAIN'"):
        parse_rig(bad, "rigs/x.toml")
    bad = text + '\n[calculated.X]\nkind = "injector_dp"\ninputs = ["POX_MAN", "MDOT_F"]\n'
    with pytest.raises(RigError, match="calculated.X.units: MDOT_F is in 'lb/s'"):
        parse_rig(bad, "rigs/x.toml")


# ------------------------------------------------------------ a load cell over capacity, flows near zero


@pytest.fixture(scope="module")
def saturated(tmp_path_factory):
    """lox-rp1-100kN with THRUST_A carrying 62 % of the thrust and over its 15 klbf capacity for ~0.7 s."""
    rig = load_rig(RIG)
    return rig, *_fire(tmp_path_factory.mktemp("sat"), rig, "load-cell-saturation")


def test_live_total_thrust_estimates_a_load_cell_over_capacity_from_the_other(saturated):
    from hotfire.core import units as U

    rig, summary, blocks, _ = saturated
    live = np.concatenate([d for _, d in blocks["daq:calculated"]])
    col = [c.name for c in rig.calculated].index("F_TOTAL")
    with open_run(summary.path) as run:
        after = evaluate_run(run)["F_TOTAL"]
        np.testing.assert_array_equal(live[:, col], after.values)  # live and afterwards: the same samples
        t = after.t
        a = run.channel("THRUST_A")
        over = np.interp(t, a.t, a.values) > 15000.0
        assert over.sum() > 5000  # the cell is beyond its capacity for > 0.5 s (its reading clips at 16.5 klbf)
        # on the plateau at 145 % thrust the estimated total is the simulator's true thrust: measured 3.7e-6
        # off here, 1.9e-5 on the rig's full-length sequence; the clipped sum is 13 % low
        win = (0.8, 1.05)
        i = (t > win[0]) & (t < win[1])
        assert over[i].all()
        truth = window_truth(run, win)["thrust_N"]
        got = U.to_si(np.mean(live[i, col]), "lbf")
        assert got == pytest.approx(truth, rel=6e-5)
        clipped = U.to_si(np.mean(np.interp(t[i], a.t, np.minimum(a.values, 16500.0))
                                  + np.interp(t[i], run.channel("THRUST_B").t, run.channel("THRUST_B").values))
                          - after.tare[2], "lbf")
        assert clipped < 0.9 * truth  # what a plain sum would show: the test sees the difference


def test_a_running_load_sum_estimates_exactly_a_linear_share_whatever_the_blocks():
    """Cells carrying fixed shares of a load plus preloads: a cell beyond its capacity is recovered exactly
    (a straight line fits exactly), two cells out is NaN, and cutting the samples into blocks changes nothing."""
    from hotfire.core.calculated import RunningLoadSum

    rng = np.random.default_rng(7)
    load = np.concatenate([np.zeros(200), np.linspace(0, 1000, 300), 1000 + 300 * rng.random(500)])
    a, b = 0.7 * load + 12.0, 0.3 * load - 4.0
    cap = 800.0
    a_read = np.minimum(a, 820.0)  # clips just above the capacity, as a bridge's input range does
    b_read = b.copy()
    b_read[900:910] = np.nan  # both out here: no estimate
    want = load + 8.0
    whole = RunningLoadSum([cap, cap], min_spread=50.0).total([a_read, b_read])
    beyond = a > cap
    assert beyond.sum() > 100
    ok = np.isfinite(b_read)
    np.testing.assert_allclose(whole[ok], want[ok], rtol=0, atol=4e-12)  # measured 1.1e-12
    assert np.isnan(whole[900:910][beyond[900:910]]).all()
    r = RunningLoadSum([cap, cap], min_spread=50.0)
    cuts = np.sort(rng.choice(np.arange(1, 1000), 15, replace=False))
    parts = [r.total([x, y]) for x, y in zip(np.split(a_read, cuts), np.split(b_read, cuts))]
    np.testing.assert_array_equal(np.concatenate(parts), whole)  # bit for bit: sums carried in sample order
    # before the others' sum has spread (every cell at rest) a cell beyond capacity is not guessed
    early = RunningLoadSum([cap, cap], min_spread=50.0).total([np.full(50, 900.0), np.zeros(50)])
    assert np.isnan(early).all()


def test_live_o_f_is_nan_while_the_flows_are_near_zero(nominal):
    """Before ignition and after shutdown the flowmeters read noise around zero: their ratio is not an O/F."""
    rig, summary, blocks, _ = nominal
    live = np.concatenate([d for _, d in blocks["daq:calculated"]])
    of = live[:, [c.name for c in rig.calculated].index("OF")]
    with open_run(summary.path) as run:
        t = run.times("daq", np.arange(len(of)))
        fuel = run.channel("MDOT_F").values
        assert np.isnan(of[t < -0.1]).all()
        assert np.isfinite(of[(t > 0.3) & (t < 1.4)]).all()
        # where the fuel flow is under 2 % of its meter's 50 lb/s, nothing is shown
        low = np.interp(t, run.channel("MDOT_F").t, fuel) < 0.02 * 50.0
        assert np.isnan(of[low]).all()
