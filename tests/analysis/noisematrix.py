"""The scenario x noise x metric matrix against the simulator's ground truth.

Each cell is a short simulated firing (``simfirings``: the real acquisition
and recorder), analysed without stability; its truth is the noise-free
model's by the analysis' own definitions (``simtruth``), and the true
plateaus are the model's (:func:`true_plateaus`: where its throttle command
holds, from when the start transient is within 1 % of the level to cutoff),
not the analysis' own windows on the noise-free pressure. Every scenario of
the simulator is in it. Run as a script, it prints the error table::

    python tests/analysis/noisematrix.py
"""
from __future__ import annotations

import math

from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run
from hotfire.daq.sources import simtruth
from hotfire.daq.sources.engine import NOISE, SCENARIOS

#: the 100 kN rig has two load cells (the saturation scenario needs them) and a 0.3 s dropout of PC_MAIN
RIG_OF = {"load-cell-saturation": "lox-rp1-100kN"}
#: every noise on the nominal firing; clean, 3 % white and stand noise on every other scenario (and the
#: 100 kN Pc dropout too)
CELLS = [("lox-ethanol-5kN", "nominal", n) for n in NOISE] + [
    (RIG_OF.get(scen, "lox-ethanol-5kN"), scen, n)
    for scen in SCENARIOS if scen != "nominal"
    for n in ("clean", "white-3%", "stand")] + [("lox-rp1-100kN", "pc-dropout", n) for n in ("clean", "white-3%")]
#: a true plateau starts when the start transient is within this fraction of its level
SETTLED = 0.01
MIN_PLATEAU_S = 0.3  # the analysis' least steady window (Settings.min_plateau_s)


def true_plateaus(m) -> list[tuple[float, float]]:
    """The engine model's plateaus (seconds from T0): each stretch where its throttle command holds a level
    (between two points of the profile at one level, or after the last), from ignition + ``rise_tau_s`` x
    ln(1 / ``SETTLED``) (the start transient within 1 %) to cutoff, kept when at least ``MIN_PLATEAU_S``."""
    s = m.scenario
    pts = s.throttle or ((0.0, 1.0),)
    x = [p[0] + m.t_ign for p in pts]
    held = [(x[i], x[i + 1]) for i in range(len(pts) - 1) if pts[i][1] == pts[i + 1][1]] + [(x[-1], math.inf)]
    settled = m.t_ign + s.rise_tau_s * math.log(1 / SETTLED)
    out = []
    for a, b in held:
        a, b = max(a, settled), min(b, m.t_cut)
        if b - a >= MIN_PLATEAU_S:
            out.append((a - m.t0, b - m.t0))
    return out

#: metric -> where it is: "burn" (Performance), "steady" (each plateau, vs its window truth)
METRICS = {"total_impulse_Ns": "burn", "burn_time_s": "burn", "peak_thrust_N": "burn",
           "pc_bar": "steady", "thrust_N": "steady", "of": "steady", "c_star_m_s": "steady",
           "c_star_efficiency": "steady", "isp_s": "steady"}
ABSOLUTE = {"burn_time_s"}  # errors in seconds; the others relative


def short(scen: str) -> dict:
    """A short firing keeps the matrix fast (the throttle profile needs its 4 s)."""
    kw = {"pretrigger_s": 1.6, "posttrigger_s": 1.0}
    if scen != "throttled":
        kw["burn_s"] = 2.5
    return kw


def cell(firings, rig: str, scen: str, noise: str) -> dict:
    """Errors of one firing: metric -> error (relative, or s), plus the plateau coverage."""
    path = firings.path(rig, scen, **short(scen), **NOISE[noise])
    with open_run(path) as run:
        res = analyze_run(run, stability=False)
        perf = res.performance
        tt = simtruth.thrust_truth(run)
        m, _ = simtruth.model_of(run)
        true_wins = true_plateaus(m)
        wts = [simtruth.window_truth(run, (w.start_s, w.end_s)) for w in perf.plateaus]
    out = {"status": {k: v["status"] for k, v in perf.status.items()}}
    for k, where in METRICS.items():
        if where == "burn":
            v, truth = getattr(perf, k), tt.get(k)
            if v is not None and truth:
                out[k] = v - truth if k in ABSOLUTE else (v - truth) / truth
        else:
            errs = [(getattr(w, k) - wt[k]) / wt[k] for w, wt in zip(perf.plateaus, wts)
                    if getattr(w, k) is not None and wt.get(k)]
            if errs:
                out[k] = max(errs, key=abs)
    found = [(w.start_s, w.end_s) for w in perf.plateaus]
    true_len = sum(b - a for a, b in true_wins)
    overlap = sum(max(0.0, min(b, d) - max(a, c)) for a, b in true_wins for c, d in found)
    out["coverage"] = overlap / true_len if true_len > 0 else None
    found_len = sum(b - a for a, b in found)
    out["inside"] = overlap / found_len if found_len > 0 else None  # a window bridging two plateaus is not
    out["plateaus"] = (len(found), len(true_wins))
    return out


def table(rows) -> str:
    keys = list(METRICS)
    head = "| rig scenario | noise | " + " | ".join(keys) + " | steady coverage | plateaus found/true |"
    lines = [head, "|" + "---|" * (len(keys) + 4)]
    for (rig, scen, noise), r in rows:
        cells = []
        for k in keys:
            v = r.get(k)
            if v is None:
                cells.append("n/a")
            else:
                mark = "*" if k in r["status"] else ""
                cells.append(f"{v * 1e3:+.1f} ms{mark}" if k in ABSOLUTE else f"{v * 100:+.3f} %{mark}")
        cov = r["coverage"]
        lines.append(f"| {rig.split('-')[-1]} {scen} | {noise} | " + " | ".join(cells)
                     + f" | {'n/a' if cov is None else f'{cov * 100:.1f} %'} | {r['plateaus'][0]}/{r['plateaus'][1]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from simfirings import Firings

    f = Firings(Path(tempfile.mkdtemp()))
    rows = [(c, cell(f, *c)) for c in CELLS]
    print(table(rows))
    worst = {}
    for (rig, scen, noise), r in rows:
        for k in METRICS:
            if r.get(k) is not None:
                worst[(k, noise)] = max(worst.get((k, noise), 0.0), abs(r[k]))
    print("\nworst |error| per metric and noise:")
    for (k, noise), v in sorted(worst.items()):
        print(f"  {k:20s} {noise:12s} {v:.3g}")
    print("min coverage:", min(r["coverage"] for _, r in rows if r["coverage"] is not None))
    print("min inside:", min(r["inside"] for _, r in rows if r["inside"] is not None))
