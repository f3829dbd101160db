"""The run file (HDF5, format v1): one package owns it.

:mod:`.schema` defines the format (version, channel and event tables),
:mod:`.writer` writes it, :mod:`.reader` reads it (``open_run``), a channel
at a time through :mod:`.view` (lazy channel views) into :mod:`.signal`
(samples in memory); :mod:`.segments` maps sample indices to stored rows,
:mod:`.integrity` checks them, :mod:`.chunkread` reads them;
docs/runfile-format.md documents it.
"""
from hotfire.core.runfile.schema import CHANNEL_FIELDS, EVENT_DTYPE, SCHEMA, VERSION
from hotfire.core.runfile.writer import RunFileWriter
from hotfire.core.runfile.reader import Run, RunFileError, Signal, open_run
from hotfire.core.runfile.view import ChannelView

__all__ = ["CHANNEL_FIELDS", "EVENT_DTYPE", "SCHEMA", "VERSION", "RunFileWriter",
           "Run", "RunFileError", "Signal", "open_run", "ChannelView"]
