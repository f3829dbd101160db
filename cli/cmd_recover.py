"""``hotfire recover DIR``: rebuild a run file from the journal a crash left (or, given a folder of
runs, from each journal whose run file is missing or was never sealed)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hotfire.core.errors import HotfireError


def add_arguments(p):
    p.add_argument("journal", metavar="DIR", help="the run's journal directory (<out>/<test id>.journal), or a "
                                                 "folder of runs: every journal there whose run file is missing "
                                                 "or unsealed is recovered")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="run file to write (default: <test id>.h5 next to the journal directory)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing run file that was not recovered from this journal")
    p.add_argument("--json", action="store_true", help="print the recovery report as JSON")


def describe(rep) -> str:
    out = [f"journal {rep.journal}: {len(rep.segments)} segment(s), {rep.records} valid records, "
           f"id {rep.journal_id}"]
    if rep.closed:
        out.append("  the recording was closed normally (end-of-run record present)")
    missing = sum(c for s in rep.streams.values() for _, c, _ in s.gaps)
    if missing:
        out.append(f"  {missing:,} samples acquired were never recorded: they are gaps (below, and gap events "
                   f"in the run file)")
    else:
        out.append("  no end-of-run record: the recording did not close (crash or kill); "
                   "recovered up to the last valid record")
    for seg, off, reason in rep.damage:
        out.append(f"  damage: {seg} at byte {off}: {reason}")
    if not rep.damage:
        out.append("  no damage")
    out.append(f"  {'stream':<10} {'samples':>12} {'first':>10} {'end':>12} {'segments':>8}  gaps")
    for name, s in rep.streams.items():
        gaps = "none" if not s.gaps else "; ".join(f"{c} at {f} ({r})" for f, c, r in s.gaps[:4]) + (
            f"; ... {len(s.gaps) - 4} more" if len(s.gaps) > 4 else "")
        out.append(f"  {name:<10} {s.samples:>12,} {s.first_sample:>10} {s.end_sample:>12} {s.segments:>8}  {gaps}")
    if rep.overlaps:
        out.append(f"  {len(rep.overlaps)} overlapping record(s): first copy kept")
    if rep.removed_live_file:
        out.append(f"  removed the unsealed live file {rep.removed_live_file}")
    out.append(f"wrote {rep.output} (marked recovered; verified: its sample counts equal the journal's)")
    return "\n".join(out)


def run(args) -> int:
    from hotfire.daq.recover import recover, unfinished_journals

    d = Path(args.journal)
    if d.is_dir() and not any(d.glob("journal-*.hfj")) and any(d.glob("*.journal")):
        todo, done = unfinished_journals(d)
        if args.output and len(todo) != 1:
            raise HotfireError(f"{d}: --output names one run file, and {len(todo)} journals need recovery")
        print(f"hotfire recover: {d}: {len(todo)} journal(s) without a sealed run file"
              f"{', ' + str(len(done)) + ' with one (left alone)' if done else ''}", file=sys.stderr)
        reports = [recover(j, args.output, force=args.force) for j in todo]
        if args.json:
            print(json.dumps([r.to_dict() for r in reports], indent=2))
        else:
            print("\n\n".join(describe(r) for r in reports) or f"nothing to recover in {d}")
        return 0
    rep = recover(args.journal, args.output, force=args.force)
    print(json.dumps(rep.to_dict(), indent=2) if args.json else describe(rep))
    return 0
