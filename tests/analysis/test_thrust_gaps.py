"""Gaps in the record are gaps: the impulse integrates the recorded pieces, says what it left out, and the
thrust's fit on Pc does not warn on a flat Pc."""
import warnings

import numpy as np
import pytest

from hotfire.analysis.importers import ChannelSpec, Mapping, import_csv
from hotfire.analysis.results import analyze_run
from hotfire.analysis.thrust import _bridge_with_pc
from hotfire.core.timeseries import gaps, integrate
from hotfire.core.runfile.reader import open_run

# samples every 1 s, none between 3 and 10 s: a gap
T = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0])
V = np.array([0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 0.0])


def test_integral_leaves_a_gap_out_by_hand():
    # pieces: [0, 3] = 1 + 2 + 2 = 5, [10, 12] = 2 + 1 = 3; bridging the gap would add 7 x 2 = 14
    assert integrate(T, V, 0.0, 12.0) == pytest.approx(8.0, abs=1e-12)
    # ends interpolated: [0.5, 1] = 0.5 x (1 + 2) / 2 = 0.75, [1, 3] = 4, [10, 11] = 2, [11, 11.5] = 0.75
    assert integrate(T, V, 0.5, 11.5) == pytest.approx(7.5, abs=1e-12)
    # an end inside the gap: only [10, 12] counts
    assert integrate(T, V, 5.0, 12.0) == pytest.approx(3.0, abs=1e-12)
    assert integrate(T, V, 4.0, 9.0) == 0.0
    assert gaps(T, 0.0, 12.0) == [(3.0, 10.0)]
    assert gaps(T, 0.0, 2.5) == [] and gaps(T, 10.5, 12.0) == []


def test_evenly_sampled_integral_is_the_trapezoid():
    t = np.arange(0, 1.0, 0.001)
    v = np.sin(7 * t) + 2
    exact = (1 - np.cos(7 * 0.9005)) / 7 + 2 * 0.9005 - ((1 - np.cos(7 * 0.1002)) / 7 + 2 * 0.1002)
    assert integrate(t, v, 0.1002, 0.9005) == pytest.approx(exact, rel=1e-6)  # measured 4e-8
    # one sample lost in an even record: the 2 ms interval around it is left out (~2 ms x ~2 = 4e-3)
    keep = np.ones(len(t), bool)
    keep[500] = False
    full = integrate(t, v, 0.1002, 0.9005)
    assert full - integrate(t[keep], v[keep], 0.1002, 0.9005) == pytest.approx(0.002 * v[500], rel=0.01)


def test_a_gap_inside_the_burn_degrades_the_impulse_and_says_so(tmp_path):
    rate = 1000.0
    t = np.arange(0, 6.0, 1 / rate)
    F = np.clip((t - 2.0) / 0.05, 0, 1) * np.clip((4.0 - t) / 0.05, 0, 1) * 1000.0
    keep = (t < 2.8) | (t >= 3.1)  # the logger lost 0.3 s of the burn (samples 2.800 ... 3.099)
    src = tmp_path / "gap.csv"
    np.savetxt(src, np.column_stack([t[keep], F[keep]]), delimiter=",", header="time_s,thrust_N", comments="",
               fmt="%.6f")
    m = Mapping()
    m.channels["thrust_N"] = ChannelSpec("thrust_N", "THRUST", "thrust", "N")
    with open_run(import_csv(src, tmp_path / "gap.h5", m)) as run:
        perf = analyze_run(run, stability=False).performance
    tr = perf.thrust
    # by hand: 2 s at 1000 N less the two 50 ms ramps' halves (2 x 25 N s), less the gap 2.799 .. 3.100
    # (0.301 s at 1000 N): 1950 - 301 = 1649 N s
    assert perf.total_impulse_Ns == pytest.approx(1649.0, rel=1e-4)  # measured 1e-6
    assert [tuple(round(x, 3) for x in g) for g in tr.gap_spans] == [(2.799, 3.1)]
    st = perf.status["total_impulse_Ns"]
    assert st["status"] == "degraded" and "gap" in st["reason"] and "lower bound" in st["reason"]
    assert "301 N s" in st["reason"]  # what is missing, from the thrust at the gap's ends
    assert perf.status["average_thrust_N"]["status"] == "degraded"


def test_flat_pc_fit_gives_no_rank_warning():
    t = np.arange(0, 2.0, 0.001)
    F = np.where((t > 0.5) & (t < 1.5), 1000.0, 0.0)
    F[900:1000] = np.nan  # no valid load cell here
    pc = (t, np.full(len(t), 20e5))  # a Pc that does not vary: no line to fit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (a, b, rms) = _bridge_with_pc(t, F, pc)
    assert a == 0.0 and b * 20e5 == pytest.approx(1000.0)  # F proportional to Pc
    assert np.all(out[900:1000] == pytest.approx(1000.0))
