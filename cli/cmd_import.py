"""``hotfire import FILE --format csv|tdms|eng -o RUN.h5``: a foreign recording as a run file."""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("file", help="the recording to import")
    p.add_argument("--format", choices=("csv", "tdms", "eng"), help="file format (default: from the extension)")
    p.add_argument("-o", "--out", required=True, metavar="RUN.h5", help="run file to write")
    p.add_argument("--map", metavar="TOML", help="sidecar mapping: columns -> role/units/name, time column, "
                   "t0, [article], [metadata] (see hotfire.analysis.importers.load_mapping)")
    p.add_argument("--channel", action="append", default=[], metavar="COLUMN=ROLE[:UNITS[:NAME]]",
                   help="map a column (CSV) or group/channel (TDMS) to a role, e.g. 'thrust_N=thrust:N:THRUST'")
    p.add_argument("--only-mapped", action="store_true", help="import only the mapped channels")
    p.add_argument("--time", metavar="COLUMN", help="CSV time column (default: the first)")
    p.add_argument("--time-units", choices=("s", "ms", "us", "min"), help="CSV time units (default s)")
    p.add_argument("--t0", type=float, metavar="S", help="file time of T0 (valves commanded open)")
    p.add_argument("--cutoff", type=float, metavar="S", help="file time of cutoff")
    p.add_argument("--rate", type=float, metavar="HZ", help="resampling rate for non-uniform time (eng default 1000)")
    p.add_argument("--article", action="append", default=[], metavar="KEY=VALUE",
                   help="test-article data, e.g. throat_diameter_mm=20 (repeatable)")
    p.add_argument("--propellant-mass", type=float, metavar="KG", help="propellant consumed (for Isp from mass)")
    p.add_argument("--test-id", help="test identifier (default: the file's stem or the motor's name)")


def _value(v: str):
    try:
        return float(v)
    except ValueError:
        return v


def run(args) -> int:
    from hotfire.analysis.importers import Mapping, import_file, load_mapping, parse_channel_option

    m = load_mapping(args.map) if args.map else Mapping()
    for text in args.channel:
        sp = parse_channel_option(text)
        m.channels[sp.source] = sp
    if args.only_mapped:
        m.only_mapped = True
    for k, v in (("time", args.time), ("time_units", args.time_units), ("t0", args.t0), ("cutoff", args.cutoff),
                 ("rate_hz", args.rate)):
        if v is not None:
            setattr(m, k, v)
    for text in args.article:
        k, _, v = text.partition("=")
        m.article[k.strip()] = _value(v.strip())
    if args.propellant_mass:
        m.metadata["propellant_mass_kg"] = args.propellant_mass
    out = import_file(args.file, args.out, args.format, m, args.test_id)
    from hotfire.core.runfile.reader import open_run

    with open_run(out) as r:
        chans = ", ".join(f"{c.name} ({c.role}, {c.units or '-'})" for c in r.channels)
        rates = ", ".join(f"{s.rate_hz:g} Hz x {s.rows}" for s in r.streams.values())
        print(f"imported {args.file} -> {out}: {chans}; {rates}")
    return 0
