"""Keeping freed memory: the analysis's temporaries stop faulting pages in again."""
import resource

import numpy as np
import pytest

from hotfire.analysis.alloc import keep_freed_memory


def faults_of(fn) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def churn():
    for _ in range(5):  # as an analysis does: several 4.8 MB temporaries alive at once, then freed
        arrays = [np.ones(600_000) for _ in range(6)]
        del arrays


def test_freed_arrays_are_reused_without_page_faults():
    assert keep_freed_memory() and keep_freed_memory()  # glibc here; idempotent
    churn()  # the heap grows once
    assert faults_of(churn) < 300  # 30 arrays of ~1200 pages each: reused, not faulted in again


def test_analyze_run_changes_no_process_wide_setting(firings, monkeypatch):
    import ctypes
    import sys

    from hotfire.analysis import alloc, results
    from hotfire.core.runfile.reader import open_run

    seen = []
    real = results.analyze_stability

    def spy(*a, **kw):
        seen.append(sys.getswitchinterval())
        return real(*a, **kw)
    monkeypatch.setattr(results, "analyze_stability", spy)
    monkeypatch.setattr(alloc, "_done", alloc.threading.Event())  # as in a fresh process
    loaded = []
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: loaded.append(a) or (_ for _ in ()).throw(OSError))
    before = sys.getswitchinterval()
    with open_run(firings.path("lox-ethanol-5kN", "nominal")) as run:
        results.analyze_run(run)
        assert seen == [before] and loaded == []  # no mallopt, no switch interval
        with alloc.tuned_for_analysis():
            results.analyze_run(run)
    assert seen == [before, pytest.approx(min(2e-4, before))] and len(loaded) == 1  # the commands' tuning, when asked
    assert sys.getswitchinterval() == before


def test_short_gil_switches_nest_and_restore():
    import sys

    from hotfire.analysis.alloc import short_gil_switches

    before = sys.getswitchinterval()
    with short_gil_switches(1e-4):
        with short_gil_switches(1e-3):
            assert sys.getswitchinterval() == pytest.approx(min(1e-4, before))
        assert sys.getswitchinterval() == pytest.approx(min(1e-4, before))
    assert sys.getswitchinterval() == before
