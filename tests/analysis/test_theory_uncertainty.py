"""CEA against NASA's published values; the GUM propagation against Monte Carlo."""
import math

import pytest

from hotfire.analysis import uncertainty as U
from hotfire.core.runfile.reader import open_run
from hotfire.core.theory import Linearized, theoretical


def test_cea_reproduces_rp1311_example_8():
    # NASA RP-1311 example 8: H2(L)/O2(L), O/F 5.55157, Pc 53.3172 bar, IAC: c* 2332.34 m/s
    th = theoretical("H2(L)", "O2(L)", 53.3172, 5.55157, 25.0, 0.0, 20.27, 90.17)
    assert th.c_star == pytest.approx(2332.34, abs=0.02)


def test_cea_matches_the_design_reference_point():
    # DESIGN.md: RP-1/O2(L), 1000 psia, O/F 2.3, Ae/At 10: c* 1807.24 m/s, Tc 3572.7 K, Isp vac 324.5 s
    th = theoretical("RP-1", "O2(L)", 1000 * 0.0689476, 2.3, 10.0, 1.01325, 298.15, 90.17)
    assert th.c_star == pytest.approx(1807.24, abs=0.1)
    assert th.tc == pytest.approx(3572.7, abs=0.2)
    assert th.isp_vac == pytest.approx(324.5, abs=0.1)
    assert 1000 < th.sound_speed < 1400 and 20 < th.molecular_weight < 25


@pytest.mark.parametrize("fuel,pc,of", [("RP-1", 68.9, 2.3), ("C2H5OH(L)", 20.0, 1.4), ("C2H5OH(L)", 20.0, 1.1)])
def test_linearized_theory_stays_close_to_cea_near_its_point(fuel, pc, of):
    lin = Linearized(fuel, "O2(L)", pc, of, 10.0)
    for dp, do in [(0, 0), (0.05, 0.03), (-0.05, -0.03), (0.05, -0.03), (-0.05, 0.03), (0.02, 0.0)]:
        p, o = pc * (1 + dp), of + do
        th = theoretical(fuel, "O2(L)", p, o, 10.0)
        c_star, cf, isp = lin.at(p, o)
        assert c_star == pytest.approx(th.c_star, rel=5e-4)
        assert cf == pytest.approx(th.cf, rel=1e-3)
        assert isp == pytest.approx(th.isp, rel=1e-3)


def test_gum_of_a_product_is_the_root_sum_of_squares():
    inputs = {"a": U.Input("a", 2.0, 0.02, 0.02, 0, ""), "b": U.Input("b", 5.0, 0.1, 0.1, 0, "")}
    prop = U.gum(lambda x: {"y": x["a"] * x["b"], "r": x["a"] / x["b"]}, inputs)
    assert prop.relative("y") == pytest.approx(math.hypot(0.01, 0.02), rel=1e-6)
    assert prop.relative("r") == pytest.approx(math.hypot(0.01, 0.02), rel=1e-3)  # central differences
    assert set(prop.contributions["y"]) == {"a", "b"}


@pytest.mark.parametrize("rig", ["lox-ethanol-5kN", "lox-rp1-100kN"])
def test_gum_agrees_with_monte_carlo_through_cea(firings, rig):
    """GUM Supplement 1 check: draws of the inputs through the same model, CEA included.

    500 draws: the standard deviation is known to ~3 % (1/sqrt(2n)); 12 % is 4 sigma.
    """
    f = firings.get(rig, "nominal")
    prop = f.results.uncertainty["0"]
    with open_run(f.path) as run:
        func = U.window_model(run, f.perf.plateaus[0], f.perf)
    mean, sd = U.monte_carlo(func, prop.inputs, n=500, seed=3)
    for k in ("isp_s", "c_star_m_s", "c_star_efficiency", "isp_efficiency", "of", "cf"):
        assert sd[k] == pytest.approx(prop.u[k], rel=0.12), k
        assert mean[k] == pytest.approx(prop.values[k], abs=3 * prop.u[k] / math.sqrt(500) * 3), k


def test_uncertainty_budget_of_the_5kN_rig(firings):
    """By hand from rigs/lox-ethanol-5kN.toml (k = 1): PC 0.1 % of 50 bar FS; flow meters 0.15 %
    of reading; load cell 0.1 % of reading + 0.02 % of 10 kN."""
    perf = firings.get("lox-ethanol-5kN", "nominal").perf
    u = perf.uncertainty
    F, pc, mo, mf = perf.thrust_N, perf.pc_bar, perf.ox_mdot_kg_s, perf.fuel_mdot_kg_s
    uF = math.hypot(0.001 * F, 2.0)
    um = math.hypot(0.0015 * mo, 0.0015 * mf)
    assert u["thrust_N"] == pytest.approx(uF, rel=0.01)
    assert u["pc_bar"] == pytest.approx(0.05, rel=0.01)
    assert u["isp_s"] / perf.isp_s == pytest.approx(math.hypot(uF / F, um / (mo + mf)), rel=0.02)
    assert u["c_star_m_s"] / perf.c_star_m_s == pytest.approx(math.hypot(0.05 / pc, um / (mo + mf)), rel=0.02)
    # the efficiency carries the CEA sensitivity to the measured Pc and O/F: not equal to c*'s, but close
    assert 0.8 < (u["c_star_efficiency"] / perf.c_star_efficiency) / (u["c_star_m_s"] / perf.c_star_m_s) < 1.2
    assert u["total_impulse_Ns"] > 0 and u["isp_from_mass_s"] > 0
