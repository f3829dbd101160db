"""The run catalog: metadata and results in SQLite, incremental updates,
queries, and damaged or foreign files reported and skipped."""
import os
import shutil
import sqlite3

import h5py
import pytest

from hotfire.analysis.batch import Engine
from hotfire.analysis.catalog import CATALOG_FILE, Catalog, CatalogError
from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run
from hotfire.cli import main
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

SHORT = dict(pretrigger_s=0.5, burn_s=1.0, posttrigger_s=0.5)
SERIAL = Engine(serial=True, timeout_s=20)
RUNS = [  # test id, rig, scenario overrides
    ("LE-1", "lox-ethanol-5kN", {}),
    ("LE-2", "lox-ethanol-5kN", {"eta_cstar": 0.92}),
    ("KR-1", "lox-rp1-100kN", {}),
]


@pytest.fixture(scope="session")
def made_runs(tmp_path_factory):
    """Three simulated runs, made once: {test id: path}."""
    out = tmp_path_factory.mktemp("catalog-runs")
    paths = {}
    for test_id, rig_name, over in RUNS:
        rig = load_rig(rig_name)
        src = open_source(rig, "simulator", scenario=scenario("nominal", **SHORT, **over))
        paths[test_id] = Acquisition(rig, src, [Recorder(out)], test_id=test_id).run().path
    return paths


@pytest.fixture
def folder(tmp_path, made_runs):
    """A folder of its own holding copies of the runs (tests change files)."""
    d = tmp_path / "runs"
    (d / "rp1").mkdir(parents=True)
    for test_id, path in made_runs.items():
        shutil.copy2(path, d / ("rp1" if test_id.startswith("KR") else "") / f"{test_id}.h5")
    return d


def test_catalog_holds_metadata_and_the_analysis_results(folder):
    cat = Catalog.for_folder(folder)
    rep = cat.update([folder], engine=SERIAL)
    assert cat.path == folder / CATALOG_FILE and cat.path.exists()
    assert sorted(os.path.basename(p) for p in rep.added) == ["KR-1.h5", "LE-1.h5", "LE-2.h5"]
    assert not rep.problems
    kr = cat.get(folder / "rp1" / "KR-1.h5")
    assert (kr.rig, kr.article_serial, kr.oxidizer, kr.fuel, kr.source) == \
        ("lox-rp1-100kN", "KR100-S02", "O2(L)", "RP-1", "simulator")
    assert kr.rig_sha256 == load_rig("lox-rp1-100kN").sha256
    assert kr.size == (folder / "rp1" / "KR-1.h5").stat().st_size
    assert kr.start_time_utc.endswith("+00:00")
    assert kr.roles["thrust"] == ["THRUST_A", "THRUST_B"]
    with open_run(kr.path) as run:
        res = analyze_run(run).to_dict()
    perf = res["results"]
    for key in ("total_impulse_Ns", "thrust_N", "pc_bar", "isp_s", "c_star_efficiency"):
        assert kr.metrics[key] == perf[key]  # the flattened columns hold the analysis's numbers
    assert kr.metrics["ignition_delay_s"] == perf["thrust"]["ignition_delay_s"]
    assert kr.performance == perf and kr.stability == res["stability"]
    assert kr.performance["uncertainty"]["isp_s"] > 0  # with the analysis's uncertainties
    assert kr.row["stability_verdict"] == "smooth"
    # paths inside the catalog's folder are stored relative to it: the folder can move
    raw = sqlite3.connect(cat.path).execute("SELECT path FROM runs ORDER BY path").fetchall()
    assert [r[0] for r in raw] == ["LE-1.h5", "LE-2.h5", "rp1/KR-1.h5"]


def test_queries_by_rig_article_date_propellants_and_metrics(folder):
    cat = Catalog.for_folder(folder)
    cat.update([folder], engine=SERIAL)
    ids = lambda entries: sorted(e.test_id for e in entries)  # noqa: E731
    assert ids(cat.query(rig="lox-rp1-100kN")) == ["KR-1"]
    assert ids(cat.query(rig="LOX-*")) == ["KR-1", "LE-1", "LE-2"]  # glob, case-insensitive
    assert ids(cat.query(article="LE5-003")) == ["LE-1", "LE-2"]
    assert ids(cat.query(propellants="RP-1/O2(L)")) == ["KR-1"]  # either order
    assert ids(cat.query(since="2000-01-01", until="2999-12-31")) == ["KR-1", "LE-1", "LE-2"]
    assert cat.query(until="2000-01-01") == []
    assert ids(cat.query(c_star_efficiency=(0.94, None))) == ["KR-1", "LE-1"]
    assert ids(cat.query(c_star_efficiency=(None, 0.94), rig="lox-ethanol-5kN")) == ["LE-2"]
    assert ids(cat.query(where=["c_star_efficiency>0.94", "thrust_N<10000"])) == ["LE-1"]
    assert ids(cat.query(where=["rig!=lox-rp1-*"])) == ["LE-1", "LE-2"]
    # any number of the stored results, by its JSON path; and the stability verdict
    assert ids(cat.query(where=["uncertainty.c_star_efficiency<0.01", "stability.max_rms_percent<5",
                                "stability_verdict=smooth"])) == ["KR-1", "LE-1", "LE-2"]
    assert ids(cat.query(where=["thrust.ignition_delay_s>0.2"])) == []
    assert [e.test_id for e in cat.query(order_by="-thrust_N", limit=1)] == ["KR-1"]
    with pytest.raises(CatalogError, match="unknown field 'c_star_eff'"):
        cat.query(where=["c_star_eff>0.9"])
    with pytest.raises(CatalogError, match="is a number"):
        cat.query(where=["isp_s>high"])


def _tear(path, offset=8000, size=4096):
    """Zero 4 KiB inside a file, as a power cut can leave HDF5 metadata."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes(size))


def test_damaged_and_foreign_files_are_reported_and_skipped_never_fatal(folder, capsys):
    (folder / "notes.h5").write_text("not HDF5 at all\n")
    data = (folder / "LE-1.h5").read_bytes()
    (folder / "truncated.h5").write_bytes(data[: len(data) // 3])
    torn = folder / "torn.h5"
    torn.write_bytes(data)
    _tear(torn)  # HDF5 loops forever reading this file's attributes: the timeout must catch it
    with h5py.File(folder / "foreign.h5", "w") as f:
        f["x"] = [1.0, 2.0]
    (folder / "readme.txt").write_text("ignored: not a run file name")
    cat = Catalog.for_folder(folder)
    # the reader runs in a child process that imports numpy, h5py and hotfire: on a loaded 2-core
    # machine that alone took over 4 s (seen), so the hang-catching limit leaves room for it
    rep = cat.update([folder], engine=Engine(serial=True, timeout_s=20))
    assert sorted(e.test_id for e in cat.query()) == ["KR-1", "LE-1", "LE-2"], rep.problems
    reasons = {os.path.basename(p.path): p.reason for p in rep.problems}
    assert set(reasons) >= {"notes.h5", "truncated.h5", "foreign.h5"}
    assert "not an HDF5 file" in reasons["notes.h5"]
    assert "truncated" in reasons["truncated.h5"]
    assert "not a hotfire run file" in reasons["foreign.h5"]
    assert "torn.h5" in reasons or cat.get(torn) is not None  # skipped, or readable after all: never a hang
    assert {os.path.basename(p.path) for p in cat.problems()} == set(reasons)
    # unchanged bad files are not re-read, but still reported
    again = cat.update(engine=SERIAL)
    assert again.read == [] and len(again.problems) == len(rep.problems)
    # the command line reports path and reason, and succeeds
    assert main(["catalog", str(folder), "--serial", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"skipped {folder / 'foreign.h5'}: not a hotfire run file" in err
    # a file that is fixed leaves the problem list
    shutil.copy(folder / "LE-2.h5", folder / "notes.h5")
    rep3 = cat.update(engine=SERIAL)
    assert [os.path.basename(p) for p in rep3.added] == ["notes.h5"]
    assert "notes.h5" not in {os.path.basename(p.path) for p in cat.problems()}


def test_incremental_update_rereads_only_what_changed(folder):
    cat = Catalog.for_folder(folder)
    first = cat.update([folder], engine=SERIAL)
    assert len(first.read) == 3
    le1, le2, kr = folder / "LE-1.h5", folder / "LE-2.h5", folder / "rp1" / "KR-1.h5"
    before = {e.test_id: e.row["catalogued_utc"] for e in cat.query()}

    nothing = cat.update(engine=SERIAL)
    assert nothing.read == [] and nothing.unchanged == 3

    with h5py.File(le1, "a") as f:  # a real change: new content, new mtime
        f.attrs["notes"] = "re-reviewed: igniter late"
    st = le2.stat()
    os.utime(le2, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # touched: mtime only
    rep = cat.update(engine=SERIAL)
    assert rep.read == [str(le1)]  # the changed file only: LE-2 was hashed, not opened
    assert rep.changed == [str(le1)] and rep.touched == [str(le2)] and rep.unchanged == 1
    assert cat.get(le1).row["notes"] == "re-reviewed: igniter late"
    assert cat.get(le2).mtime_ns == le2.stat().st_mtime_ns
    assert cat.get(kr).row["catalogued_utc"] == before["KR-1"]

    moved = folder / "archive" / "KR-1.h5"  # moved: found by its content hash, not re-read
    moved.parent.mkdir()
    kr.rename(moved)
    le2.unlink()
    rep = cat.update(engine=SERIAL)
    assert rep.read == [] and rep.moved == [(str(kr), str(moved))] and rep.removed == [str(le2)]
    assert sorted(e.test_id for e in cat.query()) == ["KR-1", "LE-1"]
    assert cat.get(moved).test_id == "KR-1"

    assert cat.update(engine=SERIAL, verify=True).touched == []  # --verify hashes all, finds no change
    assert len(cat.update(engine=SERIAL, refresh=True).read) == 2


def test_catalog_kept_beside_the_data_and_queried_from_the_command_line(folder, capsys):
    assert main(["catalog", str(folder), "--serial", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["catalog", str(folder), "--no-update", "--rig", "lox-rp1-100kN",
                 "--where", "c_star_efficiency>0.9", "--paths"]) == 0
    assert capsys.readouterr().out.split() == [str(folder / "rp1" / "KR-1.h5")]
    assert main(["catalog", "--db", str(folder / CATALOG_FILE), "--no-update", "--query", "rig=lox-ethanol-5kN",
                 "--sort", "test_id"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["test", "id", "rig"] and [ln.split()[0] for ln in out[1:]] == ["LE-1", "LE-2"]
    assert main(["catalog", str(folder), "--no-update", "--rig", "lox-rp1-100kN",
                 "--columns", "test_id,isp_s,uncertainty.isp_s,stability.verdict"]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[0] == "KR-1" and float(row[2]) > 0 and row[3] == "smooth"
    assert main(["catalog", str(folder), "--no-update", "--where", "bogus>1"]) == 1
    assert "unknown field 'bogus'" in capsys.readouterr().err


def test_a_moved_file_copied_twice_is_one_move_and_one_new_run(folder):
    cat = Catalog.for_folder(folder)
    cat.update([folder], engine=SERIAL)
    src = folder / "LE-2.h5"
    shutil.copy2(src, folder / "copy-a.h5")
    src.rename(folder / "copy-b.h5")
    rep = cat.update(engine=SERIAL)
    assert len(rep.moved) == 1 and rep.moved[0][0] == str(src)
    assert len(rep.added) == 1 and rep.read == rep.added and rep.removed == []
    assert sorted(os.path.basename(e.path) for e in cat.query(test_id="LE-2")) == ["copy-a.h5", "copy-b.h5"]
