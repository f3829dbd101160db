"""Replay as a test engineer uses it after a firing: calculated channels, linked zoom and pan,
two cursors, jump to events, a channel chooser, playback speeds.

Values are checked against the run file read with plain h5py and scaled by hand from the
calibration stored in its channel table (linear and bridge calibrations only)."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from hotfire.core.rig import load_rig
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import LimitChecker
from hotfire.daq.recorder import Recorder
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    """A 100 kN firing (two load cells, three streams: 10 kHz, 102.4 kHz, 100 Hz) with an overpressure."""
    rig = load_rig("lox-rp1-100kN")
    scen = scenario("overpressure", pretrigger_s=1.0, burn_s=3.0, posttrigger_s=1.0)
    out = tmp_path_factory.mktemp("replay-tools")
    summary = Acquisition(rig, open_source(rig, "simulator", scenario=scen),
                          [Recorder(out), LimitChecker()], test_id="tools").run()
    assert summary.error is None
    return summary.path


class H5:
    """The run file read by plain h5py: samples in engineering units, scaled by hand."""

    def __init__(self, path):
        with h5py.File(path, "r") as f:
            self.chans = {r["name"].decode(): r for r in f["channels"][()]}
            self.rate = {s: float(f["streams"][s].attrs["rate_hz"]) for s in f["streams"]}
            self.offset = {s: float(f["streams"][s].attrs["start_offset_s"]) for s in f["streams"]}
            self.raw = {s: f["streams"][s]["raw"][()] for s in f["streams"]}
            self.segs = {s: f["streams"][s]["segments"][()] for s in f["streams"]}
            self.events = [(e["kind"].decode() if isinstance(e["kind"], bytes) else e["kind"], int(e["sample"]),
                            e["stream"].decode() if isinstance(e["stream"], bytes) else e["stream"])
                           for e in f["events"][()]]

    def stream(self, name):
        return self.chans[name]["stream"].decode()

    def eu(self, name, i):
        """Channel ``name`` at absolute sample index (or indices) ``i``."""
        r = self.chans[name]
        s = self.stream(name)
        (s0, r0, n), = self.segs[s]  # one segment: a run without gaps
        i = np.asarray(i)
        assert ((i >= s0) & (i < s0 + n)).all()
        raw = self.raw[s][i - s0 + r0, int(r["column"])].astype(float)
        a = json.loads(r["adc"])["coefficients"]
        sig = a[0] + a[1] * raw
        cal = json.loads(r["calibration"])
        if cal["type"] == "linear":
            return cal["slope"] * sig + cal.get("offset", 0.0)
        assert cal["type"] == "bridge" and not cal.get("zero_mV_V")
        return cal["capacity"] / cal["rated_output_mV_V"] * sig

    def sample_at(self, stream, t):
        """The sample at or just before acquisition time ``t``."""
        return int(np.floor((t - self.offset[stream]) * self.rate[stream]))


@pytest.fixture(scope="module")
def h5(run_file):
    return H5(run_file)


def _window(app, qtbot, path, window_s=10.0):
    from hotfire.gui.replay import ReplayFeed
    from hotfire.gui.theme import DARK
    from hotfire.gui.window import MainWindow

    feed = ReplayFeed(path)
    win = MainWindow(feed, DARK, window_s=window_s)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    win.timer.stop()  # frames by hand
    win.tick()
    return feed, win


def _curve(win, name):
    plot = win.charts.by_channel[name]
    return dict((c.name, cu) for c, cu in plot.curves)[name].getData()


def test_calculated_channels_are_drawn_from_the_recorded_inputs(app, qtbot, run_file, h5, screens):
    feed, win = _window(app, qtbot, run_file)
    t0 = feed.events.t0()
    titles = {p.title: [c.name for c in p.chans] for p in win.charts.plots}
    assert "F_TOTAL" in titles["Thrust"] and titles["Injector pressure drops"] == ["DP_OX_INJ", "DP_F_INJ"]
    assert titles["O/F"] == ["OF"]
    screens(win, "replay-calculated")

    # A 20 ms window in mainstage: every sample drawn (no decimation); each one is the
    # calculated value of the recorded inputs at that sample.
    win.window_s = 0.02
    feed.seek(t0 + 2.0)
    win.tick()
    i0 = np.arange(5000)  # the tare: the first 0.5 s of the time base (the rig's tare_s default)
    tare = np.mean(h5.eu("THRUST_A", i0) + h5.eu("THRUST_B", i0))
    for name, want in (("F_TOTAL", lambda i: h5.eu("THRUST_A", i) + h5.eu("THRUST_B", i) - tare),
                       ("DP_OX_INJ", lambda i: h5.eu("POX_MAN", i) - h5.eu("PC_MAIN", i)),
                       ("DP_F_INJ", lambda i: h5.eu("PF_MAN", i) - h5.eu("PC_MAIN", i))):
        x, y = _curve(win, name)
        assert len(x) >= 195, name  # 200 samples in 20 ms at 10 kHz
        i = np.rint((x + t0 - h5.offset["daq"]) * h5.rate["daq"]).astype(int)
        w = want(i)
        err = np.max(np.abs(y - w) / np.abs(w))
        assert err < 1.2e-7, (name, err)  # measured 4.4e-8 (the viewer holds float32)
        assert np.ptp(w) > 0  # a real signal, not a constant both sides agree on
    feed.close()
