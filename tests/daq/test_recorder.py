"""The recorder stores exactly what the source produced, sample for sample."""
import hashlib
import json
import time

import h5py
import numpy as np
import pytest

from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

SHORT = dict(pretrigger_s=0.5, burn_s=1.0, posttrigger_s=0.5)


def _acquire(tmp_path, rig_name="lox-ethanol-5kN", recorder=None, ring_seconds=20.0, **scen):
    rig = load_rig(rig_name)
    src = open_source(rig, "simulator", scenario=scenario("nominal", **{**SHORT, **scen}))
    rec = recorder or Recorder(tmp_path)
    summary = Acquisition(rig, src, [rec], test_id="t1", ring_seconds=ring_seconds).run()
    return rig, src, summary


@pytest.mark.parametrize("rig_name", ["lox-ethanol-5kN", "lox-rp1-100kN"])
def test_file_holds_exactly_the_samples_produced(tmp_path, rig_name):
    rig, src, summary = _acquire(tmp_path, rig_name)
    assert summary.error is None
    with h5py.File(summary.path, "r") as f:
        for name, st in rig.streams.items():
            n = src.gen.duration_samples(name)
            raw = f[f"streams/{name}/raw"][()]
            expected = src.gen.raw(name, 0, n)
            assert raw.dtype == np.dtype(st.dtype)
            assert raw.shape == expected.shape == (n, len(st.channels))
            np.testing.assert_array_equal(raw, expected)  # bit-exact, every channel
            assert f[f"streams/{name}"].attrs["committed"] == n
            assert f[f"streams/{name}/segments"][()].tolist() == [[0, 0, n]]


def test_events_are_sample_exact(tmp_path, rigs_dir):
    """Read with plain h5py, not the project's reader: the T0 and cutoff events sit on the
    sample where the valve-position signal starts to move, and the stored rig text is the
    rig file's bytes with their sha256 (hashlib here, not the rig module)."""
    rig, src, summary = _acquire(tmp_path)
    rate = 5000.0  # rigs/lox-ethanol-5kN.toml [streams.main]
    with h5py.File(summary.path, "r") as f:
        ev = {e["kind"].decode(): e for e in f["events"][()]}
        assert ev["T0"]["stream"] == b"main" and ev["cutoff"]["stream"] == b"main"
        t0, cut = int(ev["T0"]["sample"]), int(ev["cutoff"]["sample"])
        assert (t0, cut) == (0.5 * rate, 1.5 * rate)  # SHORT: 0.5 s before T0, a 1.0 s burn
        assert ev["T0"]["time_s"] == pytest.approx(0.5, abs=1e-12)
        names = json.loads(f["streams/main"].attrs["channels"])
        valve = f["streams/main/raw"][:, names.index("V-OX-POS")].astype(np.int64)
        still, opened = valve[:t0], valve[: (t0 + cut) // 2]
        first_open = int(np.flatnonzero(opened > still.max())[0])
        full = valve[t0:cut]
        first_close = cut + int(np.flatnonzero(valve[cut:] < full[len(full) // 2:].min())[0])
        # measured: the valve moves on the first sample after each event (1 sample)
        assert 0 < first_open - t0 <= 2 and 0 < first_close - cut <= 2
        text = f.attrs["rig_config"]
        text = text.decode() if isinstance(text, bytes) else text
        assert text == (rigs_dir / "lox-ethanol-5kN.toml").read_text()
        assert f.attrs["rig_sha256"] == hashlib.sha256(text.encode()).hexdigest()


class SlowRecorder(Recorder):
    """A recorder that falls behind: the ring must turn that into exact gaps."""

    def poll(self):
        time.sleep(0.03)
        return super().poll()


def test_recorder_falling_behind_gets_exact_gaps_never_fabricated_rows(tmp_path):
    rig, src, summary = _acquire(tmp_path, recorder=SlowRecorder(tmp_path), ring_seconds=0.25)
    assert summary.error is None
    with open_run(summary.path) as run:
        st = run.streams["dynamic"]
        assert st.gaps, "the slow recorder should have lost data in a 250 ms ring"
        gap_events = [(e["sample"], e["message"]) for e in run.events if e["kind"] == "gap" and e["stream"] == "dynamic"]
        assert [g[0] for g in gap_events] == [g[0] for g in st.gaps]
        lost = sum(c for _, c in st.gaps)
        assert lost == summary.gaps["dynamic"]
        # every stored row is the true sample at its index
        raw, idx = run.raw("PC-DYN")
        truth = src.gen.raw("dynamic", 0, src.gen.duration_samples("dynamic"))[:, 0]
        np.testing.assert_array_equal(raw, truth[idx])
        assert len(idx) + lost == src.gen.duration_samples("dynamic")


# ------------------------------------------------ test ids and the output folder

BAD_IDS = ["../../x", "a/b/x", ".", "..", ".hidden", "", "x" * 129, "a b", "x\\y", "t\u00e9st", "x\n"]


@pytest.mark.parametrize("test_id", BAD_IDS + ["ABSOLUTE"])
def test_a_test_id_that_is_not_a_plain_name_is_refused_before_acquiring(tmp_path, capsys, test_id):
    from hotfire.cli import main
    if test_id == "ABSOLUTE":
        test_id = str(tmp_path / "elsewhere" / "x")
    out = tmp_path / "a" / "b" / "out"
    assert main(["acquire", "lox-ethanol-5kN", "--source", "pattern", "--fast", "--duration", "0.2",
                 "--no-publish", "--out", str(out), "--test-id", test_id]) == 1
    err = capsys.readouterr().err
    assert "is not allowed" in err and "ASCII letters, digits" in err and "acquiring" not in err
    assert [p for p in tmp_path.rglob("*")] == [], "nothing may be created anywhere"


def test_the_recorder_refuses_a_bad_id_given_through_the_api(tmp_path):
    from hotfire.core.errors import HotfireError
    rig = load_rig("lox-ethanol-5kN")
    out = tmp_path / "out"
    acq = Acquisition(rig, open_source(rig, "pattern", duration_s=0.1), [Recorder(out)], test_id="../x")
    with pytest.raises(HotfireError, match="not allowed"):
        acq.run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and list(out.iterdir()) == []


def test_a_good_id_of_the_longest_length_is_accepted(tmp_path):
    tid = "LE5-003_run.2" + "x" * 115  # 128 characters
    rig = load_rig("lox-ethanol-5kN")
    summary = Acquisition(rig, open_source(rig, "pattern", duration_s=0.1), [Recorder(tmp_path)], test_id=tid).run()
    assert summary.error is None and summary.path == tmp_path / f"{tid}.h5" and summary.path.exists()


def test_a_run_path_that_resolves_outside_the_output_folder_is_refused(tmp_path):
    from hotfire.core.errors import HotfireError
    from hotfire.daq.preflight import run_paths
    out = tmp_path / "out"
    out.mkdir()
    (out / "T.h5").symlink_to(tmp_path / "victim.h5")  # dangling: only the resolved path tells
    with pytest.raises(HotfireError, match="outside the output folder"):
        run_paths(out, "T", (".h5",))
    assert [p.name for p in run_paths(out, "U", (".h5", ".journal"))] == ["U.h5", "U.journal"]


# ------------------------------------------------------------------- free space


def _acq_planned(tmp_path, duration_s, rec):
    rig = load_rig("lox-ethanol-5kN")
    return Acquisition(rig, open_source(rig, "pattern", duration_s=duration_s), [rec], test_id="big")


def test_a_run_that_cannot_fit_on_the_disk_is_refused(tmp_path, capsys):
    import os

    from hotfire.cli import main
    st = os.statvfs(tmp_path)
    free = st.f_bavail * st.f_frsize
    # lox-ethanol-5kN: 9 ch x 5000 S/s x 4 B + 1 x 51200 x 2 + 4 x 100 x 8 = 285,600 B/s, written twice
    duration = 1.2 * free / (2 * 285_600)
    assert main(["acquire", "lox-ethanol-5kN", "--source", "pattern", "--fast", "--duration", f"{duration:.0f}",
                 "--no-publish", "--out", str(tmp_path), "--test-id", "big"]) == 1
    err = capsys.readouterr().err
    assert "not enough disk space" in err and "acquiring" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_fills_most_of_the_disk_is_warned_about_and_the_warning_recorded(tmp_path):
    import os
    st = os.statvfs(tmp_path)
    free = st.f_bavail * st.f_frsize
    rec = Recorder(tmp_path)
    acq = _acq_planned(tmp_path, 0.8 * free / (2 * 285_600), rec)  # fits, with less than 1.5x margin
    warnings = rec.preflight(acq)
    assert len(warnings) == 1 and "little disk space" in warnings[0]
    small = Recorder(tmp_path / "small")
    assert small.preflight(_acq_planned(tmp_path, 0.1, small)) == []
    # the warning is an event of the run (a short run, the same recorder state)
    rec2 = Recorder(tmp_path / "r2")
    acq2 = _acq_planned(tmp_path, 0.1, rec2)
    rec2.preflight(acq2)
    rec2.warnings.append("little disk space: test")
    summary = acq2.run()
    with open_run(summary.path) as run:
        assert any(e["kind"] == "note" and e["message"] == "little disk space: test" for e in run.events)
