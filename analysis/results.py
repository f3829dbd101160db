"""One call for everything ``hotfire analyze`` reports, from a script too.

    >>> from hotfire.analysis import open_run, analyze_run
    >>> with open_run("runs/LE5-003.h5") as run:
    ...     res = analyze_run(run)
    ...     res.performance.c_star_efficiency, res.performance.uncertainty["c_star_efficiency"]
    ...     res.stability.verdict
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotfire.core import health as _health
from hotfire.analysis import metrics as _metrics
from hotfire.core.runfile.reader import open_run
from hotfire.analysis import uncertainty as _unc
from hotfire.analysis.channels import Channels
from hotfire.analysis.performance import Performance, Settings, _jsonable, analyze
from hotfire.analysis.stability import Stability, analyze_stability, prepare
from hotfire.analysis.thrust import Unavailable

if TYPE_CHECKING:
    from hotfire.core.runfile.reader import Run


#: roles the thrust and performance analyses read whole (converted together: one pass per stream); a
#: high-rate Pc, only a stand-in for a static one, is converted when it is read
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

    def metrics(self) -> dict:
        """Every registered metric as a :class:`~hotfire.analysis.metrics.Value`:
        ``{"burn": {key: Value}, "steady_windows": [{key: Value}], "stability": {key: Value}}``."""
        perf = self.performance
        return {
            "burn": {v.key: v for v in _metrics.section("burn", perf, level=None)},
            "steady_windows": [{v.key: v for v in _metrics.section("steady", w, perf, level=None)}
                               for w in (perf.plateaus if perf else [])],
            "stability": {v.key: v for v in _metrics.section("stability", self.stability, level=None)},
        }

    def to_dict(self, series: bool = False) -> dict:
        """JSON-able results. Every uncertainty in it is expanded (k = 2, ~95 %): ``metrics`` holds each
        registered metric with its status and provenance (:meth:`Value.to_dict`), ``results`` the full
        analysis (its ``uncertainty`` dicts expanded too)."""
        res = self.performance.to_dict(series=series) if self.performance else None
        if res is not None:
            _expand(res)
        m = self.metrics()
        return _jsonable({
            "test_id": self.test_id, "rig": self.rig, "path": self.path,
            "uncertainty_convention": {"kind": "expanded", "k": _metrics.K, "coverage": "~95 %",
                                       "text": _metrics.CONVENTION},
            "metrics": {"burn": _metrics.to_json(m["burn"]),
                        "steady_windows": [_metrics.to_json(w) for w in m["steady_windows"]],
                        "stability": _metrics.to_json(m["stability"])},
            "results": res,
            "stability": self.stability.to_dict() if self.stability else None,
            "uncertainty": {k: p.to_dict() for k, p in self.uncertainty.items()},
            "health": {k: h.to_dict() for k, h in self.health.items()},
            "truth": self.truth, "imported": self.imported, "notes": self.notes,
        })


def _expand(d: dict) -> None:
    """Standard uncertainties (k = 1, as computed) of a ``Performance.to_dict`` -> expanded (k = 2)."""
    for holder in [d, d.get("steady") or {}, *(d.get("plateaus") or [])]:
        u = holder.get("uncertainty")
        if isinstance(u, dict):
            holder["uncertainty"] = {k: (_metrics.K * v if isinstance(v, (int, float)) else v) for k, v in u.items()}
            holder["uncertainty_k"] = _metrics.K


def analyze_run(run: Run | str | os.PathLike, settings: Settings | None = None, stability: bool = True,
                uncertainty: bool = True, timings: dict[str, float] | None = None) -> Results:
    """Health, thrust, performance, stability and uncertainty of a run.

    ``run`` is an open run (:func:`hotfire.core.runfile.reader.open_run`) or
    the path of a run file (opened and closed here).

    Reads each stream of the file once (``Run.preload``). The costly part
    of the stability analysis (the high-rate Pc converted, detrended and
    transformed, :func:`hotfire.analysis.stability.prepare`) runs in a
    thread beside health, thrust and performance: it releases the GIL for
    nearly all its time, so two cores share the work. Results that cannot
    be computed are None, and ``notes`` says why. It changes no
    process-wide setting: the commands run it inside
    :func:`hotfire.analysis.alloc.tuned_for_analysis`, which a script may
    use too (faster, see there). ``timings``, when given,
    receives the seconds spent in each phase (the thread's work overlaps
    the phases after "read").
    """
    if isinstance(run, (str, os.PathLike)):
        with open_run(run) as opened:
            return analyze_run(opened, settings, stability, uncertainty, timings)
    clock = [time.perf_counter()]

    def lap(name):
        now = time.perf_counter()
        if timings is not None:
            timings[name] = now - clock[0]
        clock[0] = now

    return _analyze_run(run, settings, stability, uncertainty, lap)


def _analyze_run(run, settings, stability, uncertainty, lap) -> Results:
    s = settings or Settings()
    dynamic = [c for c in run.channels if c.role == "chamber_pressure_dynamic"]
    dyn_streams = list(dict.fromkeys(c.stream for c in dynamic))
    pool = ThreadPoolExecutor(1, thread_name_prefix="hotfire-stability")
    try:
        # the thread reads the dynamic Pc's streams, checks them and prepares the stability analysis
        # of the first dynamic Pc channel (analyze_stability redoes it for another one if health says so);
        # this thread reads the other streams (both reads release the GIL: analysis/chunkread.py)
        dyn_health = pool.submit(_read_and_check, run, dyn_streams, s.check_health)
        prepared = pool.submit(prepare, run.view(dynamic[0].name)) if stability and dynamic else None
        others = [st for st in run.streams if st not in dyn_streams]
        run.preload(others)
        lap("read")
        # the channels thrust and performance read, chosen here from the rig's roles
        channels = Channels.from_roles(run)
        run.convert([v.name for v in channels.views() if v.role in _ANALYSED_ROLES])
        health = _health.check_run(run, others) if s.check_health else {}
        health.update(dyn_health.result())
        health = {c.name: health[c.name] for c in run.channels if c.name in health}  # the rig's order
        lap("sensor health")
        res = Results(run.test_id, run.rig_name, run.path, None, None, health=health, truth=run.truth,
                      imported=run.imported)
        try:
            perf = analyze(channels, s, health)
        except Unavailable as exc:
            res.notes.append(f"thrust and performance not computed: {exc}")
            return res
        lap("thrust and performance")
        res.performance = perf
        if uncertainty and perf.plateaus:
            res.uncertainty = _unc.propagate(channels, perf)
        elif uncertainty and perf.thrust is not None:
            _unc.propagate(channels, perf)
        lap("uncertainty")
        if stability:
            st = analyze_stability(run, (perf.burn_start_s, perf.burn_end_s), perf.pc_bar, perf.of, health,
                                   prepared=prepared.result() if prepared is not None else None)
            lap("stability")
            res.stability = st
            if st is None:
                res.notes.append("no usable high-rate chamber pressure (role chamber_pressure_dynamic): "
                                 "stability not analysed")
        return res
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        run.release()


def _read_and_check(run, streams, check_health: bool) -> dict:
    """Preload ``streams`` and check their channels' health (when asked)."""
    run.preload(streams)
    return _health.check_run(run, streams) if check_health else {}
