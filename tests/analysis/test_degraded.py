"""A failed or saturated channel masks only its own spans: everything else is computed, degraded
results are marked, and ``hotfire analyze`` says by its exit status what it could do.

Truth is the noise-free model's (``hotfire.daq.sources.simtruth``), by the analysis' own definitions.
"""
import numpy as np
import pytest

from hotfire.cmd_analyze import exit_status
from hotfire.core.calculated import sum_load_cells
from hotfire.core.health import ChannelHealth, check_run
from hotfire.core.runfile.reader import open_run
from hotfire.analysis.channels import Channels
from hotfire.analysis.performance import analyze
from hotfire.analysis.results import Results
from hotfire.analysis.uncertainty import propagate
from hotfire.daq.sources import simtruth


def _rel(v, truth):
    return abs(v - truth) / abs(truth)


def test_sum_of_load_cells_estimates_a_failed_cell_from_the_others():
    rng = np.random.default_rng(3)
    t = np.linspace(0, 4, 4001)
    F = np.where((t > 1) & (t < 3), 1000.0, 0.0)
    a = 0.6 * F + 50 + rng.normal(0, 0.5, len(t))  # unequal shares and preloads
    b = 0.4 * F + 20 + rng.normal(0, 0.5, len(t))
    bad = (t > 2.0) & (t < 2.5)
    a_seen = np.where(bad, 1e9, a)  # saturated: any value, the mask says it is not valid
    s = sum_load_cells([a_seen, b], [~bad, np.ones(len(t), bool)])
    assert s.estimated[bad].all() and not s.estimated[~bad].any()
    # inside the failed span the estimate is 0.6/0.4 of b plus the preload difference: error ~ noise
    assert np.max(np.abs(s.total[bad] - (a + b)[bad])) < 5.0  # measured 2.6 (0.5 N noise x 1.5 x 3.4 sigma)
    assert s.fits[0].b == pytest.approx(1.5, rel=1e-3)  # measured 2e-5
    both = sum_load_cells([a_seen, b], [~bad, ~bad])
    assert np.isnan(both.total[bad]).all() and both.missing[bad].all()


def test_one_load_cell_failed_over_the_burn_falls_back_on_the_other(firings):
    path = firings.path("lox-rp1-100kN", "nominal")
    with open_run(path) as run:
        health = check_run(run)
        health["THRUST_A"] = ChannelHealth("THRUST_A", "thrust", "failed", ["test: failed"], [], [(0.6, 1.4)])
        ch = Channels.from_roles(run)
        perf = analyze(ch, health=health)
        props = propagate(ch, perf)
        tt = simtruth.thrust_truth(run)
        wt = simtruth.window_truth(run, perf.steady_window_s)
    assert _rel(perf.total_impulse_Ns, tt["total_impulse_Ns"]) < 1e-4  # measured 2e-5
    assert perf.status["total_impulse_Ns"]["status"] == "degraded"
    assert "THRUST_A not valid, estimated from THRUST_B" in perf.status["total_impulse_Ns"]["reason"]
    assert _rel(perf.steady.thrust_N, wt["thrust_N"]) < 2e-5  # measured 4e-6
    assert perf.steady.status["isp_s"]["status"] == "degraded"
    assert "pc_bar" not in perf.status and "c_star_m_s" not in perf.status
    # the window's thrust is one calculated input, its uncertainty the cells' and the estimate's residual
    assert "F[total]" in props["0"].inputs and perf.uncertainty["thrust_N"] > 0


def test_overpressure_saturating_both_load_cells_still_gives_every_result(firings):
    path = firings.path("lox-rp1-100kN", "overpressure")
    with open_run(path) as run:
        from hotfire.analysis.results import analyze_run

        res = analyze_run(run, stability=False)
        perf = res.performance
        tt = simtruth.thrust_truth(run)
        wt = simtruth.window_truth(run, perf.steady_window_s)
    assert {h.name for h in perf.health.values() if h.status == "failed"} == {"THRUST_A", "THRUST_B"}
    # no valid cell for 0.53 s: that span is bridged from Pc, flagged
    assert perf.status["total_impulse_Ns"]["status"] == "degraded"
    assert "estimated from Pc" in perf.status["total_impulse_Ns"]["reason"]
    assert _rel(perf.total_impulse_Ns, tt["total_impulse_Ns"]) < 1e-3  # measured 3.1e-4
    assert _rel(perf.peak_thrust_N, tt["peak_thrust_N"]) < 4e-3  # measured 1.4e-3
    for k, tol in (("pc_bar", 1e-3), ("of", 2e-3), ("c_star_m_s", 1e-3), ("mdot_kg_s", 1e-3)):  # measured <= 5e-4
        assert _rel(getattr(perf.steady, k), wt[k]) < tol, k
        assert k not in perf.status
    assert exit_status(res) == 0 and exit_status(res, strict=True) == 4


@pytest.mark.parametrize("failure_at_s, thrust", [(-0.3, False), (1.2, True)])
def test_pressure_and_flow_results_never_need_thrust(firings, failure_at_s, thrust):
    # the only load cell fails open circuit before ignition (no thrust at all) or mid-burn (bridged from Pc)
    path = firings.path("lox-ethanol-5kN", "failed-sensor", failed_channel_role="thrust", failure_at_s=failure_at_s)
    with open_run(path) as run:
        perf = analyze(run)
        tt = simtruth.thrust_truth(run)
        wt = simtruth.window_truth(run, perf.steady_window_s)
    for k, tol in (("pc_bar", 1e-3), ("of", 2e-3), ("c_star_m_s", 1e-3), ("c_star_efficiency", 1e-3)):
        assert _rel(getattr(perf, k), wt[k]) < tol, k  # measured <= 8e-4 (O/F)
    if thrust:
        assert _rel(perf.total_impulse_Ns, tt["total_impulse_Ns"]) < 1e-4  # measured 1.5e-5
        assert perf.status["total_impulse_Ns"]["status"] == "degraded"
    else:
        assert perf.thrust is None and perf.total_impulse_Ns is None and perf.isp_s is None
        assert perf.status["total_impulse_Ns"]["status"] == "n/a"
        assert perf.burn_basis == "chamber pressure"
        assert perf.burn_time_s == pytest.approx(tt["burn_time_s"], abs=0.06)  # Pc rises before thrust: 0.038 s


def test_exit_status_3_when_nothing_could_be_computed():
    assert exit_status(Results("x", "rig", "p", None, None)) == 3


def test_a_pc_dropout_masks_only_its_own_span(firings):
    """100 kN rig, PC_MAIN open circuit for 0.3 s (+1.12 to +1.42 s) and back: the steady window is the
    whole plateau, its Pc is PC_MAIN's mean over the rest (not the high-rate stand-in over all of it),
    degraded, the span in its provenance; before, PC_MAIN was "not used from +1.120 s" on."""
    from hotfire.analysis import metrics as M
    from hotfire.analysis.results import analyze_run
    from hotfire.analysis.textreport import format_results

    path = firings.path("lox-rp1-100kN", "pc-dropout", pretrigger_s=1.6, posttrigger_s=1.0, burn_s=2.5)
    with open_run(path) as run:
        res = analyze_run(run, stability=False)
        perf = res.performance
        m, _ = simtruth.model_of(run)
        wt = simtruth.window_truth(run, perf.steady_window_s)
        text = format_results(run, perf, results=res)
    w = perf.steady
    # one window across the dropout, from the settled start (ignition +0.12 s + 0.16 s) to near cutoff
    # (+2.5 s); measured +0.281 to +2.498 s
    assert len(perf.plateaus) == 1 and w.start_s < 1.0 and w.end_s > 2.3
    assert w.channels["pc"] == "PC_MAIN"
    # measured -0.002 % (clean); the mean of PC_MAIN with its rail reading in would be 13.5 % low
    assert w.pc_bar == pytest.approx(wt["pc_bar"], rel=1e-4)
    v = M.collect(perf)["pc_bar"]
    assert v.state == M.DEGRADED and "PC_MAIN failed +1.115 to +1.425 s" in v.reason
    ex = v.provenance.excluded[0]
    assert ex.channel == "PC_MAIN" and ex.span_s == pytest.approx((1.115, 1.425), abs=2e-3)
    assert M.collect(perf)["c_star_m_s"].state == M.DEGRADED  # from Pc
    assert M.collect(perf)["of"].state == M.OK and M.collect(perf)["thrust_N"].state == M.OK  # not from Pc
    assert perf.c_star_m_s == pytest.approx(wt["c_star_m_s"], rel=1e-4)  # measured -0.002 %
    # the firing's mean Pc, bridged linearly across the dropout: measured -0.004 % against the model (-0.73 % when
    # it was the valid samples' mean over the firing)
    win = perf.thrust.impulse_window_s
    t = np.arange(win[0], win[1], 1e-5) + m.t0
    assert perf.pc_mean_burn_bar == pytest.approx(m.chamber_pressure(t).mean() / 1e5, rel=1.5e-4)
    assert perf.status["pc_mean_burn_bar"]["status"] == "degraded"
    assert "left out over +1.120 to +1.420 s" in text and "not used from" not in text
    assert not any("PC_MAIN (chamber_pressure) not used" in n for n in perf.notes)
