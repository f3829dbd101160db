"""Compare runs across rigs: traces by role in SI on a common time base,
aligned at T0 or at ignition, and the registered key metrics
(:mod:`hotfire.analysis.metrics`) with their differences from a reference run
or a RASP (.eng) thrust curve.

    >>> from hotfire.analysis.compare import compare, write_html
    >>> cmp = compare(["LE5-003.h5", "KR100-S02.h5"], align="ignition")
    >>> t, traces = cmp.overlay("chamber_pressure")    # seconds, {label: Pa}
    >>> print(cmp.table())
    >>> write_html(cmp, "compare.html")

Rigs name their channels differently and record them at different rates and
in different units; a comparison goes by **role** (``thrust``,
``chamber_pressure``, ...): each run's channels of a role are converted to SI
(thrust is the analysis's tared total of its load cells) and resampled onto
one lattice of times ``k / rate_hz`` after the alignment point
(:mod:`.traces`). Downsampling averages over the output interval first
(boxcar), so noise above the output rate does not alias; samples are never
bridged across a gap in the data (the lattice holds NaN there, as it does
outside a run).

Each run is analysed as ``hotfire analyze`` does (:mod:`.subjects`); a RASP
curve is imported as a run and analysed the same way. Aligned at ignition,
every run is placed at the ignition time ``hotfire analyze`` reports. The
uncertainty of a difference is the root sum of squares of the run's and the
reference's expanded uncertainties (k = 2; independent errors: true across
rigs; on one rig shared sensor errors partly cancel, so it is conservative
there); degraded values are marked, n/a values say why.

Modules: :mod:`.traces` (resampling, traces by role), :mod:`.subjects`
(runs and curves, analysed), :mod:`.table` (metric rows, terminal table),
:mod:`.plots` and :mod:`.report` (the HTML report).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotfire.analysis import metrics as M
from hotfire.analysis.compare.report import to_html, write_html
from hotfire.analysis.compare.subjects import (ALIGNMENTS, CompareError, EngCurve, Subject, load_eng, load_run,
                                               read_eng)
from hotfire.analysis.compare.table import MetricRow, flagged, metric_rows, metrics_table
from hotfire.analysis.compare.traces import Trace, resample
from hotfire.core.rig import ROLES

__all__ = ["ALIGNMENTS", "DEFAULT_ROLES", "CompareError", "Comparison", "EngCurve", "MetricRow", "Subject", "Trace",
           "compare", "load_eng", "load_run", "read_eng", "resample", "to_html", "write_html"]

DEFAULT_ROLES = ("thrust", "chamber_pressure", "ox_mass_flow", "fuel_mass_flow")


@dataclass
class Comparison:
    """Subjects on a common time base, with the metric rows."""

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

    def table(self, width: int | None = None) -> str:
        """The runs and metrics as text, in columns that fit ``width`` (default: the terminal's)."""
        out = [f"Comparison of {len(self.subjects)} runs, aligned at {self.align_text()}, "
               f"reference {self.ref.label} (*ref); traces in SI on a {self.rate_hz:g} Hz time base",
               f"{M.CONVENTION}; Δ = difference from the reference, % of it, ± its U (k = 2)", ""]
        runs = [["run", "rig", "article", "start (UTC)", "ignition"]]
        for i, s in enumerate(self.subjects):
            runs.append([s.label + (" *ref" if i == self.reference else ""), s.rig, s.article,
                         s.start_time_utc[:16].replace("T", " "), self.ignition_text(s)])
        widths = [max(len(r[j]) for r in runs) for j in range(5)]
        out += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in runs]
        out += ["", "  channels by role (name [units] @ rate -> SI):"]
        for role in self.roles:
            out.append(f"    {role}:")
            groups: dict[str, list[str]] = {}  # runs of one rig share a line
            for s in self.subjects:
                tr = s.traces.get(role)
                groups.setdefault(tr.describe() if tr else "-- none --", []).append(s.label)
            for desc, labels in groups.items():
                who = ", ".join(labels) if len(labels) <= 4 else f"{', '.join(labels[:3])} and {len(labels) - 3} more"
                out.append(f"      {desc}   ({who})")
        out.append("")
        out += metrics_table(self, width)
        if any(c.state == M.DEGRADED for r in self.rows for c in r.cells):
            out.append("  * degraded (below)")
        out += [f"  note: {n}" for n in flagged(self)]
        out += [f"  note: {s.label}: {n}" for s in self.subjects for n in s.notes]
        out += [f"  note: {n}" for n in self.notes]
        return "\n".join(out)

    def align_text(self) -> str:
        return "T0" if self.align == "t0" else "ignition (as hotfire analyze finds it: chamber pressure, else thrust, rise of 10 %)"

    @staticmethod
    def ignition_text(s: Subject) -> str:
        if s.ignition_s is None:
            return "n/a"
        zero = "curve start" if s.kind == "eng" else "T0"
        role = {"chamber_pressure": "Pc"}.get(s.ignition_role, s.ignition_role)
        return f"{zero} {s.ignition_s:+.3f} s ({role})"

    def to_dict(self) -> dict:
        """A JSON-able summary: subjects, metrics with differences (expanded uncertainties, k = 2), notes."""
        return _jsonable({
            "align": self.align, "rate_hz": self.rate_hz, "window_s": list(self.window),
            "reference": self.ref.label,
            "uncertainty_convention": {"kind": "expanded", "k": M.K, "coverage": "~95 %", "text": M.CONVENTION},
            "subjects": [{k: getattr(s, k) for k in ("label", "path", "kind", "test_id", "rig", "article",
                                                     "start_time_utc", "source", "propellants", "shift_s",
                                                     "ignition_s", "ignition_role", "analysis_error", "notes")}
                         | {"channels": {r: {"channels": tr.channels, "units": tr.source_units,
                                             "rates_hz": tr.source_rates} for r, tr in s.traces.items()}}
                         for s in self.subjects],
            "metrics": [r.to_dict() for r in self.rows],
            "notes": self.notes,
        })


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    return x


def _same_file(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _unique_labels(subjects):
    seen: dict[str, int] = {}
    for s in subjects:
        n = seen.get(s.label, 0)
        seen[s.label] = n + 1
        if n:
            s.label = f"{s.label} ({n + 1})"


def _default_window(subjects) -> tuple[float, float]:
    burns = [(b[0] - s.shift_s, b[1] - s.shift_s) for s in subjects if (b := s.burn())]
    spans = [(tr.t[0], tr.t[-1]) for s in subjects for tr in s.traces.values() if len(tr.values)]
    if not spans:
        raise CompareError("no trace to compare: none of the runs has any of the roles asked for")
    lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    if burns:
        return max(lo, min(a for a, _ in burns) - 0.5), min(hi, max(b for _, b in burns) + 0.75)
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
    ignition_role : {"chamber_pressure", "thrust"}, optional
        "thrust": every run's ignition found on thrust alone (the default
        against a thrust curve); otherwise the analysis's own.

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
        ignition_role = "thrust"  # a thrust curve is all the reference has: every run's ignition alike
    subjects = [r if isinstance(r, Subject) else load_run(getattr(r, "path", r), roles, align, rate_hz, ignition_role)
                for r in runs]
    ref_index = 0
    if isinstance(reference, int):
        if not 0 <= reference < len(subjects):
            raise CompareError(f"reference {reference}: there are {len(subjects)} runs")
        ref_index = reference
    elif ref_path is not None:
        match = [i for i, s in enumerate(subjects) if s.kind == "run" and _same_file(s.path, ref_path)]
        if match:
            ref_index = match[0]
        else:
            subjects.insert(0, load_eng(ref_path, align, rate_hz) if ref_path.suffix.lower() == ".eng" else
                            load_run(ref_path, roles, align, rate_hz, ignition_role))
    if not subjects:
        raise CompareError("no runs to compare")
    _unique_labels(subjects)
    win = tuple(window) if window else _default_window(subjects)
    notes = []
    for role in roles:
        missing = [s.label for s in subjects if role not in s.traces and s.kind == "run"]
        if missing:
            notes.append(f"no {role} in: {', '.join(missing)}")
    return Comparison(subjects, ref_index, align, rate_hz, roles, win, metric_rows(subjects, ref_index), notes)
