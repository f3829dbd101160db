"""Every metric against the simulator's truth, with the tolerances stated.

Used by the tests (``test_accuracy.py``) and, run as a script, prints the
accuracy table:  ``python tests/analysis/accuracy.py``.

Truth comes from the noise-free engine model by the analysis' own
definitions (``hotfire.daq.sources.simtruth``): the same thresholds, the same
windows. Tolerances are what the simulated sensors allow (noise,
quantisation, the sample period, the 1 ms smoothing of the peak):
"""
from __future__ import annotations

# metric -> (kind, tolerance, where the value is)
THRUST = {
    "burn_time_s": ("abs", 0.002, "thrust"),  # s: crossings on 1 ms means, noise jitter of a few samples
    "action_time_s": ("abs", 0.002, "thrust"),
    "total_impulse_Ns": ("rel", 0.003, "thrust"),
    "average_thrust_N": ("rel", 0.001, "thrust"),
    "peak_thrust_N": ("rel", 0.005, "thrust"),  # noise bias of a maximum (+4 sigma of 1 ms means)
    "ignition_delay_s": ("abs", 0.001, "thrust"),
    "thrust_rise_time_s": ("abs", 0.001, "thrust"),
    "pc_rise_time_s": ("abs", 0.001, "thrust"),
    "peak_pc_ratio": ("abs", 0.01, "thrust"),
    "shutdown_impulse_Ns": ("rel", 0.01, "thrust"),
    "propellant_mass_kg": ("rel", 0.003, "perf"),
    "isp_from_mass_s": ("rel", 0.003, "perf"),
}
STEADY = {
    "thrust_N": ("rel", 0.002), "pc_bar": ("rel", 0.002), "ox_mdot_kg_s": ("rel", 0.002),
    "fuel_mdot_kg_s": ("rel", 0.002), "mdot_kg_s": ("rel", 0.002), "of": ("rel", 0.002),
    "isp_s": ("rel", 0.003), "c_star_m_s": ("rel", 0.003), "cf": ("rel", 0.003),
    "c_star_efficiency": ("rel", 0.003), "isp_efficiency": ("rel", 0.003), "cf_efficiency": ("rel", 0.003),
    "ox_injector_dp_bar": ("rel", 0.01), "fuel_injector_dp_bar": ("rel", 0.01),
}
STABILITY = {  # unstable scenario: 1850 Hz, 8 % of Pc from ignition + 1.0 s
    "frequency_hz": ("abs", 2.0), "amplitude_percent": ("rel", 0.05), "onset_s": ("abs", 0.03),
}


def _row(metric, scen, truth, measured, kind, tol):
    err = measured - truth
    rel = err / truth if truth else float("inf")
    ok = abs(err) <= tol if kind == "abs" else abs(rel) <= tol
    return {"metric": metric, "scenario": scen, "truth": truth, "measured": measured,
            "error": err if kind == "abs" else rel, "kind": kind, "tolerance": tol, "ok": ok}


def rows(firing, label):
    """Accuracy rows of one analysed firing."""
    out = []
    perf, tt = firing.perf, firing.truth
    for m, (kind, tol, where) in THRUST.items():
        v = getattr(perf.thrust if where == "thrust" else perf, m)
        if v is None or tt.get(m) is None:
            continue
        out.append(_row(m, label, tt[m], v, kind, tol))
    for i, (w, wt) in enumerate(zip(perf.plateaus, firing.window_truth)):
        tag = label if len(perf.plateaus) == 1 else f"{label} plateau {i + 1}"
        for m, (kind, tol) in STEADY.items():
            v = getattr(w, m)
            if v is None or wt.get(m) is None:
                continue
            out.append(_row(m, tag, wt[m], v, kind, tol))
    st = firing.stability
    if tt.get("instability_hz"):
        md = st.modes[0]
        for m, (kind, tol) in STABILITY.items():
            truth = {"frequency_hz": tt["instability_hz"], "amplitude_percent": tt["instability_amplitude_percent"],
                     "onset_s": tt["instability_onset_s"]}[m]
            out.append(_row(f"instability {m}", label, truth, getattr(md, m), kind, tol))
    return out


def format_table(all_rows) -> str:
    lines = [f"| metric | scenario | truth | measured | error | tolerance |", "|---|---|---|---|---|---|"]
    for r in all_rows:
        err = f"{r['error'] * 100:+.3f} %" if r["kind"] == "rel" else f"{r['error']:+.4g}"
        tol = f"{r['tolerance'] * 100:g} %" if r["kind"] == "rel" else f"{r['tolerance']:g}"
        lines.append(f"| {r['metric']} | {r['scenario']} | {r['truth']:.6g} | {r['measured']:.6g} | {err} | {tol}"
                     f"{'' if r['ok'] else ' FAIL'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from simfirings import RIGS, SCENARIOS, Firings

    f = Firings(Path(tempfile.mkdtemp()))
    allr = []
    for rig in RIGS:
        for scen in SCENARIOS:
            allr += rows(f.get(rig, scen), f"{rig} {scen}")
    allr += rows(f.get("tanks", "nominal"), "5kN tank scales nominal")
    print(format_table(allr))
    print(f"\n{sum(r['ok'] for r in allr)}/{len(allr)} within tolerance")
