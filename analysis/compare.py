"""Compare runs across rigs: traces by role in SI on a common time base,
aligned at T0 or at ignition, and a metrics table with the differences from a
reference run or a RASP (.eng) thrust curve.

    >>> from hotfire.analysis.compare import compare, write_html
    >>> cmp = compare(["LE5-003.h5", "KR100-S02.h5"], align="ignition")
    >>> t, traces = cmp.overlay("chamber_pressure")    # seconds, {label: Pa}
    >>> print(cmp.table())
    >>> write_html(cmp, "compare.html")

Rigs name their channels differently and record them at different rates and
in different units; a comparison goes by **role** (``thrust``,
``chamber_pressure``, ...): each run's channels of a role are converted to SI
(several thrust load cells are tared and summed, as the performance analysis
does) and resampled onto one lattice of times ``k / rate_hz`` after the
alignment point. Downsampling averages over the output interval first
(boxcar), so noise above the output rate does not alias; samples are never
bridged across a gap in the data (the lattice holds NaN there, as it does
outside a run).

Metrics come from :func:`hotfire.analysis.performance.analyze`. A result
that carries uncertainties (``result["uncertainty"][metric]``, a standard
uncertainty in the metric's units, or ``result[metric + "_u"]``) gives the
uncertainty of each difference as the root sum of squares of the run's and
the reference's (independent errors: true across rigs; on one rig shared
sensor errors partly cancel, so it is conservative there); otherwise the
table says n/a.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d

from hotfire.core.version import __version__
from hotfire.core.theory import G0
from hotfire.core import units as U
from hotfire.core.rig import ROLES
from hotfire.core.errors import HotfireError

DEFAULT_ROLES = ("thrust", "chamber_pressure", "ox_mass_flow", "fuel_mass_flow")
ALIGNMENTS = ("t0", "ignition")

#: (result key, label, unit, format) of the metrics table; a dotted key is nested
METRICS = (
    ("thrust.ignition_delay_s", "Ignition delay from T0", "s", "{:.3f}"),
    ("burn_time_s", "Burn time", "s", "{:.3f}"),
    ("action_time_s", "Action time (NFPA 1125)", "s", "{:.3f}"),
    ("total_impulse_Ns", "Total impulse", "N s", "{:,.0f}"),
    ("average_thrust_N", "Average thrust", "N", "{:,.0f}"),
    ("peak_thrust_N", "Peak thrust", "N", "{:,.0f}"),
    ("thrust_N", "Steady thrust", "N", "{:,.0f}"),
    ("pc_bar", "Steady chamber pressure", "bar", "{:.2f}"),
    ("mdot_kg_s", "Mass flow", "kg/s", "{:.3f}"),
    ("of", "O/F", "", "{:.3f}"),
    ("isp_s", "Isp", "s", "{:.1f}"),
    ("isp_from_mass_s", "Isp from propellant mass", "s", "{:.1f}"),
    ("c_star_m_s", "c*", "m/s", "{:,.0f}"),
    ("cf", "CF", "", "{:.3f}"),
    ("c_star_efficiency", "c* efficiency", "", "{:.4f}"),
    ("isp_efficiency", "Isp efficiency", "", "{:.4f}"),
)


class CompareError(HotfireError):
    """Runs cannot be compared as asked (the message says why)."""


# -- RASP .eng thrust curves --------------------------------------------------------

@dataclass
class EngCurve:
    """A RASP engine file's motor: thrust ``F`` (N) at ``t`` (s from ignition)."""

    name: str
    diameter_mm: float
    length_mm: float
    delays: str
    propellant_mass_kg: float
    total_mass_kg: float
    manufacturer: str
    t: np.ndarray
    F: np.ndarray


def read_eng(path) -> EngCurve:
    """Read a RASP .eng file (with :func:`hotfire.analysis.importers.parse_eng`).

    The curve starts implicitly at (0, 0), which is added when absent.

    Raises
    ------
    HotfireError
        If the file is unreadable or not a RASP curve (the message says where).
    """
    from hotfire.analysis.importers import parse_eng

    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise CompareError(f"{path}: {exc.strerror or exc}") from None
    hdr, t, F = parse_eng(text, str(path))
    if np.any(np.diff(t) <= 0):
        raise CompareError(f"{path}: times must increase")
    return EngCurve(hdr["name"], hdr["diameter_mm"], hdr["length_mm"], hdr["delays"], hdr["propellant_kg"],
                    hdr["total_kg"], hdr["manufacturer"], np.asarray(t, float), np.asarray(F, float))


# -- signal helpers ---------------------------------------------------------------------

def resample(t: np.ndarray, v: np.ndarray, rate_hz: float) -> tuple[int, np.ndarray]:
    """Resample onto the lattice ``k / rate_hz``; returns ``(first k, values)``.

    A faster signal is boxcar-averaged over one output interval first (no
    aliasing of noise above the output rate); a slower one is linearly
    interpolated. Lattice points in a gap of the data (successive samples
    more than 1.5 sample periods apart) are NaN: never bridged.
    """
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    if len(t) < 2:
        return 0, np.empty(0)
    dt = np.diff(t)
    period = float(np.median(dt))
    k_lo = int(math.ceil(t[0] * rate_hz - 1e-6))
    k_hi = int(math.floor(t[-1] * rate_hz + 1e-6))
    out = np.full(max(0, k_hi - k_lo + 1), np.nan)
    breaks = np.nonzero(dt > 1.5 * period)[0] + 1
    width = int(round(1.0 / (period * rate_hz)))
    for tp, vp in zip(np.split(t, breaks), np.split(v, breaks)):
        if len(tp) < 2:
            continue
        if width > 1:
            vp = uniform_filter1d(vp, width, mode="nearest")
        ka = max(k_lo, int(math.ceil(tp[0] * rate_hz - 1e-6)))
        kb = min(k_hi, int(math.floor(tp[-1] * rate_hz + 1e-6)))
        if kb >= ka:
            out[ka - k_lo: kb - k_lo + 1] = np.interp(np.arange(ka, kb + 1) / rate_hz, tp, vp)
    return k_lo, out


def _smooth(t, v, seconds):
    if len(t) < 2:
        return v
    n = max(1, int(round(seconds / float(np.median(np.diff(t))))))
    return uniform_filter1d(np.asarray(v, dtype=float), n, mode="nearest")


def detect_ignition(t, v, fraction: float = 0.10, smooth_s: float = 0.005, sustain_s: float = 0.05) -> float | None:
    """Time at which ``v`` (thrust or Pc) first rises by ``fraction`` of its steady rise.

    Steady level: median where the smoothed signal is above half its maximum.
    The rise is the first stretch above half the maximum that lasts
    ``sustain_s`` (a spike or a glitch before ignition does not); the
    pre-fire level is the median before it. The crossing of pre-fire level
    + ``fraction`` of the rise is searched backwards from there and
    interpolated between samples.

    Returns
    -------
    float or None
        None when no sustained rise is found.
    """
    t = np.asarray(t, dtype=float)
    s = _smooth(t, v, smooth_s)
    if len(s) < 3 or not np.isfinite(s).any():
        return None
    hi = np.nanmax(s)
    above = s >= 0.5 * hi
    edges = np.diff(np.concatenate(([0], above.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    long = [a for a, b in zip(starts, ends) if t[b - 1] - t[a] >= sustain_s]
    if not long or long[0] == 0:
        return None
    i_half = long[0]
    steady = float(np.median(s[above]))
    pre = s[t < t[i_half] - 0.05]
    base = float(np.median(pre)) if len(pre) >= 10 else float(s[0])
    if steady <= base:
        return None
    level = base + fraction * (steady - base)
    below = np.nonzero(s[:i_half] < level)[0]
    if len(below) == 0:
        return float(t[0])
    i = below[-1]
    a, b = s[i], s[i + 1]
    return float(t[i] + (level - a) / (b - a) * (t[i + 1] - t[i])) if b != a else float(t[i + 1])


class _Curve:
    """Just enough of a run for :func:`hotfire.analysis.thrust.analyze_thrust`:
    one thrust channel in N, no events."""

    has_t0 = False
    cutoff = None

    def __init__(self, t, F, name="thrust"):
        from hotfire.core.runfile.reader import Signal

        t = np.asarray(t, dtype=float)
        self.path = name
        self._sig = Signal(name, "thrust", "N", t, np.asarray(F, dtype=float), 1.0 / float(np.median(np.diff(t))))

    def role(self, role, t=None):
        return [self._sig] if role == "thrust" else []


def thrust_metrics(t, F) -> dict:
    """Thrust results of a bare thrust curve (N at ``t`` s), by the analysis's conventions.

    :func:`hotfire.analysis.thrust.analyze_thrust` on the curve: burn, action
    time, impulse, average and peak thrust, rise time. A curve starting at
    zero thrust has no pre-fire samples, so it is not tared.
    """
    from hotfire.analysis.thrust import analyze_thrust

    return analyze_thrust(_Curve(t, F)).to_dict()


# -- what a comparison holds --------------------------------------------------------------

@dataclass
class Trace:
    """One role of one subject on the lattice ``k / rate_hz`` (aligned seconds), SI units."""

    role: str
    unit: str
    rate_hz: float
    k0: int
    values: np.ndarray
    channels: list[str]
    source_units: list[str]
    source_rates: list[float]

    @property
    def t(self) -> np.ndarray:
        return (self.k0 + np.arange(len(self.values))) / self.rate_hz

    def on(self, k0: int, n: int) -> np.ndarray:
        """Values on lattice points ``k0 .. k0 + n - 1`` (NaN where there are none)."""
        out = np.full(n, np.nan)
        a, b = max(k0, self.k0), min(k0 + n, self.k0 + len(self.values))
        if b > a:
            out[a - k0: b - k0] = self.values[a - self.k0: b - self.k0]
        return out


@dataclass
class Subject:
    """A run, or a reference thrust curve, in a comparison.

    ``shift_s`` is the alignment point in seconds from the run's T0 (0 when
    aligned at T0): aligned time = time from T0 - ``shift_s``.
    """

    label: str
    path: str
    kind: str  # "run" or "eng"
    test_id: str
    rig: str = ""
    article: str = ""
    start_time_utc: str = ""
    source: str = ""
    propellants: str = ""
    shift_s: float = 0.0
    ignition_s: float | None = None  # seconds from T0
    ignition_role: str = ""
    traces: dict = field(default_factory=dict)
    results: dict | None = None
    analysis_error: str | None = None
    notes: list = field(default_factory=list)


def _thrust_trace(run, results, notes):
    """Total thrust (N): the thrust channels summed, less the analysis's tare."""
    chans = run.role("thrust")
    if not chans:
        return None
    t = chans[0].t
    F = sum(c.si() if np.array_equal(c.t, t) else np.interp(t, c.t, c.si()) for c in chans)
    tare = (results or {}).get("tare_N")
    if tare is None:
        notes.append("thrust not tared (the analysis gave no tare)")
    else:
        F = F - tare
    return t, F, chans


def _raw_traces(run, roles, results, notes):
    """{role: (t from T0, SI values, channel signals)} for the roles the run has."""
    out = {}
    for role in roles:
        if role == "thrust":
            got = _thrust_trace(run, results, notes)
            if got:
                out[role] = got
            continue
        chans = run.role(role)
        if not chans:
            continue
        if len(chans) > 1:
            notes.append(f"{role}: {len(chans)} channels ({', '.join(c.name for c in chans)}); "
                         f"{chans[0].name} is compared")
        c = chans[0]
        out[role] = (c.t, c.si(), [c])
    return out


def _si_unit(role: str) -> str:
    return U.si_unit(ROLES.get(role, ""))


def load_run(path, roles=DEFAULT_ROLES, align: str = "t0", rate_hz: float = 1000.0,
             ignition_role: str | None = None, label: str | None = None) -> Subject:
    """Read what a comparison needs from a run file.

    Parameters
    ----------
    path : str or Path
    roles : sequence of str
        Roles to resample (those the run lacks are noted, not an error).
    align : {"t0", "ignition"}
    rate_hz : float
        Rate of the common time base.
    ignition_role : str, optional
        Role to detect ignition on with :func:`detect_ignition`. Default:
        the analysis's ignition (chamber pressure rise, else thrust).
    label : str, optional
        Default: the test id.
    """
    from hotfire.analysis.results import analyze_run
    from hotfire.core.runfile.reader import open_run

    if align not in ALIGNMENTS:
        raise CompareError(f"align must be one of {', '.join(ALIGNMENTS)}, got {align!r}")
    with open_run(path) as run:
        m = run.metadata
        notes: list[str] = []
        try:
            a = run.article
            props = f"{a.oxidizer}/{a.fuel}"
        except Exception:
            props = ""
        subj = Subject(label=label or run.test_id, path=str(path), kind="run", test_id=run.test_id,
                       rig=run.rig_name, article=str(m.get("article_serial", "")),
                       start_time_utc=str(m.get("start_time_utc", "")), source=str(m.get("source", "")),
                       propellants=props, notes=notes)
        try:  # what `hotfire analyze` reports, with uncertainties; stability is not compared
            res = analyze_run(run, stability=False, uncertainty=True)
            subj.results = res.performance.to_dict() if res.performance else None
            if subj.results is None:
                subj.analysis_error = "; ".join(res.notes) or "not analysed"
        except Exception as exc:
            subj.analysis_error = f"{type(exc).__name__}: {exc}"
        if subj.analysis_error:
            notes.append(f"analysis failed: {subj.analysis_error}")
        ign_roles = [ignition_role] if ignition_role else ["chamber_pressure", "thrust"]
        raw = _raw_traces(run, list(dict.fromkeys([*roles, *ign_roles])), subj.results, notes)
        gaps = [f"{s.name}: {len(s.gaps)} gap(s), {sum(c for _, c in s.gaps)} samples" for s in run.streams.values()
                if s.gaps]
        if gaps:
            notes.append("data gaps (left as gaps): " + "; ".join(gaps))
    tr = (subj.results or {}).get("thrust") or {}
    if ignition_role is None and tr.get("ignition_s") is not None:
        # the analysis's own ignition (10 % of the Pc rise, else of thrust): as `hotfire analyze` says
        subj.ignition_s = tr["ignition_s"]
        subj.ignition_role = "chamber_pressure" if tr.get("ignition_basis") == "chamber pressure" else "thrust"
    else:
        for r in ign_roles:
            if r in raw:
                subj.ignition_s = detect_ignition(raw[r][0], raw[r][1])
                subj.ignition_role = r
                break
    if align == "ignition":
        if subj.ignition_s is None:
            notes.append("no ignition found; aligned at T0")
        else:
            subj.shift_s = subj.ignition_s
    for role in roles:
        if role not in raw:
            continue
        t, v, chans = raw[role]
        units = [c.units for c in chans]
        want = _si_unit(role)
        if want and any(U.si_unit(u) != want for u in units):
            notes.append(f"{role}: units {', '.join(units)} do not convert to {want}; not compared")
            continue
        k0, vals = resample(t - subj.shift_s, v, rate_hz)
        subj.traces[role] = Trace(role, want or units[0], rate_hz, k0, vals, [c.name for c in chans], units,
                                  [c.rate_hz for c in chans])
    return subj


def load_eng(path, align: str = "t0", rate_hz: float = 1000.0, label: str | None = None) -> Subject:
    """A RASP .eng thrust curve as a comparison subject (thrust only).

    Its time zero (motor ignition in RASP) is taken as T0; aligned at
    ignition, the same detector as for runs is applied to it.
    """
    c = read_eng(path)
    fine = np.arange(0.0, c.t[-1] + 0.5e-4, 1e-4)  # piecewise linear, as RASP defines it
    F = np.interp(fine, c.t, c.F)
    subj = Subject(label=label or f"{c.name} (.eng)", path=str(path), kind="eng", test_id=c.name,
                   rig=f"RASP curve, {c.manufacturer}".rstrip(", "), article=c.name, source="RASP .eng")
    try:
        tr = thrust_metrics(fine, F)
        subj.results = {k: tr[k] for k in ("burn_start_s", "burn_end_s", "burn_time_s", "action_time_s",
                                           "total_impulse_Ns", "average_thrust_N", "peak_thrust_N")}
        subj.results["thrust"] = tr
        if c.propellant_mass_kg > 0:
            subj.results["isp_from_mass_s"] = tr["total_impulse_Ns"] / (c.propellant_mass_kg * G0)
    except Exception as exc:  # no burn in the curve
        subj.analysis_error = str(exc)
    # the curve's time zero is motor ignition in RASP; the same detector as the runs' places it
    subj.ignition_s = detect_ignition(fine, F)
    subj.ignition_role = "thrust"
    if align == "ignition" and subj.ignition_s is not None:
        subj.shift_s = subj.ignition_s
    k0, vals = resample(fine - subj.shift_s, F, rate_hz)  # irregular points: resample the uniform curve
    subj.traces["thrust"] = Trace("thrust", "N", rate_hz, k0, vals, [c.name], ["N"], [float("nan")])
    subj.notes.append(f"{len(c.t)} points; propellant {c.propellant_mass_kg:g} kg, total {c.total_mass_kg:g} kg")
    return subj


def uncertainty_of(results: dict | None, key: str) -> float | None:
    """The standard uncertainty of a result, if the analysis gives one."""
    if not results:
        return None
    u = results.get("uncertainty")
    if isinstance(u, dict) and key in u:
        v = u[key]
        if isinstance(v, dict):
            v = v.get("standard", v.get("u"))
        return float(v) if isinstance(v, (int, float)) else None
    v = results.get(key + "_u")
    return float(v) if isinstance(v, (int, float)) else None


@dataclass
class MetricRow:
    key: str
    label: str
    unit: str
    fmt: str
    values: list  # per subject, None where n/a
    u: list  # standard uncertainties, None where n/a
    diff: list  # value - reference value
    diff_pct: list
    diff_u: list

    def text(self, v) -> str:
        return "n/a" if v is None else self.fmt.format(v)


@dataclass
class Comparison:
    """Subjects on a common time base, with a metrics table."""

    subjects: list
    reference: int
    align: str
    rate_hz: float
    roles: list
    window: tuple
    rows: list
    notes: list

    @property
    def ref(self) -> Subject:
        return self.subjects[self.reference]

    def overlay(self, role: str, window: tuple | None = None) -> tuple[np.ndarray, dict]:
        """Aligned times and ``{label: SI values}`` of every subject with ``role``.

        Parameters
        ----------
        role : str
        window : (float, float), optional
            Aligned seconds; default: :attr:`window`.
        """
        a, b = window or self.window
        k0 = int(math.ceil(a * self.rate_hz - 1e-6))
        n = int(math.floor(b * self.rate_hz + 1e-6)) - k0 + 1
        t = (k0 + np.arange(max(0, n))) / self.rate_hz
        return t, {s.label: s.traces[role].on(k0, len(t)) for s in self.subjects if role in s.traces}

    def table(self) -> str:
        """The runs and metrics as text (a terminal's width: four runs per block)."""
        out = [f"Comparison of {len(self.subjects)} runs, aligned at {self.align_text()}, "
               f"reference {self.ref.label}; traces in SI on a {self.rate_hz:g} Hz time base", ""]
        out.append(f"  {'run':<28} {'rig':<18} {'article':<11} {'start (UTC)':<17} ignition")
        for i, s in enumerate(self.subjects):
            ign = _ignition_text(s)
            ref = " *" if i == self.reference else ""
            out.append(f"  {(s.label + ref):<28} {s.rig[:18]:<18} {s.article[:11]:<11} "
                       f"{s.start_time_utc[:16].replace('T', ' '):<17} {ign}")
        out.append("")
        out.append("  channels by role (name [units] @ rate -> SI):")
        for role in self.roles:
            out.append(f"    {role}:")
            groups: dict[str, list[str]] = {}  # runs of one rig share a line
            for s in self.subjects:
                tr = s.traces.get(role)
                groups.setdefault(_channel_text(tr) if tr else "-- none --", []).append(s.label)
            for desc, labels in groups.items():
                who = ", ".join(labels) if len(labels) <= 4 else \
                    f"{', '.join(labels[:3])} and {len(labels) - 3} more"
                out.append(f"      {desc}   ({who})")
        out.append("")
        any_u = any(u is not None for r in self.rows for u in r.diff_u)
        for lo in range(0, len(self.subjects), 4):
            group = list(range(lo, min(lo + 4, len(self.subjects))))
            head = f"  {'metric':<24} {'unit':<5}" + "".join(f" {self.subjects[i].label[:22]:>22}" for i in group)
            out.append(head)
            for r in self.rows:
                cells = []
                for i in group:
                    v = r.text(r.values[i])
                    if i != self.reference and r.diff_pct[i] is not None:
                        d = f"{r.diff_pct[i]:+.1f}%"
                        if r.diff_u[i] is not None and r.values[self.reference]:
                            d += f"±{abs(r.diff_u[i] / r.values[self.reference]) * 100:.1f}"
                        v = f"{v} ({d})"
                    cells.append(f" {v:>22}")
                out.append(f"  {r.label:<24} {r.unit:<5}" + "".join(cells))
            out.append("")
        out.append("  (x%) = difference from the reference (*)" +
                   ("; ±u = standard uncertainty of the difference, % of the reference" if any_u else
                    "; uncertainties: n/a (the analysis gives none for these results)"))
        for s in self.subjects:
            for n in s.notes:
                out.append(f"  note: {s.label}: {n}")
        for n in self.notes:
            out.append(f"  note: {n}")
        return "\n".join(out)

    def align_text(self) -> str:
        return "T0" if self.align == "t0" else "ignition (chamber pressure, else thrust, rise of 10 %)"

    def to_dict(self) -> dict:
        """A JSON-able summary: subjects, metrics with differences, notes (no traces)."""
        return {
            "align": self.align, "rate_hz": self.rate_hz, "window_s": list(self.window),
            "reference": self.ref.label,
            "subjects": [{k: getattr(s, k) for k in ("label", "path", "kind", "test_id", "rig", "article",
                                                     "start_time_utc", "source", "propellants", "shift_s",
                                                     "ignition_s", "ignition_role", "analysis_error", "notes")}
                         | {"channels": {r: {"channels": tr.channels, "units": tr.source_units,
                                             "rates_hz": tr.source_rates} for r, tr in s.traces.items()}}
                         for s in self.subjects],
            "metrics": [{"key": r.key, "label": r.label, "unit": r.unit, "values": r.values, "u": r.u,
                         "diff": r.diff, "diff_pct": r.diff_pct, "diff_u": r.diff_u} for r in self.rows],
            "notes": self.notes,
        }


def _ignition_text(s: Subject) -> str:
    if s.ignition_s is None:
        return "n/a"
    zero = "curve start" if s.kind == "eng" else "T0"
    return f"{zero} {s.ignition_s:+.3f} s ({_short_role(s.ignition_role)})"


def _short_role(role: str) -> str:
    return {"chamber_pressure": "Pc", "thrust": "thrust"}.get(role, role)


def _channel_text(tr: Trace) -> str:
    parts = []
    for name, unit, rate in zip(tr.channels, tr.source_units, tr.source_rates):
        r = "" if not np.isfinite(rate) else f" @ {rate:g} Hz"
        parts.append(f"{name} [{unit}]{r}")
    conv = ""
    if any(u != tr.unit for u in tr.source_units):
        conv = f" -> {tr.unit}"
    return " + ".join(parts) + conv


def _unique_labels(subjects):
    seen: dict[str, int] = {}
    for s in subjects:
        n = seen.get(s.label, 0)
        seen[s.label] = n + 1
        if n:
            s.label = f"{s.label} ({n + 1})"


def _default_window(subjects) -> tuple[float, float]:
    starts, ends = [], []
    for s in subjects:
        r = s.results or {}
        if r.get("burn_start_s") is not None and r.get("burn_end_s") is not None:
            starts.append(r["burn_start_s"] - s.shift_s)
            ends.append(r["burn_end_s"] - s.shift_s)
    spans = [(tr.t[0], tr.t[-1]) for s in subjects for tr in s.traces.values() if len(tr.values)]
    if not spans:
        raise CompareError("no trace to compare: none of the runs has any of the roles asked for")
    lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    if starts:
        return max(lo, min(starts) - 0.5), min(hi, max(ends) + 0.75)
    return lo, hi


def compare(runs, reference=None, align: str = "t0", roles=DEFAULT_ROLES, rate_hz: float = 1000.0,
            window: tuple | None = None, ignition_role: str | None = None) -> Comparison:
    """Compare runs by role, against a reference run or a RASP thrust curve.

    Parameters
    ----------
    runs : sequence
        Run files (paths), catalog entries (anything with ``.path``) or
        :class:`Subject` objects.
    reference : optional
        None: the first run. An int: that run. A path: one of ``runs``, or
        another run file, or a RASP ``.eng`` thrust curve (added first).
    align : {"t0", "ignition"}
    roles : sequence of str
        Roles to overlay (default: thrust, chamber pressure, mass flows).
    rate_hz : float
        Rate of the common time base.
    window : (float, float), optional
        Aligned seconds shown by :meth:`Comparison.overlay` and the report;
        default: from 0.5 s before the earliest burn to 0.75 s after the last.
    ignition_role : str, optional
        Role to detect ignition on (default: chamber pressure, else thrust).

    Returns
    -------
    Comparison

    Raises
    ------
    CompareError
        Nothing to compare, or a bad reference.
    """
    if align not in ALIGNMENTS:
        raise CompareError(f"align must be one of {', '.join(ALIGNMENTS)}, got {align!r}")
    roles = list(roles)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise CompareError(f"unknown role(s) {', '.join(unknown)} (roles: {', '.join(ROLES)})")
    ref_path = None if reference is None or isinstance(reference, int) else Path(getattr(reference, "path", reference))
    if ref_path is not None and ref_path.suffix.lower() == ".eng" and ignition_role is None:
        ignition_role = "thrust"  # a thrust curve is all the reference has: detect every run's ignition alike
    subjects = []
    for r in runs:
        if isinstance(r, Subject):
            subjects.append(r)
        else:
            subjects.append(load_run(getattr(r, "path", r), roles, align, rate_hz, ignition_role))
    ref_index = 0
    if isinstance(reference, int):
        if not 0 <= reference < len(subjects):
            raise CompareError(f"reference {reference}: there are {len(subjects)} runs")
        ref_index = reference
    elif ref_path is not None:
        rp = ref_path
        match = [i for i, s in enumerate(subjects) if s.kind == "run" and _same_file(s.path, rp)]
        if match:
            ref_index = match[0]
        else:
            ref = load_eng(rp, align, rate_hz) if rp.suffix.lower() == ".eng" else \
                load_run(rp, roles, align, rate_hz, ignition_role)
            subjects.insert(0, ref)
    if not subjects:
        raise CompareError("no runs to compare")
    _unique_labels(subjects)
    win = tuple(window) if window else _default_window(subjects)
    rows = _metric_rows(subjects, ref_index)
    notes = []
    for role in roles:
        missing = [s.label for s in subjects if role not in s.traces and s.kind == "run"]
        if missing:
            notes.append(f"no {role} in: {', '.join(missing)}")
    return Comparison(subjects, ref_index, align, rate_hz, roles, win, rows, notes)


def _same_file(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _get(results: dict | None, key: str):
    v = results or {}
    for part in key.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v


def _metric_rows(subjects, ref) -> list[MetricRow]:
    rows = []
    for key, label, unit, fmt in METRICS:
        vals = []
        for s in subjects:
            v = _get(s.results, key)
            vals.append(float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None)
        if all(v is None for v in vals):
            continue
        us = [uncertainty_of(s.results, key) for s in subjects]
        rv, ru = vals[ref], us[ref]
        diff, pct, du = [], [], []
        for i, (v, u) in enumerate(zip(vals, us)):
            if i == ref or v is None or rv is None:
                diff.append(None), pct.append(None), du.append(None)
                continue
            diff.append(v - rv)
            pct.append((v - rv) / rv * 100 if rv else None)
            du.append(math.hypot(u, ru) if u is not None and ru is not None else None)
        rows.append(MetricRow(key, label, unit, fmt, vals, us, diff, pct, du))
    return rows


# -- HTML report -----------------------------------------------------------------------------

_PREFIX = ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"))
_ROLE_TITLE = {"thrust": "Thrust", "chamber_pressure": "Chamber pressure", "ox_mass_flow": "Oxidizer mass flow",
               "fuel_mass_flow": "Fuel mass flow"}


def _scale(unit: str, peak: float) -> tuple[float, str]:
    """A display scale with an SI prefix (kN, MPa) for values up to ``peak``."""
    if unit in ("N", "Pa") and np.isfinite(peak) and peak > 0:
        for f, p in _PREFIX:
            if peak >= f * 0.999:
                return f, p + unit
    return 1.0, unit


def _colors(n):
    from matplotlib import colormaps

    cmap = colormaps["tab10"]  # strong colours; past ten, line styles tell runs apart
    return [cmap(i % 10) for i in range(n)]


_DASHES = ("-", "--", ":", "-.")


def _steady_level(v):
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan")
    hi = v.max()
    return float(np.median(v[v >= 0.5 * hi])) if hi > 0 else float("nan")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def figures(cmp: Comparison) -> dict[str, bytes]:
    """The report's plots as PNG bytes: one per role, and the key metrics."""
    from matplotlib.figure import Figure

    out = {}
    colors = _colors(len(cmp.subjects))
    style = {}
    j = 0
    for i, s in enumerate(cmp.subjects):
        if i == cmp.reference:  # underneath, wide: the runs stay visible where they coincide with it
            style[i] = dict(color="black", lw=2.4, ls="--" if s.kind == "eng" else "-", zorder=2, alpha=0.85)
        else:
            style[i] = dict(color=colors[j], lw=1.1, ls=_DASHES[(j // 10) % 4], zorder=3)
            j += 1
    many = len(cmp.subjects) > 6
    xlabel = "time from T0 [s]" if cmp.align == "t0" else "time from ignition [s]"
    for role in cmp.roles:
        t, traces = cmp.overlay(role)
        if not traces:
            continue
        have = np.nonzero(np.any([np.isfinite(v) for v in traces.values()], axis=0))[0]
        if not len(have):
            continue
        # the common window, less what no run with this role covers (a thrust curve's long burn)
        keep = slice(max(0, have[0] - 1), have[-1] + 2)
        t, traces = t[keep], {k: v[keep] for k, v in traces.items()}
        unit = next(s.traces[role].unit for s in cmp.subjects if role in s.traces)
        peak = max((np.nanmax(np.abs(v)) for v in traces.values() if np.isfinite(v).any()), default=float("nan"))
        f, shown = _scale(unit, peak)
        fig = Figure(figsize=(10.5 if many else 9.5, 6.2), layout="constrained")
        ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        for i, s in enumerate(cmp.subjects):
            if s.label not in traces:
                continue
            v = traces[s.label]
            lab = f"{s.label}  ({s.rig})" if s.rig else s.label
            ax1.plot(t, v / f, label=lab + ("  [reference]" if i == cmp.reference else ""), **style[i])
            lvl = _steady_level(v)
            if np.isfinite(lvl) and lvl > 0:
                ax2.plot(t, v / lvl, **style[i])
        title = _ROLE_TITLE.get(role, role.replace("_", " ").capitalize())
        ax1.set_title(f"{title}, aligned at {'T0' if cmp.align == 't0' else 'ignition'}", loc="left")
        ax1.set_ylabel(f"{title.lower()} [{shown}]")
        ax2.set_ylabel("fraction of steady level")
        ax2.set_xlabel(xlabel)
        ax2.axhline(1.0, color="0.6", lw=0.6, zorder=1)
        for ax in (ax1, ax2):
            ax.grid(True, color="0.9")
            ax.axvline(0.0, color="0.5", lw=0.8, ls=":", zorder=1)
            ax.set_xlim(t[0], t[-1])
        if many:
            fig.legend(loc="outside right upper", fontsize=7, frameon=False)
        else:
            ax1.legend(loc="best", fontsize=8, framealpha=0.9)
        out[role] = _png(fig)
    keys = [k for k in ("c_star_efficiency", "isp_efficiency", "burn_time_s", "of") if
            any(r.key == k for r in cmp.rows)]
    if keys and any(s.kind == "run" for s in cmp.subjects):
        rows = {r.key: r for r in cmp.rows}
        fig = Figure(figsize=(9.5, 1.0 + 1.45 * len(keys)), layout="constrained")
        axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
        x = np.arange(len(cmp.subjects))
        for ax, k in zip(axes, keys):
            r = rows[k]
            for i, v in enumerate(r.values):
                if v is None:
                    continue
                c = style[i]["color"]
                ax.errorbar(i, v, yerr=r.u[i] if r.u[i] is not None else None, fmt="D" if i == cmp.reference
                            else "o", color=c, ms=6, capsize=3)
            rv = r.values[cmp.reference]
            if rv is not None:
                ax.axhline(rv, color="black", lw=0.8, ls="--")
            ax.set_ylabel(r.label + (f" [{r.unit}]" if r.unit else ""), fontsize=8)
            ax.grid(True, axis="y", color="0.9")
            ax.ticklabel_format(axis="y", useOffset=False)
            vals = [v for v in r.values if v is not None]
            lo, hi = min(vals), max(vals)
            pad = max(0.15 * (hi - lo), 0.005 * max(abs(lo), abs(hi)))  # 0.1 % apart must not look like 2x
            ax.set_ylim(lo - pad, hi + pad)
        axes[-1].set_xlim(-0.5, len(x) - 0.5)
        axes[-1].set_xticks(x, [s.label for s in cmp.subjects], rotation=30 if len(x) > 3 else 0,
                            ha="right" if len(x) > 3 else "center", fontsize=8)
        axes[0].set_title("Key results per run (dashed: reference)", loc="left")
        out["metrics"] = _png(fig)
    return out


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px;
       color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { padding: 3px 9px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th { background: #f6f6f6; } td.l, th.l { text-align: left; }
tr.ref td { font-weight: 600; } .na { color: #999; }
.scroll { overflow-x: auto; } img { max-width: 100%; } .note { color: #555; font-size: 12.5px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
"""


def _fmt_diff(r: MetricRow, i: int) -> tuple[str, str, str]:
    if r.diff[i] is None:
        return "", "", ""
    d = r.fmt.format(r.diff[i])
    d = d if d.startswith("-") else "+" + d
    pct = f"{r.diff_pct[i]:+.2f} %" if r.diff_pct[i] is not None else "n/a"
    u = r.fmt.format(r.diff_u[i]) if r.diff_u[i] is not None else '<span class="na">n/a</span>'
    return d, pct, u


def to_html(cmp: Comparison) -> str:
    """A self-contained HTML report (plots embedded as PNG)."""
    from matplotlib.colors import to_hex

    e = html.escape
    figs = figures(cmp)
    colors = _colors(len(cmp.subjects))
    sw, j = [], 0
    for i in range(len(cmp.subjects)):
        if i == cmp.reference:
            sw.append("#000000")
        else:
            sw.append(to_hex(colors[j]))
            j += 1
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    p = [f"<!doctype html><html><head><meta charset='utf-8'><title>hotfire comparison</title>"
         f"<style>{_CSS}</style></head><body>"]
    p.append(f"<h1>Comparison of {len(cmp.subjects)} runs</h1>")
    p.append(f"<div class='meta'>hotfire {e(__version__)} &middot; {now} &middot; aligned at "
             f"{e(cmp.align_text())} &middot; reference <b>{e(cmp.ref.label)}</b> &middot; traces in SI "
             f"units, resampled to {cmp.rate_hz:g} Hz</div>")
    p.append("<h2>Runs</h2><div class='scroll'><table><tr><th class='l'>run</th><th class='l'>rig</th>"
             "<th class='l'>article</th><th class='l'>propellants</th><th class='l'>start (UTC)</th>"
             "<th class='l'>source</th><th>ignition</th></tr>")
    for i, s in enumerate(cmp.subjects):
        ign = _ignition_text(s)
        cls = " class='ref'" if i == cmp.reference else ""
        ref = " (reference)" if i == cmp.reference else ""
        p.append(f"<tr{cls}><td class='l'><span class='sw' style='background:{sw[i]}'></span>{e(s.label)}{ref}"
                 f"</td><td class='l'>{e(s.rig)}</td><td class='l'>{e(s.article)}</td>"
                 f"<td class='l'>{e(s.propellants)}</td><td class='l'>{e(s.start_time_utc[:19].replace('T', ' '))}"
                 f"</td><td class='l'>{e(s.source)}</td><td>{e(ign)}</td></tr>")
    p.append("</table></div>")
    p.append("<h2>Channels compared, by role</h2><div class='scroll'><table><tr><th class='l'>run</th>")
    p += [f"<th class='l'>{e(r)}</th>" for r in cmp.roles]
    p.append("</tr>")
    for s in cmp.subjects:
        none = "<span class='na'>none</span>"
        cells = "".join(f"<td class='l'>{e(_channel_text(s.traces[r])) if r in s.traces else none}</td>"
                        for r in cmp.roles)
        p.append(f"<tr><td class='l'>{e(s.label)}</td>{cells}</tr>")
    p.append("</table></div>")

    p.append("<h2>Results</h2>")
    any_u = any(u is not None for r in cmp.rows for u in r.diff_u)
    p.append("<p class='note'>Differences are run minus reference. " +
             ("u = standard uncertainty of the difference (root sum of squares of both runs')." if any_u else
              "Uncertainties: n/a &mdash; the analysis gives none for these results yet.") + "</p>")
    for lo in range(0, len(cmp.subjects), 4):
        group = list(range(lo, min(lo + 4, len(cmp.subjects))))
        p.append("<div class='scroll'><table><tr><th class='l'>metric</th><th class='l'>unit</th>")
        for i in group:
            s = cmp.subjects[i]
            span = 1 if i == cmp.reference else 4
            p.append(f"<th colspan='{span}'><span class='sw' style='background:{sw[i]}'></span>{e(s.label)}</th>")
        p.append("</tr><tr><th></th><th></th>")
        for i in group:
            p.append("<th>value</th>" if i == cmp.reference else "<th>value</th><th>&Delta;</th><th>&Delta; %</th>"
                     "<th>u(&Delta;)</th>")
        p.append("</tr>")
        for r in cmp.rows:
            p.append(f"<tr><td class='l'>{e(r.label)}</td><td class='l'>{e(r.unit)}</td>")
            for i in group:
                v = r.values[i]
                vt = e(r.fmt.format(v)) if v is not None else "<span class='na'>n/a</span>"
                if r.u[i] is not None:
                    vt += f" &plusmn; {e(r.fmt.format(r.u[i]))}"
                p.append(f"<td>{vt}</td>")
                if i != cmp.reference:
                    d, pct, u = _fmt_diff(r, i)
                    p.append(f"<td>{e(d)}</td><td>{e(pct)}</td><td>{u}</td>")
            p.append("</tr>")
        p.append("</table></div>")
    for role in cmp.roles:
        if role in figs:
            p.append(f"<h2>{e(_ROLE_TITLE.get(role, role.replace('_', ' ').capitalize()))}</h2>")
            p.append(f"<img alt='{e(role)}' src='data:image/png;base64,{base64.b64encode(figs[role]).decode()}'>")
    if "metrics" in figs:
        p.append("<h2>Key results</h2>")
        p.append(f"<img alt='metrics' src='data:image/png;base64,{base64.b64encode(figs['metrics']).decode()}'>")
    notes = [f"{s.label}: {n}" for s in cmp.subjects for n in s.notes] + list(cmp.notes)
    if notes:
        p.append("<h2>Notes</h2><ul class='note'>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    p.append("<p class='note'>Each run's channels of a role are converted to SI (several thrust load cells tared "
             "and summed), averaged over each output interval and resampled onto the common time base; gaps in "
             "the data stay gaps. The lower panels divide each trace by its own steady level (median above half "
             "its maximum), so engines of different size compare in shape.</p>")
    p.append("</body></html>")
    return "\n".join(p)


def write_html(cmp: Comparison, path) -> Path:
    """Write :func:`to_html` to ``path``."""
    path = Path(path)
    path.write_text(to_html(cmp), encoding="utf-8")
    return path
