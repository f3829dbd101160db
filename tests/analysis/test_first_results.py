"""First results: a firing with efficiencies other than the defaults gives them back, and
the reported figures obey their definitions with the test article as written in the rig
file (throat diameter, g0), computed here by hand rather than by the analysis' helpers."""
import math

import pytest

from hotfire.analysis.performance import analyze
from hotfire.core.runfile.reader import open_run
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import load_rig
from hotfire.daq.sources import open_source
from hotfire.daq.sources.engine import scenario

ETA_CSTAR, ETA_CF_VAC = 0.94, 0.97  # not the simulator's defaults (0.955, 0.975)
# rigs/<rig>.toml [article]: throat diameter (mm), Ae/At, ambient pressure (bar)
ARTICLE = {"lox-ethanol-5kN": (48.0, 4.0, 1.01325), "lox-rp1-100kN": (108.0, 10.0, 1.01325)}


@pytest.mark.parametrize("rig_name", ["lox-ethanol-5kN", "lox-rp1-100kN"])
def test_set_efficiencies_come_back_and_figures_obey_their_definitions(tmp_path, rig_name):
    rig = load_rig(rig_name)
    scen = scenario("nominal", burn_s=2.5, eta_cstar=ETA_CSTAR, eta_cf=ETA_CF_VAC)
    summary = Acquisition(rig, open_source(rig, "simulator", scenario=scen), [Recorder(tmp_path)]).run()
    with open_run(summary.path) as run:
        p = analyze(run)
    d_mm, eps, pa = ARTICLE[rig_name]
    at = math.pi / 4 * (d_mm / 1000) ** 2
    pc = p.pc_bar * 1e5
    # definitions (exact up to float rounding, measured < 1e-12)
    assert p.c_star_m_s == pytest.approx(pc * at / p.mdot_kg_s, rel=1e-9)
    assert p.cf == pytest.approx(p.thrust_N / (pc * at), rel=1e-9)
    assert p.isp_s == pytest.approx(p.thrust_N / (p.mdot_kg_s * 9.80665), rel=1e-9)
    assert p.isp_s == pytest.approx(p.c_star_m_s * p.cf / 9.80665, rel=1e-9)
    assert p.mdot_kg_s == pytest.approx(p.ox_mdot_kg_s + p.fuel_mdot_kg_s, rel=1e-9)
    assert p.of == pytest.approx(p.ox_mdot_kg_s / p.fuel_mdot_kg_s, rel=1e-9)
    # the set efficiencies; eta_CF applies to the vacuum CF in the engine model
    # (see test_accuracy.py::test_simulator_efficiencies_recovered); measured:
    # eta_c* 4.5e-6, eta_CF 4.9e-5 relative
    x = eps * pa / p.pc_bar
    cf_vac = p.cf_theory + x
    assert p.c_star_efficiency == pytest.approx(ETA_CSTAR, rel=1.5e-5)
    assert p.steady.cf_efficiency == pytest.approx((ETA_CF_VAC * cf_vac - x) / (cf_vac - x), rel=1.5e-4)
