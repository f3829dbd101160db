"""Raw -> signal -> engineering units with hand-computed values (and back), one case per
calibration type; fast, so that it is the mutation-test subset of core/scaling.py."""
import numpy as np
import pytest

from hotfire.core.scaling import ADC_BITS, Calibration, Scaling, adc_for


def test_linear_and_none():
    c = Calibration({"type": "linear", "slope": 2.5, "offset": -1.0})
    assert c.to_eu(2.0) == 4.0 and c.is_linear
    assert c.to_signal(4.0) == 2.0
    assert Calibration({"type": "linear", "slope": 2.5}).to_eu(2.0) == 5.0  # offset defaults to 0
    n = Calibration({"type": "none"})
    assert n.to_eu(3.25) == 3.25 and n.to_signal(3.25) == 3.25
    assert Calibration({}).type == "none"


def test_bridge_is_capacity_over_rated_output_less_the_zero():
    # 10 kN load cell, 2 mV/V rated, zero offset 0.01 mV/V: 1.01 mV/V reads (1.01 - 0.01) * 5000 N
    c = Calibration({"type": "bridge", "capacity": 10000.0, "rated_output_mV_V": 2.0, "zero_mV_V": 0.01})
    assert c.to_eu(1.01) == pytest.approx(5000.0, rel=1e-12)
    assert c.to_eu(0.01) == pytest.approx(0.0, abs=1e-9)
    assert c.to_signal(5000.0) == pytest.approx(1.01, rel=1e-12)
    assert Calibration({"type": "bridge", "capacity": 50.0, "rated_output_mV_V": 3.0}).to_eu(1.5) == 25.0


def test_polynomial_in_ascending_powers_and_its_inverse():
    c = Calibration({"type": "polynomial", "coefficients": [1.0, 2.0, 0.5]})  # 1 + 2x + 0.5x^2
    assert c.to_eu(2.0) == 7.0 and not c.is_linear
    assert c.to_signal(7.0, signal_range=(0.0, 10.0)) == pytest.approx(2.0, abs=1e-3)  # grid of 5e-4
    with pytest.raises(ValueError, match="constant"):
        Calibration({"type": "polynomial", "coefficients": [3.0]}).to_signal(1.0)
    lin = Calibration({"type": "polynomial", "coefficients": [1.0, 4.0]})
    assert lin.is_linear and lin.to_signal(9.0) == 2.0
    # a straight line is inverted exactly, however far out (not on the +-1000 search grid)
    assert lin.to_signal(1.0 + 4.0 * 5000.0) == 5000.0


def test_a_curved_inverse_searches_plus_minus_1000_by_default():
    c = Calibration({"type": "polynomial", "coefficients": [0.0, 1.0, 1e-6]})  # x + 1e-6 x^2
    assert c.to_signal(c.to_eu(-999.5)) == pytest.approx(-999.5, abs=1e-3)
    assert c.to_signal(c.to_eu(999.5)) == pytest.approx(999.5, abs=1e-3)
    # beyond the default range the answer is its end: exactly -1000 and 1000
    assert c.to_signal(c.to_eu(-1000.5)) == pytest.approx(-1000.0, abs=1e-9)
    assert c.to_signal(c.to_eu(1000.5)) == pytest.approx(1000.0, abs=1e-9)


def test_table_interpolates_both_ways_even_when_decreasing():
    c = Calibration({"type": "table", "signal": [0.0, 1.0, 2.0], "value": [10.0, 20.0, 40.0]})
    assert c.to_eu(1.5) == 30.0 and c.to_eu(0.25) == 12.5 and not c.is_linear
    assert c.to_signal(30.0) == 1.5
    d = Calibration({"type": "table", "signal": [0.0, 1.0], "value": [5.0, 1.0]})  # a falling sensor
    assert d.to_signal(2.0) == pytest.approx(0.75)


def test_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown calibration type 'lin'"):
        Calibration({"type": "lin"})


def test_default_adc_spans_the_range_with_the_converters_counts():
    # int16 over -10..10 V: step 20/65535 V, count 0 at the middle of the range's top half-step
    a = adc_for("int16", (-10.0, 10.0))["coefficients"]
    step = 20.0 / 65535.0
    assert a == pytest.approx([-10.0 + 32768 * step, step], rel=1e-15)
    s = Scaling(adc_for("int16", (-10.0, 10.0)), {"type": "none"})
    assert s.to_eu(np.array([-32768, 32767])) == pytest.approx([-10.0, 10.0], abs=1e-12)
    b = adc_for("int32", (0.0, 5.0))["coefficients"]  # 24-bit converter
    assert ADC_BITS["int32"] == 24 and b[1] == pytest.approx(5.0 / (2**24 - 1), rel=1e-15)
    assert adc_for("float64", (-1.0, 1.0)) == {"coefficients": [0.0, 1.0]}


def test_scaling_folds_two_linear_steps_and_composes_the_others():
    s = Scaling({"coefficients": [0.5, 0.001]}, {"type": "linear", "slope": 100.0, "offset": 2.0})
    # eu = 100 * (0.5 + 0.001 raw) + 2 = 52 + 0.1 raw
    assert s.affine() == pytest.approx((0.1, 52.0), rel=1e-12)
    assert s.to_eu(np.array([10, -20], np.int16)) == pytest.approx([53.0, 50.0], rel=1e-12)
    assert s.to_signal(10) == pytest.approx(0.51)
    # a quadratic ADC or calibration is evaluated step by step
    q = Scaling({"coefficients": [0.0, 1.0, 0.01]}, {"type": "linear", "slope": 2.0})
    assert q.affine() is None and q.to_eu(10.0) == pytest.approx(2.0 * (10.0 + 1.0))
    t = Scaling({"coefficients": [0.0, 0.5]}, {"type": "table", "signal": [0.0, 10.0], "value": [0.0, 100.0]})
    assert t.affine() is None and t.to_eu(4.0) == pytest.approx(20.0)
    # a constant calibration folds to slope 0
    k = Scaling({"coefficients": [1.0, 2.0]}, {"type": "polynomial", "coefficients": [7.0]})
    assert k.affine() == (0.0, 7.0) and k.to_eu(np.array([3])) == pytest.approx([7.0])
