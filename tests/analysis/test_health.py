"""Sensor-failure signatures on a small synthetic run: each is found, at the
right time, and nothing else is."""
import numpy as np
import pytest

from hotfire.core.health import check_run
from hotfire.core.runfile.reader import open_run
from hotfire.core.events import Event
from hotfire.core.rig import parse_rig
from hotfire.core.runfile import RunFileWriter

RIG = '''
[rig]
name = "health"
[article]
serial = "H-1"
[streams.s]
rate_hz = 1000
dtype = "int16"
[channels.LOOP]
stream = "s"
physical = "m/ai0"
kind = "current"
range = [0.0, 20.0]
calibration = { type = "table", signal = [4.0, 20.0], value = [0.0, 100.0] }
units = "bar"
role = "ox_tank_pressure"
[channels.STUCK]
stream = "s"
physical = "m/ai1"
kind = "voltage"
range = [0.0, 10.0]
calibration = { type = "linear", slope = 10.0 }
units = "bar"
role = "fuel_tank_pressure"
[channels.LC]
stream = "s"
physical = "m/ai2"
kind = "bridge"
range = [-4.0, 4.0]
excitation_V = 10.0
calibration = { type = "bridge", capacity = 1000.0, rated_output_mV_V = 2.0 }
units = "N"
role = "thrust"
[channels.VALVE]
stream = "s"
physical = "m/ai3"
kind = "voltage"
range = [0.0, 10.0]
calibration = { type = "linear", slope = 10.0 }
units = "%"
role = "ox_valve_position"
[channels.OK]
stream = "s"
physical = "m/ai4"
kind = "voltage"
range = [0.0, 10.0]
calibration = { type = "linear", slope = 10.0 }
units = "bar"
role = "other"
'''


@pytest.fixture(scope="module")
def health(tmp_path_factory):
    rig = parse_rig(RIG, "<health rig>")
    rng = np.random.default_rng(0)
    n = 6000
    t = np.arange(n) / 1000.0 - 2.0  # T0 at sample 2000
    sig = {
        # 4-20 mA loop: 12 mA, sagging to 2 mA (below NAMUR NE 43's 3.6 mA) from +1.0 s over 0.5 s
        "LOOP": 12.0 - np.clip((t - 1.0) / 0.5, 0, 1) * 10.0,
        # transducer that freezes at +2.0 s (the driver repeats the last value)
        "STUCK": 5.0 + 0.5 * np.sin(t),
        # load cell overloaded (up to 1.6x capacity) around +0.65 s, smoothly
        "LC": 1.0 + 2.2 * np.clip(1 - np.abs(t - 0.65) / 0.15, 0, 1),
        # valve: closed (0 V, its lower rail) then opening over 40 ms to 100 % (upper rail) at T0
        "VALVE": 10.0 * np.clip(t / 0.04, 0, 1),
        "OK": 3.0 + 0.2 * np.sin(3 * t),
    }
    cols = []
    for ch in rig.stream_channels("s"):
        lo, hi = ch.range
        v = sig[ch.name] + 2e-4 * (hi - lo) * rng.standard_normal(n)
        c0, c1 = ch.adc["coefficients"]
        counts = np.clip(np.rint((v - c0) / c1), -32768, 32767)
        if ch.name == "STUCK":
            counts[4000:] = counts[3999]
        cols.append(counts.astype(np.int16))
    path = tmp_path_factory.mktemp("health") / "h.h5"
    w = RunFileWriter(path, rig, {"test_id": "h"})
    w.append("s", 0, np.column_stack(cols))
    w.add_events([Event("T0", "s", 2000, "T0")])
    w.close()
    with open_run(path) as run:
        return check_run(run)


def test_current_loop_below_its_calibrated_range(health):
    h = health["LOOP"]
    assert h.status == "failed" and "outside its calibrated range 4-20 mA" in h.problems[0]
    # 12 - 20 (t - 1) < 4 - 0.4 (2.5 % of 16 mA) from t = 1.42 s
    assert h.failed_from_s == pytest.approx(1.42, abs=0.003)
    assert h.usable(-1.0, 1.4) and not h.usable(1.0, 2.0)


def test_flatline(health):
    h = health["STUCK"]
    assert h.status == "failed" and "flatline" in h.problems[0]
    assert h.failed_from_s == pytest.approx(2.0, abs=0.002)


def test_load_cell_overload(health):
    h = health["LC"]
    assert h.status == "failed" and "capacity" in h.problems[0]
    # 1 + 2.2 (1 - |t - 0.65| / 0.15) mV/V > 2 mV/V (1000 N) for |t - 0.65| < 0.0818 s
    assert h.failed_intervals[0][0] == pytest.approx(0.65 - 0.0818, abs=0.003)
    assert h.failed_intervals[0][1] == pytest.approx(0.65 + 0.0818, abs=0.003)


def test_end_of_travel_is_a_warning_not_a_failure(health):
    h = health["VALVE"]
    assert h.status == "ok" and h.warnings and "upper rail" in h.warnings[0]
    assert health["OK"].status == "ok" and not health["OK"].warnings
