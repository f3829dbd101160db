"""One ``[channels.NAME]`` table of a rig file, validated into a :class:`~hotfire.core.channel.Channel`."""
from __future__ import annotations

import datetime as _dt
import math

from hotfire.core.channel import KINDS, Channel, Limits, rig_fields
from hotfire.core.rigtable import _Table
from hotfire.core.scaling import CALIBRATION_KEYS, adc_for

#: The shared vocabulary that lets analyses and comparisons work across rigs
#: whose channel names differ.
ROLES = {
    "thrust": "N",
    "chamber_pressure": "bar",
    "chamber_pressure_dynamic": "bar",
    "ox_mass_flow": "kg/s",
    "fuel_mass_flow": "kg/s",
    "ox_tank_mass": "kg",
    "fuel_tank_mass": "kg",
    "ox_tank_pressure": "bar",
    "fuel_tank_pressure": "bar",
    "ox_injector_pressure": "bar",
    "fuel_injector_pressure": "bar",
    "ox_temperature": "degC",
    "fuel_temperature": "degC",
    "chamber_wall_temperature": "degC",
    "ambient_temperature": "degC",
    "ox_valve_position": "V",
    "fuel_valve_position": "V",
    "other": "",
}

DTYPES = ("int16", "int32", "float32", "float64")
TERMINALS = ("default", "diff", "rse", "nrse", "pseudodiff")
TC_TYPES = ("B", "E", "J", "K", "N", "R", "S", "T")


def _channel(c: _Table, cname, streams, columns, physicals) -> Channel:
    stream = c.str("stream")
    if stream not in streams:
        c.fail("stream", f"no stream {stream!r} in [streams] (have: {', '.join(streams)})")
    physical = c.str("physical")
    if physical in physicals:
        c.fail("physical", f"{physical!r} is already used by channel {physicals[physical]!r}")
    physicals[physical] = cname
    kind = c.str("kind", choices=tuple(KINDS))
    rng = c.raw("range", required=True)
    if (
        not isinstance(rng, list)
        or len(rng) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in rng)
        or not rng[0] < rng[1]
    ):
        c.fail("range", f"expected [low, high], finite, with low < high ({KINDS[kind]}), got {rng!r}")
    role = c.str("role", choices=tuple(ROLES))
    units = c.str("units")

    cal_t = c.table("calibration", required=kind != "thermocouple")
    if cal_t is None:
        calibration = {"type": "none"}
    else:
        ctype = cal_t.str("type", choices=tuple(CALIBRATION_KEYS))
        required, optional = CALIBRATION_KEYS[ctype]
        for key in sorted(required):
            cal_t.raw(key, required=True)
        for key in optional:
            cal_t.raw(key)
        cal_t.check_unknown(required | optional | {"type"})
        calibration = dict(cal_t.data)
        _check_calibration(cal_t, ctype, calibration)
        if ctype == "bridge" and kind != "bridge":
            c.fail("calibration", f"a bridge calibration needs kind = \"bridge\", got {kind!r}")

    terminal = c.str("terminal", required=False, default="default", choices=TERMINALS)
    excitation = c.num("excitation_V", required=kind == "bridge", positive=True) if kind == "bridge" else None
    tc_type = cjc = None
    if kind == "thermocouple":
        tc_type = c.str("thermocouple_type", choices=TC_TYPES)
        cjc = c.str("cjc", required=False, default="builtin", choices=("builtin", "constant"))
    redline = _limits(c, "redline")
    warning = _limits(c, "warning")
    _check_limit_order(c, redline, warning)
    cal_date, cal_due = (c.raw(k, default="") for k in ("cal_date", "cal_due"))
    for k, v in (("cal_date", cal_date), ("cal_due", cal_due)):
        if not isinstance(v, (str, _dt.date)):
            c.fail(k, f"expected a date (2026-03-14), got {v!r}")
    unc_t = c.table("uncertainty", required=False)
    uncertainty = {}
    if unc_t is not None:
        for key in ("reading_percent", "fs_percent", "absolute"):
            v = unc_t.num(key, required=False, minimum=0.0)
            if v is not None:
                uncertainty[key] = v
        unc_t.check_unknown()
    column = columns[stream]
    columns[stream] += 1
    return Channel(
        name=cname,
        stream=stream,
        column=column,
        physical=physical,
        kind=kind,
        range=(float(rng[0]), float(rng[1])),
        units=units,
        role=role,
        calibration=calibration,
        adc=adc_for(streams[stream].dtype, (float(rng[0]), float(rng[1]))),
        terminal=terminal,
        excitation_V=excitation,
        thermocouple_type=tc_type,
        cjc=cjc,
        serial=c.str("serial", required=False),
        cal_date=str(cal_date),
        cal_due=str(cal_due),
        redline=redline,
        warning=warning,
        uncertainty=uncertainty,
        **_plain_fields(c),
    )


def _plain_fields(c: _Table) -> dict:
    """The channel fields declared ``rig=True`` (:mod:`hotfire.core.channel`): optional plain keys."""
    out = {}
    for f in rig_fields():
        if f.name in c.data:
            out[f.name] = c.num(f.name) if f.metadata["rig"] == "number" else c.str(f.name)
    return out


def _number_list(t: _Table, key: str, min_len: int) -> list[float]:
    v = t.data.get(key)
    if (
        not isinstance(v, list)
        or len(v) < min_len
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)
    ):
        t.fail(key, f"expected a list of at least {min_len} finite numbers, got {v!r}")
    return [float(x) for x in v]


def _check_calibration(t: _Table, ctype: str, cal: dict):
    if ctype == "linear":
        t.num("slope")
        t.num("offset", required=False)
        if cal["slope"] == 0:
            t.fail("slope", "a zero slope maps every signal to one value")
    elif ctype == "polynomial":
        _number_list(t, "coefficients", 2)
    elif ctype == "table":
        sig = _number_list(t, "signal", 2)
        val = _number_list(t, "value", 2)
        if len(sig) != len(val):
            t.fail("value", f"expected {len(sig)} values, one per signal point, got {len(val)}")
        if any(b <= a for a, b in zip(sig, sig[1:])):
            t.fail("signal", "signal points must increase strictly")
    elif ctype == "bridge":
        t.num("capacity", positive=True)
        t.num("rated_output_mV_V", positive=True)
        t.num("zero_mV_V", required=False)
        t.num("shunt_value", required=False)


def _limits(c: _Table, key: str) -> Limits | None:
    t = c.table(key, required=False)
    if t is None:
        return None
    lo = t.num("min", required=False)
    hi = t.num("max", required=False)
    t.check_unknown(("min", "max"))
    if lo is None and hi is None:
        c.fail(key, "expected min and/or max")
    if lo is not None and hi is not None and lo >= hi:
        t.fail("max", f"expected max > min, got min={lo}, max={hi}")
    return Limits(lo, hi)


def _check_limit_order(c: _Table, redline: Limits | None, warning: Limits | None) -> None:
    """A warning must come before its redline: inside it on each side both give."""
    if redline is None or warning is None:
        return
    if redline.max is not None and warning.max is not None and not warning.max < redline.max:
        c.table("warning").fail("max", f"expected a warning below the redline max ({redline.max:g}), "
                                       f"got {warning.max:g}")
    if redline.min is not None and warning.min is not None and not warning.min > redline.min:
        c.table("warning").fail("min", f"expected a warning above the redline min ({redline.min:g}), "
                                       f"got {warning.min:g}")
