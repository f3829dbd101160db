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
            text = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
            self.events = [(text(e["kind"]), int(e["sample"]), text(e["stream"]), text(e["channel"]))
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
        if cal["type"] == "none":
            return sig
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


def _shot(screens, qtbot, win, name):
    """A screenshot once the layout has caught up (a banner shown this frame has no geometry yet)."""
    qtbot.wait(50)
    win.tick()
    qtbot.wait(20)
    return screens(win, name)


def _curve(win, name):
    plot = win.charts.by_channel[name]
    return dict((c.name, cu) for c, cu in plot.curves)[name].getData()


def test_calculated_channels_are_drawn_from_the_recorded_inputs(app, qtbot, run_file, h5, screens):
    feed, win = _window(app, qtbot, run_file)
    t0 = feed.events.t0()
    titles = {p.title: [c.name for c in p.chans] for p in win.charts.plots}
    assert "F_TOTAL" in titles["Thrust"] and titles["Injector pressure drops"] == ["DP_OX_INJ", "DP_F_INJ"]
    assert titles["O/F"] == ["OF"]
    _shot(screens, qtbot, win, "replay-calculated")

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


def _x_ranges(win):
    return [tuple(p.item.vb.viewRange()[0]) for p in win.charts.plots]


def _one_range(ranges):
    """The span every chart shows (they agree to float rounding), or fail."""
    a = np.array(ranges)
    assert np.ptp(a, axis=0).max() < 1e-9, ranges
    return tuple(a[0])


def _wheel(widget, pos, steps):
    """Turn the mouse wheel over ``widget`` at ``pos`` (positive: zoom in)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    ev = QtGui.QWheelEvent(QtCore.QPointF(pos), QtCore.QPointF(widget.mapToGlobal(pos)), QtCore.QPoint(0, 0),
                           QtCore.QPoint(0, 120 * steps), QtCore.Qt.NoButton, QtCore.Qt.NoModifier,
                           QtCore.Qt.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(widget, ev)


def _drag(widget, a, b):
    """Drag with the left button from ``a`` to ``b`` (QTest's moves carry no buttons: pyqtgraph needs them)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    def send(kind, pos, buttons):
        ev = QtGui.QMouseEvent(kind, QtCore.QPointF(pos), QtCore.QPointF(widget.mapToGlobal(pos)),
                               QtCore.Qt.LeftButton, buttons, QtCore.Qt.NoModifier)
        QtWidgets.QApplication.sendEvent(widget, ev)

    send(QtCore.QEvent.MouseButtonPress, a, QtCore.Qt.LeftButton)
    for f in np.linspace(0, 1, 6)[1:]:
        send(QtCore.QEvent.MouseMove, QtCore.QPoint(int(a.x() + f * (b.x() - a.x())), a.y()), QtCore.Qt.LeftButton)
    send(QtCore.QEvent.MouseButtonRelease, b, QtCore.Qt.NoButton)


def _centre(win, plot):
    """The centre of a chart's plotting area, in the charts' viewport coordinates."""
    r = plot.item.vb.sceneBoundingRect()
    return win.charts.mapFromScene(r.center())


def _drawn_span(win, plot):
    xs = [cu.getData()[0] for _, cu in plot.curves]
    xs = [x[np.isfinite(x)] for x in xs if x is not None and len(x)]
    return min(x.min() for x in xs), max(x.max() for x in xs)


def test_zoom_and_pan_on_one_chart_move_every_chart_and_reset_shows_the_whole_run(app, qtbot, run_file, screens):
    feed, win = _window(app, qtbot, run_file, window_s=5)  # the whole run (5 s)
    t0 = win.t0()
    b0, b1 = _one_range(_x_ranges(win))
    assert b1 - b0 == pytest.approx(5)
    # Zoom with the wheel over a chart of the second column (not the one the others are linked to).
    tank = next(p for p in win.charts.plots if p.title == "Tank pressures")
    assert tank is not win.charts.plots[0]
    _wheel(win.charts.viewport(), _centre(win, tank), 6)
    win.tick()
    zoomed = _x_ranges(win)
    x0, x1 = _one_range(zoomed)  # every chart shows the same span
    assert x1 - x0 < 0.5 * 5
    assert win.window_s == pytest.approx(x1 - x0) and feed.playhead - t0 == pytest.approx(x1)
    assert win.window_box.currentIndex() == -1  # reads "zoomed", not a preset it is not
    win.tick()
    assert _x_ranges(win) == zoomed  # the next frame keeps the zoom (the playhead does not snap it back)
    for p in win.charts.plots:  # every chart redrawn from the file for the new span, edge to edge
        a, b = _drawn_span(win, p)
        assert a == pytest.approx(x0, abs=0.02 * (x1 - x0)) and b == pytest.approx(x1, abs=0.02 * (x1 - x0)), p.title

    # Pan: drag the same chart to the right by a quarter of its width: earlier data comes into view.
    r = tank.item.vb.sceneBoundingRect()
    c = _centre(win, tank)
    _drag(win.charts.viewport(), c, c + __import__("PySide6").QtCore.QPoint(int(r.width() / 4), 0))
    win.tick()
    p0, p1 = _one_range(_x_ranges(win))
    assert p1 - p0 == pytest.approx(x1 - x0, rel=1e-6)
    assert p0 == pytest.approx(x0 - (x1 - x0) / 4, abs=0.05 * (x1 - x0))
    _shot(screens, qtbot, win, "replay-zoomed")

    win.tools.reset_button.click()
    win.tick()
    assert _one_range(_x_ranges(win)) == pytest.approx((feed.start_s - t0, feed.end_s - t0))
    feed.close()


def test_cursor_values_are_the_recorded_samples_at_the_cursors(app, qtbot, run_file, h5, screens):
    feed, win = _window(app, qtbot, run_file, window_s=5)
    t0 = win.t0()
    win.tools.show_span(t0 - 0.2, t0 + 3.0)
    win.tick()
    win.tools.cursor_box.setChecked(True)
    assert win.tools.tabs.currentWidget() is win.tools.cursor_table
    # Drag cursor A on the last chart and B on the third: between samples of every stream
    # (B in mainstage after the overpressure: both load cells within their capacity).
    ta, tb = t0 + 0.1234567, t0 + 2.4765432
    last = [ln for k, ln, item in win.tools.cursors._lines if k == 0 and item is win.charts.plots[-1].item][0]
    third = [ln for k, ln, item in win.tools.cursors._lines if k == 1 and item is win.charts.plots[2].item][0]
    last.setValue(ta - t0)  # what a mouse drag of that line does
    third.setValue(tb - t0)
    win.tick()
    # every chart's lines followed
    assert {k: x for k, x in win.tools.cursors.line_positions()} == {0: pytest.approx(ta - t0), 1: pytest.approx(tb - t0)}
    assert len(win.tools.cursors.line_positions()) == 2 * len(win.charts.plots)
    table = win.tools.cursor_table
    assert "+0.12346 s" in table.times.text() and "+2.47654 s" in table.times.text()
    assert f"Δt {tb - ta:+.5f} s" in table.times.text()
    i0 = np.arange(5000)
    tare = np.mean(h5.eu("THRUST_A", i0) + h5.eu("THRUST_B", i0))
    checked = 0
    for name in ("PC_MAIN", "THRUST_A", "PC_HF", "T_WALL_1", "F_TOTAL", "DP_OX_INJ"):
        def rec(t, name=name):
            if name == "F_TOTAL":
                i = h5.sample_at("daq", t)
                return h5.eu("THRUST_A", i) + h5.eu("THRUST_B", i) - tare
            if name == "DP_OX_INJ":
                i = h5.sample_at("daq", t)
                return h5.eu("POX_MAN", i) - h5.eu("PC_MAIN", i)
            return h5.eu(name, h5.sample_at(h5.stream(name), t))
        a, b = table.values[name]
        want_a, want_b = float(rec(ta)), float(rec(tb))
        # the viewer holds float32: half an ulp is 6e-8 relative
        assert a == pytest.approx(want_a, rel=1.2e-7, abs=1e-6) and b == pytest.approx(want_b, rel=1.2e-7, abs=1e-6)
        # the table's text, about 6 significant digits
        assert float(table.text(name, "A")) == pytest.approx(want_a, rel=1e-5, abs=1e-3)
        assert float(table.text(name, "B − A")) == pytest.approx(want_b - want_a, rel=1e-4, abs=1e-3)
        checked += 1
    assert checked == 6
    # A sample exactly at a cursor is that sample, not the one before (no rounding down below it).
    i = 10_000 + 1234
    win.tools.cursors.move(0, h5.offset["daq"] + i / h5.rate["daq"])
    assert table.values["PC_MAIN"][0] == pytest.approx(float(h5.eu("PC_MAIN", i)), rel=1.2e-7)
    assert float(h5.eu("PC_MAIN", i)) != pytest.approx(float(h5.eu("PC_MAIN", i - 1)), rel=1e-6)
    _shot(screens, qtbot, win, "replay-cursors")
    # Large font: the table's text grows and its rows with it (no clipped digits).
    small, pos_pt = table.table.rowHeight(0), win.position.fontInfo().pointSizeF()
    win.large.setChecked(True)
    _shot(screens, qtbot, win, "replay-cursors-large")
    fm = table.table.fontMetrics()
    assert table.table.rowHeight(0) > small and table.table.rowHeight(0) >= fm.height()
    assert table.table.columnWidth(1) >= fm.horizontalAdvance(table.text("PC_MAIN", "B"))
    assert win.position.fontInfo().pointSizeF() > 1.3 * pos_pt  # the replay bar's T-clock too (x1.45)
    win.large.setChecked(False)
    win.tools.cursor_box.setChecked(False)
    assert not win.tools.cursors.line_positions() and table.table.rowCount() == 0
    feed.close()


def test_clicking_an_event_centres_every_chart_on_it(app, qtbot, run_file, h5, screens):
    from PySide6 import QtCore

    feed, win = _window(app, qtbot, run_file, window_s=5)
    t0 = win.t0()
    win.tools.tabs.setCurrentWidget(win.tools.events)
    win.tools.show_span(t0, t0 + 0.5)
    win.tick()
    tree = win.tools.events
    kinds = [tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())]
    assert "T0" in kinds and "redline" in kinds and "cutoff" in kinds
    # the first redline in the list, dated from the file: its sample and stream
    item = tree.topLevelItem(kinds.index("redline"))
    _, sample, stream, _ = next(e for e in h5.events if e[0] == "redline" and e[3] == item.text(2))
    t_red = h5.offset[stream] + sample / h5.rate[stream]
    assert item.text(0) == f"T+00:{t_red - t0:05.2f}"
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    win.tick()
    x0, x1 = _one_range(_x_ranges(win))
    assert (x0 + x1) / 2 == pytest.approx(t_red - t0, abs=1e-9) and x1 - x0 == pytest.approx(0.5)
    _shot(screens, qtbot, win, "replay-events")
    feed.close()


def test_the_channel_chooser_hides_channels_and_charts(app, qtbot, run_file, screens):
    from PySide6 import QtCore

    feed, win = _window(app, qtbot, run_file, window_s=5)
    colours = dict(win.charts.colours)
    tree = win.tools.chooser
    tops = {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
    tops["Tank pressures"].setCheckState(0, QtCore.Qt.Unchecked)  # a chart's box: all its channels
    thrust = tops["Thrust"]
    next(thrust.child(j) for j in range(thrust.childCount())
         if thrust.child(j).text(0) == "THRUST_B").setCheckState(0, QtCore.Qt.Unchecked)
    qtbot.waitUntil(lambda: "Tank pressures" not in [p.title for p in win.charts.plots], timeout=2000)
    win.tick()
    titles = {p.title: [c.name for c in p.chans] for p in win.charts.plots}
    assert "Tank pressures" not in titles and titles["Thrust"] == ["THRUST_A", "F_TOTAL"]
    assert "POX_TANK" not in win.charts.curve_points() and min(win.charts.curve_points().values()) > 10
    assert all(win.charts.colours[n] == colours[n] for n in win.charts.curve_points())  # colours kept
    assert tops["Thrust"].checkState(0) == QtCore.Qt.PartiallyChecked
    assert win.charts.marker_count("T0") >= len(win.charts.plots)  # markers redrawn on the new charts
    win.tools.tabs.setCurrentWidget(tree)
    _shot(screens, qtbot, win, "replay-channels")
    tops["Tank pressures"].setCheckState(0, QtCore.Qt.Checked)
    qtbot.waitUntil(lambda: "Tank pressures" in [p.title for p in win.charts.plots], timeout=2000)
    feed.close()


@pytest.mark.parametrize("speed, wall_s", [(0.1, 2.0), (10.0, 0.25)])
def test_playback_runs_at_the_chosen_speed(app, qtbot, run_file, monkeypatch, speed, wall_s):
    import hotfire.gui.replay as replay

    clock = [1000.0]
    monkeypatch.setattr(replay.time, "monotonic", lambda: clock[0])
    feed, win = _window(app, qtbot, run_file, window_s=5)
    assert win.speed_box.count() == len(replay.SPEEDS) and (min(replay.SPEEDS), max(replay.SPEEDS)) == (0.1, 10.0)
    win.speed_box.setCurrentIndex(win.speed_box.findData(speed))
    win.toggle_play()
    start = feed.playhead
    for _ in range(10):  # ten frames over wall_s seconds of wall clock
        clock[0] += wall_s / 10
        feed.pump()
    assert feed.playhead - start == pytest.approx(speed * wall_s, rel=1e-9)
    feed.close()
