"""First results recover the simulator's ground truth within 1 %."""
import pytest

from hotfire.analysis.performance import analyze
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

CHECKS = [  # (result attribute, truth key)
    ("burn_time_s", "burn_time_s"), ("total_impulse_Ns", "total_impulse_Ns"), ("thrust_N", "thrust_N"),
    ("pc_bar", "pc_bar"), ("mdot_kg_s", "mdot_kg_s"), ("of", "of"), ("isp_s", "isp"),
    ("c_star_m_s", "c_star"), ("c_star_efficiency", "c_star_efficiency"),
]


@pytest.mark.parametrize("rig_name", ["lox-ethanol-5kN", "lox-rp1-100kN"])
def test_results_match_ground_truth(tmp_path, rig_name):
    rig = load_rig(rig_name)
    scen = scenario("nominal", burn_s=2.5, eta_cstar=0.94, eta_cf=0.97)
    summary = Acquisition(rig, open_source(rig, "simulator", scenario=scen), [Recorder(tmp_path)]).run()
    with open_run(summary.path) as run:
        perf = analyze(run)
        truth = run.truth
    assert truth["c_star_efficiency"] == pytest.approx(0.94, rel=1e-4)
    for attr, key in CHECKS:
        assert getattr(perf, attr) == pytest.approx(truth[key], rel=0.01), attr
