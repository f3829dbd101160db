"""The script API: ``from hotfire.analysis import open_run, analyze_run``."""
import subprocess
import sys

import pytest


def test_the_script_api_analyses_a_run_by_path_or_open(firings):
    from hotfire.analysis import ChannelView, analyze_run, open_run

    path = firings.path("lox-ethanol-5kN", "nominal")
    by_path = analyze_run(path, stability=False, uncertainty=False)
    with open_run(path) as run:
        assert isinstance(run.view("thrust"), ChannelView)
        opened = analyze_run(run, stability=False, uncertainty=False)
        assert run.f.id.valid  # the caller's run stays open
    assert by_path.performance.total_impulse_Ns == opened.performance.total_impulse_Ns
    # the simulator's truth: test_accuracy holds impulse within 0.3 %; 1 % here
    assert by_path.performance.total_impulse_Ns == pytest.approx(by_path.truth["total_impulse_Ns"], rel=0.01)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        from hotfire import analysis
        analysis.nope


def test_importing_one_analysis_module_loads_no_other():
    code = ("import sys, hotfire.analysis.thrust; "
            "print(sorted(m for m in sys.modules if m.startswith('hotfire.analysis')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "['hotfire.analysis', 'hotfire.analysis.thrust']"


def test_thrust_and_performance_take_the_channels_the_caller_chooses(firings):
    from hotfire.analysis.channels import Channels
    from hotfire.analysis.performance import analyze
    from hotfire.analysis.thrust import analyze_thrust
    from hotfire.core.runfile.reader import open_run
    from hotfire.daq.sources import simtruth

    f = firings.get("lox-rp1-100kN", "nominal")  # two load cells sharing the thrust equally
    with open_run(f.path) as run, open_run(firings.path("lox-ethanol-5kN", "nominal")) as other:
        truth = simtruth.thrust_truth(run)["total_impulse_Ns"]
        both = analyze_thrust(run.views("thrust"), pc=run.view("chamber_pressure"))
        assert both.total_impulse_Ns == f.perf.total_impulse_Ns  # analyze_run chooses the rig's roles: the same
        for cell in ("THRUST_A", "THRUST_B"):  # one cell alone: half the thrust (measured within 1.0e-5)
            one = analyze_thrust(run.view(cell))
            assert one.channels == [cell]
            assert one.total_impulse_Ns / truth == pytest.approx(0.5, abs=3e-5)
        # the high-rate Pc chosen instead of the static one, and no flows: the window says which it used
        perf = analyze(Channels(thrust=run.views("thrust"), chamber_pressure=[run.view("PC_HF")]))
        assert perf.steady.channels["pc"] == "PC_HF"
        pc_true = simtruth.window_truth(run, perf.steady_window_s)["pc_bar"]
        assert perf.pc_bar == pytest.approx(pc_true, rel=3e-5)  # measured -1.1e-5
        assert perf.mdot_kg_s is None and perf.flow_source == ""
        assert any("no flow meters" in n for n in perf.notes)
        with pytest.raises(ValueError, match="channels of different runs"):
            analyze(Channels(thrust=run.views("thrust"), chamber_pressure=[other.view("chamber_pressure")]))
