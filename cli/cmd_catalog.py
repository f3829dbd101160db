"""``hotfire catalog DIR...``: index run files in SQLite and query them.

    hotfire catalog runs/                               # update runs/.hotfire-catalog.sqlite
    hotfire catalog runs/ --rig lox-rp1-100kN --where "c_star_efficiency>0.95"
    hotfire catalog runs/ --since 2026-11-01 --propellants "O2(L)/RP-1" --paths
    hotfire catalog /archive --workers 8                # a local Dask cluster of 8 processes
    hotfire catalog /archive --scheduler tcp://head:8786
"""
from __future__ import annotations

import json
import sys

#: metadata columns of the listing: field -> heading; the metrics' come from the registry
META_COLUMNS = {"test_id": "test id", "rig": "rig", "article_serial": "article", "start_time_utc": "start (UTC)"}


def default_columns() -> list[str]:
    """The listing's columns: the metadata, then the registry's headline metrics."""
    from hotfire.analysis import metrics as M

    return list(META_COLUMNS) + [m.key for m in M.REGISTRY if m.headline]


def add_query_arguments(p):
    """The query flags, shared with ``hotfire compare --catalog``."""
    q = p.add_argument_group("query (all given conditions must hold)")
    q.add_argument("--rig", action="append", metavar="NAME", help="rig name (glob * ? allowed; repeat for any of)")
    q.add_argument("--article", action="append", metavar="SERIAL", help="test article serial (glob allowed)")
    q.add_argument("--since", metavar="DATE", help="started at or after (ISO 8601, UTC: 2026-11-01[T14:00])")
    q.add_argument("--until", metavar="DATE", help="started at or before (a bare date includes that day)")
    q.add_argument("--propellants", metavar="OX/FUEL", help='e.g. "O2(L)/RP-1" (either order)')
    q.add_argument("--where", "--query", action="append", default=[], metavar="COND", dest="where",
                   help='FIELD OP VALUE, OP one of = != < <= > >=, e.g. "c_star_efficiency>0.95", '
                        '"source=simulator", "test_id=KR100-*" (repeatable)')
    q.add_argument("--sort", default="start_time_utc", metavar="FIELD",
                   help="order by a field (--sort=-FIELD: descending; default: start time)")
    q.add_argument("--limit", type=int, metavar="N", help="at most N runs")


def query_args(args) -> dict:
    """Keyword arguments of :meth:`Catalog.query` from the query flags."""
    return dict(rig=args.rig, article=args.article, since=args.since, until=args.until,
                propellants=args.propellants, where=args.where, order_by=args.sort, limit=args.limit)


def has_query(args) -> bool:
    return any(v for k, v in query_args(args).items() if k not in ("order_by",))


def add_engine_arguments(p):
    e = p.add_argument_group("batch engine (reading and analysing files)")
    g = e.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, metavar="N", help="local Dask cluster of N worker processes "
                   "(default: CPU count, at most 8; small batches run in this process)")
    g.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://head:8786 "
                   "(workers need hotfire installed and the files at the same paths)")
    g.add_argument("--serial", action="store_true", help="read files one by one in this process")
    e.add_argument("--timeout", type=float, default=300.0, metavar="S",
                   help="give up on a file after S seconds (a damaged file can hang HDF5; default 300)")


def engine_from(args):
    from hotfire.analysis.batch import Engine

    return Engine(workers=args.workers, scheduler=args.scheduler, serial=args.serial, timeout_s=args.timeout)


def add_arguments(p):
    p.add_argument("dirs", nargs="*", metavar="DIR", help="folders of run files (searched recursively); default: "
                   "the folders the catalog already indexes")
    p.add_argument("--db", metavar="PATH", help="catalog file (default: DIR/.hotfire-catalog.sqlite, the first DIR)")
    p.add_argument("--no-update", action="store_true", help="query the catalog as it is, without reading files")
    p.add_argument("--refresh", action="store_true", help="re-read and re-analyse every file")
    p.add_argument("--verify", action="store_true", help="hash every file, even those whose size and mtime match")
    add_engine_arguments(p)
    add_query_arguments(p)
    out = p.add_argument_group("output")
    o = out.add_mutually_exclusive_group()
    o.add_argument("--list", action="store_true", help="list the matching runs (the default when a query is given)")
    o.add_argument("--paths", action="store_true", help="print the matching runs' paths only (for hotfire compare)")
    o.add_argument("--json", action="store_true", help="print the matching runs as JSON")
    o.add_argument("--problems", action="store_true", help="list the files that are not readable run files")
    out.add_argument("--columns", metavar="A,B,...", help="columns of --list (default: test id, rig, article, start "
                     "and the key metrics: burn time, impulse, thrust, Pc, O/F, Isp, c* efficiency)")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def _open(args):
    from hotfire.analysis.catalog import Catalog, CatalogError

    if args.db:
        return Catalog(args.db)
    if args.dirs:
        return Catalog.for_folder(args.dirs[0])
    raise CatalogError("give a folder of run files, or --db")


def _text(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] == "T":
        return v[:19].replace("T", " ")  # a time: seconds are enough here
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _value(e, name: str):
    """A column, or a number inside the stored results (``uncertainty.isp_s``, ``stability.verdict``)."""
    if name in e.row:
        return e.row[name]
    head, _, rest = name.partition(".")
    if head == "metrics":
        v = {k: val.to_dict() for k, val in e.values.items()}
    elif head == "stability":
        v = e.stability
    else:
        v, rest = e.performance, name
    for part in rest.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v


def _heading(name: str) -> str:
    from hotfire.analysis import metrics as M

    m = M.by_key().get(name)
    if m is None:
        return META_COLUMNS.get(name, name)
    return f"{m.short} {m.display_unit}".strip()


def _cell(e, name: str) -> str:
    """A metric as ``hotfire analyze`` shows it (scaled, "*" when degraded, "n/a" when not available);
    anything else as stored."""
    v = e.values.get(name)
    if v is None:
        return _text(_value(e, name))
    if v.value is None:
        return "n/a" if e.performance is not None or v.reason else "-"
    return v.text() + (" *" if v.state == "degraded" else "")


def format_list(entries, columns: list[str]) -> str:
    """The entries as aligned columns; metrics right-aligned, "*" marks a degraded value."""
    heads = [_heading(c) for c in columns]
    rows = [[_cell(e, c) for c in columns] for e in entries]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    num = [c not in ("test_id", "rig", "article_serial", "start_time_utc", "source", "fuel", "oxidizer", "path")
           for c in columns]
    fmt = lambda cells: "  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, num))  # noqa: E731
    lines = [fmt(heads)] + [fmt(r) for r in rows]
    if any(e.values.get(c) is not None and e.values[c].state == "degraded" for e in entries for c in columns):
        lines.append("* degraded: see hotfire analyze, or the catalog's metrics.KEY.reason")
    return "\n".join(line.rstrip() for line in lines)


def run(args) -> int:
    from hotfire.analysis.alloc import tuned_for_analysis
    from hotfire.analysis.batch import progress_printer

    with _open(args) as cat, tuned_for_analysis():
        if not args.no_update:
            prog = None if args.quiet else progress_printer("hotfire catalog: reading")
            rep = cat.update(args.dirs or None, engine=engine_from(args), verify=args.verify, refresh=args.refresh,
                             progress=prog)
            print(f"catalog {cat.path}: {len(cat)} runs; {rep.summary()}", file=sys.stderr)
            for pr in rep.problems:
                print(f"  skipped {pr.path}: {pr.reason}", file=sys.stderr)
        for tid, paths in cat.duplicate_test_ids().items():
            print(f"  warning: test id {tid!r} is held by {len(paths)} files: {', '.join(paths)}", file=sys.stderr)
        if args.problems:
            for pr in cat.problems():
                print(f"{pr.path}\t{pr.reason}")
            return 0
        listing = args.list or args.paths or args.json or has_query(args) or args.no_update
        if not listing:
            return 0
        entries = cat.query(**query_args(args))
        if args.paths:
            for e in entries:
                print(e.path)
        elif args.json:
            print(json.dumps([{k: v for k, v in e.row.items() if k not in ("performance", "channels", "roles", "metrics")}
                              | {"path": e.path, "uncertainty_convention": "expanded, k = 2 (~95 %)",
                                 "metrics": {k: v.to_dict() for k, v in e.values.items()},
                                 "performance": e.performance, "roles": e.roles}
                              for e in entries], indent=2))
        else:
            cols = args.columns.split(",") if args.columns else default_columns()
            for c in cols:
                cat._field(c)  # an unknown column is an error that names the fields
            print(format_list(entries, cols))
            print(f"{len(entries)} of {len(cat)} runs", file=sys.stderr)
    return 0
