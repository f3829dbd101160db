"""The command line as a user runs it."""
import subprocess
import sys

import pytest

from hotfire import cmd_acquire, cmd_demo
from hotfire.cli import main


def test_demo_then_info_and_analyze(tmp_path, capsys, monkeypatch):
    # the demo publishes on the default address; here that address is busy (held by this test, on a
    # free port, not the fixed 5555): the demo still runs, streaming on another port, and says so
    import zmq

    ctx = zmq.Context()
    busy = ctx.socket(zmq.PUB)
    busy.setsockopt(zmq.LINGER, 0)
    busy.bind("tcp://127.0.0.1:0")
    taken = busy.getsockopt_string(zmq.LAST_ENDPOINT)
    for mod in (cmd_acquire, cmd_demo):
        monkeypatch.setattr(mod, "DEFAULT_ADDRESS", taken)
    try:
        assert main(["demo", "--out", str(tmp_path)]) == 0
    finally:
        busy.close()
        ctx.term()
    cap = capsys.readouterr()
    out = cap.out
    assert f"{taken} is busy; the live stream goes to a free port instead" in cap.err
    assert "live stream on tcp://127.0.0.1:" in cap.err and f"live stream on {taken} " not in cap.err
    assert "c* efficiency" in out and "Run file:" in out
    run = next(tmp_path.glob("*.h5"))
    assert main(["info", str(run)]) == 0
    info = capsys.readouterr().out
    assert "LC-THRUST" in info and "T0" in info and "51200Hz" in info
    assert main(["analyze", str(run), "--json"]) == 0
    assert '"c_star_efficiency"' in capsys.readouterr().out


def test_bad_rig_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "r.toml"
    bad.write_text("[rig]\nname = 'x'\nnmae = 'y'\n")
    assert main(["acquire", str(bad), "--sim", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: rig.nmae: unknown key" in err and "Traceback" not in err


def test_missing_run_file_is_a_clear_error(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.h5")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "hotfire", "--help"], capture_output=True, text=True, check=True)
    for cmd in ("acquire", "info", "analyze", "demo"):
        assert cmd in out.stdout


def test_demo_no_publish_binds_nothing(tmp_path, monkeypatch):
    seen = {}

    def record(firing):
        seen["publisher"] = firing.publisher
        firing.source.stop()
        raise KeyboardInterrupt  # stop before recording: only the firing's set-up is under test
    monkeypatch.setattr(cmd_demo, "record", record)
    assert main(["demo", "--out", str(tmp_path), "--no-publish"]) == 130
    assert seen == {"publisher": None}


def test_acquire_prints_each_redline_as_it_happens_and_what_the_file_holds(tmp_path, capsys):
    import re

    import h5py

    code = main(["acquire", "lox-ethanol-5kN", "--source", "sim", "--fast", "--scenario", "overpressure",
                 "--no-publish", "--out", str(tmp_path), "--test-id", "op", "--trigger", "PC>10", "--pretrigger", "0.5"])
    out = capsys.readouterr()
    assert code == 0, out.err
    # the simulator's overpressure crosses the 27 bar redline 0.78 s after T0 (hotfire info: +0.7758 s)
    red = [ln for ln in out.err.splitlines() if "REDLINE" in ln and "PC " in ln]
    assert len(red) == 1 and float(re.search(r"T\+\s*([\d.]+) s", red[0]).group(1)) == pytest.approx(0.776, abs=2e-3)
    assert "\r" not in out.err  # not a terminal: plain lines, no carriage returns piling up in a log
    # with a trigger the file holds less than was acquired: the line says what the file holds (read by plain h5py)
    with h5py.File(tmp_path / "op.h5", "r") as f:
        rows = {s: f[f"streams/{s}/raw"].shape[0] for s in f["streams"]}
    assert rows["main"] < 5000 * 8
    line = next(ln for ln in out.out.splitlines() if ln.startswith("recorded "))
    for s, n in rows.items():
        assert f"{s} {n:,} (" in line
    assert "2 redlines" in line
