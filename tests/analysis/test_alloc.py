"""Keeping freed memory: the analysis's temporaries stop faulting pages in again."""
import resource

import numpy as np

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
