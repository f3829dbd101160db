"""The recorder stores exactly what the source produced, sample for sample."""
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


def test_events_are_sample_exact(tmp_path):
    rig, src, summary = _acquire(tmp_path)
    with open_run(summary.path) as run:
        kinds = {e["kind"]: e for e in run.events}
        rate = rig.streams["main"].rate_hz
        assert kinds["T0"]["sample"] == round(SHORT["pretrigger_s"] * rate)
        assert kinds["cutoff"]["sample"] == round((SHORT["pretrigger_s"] + SHORT["burn_s"]) * rate)
        assert run.t0 == pytest.approx(SHORT["pretrigger_s"])
        # metadata a user needs to trust the file
        assert run.metadata["rig_sha256"] == rig.sha256
        assert run.metadata["rig_config"] == rig.text
        assert run.truth["c_star_efficiency"] == pytest.approx(0.955, rel=1e-4)


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
