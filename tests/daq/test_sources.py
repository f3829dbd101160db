"""One firing through every source the switch offers, as ophyd runs its tests
over each control layer: the engine simulator, the real nidaqmx code on the
simulated driver, and a replay of a recorded run. Then what only the switch,
the replay and the command line do."""
import time

import h5py
import numpy as np
import pytest

from hotfire.cli import main
from hotfire.core.errors import HotfireError
from hotfire.core.rig import load_rig, parse_rig
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition, Subscriber
from hotfire.daq.limits import LimitChecker
from hotfire.daq.recorder import Recorder
from hotfire.daq.session import record_firing
from hotfire.daq.sources import open_source, parse_source
from hotfire.daq.sources.engine import scenario
from hotfire.daq.sources.replay import ReplaySource
from hotfire.daq.sources.sim import SignalGenerator
from hotfire.daq.sources.simdriver import SimulatedDriver

SHORT = dict(pretrigger_s=0.5, burn_s=1.0, posttrigger_s=0.5)
SPEED = 5.0  # simulated driver: simulated seconds per wall second


@pytest.fixture(scope="module")
def rig():
    return load_rig("lox-ethanol-5kN")


@pytest.fixture(scope="module")
def recorded(rig, tmp_path_factory):
    """A simulated firing recorded once: what the replay source plays back."""
    out = tmp_path_factory.mktemp("recorded")
    src = open_source(rig, "sim", scenario=scenario("nominal", **SHORT))
    summary = Acquisition(rig, src, [Recorder(out)], test_id="orig").run()
    assert summary.error is None
    return summary.path


@pytest.fixture(params=["sim", "nidaq-sim", "replay"])
def source(request, rig, recorded):
    """A source of each kind, made the one way the program makes them, and its ground truth.

    The truth is the engine simulator's signal (through the simulated driver's
    own ADC scaling for nidaq-sim): a replay must give back the simulated
    firing it recorded, sample for sample.
    """
    scen = scenario("nominal", **SHORT)
    if request.param == "nidaq-sim":
        drv = SimulatedDriver(rig, scen, speed=SPEED)
        src = open_source(rig, "nidaq-sim", driver=drv, buffer_s=8.0)

        def truth(stream, first, n):
            raw = src.streams[stream].dtype.kind in "iu"
            cols = [drv.expected(ch, first, n, raw=raw) for ch in src.streams[stream].channels]
            return np.column_stack(cols).astype(src.streams[stream].dtype)
    else:
        value = f"replay:{recorded}" if request.param == "replay" else "sim"
        src = open_source(rig, value, scenario=scen)
        truth = SignalGenerator(rig, scen).raw
    return request.param, src, truth


def test_every_source_records_the_firing_exactly(source, rig, tmp_path):
    kind, src, truth = source
    summary = Acquisition(rig, src, [Recorder(tmp_path), LimitChecker()], test_id=kind).run()
    assert summary.error is None
    duration = sum(SHORT.values())
    with open_run(summary.path) as run:
        for name, st in rig.streams.items():
            n = int(round(duration * st.rate_hz))
            assert run.streams[name].segments.tolist() == [[0, 0, n]], name
            np.testing.assert_array_equal(run.f["streams"][name]["raw"][()], truth(name, 0, n), err_msg=name)
        marks = [(e["kind"], e["sample"]) for e in run.events if e["kind"] in ("T0", "cutoff")]
        assert marks == [("T0", 2500), ("cutoff", 7500)]  # 0.5 s and 1.5 s at 5 kHz, as the scenario says
        assert run.truth["burn_time_s"] == pytest.approx(1.0, abs=0.05)
        assert run.metadata["source"] == src.kind


def test_a_replay_checks_the_recording_against_new_redlines(rig, recorded, tmp_path):
    # Pc runs at 20 bar: the recorded rig's 27 bar redline never tripped; a 15 bar one must.
    text = rig.text.replace("redline = { max = 27.0 }\nwarning = { max = 24.0 }",
                            "redline = { max = 15.0 }\nwarning = { max = 12.0 }")
    assert text != rig.text
    tighter = parse_rig(text, "tighter.toml")
    with open_run(recorded) as run:
        assert not [e for e in run.events if e["kind"] == "redline"]
    summary = record_firing(tighter, source=f"replay:{recorded}", out=tmp_path, test_id="re", publish=None)
    reds = [e for e in summary.events if e.kind == "redline" and "PC" in e.message]
    assert len(reds) == 1
    # Pc crosses 15 bar during the start transient, after T0 (sample 2500) and the ignition delay
    assert 2500 < reds[0].sample < 2500 + 0.4 * 5000
    with open_run(summary.path) as run:
        assert run.metadata["source"] == "replay"
        assert run.truth is not None  # the simulated truth travels with the replay
        assert [e["sample"] for e in run.events if e["kind"] == "redline" and "PC" in e["message"]] == \
            [reds[0].sample]


def test_a_replay_keeps_a_gap_of_the_recording_as_a_gap(rig, recorded, tmp_path):
    # Cut samples [4000, 4500) of the main stream out of a copy of the recording.
    cut = tmp_path / "cut.h5"
    cut.write_bytes(recorded.read_bytes())
    with h5py.File(cut, "r+") as f:
        seg = f["streams/main/segments"]
        n = int(seg[0, 2])
        del f["streams/main/segments"]
        f["streams/main"].create_dataset("segments", data=np.array([[0, 0, 4000], [4500, 4500, n - 4500]]))
    summary = Acquisition(rig, open_source(rig, f"replay:{cut}"), [Recorder(tmp_path / "out")],
                          test_id="gap").run()
    gaps = [e for e in summary.events if e.kind == "gap"]
    assert [(e.stream, e.sample) for e in gaps] == [("main", 4000)] and "500 samples" in gaps[0].message
    with open_run(summary.path) as run:
        assert run.streams["main"].gaps == [(4000, 500)]
        with open_run(recorded) as orig:
            raw, orig_raw = run.f["streams/main/raw"][()], orig.f["streams/main/raw"][()]
        np.testing.assert_array_equal(raw, np.concatenate([orig_raw[:4000], orig_raw[4500:]]))


def test_a_paced_replay_takes_the_recorded_time(rig, recorded):
    src = open_source(rig, f"replay:{recorded}", speed=4.0, duration_s=1.0)
    t = time.monotonic()
    n = 0
    while (b := src.read("main")) is not None:
        n += len(b.data)
    dt = time.monotonic() - t
    src.stop()
    assert n == 5000
    # 1 recorded second at 4 x: 0.25 s (measured 0.25-0.26 s); a fast replay takes ~0.01 s
    assert 0.24 <= dt < 0.75


def test_a_replay_refuses_a_rig_that_recorded_otherwise(rig, recorded):
    other = parse_rig(rig.text.replace("rate_hz = 5000", "rate_hz = 2500"), "other.toml")
    with pytest.raises(HotfireError, match=r"stream 'main' was recorded at 5000 Hz, rig .* says 2500 Hz"):
        ReplaySource(other, recorded)
    with pytest.raises(HotfireError, match=r"no such file"):
        open_source(rig, "replay:/nonexistent/run.h5")


def test_the_source_value_is_checked():
    assert str(parse_source("replay:runs/a.h5")) == "replay:runs/a.h5"
    assert parse_source("simulator").kind == "sim" and parse_source("nidaqmx").kind == "nidaq"
    with pytest.raises(HotfireError, match=r"unknown source 'simdriver' \(choose from nidaq, nidaq-sim"):
        parse_source("simdriver")
    with pytest.raises(HotfireError, match="replay needs a run file"):
        parse_source("replay")


def test_the_command_line_replays_a_run_with_the_rig_stored_in_it(recorded, tmp_path, capsys):
    code = main(["acquire", "--source", f"replay:{recorded}", "--fast", "--quiet", "--no-publish",
                 "--out", str(tmp_path), "--test-id", "cli-replay"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "recorded dynamic 102,400 (2.00 s), main 10,000 (2.00 s), slow 200 (2.00 s); 0 samples lost" in out.out
    with open_run(tmp_path / "cli-replay.h5") as run:
        assert run.metadata["rig"] == "lox-ethanol-5kN"


@pytest.mark.parametrize("old, note", [
    (["--sim"], "--sim is deprecated; use --source sim"),
    (["--source", "simulator"], "--source simulator is deprecated; use --source sim"),
    (["--driver", "sim", "--fast"], "--driver sim is deprecated; use --source nidaq-sim"),
])
def test_old_spellings_still_work_with_a_one_line_note(old, note, tmp_path, capsys):
    code = main(["acquire", "lox-ethanol-5kN", *old, "--duration", "0.2", "--quiet", "--no-publish",
                 "--out", str(tmp_path), "--test-id", "old"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("deprecated") == 1 and f"hotfire: {note}\n" in err


def test_two_spellings_that_disagree_are_an_error(tmp_path, capsys):
    code = main(["acquire", "lox-ethanol-5kN", "--sim", "--source", "pattern", "--quiet", "--no-publish",
                 "--out", str(tmp_path)])
    assert code == 1
    assert "choose different sources: give one --source" in capsys.readouterr().err


class _HasPath(Subscriber):
    """A subscriber that has a ``path`` (a log, say) but records nothing."""

    name = "logger"
    path = "not-the-run-file.log"


def test_the_summary_names_the_recorders_file_whatever_else_has_a_path(rig, tmp_path):
    src = open_source(rig, "pattern", duration_s=0.2)
    summary = Acquisition(rig, src, [_HasPath(), Recorder(tmp_path)], test_id="p").run()
    assert summary.path == tmp_path / "p.h5" and summary.sealed and summary.journal == tmp_path / "p.journal"


class _Meddler(Subscriber):
    """A subscriber that tries to change what it was given."""

    name = "meddler"

    def open(self, acq):
        super().open(acq)
        self.tried = {}
        for what, attempt in {
            "ring write": lambda: acq.rings["main"].write(np.zeros((1, 9), np.int16)),
            "clock jump": lambda: acq.clocks["main"].jump(0, 5),
            "record_stop": lambda: acq.record_stop.__setitem__("main", 0),
            "source stop": lambda: acq.source.stop(),
            "metadata": lambda: acq.source.streams.__setitem__("main", None),
        }.items():
            try:
                attempt()
                self.tried[what] = "allowed"
            except (AttributeError, TypeError):
                self.tried[what] = "refused"
        acq.source_metadata["truth"] = None  # its own copy


def test_subscribers_get_a_read_only_view(rig, tmp_path):
    meddler = _Meddler()
    summary = Acquisition(rig, open_source(rig, "sim", scenario=scenario("nominal", **SHORT)),
                          [meddler, Recorder(tmp_path)], test_id="ro").run()
    assert set(meddler.tried.values()) == {"refused"}, meddler.tried
    assert summary.truth is not None and summary.samples["main"] == 10000
    with open_run(summary.path) as run:
        assert run.truth is not None


def test_a_replay_of_an_armed_run_starts_at_its_first_recorded_sample(rig, tmp_path):
    # Armed on T0 with 0.3 s of history: the recording starts at sample 1000 of main (T0 at 2500).
    armed = record_firing(rig, source="sim", scenario=scenario("nominal", **SHORT), trigger="T0", pretrigger_s=0.3,
                          out=tmp_path, test_id="armed", publish=None)
    with open_run(armed.path) as run:
        assert run.streams["main"].first_sample == 1000
        original = run.f["streams/main/raw"][()]
    summary = Acquisition(rig, open_source(rig, f"replay:{armed.path}"), [Recorder(tmp_path)], test_id="re").run()
    assert not [e for e in summary.events if e.kind == "gap"]
    assert [(e.kind, e.sample) for e in summary.events if e.kind in ("T0", "cutoff")] == \
        [("T0", 1500), ("cutoff", 6500)]
    with open_run(summary.path) as run:
        assert run.streams["main"].segments.tolist() == [[0, 0, len(original)]]
        np.testing.assert_array_equal(run.f["streams/main/raw"][()], original)
