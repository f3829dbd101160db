"""Raw samples to engineering units, and back.

Every channel converts in two stored steps, so a run can be re-calibrated
later without touching the raw data:

``adc``          raw value (int16 counts, or float signal) -> signal
                 (V, mA, mV/V, degC), a polynomial as NI's device scaling
                 coefficients are;
``calibration``  signal -> engineering units (linear, polynomial, table,
                 bridge, none).

Both are plain dicts in the rig file and the run file; the classes here
evaluate them, vectorised, in both directions (the simulator needs the
inverse to produce what a sensor would output).
"""
from __future__ import annotations

import numpy as np

#: calibration type -> (required keys, optional keys)
CALIBRATION_KEYS = {
    "none": (set(), set()),
    "linear": ({"slope"}, {"offset"}),
    "polynomial": ({"coefficients"}, set()),
    "table": ({"signal", "value"}, set()),
    "bridge": ({"capacity", "rated_output_mV_V"}, {"zero_mV_V", "shunt_value"}),
}


class Calibration:
    """Signal -> engineering units, from a calibration dict.

    Parameters
    ----------
    spec : dict
        ``{"type": "linear", "slope": 2.5, "offset": 0.0}`` and so on; see
        ``CALIBRATION_KEYS``. Callers validate the keys first (the rig loader
        does, with file and line).
    """

    def __init__(self, spec: dict):
        self.spec = dict(spec)
        self.type = spec.get("type", "none")
        if self.type not in CALIBRATION_KEYS:
            raise ValueError(f"unknown calibration type {self.type!r}")
        s = self.spec
        if self.type == "none":
            self._poly = np.array([0.0, 1.0])
        elif self.type == "linear":
            self._poly = np.array([float(s.get("offset", 0.0)), float(s["slope"])])
        elif self.type == "bridge":
            per = float(s["capacity"]) / float(s["rated_output_mV_V"])
            self._poly = np.array([-float(s.get("zero_mV_V", 0.0)) * per, per])
        elif self.type == "polynomial":
            self._poly = np.asarray(s["coefficients"], dtype=float)
        else:
            self._poly = None
            self._sig = np.asarray(s["signal"], dtype=float)
            self._val = np.asarray(s["value"], dtype=float)

    @property
    def is_linear(self) -> bool:
        return self._poly is not None and len(self._poly) <= 2

    def to_eu(self, signal):
        """Engineering units from signal values (array or scalar)."""
        x = np.asarray(signal, dtype=float)
        if self._poly is None:
            return np.interp(x, self._sig, self._val)
        return np.polynomial.polynomial.polyval(x, self._poly)

    def to_signal(self, value, signal_range=(-1e3, 1e3)):
        """Signal that reads as ``value`` (the inverse, for simulation)."""
        y = np.asarray(value, dtype=float)
        if self._poly is None:
            order = np.argsort(self._val)
            return np.interp(y, self._val[order], self._sig[order])
        if len(self._poly) == 1:
            raise ValueError("a constant calibration cannot be inverted")
        if len(self._poly) == 2:
            return (y - self._poly[0]) / self._poly[1]
        grid = np.linspace(signal_range[0], signal_range[1], 20001)
        vals = self.to_eu(grid)
        order = np.argsort(vals)
        return np.interp(y, vals[order], grid[order])


#: ADC resolution behind each integer stream dtype (24-bit converters deliver int32)
ADC_BITS = {"int16": 16, "int32": 24}


def adc_for(dtype: str, signal_range: tuple[float, float]) -> dict:
    """Default ADC scaling for a channel: counts of the stream's converter spanning its range.

    Float streams carry the signal itself (the driver has scaled it). On
    hardware the device's own scaling coefficients replace this default.
    """
    bits = ADC_BITS.get(dtype)
    if bits:
        lo, hi = signal_range
        step = (hi - lo) / (2.0**bits - 1)
        return {"coefficients": [lo + 2.0 ** (bits - 1) * step, step]}
    return {"coefficients": [0.0, 1.0]}


class Scaling:
    """Raw -> engineering units for one channel: ``calibration(adc(raw))``."""

    def __init__(self, adc: dict, calibration: dict):
        self.adc = np.asarray(adc["coefficients"], dtype=float)
        self.calibration = Calibration(calibration)

    def to_signal(self, raw):
        return np.polynomial.polynomial.polyval(np.asarray(raw, dtype=float), self.adc)

    def affine(self) -> tuple[float, float] | None:
        """``(slope, offset)`` with ``eu = raw * slope + offset`` when both steps are linear, else None."""
        if not (self.calibration.is_linear and len(self.adc) == 2):
            return None
        c = self.calibration._poly
        c1 = c[1] if len(c) > 1 else 0.0
        return float(self.adc[1] * c1), float(c[0] + c1 * self.adc[0])

    def to_eu(self, raw):
        """Engineering units from raw samples (any shape)."""
        raw = np.asarray(raw)
        aff = self.affine()
        if aff is not None:  # both linear steps folded into one multiply-add: the hot path
            out = np.multiply(raw, aff[0], dtype=np.float64)
            out += aff[1]
            return out
        return self.calibration.to_eu(self.to_signal(raw))
