"""Channels of a run back to CSV (``hotfire export``)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from hotfire.analysis.importers.base import ImportFailed


def export_csv(run, out, channels: list[str], t=None, rate_hz: float | None = None) -> Path:
    """Channels of a run to CSV: ``time_s`` (from T0) then ``NAME [units]`` columns.

    Channels of one stream keep their samples; channels of several streams
    are interpolated (linearly) onto the first channel's time base, or onto
    a uniform ``rate_hz`` base when given.
    """
    names = []
    for key in channels:
        if key in run._by_name:
            names.append(key)
        else:
            found = [c.name for c in run.channels if c.role == key]
            if not found:
                raise ImportFailed(f"{run.path}: no channel or role {key!r}")
            names.extend(found)
    sigs = [run.channel(n, t) for n in names]
    if rate_hz:
        a = max(s.t[0] for s in sigs)
        b = min(s.t[-1] for s in sigs)
        tb = a + np.arange(int(np.floor((b - a) * rate_hz)) + 1) / rate_hz
    else:
        tb = sigs[0].t
    cols = [s.values if (len(s.t) == len(tb) and np.array_equal(s.t, tb)) else np.interp(tb, s.t, s.values)
            for s in sigs]
    out = Path(out)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time_s"] + [f"{s.name} [{s.units}]" if s.units else s.name for s in sigs])
        np.savetxt(f, np.column_stack([tb] + cols), delimiter=",", fmt="%.10g")
    return out
