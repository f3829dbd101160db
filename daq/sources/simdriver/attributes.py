"""The simulated driver's task, read, buffer, timing, trigger and channel attributes."""
from __future__ import annotations

import time

from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.utils import unflatten_channel_string

from hotfire.daq.sources.simdriver.hardware import _Task
from hotfire.daq.sources.simdriver.ids import (
    AI_DEV_SCALING,
    AI_RESOLUTION,
    BUF_INPUT_SIZE,
    BUF_ONBOARD_SIZE,
    READ_AVAIL,
    READ_DEFAULT_N,
    READ_NUM_CHANS,
    READ_POS,
    READ_TOTAL,
    REF_CLK_RATE,
    REF_CLK_SRC,
    START_TRIG_TERM,
    TASK_CHANNELS,
    TASK_DEVICES,
    TASK_NAME,
    TASK_NUM_CHANS,
    TASK_NUM_DEVICES,
    _error,
)


class _Attributes:
    """Part of :class:`~hotfire.daq.sources.simdriver.SimulatedDriver` (which provides
    ``_lock``, ``_task``, ``_log``, ``_acquired`` and the rest of its state)."""

    # -- attributes -----------------------------------------------------------
    def _unsupported(self, kind: str, attribute: int, t: _Task | None = None):
        return _error(DAQmxErrors.ATTR_NOT_SUPPORTED, f"Specified property is not supported by the simulated "
                      f"driver.\n\nProperty: {kind} 0x{attribute:X}", t.name if t else "")

    def _get_task(self, task, attribute):
        t = self._task(task)
        vals = {TASK_NAME: t.name, TASK_CHANNELS: ", ".join(c.name for c in t.chans),
                TASK_NUM_CHANS: len(t.chans), TASK_DEVICES: ", ".join(t.devices), TASK_NUM_DEVICES: len(t.devices)}
        if attribute not in vals:
            raise self._unsupported("task", attribute, t)
        return vals[attribute]

    def _get_read(self, task, attribute):
        t = self._task(task)
        if attribute in t.read_attrs:
            return t.read_attrs[attribute]
        with self._lock:
            total = self._acquired(t, time.monotonic())
        avail = max(0, min(total - t.read_pos, t.buffer))
        vals = {READ_AVAIL: avail, READ_DEFAULT_N: avail, READ_TOTAL: total, READ_POS: t.read_pos,
                READ_NUM_CHANS: len(t.chans)}
        if attribute not in vals:
            raise self._unsupported("read", attribute, t)
        return vals[attribute]

    def _set_read(self, task, attribute, value):
        t = self._task(task)
        if attribute not in t.read_attrs:
            raise self._unsupported("read", attribute, t)
        t.read_attrs[attribute] = value
        self._log("set_read_attribute", task=t.name, attribute=attribute, value=value)

    def _get_chan(self, task, channel, attribute):
        t = self._task(task)
        chans = [c for c in t.chans if c.name in unflatten_channel_string(channel)] if channel else t.chans
        if not chans:
            raise _error(DAQmxErrors.PHYSICAL_CHAN_DOES_NOT_EXIST, f"Channel not in task: {channel}", t.name)
        if attribute == AI_DEV_SCALING:
            if t.state == "unverified":
                raise _error(DAQmxErrors.CANNOT_GET_PROPERTY_WHEN_TASK_NOT_RESERVED_COMMITTED_OR_RUNNING,
                             "Specified property cannot be read while the task is not reserved, committed or "
                             "running.\n\nProperty: DAQmx_AI_DevScalingCoeff", t.name)
            vals = [c.coefficients() for c in chans]
        elif attribute == AI_RESOLUTION:
            vals = [float(c.bits) for c in chans]
        else:
            if attribute not in chans[0].attrs:
                raise self._unsupported("channel", attribute, t)
            vals = [c.attrs.get(attribute) for c in chans]
        if any(v != vals[0] for v in vals):
            raise _error(DAQmxErrors.UNKNOWN, f"Channels {channel!r} differ in property 0x{attribute:X}: name one.",
                         t.name)
        return vals[0]

    def _set_chan(self, task, channel, attribute, value):
        t = self._task(task)
        for c in t.chans:
            if not channel or c.name in unflatten_channel_string(channel):
                c.attrs[attribute] = value
        self._uncommit(t)
        self._log("set_chan_attribute", task=t.name, channel=channel, attribute=attribute, value=value)

    def get_task_attribute_string(self, task, attribute):
        return self._get_task(task, attribute)

    def get_task_attribute_uint32(self, task, attribute):
        return self._get_task(task, attribute)

    def get_task_attribute_bool(self, task, attribute):
        return bool(self._get_task(task, attribute))

    def get_read_attribute_uint32(self, task, attribute):
        return int(self._get_read(task, attribute))

    def get_read_attribute_uint64(self, task, attribute):
        return int(self._get_read(task, attribute))

    def get_read_attribute_int32(self, task, attribute):
        return int(self._get_read(task, attribute))

    def get_read_attribute_bool(self, task, attribute):
        return bool(self._get_read(task, attribute))

    def set_read_attribute_int32(self, task, attribute, value):
        self._set_read(task, attribute, int(value))

    def reset_read_attribute(self, task, attribute):
        defaults = _Task(None, "").read_attrs
        if attribute not in defaults:
            raise self._unsupported("read", attribute)
        self._set_read(task, attribute, defaults[attribute])

    def get_buffer_attribute_uint32(self, task, attribute):
        t = self._task(task)
        if attribute == BUF_INPUT_SIZE:
            return t.buffer
        if attribute == BUF_ONBOARD_SIZE:
            return 8191
        raise self._unsupported("buffer", attribute, t)

    def set_buffer_attribute_uint32(self, task, attribute, value):
        t = self._task(task)
        if attribute != BUF_INPUT_SIZE:
            raise self._unsupported("buffer", attribute, t)
        t.buf_size = int(value)
        self._log("set_buffer_attribute", task=t.name, attribute=attribute, value=value)

    def reset_buffer_attribute(self, task, attribute):
        self._task(task).buf_size = None

    def cfg_input_buffer(self, task, num_samps_per_chan):
        self.set_buffer_attribute_uint32(task, BUF_INPUT_SIZE, num_samps_per_chan)

    def _get_timing(self, task, attribute):
        t = self._task(task)
        if attribute not in t.timing:
            raise self._unsupported("timing", attribute, t)
        return t.timing[attribute]

    def _set_timing(self, task, attribute, value):
        t = self._task(task)
        if attribute not in (REF_CLK_SRC, REF_CLK_RATE):
            raise self._unsupported("timing", attribute, t)
        t.timing[attribute] = value
        self._uncommit(t)
        self._log("set_timing_attribute", task=t.name, attribute=attribute, value=value)

    def get_timing_attribute_double(self, task, attribute):
        return float(self._get_timing(task, attribute))

    def get_timing_attribute_string(self, task, attribute):
        return str(self._get_timing(task, attribute))

    def get_timing_attribute_int32(self, task, attribute):
        return int(self._get_timing(task, attribute))

    def get_timing_attribute_uint64(self, task, attribute):
        return int(self._get_timing(task, attribute))

    def set_timing_attribute_double(self, task, attribute, value):
        self._set_timing(task, attribute, float(value))

    def set_timing_attribute_string(self, task, attribute, value):
        self._set_timing(task, attribute, str(value))

    def _get_trig(self, task, attribute):
        t = self._task(task)
        if attribute == START_TRIG_TERM:
            return self._term(t)
        if attribute not in t.trig:
            raise self._unsupported("trigger", attribute, t)
        return t.trig[attribute]

    def get_trig_attribute_string(self, task, attribute):
        return str(self._get_trig(task, attribute))

    def get_trig_attribute_int32(self, task, attribute):
        return int(self._get_trig(task, attribute))

    def get_chan_attribute_double(self, task, channel, attribute):
        return float(self._get_chan(task, channel, attribute))

    def get_chan_attribute_double_array(self, task, channel, attribute):
        return list(self._get_chan(task, channel, attribute))

    def get_chan_attribute_int32(self, task, channel, attribute):
        return int(self._get_chan(task, channel, attribute))

    def get_chan_attribute_uint32(self, task, channel, attribute):
        return int(self._get_chan(task, channel, attribute))

    def get_chan_attribute_string(self, task, channel, attribute):
        return str(self._get_chan(task, channel, attribute))

    def get_chan_attribute_bool(self, task, channel, attribute):
        return bool(self._get_chan(task, channel, attribute))

    def set_chan_attribute_double(self, task, channel, attribute, value):
        self._set_chan(task, channel, attribute, float(value))

    def set_chan_attribute_int32(self, task, channel, attribute, value):
        self._set_chan(task, channel, attribute, int(value))

    def get_error_string(self, error_code):
        try:
            return DAQmxErrors(error_code).name
        except ValueError:
            return f"error {error_code}"

    def get_extended_error_info(self):
        return ""
