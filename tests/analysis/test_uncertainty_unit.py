"""The uncertainty arithmetic by hand: type B from the rig's table, full scale, the results
model, GUM propagation, the coverage factor and Monte Carlo; fast (no firing), so that it is
the mutation-test subset of analysis/uncertainty.py."""
import math
from types import SimpleNamespace

import pytest

from hotfire.analysis import uncertainty as U
from hotfire.core.theory import G0


def info(units="bar", calibration=None, rng=(0.0, 10.0), unc=None):
    return SimpleNamespace(units=units, calibration=calibration, range=rng, uncertainty=unc)


def test_full_scale_per_calibration_type():
    assert U.full_scale(info(calibration={"type": "bridge", "capacity": 10000.0, "rated_output_mV_V": 2.0})) == 10000.0
    assert U.full_scale(info(calibration={"type": "table", "signal": [0, 1], "value": [-30.0, 20.0]})) == 30.0
    # 0..10 V linear 5 bar/V: the calibrated end of the range, 50 bar
    assert U.full_scale(info(calibration={"type": "linear", "slope": 5.0}, rng=(0.0, 10.0))) == 50.0
    assert U.full_scale(info(calibration={"type": "linear", "slope": 5.0}, rng=(-10.0, 2.0))) == 50.0
    assert U.full_scale(info(calibration=None, rng=(4.0, 20.0))) == 20.0  # no calibration: the signal
    assert U.full_scale(info(calibration={"type": "linear", "slope": 5.0}, rng=None)) == 0.0


def test_type_b_is_the_root_sum_of_squares_of_the_rig_terms():
    i = info(calibration={"type": "linear", "slope": 5.0}, unc={"reading_percent": 0.3, "fs_percent": 0.1,
                                                                 "absolute": 0.04})
    u, how = U.channel_u(i, -20.0)
    # 0.3 % of |-20| = 0.06, 0.1 % of 50 = 0.05, 0.04 absolute
    assert u == pytest.approx(math.sqrt(0.06 ** 2 + 0.05 ** 2 + 0.04 ** 2), rel=1e-12)
    assert how == "0.3 % of reading, 0.1 % of FS (50 bar), 0.04 bar"
    assert U.channel_u(info(unc={"fs_percent": 0.2}), 7.0)[0] == pytest.approx(0.02)  # 0.2 % of 10
    assert U.channel_u(info(unc={"reading_percent": 1.0}), 7.0)[0] == pytest.approx(0.07)
    assert U.channel_u(info(unc={"absolute": 0.5}), 7.0)[0] == 0.5
    assert U.channel_u(info(unc=None), 7.0) == (0.0, "none given in the rig file")


class _Th:
    c_star, cf, isp = 1500.0, 1.4, 210.0


def test_the_model_by_hand():
    x = {"F[A]": 3000.0, "F[B]": 1000.0, "Pc": 20e5, "mdot_ox": 1.6, "mdot_fuel": 0.8}
    at = 1e-3
    y = U.model(x, ["A", "B"], at, theory=lambda pc_bar, of: _Th)
    assert y["thrust_N"] == 4000.0 and y["pc_bar"] == 20.0
    assert y["mdot_kg_s"] == pytest.approx(2.4) and y["of"] == pytest.approx(2.0)
    assert (y["ox_mdot_kg_s"], y["fuel_mdot_kg_s"]) == (1.6, 0.8)
    assert y["isp_s"] == pytest.approx(4000.0 / (2.4 * G0))
    assert y["c_star_m_s"] == pytest.approx(20e5 * 1e-3 / 2.4)
    assert y["cf"] == pytest.approx(4000.0 / (20e5 * 1e-3))
    assert y["c_star_efficiency"] == pytest.approx(y["c_star_m_s"] / 1500.0)
    assert y["isp_efficiency"] == pytest.approx(y["isp_s"] / 210.0)
    assert y["cf_efficiency"] == pytest.approx(y["cf"] / 1.4)
    seen = []
    U.model(x, ["A"], at, theory=lambda pc_bar, of: seen.append((pc_bar, of)) or _Th)
    assert seen == [(20.0, pytest.approx(2.0))]  # CEA is asked at the measured Pc (bar) and O/F
    # what is missing is left out, not guessed
    assert set(U.model({"Pc": 1e6}, [], at)) == {"pc_bar"}
    assert "c_star_m_s" not in U.model({"Pc": 1e6, "mdot_ox": 1.0, "mdot_fuel": 1.0}, [], None)
    assert "isp_s" not in U.model({"mdot_ox": 1.0, "mdot_fuel": 1.0}, [], at)


def test_gum_by_hand_and_the_coverage_factor():
    # an exact input first: it is skipped, and the others still count
    inputs = {"c": U.Input("c", 1.0, 0.0, 0.0, 0.0, ""), "a": U.Input("a", 2.0, 0.02, 0.02, 0.0, ""),
              "b": U.Input("b", 5.0, 0.1, 0.06, 0.08, "")}
    prop = U.gum(lambda x: {"s": x["a"] + 3 * x["b"] - x["c"], "p": x["a"] * x["b"]}, inputs)
    assert prop.values == {"s": 16.0, "p": 10.0}
    assert prop.u["s"] == pytest.approx(math.hypot(0.02, 0.3), rel=1e-12)
    assert prop.u["p"] == pytest.approx(math.hypot(5 * 0.02, 2 * 0.1), rel=1e-12)
    assert prop.contributions["s"] == {"a": pytest.approx(0.02), "b": pytest.approx(0.3)}  # c: no u, none
    assert prop.relative("p") == pytest.approx(prop.u["p"] / 10.0)
    assert math.isnan(U.gum(lambda x: {"z": x["a"] - 2.0}, inputs).relative("z"))
    # expanded uncertainties are k = 2 (~95 %), in the JSON as well
    assert U.K_EXPANDED == 2.0 and prop.expanded("p") == pytest.approx(2 * prop.u["p"])
    d = prop.to_dict()
    assert d["k_expanded"] == 2.0 and d["U"]["s"] == pytest.approx(2 * prop.u["s"])
    assert d["u"] == prop.u and d["inputs"]["b"]["u_a"] == 0.08


def test_monte_carlo_matches_the_propagation_of_a_linear_model():
    inputs = {"a": U.Input("a", 2.0, 0.02, 0.02, 0.0, ""), "b": U.Input("b", 5.0, 0.1, 0.1, 0.0, ""),
              "k": U.Input("k", 3.0, 0.0, 0.0, 0.0, "")}
    mean, sd = U.monte_carlo(lambda x: {"s": x["a"] + x["k"] * x["b"]}, inputs, n=4000, seed=1)
    # sd of a sd estimate over 4000 draws: 1.1 %; 4 sigma
    assert sd["s"] == pytest.approx(math.hypot(0.02, 0.3), rel=0.045)
    assert mean["s"] == pytest.approx(17.0, abs=4 * 0.3 / math.sqrt(4000))
