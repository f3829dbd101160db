"""Batch analysis: a local Dask cluster gives the serial results exactly; a
task that raises or hangs costs its item only."""
import json
import shutil
import sqlite3
import time

import pytest

from hotfire.analysis.batch import Engine, TaskError, analyze_runs, map_tasks
from hotfire.analysis.catalog import Catalog
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

SHORT = dict(pretrigger_s=0.5, burn_s=1.0, posttrigger_s=0.5)


@pytest.fixture(scope="session")
def batch_runs(tmp_path_factory):
    """Six runs over both rigs and several scenarios, made once."""
    out = tmp_path_factory.mktemp("batch-runs")
    made = []
    for i, (rig_name, scen, over) in enumerate([
        ("lox-ethanol-5kN", "nominal", {}), ("lox-ethanol-5kN", "throttled", {"burn_s": 4.0}),
        ("lox-ethanol-5kN", "hard-start", {}), ("lox-rp1-100kN", "nominal", {}),
        ("lox-rp1-100kN", "nominal", {"eta_cstar": 0.93, "seed": 7}), ("lox-rp1-100kN", "unstable", {}),
    ]):
        rig = load_rig(rig_name)
        src = open_source(rig, "simulator", scenario=scenario(scen, **{**SHORT, **over}))
        made.append(Acquisition(rig, src, [Recorder(out)], test_id=f"B{i}-{scen}").run().path)
    (out / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(500))  # an HDF5 signature, then nothing
    return out, made


def _rows(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = {r["path"]: {k: r[k] for k in r.keys() if k != "catalogued_utc"}
            for r in con.execute("SELECT * FROM runs")}
    problems = {r["path"]: r["reason"] for r in con.execute("SELECT path, reason FROM problems")}
    con.close()
    return rows, problems


def test_catalog_on_a_local_dask_cluster_equals_a_serial_run(batch_runs, tmp_path):
    folder, made = batch_runs
    serial = Catalog(tmp_path / "serial.sqlite")
    rep_s = serial.update([folder], engine=Engine(serial=True))
    dask = Catalog(tmp_path / "dask.sqlite")
    seen = []
    rep_d = dask.update([folder], engine=Engine(workers=2, processes=False, min_batch=1),
                        progress=lambda done, total: seen.append((done, total)))
    assert "local Dask cluster (2 worker threads)" in rep_d.engine and rep_s.engine == "in this process"
    assert seen == [(i, 7) for i in range(1, 8)]  # progress for every file
    assert len(rep_d.added) == len(rep_s.added) == 6 and len(rep_d.problems) == 1
    rows_s, prob_s = _rows(serial.path)
    rows_d, prob_d = _rows(dask.path)
    assert rows_d == rows_s  # identical metadata and results, to the last bit of every float
    assert prob_d == prob_s
    assert all(json.loads(r["performance"])["c_star_efficiency"] > 0.9 for r in rows_s.values())


def test_analyze_runs_api_dask_equals_serial(batch_runs):
    folder, made = batch_runs
    paths = [str(p) for p in made] + [str(folder / "broken.h5")]
    serial = analyze_runs(paths, Engine(serial=True))
    dask = analyze_runs(paths, Engine(workers=2, processes=False, min_batch=1))
    assert list(serial) == list(dask) == paths  # input order
    assert dask == serial
    assert isinstance(serial[paths[-1]], TaskError) and "RunFileError" in serial[paths[-1]].reason


def _boom(x):
    if x == 2:
        raise ValueError("two is bad")
    return x * 10


def test_failures_and_hangs_cost_one_item():
    got = dict(map_tasks(_boom, [(1,), (2,), (3,)], Engine(serial=True)))
    assert got[(1,)] == 10 and got[(3,)] == 30
    assert got[(2,)] == TaskError("ValueError: two is bad")
    t = time.monotonic()
    got = dict(map_tasks(time.sleep, [(30,), (0,)], Engine(serial=True, timeout_s=1.5)))
    assert time.monotonic() - t < 15
    assert isinstance(got[(30,)], TaskError) and "no answer within 1.5 s" in got[(30,)].reason
    assert got[(0,)] is None  # the next task runs in a fresh helper


def test_small_batches_run_in_this_process_unless_a_cluster_is_named():
    assert Engine().chooses_serial(3) and not Engine().chooses_serial(50)
    assert not Engine(scheduler="tcp://127.0.0.1:1").chooses_serial(1)
    assert Engine(serial=True).describe(100) == "in this process"


def test_unreachable_scheduler_is_a_clear_error():
    from hotfire.core.errors import HotfireError

    with pytest.raises(HotfireError, match="cannot reach the Dask scheduler"):
        list(map_tasks(_boom, [(1,)], Engine(scheduler="tcp://127.0.0.1:9", connect_timeout_s=1)))


def test_copies_with_new_ids_are_separate_entries(batch_runs, tmp_path):
    folder, made = batch_runs
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(made[0], d / "a.h5")
    shutil.copy(made[0], d / "b.h5")  # the same content twice: two runs, not a move
    cat = Catalog(tmp_path / "c.sqlite")
    rep = cat.update([d], engine=Engine(serial=True))
    assert len(rep.added) == 2 and len(cat) == 2


def test_a_helper_whose_parent_dies_mid_task_ends_itself():
    """A helper stuck in a task (time.sleep here, a hang in HDF5 in life) must not outlive its parent:
    nothing else would ever kill it (one spun for an hour after its test suite ended)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    code = ("import time; from hotfire.analysis import batch\n"
            "h = batch._Helper(); print(h.proc.pid, flush=True); h.call(time.sleep, (120,), None)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    time.sleep(1.0)  # the task is running
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10  # its watch looks every 0.5 s; 10 s for a loaded machine
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"helper {pid} still running 10 s after its parent was killed")
