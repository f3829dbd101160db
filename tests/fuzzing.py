"""Shared settings of the fuzz tests (hypothesis): bounded, reproducible, and a hang is a failure.

``HOTFIRE_FUZZ_EXAMPLES`` (default 200) sets the examples per parser; run
10,000 once by hand with ``HOTFIRE_FUZZ_EXAMPLES=10000``.
"""
from __future__ import annotations

import contextlib
import os
import signal

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("HOTFIRE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@contextlib.contextmanager
def no_hang(seconds: int = 10):
    """Fail (TimeoutError) if the block runs longer than ``seconds`` (Python-level loops only)."""
    def alarm(*_):
        raise TimeoutError(f"no answer within {seconds} s: a hang")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
