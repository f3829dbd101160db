"""`hotfire verify` and what analyze/info/export do with a damaged run file (issue 20)."""
from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from hotfire.cli import main
from hotfire.core.rig import load_rig
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    d = tmp_path_factory.mktemp("verify")
    rig = load_rig("lox-ethanol-5kN")
    src = open_source(rig, "simulator", scenario=scenario("nominal", pretrigger_s=0.5, burn_s=1.0, posttrigger_s=0.5))
    rec = Recorder(d)
    Acquisition(rig, src, [rec], test_id="V1", ring_seconds=20.0).run()
    path = d / "V1.h5"
    with h5py.File(path, "r") as f:
        rows = {s: f["streams"][s]["raw"][()] for s in f["streams"]}
    return d, path, rows


def _copy(recorded, tmp_path, journal=True):
    d, path, rows = recorded
    shutil.copy(path, tmp_path / path.name)
    if journal:
        shutil.copytree(d / "V1.journal", tmp_path / "V1.journal")
    return tmp_path / path.name, rows


def _zero_in_chunk(path, stream, nbytes=65536, chunk=0, skip=100):
    with h5py.File(path, "r") as f:
        info = f["streams"][stream]["raw"].id.get_chunk_info(chunk)
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset + skip)
        fh.write(bytes(nbytes))


def _rows(path):
    with h5py.File(path, "r") as f:
        return {s: f["streams"][s]["raw"][()] for s in f["streams"]}


def test_intact_run_verifies(recorded, tmp_path, capsys):
    path, _ = _copy(recorded, tmp_path)
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "intact" in out and "every chunk matches its checksum" in out and "every sample matches the journal" in out


def test_damaged_chunk_is_refused_everywhere_then_repaired_bit_exact(recorded, tmp_path, capsys):
    path, rows = _copy(recorded, tmp_path)
    _zero_in_chunk(path, "main")
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED: stream 'main': samples 0.." in out and "s from T0): chunk checksum mismatch" in out
    assert main(["analyze", str(path)]) == 1
    assert "stream 'main': samples 0.." in capsys.readouterr().err
    assert main(["export", str(path), "--channels", "PC", "-o", str(tmp_path / "x.csv")]) == 1
    assert "stream 'main'" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()
    assert main(["info", str(path)]) == 0
    assert "DAMAGED      1 span(s)" in capsys.readouterr().out
    assert main(["verify", str(path), "--repair"]) == 0
    assert "REPAIRED: stream 'main'" in capsys.readouterr().out
    after = _rows(path)
    assert all(after[s].tobytes() == rows[s].tobytes() for s in rows)  # the original samples, bit for bit
    assert main(["analyze", str(path), "--json"]) == 0


def test_unopenable_file_is_rebuilt_from_the_journal(recorded, tmp_path, capsys):
    path, rows = _copy(recorded, tmp_path)
    with open(path, "r+b") as fh:
        fh.write(bytes(4096))  # the HDF5 superblock and root object header
    assert main(["verify", str(path)]) == 1
    assert "DAMAGED" in capsys.readouterr().out
    assert main(["verify", str(path), "--repair"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt from" in out and (tmp_path / "V1.h5.damaged").exists()
    after = _rows(path)
    assert all(np.array_equal(after[s].view(np.uint8), rows[s].view(np.uint8)) for s in rows)


def test_no_journal_no_repair(recorded, tmp_path, capsys):
    path, _ = _copy(recorded, tmp_path, journal=False)
    _zero_in_chunk(path, "dynamic", nbytes=8)
    assert main(["verify", str(path), "--repair"]) == 1
    assert "no journal to repair it from" in capsys.readouterr().err


def test_catalog_marks_damaged_and_duplicate_id_runs(recorded, tmp_path, capsys):
    d = tmp_path / "runs"
    d.mkdir()
    path, _ = _copy(recorded, d, journal=False)
    shutil.copy(path, d / "V1-copy.h5")     # the same test id twice
    shutil.copy(path, d / "V1-bad.h5")
    _zero_in_chunk(d / "V1-bad.h5", "dynamic", nbytes=4096)
    assert main(["catalog", str(d), "--quiet", "--serial"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "V1-bad.h5: damaged run file: stream 'dynamic': samples" in err
    assert "warning: test id 'V1' is held by 2 files" in err
    assert main(["catalog", str(d), "--no-update", "--problems"]) == 0
    assert "V1-bad.h5\tdamaged run file: stream 'dynamic'" in capsys.readouterr().out


def test_a_damaged_span_across_several_chunks_is_repaired_whole(recorded, tmp_path, capsys):
    # the end of chunk 1, all of chunk 2 and the start of chunk 3: one span of several chunks
    from hotfire.core.runfile import writer as writer_mod
    from hotfire.daq.recover import recover

    path, _ = _copy(recorded, tmp_path)
    with pytest.MonkeyPatch.context() as mp:  # the file rebuilt from its journal, with small chunks
        mp.setattr(writer_mod, "_chunk_rows", lambda nch, isz: 1000)
        recover(tmp_path / "V1.journal", output=path, force=True)
    rows = _rows(path)
    with h5py.File(path, "r") as f:
        ds = f["streams"]["main"]["raw"]
        assert ds.id.get_num_chunks() >= 4
        size = ds.id.get_chunk_info(2).size
        cr = ds.chunks[0]
    _zero_in_chunk(path, "main", nbytes=64, chunk=1, skip=size - 64)
    _zero_in_chunk(path, "main", nbytes=size, chunk=2, skip=0)
    _zero_in_chunk(path, "main", nbytes=64, chunk=3, skip=0)
    assert main(["verify", str(path), "--json"]) == 1
    import json
    rep = json.loads(capsys.readouterr().out)
    assert len(rep["damage"]) == 1, rep["damage"]  # adjacent damaged chunks: one span
    assert rep["damage"][0].startswith(f"stream 'main': samples {cr}..{4 * cr - 1} "), rep["damage"][0]
    assert main(["verify", str(path), "--repair"]) == 0
    out = capsys.readouterr().out
    assert "REPAIRED: stream 'main'" in out and "rebuilt from" not in out  # in place, chunk by chunk
    after = _rows(path)
    assert all(after[s].tobytes() == rows[s].tobytes() for s in rows)  # all three chunks, bit for bit
    assert main(["verify", str(path)]) == 0
