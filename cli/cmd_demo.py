"""``hotfire demo``: a simulated firing on the default rig, recorded and analysed."""
from __future__ import annotations

import sys

from hotfire.cmd_acquire import record
from hotfire.core.errors import HotfireError
from hotfire.daq.publisher import DEFAULT_ADDRESS
from hotfire.daq.session import prepare_firing

DEFAULT_RIG = "lox-ethanol-5kN"
FREE_PORT = "tcp://127.0.0.1:0"  # loopback, a port the system picks


def add_arguments(p):
    p.add_argument("--rig", default=DEFAULT_RIG, help=f"rig to simulate (default: {DEFAULT_RIG})")
    p.add_argument("--scenario", default="nominal", help="simulated firing scenario")
    p.add_argument("--out", default="runs", metavar="DIR", help="directory for the run file (default: runs)")
    p.add_argument("--realtime", action="store_true", help="pace the simulation by the wall clock")
    p.add_argument("--no-publish", dest="publish", action="store_false",
                   help=f"no live stream (default: {DEFAULT_ADDRESS}, or a free port if that one is busy)")


def run(args) -> int:
    from hotfire.analysis.alloc import tuned_for_analysis
    from hotfire.analysis.textreport import format_results
    from hotfire.cmd_analyze import truths
    from hotfire.analysis.report import write_html
    from hotfire.analysis.results import analyze_run
    from hotfire.core.runfile.reader import open_run

    # The demo records as `hotfire acquire RIG --source sim` does (with its live stream).
    def prepare(publish):
        return prepare_firing(args.rig, source="sim", scenario=args.scenario, out=args.out, notes="hotfire demo",
                              realtime=args.realtime, publish=publish)
    try:
        firing = prepare(DEFAULT_ADDRESS if args.publish else None)
    except HotfireError as exc:
        if not (args.publish and str(exc).startswith("cannot publish the live stream")):
            raise
        # port busy (an acquisition, another demo): the demo still runs, streaming on a free port
        print(f"hotfire: {DEFAULT_ADDRESS} is busy; the live stream goes to a free port instead", file=sys.stderr)
        firing = prepare(FREE_PORT)
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
