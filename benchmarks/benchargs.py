"""The command-line options every benchmark shares, parsed in one place.

Each ``bench_*.py`` builds its parser with :func:`parser`, asking only for the
common options it uses, then adds its own::

    ap = parser(__doc__, rounds=5, mib=256, directory=True)
    ap.add_argument("--sustain", type=float, default=10.0)
    args = ap.parse_args(argv)

The benchmarks run as scripts (``python benchmarks/bench_x.py``), so this
module is found beside them.
"""
from __future__ import annotations

import argparse
import os

__all__ = ["parser"]


def parser(doc: str, *, rounds: int | None = None, rounds_help: str = "rounds; medians are shown",
           mib: int | None = None, mib_help: str = "MiB of data per case and round",
           directory: bool = False, verbose: bool = False) -> argparse.ArgumentParser:
    """An argument parser described by the benchmark's docstring, with the shared options asked for.

    Parameters
    ----------
    doc : str
        The benchmark's module docstring: its first line is the description,
        the rest the epilog of ``--help``.
    rounds : int, optional
        Add ``--rounds N`` with this default.
    mib : int, optional
        Add ``--mib N`` with this default.
    directory : bool
        Add ``--dir DIR``: where temporary files go (default ``$HOTFIRE_BENCH_DIR``,
        else /tmp; put it on the disk the runs will be on).
    verbose : bool
        Add ``--verbose``/``-v``.
    """
    head, _, rest = (doc or "").strip().partition("\n")
    ap = argparse.ArgumentParser(description=head, epilog=rest.strip() or None,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    if rounds is not None:
        ap.add_argument("--rounds", type=int, default=rounds, metavar="N", help=f"{rounds_help} (default {rounds})")
    if mib is not None:
        ap.add_argument("--mib", type=int, default=mib, metavar="N", help=f"{mib_help} (default {mib})")
    if directory:
        ap.add_argument("--dir", default=os.environ.get("HOTFIRE_BENCH_DIR", "/tmp"), metavar="DIR",
                        help="directory for temporary files (default: $HOTFIRE_BENCH_DIR, else /tmp)")
    if verbose:
        ap.add_argument("--verbose", "-v", action="store_true", help="print every round")
    return ap
