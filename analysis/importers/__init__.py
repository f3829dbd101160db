"""Foreign recordings as run files (format v1): text tables, NI TDMS, RASP .eng, LabVIEW .lvm, JSON logs.

Legacy data joins analyses and comparisons once it is a run file. An import
stores each channel's values as the file writes them, with a linear
calibration to SI (units read from the header or given, converted through
:mod:`hotfire.core.units`), and the run's ``/import`` group records the
files, their layout, the time base, each column's role and why, and what
was done (resampling, steps, gaps, alignment). Roles come from the mapping
(``--channel``, a sidecar TOML) or from the columns' names.

One module per format (:mod:`.table`, :mod:`.lvm`, :mod:`.jsonlog`,
:mod:`.eng`, :mod:`.tdms`); the shared parts: :mod:`.sniff` (separators,
decimal commas, preambles), :mod:`.header` (units and roles from names),
:mod:`.timebase` (order, steps, gaps, resampling), :mod:`.align` (files with
no common clock), :mod:`.frame`, :mod:`.build` and :mod:`.writer`.
"""
from __future__ import annotations

from pathlib import Path

from hotfire.analysis.importers.base import (  # noqa: F401
    ChannelSpec, ImportFailed, Mapping, load_mapping, parse_channel_option, parse_scale_option,
)
from hotfire.analysis.importers.build import ImportReport, build
from hotfire.analysis.importers.eng import parse_eng, read_eng_frame  # noqa: F401
from hotfire.analysis.importers.header import units_from_name  # noqa: F401
from hotfire.analysis.importers.tdms import import_tdms
from hotfire.analysis.importers.timebase import STEP_S  # noqa: F401

FORMATS = ("csv", "tdms", "eng", "lvm", "json")
#: file extensions read as text tables
TABLE_EXTENSIONS = ("csv", "txt", "tsv", "dat", "asc", "log")


def _format(path, fmt: str | None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt in TABLE_EXTENSIONS:
        return "csv"
    if fmt in ("jsonl", "ndjson"):
        return "json"
    if fmt not in FORMATS:
        raise ImportFailed(f"{path}: unknown format {fmt!r} (choose from {', '.join(FORMATS)}; text tables: "
                           f"{', '.join(TABLE_EXTENSIONS)})")
    return fmt


def read_frame(path, m: Mapping, fmt: str | None = None):
    """One file parsed into a :class:`~hotfire.analysis.importers.frame.Frame`."""
    from hotfire.analysis.importers.jsonlog import read_json_frame
    from hotfire.analysis.importers.lvm import read_lvm_frame
    from hotfire.analysis.importers.table import read_table_frame

    fmt = _format(path, fmt)
    if fmt == "tdms":
        raise ImportFailed(f"{path}: a TDMS file carries its own clocks: import it alone")
    return {"csv": read_table_frame, "eng": read_eng_frame, "lvm": read_lvm_frame,
            "json": read_json_frame}[fmt](path, m)


def import_files(paths, out, fmt: str | None = None, mapping: Mapping | None = None,
                 test_id: str | None = None) -> ImportReport:
    """Import one or several files into one run file; the report says what was done.

    Several files get one stream each, put on the first file's clock by
    ``mapping.align`` or ``mapping.offsets`` (see :mod:`.align`).
    """
    m = mapping or Mapping()
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if len(paths) == 1 and _format(paths[0], fmt) == "tdms":
        return ImportReport(import_tdms(paths[0], out, m, test_id))
    frames = [read_frame(p, m, fmt) for p in paths]
    tid = test_id or (frames[0].info["motor"]["name"] if frames[0].fmt == "eng" else None)
    return build(frames, out, m, tid)


def import_file(path, out, fmt: str | None = None, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import ``path`` as a run file ``out``; ``fmt`` from the extension when not given."""
    return import_files([path], out, fmt, mapping, test_id).path


def import_csv(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import a text table (a time column, or a stated rate, and channels) as a run file."""
    return import_file(path, out, "csv", mapping, test_id)


def import_eng(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import a RASP .eng thrust curve as a run file (one thrust channel)."""
    return import_file(path, out, "eng", mapping, test_id)


def import_lvm(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import a LabVIEW measurement file (.lvm, text) as a run file."""
    return import_file(path, out, "lvm", mapping, test_id)


def import_json(path, out, mapping: Mapping | None = None, test_id: str | None = None) -> Path:
    """Import a JSON log (records, JSON Lines or a dict of arrays) as a run file."""
    return import_file(path, out, "json", mapping, test_id)
