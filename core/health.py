"""Sensor health: find failed channels so that no analysis uses them silently.

Each channel is checked on its raw samples, in the signal domain its
input sees (V, mA, mV/V), against three failure signatures:

- **rail**: the signal jumps (by more than 10 % of the input span within
  2 ms, faster than any physical quantity on a stand) to within 0.5 % of an
  end of the input range and stays there for at least ``min_s``: an open
  circuit. A channel already at its upper rail when recording starts is
  saturated. Reaching a rail smoothly (a valve at the end of its travel, a
  transducer over-ranged by the process) is only a warning, and a rail the
  channel rests at before the firing is not held against it.
- **out of calibrated range**: the signal is outside the range the
  calibration covers (a table's signal points, e.g. 4-20 mA) by more than
  2.5 % of that range (for a 4-20 mA loop this is the NAMUR NE 43 fault
  band: below 3.6 mA), or a load cell reads beyond its capacity.
- **flatline**: the raw value does not change at all for ``flat_s`` after
  having changed before (a stuck converter or a frozen driver). Imported
  recordings, which are often noise-free, are not checked for flatlines.

A channel that fails is ``failed`` from the first such sample on; analyses
ask :meth:`ChannelHealth.usable` for the time window they need.

Two more signatures are only warnings (the analyses mask or despike them):

- **single-sample spikes**: a sample that leaves both its neighbours, in the
  same direction, by more than ``SPIKE_K`` (10) robust standard deviations of
  the sample-to-sample change, while the neighbours agree with each other;
- **NaN samples** (an imported file's blank cells, a float stream's gaps).

Every finding is also a span in ``ChannelHealth.spans`` (kind, start and end
in seconds from T0, detail), which the report draws: ``open circuit``,
``dropout`` (an open circuit that recovers), ``saturated``, ``rail``
(warning), ``out of range``, ``flatline``, ``spike``, ``nan``, and
``zero shift`` (warning): a load cell whose zero after the firing differs
from its pre-fire tare. The thrust analysis finds the shift on the total
thrust (``ThrustResult.zero_shift_N`` over ``post_fire_span_s``) and, when
it corrects it, adds the span to each load cell that shifted
(:func:`zero_shift`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from hotfire.core.runfile.reader import indices
from hotfire.core.scaling import Calibration
from hotfire.ext import _signal

RAIL_BAND = 0.005  # fraction of the input span
STEP = 0.10  # a jump of this fraction of the span within STEP_S is not physical
STEP_S = 0.002


def _abrupt(col, a, k, raw_step, sig, sig_step) -> bool:
    """Whether the value jumped by more than a step within ``k`` samples before row ``a``."""
    lo = max(0, a - k)
    if sig is None:
        ref = np.median(col[max(0, lo - k):lo + 1].astype(float))
        return abs(float(col[a]) - ref) > raw_step
    ref = np.median(sig[max(0, lo - k):lo + 1])
    return abs(float(sig[a]) - ref) > sig_step
CAL_MARGIN = 0.025  # fraction of the calibrated span
SPIKE_K = 10.0  # robust standard deviations of the sample-to-sample change
MAX_SPANS = 200  # spans kept per kind and channel (the count is in the warning)


@dataclass
class ChannelHealth:
    """Health of one channel over the run; times are seconds from T0."""

    name: str
    role: str
    status: str = "ok"  # "ok" or "failed"
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_intervals: list[tuple[float, float]] = field(default_factory=list)
    spans: list[dict] = field(default_factory=list)  # {"kind", "start_s", "end_s", "detail"}: drawn in the report

    @property
    def failed_from_s(self) -> float | None:
        return min(a for a, _ in self.failed_intervals) if self.failed_intervals else None

    def usable(self, t_a: float | None = None, t_b: float | None = None) -> bool:
        """Whether the channel is healthy over the whole window ``[t_a, t_b]``."""
        lo = -np.inf if t_a is None else t_a
        hi = np.inf if t_b is None else t_b
        return not any(a <= hi and b >= lo for a, b in self.failed_intervals)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["failed_from_s"] = self.failed_from_s
        return d


def _runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """[start, stop) of runs of True at least ``min_len`` long."""
    if not mask.any():
        return []
    z = np.zeros(1, np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate((z, mask.view(np.int8), z))))  # rise, fall, rise, ...
    starts, stops = edges[0::2], edges[1::2]
    keep = stops - starts >= min_len
    return list(zip(starts[keep].tolist(), stops[keep].tolist()))


def _rest_rows(t: np.ndarray) -> np.ndarray:
    """Rows that show the channel at rest: before T0, else the first 5 % of the record."""
    pre = t < -0.05
    if pre.sum() >= 10:
        return pre
    n = max(1, len(t) // 20)
    out = np.zeros(len(t), bool)
    out[:n] = True
    return out


def check_block(run, stream: str, segs: np.ndarray, raw: np.ndarray, min_s: float = 0.02,
                flat_s: float = 0.2) -> list[ChannelHealth]:
    """Check every channel of one stream block (``Run.rows``: its segments and rows)."""
    st = run.streams[stream]
    rate = st.rate_hz
    min_len = max(3, int(round(min_s * rate)))
    step_len = max(1, int(round(STEP_S * rate)))
    flat_len = max(50, int(round(flat_s * rate)))
    imported = run.imported is not None
    suspects = _screen(run, st, raw, flat_len, imported)
    if suspects.any():  # a closer look: sample times, and the suspect columns in one strided pass
        which = np.nonzero(suspects)[0].tolist()
        if run.is_block(stream, raw):  # preloaded: shared with the analyses
            t = run.block_times(stream)
            cols = dict(zip(which, run.block_columns(stream, which)))
        else:
            t = run.times(stream, indices(segs))
            cols = dict(zip(which, _signal.take_columns(np.ascontiguousarray(raw), which)))
        rest = _rest_rows(t)
    out = []
    for j, name in enumerate(st.channels):
        info = run.channel_info(name)
        h = ChannelHealth(name, info.role)
        if len(raw) == 0 or not suspects[j]:
            out.append(h)
            continue
        col = cols[j]
        adc = np.asarray(info.adc.get("coefficients", [0.0, 1.0]), dtype=float)
        linear_adc = len(adc) == 2 and adc[1] != 0
        lo, hi = (float(info.range[0]), float(info.range[1])) if info.range else (-np.inf, np.inf)
        span = hi - lo

        def to_raw(sig):  # signal threshold -> raw threshold (linear ADC)
            return (sig - adc[0]) / adc[1]

        sig = None if linear_adc else np.polynomial.polynomial.polyval(col.astype(float), adc)
        bad = []  # (start row, stop row, reason)

        # 1. rails (open circuit, saturation)
        if np.isfinite(span) and span > 0:
            band = RAIL_BAND * span
            rest_vals = col[rest]
            for which, thr in (("lower", lo + band), ("upper", hi - band)):
                if linear_adc:
                    rthr = to_raw(thr)
                    below = (col <= rthr) if (which == "lower") == (adc[1] > 0) else (col >= rthr)
                else:
                    below = sig <= thr if which == "lower" else sig >= thr
                if not below.any():
                    continue
                rest_at_rail = float(np.mean(below[rest])) > 0.5 if len(rest_vals) else False
                if rest_at_rail and which == "lower":
                    continue  # rests at this rail: a rail reading is not a failure here
                for a, b in _runs(below, min_len):
                    if a == 0 and which == "upper":
                        bad.append((a, b, "at the upper rail of its input from the start (saturated)"))
                    elif a > 0 and _abrupt(col, a, step_len, STEP * span / abs(adc[1]) if linear_adc
                                           else None, sig, STEP * span):
                        bad.append((a, b, f"jumped to the {which} rail of its input (open circuit)"))
                    else:
                        h.warnings.append(f"at the {which} rail of its input from {float(t[a]):+.3f} s "
                                          f"to {float(t[b - 1]):+.3f} s (end of travel, or saturated?)")
                        h.spans.append(_span("rail", t, a, b, f"at the {which} rail (end of travel, or saturated?)"))

        # 2. outside the calibrated range
        cal = info.calibration or {}
        ctype = cal.get("type")
        if ctype == "table":
            s_lo, s_hi = float(min(cal["signal"])), float(max(cal["signal"]))
            m = CAL_MARGIN * (s_hi - s_lo)
            if linear_adc:
                r1, r2 = sorted((to_raw(s_lo - m), to_raw(s_hi + m)))
                outside = (col < r1) | (col > r2)
            else:
                outside = (sig < s_lo - m) | (sig > s_hi + m)
            for a, b in _runs(outside, min_len):
                bad.append((a, b, f"signal outside its calibrated range {s_lo:g}-{s_hi:g} {info.signal_units}"))
        elif ctype == "bridge":
            cap = float(cal["capacity"])
            eu = Calibration(cal).to_eu(np.polynomial.polynomial.polyval(col.astype(float), adc))
            for a, b in _runs(np.abs(eu) > cap, min_len):
                bad.append((a, b, f"beyond the load cell's capacity ({cap:g} {info.units})"))

        # 3. flatline (after having been alive)
        if not imported and len(col) >= 2 * flat_len:
            same = np.concatenate(([False], col[1:] == col[:-1]))
            for a, b in _runs(same, flat_len):
                if a > 1:  # changed before
                    bad.append((a - 1, b, "flatline: the raw value stopped changing"))

        if bad:
            h.status = "failed"
            for a, b, why in sorted(bad):
                ta, tb = float(t[a]), float(t[min(b, len(t)) - 1])
                h.failed_intervals.append((ta, tb))
                kind = ("saturated" if "saturated" in why else ("dropout" if b < len(t) else "open circuit")
                        if "open circuit" in why else "flatline" if "flatline" in why else "out of range")
                h.spans.append(_span(kind, t, a, b, why))
                msg = f"{why} from {ta:+.3f} s to {tb:+.3f} s"
                if msg not in h.problems:
                    h.problems.append(msg)
            h.failed_intervals = _merge(h.failed_intervals)
        out.append(h)
    _glitches(run, stream, segs, raw, out)
    return out


def _span(kind, t, a, b, detail) -> dict:
    return {"kind": kind, "start_s": float(t[a]), "end_s": float(t[min(b, len(t)) - 1]), "detail": detail}


def _glitches(run, stream, segs, raw, out) -> None:
    """Single-sample spikes and NaN samples of every channel of a block, as warnings and spans."""
    if len(raw) < 5:
        return
    t = None
    for j, h in enumerate(out):
        info = run.channel_info(h.name)
        if info.kind == "thermocouple":
            continue
        x = np.asarray(raw[:, j], dtype=float)
        nan = np.isnan(x)
        if t is None:
            t = run.block_times(stream) if run.is_block(stream, raw) else run.times(stream, indices(segs))
        if nan.any():
            runs = _runs(nan, 1)
            h.warnings.append(f"{int(nan.sum())} NaN samples in {len(runs)} runs (masked)")
            h.spans += [_span("nan", t, a, b, "NaN samples (masked)") for a, b in runs[:MAX_SPANS]]
            x = np.where(nan, np.interp(np.arange(len(x)), np.flatnonzero(~nan), x[~nan]), x) if (~nan).sum() > 1 else x
        d = np.diff(x)
        lsb = float(np.min(np.abs(d[d != 0]))) if (d != 0).any() else 0.0
        if lsb <= 0:
            continue
        thr = SPIKE_K * np.maximum(_local_sd(d), lsb)[1:]  # per sample: the noise changes over a firing
        d1, d2 = x[1:-1] - x[:-2], x[1:-1] - x[2:]
        across = np.abs(x[2:] - x[:-2])
        m = np.minimum(np.abs(d1), np.abs(d2))
        spike = (d1 * d2 > 0) & (m > thr) & (across < 0.5 * m)
        idx = np.flatnonzero(spike) + 1
        if len(idx):
            h.warnings.append(f"{len(idx)} single-sample spikes (larger than {SPIKE_K:g} standard deviations of "
                              "the sample-to-sample change; the analyses despike)")
            h.spans += [_span("spike", t, i, i + 1, "single-sample spike") for i in idx[:MAX_SPANS]]


def _local_sd(d, block: int = 512):
    """Robust standard deviation of one sample (from its sample-to-sample changes ``d``) per block of
    ``block`` changes, the largest of each block and its neighbours (a transient's edge is not a spike)."""
    n = len(d) // block
    if n < 3:
        return np.full(len(d), 1.4826 * float(np.median(np.abs(d))) / np.sqrt(2))
    b = d[:n * block].reshape(n, block)
    sd = 1.4826 * np.median(np.abs(b), axis=1) / np.sqrt(2)
    sd = np.maximum(sd, np.maximum(np.roll(sd, 1), np.roll(sd, -1)))
    out = np.repeat(sd, block)
    return np.concatenate((out, np.full(len(d) - len(out), sd[-1])))


def _screen(run, st, raw, flat_len, imported) -> np.ndarray:
    """Which columns need a closer look: a few vectorised passes over the whole block.

    A column passes when its extremes stay clear of the rails, of its
    calibrated range and of its load cell's capacity, and when no aligned
    window of half the flatline length is constant (any flatline of the full
    length contains one).
    """
    n, k = raw.shape
    if n == 0:
        return np.zeros(k, bool)
    wmin, wmax, w = _window_extremes(raw, max(2, flat_len // 2))
    tail = raw[len(wmin) * w:]
    if not len(wmin):
        lo_v, hi_v = raw.min(axis=0), raw.max(axis=0)
    elif len(tail):
        lo_v, hi_v = np.minimum(wmin.min(axis=0), tail.min(axis=0)), np.maximum(wmax.max(axis=0), tail.max(axis=0))
    else:
        lo_v, hi_v = wmin.min(axis=0), wmax.max(axis=0)
    lo_v, hi_v = lo_v.astype(float), hi_v.astype(float)
    need = np.zeros(k, bool)
    for j, name in enumerate(st.channels):
        info = run.channel_info(name)
        adc = np.asarray(info.adc.get("coefficients", [0.0, 1.0]), dtype=float)
        if len(adc) != 2 or adc[1] == 0 or not info.range:
            need[j] = True
            continue
        sig = np.sort(adc[0] + adc[1] * np.array([lo_v[j], hi_v[j]]))
        lo, hi = float(info.range[0]), float(info.range[1])
        band = RAIL_BAND * (hi - lo)
        if sig[0] <= lo + band or sig[1] >= hi - band:
            need[j] = True
            continue
        cal = info.calibration or {}
        if cal.get("type") == "table":
            s_lo, s_hi = float(min(cal["signal"])), float(max(cal["signal"]))
            m = CAL_MARGIN * (s_hi - s_lo)
            need[j] = sig[0] < s_lo - m or sig[1] > s_hi + m
        elif cal.get("type") == "bridge":
            eu = Calibration(cal).to_eu(sig)
            need[j] = bool(np.max(np.abs(eu)) > float(cal["capacity"]))
    if not imported and len(wmin):
        need |= (wmax == wmin).any(axis=0)
    return need


def _window_extremes(raw, w):
    """Per-column min and max over consecutive windows of ``w`` rows: (mins, maxs, w).

    One pass over the block (``hotfire.ext._signal``), the GIL released.
    """
    return (*_signal.window_extremes(np.ascontiguousarray(raw), max(1, int(w))), max(1, int(w)))


def _merge(iv):
    iv = sorted(iv)
    out = [list(iv[0])]
    for a, b in iv[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(x) for x in out]


def check_run(run, streams=None) -> dict[str, ChannelHealth]:
    """Health of every channel of a run, by channel name.

    Parameters
    ----------
    run : Run
    streams : list of str, optional
        Only these streams (default: all).
    """
    out = {}
    for s in (list(run.streams) if streams is None else streams):
        segs, raw = run.rows(s)
        for h in check_block(run, s, segs, raw):
            out[h.name] = h
    return out


def zero_shift(h: ChannelHealth, t, v, tare_span, post_span, min_shift: float, units: str = "") -> dict | None:
    """Add a ``zero shift`` span (a warning) to ``h`` when the channel's mean over ``post_span`` differs from
    its mean over ``tare_span`` by more than ``min_shift`` and 4 standard errors of that difference.

    Parameters
    ----------
    h : ChannelHealth
    t, v : ndarray
        The channel's times (seconds from T0) and values (NaN skipped).
    tare_span, post_span : (float, float)
        The pre-fire tare and the settled post-fire span.
    min_shift : float
        The least shift that counts, in ``v``'s units.

    Returns
    -------
    dict or None
        The span added.
    """
    def stats(span):  # mean and its variance, despiked (a 3-sample running median: spikes are no zero)
        sel = (t >= span[0]) & (t <= span[1]) & np.isfinite(v)
        n = int(sel.sum())
        if n < 3:
            return None, None
        x = median_filter(v[sel], 3, mode="nearest")
        return float(np.mean(x)), float(np.var(x)) / n

    if any(sp["kind"] == "zero shift" for sp in h.spans):  # found already (the same health, analysed again)
        return None
    (m0, s0), (m1, s1) = stats(tare_span), stats(post_span)
    if m0 is None or m1 is None:
        return None
    shift = m1 - m0
    if abs(shift) <= max(min_shift, 4.0 * float(np.sqrt(s0 + s1))):
        return None
    unit = f" {units}" if units else ""
    detail = (f"post-fire zero {shift:+.4g}{unit} against the pre-fire tare "
              f"({tare_span[0]:+.2f} to {tare_span[1]:+.2f} s)")
    sp = {"kind": "zero shift", "start_s": float(post_span[0]), "end_s": float(post_span[1]), "detail": detail}
    h.spans.append(sp)
    h.warnings.append(f"{detail}, from {post_span[0]:+.3f} s to {post_span[1]:+.3f} s")
    return sp
