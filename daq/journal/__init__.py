"""Durable acquisition journal: append-only, CRC-framed, fdatasync'd segments.

The journal is the record of a run while it is acquired. The HDF5 run file is
produced from it and can always be rebuilt from it, so the journal is the one
thing that must survive a SIGKILL or a power cut (docs/journal-format.md,
DESIGN.md "Durability"). The reader never fabricates a row: a sensor reading
of 0 is plausible, so an invented row of zeros is the worst failure there is;
after damage it resynchronises on the next valid record, so a damaged byte
costs only the record it is in.

Modules, one job each:

* :mod:`.format`: record framing, CRCs, constants, errors;
* :mod:`.writer`: :class:`JournalWriter` (with :mod:`.fsio`, its OS helpers);
* :mod:`.records`: the records the reader returns;
* :mod:`.reader`: :func:`read_journal`, :func:`read_record`; :mod:`.scan`: the validating, resynchronising scan of a segment;
* :mod:`.rows`: :func:`stream_rows`, :func:`explain_missing`.

Examples
--------
>>> meta = {"test_id": "T-042", "streams": {"fast": {"n_channels": 64,
...         "dtype": "int16", "rate_hz": 10000.0}}}
>>> with JournalWriter(run_dir, meta, rig_text) as j:       # doctest: +SKIP
...     j.append("fast", 0, block)
>>> for rec in read_journal(run_dir): ...                  # doctest: +SKIP
"""
from hotfire.daq.journal.format import (
    DATA, EVENT, FORMAT_VERSION, GAP, HEADER_COPY, HEADER_SIZE, META, RECORD_MAGIC, SEGMENT, SEGMENT_MAGIC,
    JournalFormatError, JournalReadError, JournalWriteError, RecordLocation, segment_name,
)
from hotfire.daq.journal.records import Damage, DataRecord, EventRecord, GapRecord, MetaRecord, SegmentInfo
from hotfire.daq.journal.reader import Journal, read_journal, read_record
from hotfire.daq.journal.rows import StreamRows, explain_missing, stream_rows
from hotfire.daq.journal.writer import JournalWriter

__all__ = [
    "FORMAT_VERSION", "HEADER_COPY", "HEADER_SIZE", "RECORD_MAGIC", "SEGMENT_MAGIC",
    "SEGMENT", "DATA", "GAP", "EVENT", "META",
    "JournalWriter", "JournalWriteError", "JournalFormatError", "JournalReadError",
    "Journal", "DataRecord", "GapRecord", "EventRecord", "MetaRecord", "Damage", "SegmentInfo",
    "StreamRows", "read_journal", "read_record", "RecordLocation", "stream_rows",
    "explain_missing", "segment_name",
]
