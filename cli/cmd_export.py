"""``hotfire export RUN.h5 --channels A,B -o out.csv``: channels of a run as CSV, TDMS, MATLAB or RASP .eng."""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--channels", required=True, metavar="A,B,...",
                   help="channel names or roles, comma-separated (a role exports all its channels)")
    p.add_argument("-o", "--out", required=True, metavar="FILE",
                   help="output: .csv (units in the header; one file per stream, FILE.STREAM.csv, when the "
                   "channels come from several and --align is not given), .tdms (a group per stream), .mat "
                   "(a struct per stream) or .eng (a motor's tared thrust curve, RASP)")
    p.add_argument("--format", choices=("csv", "tdms", "mat", "eng"), help="format (default: from the suffix)")
    p.add_argument("--t", metavar="A:B", help="time window, seconds from T0 (write --t=-1:5 when A is negative)")
    p.add_argument("--rate", type=float, metavar="HZ",
                   help="resample each stream to HZ through an anti-alias filter (flat to 0.8 of the new Nyquist "
                   "frequency, 60 dB down above it); refused, with the rate to use, for a channel whose content "
                   "lies where the filter can neither keep nor remove it")
    p.add_argument("--align", action="store_true",
                   help="put the channels of several streams on one time base (--rate, or the first channel's "
                   "stream's rate); without it each stream keeps its own rate")


def run(args) -> int:
    from hotfire.analysis.export import export_run
    from hotfire.core.runfile.guard import open_run_guarded

    t = None
    if args.t:
        a, b = args.t.split(":")
        t = (float(a) if a else None, float(b) if b else None)
    keys = [c.strip() for c in args.channels.split(",") if c.strip()]
    with open_run_guarded(args.run) as r:
        outs, tabs = export_run(r, args.out, keys, t, args.rate, args.align, args.format)
    for o in outs:
        print(f"wrote {o}")
    for tb in tabs:
        how = f": {tb.resampled}" if tb.resampled else " (as recorded)"
        print(f"  {tb.name}: {len(tb.columns)} channel{'s' * (len(tb.columns) != 1)}, {len(tb.t):,} samples at "
              f"{tb.rate_hz:g} Hz{how}")
    return 0
