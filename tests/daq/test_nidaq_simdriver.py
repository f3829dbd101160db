"""The simulated NI-DAQmx driver behaves as the real library does where our
source depends on it: real error classes and codes, array checks, buffer
and read position, sample-clock timing, and the simulator's signals."""
import ctypes
import time

import nidaqmx
import numpy as np
import pytest
from nidaqmx.constants import AcquisitionType, OverwriteMode, ReadRelativeTo, TaskMode
from nidaqmx.errors import DaqError, DaqFunctionNotSupportedError, DaqReadError
from nidaqmx.stream_readers import AnalogMultiChannelReader, AnalogUnscaledReader

from hotfire.core.rig import load_rig
from hotfire.daq.sources.nidaq import use_interpreter
from hotfire.daq.sources.simdriver import SimulatedDriver

# simulated seconds per wall second: the 1 s buffer rides out a 200 ms stall of a loaded
# machine (at 50x a 20 ms stall overflowed it: -200279 under pytest-xdist)
SPEED = 5.0
STARTED = {}  # task name -> wall time just before it started


@pytest.fixture(scope="module")
def rig():
    return load_rig("lox-ethanol-5kN")


@pytest.fixture
def drv(rig):
    return SimulatedDriver(rig, speed=SPEED)


@pytest.fixture
def task(drv):
    """A running 51.2 kHz task on the dynamic pressure channel, 1 s buffer."""
    with use_interpreter(drv):
        t = nidaqmx.Task("t")
    t.ai_channels.add_ai_voltage_chan("cDAQ1Mod5/ai0", "PC-DYN", min_val=-5.0, max_val=5.0)
    t.timing.cfg_samp_clk_timing(51200, sample_mode=AcquisitionType.CONTINUOUS)
    t.in_stream.input_buf_size = 51200
    STARTED[t.name] = time.monotonic()  # just before the clock starts
    t.start()
    yield t
    t.close()


def test_the_real_task_runs_on_the_driver_and_reads_the_firing(task, drv):
    data = np.empty((1, 5120))
    got = AnalogMultiChannelReader(task.in_stream).read_many_sample(data, 5120, timeout=10.0)
    assert got == 5120 and task.in_stream.curr_read_pos == 5120
    assert np.array_equal(data[0], drv.expected("PC-DYN", 0, 5120, raw=False))
    # the voltage is the simulator's sensor signal, within a count of the +-5 V range
    sig = drv.gen.signal(drv.rig.channel("PC-DYN"), 0, 5120)
    assert np.max(np.abs(data[0] - sig)) < 2 * 10 / 65536 + 1e-3 * 5  # LSB + gain/offset error


def test_unscaled_counts_convert_with_the_device_coefficients(task, drv):
    counts = np.empty((1, 1000), np.int16)
    AnalogUnscaledReader(task.in_stream).read_int16(counts, 1000, timeout=10.0)
    c = task.ai_channels["PC-DYN"].ai_dev_scaling_coeff
    volts = np.polynomial.polynomial.polyval(counts[0].astype(float), c)
    sig = drv.gen.signal(drv.rig.channel("PC-DYN"), 0, 1000)
    assert np.max(np.abs(volts - sig)) <= 0.51 * c[1] + 1e-12


def test_arrays_are_checked_as_the_c_library_checks_them(task):
    reader = AnalogMultiChannelReader(task.in_stream)
    with pytest.raises(ctypes.ArgumentError, match="float64"):
        reader.read_many_sample(np.empty((1, 10), np.float32), 10)
    with pytest.raises(ctypes.ArgumentError, match="C_CONTIGUOUS"):
        reader.read_many_sample(np.empty((1, 20))[:, ::2], 10)
    with pytest.raises(DaqError, match="not shaped correctly"):  # nidaqmx's own check, on top
        reader.read_many_sample(np.empty((2, 10)), 10)
    reader.verify_array_shape = False
    with pytest.raises(DaqError) as exc:
        reader.read_many_sample(np.empty((1, 5)), 10)
    assert exc.value.error_code == -200229  # read buffer too small


def test_reading_late_past_the_buffer_is_minus_200279_and_the_position_can_skip(task):
    task.in_stream.overwrite = OverwriteMode.OVERWRITE_UNREAD_SAMPLES
    time.sleep(1.5 / SPEED)  # 1.5 s of samples into a 1 s buffer
    reader = AnalogMultiChannelReader(task.in_stream)
    data = np.empty((1, 100))
    with pytest.raises(DaqReadError) as exc:
        reader.read_many_sample(data, 100, timeout=1.0)
    assert exc.value.error_code == -200279 and exc.value.samps_per_chan_read == 0
    total = task.in_stream.total_samp_per_chan_acquired
    assert task.in_stream.curr_read_pos == 0 and total > 51200
    task.in_stream.offset = total - 1000
    assert reader.read_many_sample(data, 100, timeout=1.0) == 100
    assert task.in_stream.curr_read_pos == total - 1000 + 100


def test_without_overwrite_an_overflow_stops_the_acquisition(task):
    time.sleep(1.5 / SPEED)
    with pytest.raises(DaqReadError) as exc:
        AnalogMultiChannelReader(task.in_stream).read_many_sample(np.empty((1, 10)), 10)
    assert exc.value.error_code == -200279 and "not able to keep up" in str(exc.value)


def test_a_timeout_returns_what_was_read(task):
    task.in_stream.relative_to = ReadRelativeTo.MOST_RECENT_SAMPLE
    data = np.full((1, 60000), np.nan)
    with pytest.raises(DaqReadError) as exc:
        AnalogMultiChannelReader(task.in_stream).read_many_sample(data, 60000, timeout=0.2)
    got = exc.value.samps_per_chan_read
    assert exc.value.error_code == -200284 and 0.15 * 51200 < got < 60000
    assert not np.isnan(data[0, :got]).any() and np.isnan(data[0, got:]).all()


def test_samples_follow_the_sample_clock(task):
    AnalogMultiChannelReader(task.in_stream).read_many_sample(np.empty((1, 25600)), 25600, timeout=10.0)
    # the first 0.5 s of samples cannot all be there sooner than 0.5 s (of simulated time) after
    # the start: timed from the start, not from the read, which may come late on a loaded machine
    assert time.monotonic() - STARTED[task.name] >= 0.5 / SPEED


def test_a_device_removal_is_minus_201003_after_the_samples_before_it(drv, task):
    drv.inject("removal", "cDAQ1", at_s=0.2)
    data = np.empty((1, 20480))
    with pytest.raises(DaqReadError) as exc:
        AnalogMultiChannelReader(task.in_stream).read_many_sample(data, 20480, timeout=10.0)
    assert exc.value.error_code == -201003 and exc.value.samps_per_chan_read == 10240
    with pytest.raises(DaqError) as exc:
        task.stop()
    assert exc.value.error_code == -201003


def test_scaling_needs_a_committed_task_and_other_functions_say_not_simulated(drv):
    with use_interpreter(drv):
        t = nidaqmx.Task("u")
    try:
        t.ai_channels.add_ai_voltage_chan("cDAQ1Mod3/ai0", "PC", min_val=0.0, max_val=10.0)
        with pytest.raises(DaqError) as exc:
            t.ai_channels["PC"].ai_dev_scaling_coeff
        assert exc.value.error_code == -200983
        t.control(TaskMode.TASK_COMMIT)
        assert len(t.ai_channels["PC"].ai_dev_scaling_coeff) == 4
        with pytest.raises(DaqFunctionNotSupportedError, match="not implemented by the simulated"):
            t.ai_channels.add_ai_rtd_chan("cDAQ1Mod3/ai1")
        with pytest.raises(DaqError) as exc:
            t.ai_channels.add_ai_current_chan("cDAQ1Mod3/ai1", "X")
        assert exc.value.error_code == -200431  # a voltage sensor is wired there
        with pytest.raises(DaqError) as exc:
            t.ai_channels.add_ai_voltage_chan("cDAQ1Mod3/ai2", "Y", min_val=-20.0, max_val=20.0)
        assert exc.value.error_code == -200077  # beyond the module's +-10 V
    finally:
        t.close()
