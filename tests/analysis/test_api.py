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
