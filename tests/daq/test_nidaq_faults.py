"""Driver faults injected into the simulated NI-DAQmx driver: each yields its
event at the exact sample, a continuing or cleanly stopped acquisition, and
a run file whose every recorded sample is the one the hardware delivered."""
import numpy as np
import pytest

from hotfire.core.runfile.reader import open_run
from hotfire.cli import main
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq import session
from hotfire.daq.sources import open_source
from hotfire.daq.sources.simdriver import SimulatedDriver

SPEED = 10.0  # modest: the test machine is shared, and catching up after a stall needs headroom
DURATION = 3.0


@pytest.fixture(scope="module")
def rig():
    return load_rig("lox-ethanol-5kN")


def acquire_with(rig, tmp_path, kind, device, at_s, duration_s=0.0, **options):
    drv = SimulatedDriver(rig, speed=SPEED)
    drv.inject(kind, device, at_s, duration_s)
    source = open_source(rig, "nidaq-sim", driver=drv, duration_s=DURATION, **options)
    summary = Acquisition(rig, source, [Recorder(tmp_path)], test_id=kind).run()
    return drv, summary


def check_intact(run, drv, rig):
    """Every recorded row equals what the device delivered for its sample index."""
    for name, st in rig.streams.items():
        raw = run.f["streams"][name]["raw"]
        for s0, r0, n in run.streams[name].segments:
            cols = [drv.expected(ch, int(s0), int(n), raw=st.dtype in ("int16", "int32")) for ch in st.channels]
            assert np.array_equal(raw[r0:r0 + n], np.column_stack(cols).astype(st.dtype)), (name, s0)


def full(rig, name):
    return int(round(DURATION * rig.streams[name].rate_hz))


def driver_errors(summary, stream):
    return [e for e in summary.events if e.kind == "driver_error" and e.stream == stream]


def test_overflow_is_an_exact_gap_and_the_acquisition_continues(rig, tmp_path):
    # The host stalls 2.5 s at t = 1 s while reading a 2 s buffer: -200279.
    drv, summary = acquire_with(rig, tmp_path, "overflow", "cDAQ1Mod5", 1.0, 2.5, buffer_s=2.0)
    assert summary.error is None
    (err,) = driver_errors(summary, "dynamic")
    assert err.sample == 51200 and "-200279" in err.message
    with open_run(summary.path) as run:
        (gap,) = run.streams["dynamic"].gaps
        assert gap[0] == err.sample
        assert f"({gap[1]}) lost" in err.message
        assert [e for e in summary.events if e.kind == "gap"][0].sample == err.sample
        # the stall outlasted the buffer by 0.5 s; reading resumes a quarter buffer (0.5 s) in
        assert 1.0 * 51200 <= gap[1] < 1.8 * 51200
        assert run.streams["dynamic"].rows == full(rig, "dynamic") - gap[1]
        for name in ("main", "slow"):
            assert run.streams[name].gaps == [] and run.streams[name].rows == full(rig, name)
        check_intact(run, drv, rig)


def test_timeout_keeps_the_short_read_and_loses_nothing(rig, tmp_path):
    # Transfers stop at t = 1.05 s (sample 53760, mid-read) for 1.5 s; reads time out after 0.5 s.
    drv, summary = acquire_with(rig, tmp_path, "timeout", "cDAQ1Mod5", 1.05, 1.5, read_timeout_s=0.5)
    assert summary.error is None
    (err,) = driver_errors(summary, "dynamic")
    assert err.sample == 53760 and "-200284" in err.message
    assert not [e for e in summary.events if e.kind == "gap"]
    with open_run(summary.path) as run:
        for name in rig.streams:
            assert run.streams[name].gaps == [] and run.streams[name].rows == full(rig, name)
        check_intact(run, drv, rig)


def test_device_removal_stops_that_stream_cleanly_keeping_every_sample_before(rig, tmp_path):
    drv, summary = acquire_with(rig, tmp_path, "removal", "cDAQ1Mod2", 1.05)
    assert summary.error is None
    (err,) = driver_errors(summary, "main")
    assert err.sample == 5250 and "-201003" in err.message
    with open_run(summary.path) as run:
        assert run.streams["main"].rows == 5250 and run.streams["main"].gaps == []
        for name in ("dynamic", "slow"):
            assert run.streams[name].rows == full(rig, name)
        check_intact(run, drv, rig)


def test_an_exception_in_the_driver_is_reported_with_the_stream_and_sample(rig, tmp_path):
    drv, summary = acquire_with(rig, tmp_path, "exception", "cDAQ1Mod1", 1.0)
    assert "stream 'slow'" in str(summary.error) and "simulated driver failure" in str(summary.error)
    (err,) = driver_errors(summary, "slow")
    assert err.sample == 100
    with open_run(summary.path) as run:
        assert run.streams["slow"].rows == 100
        for name in ("main", "dynamic"):
            assert run.streams[name].rows == full(rig, name)
        check_intact(run, drv, rig)


def test_the_command_line_reports_a_driver_exception(rig, tmp_path, monkeypatch, capsys):
    def faulty(rig_, kind, **kwargs):
        drv = SimulatedDriver(rig_, speed=SPEED)
        drv.inject("exception", "cDAQ1Mod1", 0.5, exception=OSError("driver thread crashed"))
        return open_source(rig_, kind, **{**kwargs, "driver": drv})

    monkeypatch.setattr(session, "open_source", faulty)
    code = main(["acquire", "lox-ethanol-5kN", "--source", "nidaq-sim", "--duration", "1", "--quiet",
                 "--out", str(tmp_path), "--test-id", "x", "--no-publish"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "acquisition stopped by an error" in err and "stream 'slow'" in err and "driver thread crashed" in err
    with open_run(tmp_path / "x.h5") as run:
        assert run.streams["slow"].rows == 50 and run.streams["main"].rows == 5000
