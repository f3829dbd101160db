"""Sensor health live: acquisition finds a failed sensor with the analysis's code, at the same sample."""
from __future__ import annotations

import numpy as np
import pytest

from hotfire.core.health import check_run
from hotfire.core.runfile.reader import open_run
from hotfire.daq.session import record_firing


@pytest.mark.parametrize("rig, scen, channel", [
    ("lox-ethanol-5kN", "failed-sensor", "P-F-INJ"),   # open circuit mid-burn
    ("lox-ethanol-5kN", "pc-dropout", "PC"),           # open circuit for 0.3 s, then back
    ("lox-rp1-100kN", "load-cell-saturation", "THRUST_A"),  # a load cell over capacity
    ("lox-ethanol-5kN", "nominal", None),
])
def test_live_sensor_events_match_the_analysis(tmp_path, rig, scen, channel):
    s = record_firing(rig, source="sim", scenario=scen, out=tmp_path, publish=None)
    live = [e for e in s.events if e.kind == "sensor"]
    with open_run(s.path) as run:
        failed = {n: h for n, h in check_run(run).items() if h.status == "failed"}
        assert sorted(failed) == ([channel] if channel else [])
        assert [e.channel for e in live] == sorted(failed)  # one event per failed channel, none for the rest
        for e in live:
            # dated at the analysis's first failed sample (measured: the same sample)
            t = float(run.times(e.stream, np.array([e.sample]))[0])
            assert t == pytest.approx(failed[e.channel].failed_from_s, abs=0.5 / run.streams[e.stream].rate_hz)
            assert e.message.startswith(f"{e.channel} failed: ")
            assert failed[e.channel].problems[0].split(" from ")[0] in e.message


def test_a_watch_that_fell_behind_checks_every_window(tmp_path, monkeypatch):
    # On a loaded machine the watch's thread can read many seconds at once; a 0.3 s
    # dropout in the middle of what it reads must still be seen (CI missed it once).
    from hotfire.daq.sensorwatch import SensorWatch

    poll = SensorWatch.poll
    monkeypatch.setattr(SensorWatch, "poll", lambda self: 0 if self.acq.producing else poll(self))
    s = record_firing("lox-ethanol-5kN", source="sim", scenario="pc-dropout", out=tmp_path, publish=None)
    live = [e for e in s.events if e.kind == "sensor"]
    with open_run(s.path) as run:
        failed = check_run(run)["PC"]
        assert [e.channel for e in live] == ["PC"]
        t = float(run.times(live[0].stream, np.array([live[0].sample]))[0])
        assert t == pytest.approx(failed.failed_from_s, abs=0.5 / run.streams[live[0].stream].rate_hz)
