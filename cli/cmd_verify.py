"""``hotfire verify RUN.h5 [--repair]``: check a run against its checksums and its journal.

Every raw chunk is checked against its CRC-32 and every stream against its
digest (docs/runfile-format.md, "Integrity"). Where the run's journal is
still next to it, every stored sample is compared with the journal's. With
``--repair``, damaged chunks are rewritten in place from the journal, each
only if the journal's rows reproduce the chunk's checksum exactly; a file
HDF5 can no longer open (or whose segments table is damaged) is rebuilt
whole from the journal, the damaged one kept as ``RUN.h5.damaged``.

Exit status: 0 intact (or repaired), 1 damage found (and not repaired).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def add_arguments(p):
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--journal", metavar="DIR", help="the run's journal (default: the one the file names, beside it)")
    p.add_argument("--repair", action="store_true", help="rebuild damaged spans from the journal")
    p.add_argument("--json", action="store_true", help="the findings as JSON")


def _journal_dir(path: Path, name: str | None, given: str | None) -> Path | None:
    if given:
        return Path(given)
    for cand in ([path.parent / name] if name else []) + [path.with_suffix(".journal")]:
        if cand.is_dir():
            return cand
    return None


def _against_journal(r, j) -> list[dict]:
    """Spans where the file's samples differ from the journal's, or the journal lacks them."""
    from hotfire.core.runfile.chunkread import read_rows
    from hotfire.daq.journal import stream_rows

    out = []
    for name, st in r.streams.items():
        if name not in j.streams:
            out.append({"stream": name, "problem": "stream not in the journal"})
            continue
        jr = stream_rows(j, name)
        ds = r.f["streams"][name]["raw"]
        for s0, r0, n in st.segments.tolist():
            file_rows = read_rows(ds, r0, r0 + n)
            k = np.searchsorted(jr.index, np.arange(s0, s0 + n))
            have = (k < len(jr.index)) & (jr.index[np.minimum(k, len(jr.index) - 1)] == np.arange(s0, s0 + n)) \
                if len(jr.index) else np.zeros(n, bool)
            jrows = jr.rows[np.minimum(k, max(len(jr.index) - 1, 0))] if len(jr.index) else None
            same = np.zeros(n, bool)
            if jrows is not None:
                fb = np.ascontiguousarray(file_rows).view(np.uint8).reshape(n, -1)
                jb = np.ascontiguousarray(jrows.astype(file_rows.dtype, copy=False)).view(np.uint8).reshape(n, -1)
                same = have & np.all(fb == jb, axis=1)
            for what, mask in (("not in the journal", ~have), ("differs from the journal", have & ~same)):
                for a, b in _runs(mask):
                    out.append({"stream": name, "first_sample": s0 + a, "end_sample": s0 + b, "problem": what})
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(a, b), ...]`` of the True runs of a boolean array."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.view(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _repair_chunks(path: str, damage, j) -> list[str]:
    """Rewrite damaged chunks in place from the journal; return what could not be repaired."""
    import h5py

    from hotfire.core.runfile.integrity import crc32
    from hotfire.core.runfile.schema import CHUNK_CRC
    from hotfire.daq.journal import stream_rows

    plan, failed = [], []
    with h5py.File(path, "r") as f:
        for stream in sorted({d.stream for d in damage}):
            g = f["streams"][stream]
            ds, crcs, segs = g["raw"], g[CHUNK_CRC][()], g["segments"][()]
            committed, cr = int(g.attrs["committed"]), ds.chunks[0]
            jr = stream_rows(j, stream) if stream in j.streams else None
            chunks = sorted({k for d in damage if d.stream == stream
                             for k in range(d.rows[0] // cr, (d.rows[1] - 1) // cr + 1)})
            for k in chunks:
                a, b = k * cr, min(committed, (k + 1) * cr)
                rows = _journal_rows(jr, segs, a, b, ds.dtype, ds.shape[1])
                if rows is None or crc32(rows) != int(crcs[k]):
                    failed.append(f"stream {stream!r} rows {a}..{b - 1}: the journal does not hold them exactly")
                    continue
                info = ds.id.get_chunk_info_by_coord((a, 0))
                buf = np.zeros((cr, ds.shape[1]), ds.dtype)  # the writer pads a last chunk with zeros
                buf[:b - a] = rows
                plan.append((info.byte_offset, buf.tobytes()[:info.size]))
    fd = os.open(path, os.O_WRONLY)
    try:
        for offset, data in plan:
            os.pwrite(fd, data, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    return failed


def _journal_rows(jr, segs, a: int, b: int, dtype, nch):
    """Rows ``[a, b)`` of the file rebuilt from the journal's rows, or None if any is missing."""
    if jr is None:
        return None
    out = np.empty((b - a, nch), dtype)
    filled = 0
    for s0, r0, n in segs.tolist():
        lo, hi = max(a, r0), min(b, r0 + n)
        if lo >= hi:
            continue
        want = np.arange(s0 + lo - r0, s0 + hi - r0)
        k = np.searchsorted(jr.index, want)
        if len(jr.index) == 0 or (k >= len(jr.index)).any() or (jr.index[k] != want).any():
            return None
        out[lo - a:hi - a] = jr.rows[k]
        filled += hi - lo
    return out if filled == b - a else None


def _rebuild(path: Path, jdir: Path) -> str:
    from hotfire.daq.recover import recover

    tmp = path.with_name(path.name + ".rebuilt")
    recover(jdir, output=tmp, force=True)
    kept = path.with_name(path.name + ".damaged")
    if path.exists():
        os.replace(path, kept)
    os.replace(tmp, path)
    return str(kept)


def run(args) -> int:
    from hotfire.core.errors import HotfireError
    from hotfire.core.runfile.guard import check_run_file
    from hotfire.core.runfile.reader import RunFileError, open_run
    from hotfire.daq.journal import JournalFormatError, read_journal

    path = Path(args.run)
    report: dict = {"run": str(path), "checksums": None, "damage": [], "journal": None, "journal_mismatch": [],
                    "repaired": [], "not_repaired": []}
    lines = []
    journal_name = None
    try:
        check_run_file(path)  # HDF5 crashing or hanging on the file: unopenable, rebuilt whole by --repair
        with open_run(path) as r:
            journal_name = r.metadata.get("journal")
            report["checksums"] = r.checksummed
            damage = r.damage
            report["damage"] = [str(d) for d in damage]
            jdir = _journal_dir(path, journal_name, args.journal)
            j = None
            if jdir is not None:
                try:
                    j = read_journal(jdir)
                    report["journal"] = str(jdir)
                    report["journal_mismatch"] = _against_journal(r, j)
                except (OSError, JournalFormatError) as exc:
                    lines.append(f"  journal {jdir}: unreadable ({exc})")
        unopenable = None
    except RunFileError as exc:
        unopenable, damage, j = str(exc), [], None
        report["damage"] = [unopenable]
        jdir = _journal_dir(path, journal_name, args.journal)

    if report["checksums"] is False:
        lines.append("  no checksums in this file (format < 1.2): only the journal comparison can find damage")
    lines += [f"  DAMAGED: {d}" for d in report["damage"]]
    for m in report["journal_mismatch"]:
        span = f" samples {m['first_sample']}..{m['end_sample'] - 1}" if "first_sample" in m else ""
        lines.append(f"  JOURNAL: stream {m['stream']!r}{span}: {m['problem']}")
    bad = bool(report["damage"]) or any(m["problem"] == "differs from the journal" for m in report["journal_mismatch"])

    if args.repair and bad:
        if jdir is None:
            raise HotfireError(f"{path}: damaged, and no journal to repair it from (give --journal DIR)")
        # Chunks first (in place, each checked against its CRC); what that cannot mend, a rebuild.
        whole = unopenable is not None or any(d.reason.startswith(("segments table", "checksum table unreadable",
                                                                    "unreadable")) for d in damage)
        if not whole:
            j = j or read_journal(jdir)
            report["not_repaired"] = _repair_chunks(str(path), [d for d in damage if not d.reason.startswith(
                "checksum table damaged")], j)
            with open_run(path) as r:
                whole = bool(r.damage) or any(m["problem"] == "differs from the journal"
                                              for m in _against_journal(r, j))
            if not whole:
                report["repaired"] = [str(d) for d in damage]
        if whole:
            kept = _rebuild(path, jdir)
            report["repaired"].append(f"rebuilt from {jdir} (the damaged file is kept as {kept}; "
                                      "samples the journal lacks are gaps)")
        with open_run(path) as r:
            left = r.damage
        report["damage_after_repair"] = [str(d) for d in left]
        bad = bool(left)
        lines += [f"  REPAIRED: {x}" for x in report["repaired"]]
        lines += [f"  NOT REPAIRED: {x}" for x in report["not_repaired"]]
        lines += [f"  STILL DAMAGED: {d}" for d in left]

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        head = f"{path}: " + ("DAMAGED" if bad else "repaired, intact" if report["repaired"] else "intact")
        what = ["every chunk matches its checksum" if report["checksums"] and not report["damage"] else None,
                f"every sample matches the journal {report['journal']}" if report["journal"]
                and not report["journal_mismatch"] else None,
                "no journal to compare with" if report["journal"] is None and unopenable is None else None]
        print("\n".join([head] + [f"  {w}" for w in what if w] + lines))
    return 1 if bad else 0
