"""The run-file format's one definition: schema name and version, the
channel table's fields and the events table's layout. The writer and the
reader both take them from here, so a field is added once (docs/runfile-format.md).
"""
from __future__ import annotations

import json

import h5py
import numpy as np

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
CHANNEL_FIELDS = ("name", "stream", "column", "physical", "kind", "role", "units", "signal_units",
                  "range", "adc", "calibration", "redline", "warning", "uncertainty", "serial",
                  "cal_date", "terminal", "excitation_V", "thermocouple_type")
CHANNEL_DTYPE = np.dtype([(f, "<i8" if f == "column" else _STR) for f in CHANNEL_FIELDS])


def channel_rows(rig, adc_overrides: dict | None = None) -> np.ndarray:
    """The channel table for ``rig``; dict-valued fields are JSON text."""
    rows = []
    for ch in rig.channels:
        adc = (adc_overrides or {}).get(ch.name, ch.adc)
        vals = {
            "name": ch.name, "stream": ch.stream, "column": ch.column, "physical": ch.physical,
            "kind": ch.kind, "role": ch.role, "units": ch.units, "signal_units": ch.signal_units,
            "range": json.dumps(list(ch.range)), "adc": json.dumps(adc),
            "calibration": json.dumps(ch.calibration),
            "redline": json.dumps(ch.redline.to_dict() if ch.redline else {}),
            "warning": json.dumps(ch.warning.to_dict() if ch.warning else {}),
            "uncertainty": json.dumps(ch.uncertainty), "serial": ch.serial, "cal_date": ch.cal_date,
            "terminal": ch.terminal, "excitation_V": json.dumps(ch.excitation_V),
            "thermocouple_type": ch.thermocouple_type or "",
        }
        rows.append(tuple(vals[f] for f in CHANNEL_FIELDS))
    return np.array(rows, dtype=CHANNEL_DTYPE)
