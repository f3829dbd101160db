"""Replay of a run file: slider, playback, the same panels and alarms as live."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import LimitChecker
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    """An unstable firing (1850 Hz on the dynamic Pc) with an overpressure, recorded with limit checks."""
    rig = load_rig("lox-ethanol-5kN")
    scen = scenario("overpressure", pretrigger_s=1.0, burn_s=2.5, posttrigger_s=0.5, instability_hz=1850.0,
                    instability_amplitude=0.08, instability_start_s=0.2)
    out = tmp_path_factory.mktemp("replay")
    summary = Acquisition(rig, open_source(rig, "simulator", scenario=scen),
                          [Recorder(out), LimitChecker()], test_id="replay").run()
    assert summary.error is None
    return summary.path


def test_replay_scrubs_plays_and_shows_alarms(app, qtbot, run_file, screens, px):
    from hotfire.gui.replay import ReplayFeed
    from hotfire.gui.theme import DARK
    from hotfire.gui.window import MainWindow

    feed = ReplayFeed(run_file)
    win = MainWindow(feed, DARK, window_s=5)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    win.timer.stop()  # frames by hand: the test moves the playhead
    win.tick()
    t0 = feed.events.t0()
    red = next(e for e in feed.events.events if e.kind == "redline" and e.channel == "PC")

    # Opens at the end of the run: everything drawn, the (past) redline latched in the banner.
    assert min(win.charts.curve_points().values()) > 10
    assert win.banner.isVisible() and win.readouts.levels.get("PC", 0) == 0

    # Before T0: no alarm yet, the clock counts down.
    feed.seek(t0 - 0.5)
    win.tick()
    assert not win.banner.isVisible() and win.clock.text().startswith("T-00:00.5")

    # In the overpressure: PC red, banner up, markers at T0 and the redline; the spectrum finds 1850 Hz.
    feed.seek(red.time_s + 0.15)
    win.tick()
    qtbot.wait(50)
    win.tick()
    img = screens(win, "replay-redline")
    assert win.readouts.levels["PC"] == 2 and win.banner.isVisible()
    value = win.readouts.rows["PC"][1]
    assert px.dominant_colour(value.grab().toImage()) == tuple(int(DARK.redline[i:i + 2], 16) for i in (1, 3, 5))
    assert win.charts.marker_count("T0") >= 1 and win.charts.marker_count("redline") >= 1
    assert win.spectrum.peak_hz == pytest.approx(1850, abs=15)
    assert px.count_colour(img, DARK.curves[0], tol=16) > 3000

    # Acknowledged, it stays down when the playhead moves on.
    win.acknowledge()
    feed.seek(feed.end_s)
    win.tick()
    assert not win.banner.isVisible()

    # Playback at 10x runs through the firing to the end.
    win.speed_box.setCurrentIndex(win.speed_box.findData(10.0))
    win.toggle_play()
    assert feed.playing and feed.playhead == feed.start_s
    qtbot.waitUntil(lambda: (win.tick(), not feed.playing)[1], timeout=5000)
    assert feed.playhead == feed.end_s
    assert win.slider.value() == int(feed.end_s * 1000)

    # The slider seeks; the time window can be changed.
    win.slider.setValue(int((t0 + 1.0) * 1000))
    win.set_window(30)
    win.tick()
    (x0, x1), _ = win.charts.plots[0].item.vb.viewRange()
    assert x1 == pytest.approx(1.0, abs=0.01) and x1 - x0 == pytest.approx(30, abs=0.01)
    feed.close()


def test_peaks_survive_decimation_in_a_long_window(app, qtbot, run_file):
    """5-minute window: one sample of every bucket's extreme reaches the screen."""
    from hotfire.gui.replay import ReplayFeed
    from hotfire.gui.theme import DARK
    from hotfire.gui.window import MainWindow

    feed = ReplayFeed(run_file)
    win = MainWindow(feed, DARK, window_s=300)
    qtbot.addWidget(win)
    win.timer.stop()
    win.tick()
    dyn = feed.run.channel("PC-DYN")
    plot = win.charts.by_channel["PC-DYN"]
    _, y = dict((c.name, cu) for c, cu in plot.curves)["PC-DYN"].getData()
    assert np.nanmax(y) == pytest.approx(dyn.values.max(), abs=1e-3)
    assert np.nanmin(y) == pytest.approx(dyn.values.min(), abs=1e-3)
    assert len(y) < len(dyn.values) / 50
    feed.close()


def test_cli_replays_a_file_to_a_screenshot(run_file, tmp_path):
    png = tmp_path / "cli.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "hotfire", "view", str(run_file), "--large", "--quit-after", "1.5",
                        "--screenshot", str(png)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert png.stat().st_size > 20_000
    if os.environ.get("HOTFIRE_SCREENS"):
        import shutil

        shutil.copy(png, os.path.join(os.environ["HOTFIRE_SCREENS"], "replay-cli-large.png"))



def test_cli_reports_a_missing_file_before_any_window(tmp_path, capsys):
    from hotfire.cli import main

    assert main(["view", str(tmp_path / "missing.h5")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_replay_reads_through_the_checksums_and_reports_a_damaged_span(run_file, tmp_path):
    import shutil

    import h5py

    from hotfire.gui.replay import ReplayFeed

    bad = tmp_path / "damaged.h5"
    shutil.copy(run_file, bad)
    with h5py.File(bad, "r") as f:  # the byte offset of a chunk in the middle of the main stream, from HDF5
        ds = f["streams/main/raw"]
        chunks = []
        ds.id.chunk_iter(lambda i: chunks.append((i.chunk_offset[0], i.byte_offset, i.size)))
        first_row, offset, size = sorted(chunks)[len(chunks) // 2]
        rows = ds.chunks[0]
        segs = f["streams/main/segments"][()]
    with open(bad, "r+b") as fh:  # one flipped bit
        fh.seek(offset + size // 2)
        b = fh.read(1)
        fh.seek(offset + size // 2)
        fh.write(bytes([b[0] ^ 0x10]))
    s0, r0, n = segs[0]
    # the chunk's samples (one segment here; a chunk may reach past the rows written)
    a, b = int(s0 + first_row - r0), int(s0 + min(first_row + rows, r0 + n) - r0)
    clean, feed = ReplayFeed(run_file), ReplayFeed(bad)
    try:
        assert not clean.damage
        assert [(d.stream, d.first_sample, d.end_sample) for d in feed.damage] == [("main", a, b)]
        alarms = [e for e in feed.events.events if e.kind == "alarm" and e.message.startswith("damaged, not drawn")]
        assert len(alarms) == 1 and "stream 'main'" in alarms[0].message and f"samples {a}..{b - 1}" in alarms[0].message
        # the calculated channels read the damaged stream: not drawn, and said so
        assert not [c for c in feed.meta.channels if c.stream.endswith(":calculated")]
        assert [c for c in clean.meta.channels if c.stream.endswith(":calculated")]
        assert any(e.kind == "alarm" and e.message.startswith("calculated channels not drawn (DP-OX-INJ")
                   for e in feed.events.events)
        assert any("main" in d for s in feed.health_view()["streams"] for d in s["damaged"])
        lo, hi = feed.stores["main"].span()
        got, want = feed.stores["main"].full(lo, hi), clean.stores["main"].full(lo, hi)
        assert np.isnan(got[:, a - lo:b - lo]).all()  # the damaged samples are a break, never data
        np.testing.assert_array_equal(got[:, :a - lo], want[:, :a - lo])  # the intact ones are the file's
        np.testing.assert_array_equal(got[:, b - lo:], want[:, b - lo:])
        for name in feed.stores:  # other streams read as they are
            if name != "main":
                np.testing.assert_array_equal(feed.stores[name].full(*feed.stores[name].span()),
                                              clean.stores[name].full(*clean.stores[name].span()))
    finally:
        clean.close()
        feed.close()


def test_the_viewer_starts_on_a_real_x_server(run_file, tmp_path):
    # Offscreen rendering needs none of the xcb libraries Qt's X11 plugin loads: a viewer
    # that only ever ran offscreen aborted (exit 134) on the first real display.
    import shutil

    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (.ci/system-packages installs it)")
    rfd, wfd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(wfd)
    try:
        with os.fdopen(rfd) as f:
            display = f.readline().strip()  # the server picks a free display: no fixed number
        assert display, "Xvfb did not start"
        png = tmp_path / "xcb.png"
        env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=f":{display}")
        r = subprocess.run([sys.executable, "-m", "hotfire", "view", str(run_file), "--quit-after", "1.5",
                            "--screenshot", str(png)], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr[-2000:]
        assert png.stat().st_size > 20_000
        if os.environ.get("HOTFIRE_SCREENS"):
            shutil.copy(png, os.path.join(os.environ["HOTFIRE_SCREENS"], "replay-xcb.png"))
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def test_a_quiet_trace_is_drawn_whole_wherever_the_y_range_puts_it(app, qtbot, run_file):
    # The tank pressures are flat to well under a pixel in a 30 s window. Qt's 1-pixel pen
    # lights only pixels whose centres a line crosses: drawn as sub-pixel min/max strokes,
    # such a trace came out as scattered dots or vanished, depending on the y range (seen
    # live on lox-rp1-100kN). Shift the range through one pixel: every column stays drawn.
    from PySide6 import QtCore

    from hotfire.gui.replay import ReplayFeed
    from hotfire.gui.theme import DARK
    from hotfire.gui.window import MainWindow

    feed = ReplayFeed(run_file)
    win = MainWindow(feed, DARK, window_s=30)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    win.timer.stop()
    win.tick()
    plot = win.charts.by_channel["P-OX-TANK"]
    names = [c.name for c, _ in plot.curves]
    colours = {tuple(int(win.charts.colours[n][i:i + 2], 16) for i in (1, 3, 5)) for n in names}
    x, _ = dict((c.name, cu) for c, cu in plot.curves)["P-OX-TANK"].getData()
    vb = plot.item.vb
    lo, hi = plot.yrange
    px = (hi - lo) / vb.height()
    worst = 1.0
    for off in np.linspace(0.0, px, 6, endpoint=False):
        plot.yrange = (lo + off, hi + off)
        plot.item.setYRange(*plot.yrange, padding=0)
        win._drawn = None
        win.tick()
        img = win.charts.grab().toImage()
        top = win.charts.mapFromScene(vb.mapViewToScene(QtCore.QPointF(0, plot.yrange[1]))).y()
        bottom = win.charts.mapFromScene(vb.mapViewToScene(QtCore.QPointF(0, plot.yrange[0]))).y()
        c0, c1 = (win.charts.mapFromScene(vb.mapViewToScene(QtCore.QPointF(v, lo))).x() for v in (x[2], x[-3]))
        drawn = sum(any(img.pixelColor(c, r).getRgb()[:3] in colours for r in range(top, bottom))
                    for c in range(c0, c1))
        worst = min(worst, drawn / (c1 - c0))
    print(f"worst column coverage {worst:.3f}")
    assert worst > 0.98, worst  # worst of the shifts: 0.90 before strokes were made a pixel tall
    feed.close()
