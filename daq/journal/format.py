"""Journal format: record framing, CRC, constants, errors (docs/journal-format.md).

Everything the writer and the reader share: the record header layout and its
CRCs, the segment header layout, dtype codes, the error classes, and the
check of one record header. Checksums are CRC-32 (ISO-HDLC, the one of
zlib/gzip/PNG): ``isal_zlib.crc32`` of ISA-L where installed (the same
function, ~3x faster here), else :func:`zlib.crc32`; both release the GIL.
"""
from __future__ import annotations

import errno as _errno
import json
import re
import struct
import time
from dataclasses import dataclass

import numpy as np

from hotfire.core.errors import HotfireError

try:  # ISA-L's CRC-32 is the same function as zlib's, with SIMD (~6 GB/s against ~1.8)
    from isal.isal_zlib import crc32 as _crc32
except ImportError:  # pragma: no cover - isal is a dependency; zlib gives the same values
    from zlib import crc32 as _crc32

FORMAT_VERSION = 1

RECORD_MAGIC = b"HFJR"
SEGMENT_MAGIC = b"HFJSEG\r\n"  # \r\n: a text-mode copy is caught at once

# Record types.
SEGMENT, DATA, GAP, EVENT, META = 1, 2, 3, 4, 5
_TYPE_NAMES = {SEGMENT: "SEGMENT", DATA: "DATA", GAP: "GAP", EVENT: "EVENT", META: "META"}

NO_STREAM = 0xFFFFFFFF

# dtype code <-> numpy dtype; samples are always little-endian on disk.
DTYPE_CODES = {
    1: np.dtype("<i2"),
    2: np.dtype("<i4"),
    3: np.dtype("<f4"),
    4: np.dtype("<f8"),
    5: np.dtype("<u2"),
    6: np.dtype("<i1"),
    7: np.dtype("<u1"),
    8: np.dtype("<i8"),
    9: np.dtype("<u4"),
}
_CODE_OF = {dt: code for code, dt in DTYPE_CODES.items()}

# Record header, 64 bytes little-endian; see docs/journal-format.md.
#   magic, type, dtype code, flags, sequence, stream id, n_channels,
#   first index, count, payload length, wall time ns | header crc, record crc
_HEAD = struct.Struct("<4sBBHQIIqQQq")
_CRC = struct.Struct("<I")
HEADER_SIZE = _HEAD.size + 8
assert HEADER_SIZE == 64

# Segment header payload prefix, followed by the JSON and the rig text:
#   magic, format version, flags, segment number, rig sha256, json len, rig len
_SEG = struct.Struct("<8sHHI32sII")

_SEGMENT_RE = re.compile(r"^journal-(\d{6,})\.hfj$")
#: a copy of segment 1's SEGMENT record, written with it: the journal's description survives damage to every segment header
HEADER_COPY = "journal-header.hfj"


# A valid record never claims more than this; a larger length is corruption
# (and would otherwise make the reader try to allocate it).
_MAX_PAYLOAD = 1 << 40


def segment_name(number: int) -> str:
    """Return the file name of segment ``number`` (``journal-000001.hfj``)."""
    return f"journal-{number:06d}.hfj"


# ----------------------------------------------------------------- errors


class JournalWriteError(OSError):
    """A write or sync of the journal failed; what was on disk before is intact.

    An ``OSError`` with the ``errno`` of the failure (``ENOSPC``, ``EIO``, ...),
    ``filename`` (the segment) and the extra attributes ``offset`` (byte offset
    of the record or of the synced end) and ``operation`` (``"write"``,
    ``"fdatasync"``, ``"create"``). The writer stays usable: call again later.
    """

    def __init__(self, err: int, strerror: str, filename: str, offset: int, operation: str):
        super().__init__(err, strerror, filename)
        self.offset = offset
        self.operation = operation

    def __str__(self) -> str:
        name = _errno.errorcode.get(self.errno, str(self.errno))
        return (f"journal {self.operation} failed in {self.filename} at offset "
                f"{self.offset}: [{name}] {self.strerror}")

    def __reduce__(self):  # keep the extra fields through pickling (multiprocessing)
        return (type(self), (self.errno, self.strerror, self.filename, self.offset, self.operation))


class JournalFormatError(HotfireError, ValueError):
    """The journal cannot be read: no valid segment, or a newer format version."""


class JournalReadError(HotfireError, OSError):
    """A record validated during the scan no longer reads back the same."""


# ---------------------------------------------------------------- helpers


def json_default(obj):
    """JSON for numpy values as the journal stores them (dtypes by name, scalars and arrays as plain JSON)."""
    if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
        return np.dtype(obj).name
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False,
                      default=json_default).encode("utf-8")


def _pack_header(rtype, dtype_code, seq, stream_id, n_channels, first, count,
                 payload, payload_len, time_ns: int | None = None) -> bytes:
    head = _HEAD.pack(RECORD_MAGIC, rtype, dtype_code, 0, seq, stream_id, n_channels,
                      first, count, payload_len, time.time_ns() if time_ns is None else time_ns)
    hcrc = _crc32(head)
    hcrc_b = _CRC.pack(hcrc)
    rcrc = _crc32(payload, _crc32(hcrc_b, hcrc))  # = crc32(head + hcrc_b + payload)
    return head + hcrc_b + _CRC.pack(rcrc)


def _stream_specs(metadata: dict) -> dict[str, tuple[int, int, np.dtype]]:
    """Validate ``metadata["streams"]``; return name -> (id, n_channels, dtype)."""
    streams = metadata.get("streams")
    if not isinstance(streams, dict) or not streams:
        raise ValueError("metadata['streams'] must be a non-empty dict: "
                         "name -> {'n_channels': int, 'dtype': str, 'rate_hz': float}")
    out = {}
    for sid, (name, spec) in enumerate(streams.items()):
        where = f"metadata['streams'][{name!r}]"
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: stream names must be non-empty strings")
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a dict with n_channels and dtype")
        try:
            nch = int(spec["n_channels"])
            dt = np.dtype(spec["dtype"]).newbyteorder("<")
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{where}: needs 'n_channels' and 'dtype' ({exc})") from None
        if nch < 1:
            raise ValueError(f"{where}['n_channels']: expected >= 1, got {nch}")
        if dt not in _CODE_OF:
            raise ValueError(f"{where}['dtype']: {dt.name} is not supported; expected one of "
                             + ", ".join(sorted(d.name for d in _CODE_OF)))
        out[name] = (sid, nch, dt)
    return out


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """One record of a journal: segment file ``path``, byte ``offset``, ``size`` (header + payload),
    ``seq``, and the wall time ``time_ns`` in its header."""
    path: str
    offset: int
    size: int
    seq: int
    time_ns: int = 0


def _parse_header(b) -> tuple:
    return _HEAD.unpack_from(b) + _CRC.unpack_from(b, 56) + _CRC.unpack_from(b, 60)


def _check_header(b, offset: int, size: int) -> tuple[tuple | None, str]:
    """Validate a record header at ``offset``; return (fields, "") or (None, reason)."""
    if len(b) < HEADER_SIZE:
        return None, f"short header ({len(b)} of {HEADER_SIZE} bytes)"
    if b[:4] != RECORD_MAGIC:
        return None, "bad magic"
    f = _parse_header(b)
    if _crc32(b[:56]) != f[11]:
        return None, "header CRC mismatch"
    if f[9] > _MAX_PAYLOAD:
        return None, f"implausible payload length {f[9]}"
    if offset + HEADER_SIZE + f[9] > size:
        return None, f"short payload ({size - offset - HEADER_SIZE} of {f[9]} bytes)"
    return f, ""

