"""``hotfire analyze RUN.h5``: thrust, propellant efficiency, stability, uncertainty.

A table in the terminal (with the simulated truth beside each result when
the run comes from the simulator), ``--json`` for scripts, ``--html FILE``
for a self-contained report with plots. Exit status: 0 when results were
computed (degraded ones are marked), 3 when nothing could be computed, 4
with ``--strict`` when any result is degraded.
"""
from __future__ import annotations

import json

from hotfire.analysis.textreport import format_results


def add_arguments(p):
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--series", action="store_true", help="with --json: include the time-resolved series")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with plots")
    p.add_argument("--pdf", metavar="FILE", help="write the same report as a PDF on A4 pages (for the archive)")
    p.add_argument("--conductor", metavar="NAME", help="the report's sign-off: the test conductor's name")
    p.add_argument("--reviewer", metavar="NAME", help="the report's sign-off: the reviewer's name")
    p.add_argument("--burn-threshold", type=float, default=None,
                   help="burn = thrust above this fraction of steady thrust "
                        "(default 0.10; of peak thrust with --nfpa, default 0.05)")
    p.add_argument("--nfpa", action="store_true", help="NFPA 1125 burn: thrust above 5 %% of peak")
    p.add_argument("--steady", metavar="A:B", help="steady window, seconds from T0 (default: found)")
    p.add_argument("--no-truth", action="store_true", help="do not show the simulated truth")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="given",
                   help="a measurement made after the firing, for this analysis (the run file is unchanged): "
                   "propellant_mass_kg, fuel_mass_burnt_kg, final_port_diameter_mm, total_mass_kg")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 4 when any result is degraded (a sensor failed under it)")


def truths(run, perf):
    """The simulator's truth by the analysis' own definitions: (thrust metrics, per plateau), or (None, None)."""
    from hotfire.daq.sources import simtruth

    if not run.scenario or perf is None:
        return None, None
    th = perf.thrust.thresholds if perf.thrust else {}
    tt = simtruth.thrust_truth(run, th.get("burn_fraction", 0.10), th.get("method", "steady"))
    wt = [simtruth.window_truth(run, (w.start_s, w.end_s)) for w in perf.plateaus]
    return tt, wt


def settings_from_args(args):
    from hotfire.analysis.performance import Settings

    s = Settings(burn_method="nfpa1125" if args.nfpa else "steady", burn_threshold=args.burn_threshold)
    if args.steady:
        a, b = (float(x) for x in args.steady.split(":"))
        s.steady_window_s = (a, b)
    return s


def run(args) -> int:
    from hotfire.analysis.alloc import tuned_for_analysis
    from hotfire.analysis.results import analyze_run
    from hotfire.core.runfile.guard import open_run_guarded

    from hotfire.analysis.postfire import apply

    with open_run_guarded(args.run) as r, tuned_for_analysis():
        given = apply(r, args.given)
        res = analyze_run(r, settings_from_args(args))
        if args.html:
            from hotfire.analysis.report import write_html

            write_html(r, res, args.html, truths=truths(r, res.performance) if not args.no_truth else None,
                       conductor=args.conductor, reviewer=args.reviewer)
        if args.pdf:
            from hotfire.analysis.pdf import write_pdf

            write_pdf(r, res, args.pdf, conductor=args.conductor, reviewer=args.reviewer)
        if args.json:
            d = res.to_dict(series=args.series)
            if not args.no_truth and res.performance is not None:
                tt, wt = truths(r, res.performance)
                d["simulated_truth"] = {"thrust": tt, "plateaus": wt} if tt else None
            if given:
                d["given"] = given
            print(json.dumps(d, indent=2))
        else:
            if given:
                print("given for this analysis (the run file is unchanged): "
                      + ", ".join(f"{k} = {v:g}" for k, v in given.items()) + "\n")
            print(format_results(r, res.performance, truths=(None, None) if args.no_truth else truths(r, res.performance),
                                 stability=res.stability, results=res))
            if args.html:
                print(f"\nreport: {args.html}")
            if args.pdf:
                print(f"{'' if args.html else chr(10)}report (PDF): {args.pdf}")
    return exit_status(res, args.strict)


#: exit statuses beyond 0 (results computed, degraded ones marked)
NOTHING_COMPUTED, DEGRADED = 3, 4


def exit_status(res, strict: bool = False) -> int:
    """0: results computed (degraded ones marked); 3: nothing could be computed; 4 (``strict``): any degraded."""
    if res.performance is None:
        return NOTHING_COMPUTED
    perf = res.performance
    if strict and (perf.status or any(w.status for w in perf.plateaus)):
        return DEGRADED
    return 0
