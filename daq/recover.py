"""Rebuilding a run file from the journal a crash (or a full disk) left.

:func:`recover` reads the journal (:func:`hotfire.daq.journal.read_journal`:
every valid record; after damage it resynchronises on the next valid record),
feeds every valid record, in sequence order, to the same
:class:`~hotfire.daq.runbuild.RunBuilder` the recorder uses live, and seals
the result as ``<test id>.h5`` next to the journal directory. Nothing is
invented: samples absent from the journal are gaps in the file (the
``segments`` table), the damage found is reported and stored in the file.

The result is deterministic: recovering the same journal twice gives a
byte-identical file (no wall-clock time is written; the end time is that of
the end-of-run record, or of the last valid record).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import h5py

from hotfire.core.events import Event
from hotfire.daq.journal import JournalFormatError, MetaRecord, explain_missing, read_journal
from hotfire.daq.runbuild import JOURNAL_SUFFIX, LIVE_SUFFIX, RunBuilder
from hotfire.core.errors import HotfireError

__all__ = ["recover", "RecoveryReport", "RecoverError"]


class RecoverError(HotfireError):
    """The journal cannot be turned into a run file (the message says why)."""


@dataclass
class StreamReport:
    samples: int
    first_sample: int
    end_sample: int
    segments: int
    #: missing ranges (first, count, reason): a GAP record's reason, or "not in journal"
    gaps: list = field(default_factory=list)


@dataclass
class RecoveryReport:
    """What :func:`recover` found and wrote."""
    journal: str
    output: str
    test_id: str
    journal_id: str
    segments: list[str]
    records: int
    #: (segment, offset, reason) for every torn or damaged place, as read_journal reports it
    damage: list[tuple[str, int, str]]
    #: True if the journal has the recorder's end-of-run record (it was closed, not crashed)
    closed: bool
    streams: dict[str, StreamReport]
    overlaps: list = field(default_factory=list)
    removed_live_file: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _gaps(segs, first_sample: int, declared, acquired_end: int = 0) -> list[tuple[int, int, str]]:
    """Missing ranges between ``first_sample`` and the end of the acquisition, with their reasons.

    The end is the last stored row, a later declared gap's end, or ``acquired_end`` (the
    end-of-run record's count of samples acquired), whichever is last: samples acquired but
    never written (a disk that stayed full) are gaps too.
    """
    out = []
    pos = first_sample
    for s0, _, n in segs:
        if s0 > pos:
            out.extend(explain_missing(pos, s0, declared))
        pos = max(pos, s0 + n)
    tail = max(max((f + c for f, c, _ in declared), default=0), acquired_end)
    if tail > pos:
        out.extend(explain_missing(pos, tail, declared))
    return out


def unfinished_journals(directory) -> tuple[list[Path], list[Path]]:
    """The journals in ``directory`` (``<test id>.journal`` folders) whose run file is missing or was never
    sealed (a crash, a kill, a power cut), and those whose sealed run file is there: ``(unfinished, done)``."""
    import h5py

    unfinished, done = [], []
    for jdir in sorted(Path(directory).glob("*.journal")):
        if not jdir.is_dir():
            continue
        h5 = jdir.with_suffix(".h5")
        sealed = False
        if h5.exists():
            try:
                with h5py.File(h5, "r") as f:
                    sealed = int(f.attrs.get("sealed", 1)) == 1
            except OSError:
                sealed = False  # unreadable: the journal can rebuild it
        (done if sealed else unfinished).append(jdir)
    return unfinished, done


def recover(journal_dir, output=None, force: bool = False) -> RecoveryReport:
    """Rebuild the run file from a run's journal directory.

    Parameters
    ----------
    journal_dir : str or Path
        ``<out>/<test id>.journal``.
    output : str or Path, optional
        Where to write; default ``<test id>.h5`` next to the journal directory.
    force : bool
        Replace an existing run file that recovery did not produce from this
        journal (a run file recovery produced from it is always replaced:
        running recovery again gives the same file).

    Returns
    -------
    RecoveryReport

    Raises
    ------
    RecoverError
        No readable journal, not a run journal, or an existing run file in the way.
    """
    jdir = Path(journal_dir)
    try:
        j = read_journal(jdir)
    except FileNotFoundError as exc:
        raise RecoverError(f"{jdir}: {exc.strerror or exc}") from None
    except (JournalFormatError, NotADirectoryError) as exc:
        raise RecoverError(f"{jdir}: {exc}") from None
    meta = j.metadata
    if meta.get("format") != "hotfire.run-journal":
        raise RecoverError(f"{jdir}: not the journal of a hotfire run (metadata format {meta.get('format')!r})")
    test_id = meta.get("test_id") or jdir.name.removesuffix(JOURNAL_SUFFIX)
    out = Path(output) if output is not None else jdir.parent / f"{test_id}.h5"
    if out.exists() and not force:
        try:
            with h5py.File(out, "r") as f:
                ours = int(f.attrs.get("recovered", 0)) == 1 and f.attrs.get("journal_id") == j.journal_id
        except OSError:
            ours = False
        if not ours:
            raise RecoverError(f"{out} exists and was not recovered from this journal; use --force to replace "
                               f"it, or --output to write elsewhere")
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        tmp.unlink()

    b = RunBuilder(tmp, meta, j.rig_text, j.streams, journal_name=jdir.name, journal_id=j.journal_id)
    try:
        first_sample = dict.fromkeys(b.streams, 0)
        for rec in j:
            b.add(rec)
            if isinstance(rec, MetaRecord):
                for s, v in (rec.meta.get("first_sample") or {}).items():
                    if s in first_sample:
                        first_sample[s] = int(v)
        streams = {}
        acquired = (b.end_meta or {}).get("acquired_samples") or {}
        for s in b.streams:
            segs = b.w.segments(s)
            end = segs[-1][0] + segs[-1][2] if segs else first_sample[s]
            streams[s] = StreamReport(b.rows[s], first_sample[s], end, len(segs),
                                      _gaps(segs, first_sample[s], b.gaps[s], int(acquired.get(s, 0))))
            # every gap is an event of the file (those the acquisition posted are there already)
            b.w.add_events([Event("gap", s, first, f"{count} samples not recorded ({reason})")
                            for first, count, reason in streams[s].gaps if (s, first) not in b.gap_events])
        report = RecoveryReport(
            journal=str(jdir), output=str(out), test_id=test_id, journal_id=j.journal_id,
            segments=[sg.name for sg in j.segments], records=len(j),
            damage=[(d.segment, d.offset, d.reason) for d in j.damage], closed=b.end_meta is not None,
            streams=streams, overlaps=list(b.overlaps))
        stored = {k: v for k, v in report.to_dict().items() if k not in ("journal", "output", "removed_live_file")}
        b.seal(out, dict(b.rows), attrs={"recovered": 1, "recovery": json.dumps(stored)}, replace=True)
    except BaseException:
        b.abandon()
        raise
    live = jdir.parent / f"{test_id}{LIVE_SUFFIX}"
    if live.exists():
        # The unsealed live file of the crashed run: built from this same
        # journal, so it holds nothing the recovered file does not.
        os.unlink(live)
        report.removed_live_file = str(live)
    return report
