"""Calculated channels: quantities made from measured ones, the same code live and afterwards.

- **total thrust**: the sum of the load cells (role ``thrust``). Where a
  cell is not valid (its health marks a failed span, or its samples are
  NaN), its reading is estimated from the others: a straight line fitted to
  that cell against the sum of the other cells over the samples where all
  are valid (the intercept takes the preload difference, the slope the load
  share). Such spans are flagged *estimated*, and the fit's residual (RMS)
  is the extra standard uncertainty there. Where no cell is valid the total
  is NaN: it covers only the valid span, and that span is flagged *missing*.
  Block by block (live, and :func:`evaluate_run` afterwards), a cell is not
  valid where it is NaN or reads beyond its capacity (a saturated bridge),
  and the line is fitted on every earlier sample where all cells were valid
  (:class:`RunningLoadSum`), so a value never depends on later samples and
  live and recorded totals agree; the analysis fits on the whole run and also
  masks the cells' failed spans (:func:`load_cell_total`).
- **injector pressure drop**: feed (manifold) pressure minus chamber pressure.
- **O/F**: oxidiser over fuel mass flow; NaN where either flow is below
  ``MIN_FLOW_FRACTION`` of its meter's full scale (before ignition and after
  shutdown the ratio of two near-zero flows is noise).

The array functions (:func:`sum_load_cells`, :func:`injector_dp`,
:func:`mixture_ratio`) work on blocks as acquisition sees them; the
``run`` functions read a run file's channels and health.

A rig declares its calculated channels (``[calculated.NAME]`` tables,
:class:`CalcChannel`); an :class:`Evaluator` computes them block by block,
live in acquisition (:mod:`hotfire.daq.calclive`: limits and the live
stream) and on a whole run file afterwards (:func:`evaluate_run`), with the
same arithmetic in the same order, so both give the same values.

**Timing.** A calculated channel is evaluated at every sample of its
*time base*, the fastest of its input streams (the first input's on a tie).
An input on a slower stream is *held*: base sample ``i`` takes that
stream's sample ``j = floor(i * r_slow / r_base)``, the latest one taken at
or before it (every stream's sample 0 is the acquisition's start). So the
value exists once every input has delivered the samples it holds, and a
slower input only delays it, never shifts it.

**Tare.** A ``total_thrust`` is the sum of its load cells less their
reading at rest: the mean of the sum over the first ``tare_s`` seconds of
the time base seen (live: the acquisition's first seconds, before any
firing; afterwards: the run file's, the same samples unless recording was
armed by a trigger). It is NaN until the tare is known, so no limit is ever
checked on an untared total. (The analysis tares again, on the window
before T0: :func:`hotfire.analysis.thrust.total_thrust`.)

**Limits.** A calculated channel may carry a redline and a warning, checked
live by :mod:`hotfire.daq.limits`; ``check_while`` restricts them to where
one of its inputs is above a value (a low injector pressure drop matters in
mainstage, not before ignition).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from hotfire.core import units as U
from hotfire.core.channel import Channel, Limits
from hotfire.core.loadsum import Fit, LoadSum, RunningLoadSum, fit_cell, sum_load_cells  # noqa: F401 (re-exported)

#: samples either side of a failed span also taken as invalid (the edge of a saturation is not clean)
EDGE_SAMPLES = 3
#: an O/F is computed only where both flows are above this fraction of their meters' full scale
MIN_FLOW_FRACTION = 0.02
#: a running fit estimates a cell only once the others' sum has spread over this fraction of the
#: total's full scale (before the firing every cell reads ~0: no load share to fit)
MIN_FIT_SPREAD = 0.02


def injector_dp(feed, chamber):
    """Injector pressure drop: feed (manifold) minus chamber pressure, same units as both."""
    return np.asarray(feed, dtype=float) - np.asarray(chamber, dtype=float)


def mixture_ratio(ox, fuel, min_ox: float = 0.0, min_fuel: float = 0.0):
    """O/F from the two mass flows; NaN where the fuel flow is not positive or either flow is not
    above its minimum (``min_ox``, ``min_fuel``: same units as the flows)."""
    ox, fuel = np.asarray(ox, dtype=float), np.asarray(fuel, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((fuel > max(min_fuel, 0.0)) & (ox > min_ox), ox / fuel, np.nan)


# ---------------------------------------------------------------------------
# on a run file


def valid_mask(t: np.ndarray, health=None, name: str = "") -> np.ndarray:
    """Rows of a channel outside its failed spans (``health``: ChannelHealth or a dict of them)."""
    h = health.get(name) if isinstance(health, dict) else health
    ok = np.ones(len(t), bool)
    if h is None:
        return ok
    for a, b in h.failed_intervals:
        i, j = np.searchsorted(t, [a, b], "left")[0], np.searchsorted(t, b, "right")
        ok[max(0, i - EDGE_SAMPLES):min(len(t), j + EDGE_SAMPLES)] = False
    return ok


def spans(t: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """(first, last) sample time of each run of True in ``mask``."""
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return [(float(t[a]), float(t[b - 1])) for a, b in zip(edges[0::2], edges[1::2])]


@dataclass
class TotalThrust:
    """The total-thrust calculated channel of a run (untared), SI (N)."""

    t: np.ndarray
    values: np.ndarray  # N; NaN where missing
    rate_hz: float
    channels: list[str]  # the load cells summed
    estimated: list[tuple[float, float, str]]  # (from, to, which cell was estimated from the others)
    missing: list[tuple[float, float]]
    u_extra_N: float  # largest extra standard uncertainty over the estimated spans
    fits: dict = field(default_factory=dict)  # cell name -> Fit (N)
    sum_: LoadSum | None = None

    @property
    def degraded(self) -> bool:
        return bool(self.estimated or self.missing)

    def notes(self) -> list[str]:
        out = []
        for a, b, why in self.estimated:
            out.append(f"total thrust from {a:+.3f} s to {b:+.3f} s: {why}")
        for a, b in self.missing:
            out.append(f"total thrust missing from {a:+.3f} s to {b:+.3f} s: no valid load cell")
        return out


def total_thrust(run, health=None) -> TotalThrust:
    """Sum of a run's load cells (role ``thrust``), N, each failed span estimated from the other cells.

    Raises
    ------
    LookupError
        The run has no channel with role ``thrust``.
    """
    return load_cell_total(run.role("thrust"), health)


def load_cell_total(chans, health=None) -> TotalThrust:
    """Sum of load cells (signals, any force units), N, each failed span estimated from the other cells.

    Raises
    ------
    LookupError
        ``chans`` is empty.
    """
    if not chans:
        raise LookupError("no channel with role 'thrust'")
    t = chans[0].t
    cells, valid = [], []
    for sig in chans:
        f = sig.si()
        cells.append(f if sig.t is t or np.array_equal(sig.t, t) else np.interp(t, sig.t, f))
        valid.append(valid_mask(t, health, sig.name))
    names = [c.name for c in chans]
    if len(cells) == 1:
        ok = valid[0] & np.isfinite(cells[0])
        ls = LoadSum(np.where(ok, cells[0], np.nan), np.zeros(len(t), bool), ~ok, np.zeros(len(t)))
    else:
        ls = sum_load_cells(cells, valid)
    est = []
    for i, v in enumerate(valid):
        if i in ls.fits:
            f = ls.fits[i]
            for a, b in spans(t, ~v & ~ls.missing):
                est.append((a, b, f"{names[i]} not valid, estimated from "
                                  f"{' + '.join(n for j, n in enumerate(names) if j != i)} "
                                  f"(share {f.b:.3f}, residual {f.rms:.3g} N RMS, fitted on {f.n} samples)"))
    est.sort()
    u = float(np.max(ls.u_extra[ls.estimated])) if ls.estimated.any() else 0.0
    return TotalThrust(t, ls.total, chans[0].rate_hz, names, est, spans(t, ls.missing), u,
                       {names[i]: f for i, f in ls.fits.items()}, ls)


# ---------------------------------------------------------------------------
# calculated channels of a rig: live and afterwards

#: kind -> (what it is, the inputs it takes in order)
CALC_KINDS = {
    "total_thrust": ("the sum of the load cells, tared", "the load cells (default: every channel of role thrust)"),
    "injector_dp": ("injector pressure drop: feed minus chamber pressure", "[feed, chamber]"),
    "mixture_ratio": ("O/F: oxidiser over fuel mass flow", "[ox flow, fuel flow]"),
}


@dataclass(frozen=True)
class CalcChannel:
    """A calculated channel as a rig declares it (``[calculated.NAME]``).

    Attributes
    ----------
    name, kind : str
        ``kind`` is one of :data:`CALC_KINDS`.
    inputs : tuple of str
        The measured channels it is made of, in the kind's order.
    units : str
        Its engineering units (inputs are converted to them; ``""`` for O/F:
        the flows in SI).
    stream : str
        Its time base: the fastest input stream (see the module's Timing).
    range : (float, float)
        Its full scale in ``units`` (the limit checker's hysteresis is a
        fraction of it); an O/F outside it is NaN (near-zero flows).
    redline, warning : Limits or None
    tare_s : float
        ``total_thrust``: seconds at the start of the time base its tare is taken over.
    check_while : (str, float) or None
        Its limits apply only while this input is above this value (its own
        units): a low limit on an injector pressure drop means something
        only in mainstage, not before ignition or during shutdown.
    input_full_scale : tuple of float
        Each input's full scale in :attr:`units` (SI for an O/F): a load
        cell's capacity (beyond it, a total estimates the cell from the
        others), a flowmeter's range (an O/F needs both flows above
        :data:`MIN_FLOW_FRACTION` of theirs). Empty: none known.
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    units: str
    stream: str
    range: tuple[float, float]
    redline: Limits | None = None
    warning: Limits | None = None
    tare_s: float = 0.0
    check_while: tuple[str, float] | None = None
    input_full_scale: tuple[float, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "inputs": list(self.inputs), "units": self.units,
                "stream": self.stream, "range": [float(x) for x in self.range],
                "redline": self.redline.to_dict() if self.redline else {},
                "warning": self.warning.to_dict() if self.warning else {}, "tare_s": self.tare_s,
                "check_while": list(self.check_while) if self.check_while else None,
                "input_full_scale": [float(x) for x in self.input_full_scale]}

    @classmethod
    def from_json(cls, d: dict) -> "CalcChannel":
        return cls(d["name"], d["kind"], tuple(d["inputs"]), d.get("units", ""), d["stream"],
                   tuple(float(x) for x in d["range"]), Limits.from_dict(d.get("redline")),
                   Limits.from_dict(d.get("warning")), float(d.get("tare_s", 0.0)),
                   (d["check_while"][0], float(d["check_while"][1])) if d.get("check_while") else None,
                   tuple(float(x) for x in d.get("input_full_scale") or ()))

    def running_total(self) -> RunningLoadSum:
        """The block-by-block evaluator of a ``total_thrust`` (its inputs' capacities, its fit rule)."""
        fs = self.input_full_scale or (math.inf,) * len(self.inputs)
        return RunningLoadSum(fs, MIN_FIT_SPREAD * max(abs(self.range[0]), abs(self.range[1])))

    def as_channel(self, stream: str, column: int) -> Channel:
        """This channel as a :class:`Channel` of a stream of calculated values (the live view's):
        its values are its engineering units (no scaling), its role is its kind."""
        return Channel(name=self.name, stream=stream, column=column, physical=f"calculated: {self.kind}",
                       kind="voltage", range=self.range, units=self.units, role=self.kind,
                       calibration={"type": "none"}, adc={"coefficients": [0.0, 1.0]},
                       redline=self.redline, warning=self.warning)

    def compute(self, cols: list[np.ndarray], loads: RunningLoadSum | None = None) -> np.ndarray:
        """The untared value from its inputs (already in :attr:`units`), sample by sample.

        ``loads``: a ``total_thrust``'s :meth:`running_total`, carried from block to block
        (without it, a cell that is not valid makes the total NaN there)."""
        if self.kind == "total_thrust":
            return (loads or self.running_total()).total(cols) if loads or len(cols) > 1 else \
                sum_load_cells(cols, estimate=False).total
        if self.kind == "injector_dp":
            return injector_dp(*cols)
        mins = [MIN_FLOW_FRACTION * f for f in self.input_full_scale] or [0.0, 0.0]
        of = mixture_ratio(*cols, *mins)
        return np.where((of >= self.range[0]) & (of <= self.range[1]), of, np.nan)


def calc_stream(base: str) -> str:
    """The name of the stream of calculated values dated on stream ``base`` (the live stream's)."""
    return f"{base}:calculated"


def calc_time_base(inputs, streams) -> str:
    """The stream a calculated channel is evaluated on: its inputs' fastest (first on a tie).

    ``inputs``: (channel name, stream name) pairs; ``streams``: name -> rate (Hz).
    """
    best = None
    for _, s in inputs:
        if best is None or streams[s] > streams[best]:
            best = s
    return best


class _Held:
    """Base sample -> sample of a slower stream held at it: ``j = floor(i * p / q)``."""

    def __init__(self, rate: float, base_rate: float):
        f = Fraction(rate / base_rate).limit_denominator(1_000_000)
        self.p, self.q = f.numerator, f.denominator

    def index(self, i):
        return (np.asarray(i, np.int64) * self.p) // self.q

    def last_base(self, end: int) -> int:
        """The first base sample whose held sample is ``end`` or later."""
        return -(-end * self.q // self.p)


class Evaluator:
    """Evaluate calculated channels that share a time base, block by block.

    Feed each input stream's samples (engineering units of the input
    channels) as they come, in order, with :meth:`feed`; :meth:`take` then
    returns every base sample that all inputs now cover. Samples a stream
    skips (a gap) are NaN, and so is each value made from them. The same
    object serves acquisition (blocks from the ring) and a run file
    (:func:`evaluate_run`, its whole record at once).

    Parameters
    ----------
    calcs : list of CalcChannel
        All with the same ``stream``.
    channels : dict
        Input channel name -> (stream, units).
    rates : dict
        Stream name -> sample rate (Hz).
    """

    def __init__(self, calcs, channels: dict, rates: dict):
        self.calcs = list(calcs)
        self.stream = self.calcs[0].stream
        if any(c.stream != self.stream for c in self.calcs):
            raise ValueError("calculated channels of one evaluator must share their time base")
        self.rate = float(rates[self.stream])
        names = list(dict.fromkeys(n for c in self.calcs for n in c.inputs))
        streams = list(dict.fromkeys(channels[n][0] for n in names))
        self.inputs = {s: [n for n in names if channels[n][0] == s] for s in streams}
        self.units = {n: channels[n][1] for n in names}
        self.held = {s: _Held(rates[s], self.rate) for s in self.inputs if s != self.stream}
        self._first = {s: None for s in self.inputs}  # stream -> first sample pending
        self._cols = {s: {n: np.empty(0) for n in ns} for s, ns in self.inputs.items()}
        self._next = None  # next base sample to evaluate
        self._tare = {c.name: (None if c.kind == "total_thrust" and c.tare_s > 0 else 0.0) for c in self.calcs}
        self._tare_buf = {c.name: [] for c in self.calcs}
        self._tare_n = {c.name: max(1, int(round(c.tare_s * self.rate))) for c in self.calcs}
        self.tares: dict[str, tuple[int, int, float]] = {}  # name -> (first sample, count, tare) once known
        self.loads = {c.name: c.running_total() for c in self.calcs if c.kind == "total_thrust"}

    def _end(self, s) -> int | None:
        f = self._first[s]
        return None if f is None else f + len(next(iter(self._cols[s].values())))

    def feed(self, stream: str, sample0: int, cols: dict) -> None:
        """Add samples ``[sample0, sample0 + n)`` of ``stream``: input name -> EU array."""
        names = self.inputs.get(stream)
        if not names:
            return
        n = len(cols[names[0]])
        end = self._end(stream)
        if end is None:
            self._first[stream], end = sample0, sample0
        skip = max(0, end - sample0)  # already held
        if skip >= n:
            return
        pad = max(0, sample0 - end)  # skipped by the stream: NaN
        for name in names:
            parts = [self._cols[stream][name]]
            if pad:
                parts.append(np.full(pad, np.nan))
            parts.append(np.asarray(cols[name], dtype=float)[skip:])
            self._cols[stream][name] = np.concatenate(parts)

    def ready(self) -> tuple[int, int] | None:
        """Base samples ``[a, b)`` every input covers now, or None."""
        base_end = self._end(self.stream)
        if base_end is None:
            return None
        a = self._first[self.stream] if self._next is None else self._next
        b = base_end
        for s, h in self.held.items():
            e = self._end(s)
            if e is None:
                return None
            b = min(b, h.last_base(e))
            if int(h.index(a)) < self._first[s]:  # the slower stream began later: start where it is held
                a = max(a, h.last_base(self._first[s]))
        return (a, b) if b > a else None

    def take(self) -> tuple[int, np.ndarray, np.ndarray] | None:
        """Evaluate what is ready, or None.

        Returns
        -------
        first : int
            Base sample of the first row.
        values : ndarray
            ``(n, len(calcs))``, each channel in its units.
        checked : ndarray of bool
            ``(n, len(calcs))``: where each channel's limits apply (its ``check_while``).
        """
        r = self.ready()
        if r is None:
            return None
        a, b = r
        idx = np.arange(a, b, dtype=np.int64)
        got = {}
        for s, names in self.inputs.items():
            pos = (idx if s == self.stream else self.held[s].index(idx)) - self._first[s]
            for name in names:
                got[name] = self._cols[s][name][pos]
        out = np.empty((b - a, len(self.calcs)))
        checked = np.ones((b - a, len(self.calcs)), bool)
        for k, c in enumerate(self.calcs):
            cols = [_convert(got[n], self.units[n], c.units) for n in c.inputs]
            out[:, k] = self._tared(c, a, c.compute(cols, self.loads.get(c.name)))
            if c.check_while:
                checked[:, k] = got[c.check_while[0]] > c.check_while[1]
        self._next = b
        self._trim()
        return a, out, checked

    def _tared(self, c: CalcChannel, a: int, v: np.ndarray) -> np.ndarray:
        """``v`` (base samples from ``a``) less the tare; NaN until the tare is known."""
        tare = self._tare[c.name]
        if tare is not None:
            return v - tare if tare else v
        buf, need = self._tare_buf[c.name], self._tare_n[c.name]
        have = sum(len(x) for x in buf)
        k = min(len(v), need - have)
        buf.append(v[:k])
        out = np.full(len(v), np.nan)
        if have + k == need:  # known from the next sample on; one mean of one array, live and afterwards
            rest = np.concatenate(buf)
            tare = float(np.nanmean(rest)) if np.isfinite(rest).any() else math.nan
            self._tare[c.name], self._tare_buf[c.name] = tare, []
            self.tares[c.name] = (a + k - need, need, tare)
            out[k:] = v[k:] - tare
        return out

    def _trim(self):
        """Forget input samples no later base sample needs."""
        for s, names in self.inputs.items():
            keep = self._next if s == self.stream else int(self.held[s].index(self._next))
            drop = keep - self._first[s]
            if drop > 0:
                for n in names:
                    self._cols[s][n] = self._cols[s][n][drop:]
                self._first[s] = keep


def _convert(x: np.ndarray, frm: str, to: str) -> np.ndarray:
    """``x`` from units ``frm`` to ``to`` (``""``: SI, for a ratio)."""
    if frm == to:
        return x
    si = np.asarray(U.to_si(x, frm), dtype=float)
    return si if not to else np.asarray(U.from_si(si, to), dtype=float)


def evaluators(calcs, channels: dict, rates: dict) -> list[Evaluator]:
    """One :class:`Evaluator` per time base of ``calcs``."""
    by_stream: dict[str, list] = {}
    for c in calcs:
        by_stream.setdefault(c.stream, []).append(c)
    return [Evaluator(cs, channels, rates) for cs in by_stream.values()]


@dataclass
class CalcSeries:
    """A calculated channel over a run: absolute ``sample`` indices of its time base, ``t`` seconds from T0."""

    channel: CalcChannel
    sample: np.ndarray
    t: np.ndarray
    values: np.ndarray
    tare: tuple[int, int, float] | None = None  # (first sample, count, tare) of a total_thrust


def evaluate_run(run, names=None) -> dict[str, CalcSeries]:
    """The rig's calculated channels over a run file, as acquisition computed them live.

    Each input is scaled from its raw samples (the run file's ``Scaling``),
    its recorded pieces laid on its sample clock (NaN between them), and the
    whole record fed to one :class:`Evaluator` per time base.

    Parameters
    ----------
    run : Run
    names : list of str, optional
        Only these calculated channels (default: every one the run's rig declares).
    """
    calcs = [c for c in run.rig.calculated if names is None or c.name in names]
    chans = {n: (run.channel_info(n).stream, run.channel_info(n).units) for c in calcs for n in c.inputs}
    rates = {s: st.rate_hz for s, st in run.streams.items()}
    out = {}
    for ev in evaluators(calcs, chans, rates):
        for s, inputs in ev.inputs.items():
            cols, first = {}, None
            for name in inputs:
                raw, segs = run.raw_segments(name)
                if len(segs):
                    cols[name], first = _on_clock(segs, run.channel_info(name).scaling.to_eu(raw)), int(segs[0][0])
            if first is not None:
                ev.feed(s, first, cols)
        got = ev.take()
        if got is None:
            continue
        a, vals, _ = got
        sample = np.arange(a, a + len(vals), dtype=np.int64)
        t = run.times(ev.stream, sample)
        for k, c in enumerate(ev.calcs):
            out[c.name] = CalcSeries(c, sample, t, vals[:, k], ev.tares.get(c.name))
    return out


def _on_clock(segs, values) -> np.ndarray:
    """Recorded pieces ``(first sample, position, count)`` laid end to end on the sample clock, NaN between."""
    values = np.asarray(values, dtype=float)
    if len(segs) <= 1:
        return values
    first = int(segs[0][0])
    out = np.full(int(segs[-1][0] + segs[-1][2]) - first, np.nan)
    for s0, pos, n in segs:
        out[s0 - first:s0 - first + n] = values[pos:pos + n]
    return out
