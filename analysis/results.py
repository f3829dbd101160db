"""One call for everything ``hotfire analyze`` reports, from a script too.

    >>> from hotfire.analysis.run import open_run
    >>> from hotfire.analysis.results import analyze_run
    >>> with open_run("runs/LE5-003.h5") as run:
    ...     res = analyze_run(run)
    ...     res.performance.c_star_efficiency, res.performance.uncertainty["c_star_efficiency"]
    ...     res.stability.verdict
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from hotfire.analysis import health as _health
from hotfire.analysis import uncertainty as _unc
from hotfire.analysis.performance import Performance, Settings, _jsonable, analyze
from hotfire.analysis.stability import Stability, analyze_stability
from hotfire.analysis.thrust import Unavailable


#: roles the thrust and performance analyses read whole (converted together: one pass per stream)
_ANALYSED_ROLES = {"thrust", "chamber_pressure", "ox_mass_flow", "fuel_mass_flow", "ox_tank_mass",
                   "fuel_tank_mass", "ox_injector_pressure", "fuel_injector_pressure"}


@dataclass
class Results:
    test_id: str
    rig: str
    path: str
    performance: Performance | None
    stability: Stability | None
    uncertainty: dict = field(default_factory=dict)  # window index -> Propagation
    health: dict = field(default_factory=dict)
    truth: dict | None = None
    imported: dict | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self, series: bool = False) -> dict:
        return _jsonable({
            "test_id": self.test_id, "rig": self.rig, "path": self.path,
            "results": self.performance.to_dict(series=series) if self.performance else None,
            "stability": self.stability.to_dict() if self.stability else None,
            "uncertainty": {k: p.to_dict() for k, p in self.uncertainty.items()},
            "health": {k: h.to_dict() for k, h in self.health.items()},
            "truth": self.truth, "imported": self.imported, "notes": self.notes,
        })


def analyze_run(run, settings: Settings | None = None, stability: bool = True,
                uncertainty: bool = True, timings: dict | None = None) -> Results:
    """Health, thrust, performance, stability and uncertainty of a run.

    Reads each stream of the file once (``Run.preload``). Results that
    cannot be computed are None, and ``notes`` says why. ``timings``, when
    given, receives the seconds spent in each phase.
    """
    clock = [time.perf_counter()]

    def lap(name):
        now = time.perf_counter()
        if timings is not None:
            timings[name] = now - clock[0]
        clock[0] = now

    run.preload()
    lap("read")
    try:
        s = settings or Settings()
        health = _health.check_run(run) if s.check_health else {}
        lap("sensor health")
        res = Results(run.test_id, run.rig_name, run.path, None, None, health=health, truth=run.truth,
                      imported=run.imported)
        run.convert([c.name for c in run.channels if c.role in _ANALYSED_ROLES])
        try:
            perf = analyze(run, s, health)
        except Unavailable as exc:
            res.notes.append(f"thrust and performance not computed: {exc}")
            return res
        lap("thrust and performance")
        res.performance = perf
        if uncertainty and perf.plateaus:
            res.uncertainty = _unc.propagate(run, perf)
        elif uncertainty and perf.thrust is not None:
            _unc.propagate(run, perf)
        lap("uncertainty")
        if stability:
            st = analyze_stability(run, (perf.burn_start_s, perf.burn_end_s), perf.pc_bar, perf.of, health)
            lap("stability")
            res.stability = st
            if st is None:
                res.notes.append("no usable high-rate chamber pressure (role chamber_pressure_dynamic): "
                                 "stability not analysed")
        return res
    finally:
        run.release()
