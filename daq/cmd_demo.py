"""``hotfire demo``: a simulated firing on the default rig, recorded and analysed."""
from __future__ import annotations

import argparse

from hotfire.analysis.cmd_analyze import format_results
from hotfire.analysis.performance import analyze
from hotfire.analysis.run import open_run
from hotfire.daq import cmd_acquire

DEFAULT_RIG = "lox-ethanol-5kN"


def add_arguments(p):
    p.add_argument("--rig", default=DEFAULT_RIG, help=f"rig to simulate (default: {DEFAULT_RIG})")
    p.add_argument("--scenario", default="nominal", help="simulated firing scenario")
    p.add_argument("--out", default="runs", metavar="DIR", help="directory for the run file (default: runs)")
    p.add_argument("--realtime", action="store_true", help="pace the simulation by the wall clock")


def run(args) -> int:
    acq_args = argparse.Namespace(
        rig=args.rig, source="simulator", scenario=args.scenario, duration=None, burn=None,
        out=args.out, test_id=None, notes="hotfire demo", fast=not args.realtime, quiet=False,
        trigger=None, pretrigger=2.0, posttrigger=None)
    rig, summary = cmd_acquire.acquire(acq_args, realtime=args.realtime)
    with open_run(summary.path) as r:
        perf = analyze(r)
        print(format_results(r, perf, truth=r.truth))
    print(f"\nRun file: {summary.path}")
    print(f"Inspect it with:  hotfire info {summary.path}")
    print(f"Analyse it with:  hotfire analyze {summary.path} [--json]")
    return 0
