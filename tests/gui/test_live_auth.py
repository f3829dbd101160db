"""Viewers of a publisher on a network address with CurveZMQ keys."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from hotfire.core import keys
from hotfire.gui.live import LiveFeed
from tests.daq.test_publisher_auth import curve_sub, local
from tests.gui.test_live_view import assert_complete_recording, start_acquisition


def make_keys(tmp_path, *clients):
    d = tmp_path / "keys"
    keys.generate_server(d)
    for c in clients:
        keys.generate_client(d, c)
    return d


def test_a_viewer_with_an_unknown_key_gets_nothing_and_says_why(tmp_path):
    d = make_keys(tmp_path, "laptop")
    acq, pub, th, result, seconds = start_acquisition(tmp_path, "unknown", pre=0.3, burn=1.2, post=0.3,
                                                      address="tcp://0.0.0.0:0", keys=d)
    stranger = tmp_path / "stranger-keys"
    keys.generate_client(stranger, "visitor")
    (stranger / "server").mkdir()
    (stranger / "server" / "server.key").write_text((d / "server" / "server.key").read_text())
    good, bad = LiveFeed(local(pub.address), keys=d, key="laptop"), LiveFeed(local(pub.address), keys=stranger, key="visitor")
    th.start()
    try:
        end = time.monotonic() + seconds + 2
        while time.monotonic() < end:
            good.pump(), bad.pump()
            time.sleep(0.02)
        th.join(timeout=10)
        assert good.meta is not None and good.data_time() > seconds - 0.5
        assert bad.meta is None and bad.data_time() is None
        msg = bad.health_view()["viewer"]
        assert msg.startswith(f"no data from {local(pub.address)} in ") and "may not know this client's key visitor" in msg
        assert pub.rejected == 1
        assert_complete_recording(result["summary"], seconds)
    finally:
        good.close(), bad.close()


def test_one_drawing_viewer_and_seven_subscribers_two_frozen_cost_no_sample(tmp_path):
    d = make_keys(tmp_path, *[f"v{k}" for k in range(8)])
    acq, pub, th, result, seconds = start_acquisition(tmp_path, "eight", pre=0.5, burn=2.0, post=0.5, hwm=16,
                                                      address="tcp://0.0.0.0:0", keys=d)
    url = local(pub.address)
    png = tmp_path / "remote.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # the drawing viewer, as a user starts it: `hotfire view tcp://HOST:PORT --keys DIR --key NAME`
    view = subprocess.Popen([sys.executable, "-m", "hotfire", "view", url, "--keys", str(d), "--key", "v0",
                             "--quit-after", str(seconds + 4), "--screenshot", str(png)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    feeds = [LiveFeed(url, keys=d, key=f"v{k}") for k in range(1, 6)]
    frozen = [curve_sub(url, keys.server_public(d), keys.client_secret(d, f"v{k}")) for k in (6, 7)]
    stop = threading.Event()

    def pump():
        while not stop.is_set():
            for f in feeds:
                f.pump()
            time.sleep(0.01)
    pumper = threading.Thread(target=pump, daemon=True)
    pumper.start()
    try:
        deadline = time.monotonic() + 30
        while pub.viewers < 8 and time.monotonic() < deadline:
            pub._count_viewers()
            time.sleep(0.05)
        assert pub.viewers == 8, f"{pub.viewers} viewers connected"
        th.start()
        th.join(timeout=seconds + 10)
        assert not th.is_alive()
        assert view.wait(timeout=30) == 0, view.stderr.read().decode()
    finally:
        stop.set()
        pumper.join()
        view.kill()
        for f in feeds:
            f.close()
        for s in frozen:
            s.close()
    assert_complete_recording(result["summary"], seconds)
    assert pub.rejected == 0
    for f in feeds:
        assert f.meta is not None and f.data_time() > seconds - 0.5
    assert png.stat().st_size > 10_000


def test_a_decimated_viewer_draws_from_min_max_buckets_at_the_bounded_rate(tmp_path):
    acq, pub, th, result, seconds = start_acquisition(tmp_path, "dec", pre=0.3, burn=1.2, post=0.3,
                                                      decimate_points=100)
    feed = LiveFeed(pub.address, decimated=True)
    time.sleep(0.3)
    th.start()
    try:
        end = time.monotonic() + seconds + 1.5
        while time.monotonic() < end:
            feed.pump()
            time.sleep(0.02)
        th.join(timeout=10)
        assert feed.meta is not None
        for name, st in feed.meta.streams.items():
            assert st.rate_hz <= 100  # the stream as this viewer holds it: 2 values per bucket
        # events dated in that index too: T0 at the end of the pretrigger, as on a full-rate viewer
        assert feed.events.t0() == pytest.approx(0.3, abs=1e-6)  # it read 7.5 s when dated by the bucket rate
        # the acquisition time it reached is the run's, to within one bucket (<= 2 / 100 s)
        assert abs(feed.data_time() - seconds) <= 0.02 + 1e-9
        assert {r["name"]: r["nominal_hz"] for r in feed.health_view()["streams"]} == {
            name: st.rate_hz for name, st in acq.source.streams.items()}
    finally:
        feed.close()
    assert_complete_recording(result["summary"], seconds)
