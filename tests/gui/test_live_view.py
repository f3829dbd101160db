"""The live view attached to a simulated acquisition, asserted on what is drawn."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.limits import LimitChecker
from hotfire.daq.publisher import Publisher
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

RIG = "lox-ethanol-5kN"


def start_acquisition(tmp_path, test_id, pre=0.6, burn=1.6, post=0.4, address="tcp://127.0.0.1:0", **pub_kw):
    """A real-time simulated overpressure firing, recorded, limit-checked and published."""
    rig = load_rig(RIG)
    scen = scenario("overpressure", pretrigger_s=pre, burn_s=burn, posttrigger_s=post)
    pub = Publisher(address, meta_interval=0.5, **pub_kw)
    rec = Recorder(tmp_path)
    acq = Acquisition(rig, open_source(rig, "simulator", scenario=scen, realtime=True),
                      [rec, LimitChecker(), pub], test_id=test_id)
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("summary", acq.run()), daemon=True)
    return acq, pub, th, result, pre + burn + post


def assert_complete_recording(summary, seconds):
    assert summary.error is None
    with open_run(summary.path) as run:
        for name, st in run.streams.items():
            assert st.gaps == [], name
            assert st.rows == round(seconds * st.rate_hz), name
    assert sum(summary.gaps.values()) == 0


def test_live_view_draws_the_firing_and_latches_the_redline(app, qtbot, tmp_path, screens, px):
    from hotfire.gui.live import LiveFeed
    from hotfire.gui.theme import DARK
    from hotfire.gui.window import MainWindow

    acq, pub, th, result, seconds = start_acquisition(tmp_path, "live")
    feed = LiveFeed(pub.address)
    win = MainWindow(feed, DARK, window_s=5)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.wait(300)  # the subscription reaches the publisher
    th.start()
    try:
        # The overpressure: PC crosses its redline; its readout turns red and the banner comes up.
        qtbot.waitUntil(lambda: win.readouts is not None and win.readouts.levels.get("PC") == 2, timeout=8000)
        qtbot.wait(150)
        img = screens(win, "live-redline")
        assert win.banner.isVisible() and "PC" in win.banner.label.text()
        value = win.readouts.rows["PC"][1]
        assert px.dominant_colour(value.grab().toImage()) == tuple(int(DARK.redline[i:i + 2], 16) for i in (1, 3, 5))
        assert px.count_colour(img, DARK.redline) > 2000  # banner, readout, redline lines
        qtbot.waitUntil(lambda: not th.is_alive(), timeout=15000)
        qtbot.waitUntil(lambda: win.mode.text() == "LIVE · ENDED", timeout=3000)
        qtbot.wait(200)
    finally:
        acq.stop()
        th.join()
    img = screens(win, "live-end")
    # Curves: every channel drawn, and the chart area full of curve colour.
    pts = win.charts.curve_points()
    calc = {c.name for c in acq.rig.calculated}  # the injector drops, evaluated in acquisition
    assert calc and set(pts) == {c.name for c in acq.rig.channels} | calc and min(pts.values()) > 10
    titles = [p.title for p in win.charts.plots]
    assert "Injector pressure drops" in titles
    assert px.count_colour(win.charts.grab().toImage(), DARK.curves[0], tol=16) > 3000
    # Event markers for the sequence and the redline.
    for kind in ("T0", "cutoff", "redline"):
        assert win.charts.marker_count(kind) >= 1, kind
    # PC is back in band, the banner stays until acknowledged.
    assert win.readouts.levels["PC"] == 0
    assert win.banner.isVisible()
    win.acknowledge()
    win.tick()
    assert not win.banner.isVisible()
    assert win.clock.text().startswith("T+")
    assert "acquisition ended" in win.health.text()
    assert_complete_recording(result["summary"], seconds)
    feed.close()


def test_killed_and_frozen_viewers_leave_the_recording_intact(tmp_path):
    acq, pub, th, result, seconds = start_acquisition(tmp_path, "kill", pre=0.5, burn=2.0, post=0.5, hwm=16)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "hotfire", "view", "--connect", pub.address]
    viewers = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        deadline = time.monotonic() + 30
        while pub.viewers < 2 and time.monotonic() < deadline:
            pub._count_viewers()  # acquisition not started yet: nothing else uses the socket
            time.sleep(0.05)
        assert pub.viewers == 2, "viewers did not connect"
        t = time.monotonic()
        th.start()
        time.sleep(1.0)
        viewers[0].send_signal(signal.SIGKILL)   # dies mid-firing
        viewers[1].send_signal(signal.SIGSTOP)   # freezes: its queues fill, the publisher drops for it
        th.join(timeout=seconds + 10)
        elapsed = time.monotonic() - t
    finally:
        for v in viewers:
            v.kill()
            v.wait()
    assert not th.is_alive()
    assert elapsed < seconds + 1.5  # still real time
    assert pub.viewers_max == 2 and pub.viewers <= 1  # the killed one was seen leaving
    assert_complete_recording(result["summary"], seconds)


def test_a_viewer_left_open_follows_the_next_acquisition(app, qtbot, tmp_path):
    from hotfire.gui.live import LiveFeed
    from hotfire.gui.theme import DARK
    from hotfire.gui.window import MainWindow

    rig = load_rig(RIG)
    scen = scenario("nominal", pretrigger_s=0.3, burn_s=1.0, posttrigger_s=0.2)
    address = None
    feed = win = None
    for test_id in ("first", "second"):
        pub = Publisher(address or "tcp://127.0.0.1:0", meta_interval=0.2)
        address = pub.address
        if feed is None:
            feed = LiveFeed(address)
            win = MainWindow(feed, DARK)
            qtbot.addWidget(win)
            win.show()
        qtbot.wait(300)
        acq = Acquisition(rig, open_source(rig, "simulator", scenario=scen, realtime=True), [pub], test_id=test_id)
        th = threading.Thread(target=acq.run, daemon=True)
        th.start()
        qtbot.waitUntil(lambda: feed.meta is not None and feed.meta.test_id == test_id
                        and win.charts is not None and min(win.charts.curve_points().values()) > 0, timeout=8000)
        assert test_id in win.title.text()
        qtbot.waitUntil(lambda: not th.is_alive(), timeout=8000)
    assert feed.generation == 2
    feed.close()


def test_live_view_shows_a_sensor_the_acquisitions_health_checks_failed(app, qtbot, tmp_path, screens):
    """An open circuit mid-burn: the acquisition's SensorWatch (core.health, the analysis's checks) posts a
    sensor event; the health panel names the channel and the charts mark it."""
    from hotfire.daq.sensorwatch import SensorWatch
    from hotfire.gui.live import LiveFeed
    from hotfire.gui.theme import DARK
    from hotfire.gui.window import MainWindow

    rig = load_rig(RIG)
    scen = scenario("failed-sensor", pretrigger_s=0.5, burn_s=1.5, posttrigger_s=0.3, failure_at_s=0.6)
    pub = Publisher("tcp://127.0.0.1:0", meta_interval=0.5)
    acq = Acquisition(rig, open_source(rig, "simulator", scenario=scen, realtime=True),
                      [Recorder(tmp_path), SensorWatch(), pub], test_id="sensor")
    feed = LiveFeed(pub.address)
    win = MainWindow(feed, DARK, window_s=5)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.wait(300)
    th = threading.Thread(target=acq.run, daemon=True)
    th.start()
    try:
        qtbot.waitUntil(lambda: getattr(win, "health", None) is not None and "P-F-INJ failed" in win.health.text(),
                        timeout=8000)
        qtbot.waitUntil(lambda: not th.is_alive(), timeout=15000)
        qtbot.wait(300)
    finally:
        acq.stop()
        th.join()
    screens(win, "live-sensor")
    assert "open circuit" in win.health.text()
    assert win.charts.marker_count("sensor") >= 1
    assert [e.channel for e in acq.events if e.kind == "sensor"] == ["P-F-INJ"]
    feed.close()
