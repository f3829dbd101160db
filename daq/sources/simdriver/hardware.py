"""The simulated hardware: faults, task handles, virtual channels (a sensor on
a module's input: range, ADC, device scaling) and tasks (timing, buffer,
trigger and read state)."""
from __future__ import annotations

import ctypes
import math
import zlib
from dataclasses import dataclass

import numpy as np
from nidaqmx.constants import (
    BridgeUnits,
    CJCSource,
    OverwriteMode,
    ReadRelativeTo,
    TemperatureUnits,
    TriggerType,
)
from nidaqmx.errors import DaqError

from hotfire.daq.sources.sim import SignalGenerator
from hotfire.daq.sources.simdriver.ids import (
    AI_BRIDGE_UNITS,
    AI_CJC_SRC,
    AI_CJC_VAL,
    AI_EXCIT_VAL,
    AI_SHUNT_OHM,
    AI_TEMP_UNITS,
    READ_OFFSET,
    READ_OVERWRITE,
    READ_RELATIVE_TO,
    SAMP_PER_CHAN,
    START_TRIG_TYPE,
    TERMINAL_DEGC,
)


@dataclass


class Fault:
    """A fault to inject (see :meth:`SimulatedDriver.inject`)."""

    kind: str
    device: str
    at_s: float
    duration_s: float = 0.0
    exception: BaseException | None = None

    def sample(self, rate: float) -> int:
        """The first sample (of a clock at ``rate``) at or after the fault time."""
        return max(0, math.ceil(self.at_s * rate - 1e-9))

    def hits(self, device: str) -> bool:
        # A chassis fault (cDAQ1) hits its modules (cDAQ1Mod3) too.
        return device == self.device or device.startswith(self.device + "Mod")


class _Handle:
    """An opaque task handle (what DAQmxCreateTask returns)."""

    __slots__ = ("id",)

    def __init__(self, id_: int):
        self.id = id_

    def __repr__(self):
        return f"<simulated task handle {self.id}>"


class _Chan:
    """One virtual channel of a simulated task."""

    def __init__(self, name, physical, meas, rig_ch, bits, attrs):
        self.name, self.physical, self.meas, self.rig_ch, self.bits = name, physical, meas, rig_ch, bits
        self.attrs = attrs
        self.offset = 0  # generator index of task sample 0 (set at start)

    @property
    def device(self) -> str:
        return self.physical.split("/")[0]

    def full_scale_volts(self, rng: float) -> float:
        if self.meas == "current":
            return rng * self.attrs[AI_SHUNT_OHM]
        if self.meas == "bridge":
            return rng / 1000.0 * self.attrs[AI_EXCIT_VAL]
        return rng

    def coefficients(self) -> list[float]:
        """Device scaling, counts -> volts at the ADC: [c0, c1, c2, c3] as NI reports them."""
        fs = self.full_scale_volts(self.attrs["_range"])
        h = zlib.crc32(self.physical.encode())
        gain_err = ((h % 2001) - 1000) * 5e-7  # within +-5e-4
        offset_err = (((h >> 11) % 2001) - 1000) * 1e-7  # within +-1e-4 of full scale
        return [offset_err * fs, fs / 2 ** (self.bits - 1) * (1 + gain_err), 0.0, 0.0]

    def to_volts(self, sig):
        """Sensor signal (rig units: V, mA, mV/V) -> volts at the ADC."""
        if self.meas == "current":
            return sig / 1000.0 * self.attrs[AI_SHUNT_OHM]
        if self.meas == "bridge":
            return sig / 1000.0 * self.attrs[AI_EXCIT_VAL]
        return sig

    def from_volts(self, v):
        """Volts at the ADC -> the channel's configured units."""
        if self.meas == "current":
            return v / self.attrs[AI_SHUNT_OHM]
        if self.meas == "bridge":
            vpv = v / self.attrs[AI_EXCIT_VAL]
            return vpv * 1000.0 if self.attrs[AI_BRIDGE_UNITS] == BridgeUnits.MILLIVOLTS_PER_VOLT.value else vpv
        return v

    def values(self, gen: SignalGenerator, first: int, n: int, raw: bool) -> np.ndarray:
        """What the device delivers for task samples [first, first+n): counts or scaled values."""
        sig = gen.signal(self.rig_ch, first + self.offset, n)
        if self.meas == "thermocouple":
            degc = np.rint(sig / 1e-4) * 1e-4  # a 24-bit converter on a thermocouple: ~0.1 mdegC
            if self.attrs[AI_CJC_SRC] == CJCSource.CONSTANT_USER_VALUE.value:
                degc = degc + (self.attrs[AI_CJC_VAL] - TERMINAL_DEGC)  # wrong CJC -> offset
            units = self.attrs[AI_TEMP_UNITS]
            if units == TemperatureUnits.K.value:
                return degc + 273.15
            if units == TemperatureUnits.DEG_F.value:
                return degc * 1.8 + 32.0
            if units == TemperatureUnits.DEG_R.value:
                return (degc + 273.15) * 1.8
            return degc
        c0, c1 = self.coefficients()[:2]
        top = 2 ** (self.bits - 1)
        counts = np.clip(np.rint((self.to_volts(sig) - c0) / c1), -top, top - 1)
        if raw:
            return counts
        return self.from_volts(c0 + c1 * counts)


class _Task:
    def __init__(self, handle: _Handle, name: str):
        self.handle, self.name = handle, name
        self.chans: list[_Chan] = []
        self.state = "unverified"  # unverified | committed | running
        self.rate = None  # actual (coerced) sample clock rate
        self.timing = {}
        self.buf_size = None  # explicit input buffer size
        self.trig = {START_TRIG_TYPE: TriggerType.NONE.value}
        self.read_attrs = {READ_RELATIVE_TO: ReadRelativeTo.CURRENT_READ_POSITION.value, READ_OFFSET: 0,
                           READ_OVERWRITE: OverwriteMode.DO_NOT_OVERWRITE_UNREAD_SAMPLES.value}
        self.reset_run()

    def reset_run(self):
        self.t0 = None  # wall time of sample 0 (None: not started, or waiting for a trigger)
        self.armed_at = None
        self.read_pos = 0
        self.faults: list[tuple[Fault, int]] = []  # (fault, sample index on this clock)
        self.removed_at = None  # sample index at which the device went away
        self.sticky: DaqError | None = None

    @property
    def buffer(self) -> int:
        if self.buf_size is not None:
            return self.buf_size
        # DAQmx's default for continuous input: by rate, or samps_per_chan if larger.
        rate = self.rate or 0
        default = 1000 if rate <= 100 else 10_000 if rate <= 10_000 else 100_000 if rate <= 1e6 else 1_000_000
        return max(default, int(self.timing.get(SAMP_PER_CHAN, 0)))

    @property
    def devices(self) -> list[str]:
        return sorted({c.device for c in self.chans})


def _check_array(array, dtype, argument: int = 5):
    """Check a read array as the C library's ctypes signature does."""
    try:
        np.ctypeslib.ndpointer(dtype=dtype, flags=("C", "W")).from_param(array)
    except TypeError as exc:
        raise ctypes.ArgumentError(f"argument {argument}: TypeError: {exc}") from None
