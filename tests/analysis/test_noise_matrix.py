"""The scenario x noise matrix: every metric against the simulator's ground truth.

Cells and truth: ``noisematrix.py`` (run it as a script for the table).
Tolerances are per noise level (the worst over the scenarios that carry it),
each about twice the largest error measured, which is stated beside it as
``(tolerance, measured)``; relative errors except ``burn_time_s`` (seconds).
A floor of 2e-5 (relative) stands where the measured error is smaller (the
truth's own resolution: 10 us sampling of the model).
The errors that are large are the measurement's, not the analysis':
1/f noise and zero drift bias what the transducers read (O/F, Pc; a thrust zero drift is
corrected from the post-fire zero shift), and the
peak thrust is the largest of noisy 1 ms means (biased up by ~1.7 sigma).
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from noisematrix import CELLS, cell  # noqa: E402

TOL = {
    "clean": {
        "burn_time_s": (0.0008, 0.00037),
        "c_star_efficiency": (6e-05, 2.8e-05),
        "c_star_m_s": (5e-05, 2.5e-05),
        "isp_s": (0.0005, 0.00023),
        "of": (0.0002, 5.7e-05),
        "pc_bar": (3e-05, 1.3e-05),
        "peak_thrust_N": (0.006, 0.0029),
        "thrust_N": (0.0004, 0.00019),
        "total_impulse_Ns": (6e-05, 2.6e-05),
    },
    "white-0.3%": {
        "burn_time_s": (0.002, 0.00063),
        "c_star_efficiency": (5e-05, 2.5e-05),
        "c_star_m_s": (5e-05, 2.4e-05),
        "isp_s": (0.0002, 6.8e-05),
        "of": (2e-05, 5.2e-06),
        "pc_bar": (4e-05, 1.9e-05),
        "peak_thrust_N": (0.02, 0.0058),
        "thrust_N": (0.0002, 6.3e-05),
        "total_impulse_Ns": (0.0001, 4.8e-05),
    },
    "white-1%": {
        "burn_time_s": (0.002, 0.00071),
        "c_star_efficiency": (0.0002, 8.2e-05),
        "c_star_m_s": (0.0002, 8.2e-05),
        "isp_s": (0.0003, 0.00013),
        "of": (2e-05, 2.1e-06),
        "pc_bar": (0.0002, 7.3e-05),
        "peak_thrust_N": (0.04, 0.018),
        "thrust_N": (0.0003, 0.00012),
        "total_impulse_Ns": (0.0003, 0.00012),
    },
    "white-3%": {
        "burn_time_s": (0.03, 0.01),
        "c_star_efficiency": (0.002, 0.00061),
        "c_star_m_s": (0.002, 0.00062),
        "isp_s": (0.002, 0.00083),
        "of": (0.003, 0.0011),
        "pc_bar": (0.002, 0.00052),
        "peak_thrust_N": (0.2, 0.052),
        "thrust_N": (0.002, 0.00094),
        "total_impulse_Ns": (0.002, 0.00098),
    },
    "pink-1%": {
        "burn_time_s": (0.004, 0.002),
        "c_star_efficiency": (0.008, 0.0035),
        "c_star_m_s": (0.009, 0.0044),
        "isp_s": (0.004, 0.0016),
        "of": (0.02, 0.0089),
        "pc_bar": (0.002, 0.00066),
        "peak_thrust_N": (0.06, 0.026),
        "thrust_N": (0.005, 0.0022),
        "total_impulse_Ns": (0.007, 0.0034),
    },
    "rough-5%pp": {
        "burn_time_s": (0.0009, 0.00042),
        "c_star_efficiency": (0.0002, 5.2e-05),
        "c_star_m_s": (0.0002, 5.2e-05),
        "isp_s": (0.0002, 9.5e-05),
        "of": (2e-05, 8e-06),
        "pc_bar": (0.0001, 4.8e-05),
        "peak_thrust_N": (0.06, 0.025),
        "thrust_N": (0.0002, 9.1e-05),
        "total_impulse_Ns": (2e-05, 4.9e-06),
    },
    "mains-2%": {
        "burn_time_s": (0.004, 0.0017),
        "c_star_efficiency": (0.0002, 5.1e-05),
        "c_star_m_s": (0.0001, 4.9e-05),
        "isp_s": (3e-05, 1.2e-05),
        "of": (4e-05, 1.9e-05),
        "pc_bar": (7e-05, 3.3e-05),
        "peak_thrust_N": (0.05, 0.022),
        "thrust_N": (6e-05, 2.8e-05),
        "total_impulse_Ns": (0.0002, 6.4e-05),
    },
    "spikes": {
        "burn_time_s": (0.0002, 9.3e-05),
        "c_star_efficiency": (0.0001, 4.9e-05),
        "c_star_m_s": (7e-05, 3.1e-05),
        "isp_s": (5e-05, 2.5e-05),
        "of": (0.0004, 0.00019),
        "pc_bar": (0.0002, 5.3e-05),
        "peak_thrust_N": (0.006, 0.0028),
        "thrust_N": (0.0003, 0.00011),
        "total_impulse_Ns": (0.0003, 0.0001),
    },
    "drift": {
        "burn_time_s": (0.001, 0.0005),
        "c_star_efficiency": (7e-05, 3.1e-05),
        "c_star_m_s": (2e-05, 3.2e-07),
        "isp_s": (0.02, 0.0056),
        "of": (2e-05, 7.9e-06),
        "pc_bar": (0.02, 0.0059),
        "peak_thrust_N": (0.008, 0.0036),
        "thrust_N": (0.0007, 0.0003),
        "total_impulse_Ns": (0.0006, 0.00027),
    },
    "stand": {
        "burn_time_s": (0.006, 0.0026),
        "c_star_efficiency": (0.009, 0.0043),
        "c_star_m_s": (0.009, 0.0043),
        "isp_s": (0.004, 0.0016),
        "of": (0.02, 0.0066),
        "pc_bar": (0.01, 0.0046),
        "peak_thrust_N": (0.07, 0.033),
        "thrust_N": (0.02, 0.0102),  # burn-through's plateau after the loss: 35 % of Pc, the noise 3x larger
        "total_impulse_Ns": (0.009, 0.0044),
    },
}
#: the steady window covers at least this much of the true plateau (the issue's goal; measured min 99.6 %)
COVERAGE = 0.90
#: and lies inside it: a window that bridges a sudden loss of Pc (burn-through) covers the time between
#: two true plateaus (bridging burn-through at 3 % noise: 0.89; measured min since the residual test of
#: hotfire.analysis.steady: 0.969, load-cell-saturation at stand noise)
INSIDE = 0.95


@pytest.fixture(scope="module")
def cells(firings):
    cache = {}

    def get(c):
        if c not in cache:
            cache[c] = cell(firings, *c)
        return cache[c]
    return get


@pytest.mark.parametrize("rig, scen, noise", CELLS, ids=[f"{r.split('-')[-1]}-{s}-{n}" for r, s, n in CELLS])
def test_every_metric_within_its_tolerance(cells, rig, scen, noise):
    r = cells((rig, scen, noise))
    bad = {k: (v, TOL[noise][k][0]) for k, v in r.items() if k in TOL[noise] and abs(v) > TOL[noise][k][0]}
    assert not bad, bad
    assert all(k in r for k in ("total_impulse_Ns", "pc_bar", "c_star_m_s", "of")), "a metric went missing"
    assert r["coverage"] >= COVERAGE, r["coverage"]
    assert r["inside"] >= INSIDE, r["inside"]
    assert r["plateaus"][0] == r["plateaus"][1], r["plateaus"]
