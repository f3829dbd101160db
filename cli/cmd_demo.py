"""``hotfire demo``: a simulated firing on the default rig, recorded and analysed."""
from __future__ import annotations

from hotfire.cmd_acquire import record
from hotfire.daq.publisher import DEFAULT_ADDRESS
from hotfire.daq.session import prepare_firing

DEFAULT_RIG = "lox-ethanol-5kN"


def add_arguments(p):
    p.add_argument("--rig", default=DEFAULT_RIG, help=f"rig to simulate (default: {DEFAULT_RIG})")
    p.add_argument("--scenario", default="nominal", help="simulated firing scenario")
    p.add_argument("--out", default="runs", metavar="DIR", help="directory for the run file (default: runs)")
    p.add_argument("--realtime", action="store_true", help="pace the simulation by the wall clock")


def run(args) -> int:
    from hotfire.analysis.alloc import tuned_for_analysis
    from hotfire.analysis.textreport import format_results
    from hotfire.cmd_analyze import truths
    from hotfire.analysis.report import write_html
    from hotfire.analysis.results import analyze_run
    from hotfire.core.runfile.reader import open_run

    # The demo records as `hotfire acquire RIG --source sim` does (with its live stream).
    firing = prepare_firing(args.rig, source="sim", scenario=args.scenario, out=args.out, notes="hotfire demo",
                            realtime=args.realtime, publish=DEFAULT_ADDRESS)
    summary = record(firing)
    report = summary.path.with_suffix(".html")
    with open_run(summary.path) as r, tuned_for_analysis():
        res = analyze_run(r)
        tr = truths(r, res.performance)
        print(format_results(r, res.performance, truths=tr, stability=res.stability, results=res))
        write_html(r, res, report, truths=tr)
    print(f"\nRun file: {summary.path}")
    print(f"Report:   {report}")
    print(f"Inspect it with:  hotfire info {summary.path}")
    print(f"Analyse it with:  hotfire analyze {summary.path} [--json | --html FILE]")
    return 0
