"""The limit checker: exact, chatter-free redline and warning events."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import ChannelLimits, LimitChecker, runs
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import Limits, load_rig
from hotfire.core.scaling import Scaling
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

RATE = 5000.0
IDENTITY = Scaling({"coefficients": [0.0, 1.0]}, {"type": "none"})


def pc_limits(redline=Limits(max=27.0), warning=Limits(max=24.0), hyst=0.01, min_s=0.002):
    """PC of the 5 kN rig (range 0-50 bar: hysteresis 0.5 bar), fed values in EU directly."""
    ch = dataclasses.replace(load_rig("lox-ethanol-5kN").channel("PC"), redline=redline, warning=warning)
    return ChannelLimits(ch, IDENTITY, RATE, hyst, min_s)


def feed(cl, x, block=None):
    """All events for values ``x`` fed in blocks of ``block`` (or varied sizes)."""
    events, pos = [], 0
    sizes = block if block is not None else [len(x)]
    i = 0
    while pos < len(x):
        n = sizes[i % len(sizes)]
        events += cl.check(x[pos:pos + n], "main", pos)
        pos += n
        i += 1
    return events


def test_runs_continue_across_blocks():
    assert list(runs(np.array([True, True, False, True]), 3)) == [4, 5, 0, 1]
    assert list(runs(np.array([False, True]), 3)) == [0, 1]


def test_crossing_is_dated_at_the_first_sample_beyond():
    x = np.full(2000, 20.0)
    x[700:1500] = 28.0  # jumps over warning and redline at sample 700
    ev = feed(pc_limits(), x)
    assert [(e.kind, e.sample) for e in ev] == [("redline", 700), ("clear", 1500)]
    assert ev[0].channel == "PC" and "above redline 27 bar" in ev[0].message


def test_noise_on_a_limit_does_not_chatter():
    rng = np.random.default_rng(3)
    x = 27.0 + 0.15 * rng.standard_normal(20000)  # sits on the redline, noise well inside the 0.5 bar band
    x[:1000] = 20.0
    x[15000:] = 20.0
    ev = [e for e in feed(pc_limits(warning=None), x) if e.kind != "warning"]
    assert [e.kind for e in ev] == ["redline", "clear"]
    assert ev[1].sample == 15000


def test_a_spike_shorter_than_the_minimum_duration_is_ignored():
    x = np.full(5000, 20.0)
    x[2000:2005] = 40.0  # 1 ms at 5 kHz, minimum 2 ms
    assert feed(pc_limits(), x) == []
    x[3000:3010] = 40.0  # 2 ms: counts
    assert [e.kind for e in feed(pc_limits(), x)] == ["redline", "clear"]


def test_levels_go_warning_redline_warning_clear():
    x = np.concatenate([np.full(1000, 20.0), np.full(1000, 25.0), np.full(1000, 28.0),
                        np.full(1000, 25.0), np.full(1000, 20.0)])
    ev = feed(pc_limits(), x)
    assert [(e.kind, e.sample) for e in ev] == [("warning", 1000), ("redline", 2000), ("warning", 3000),
                                                ("clear", 4000)]
    assert "back from redline" in ev[2].message


def test_block_boundaries_change_nothing():
    rng = np.random.default_rng(5)
    t = np.arange(60000) / RATE
    x = 22 + 6 * np.sin(2 * np.pi * 0.7 * t) + 0.4 * rng.standard_normal(len(t))
    whole = feed(pc_limits(), x)
    assert len(whole) >= 6
    for sizes in ([1], [7, 501, 33], [4096]):
        if sizes == [1]:
            x1 = x[:3000]
            assert feed(pc_limits(), x1, sizes) == feed(pc_limits(), x1)
        else:
            assert feed(pc_limits(), x, sizes) == whole


def test_lower_bound():
    cl = pc_limits(redline=Limits(min=5.0), warning=None)
    x = np.concatenate([np.full(500, 20.0), np.full(500, 2.0), np.full(500, 20.0)])
    ev = feed(cl, x)
    assert [(e.kind, e.sample) for e in ev] == [("redline", 500), ("clear", 1000)]
    assert "below redline 5 bar" in ev[0].message


@pytest.fixture(scope="module", params=["sim", "nidaq-sim", "replay"])
def overpressure_run(request, tmp_path_factory):
    """The overpressure firing through each source; the replay plays back a recording made without limits."""
    rig = load_rig("lox-ethanol-5kN")
    scen = scenario("overpressure", pretrigger_s=0.5, burn_s=1.5, posttrigger_s=0.3)
    out = tmp_path_factory.mktemp("limits")
    source = request.param
    if source == "replay":
        plain = Acquisition(rig, open_source(rig, "sim", scenario=scen), [Recorder(out)], test_id="plain").run()
        with open_run(plain.path) as run:
            assert not [e for e in run.events if e["channel"] == "PC"]
        source = f"replay:{plain.path}"
    acq = Acquisition(rig, open_source(rig, source, scenario=scen), [Recorder(out), LimitChecker()],
                      test_id="op")
    summary = acq.run()
    assert summary.error is None
    return summary


def test_acquisition_records_redlines_in_the_run_file(overpressure_run):
    with open_run(overpressure_run.path) as run:
        pc = [e for e in run.events if e["channel"] == "PC"]
        truth_t0 = run.truth["t0_s"]
    assert [e["kind"] for e in pc] == ["warning", "redline", "warning", "clear"]
    # The throttle reaches 1.45 x Pc from ignition + 0.5 s to + 0.7 s: 27 bar (1.35 x 20) in between.
    t_red = pc[1]["time_s"] - truth_t0
    assert 0.12 + 0.5 < t_red < 0.12 + 0.7 + 0.05


def test_events_posted_after_the_data_still_reach_the_run_file(tmp_path):
    """A subscriber that posts late (the last block's crossing) is waited for by the recorder."""
    import time

    from hotfire.daq.acquisition import Subscriber
    from hotfire.core.events import Event

    class Late(Subscriber):
        name = "late"
        posted = False

        def poll(self):
            if self.acq.producing or self.posted:
                return 0
            time.sleep(0.2)  # long after the recorder has drained the rings
            self.acq.post([Event("note", "main", 0, "late note")])
            self.posted = True
            return 1

    rig = load_rig("lox-ethanol-5kN")
    scen = scenario("nominal", pretrigger_s=0.2, burn_s=1.0, posttrigger_s=0.1)
    summary = Acquisition(rig, open_source(rig, "simulator", scenario=scen), [Recorder(tmp_path), Late()]).run()
    with open_run(summary.path) as run:
        assert "late note" in [e["message"] for e in run.events]
