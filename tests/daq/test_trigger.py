"""Armed acquisition: recording starts on a trigger with exact pre-trigger history."""
import threading
import time

import h5py
import numpy as np
import pytest

from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.core.scaling import Scaling
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario
from hotfire.daq.sources.sim import SignalGenerator
from hotfire.daq.trigger import Trigger, TriggerSpec
from hotfire.core.errors import HotfireError

SHORT = dict(pretrigger_s=1.0, burn_s=1.0, posttrigger_s=0.5)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A whole simulated firing, recorded unarmed: what a replay plays back."""
    rig = load_rig("lox-ethanol-5kN")
    out = tmp_path_factory.mktemp("recorded")
    src = open_source(rig, "sim", scenario=scenario("nominal", **SHORT))
    return Acquisition(rig, src, [Recorder(out)], test_id="whole").run().path


def _armed(tmp_path, spec, pre, post=None, realtime=False, source="sim"):
    rig = load_rig("lox-ethanol-5kN")
    src = open_source(rig, source, scenario=scenario("nominal", **SHORT), realtime=realtime)
    trig = Trigger(TriggerSpec.parse(spec, rig), posttrigger_s=post)
    rec = Recorder(tmp_path, pretrigger_s=pre)
    acq = Acquisition(rig, src, [trig, rec], test_id="armed")
    return rig, src, trig, acq


def _check_exact(path, src, rig, trigger_event, pre):
    truth = SignalGenerator(rig, scenario("nominal", **SHORT))  # what the simulator made, replayed or not
    """Each stream starts exactly ``pre`` s before the trigger and holds the true samples."""
    t_trig = trigger_event.sample / rig.streams[trigger_event.stream].rate_hz
    with h5py.File(path, "r") as f:
        for name, st in rig.streams.items():
            g = f[f"streams/{name}"]
            first = g.attrs["first_sample"]
            expect_first = int(np.ceil(t_trig * st.rate_hz - 1e-9)) - int(round(pre * st.rate_hz))
            assert first == expect_first, name
            seg = g["segments"][()]
            assert seg.shape[0] == 1 and seg[0, 0] == first and seg[0, 1] == 0, name
            n = seg[0, 2]
            np.testing.assert_array_equal(g["raw"][()], truth.raw(name, first, n))


def test_threshold_trigger_starts_exactly_pretrigger_before_the_crossing(tmp_path):
    rig, src, trig, acq = _armed(tmp_path, "PC>10", pre=0.5)
    summary = acq.run()
    assert summary.error is None and trig.fired is not None
    pc = rig.channel("PC")
    raw = src.gen.raw("main", 0, src.gen.duration_samples("main"))[:, pc.column]
    eu = Scaling(pc.adc, pc.calibration).to_eu(raw)
    assert trig.fired.sample == int(np.argmax(eu > 10))  # the first crossing, to the sample
    _check_exact(summary.path, src, rig, trig.fired, 0.5)


@pytest.mark.parametrize("kind", ["sim", "replay"])
def test_T0_trigger_with_posttrigger_stops_early(tmp_path, kind, request):
    source = f"replay:{request.getfixturevalue('recorded')}" if kind == "replay" else kind
    rig, src, trig, acq = _armed(tmp_path, "T0", pre=0.8, post=0.5, source=source)
    summary = acq.run()
    assert trig.fired.sample == SHORT["pretrigger_s"] * rig.streams["main"].rate_hz
    _check_exact(summary.path, src, rig, trig.fired, 0.8)
    with h5py.File(summary.path, "r") as f:
        rows = f["streams/main/raw"].shape[0]
    # exactly 0.8 s before and 0.5 s after the trigger, however fast the source ran
    assert rows == (0.8 + 0.5) * 5000


def test_operator_trigger(tmp_path):
    rig, src, trig, acq = _armed(tmp_path, "operator", pre=0.3, post=0.2, realtime=True)
    threading.Timer(0.6, trig.fire).start()
    summary = acq.run()
    assert trig.fired is not None and "operator" in trig.fired.message
    _check_exact(summary.path, src, rig, trig.fired, 0.3)


@pytest.mark.parametrize("spec", ["PC>>3", "NOPE>3", "PC=3"])
def test_bad_trigger_spec_is_a_clear_error(spec):
    with pytest.raises(HotfireError, match="--trigger"):
        TriggerSpec.parse(spec, load_rig("lox-ethanol-5kN"))


def test_two_operator_commands_at_once_fire_once():
    """fire() runs in the operator's thread while the trigger polls in its own: one trigger, however they meet."""
    rig = load_rig("lox-ethanol-5kN")
    trig = Trigger(TriggerSpec.parse("operator", rig))
    acq = Acquisition(rig, open_source(rig, "sim", scenario=scenario("nominal", **SHORT)), [trig])
    view = acq.view
    trig.open(view)
    inside, real = threading.Event(), view.sample_index

    def slow(stream, index):  # the first command is held between "not fired yet" and "fired"
        inside.set()
        time.sleep(0.3)
        return real(stream, index)

    view.sample_index = slow
    first = threading.Thread(target=trig.fire)
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=trig.fire)
    second.start()
    first.join()
    second.join()
    assert [e.kind for e in acq.events] == ["trigger"]
