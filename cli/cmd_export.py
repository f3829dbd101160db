"""``hotfire export RUN.h5 --channels A,B -o out.csv``: channels of a run as CSV."""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--channels", required=True, metavar="A,B,...",
                   help="channel names or roles, comma-separated (a role exports all its channels)")
    p.add_argument("-o", "--out", required=True, metavar="FILE.csv")
    p.add_argument("--t", metavar="A:B", help="time slice, seconds from T0 (write --t=-1:5 when A is negative)")
    p.add_argument("--rate", type=float, metavar="HZ",
                   help="resample every channel onto one uniform time base (default: the first channel's)")


def run(args) -> int:
    from hotfire.analysis.importers import export_csv
    from hotfire.core.runfile.guard import open_run_guarded

    t = None
    if args.t:
        a, b = args.t.split(":")
        t = (float(a) if a else None, float(b) if b else None)
    with open_run_guarded(args.run) as r:
        out = export_csv(r, args.out, [c.strip() for c in args.channels.split(",") if c.strip()], t, args.rate)
    print(f"wrote {out}")
    return 0
