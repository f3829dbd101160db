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
    assert main(["acquire", str(bad), "--sim", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: rig.nmae: unknown key" in err and "Traceback" not in err


def test_missing_run_file_is_a_clear_error(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.h5")]) == 1
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


def test_a_mistyped_option_is_named_with_the_closest_one_of_its_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["analyze", "--jsn", "run.h5"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert "hotfire analyze: error: unrecognized arguments: --jsn (did you mean --json?)" in err
    assert err.startswith("usage: hotfire analyze")  # the command's usage, not the top level's
    with pytest.raises(SystemExit):
        main(["acquire", "lox-rp1-100kN", "--pretriger=3"])
    assert "--pretriger=3 (did you mean --pretrigger?)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["analyze", "run.h5", "--zzzzzz"])
    err = capsys.readouterr().err
    assert "unrecognized arguments: --zzzzzz" in err and "did you mean" not in err  # nothing close: no guess


def test_the_top_level_help_speaks_to_users(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())  # as wrapped for any terminal width
    assert "analysis for rocket-engine test stands" in out and "hotfire COMMAND --help" in out
    assert "``" not in out and "subcommand" not in out  # the module's developer docstring stays out
    # the exit codes a script can test, one line each (issue 19: 1 input, 2 usage, 3 and 4 analyze's)
    assert "exit status: 0 done 1 an error in the input" in out and "2 the command line itself" in out
    assert "3 analyze: nothing could be computed" in out and "4 analyze --strict" in out


def test_pretrigger_without_a_trigger_is_refused_before_anything_is_recorded(tmp_path, capsys):
    assert main(["acquire", "lox-ethanol-5kN", "--source", "pattern", "--fast", "--no-publish",
                 "--out", str(tmp_path), "--pretrigger", "1"]) == 1
    assert "--pretrigger sets the recording around a trigger: give --trigger too" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _pattern_run(out, test_id):
    assert main(["acquire", "lox-ethanol-5kN", "--source", "pattern", "--fast", "--no-publish", "--quiet",
                 "--duration", "0.5", "--out", str(out), "--test-id", test_id]) == 0


def test_a_journal_given_to_analyze_points_at_recover(tmp_path, capsys):
    _pattern_run(tmp_path, "J1")
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "J1.journal")]) == 1
    err = capsys.readouterr().err
    assert "this is a run's journal" in err and f"hotfire recover {tmp_path / 'J1.journal'}" in err


def test_recover_a_folder_rebuilds_each_run_without_a_sealed_file_and_leaves_the_others(tmp_path, capsys):
    import h5py

    _pattern_run(tmp_path, "KEEP")
    _pattern_run(tmp_path, "LOST")
    with h5py.File(tmp_path / "LOST.h5", "r") as f:
        want = {s: f[f"streams/{s}/raw"].shape for s in f["streams"]}
    (tmp_path / "LOST.h5").unlink()  # as a crash before the seal leaves it (no sealed run file)
    kept = (tmp_path / "KEEP.h5").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["recover", str(tmp_path)]) == 0
    cap = capsys.readouterr()
    assert "1 journal(s) without a sealed run file, 1 with one (left alone)" in cap.err
    assert "LOST.journal" in cap.out and "KEEP.journal" not in cap.out
    assert (tmp_path / "KEEP.h5").stat().st_mtime_ns == kept
    with h5py.File(tmp_path / "LOST.h5", "r") as f:  # read back by plain h5py, not our reader
        assert {s: f[f"streams/{s}/raw"].shape for s in f["streams"]} == want
        assert int(f.attrs["sealed"]) == 1
    assert main(["recover", str(tmp_path)]) == 0
    assert "nothing to recover" in capsys.readouterr().out


def test_a_mistyped_command_or_rig_is_named_with_the_closest(capsys):
    with pytest.raises(SystemExit) as e:
        main(["analyse", "x.h5"])
    assert e.value.code == 2
    assert "unknown command 'analyse' (did you mean analyze?)" in capsys.readouterr().err
    assert main(["acquire", "lox-ethanol-5kn", "--source", "pattern", "--no-publish"]) == 1
    assert "(did you mean lox-ethanol-5kN? bundled:" in capsys.readouterr().err
