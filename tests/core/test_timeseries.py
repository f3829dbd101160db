"""The one smoothing and threshold crossing (core/timeseries.py), against values worked out by hand."""
import numpy as np
import pytest

from hotfire.core.timeseries import crossing_up, crossing_window, smooth, window_samples


def test_crossings_are_interpolated_between_samples():
    t = np.arange(11) * 0.1                 # 0.0 .. 1.0 s
    v = np.array([0, 0, 1, 3, 5, 5, 5, 4, 2, 0, 0], float)
    assert crossing_up(t, v, 2.0) == pytest.approx(0.25)        # between 1 (0.2 s) and 3 (0.3 s)
    assert crossing_window(t, v, 2.0) == pytest.approx((0.25, 0.8))  # down through 2 at the 0.8 s sample
    assert crossing_window(t, v, 3.0) == pytest.approx((0.3, 0.75))
    assert crossing_up(t, v, 6.0) is None and crossing_window(t, v, 6.0) is None
    assert crossing_up(t, v, 2.0, start=5) == pytest.approx(0.5)  # already above at start: that sample
    assert crossing_up(t, np.full(11, 9.0), 2.0) == 0.0           # above from the first sample
    assert crossing_up(t[:0], v[:0], 1.0) is None and crossing_window(t[:0], v[:0], 1.0) is None


def test_smoothing_is_centred_and_keeps_a_ramp():
    rate = 1000.0
    assert window_samples(0.01, rate) == 11 and window_samples(0.0104, rate) == 11 and window_samples(0.012, rate) == 13
    t = np.arange(2000) / rate
    ramp = 3.0 * t + 1.0
    np.testing.assert_allclose(smooth(ramp, rate, 0.02)[50:-50], ramp[50:-50], rtol=0, atol=1e-9)  # no time shift
    step = (t >= 1.0).astype(float)
    s = smooth(step, rate, 0.02)                                   # 21 samples
    assert s[999] == pytest.approx(10 / 21) and s[1000] == pytest.approx(11 / 21)
    assert crossing_up(t, s, 0.5) == pytest.approx(t[999] + (0.5 - 10 / 21) * 21 / rate)  # the edge stays put
    one = np.arange(5.0)
    assert smooth(one, rate, 0.0004) is one                         # a one-sample window is no smoothing


def test_burn_window_leaves_out_a_short_excursion_far_from_the_burn():
    from hotfire.core.timeseries import burn_window

    t = np.arange(0, 20, 0.01)
    v = np.where((t >= 10) & (t <= 14), 100.0, 0.0)
    v[(t >= 12.0) & (t < 12.2)] = 0.0  # a 0.2 s dip inside the burn: still one burn
    v[(t >= 2.0) & (t < 2.03)] = 500.0  # a 30 ms spike 8 s before it (larger than the burn)
    v[(t >= 16.0) & (t < 17.0)] = 80.0  # a 1 s stretch 2 s after: long enough, and nearer than the burn lasts
    assert crossing_window(t, v, 50.0)[0] < 2.01  # first to last crossing takes the spike
    a, b = burn_window(t, v, 50.0, min_s=0.1)
    # the spike holds the peak, yet the window is the burn: from the 10 s edge to the end of the 16-17 s stretch
    # (the 80 -> 0 step crosses 50 at 16.99 + 30/80 x 0.01 s)
    assert a == pytest.approx(9.995, abs=1e-9) and b == pytest.approx(16.99375, abs=1e-9)
    v[(t >= 2.0) & (t < 2.03)], v[(t >= 7.0) & (t < 7.03)] = 0.0, 500.0  # the spike 3 s before a 7 s burn
    assert burn_window(t, v, 50.0, min_s=0.1) == pytest.approx((9.995, 16.99375), abs=1e-9)
    v[(t >= 16.0) & (t < 17.0)] = 0.0
    assert burn_window(t, v, 50.0, min_s=0.1) == pytest.approx((9.995, 14.005), abs=1e-9)
    assert burn_window(t, v, 600.0) is None
