"""``hotfire import FILE [FILE ...] -o RUN.h5``: foreign recordings as one run file, with the mapping printed."""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("file", nargs="+", help="the recording(s) to import (several: one run, aligned with --align)")
    p.add_argument("--format", choices=("csv", "tdms", "eng", "lvm", "json"),
                   help="file format (default: from the extension; .txt .tsv .dat are tables)")
    p.add_argument("-o", "--out", required=True, metavar="RUN.h5", help="run file to write")
    p.add_argument("--map", metavar="TOML", help="sidecar mapping: columns -> role/units/name/scale, time column, "
                   "t0, align, [article], [metadata] (see hotfire.analysis.importers.load_mapping)")
    p.add_argument("--channel", action="append", default=[], metavar="COLUMN=ROLE[:UNITS[:NAME]]",
                   help="map a column to a role (overrides the role guessed from its name), e.g. "
                   "'thrust_N=thrust:N:THRUST'; ROLE 'skip' leaves it out, 'time' makes it the time; "
                   "FILE:COLUMN for one file of several")
    p.add_argument("--scale", action="append", default=[], metavar="COLUMN=FACTOR[,OFFSET]",
                   help="the column's values x FACTOR + OFFSET are in its units (e.g. volts to newtons)")
    p.add_argument("--only-mapped", action="store_true", help="import only the mapped channels")
    p.add_argument("--time", metavar="COLUMN", help="time column (default: the one whose name says time, "
                   "else the first)")
    p.add_argument("--time-units", metavar="UNITS", help="time units: s, ms, us, min (default: from the column's "
                   "name, else s)")
    p.add_argument("--rate", type=float, metavar="HZ", help="sample rate of a file with no time column; with a "
                   "time column, the resampling rate for non-uniform time (eng default 1000)")
    p.add_argument("--gap", type=float, metavar="S", help="an interval longer than S seconds is a gap (default: "
                   "10 x the median interval; none in a curve)")
    p.add_argument("--repeated", choices=("auto", "steps", "clock"), default="auto",
                   help="repeated time stamps: RASP steps, or a logger clock coarser than its sampling")
    p.add_argument("--align", action="append", default=[], metavar="CHANNEL>VALUE[UNITS]",
                   help="align files with no common clock on an event, one per file, e.g. 'thrust>50N' "
                   "(a rise above the file's starting level)")
    p.add_argument("--offset", action="append", default=[], metavar="FILE=SECONDS",
                   help="add SECONDS to a file's clock (after any --align)")
    p.add_argument("--t0", type=float, metavar="S", help="file time of T0 (valves commanded open)")
    p.add_argument("--cutoff", type=float, metavar="S", help="file time of cutoff")
    p.add_argument("--article", action="append", default=[], metavar="KEY=VALUE",
                   help="test-article data, e.g. throat_diameter_mm=20 (repeatable)")
    p.add_argument("--propellant-mass", type=float, metavar="KG", help="propellant consumed (for Isp from mass)")
    p.add_argument("--test-id", help="test identifier (default: the first file's stem or the motor's name)")


def _value(v: str):
    try:
        return float(v)
    except ValueError:
        return v


def run(args) -> int:
    from hotfire.analysis.importers import (
        ImportFailed, Mapping, import_files, load_mapping, parse_channel_option, parse_scale_option,
    )

    m = load_mapping(args.map) if args.map else Mapping()
    for text in args.channel:
        sp = parse_channel_option(text)
        old = m.channels.get(sp.source)
        if old is not None:  # a --scale given first
            sp.scale, sp.offset = old.scale, old.offset
        m.channels[sp.source] = sp
    for text in args.scale:
        parse_scale_option(text, m)
    if args.only_mapped:
        m.only_mapped = True
    for k, v in (("time", args.time), ("time_units", args.time_units), ("t0", args.t0), ("cutoff", args.cutoff),
                 ("rate_hz", args.rate), ("gap_s", args.gap)):
        if v is not None:
            setattr(m, k, v)
    m.repeated = args.repeated if args.repeated != "auto" else m.repeated
    m.align += args.align
    for text in args.offset:
        f, eq, v = text.rpartition("=")
        try:
            m.offsets[f] = float(v)
            if not eq:
                raise ValueError
        except ValueError:
            raise ImportFailed(f"--offset {text!r}: expected FILE=SECONDS") from None
    for text in args.article:
        k, _, v = text.partition("=")
        m.article[k.strip()] = _value(v.strip())
    if args.propellant_mass:
        m.metadata["propellant_mass_kg"] = args.propellant_mass
    rep = import_files(args.file, args.out, args.format, m, args.test_id)
    from hotfire.core.runfile.reader import open_run

    for line in rep.lines:
        print(line)
    for n in rep.notes:
        print(f"note: {n}")
    with open_run(rep.path) as r:
        chans = ", ".join(f"{c.name} ({c.role}, {c.units or '-'})" for c in r.channels)
        rates = ", ".join(f"{s.rate_hz:g} Hz x {s.rows}" for s in r.streams.values())
        print(f"imported {', '.join(args.file)} -> {rep.path}: {chans}; {rates}")
    if rep.lines:
        print("(roles guessed from names can be set with --channel COLUMN=ROLE; see `hotfire import --help`)")
    return 0
