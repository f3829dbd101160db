"""hotfire's analyses, and the script API.

    >>> from hotfire.analysis import open_run, analyze_run
    >>> with open_run("runs/LE5-003.h5") as run:
    ...     pc = run.view("chamber_pressure")         # a lazy channel view: read by span or in chunks
    ...     res = analyze_run(run)                    # health, thrust, performance, uncertainty, stability
    ...     res.performance.c_star_efficiency

The names below are imported when first used, so importing one analysis
module (``hotfire.analysis.thrust``) does not load them all.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the module that defines it
_EXPORTS = {
    "open_run": "hotfire.core.runfile.reader",
    "Run": "hotfire.core.runfile.reader",
    "Signal": "hotfire.core.runfile.reader",
    "RunFileError": "hotfire.core.runfile.reader",
    "ChannelView": "hotfire.core.runfile.view",
    "Channel": "hotfire.core.channel",
    "analyze_run": "hotfire.analysis.results",
    "Results": "hotfire.analysis.results",
    "Settings": "hotfire.analysis.performance",
    "tuned_for_analysis": "hotfire.analysis.alloc",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from hotfire.analysis.alloc import tuned_for_analysis
    from hotfire.analysis.performance import Settings
    from hotfire.analysis.results import Results, analyze_run
    from hotfire.core.channel import Channel
    from hotfire.core.runfile.reader import Run, RunFileError, Signal, open_run
    from hotfire.core.runfile.view import ChannelView


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hotfire.analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
