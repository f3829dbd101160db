"""Checks made before an acquisition starts: the test id, where the run's files go, free space.

A test id names the run's files (``<out>/<id>.h5``, ``<id>.journal/``,
``<id>.h5.live``), so it must be a plain file name: **1 to 128 characters,
ASCII letters, digits, ``-``, ``_`` and ``.``, not starting with ``.``**
(so no ``/``, no ``..``, no hidden file). Every path of the run is then also
checked, resolved (symbolic links followed), to lie directly in the output
folder.

The free-space check compares the run's expected size (each sample is
written twice: once to the journal, once to the run file) with the space
free on the output folder's file system: the run is refused when it cannot
fit, and a warning is given when less than :data:`MARGIN` times the
expected size is free.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from hotfire.core.errors import HotfireError

__all__ = ["TEST_ID_RULE", "check_test_id", "run_paths", "expected_run_bytes", "check_free_space", "MARGIN"]

TEST_ID_RULE = ("1 to 128 characters: ASCII letters, digits, '-', '_' and '.', not starting with '.'")
_TEST_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")

#: warn when less than this many times the run's expected size is free
MARGIN = 1.5
#: bytes per record beside the samples (journal header), and per run a fixed allowance
#: (segment headers with the rig text, HDF5 metadata, the events)
_RECORD_OVERHEAD = 64
_FIXED_BYTES = 4 << 20


def check_test_id(test_id: str) -> str:
    """Return ``test_id`` if it follows :data:`TEST_ID_RULE`.

    Raises
    ------
    HotfireError
        It does not (the message gives the rule).
    """
    if not isinstance(test_id, str) or not _TEST_ID.fullmatch(test_id):
        raise HotfireError(f"test id {test_id!r} is not allowed: a test id names the run's files, so it must be "
                           f"{TEST_ID_RULE}")
    return test_id


def run_paths(out_dir, test_id: str, suffixes) -> list[Path]:
    """The run's paths ``out_dir / (test_id + suffix)``, checked to lie directly in ``out_dir``.

    Raises
    ------
    HotfireError
        A bad test id, or a path that resolves outside the output folder
        (e.g. through a symbolic link).
    """
    check_test_id(test_id)
    out = Path(out_dir)
    base = out.resolve()
    paths = []
    for suffix in suffixes:
        p = out / f"{test_id}{suffix}"
        if p.resolve().parent != base:
            raise HotfireError(f"{p} resolves to {p.resolve()}, outside the output folder {base}: refused")
        paths.append(p)
    return paths


def expected_run_bytes(streams: dict, duration_s: float, records_per_s: float = 200.0) -> int:
    """Bytes a run of ``duration_s`` takes on disk: journal + run file.

    Parameters
    ----------
    streams : dict
        name -> spec with ``rate_hz``, ``n_channels``, ``dtype``.
    duration_s : float
    records_per_s : float
        Journal records per second and stream (the recorder polls every
        ~5 ms), for the per-record overhead.
    """
    total = _FIXED_BYTES
    for s in streams.values():
        samples = s.rate_hz * duration_s * s.n_channels * np.dtype(s.dtype).itemsize
        total += 2 * samples + records_per_s * duration_s * _RECORD_OVERHEAD
    return int(total)


def check_free_space(out_dir, streams: dict, duration_s: float | None) -> str:
    """Refuse a run that cannot fit on the output folder's file system; return a warning ("" if none).

    Parameters
    ----------
    out_dir : str or Path
        An existing folder.
    streams : dict
        name -> spec (``rate_hz``, ``n_channels``, ``dtype``).
    duration_s : float or None
        Planned duration; None or infinite: nothing to check.

    Raises
    ------
    HotfireError
        The expected size is more than the free space.
    """
    if duration_s is None or not math.isfinite(duration_s) or duration_s <= 0:
        return ""
    need = expected_run_bytes(streams, duration_s)
    st = os.statvfs(out_dir)
    free = st.f_bavail * st.f_frsize
    what = (f"a {duration_s:g} s run needs about {_mb(need)} (journal and run file: "
            + ", ".join(f"{name} {s.n_channels} ch x {s.rate_hz:g} S/s x {np.dtype(s.dtype).itemsize} B"
                        for name, s in streams.items())
            + f"), and {out_dir} has {_mb(free)} free")
    if need > free:
        raise HotfireError(f"not enough disk space: {what}. Free some space or choose another --out")
    if need * MARGIN > free:
        return f"little disk space: {what} (less than {MARGIN:g} x what the run needs)"
    return ""


def _mb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"
