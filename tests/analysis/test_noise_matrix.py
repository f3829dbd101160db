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
        "c_star_efficiency": (6e-05, 2.9e-05),
        "c_star_m_s": (6e-05, 2.6e-05),
        "isp_s": (0.0004, 0.00018),
        "of": (0.0002, 5.1e-05),
        "pc_bar": (4e-05, 1.7e-05),
        "peak_thrust_N": (0.006, 0.0029),
        "thrust_N": (0.0003, 0.00015),
        "total_impulse_Ns": (6e-05, 2.6e-05),
    },
    "white-0.3%": {
        "burn_time_s": (0.002, 0.00063),
        "c_star_efficiency": (5e-05, 2.1e-05),
        "c_star_m_s": (5e-05, 2.2e-05),
        "isp_s": (0.0002, 6.8e-05),
        "of": (3e-05, 1.2e-05),
        "pc_bar": (4e-05, 1.7e-05),
        "peak_thrust_N": (0.02, 0.0058),
        "thrust_N": (0.0002, 6.4e-05),
        "total_impulse_Ns": (0.0001, 4.8e-05),
    },
    "white-1%": {
        "burn_time_s": (0.002, 0.00071),
        "c_star_efficiency": (0.0002, 7.1e-05),
        "c_star_m_s": (0.0002, 7.6e-05),
        "isp_s": (0.0003, 0.00014),
        "of": (0.0002, 5.4e-05),
        "pc_bar": (0.0002, 6.7e-05),
        "peak_thrust_N": (0.04, 0.018),
        "thrust_N": (0.0003, 0.00013),
        "total_impulse_Ns": (0.0003, 0.00012),
    },
    "white-3%": {
        "burn_time_s": (0.03, 0.01),
        "c_star_efficiency": (0.002, 0.00082),
        "c_star_m_s": (0.002, 0.00098),
        "isp_s": (0.004, 0.0016),
        "of": (0.004, 0.0016),
        "pc_bar": (0.003, 0.0011),
        "peak_thrust_N": (0.2, 0.052),
        "thrust_N": (0.004, 0.0019),
        "total_impulse_Ns": (0.002, 0.00066),
    },
    "pink-1%": {
        "burn_time_s": (0.004, 0.002),
        "c_star_efficiency": (0.007, 0.0033),
        "c_star_m_s": (0.009, 0.0041),
        "isp_s": (0.003, 0.0015),
        "of": (0.02, 0.0085),
        "pc_bar": (0.0008, 0.00038),
        "peak_thrust_N": (0.06, 0.026),
        "thrust_N": (0.005, 0.0023),
        "total_impulse_Ns": (0.006, 0.0027),
    },
    "rough-5%pp": {
        "burn_time_s": (0.0009, 0.00042),
        "c_star_efficiency": (8e-05, 3.8e-05),
        "c_star_m_s": (8e-05, 3.8e-05),
        "isp_s": (0.0002, 7.9e-05),
        "of": (2e-05, 6.1e-06),
        "pc_bar": (7e-05, 3.4e-05),
        "peak_thrust_N": (0.06, 0.025),
        "thrust_N": (0.0002, 7.6e-05),
        "total_impulse_Ns": (2e-05, 4.9e-06),
    },
    "mains-2%": {
        "burn_time_s": (0.004, 0.0017),
        "c_star_efficiency": (0.0002, 8.5e-05),
        "c_star_m_s": (0.0002, 7.8e-05),
        "isp_s": (0.0002, 6e-05),
        "of": (0.0002, 7.2e-05),
        "pc_bar": (0.0001, 4.7e-05),
        "peak_thrust_N": (0.05, 0.022),
        "thrust_N": (6e-05, 2.9e-05),
        "total_impulse_Ns": (0.0002, 6.4e-05),
    },
    "spikes": {
        "burn_time_s": (0.0002, 9.3e-05),
        "c_star_efficiency": (0.0002, 5.8e-05),
        "c_star_m_s": (8e-05, 3.5e-05),
        "isp_s": (5e-05, 2.4e-05),
        "of": (0.0005, 0.00024),
        "pc_bar": (0.0002, 5.1e-05),
        "peak_thrust_N": (0.006, 0.0028),
        "thrust_N": (0.0003, 0.00011),
        "total_impulse_Ns": (0.0003, 0.0001),
    },
    "drift": {
        "burn_time_s": (0.001, 0.0005),
        "c_star_efficiency": (7e-05, 3.2e-05),
        "c_star_m_s": (2e-05, 1.4e-06),
        "isp_s": (0.02, 0.0057),
        "of": (2e-05, 6e-06),
        "pc_bar": (0.02, 0.006),
        "peak_thrust_N": (0.008, 0.0036),
        "thrust_N": (0.0006, 0.00027),
        "total_impulse_Ns": (0.0006, 0.00027),
    },
    "stand": {
        "burn_time_s": (0.006, 0.0026),
        "c_star_efficiency": (0.009, 0.0042),
        "c_star_m_s": (0.009, 0.0042),
        "isp_s": (0.01, 0.0048),
        "of": (0.02, 0.0068),
        "pc_bar": (0.02, 0.0052),
        "peak_thrust_N": (0.07, 0.033),
        "thrust_N": (0.03, 0.011),  # burn-through's plateau after the loss: 35 % of Pc, the noise 3x larger
        "total_impulse_Ns": (0.007, 0.0031),
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
