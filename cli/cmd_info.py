"""``hotfire info RUN.h5``: what a run file holds."""
from __future__ import annotations

import re

from hotfire.core.runfile.guard import open_run_guarded


def add_arguments(p):
    p.add_argument("run", help="run file (.h5)")


_NOT_RECORDED = re.compile(r"^(\d+) samples not recorded")


def stream_gaps(r, s) -> list[tuple[int, int]]:
    """A stream's missing ranges ``(first, count)``: holes between its segments, and a tail
    never written (a disk full to the end of the run), which only the file's gap events tell of."""
    gaps = list(s.gaps)
    seg = s.segments
    end = int(seg[-1, 0] + seg[-1, 2]) if len(seg) else s.first_sample
    for e in r.events:
        m = _NOT_RECORDED.match(e["message"]) if e["kind"] == "gap" and e["stream"] == s.name else None
        if m and e["sample"] >= end:
            gaps.append((int(e["sample"]), int(m.group(1))))
    return gaps


def describe(r) -> str:
    m = r.metadata
    out = [
        f"Run {r.test_id}   ({r.path})",
        f"  rig          {m.get('rig')}  (config sha256 {str(m.get('rig_sha256'))[:12]}...)",
        f"  article      {m.get('article_serial')}",
        f"  started      {m.get('start_time_utc')}",
        f"  source       {m.get('source')}   software {m.get('software_version')}   "
        f"format {m.get('schema')} {m.get('schema_version')}",
    ]
    if m.get("notes"):
        out.append(f"  notes        {m.get('notes')}")
    if int(m.get("recovered", 0) or 0):
        out.append(f"  RECOVERED    by `hotfire recover` from the journal {m.get('journal')} "
                   f"(see the 'recovery' attribute)")
    if not r.checksummed:
        out.append("  integrity    no checksums (format before 1.2): damage cannot be detected")
    elif r.damage:
        out.append(f"  DAMAGED      {len(r.damage)} span(s) fail their checksums; their samples are refused "
                   f"(`hotfire verify {r.path} --repair`):")
        out += [f"               {d}" for d in r.damage]
    else:
        out.append("  integrity    every chunk matches its checksum")
    out.append("")
    out.append(f"  {'stream':<10} {'rate':>10} {'samples':>12} {'seconds':>9} {'chans':>5}  gaps")
    for s in r.streams.values():
        gaps = stream_gaps(r, s)
        g = "none" if not gaps else f"{len(gaps)} ({sum(c for _, c in gaps)} samples)"
        out.append(f"  {s.name:<10} {s.rate_hz:>8g}Hz {s.rows:>12,} {s.rows / s.rate_hz:>9.2f} "
                   f"{len(s.channels):>5}  {g}")
    out.append("")
    out.append(f"  {'channel':<12} {'stream':<8} {'role':<26} {'units':<6} {'kind':<12} {'physical':<16} serial")
    for c in r.channels:
        out.append(f"  {c.name:<12} {c.stream:<8} {c.role:<26} {c.units:<6} {c.kind:<12} {c.physical:<16} {c.serial}")
    out.append("")
    out.append(f"  events ({len(r.events)}), times from T0:")
    for e in r.events:
        ch = f" [{e['channel']}]" if e["channel"] else ""
        out.append(f"  {e['time_s'] - r.t0:+10.4f} s  {e['kind']:<8} {e['stream']}#{e['sample']}{ch}  {e['message']}")
    return "\n".join(out)


def run(args) -> int:
    with open_run_guarded(args.run) as r:  # a file that crashes HDF5 is a clear error
        print(describe(r))
    return 0
