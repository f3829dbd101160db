"""Run-file integrity: per-chunk CRC-32 of the raw samples and a digest per stream.

HDF5's Fletcher-32 filter cannot be combined with ``write_direct_chunk`` (the
writer's fast path) unless the writer computes it, so the writer keeps its
own: ``/streams/<s>/chunk_crc[k]`` is the CRC-32 of the bytes of the rows of
chunk ``k`` that lie below ``committed`` (the zero padding of a last partial
chunk is not data and is not covered), and the stream attribute
``raw_crc32`` is the CRC-32 of all ``committed`` rows, in order
(docs/runfile-format.md, "Integrity"). CRC-32 is the ISO-HDLC one of the
journal (``isal_zlib.crc32`` where installed, same values as ``zlib.crc32``).

:func:`verify_stream` finds the chunks whose samples do not match and says
which samples (and seconds) they hold, so a reader never serves them as data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from hotfire.core.runfile.chunkread import read_rows
from hotfire.core.runfile.schema import CHUNK_CRC, DIGEST_ATTR, SEGMENTS_CRC_ATTR

try:  # the same function as zlib.crc32, with SIMD
    from isal.isal_zlib import crc32
except ImportError:  # pragma: no cover - isal is a dependency
    from zlib import crc32

#: rows read per pass while verifying (~64 chunks of ~1 MiB)
_BATCH_CHUNKS = 64


def table_crc(arr) -> int:
    """CRC-32 of a compound table (channels, events) in a canonical form: JSON of its rows.

    Stored strings come back as bytes and numbers as numpy scalars; both
    sides normalise them the same way, so the writer's array and the table
    read back give the same value.
    """
    def norm(v):
        if isinstance(v, bytes):
            return v.decode("utf-8", "replace")
        if isinstance(v, np.generic):
            return v.item()
        return v
    rows = [[norm(r[name]) for name in arr.dtype.names] for r in arr] if len(arr) else []
    return crc32(json.dumps(rows, ensure_ascii=False).encode("utf-8"))


def segments_crc(segs) -> int:
    """CRC-32 of a ``segments`` table as stored (little-endian int64, row-major)."""
    return crc32(np.ascontiguousarray(segs, dtype="<i8").tobytes())


@dataclass(frozen=True)
class DamagedSpan:
    """Samples of one stream that cannot be trusted: ``[first_sample, end_sample)``.

    ``t_start``/``t_end``: seconds from T0 of the first and last sample;
    ``rows``: the dataset rows ``(first, end)``; ``reason``: what failed.
    """
    stream: str
    first_sample: int
    end_sample: int
    t_start: float
    t_end: float
    rows: tuple[int, int]
    reason: str

    def __str__(self) -> str:
        return (f"stream {self.stream!r}: samples {self.first_sample}..{self.end_sample - 1} "
                f"(t = {self.t_start:.4f} .. {self.t_end:.4f} s from T0): {self.reason}")


def has_checksums(group) -> bool:
    """Whether a stream group carries chunk checksums (files since format 1.2)."""
    return CHUNK_CRC in group and DIGEST_ATTR in group.attrs


def damaged_rows(group, check_digest: bool = True) -> list[tuple[int, int, str]]:
    """Row spans ``(first, end, reason)`` of a stream group whose checksums fail.

    Reads every committed row once. An unreadable chunk (damaged HDF5
    metadata) counts as damaged. Adjacent spans with the same reason merge.
    ``check_digest`` False skips the stream digest (a live file, whose digest
    and commit mark are not written at one instant).
    """
    ds = group["raw"]
    committed = int(group.attrs.get("committed", ds.shape[0]))
    cr = ds.chunks[0] if ds.chunks else max(1, committed)
    out: list[tuple[int, int, str]] = []

    def bad(a, b, why):
        if out and out[-1][1] == a and out[-1][2] == why:
            out[-1] = (out[-1][0], b, why)
        else:
            out.append((a, b, why))

    try:
        crcs = np.asarray(group[CHUNK_CRC][()], dtype=np.uint32)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        return [(0, committed, f"checksum table unreadable ({exc})")]
    if committed > ds.shape[0]:
        bad(ds.shape[0], committed, "rows committed but missing from the dataset")
        committed = ds.shape[0]
    digest = 0
    for a in range(0, committed, cr * _BATCH_CHUNKS):
        b = min(committed, a + cr * _BATCH_CHUNKS)
        try:
            block = read_rows(ds, a, b)
        except (OSError, ValueError, RuntimeError) as exc:
            bad(a, b, f"unreadable ({type(exc).__name__}: {exc})")
            digest = None
            continue
        mv = memoryview(np.ascontiguousarray(block).reshape(-1).view(np.uint8))
        rowb = ds.shape[1] * ds.dtype.itemsize
        for c0 in range(a, b, cr):
            c1 = min(b, c0 + cr)
            piece = mv[(c0 - a) * rowb:(c1 - a) * rowb]
            k = c0 // cr
            if k >= len(crcs):
                bad(c0, c1, "no checksum for these rows")
            elif crc32(piece) != int(crcs[k]):
                bad(c0, c1, "chunk checksum mismatch")
            if digest is not None:
                digest = crc32(piece, digest)
    stored = int(group.attrs[DIGEST_ATTR])
    if not check_digest:
        return out
    if digest is not None and digest != stored:
        if not out:
            out.append((0, committed, "stream digest mismatch"))
    elif digest is not None and out and all(w == "chunk checksum mismatch" for _, _, w in out):
        # every sample matches the stream's digest: the checksum table is what is damaged
        return [(a, b, "checksum table damaged (the samples match the stream digest)") for a, b, _ in out]
    return out


def segments_intact(group) -> bool:
    """Whether the stream's ``segments`` table matches its stored CRC (True for files without one)."""
    want = group.attrs.get(SEGMENTS_CRC_ATTR)
    if want is None:
        return True
    try:
        return segments_crc(group["segments"][()]) == int(want)
    except (OSError, RuntimeError, KeyError, ValueError):
        return False


def row_spans_to_samples(stream: str, spans, segments: np.ndarray, to_seconds) -> list[DamagedSpan]:
    """Map damaged row spans to sample spans through a ``segments`` table.

    ``to_seconds(sample_index_array)`` gives seconds from T0. Rows in no
    segment hold no sample (they are not data) and are dropped.
    """
    out = []
    for ra, rb, why in spans:
        for s0, r0, n in np.asarray(segments, dtype=np.int64).reshape(-1, 3):
            a, b = max(ra, int(r0)), min(rb, int(r0 + n))
            if a < b:
                sa, sb = int(s0) + a - int(r0), int(s0) + b - int(r0)
                t = to_seconds(np.array([sa, sb - 1], dtype=np.float64))
                out.append(DamagedSpan(stream, sa, sb, float(t[0]), float(t[1]), (a, b), why))
    return out
