"""``hotfire compare RUN...``: overlays by role across rigs, and the metrics
against a reference run or a RASP (.eng) thrust curve.

    hotfire compare a.h5 b.h5 --align ignition --html compare.html
    hotfire compare a.h5 b.h5 c.h5 --reference b.h5
    hotfire compare a.h5 --reference motor.eng --roles thrust
    hotfire compare --catalog runs/ --rig lox-rp1-100kN --since 2026-11-01 --html trend.html
"""
from __future__ import annotations

import json
import os
import sys

from hotfire.cmd_catalog import add_query_arguments, has_query, query_args


def add_arguments(p):
    p.add_argument("runs", nargs="*", metavar="RUN", help="run files (.h5)")
    p.add_argument("--reference", metavar="RUN|ENG",
                   help="the run the others are compared to: one of RUN, another run file, or a RASP .eng "
                        "thrust curve (default: the first run)")
    p.add_argument("--align", choices=("t0", "ignition"), default="t0",
                   help="time zero: the T0 event, or ignition detected on chamber pressure (else thrust)")
    p.add_argument("--roles", default="thrust,chamber_pressure,ox_mass_flow,fuel_mass_flow", metavar="R,R,...",
                   help="roles to overlay (default: %(default)s)")
    p.add_argument("--rate", type=float, default=1000.0, metavar="HZ", help="common time base (default 1000 Hz)")
    p.add_argument("--window", type=float, nargs=2, metavar=("FROM", "TO"),
                   help="seconds around the alignment point to show (default: the burns, with margins)")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with plots")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--catalog", metavar="DIR|DB", help="take the runs from a catalog query (the flags below)")
    add_query_arguments(p)


def run(args) -> int:
    from hotfire.analysis.alloc import tuned_for_analysis
    from hotfire.analysis.compare import CompareError, compare, write_html

    runs = list(args.runs)
    if args.catalog:
        from hotfire.analysis.catalog import open_catalog

        with open_catalog(args.catalog) as cat:
            entries = cat.query(**query_args(args))
        if not entries:
            raise CompareError(f"the catalog query matched no runs in {args.catalog}")
        runs += [e.path for e in entries]
    elif has_query(args):
        raise CompareError("query flags need --catalog DIR|DB")
    if not runs and not args.reference:
        raise CompareError("give run files, or --catalog with a query")
    from hotfire.core.runfile.guard import check_run_file

    for p in dict.fromkeys(runs + ([args.reference] if args.reference else [])):
        if os.path.isfile(p) and not str(p).lower().endswith(".eng"):
            check_run_file(p)  # a file that would crash HDF5 is a clear error, before any is read
    with tuned_for_analysis():
        cmp = compare(runs, reference=args.reference, align=args.align,
                      roles=[r.strip() for r in args.roles.split(",") if r.strip()], rate_hz=args.rate,
                      window=tuple(args.window) if args.window else None)
    if args.json:
        print(json.dumps(cmp.to_dict(), indent=2))
    else:
        print(cmp.table())
    if args.html:
        path = write_html(cmp, args.html)
        print(f"report: {path}", file=sys.stderr)
    return 0
