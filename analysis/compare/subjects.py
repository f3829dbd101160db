"""What a comparison holds of each run or RASP thrust curve: its metadata, the
metrics ``hotfire analyze`` reports (:func:`hotfire.analysis.metrics.collect`),
its ignition as the analysis finds it, and its traces by role."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.analysis import metrics as M
from hotfire.analysis.compare.traces import make_trace, role_signals
from hotfire.core.errors import HotfireError

ALIGNMENTS = ("t0", "ignition")
IGNITION_ROLES = ("chamber_pressure", "thrust")


class CompareError(HotfireError):
    """Runs cannot be compared as asked (the message says why)."""


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
    CompareError
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


@dataclass
class Subject:
    """A run, or a reference thrust curve, in a comparison.

    ``shift_s`` is the alignment point in seconds from the run's T0 (0 when
    aligned at T0): aligned time = time from T0 - ``shift_s``. ``metrics``
    holds every registered metric (:class:`hotfire.analysis.metrics.Value`),
    ``results`` the analysis's full result (``Performance.to_dict``).
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
    metrics: dict = field(default_factory=dict)
    results: dict | None = None
    analysis_error: str | None = None
    notes: list = field(default_factory=list)

    def burn(self) -> tuple | None:
        """(start, end) of the burn, seconds from T0, or None."""
        a, b = self.metrics.get("burn_start_s"), self.metrics.get("burn_end_s")
        if a is None or b is None or a.value is None or b.value is None:
            return None
        return a.value, b.value


def _thrust_ignition(run, health) -> float | None:
    """The analysis's ignition found on thrust alone (as on a thrust curve), seconds from T0."""
    from hotfire.analysis.performance import Settings
    from hotfire.analysis.thrust import Unavailable, analyze_thrust

    try:
        return analyze_thrust(run.views("thrust"), Settings().thrust_settings(), health).ignition_s
    except Unavailable:
        return None


def load_run(path, roles=("thrust",), align: str = "t0", rate_hz: float = 1000.0,
             ignition_role: str | None = None, label: str | None = None, kind: str = "run") -> Subject:
    """Read what a comparison needs from a run file.

    The run is analysed as ``hotfire analyze`` does (without stability), and
    its ignition is the analysis's (``ThrustResult.ignition_s``: 10 % of the
    chamber-pressure rise, else of thrust), so ``--align ignition`` puts
    every run at the ignition time ``hotfire analyze`` reports.

    Parameters
    ----------
    path : str or Path
    roles : sequence of str
        Roles to resample (those the run lacks are noted, not an error).
    align : {"t0", "ignition"}
    rate_hz : float
        Rate of the common time base.
    ignition_role : {"chamber_pressure", "thrust"}, optional
        "thrust": the analysis's ignition on thrust alone, even when the run
        has a chamber pressure (against a thrust curve, which has only thrust).
    label : str, optional
        Default: the test id.
    """
    from hotfire.analysis.results import analyze_run
    from hotfire.core.runfile.reader import open_run

    if align not in ALIGNMENTS:
        raise CompareError(f"align must be one of {', '.join(ALIGNMENTS)}, got {align!r}")
    if ignition_role not in (None, *IGNITION_ROLES):
        raise CompareError(f"ignition role must be one of {', '.join(IGNITION_ROLES)}, got {ignition_role!r}")
    with open_run(path) as run:
        m = run.metadata
        notes: list[str] = []
        try:
            a = run.article
            props = f"{a.oxidizer}/{a.fuel}"
        except Exception:
            props = ""
        subj = Subject(label=label or run.test_id, path=str(path), kind=kind, test_id=run.test_id,
                       rig=run.rig_name, article=str(m.get("article_serial", "")),
                       start_time_utc=str(m.get("start_time_utc", "")), source=str(m.get("source", "")),
                       propellants=props, notes=notes)
        perf, health = None, {}
        try:  # what `hotfire analyze` reports, with uncertainties; stability is not compared
            res = analyze_run(run, stability=False, uncertainty=True)
            perf, health = res.performance, res.health
            if perf is None:
                subj.analysis_error = "; ".join(res.notes) or "not analysed"
        except Exception as exc:
            subj.analysis_error = f"{type(exc).__name__}: {exc}"
        if subj.analysis_error:
            notes.append(f"analysis failed: {subj.analysis_error}")
        subj.metrics = M.collect(perf)
        subj.results = perf.to_dict() if perf is not None else None
        tr = perf.thrust if perf is not None else None
        if tr is not None and tr.ignition_s is not None:
            subj.ignition_s = tr.ignition_s
            subj.ignition_role = "chamber_pressure" if tr.ignition_basis == "chamber pressure" else "thrust"
        if ignition_role == "thrust" and subj.ignition_role == "chamber_pressure":
            subj.ignition_s, subj.ignition_role = _thrust_ignition(run, health), "thrust"
        raw = role_signals(run, roles, health, notes)
        gaps = [f"{s.name}: {len(s.gaps)} gap(s), {sum(c for _, c in s.gaps)} samples" for s in run.streams.values()
                if s.gaps]
        if gaps:
            notes.append("data gaps (left as gaps): " + "; ".join(gaps))
    if align == "ignition":
        if subj.ignition_s is None:
            notes.append("no ignition found; aligned at T0")
        else:
            subj.shift_s = subj.ignition_s
    for role in roles:
        if role in raw:
            tr_ = make_trace(role, *raw[role], subj.shift_s, rate_hz, notes)
            if tr_ is not None:
                subj.traces[role] = tr_
    return subj


def load_eng(path, align: str = "t0", rate_hz: float = 1000.0, label: str | None = None) -> Subject:
    """A RASP .eng thrust curve as a comparison subject (thrust only).

    The curve is imported as a run (:func:`hotfire.analysis.importers.import_eng`,
    sampled at 10 kHz; RASP draws it piecewise linear) and analysed like
    every run, so its burn, impulse and ignition follow the same conventions.
    Its time zero (motor ignition in RASP) stands for T0.
    """
    from hotfire.analysis.importers import Mapping, import_eng

    c = read_eng(path)
    with tempfile.TemporaryDirectory(prefix="hotfire-eng-") as tmp:
        run_path = import_eng(path, Path(tmp) / "curve.h5", Mapping(rate_hz=10_000.0), test_id=c.name)
        subj = load_run(run_path, ("thrust",), align, rate_hz, label=label or f"{c.name} (.eng)", kind="eng")
    subj.path = str(path)
    subj.rig = f"RASP curve, {c.manufacturer}".rstrip(", ")
    subj.article, subj.source, subj.start_time_utc = c.name, "RASP .eng", ""
    subj.notes[:] = [n for n in subj.notes if "no T0" not in n]
    subj.notes.append(f"{len(c.t)} points; propellant {c.propellant_mass_kg:g} kg, total {c.total_mass_kg:g} kg")
    return subj
