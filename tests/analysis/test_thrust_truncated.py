"""A burn cut off by the end of the recording is reported as such."""
from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario


def _notes(tmp_path, duration_s):
    rig = load_rig("lox-ethanol-5kN")
    scen = scenario("nominal", pretrigger_s=1.0, burn_s=2.0, posttrigger_s=1.0)
    src = open_source(rig, "simulator", scenario=scen, duration_s=duration_s)
    summary = Acquisition(rig, src, [Recorder(tmp_path)], test_id=f"cut{duration_s}").run()
    with open_run(summary.path) as run:
        res = analyze_run(run)
        return res.performance.thrust.notes + res.notes


def test_recording_ending_mid_burn_is_noted(tmp_path):
    assert any("ends during the burn" in n for n in _notes(tmp_path, 2.5))
    assert not any("during the burn" in n for n in _notes(tmp_path, None))
