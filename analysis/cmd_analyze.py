"""``hotfire analyze RUN.h5``: burn, impulse and propellant efficiency."""
from __future__ import annotations

import json

from hotfire.analysis.performance import Settings, analyze
from hotfire.analysis.run import open_run

# (attribute, label, unit, format, truth key)
ROWS = [
    ("burn_time_s", "Burn time (10% of steady thrust)", "s", "{:.3f}", "burn_time_s"),
    ("total_impulse_Ns", "Total impulse", "N s", "{:,.0f}", "total_impulse_Ns"),
    ("average_thrust_N", "Average thrust over the burn", "N", "{:,.1f}", None),
    ("peak_thrust_N", "Peak thrust", "N", "{:,.1f}", None),
    ("thrust_N", "Steady thrust", "N", "{:,.1f}", "thrust_N"),
    ("pc_bar", "Steady chamber pressure", "bar", "{:.3f}", "pc_bar"),
    ("mdot_kg_s", "Mass flow", "kg/s", "{:.4f}", "mdot_kg_s"),
    ("of", "O/F", "", "{:.4f}", "of"),
    ("isp_s", "Isp", "s", "{:.2f}", "isp"),
    ("c_star_m_s", "c*", "m/s", "{:.1f}", "c_star"),
    ("cf", "CF", "", "{:.4f}", "cf"),
    ("c_star_theory_m_s", "c* theoretical (CEA)", "m/s", "{:.1f}", "c_star_theory"),
    ("c_star_efficiency", "c* efficiency", "", "{:.4f}", "c_star_efficiency"),
    ("isp_theory_s", "Isp theoretical (CEA, ambient)", "s", "{:.2f}", "isp_theory"),
]


def add_arguments(p):
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--burn-threshold", type=float, default=0.10,
                   help="burn = thrust above this fraction of steady thrust (default 0.10)")


def format_results(r, perf, truth: dict | None = None) -> str:
    w0, w1 = perf.steady_window_s
    head = f"{r.test_id} on {r.rig_name}: burn {perf.burn_start_s:+.3f} to {perf.burn_end_s:+.3f} s from T0, " \
           f"steady window {w0:+.3f} to {w1:+.3f} s"
    lines = [head, ""]
    hdr = f"  {'quantity':<34} {'value':>12} {'unit':<5}"
    if truth:
        hdr += f" {'simulated truth':>16} {'error':>8}"
    lines.append(hdr)
    for attr, label, unit, fmt, tkey in ROWS:
        v = getattr(perf, attr)
        if v is None:
            continue
        line = f"  {label:<34} {fmt.format(v):>12} {unit:<5}"
        if truth and tkey and tkey in truth:
            tv = truth[tkey]
            err = (v - tv) / tv * 100 if tv else float("nan")
            line += f" {fmt.format(tv):>16} {err:+7.2f}%"
        lines.append(line)
    return "\n".join(lines)


def run(args) -> int:
    with open_run(args.run) as r:
        perf = analyze(r, Settings(burn_threshold=args.burn_threshold))
        if args.json:
            print(json.dumps({"test_id": r.test_id, "rig": r.rig_name, "results": perf.to_dict(),
                              "truth": r.truth}, indent=2))
        else:
            print(format_results(r, perf, truth=r.truth))
    return 0
