"""The total impulse's uncertainty covers its error when the thrust's zero is uncertain: the tare's
standard error and the zero shift (hotfire.analysis.uncertainty.zero_terms), against the simulator's truth."""
import math

import pytest

from hotfire.analysis.results import analyze_run
from hotfire.core.runfile.reader import open_run
from hotfire.daq.sources import simtruth
from hotfire.daq.sources.engine import NOISE


@pytest.mark.parametrize("rig", ["lox-ethanol-5kN", "lox-rp1-100kN"])
@pytest.mark.parametrize("noise", ["white-3%", "pink-1%", "stand", "drift"])
def test_the_impulse_error_lies_within_its_expanded_uncertainty(firings, rig, noise):
    with open_run(firings.path(rig, "nominal", **NOISE[noise])) as run:
        perf = analyze_run(run, stability=False).performance
        truth = simtruth.thrust_truth(run)["total_impulse_Ns"]
    err = abs(perf.thrust.total_impulse_Ns - truth)
    U = 2 * perf.uncertainty["total_impulse_Ns"]
    # measured (|error|, U) in %: 5 kN pink 0.271, 0.338 (U was 0.217 with the calibration terms alone);
    # 5 kN stand 0.226, 0.310 (was 0.217); 100 kN pink 0.174, 0.260 (was 0.147); 100 kN stand 0.142, 0.231
    assert err <= U, (err / truth, U / truth)
    # and not absurdly wide: a linearly drifting zero, corrected, gives the largest (0.54 %)
    assert U / truth < 0.006


def test_zero_terms_by_hand():
    """A zero shift of 10 N over a 2 s impulse window: corrected as a ramp, the drift may lie anywhere between a
    step at the start and one at the end, +-10 N s, u = 10/sqrt(3); uncorrected, 0 to 20 N s, u = 20/sqrt(3)."""
    from hotfire.analysis.thrust import ThrustResult
    from hotfire.analysis.uncertainty import zero_terms

    base = dict(channels=[], tare_N=0.0, tared=False, thresholds={}, steady_thrust_N=1.0, burn_start_s=0.0,
                burn_end_s=2.0, burn_time_s=2.0, action_start_s=0.0, action_end_s=2.0, action_time_s=2.0,
                total_impulse_Ns=2.0, burn_impulse_Ns=2.0, average_thrust_N=1.0, peak_thrust_N=1.0,
                peak_time_s=1.0, impulse_window_s=(0.0, 2.0), zero_shift_N=-10.0)
    assert zero_terms([], ThrustResult(**base, zero_shift_corrected=True)) == (0.0, pytest.approx(10 / math.sqrt(3)))
    assert zero_terms([], ThrustResult(**base))[1] == pytest.approx(20 / math.sqrt(3))
