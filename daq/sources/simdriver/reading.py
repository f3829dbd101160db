"""The simulated driver's reads: counts or scaled values, buffer overflow, timeouts, device removal, host faults."""
from __future__ import annotations

import time

import numpy as np
from nidaqmx.constants import WAIT_INFINITELY, FillMode, OverwriteMode, ReadRelativeTo
from nidaqmx.error_codes import DAQmxErrors
from nidaqmx.errors import DaqFunctionNotSupportedError, DaqReadError

from hotfire.daq.sources.simdriver.hardware import _Task, _check_array
from hotfire.daq.sources.simdriver.ids import (
    AI_RAW_SAMP_SIZE,
    READ_OFFSET,
    READ_OVERWRITE,
    READ_RELATIVE_TO,
    _error,
)


class _Reading:
    """Part of :class:`~hotfire.daq.sources.simdriver.SimulatedDriver` (which provides
    ``_lock``, ``_task``, ``_log``, ``_acquired`` and the rest of its state)."""

    # -- reading --------------------------------------------------------------
    def read_analog_f64(self, task, num_samps_per_chan, timeout, fill_mode, read_array):
        return self._read(task, num_samps_per_chan, timeout, fill_mode, read_array, np.float64, raw=False)

    def read_binary_i16(self, task, num_samps_per_chan, timeout, fill_mode, read_array):
        return self._read(task, num_samps_per_chan, timeout, fill_mode, read_array, np.int16, raw=True)

    def read_binary_i32(self, task, num_samps_per_chan, timeout, fill_mode, read_array):
        return self._read(task, num_samps_per_chan, timeout, fill_mode, read_array, np.int32, raw=True)

    def _read(self, task, n, timeout, fill_mode, array, dtype, raw):
        _check_array(array, dtype)
        t = self._task(task)
        nch = len(t.chans)
        if t.state != "running":
            raise _error(DAQmxErrors.CANNOT_PERFORM_OP_WHEN_TASK_NOT_RUNNING,
                         "The simulated driver reads only from running tasks: start the task first.", t.name)
        if raw:
            wide = [c.name for c in t.chans if c.meas == "thermocouple" or c.attrs[AI_RAW_SAMP_SIZE] >
                    8 * np.dtype(dtype).itemsize]
            if wide:
                raise _error(DAQmxErrors.UNKNOWN, f"Unscaled {np.dtype(dtype).name} reads are not possible for "
                             f"channel(s) {', '.join(wide)} (raw sample size or thermocouple).", t.name)
        if t.sticky is not None:
            raise t.sticky
        if n == -1:
            n = max(0, self._acquired(t, time.monotonic()) - t.read_pos)
        if array.size < n * nch:
            raise _error(DAQmxErrors.READ_BUFFER_TOO_SMALL, f"Buffer is too small to fit read data.\n\n"
                         f"Buffer Length: {array.size}\nRequired Buffer Size in Samples: {n * nch}", t.name)
        rel, off = t.read_attrs[READ_RELATIVE_TO], t.read_attrs[READ_OFFSET]
        now = time.monotonic()
        with self._lock:
            total = self._acquired(t, now)
        base = {ReadRelativeTo.CURRENT_READ_POSITION.value: t.read_pos, ReadRelativeTo.FIRST_SAMPLE.value: 0,
                ReadRelativeTo.MOST_RECENT_SAMPLE.value: total}.get(rel)
        if base is None:
            raise DaqFunctionNotSupportedError(f"the simulated driver has no relative_to {rel}")
        pos = base + off
        if pos < 0:
            raise _error(DAQmxErrors.NEGATIVE_READ_SAMPLE_NUMBER, "Read position is negative: "
                         f"relative_to {ReadRelativeTo(rel).name} with offset {off}.", t.name)
        self._host_faults(t, pos, n)

        deadline = None if timeout == WAIT_INFINITELY else time.monotonic() + max(0.0, timeout) / self.speed
        code = None
        while True:
            now = time.monotonic()
            with self._lock:
                if t.state != "running":
                    raise _error(DAQmxErrors.INVALID_TASK, "The task was stopped or cleared during the read.",
                                 t.name)
                total = self._acquired(t, now)
                removed = self._removed(t, now)
                overwrite = t.read_attrs[READ_OVERWRITE] == OverwriteMode.OVERWRITE_UNREAD_SAMPLES.value
                if total - t.read_pos > t.buffer and not overwrite:
                    t.sticky = _error(DAQmxErrors.SAMPLES_NO_LONGER_AVAILABLE, (
                        "The application is not able to keep up with the hardware acquisition. Increasing the "
                        "buffer size, reading the data more frequently, or specifying a fixed number of samples "
                        "to read instead of reading all available samples might correct the problem."), t.name, 0)
                    raise t.sticky
                if pos < total - t.buffer:
                    raise _error(DAQmxErrors.SAMPLES_NO_LONGER_AVAILABLE, (
                        "Attempted to read samples that are no longer available. The requested sample was "
                        "previously available, but has since been overwritten. Increasing the buffer size or "
                        "reading the data more frequently might correct the problem.\n\n"
                        f"Property: DAQmx_Read_RelativeTo\nCorresponding Value: {ReadRelativeTo(rel).name}\n"
                        f"Property: DAQmx_Read_Offset\nCorresponding Value: {off}\n"
                        f"Sample Requested: {pos}\nTotal Samples Acquired: {total}\nBuffer Size: {t.buffer}"),
                        t.name, 0)
            if total >= pos + n:
                got = n
                break
            if removed:
                got, code = max(0, total - pos), DAQmxErrors.DEV_CANNOT_BE_ACCESSED
                break
            if deadline is not None and now >= deadline:
                got, code = max(0, total - pos), DAQmxErrors.SAMPLES_NOT_YET_AVAILABLE
                break
            wait = (pos + n - total) / self._clock(t) if t.t0 is not None else 0.02
            if deadline is not None:
                wait = min(wait, deadline - now)
            time.sleep(min(max(wait, 2e-4), 0.02))

        if got:
            self._fill(t, array, pos, n, got, fill_mode, raw)
        with self._lock:
            t.read_pos = pos + got
        if code == DAQmxErrors.DEV_CANNOT_BE_ACCESSED:
            err = self._gone(t)
            raise DaqReadError(str(err), code.value, got)
        if code is not None:
            raise _error(code, (
                "Some or all of the samples requested have not yet been acquired. To wait for the samples to "
                "become available use a longer read timeout or read later in your program.\n\n"
                f"Samples Requested: {n}\nSamples Read: {got}\nTimeout: {timeout} s"), t.name, got)
        return array, got

    def _host_faults(self, t: _Task, pos: int, n: int):
        """Faults of the host side of a read: a stall (overflow) or an exception."""
        for f, k in list(t.faults):
            if f.kind in ("overflow", "exception") and pos + n > k:
                with self._lock:
                    if (f, k) not in t.faults:
                        continue  # another thread took it
                    t.faults.remove((f, k))
                if f.kind == "exception":
                    raise f.exception
                time.sleep(f.duration_s / self.speed)

    def _fill(self, t, array, pos, n, got, fill_mode, raw):
        nch = len(t.chans)
        if fill_mode == FillMode.GROUP_BY_CHANNEL.value:
            # DAQmx lays channel c out at [c*n, c*n + got): n is the samples *requested*.
            view = array.reshape(-1)[: nch * n].reshape(nch, n)
            for j, c in enumerate(t.chans):
                view[j, :got] = c.values(self.gen, pos, got, raw)
        elif fill_mode == FillMode.GROUP_BY_SCAN_NUMBER.value:
            view = array.reshape(-1)[: nch * got].reshape(got, nch)
            for j, c in enumerate(t.chans):
                view[:, j] = c.values(self.gen, pos, got, raw)
        else:
            raise _error(DAQmxErrors.INVALID_ATTRIBUTE_VALUE, f"Invalid fill mode {fill_mode}.", t.name)
