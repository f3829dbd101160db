"""Run-file integrity: every damaged chunk is detected and named (stream, samples, seconds).

The truth of which samples a damage touched is computed here from the byte
offsets HDF5 reports for each chunk (``chunk_iter``) and the segments table,
not by the code under test. ``HOTFIRE_CORRUPT_TRIALS`` (default 200) sets
the number of random corruptions.
"""
from __future__ import annotations

import os
import shutil

import h5py
import numpy as np
import pytest

from hotfire.core.rig import load_rig
from hotfire.core.runfile import writer as writer_mod
from hotfire.core.runfile.reader import RunDamagedError, RunFileError, open_run
from hotfire.core.runfile.writer import RunFileWriter
from hotfire.core.errors import HotfireError
from hotfire.core.events import Event

TRIALS = int(os.environ.get("HOTFIRE_CORRUPT_TRIALS", "200"))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A run file with ~64 KiB chunks (many per stream), a gap, and non-trivial data."""
    mp = pytest.MonkeyPatch()
    mp.setattr(writer_mod, "_chunk_rows", lambda nch, isz: max(16, (1 << 16) // (nch * isz)))
    rig = load_rig("lox-ethanol-5kN")
    path = tmp_path_factory.mktemp("integ") / "run.h5"
    rng = np.random.default_rng(3)
    w = RunFileWriter(path, rig, {"test_id": "INTEG-1"})
    written = {}
    for name, st in rig.streams.items():
        dt = np.dtype(st.dtype)
        n = int(min(st.rate_hz * 2, 60_000))
        rows = (rng.integers(-2000, 2000, (n, len(st.channels))).astype(dt) if dt.kind == "i"
                else rng.normal(0, 5, (n, len(st.channels))).astype(dt))
        k = n // 3
        w.append(name, 0, rows[:k])
        w.append(name, k + 50, rows[k:])  # a gap of 50 samples
        written[name] = rows
        w.flush()
    w.add_events([Event("T0", "main", 100, "T0", "")])
    w.close()
    mp.undo()
    return {"path": path, "written": written, "rig": rig}


def layout(path):
    """Per stream: chunk rows, committed rows, row bytes, segments, [(first row, byte offset, size)]."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, g in f["streams"].items():
            ds = g["raw"]
            chunks = []
            ds.id.chunk_iter(lambda i, c=chunks: c.append((i.chunk_offset[0], i.byte_offset, i.size)))
            out[name] = dict(cr=ds.chunks[0], committed=int(g.attrs["committed"]),
                             rowb=ds.shape[1] * ds.dtype.itemsize, segs=g["segments"][()], chunks=sorted(chunks))
    return out


def sample_of(segs, row):
    for s0, r0, n in segs:
        if r0 <= row < r0 + n:
            return int(s0 + row - r0)
    raise AssertionError(f"row {row} in no segment")


def test_clean_file_is_intact_and_reads(clean):
    with open_run(clean["path"]) as r:
        assert r.checksummed and r.damage == []
        for name, rows in clean["written"].items():
            segs, got = r.rows(name)
            assert got.tobytes() == rows.tobytes()  # byte-exact: checksums do not alter data
        assert r.metadata["schema_version"] == "1.2"


def test_random_chunk_damage_is_always_detected(clean, tmp_path):
    """TRIALS seeded corruptions of the data bytes of random chunks: each is found, named and refused."""
    lay = layout(clean["path"])
    path = tmp_path / "d.h5"
    shutil.copy(clean["path"], path)
    rng = np.random.default_rng(2026)
    names = sorted(lay)
    detected = 0
    for t in range(TRIALS):
        name = names[int(rng.integers(len(names)))]
        L = lay[name]
        row0, off, _ = L["chunks"][int(rng.integers(len(L["chunks"])))]
        data_bytes = min(L["cr"], L["committed"] - row0) * L["rowb"]
        kind = ("flip", "zero", "random")[int(rng.integers(3))]
        at = int(rng.integers(data_bytes))
        n = 1 if kind == "flip" else int(rng.integers(1, min(data_bytes - at, 300_000) + 1))
        with open(path, "r+b") as fh:
            fh.seek(off + at)
            orig = fh.read(n)
            if kind == "flip":
                new = bytes([orig[0] ^ (1 << int(rng.integers(8)))])
            elif kind == "zero":
                new = bytes(n)
            else:
                new = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
            if new == orig:  # zeroing zeros changes nothing: not a damage
                continue
            fh.seek(off + at)
            fh.write(new)
        changed = [i for i in range(n) if new[i] != orig[i]]
        first_row = row0 + (at + changed[0]) // L["rowb"]
        last_row = row0 + (at + changed[-1]) // L["rowb"]
        s_first, s_last = sample_of(L["segs"], first_row), sample_of(L["segs"], last_row)
        try:
            with open_run(path) as r:
                spans = [d for d in r.damage if d.stream == name]
                assert spans, f"trial {t}: {kind} of {n} B at row {first_row} of {name} not detected"
                for s in (s_first, s_last):  # a chunk may hold two segments: two spans
                    assert any(d.first_sample <= s < d.end_sample for d in spans), (t, s, spans)
                assert all(d.stream == name for d in r.damage), f"trial {t}: false damage {r.damage}"
                ch = next(c.name for c in r.channels if c.stream == name)
                with pytest.raises(RunDamagedError, match=f"stream '{name}': samples"):
                    r.channel(ch)
                detected += 1
        finally:
            with open(path, "r+b") as fh:
                fh.seek(off + at)
                fh.write(orig)
    assert detected >= TRIALS * 0.95  # the rest changed nothing (zeros over zeros)
    with open_run(path) as r:
        assert r.damage == []  # restored: nothing left over


def test_damage_to_the_tables_and_rig_text_is_refused(clean, tmp_path):
    """The channel table (calibrations), events (T0) and rig text carry checksums too."""
    for what in ("channels", "events", "rig"):
        p = tmp_path / f"{what}.h5"
        shutil.copy(clean["path"], p)
        with h5py.File(p, "r+") as f:
            if what == "channels":
                rows = f["channels"][()]
                rows[0]["calibration"] = b'{"type": "linear", "slope": 2.0, "offset": 0.0}'
                f["channels"][0] = rows[0]
            elif what == "events":
                ev = f["events"][()]
                ev[0]["sample"] += 1
                f["events"][0] = ev[0]
            else:
                f.attrs["rig_config"] = str(f.attrs["rig_config"]).replace("5 kN", "6 kN")
        with pytest.raises(RunDamagedError, match="fails its (checksum|sha256)"):
            open_run(p)


def test_damage_to_segments_and_checksum_tables(clean, tmp_path):
    p = tmp_path / "segs.h5"
    shutil.copy(clean["path"], p)
    with h5py.File(p, "r+") as f:
        f["streams/main/segments"][1, 0] += 7  # samples shifted by 7: wrong times, same bytes
    with open_run(p) as r:
        assert [d.stream for d in r.damage] == ["main"] and "segments table" in r.damage[0].reason
        with pytest.raises(RunDamagedError):
            r.channel("PC")
        r.channel("TC-OX")  # another stream still reads
    p2 = tmp_path / "crc.h5"
    shutil.copy(clean["path"], p2)
    with h5py.File(p2, "r+") as f:
        f["streams/main/chunk_crc"][0] ^= 1
    with open_run(p2) as r:  # the samples match the stream digest: served, and the table damage is reported
        assert "checksum table damaged" in r.damage[0].reason
        assert r.rows("main")[1].tobytes() == clean["written"]["main"].tobytes()


def test_random_bytes_anywhere_never_pass_as_good_data(clean, tmp_path):
    """100 seeded 1-4 KB corruptions anywhere in the file: either refused with a clear error, or
    every sample, channel and event read is exactly what was written (damage in unused bytes)."""
    size = os.path.getsize(clean["path"])
    rng = np.random.default_rng(7)
    path = tmp_path / "any.h5"
    outcomes = {"refused": 0, "harmless": 0}
    with open_run(clean["path"]) as r:
        ref_events, ref_channels = r.events, r.channels
    for t in range(100):
        shutil.copy(clean["path"], path)
        at = int(rng.integers(size))
        n = int(rng.integers(1, 4096))
        with open(path, "r+b") as fh:
            fh.seek(at)
            fh.write(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        try:
            with open_run(path) as r:
                for name, rows in clean["written"].items():
                    got = r.rows(name)[1]
                    assert got.tobytes() == rows.tobytes(), f"trial {t}: {name} served damaged rows"
                assert r.events == ref_events and r.channels == ref_channels, f"trial {t}"
            outcomes["harmless"] += 1
        except HotfireError:
            outcomes["refused"] += 1
    print("random damage anywhere:", outcomes)
    assert outcomes["refused"] > 50, outcomes


def test_old_files_without_checksums_still_read(clean, tmp_path):
    p = tmp_path / "old.h5"
    shutil.copy(clean["path"], p)
    with h5py.File(p, "r+") as f:
        for g in f["streams"].values():  # as format 1.1 wrote it
            del g["chunk_crc"]
            del g.attrs["raw_crc32"], g.attrs["segments_crc32"]
        for k in ("checksum", "channels_crc32", "events_crc32"):
            del f.attrs[k]
        f.attrs["schema_version"] = "1.1"
    with open_run(p) as r:
        assert not r.checksummed and r.damage == []
        assert r.rows("main")[1].tobytes() == clean["written"]["main"].tobytes()


def test_unopenable_file_is_a_clear_error(clean, tmp_path):
    p = tmp_path / "head.h5"
    shutil.copy(clean["path"], p)
    with open(p, "r+b") as fh:
        fh.write(bytes(4096))
    with pytest.raises(RunFileError, match="not an HDF5 file or unreadable|damaged"):
        open_run(p)
