"""The run-file format's one definition: schema name and version, the
channel table's fields and the events table's layout. The writer and the
reader both take them from here, so a field is added once (docs/runfile-format.md).
"""
from __future__ import annotations

import h5py
import numpy as np

from hotfire.core.channel import ROW_DTYPE, ROW_FIELDS
from hotfire.core.channel import channel_rows as _rows

SCHEMA = "hotfire.run"
VERSION = "1.2"

# Integrity (1.2, core/runfile/integrity.py): per-chunk CRC-32 of the raw rows,
# a CRC-32 digest of each stream's rows and of its segments table.
CHUNK_CRC = "chunk_crc"            # dataset in each stream group: uint32 per raw chunk
DIGEST_ATTR = "raw_crc32"          # stream attribute: CRC-32 of rows [0, committed)
SEGMENTS_CRC_ATTR = "segments_crc32"  # stream attribute: CRC-32 of the segments table
CHECKSUM = "crc32-iso-hdlc"        # root attribute "checksum": the function used
TABLE_CRC_ATTRS = {"channels": "channels_crc32", "events": "events_crc32"}  # root attributes: table_crc

_STR = h5py.string_dtype()
EVENT_DTYPE = np.dtype([
    ("kind", _STR), ("stream", _STR), ("sample", "<i8"), ("time_s", "<f8"),
    ("channel", _STR), ("message", _STR),
])
#: the channel table: one row per channel, its columns from the one channel description
CHANNEL_FIELDS = ROW_FIELDS
CHANNEL_DTYPE = ROW_DTYPE


def channel_rows(rig, adc_overrides: dict | None = None) -> np.ndarray:
    """The channel table for ``rig`` (:meth:`hotfire.core.channel.Channel.to_row`); dict-valued
    fields are JSON text. ``adc_overrides`` (channel -> adc) replace the rig's, e.g. the
    scaling NI-DAQmx reported for the device."""
    over = adc_overrides or {}
    return _rows([ch.replace(adc=over[ch.name]) if ch.name in over else ch for ch in rig.channels])
