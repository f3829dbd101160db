"""The export formats: CSV, NI TDMS, MATLAB .mat, RASP .eng (see :mod:`hotfire.analysis.export`)."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from hotfire.analysis.export import resample as rs

#: most points of an exported .eng curve when no rate is given (RASP readers take a few hundred)
ENG_POINTS = 500


def _header(name, units):
    return f"{name} [{units}]" if units else name


def write_csv(run, out: Path, tables) -> list[Path]:
    """One CSV per table: ``time_s`` (from T0), then ``NAME [units]`` columns."""
    paths = [out] if len(tables) == 1 else [out.with_name(f"{out.stem}.{tb.name}{out.suffix}") for tb in tables]
    for tb, p in zip(tables, paths):
        with open(p, "w", newline="") as f:
            csv.writer(f).writerow(["time_s"] + [_header(n, u) for n, u, _ in tb.columns])
            np.savetxt(f, np.column_stack([tb.t] + [v for _, _, v in tb.columns]), delimiter=",", fmt="%.10g")
    return paths


def write_tdms(run, out: Path, tables) -> list[Path]:
    """One TDMS group per table, a ``time_s`` channel and one channel per exported one.

    Each channel has ``unit_string``, and the waveform properties
    (``wf_start_offset`` from T0, ``wf_increment``) when its time base has no
    gap, so NI tools and npTDMS's ``time_track()`` give its times.
    """
    from nptdms import ChannelObject, GroupObject, RootObject, TdmsWriter

    root = RootObject(properties={"name": run.test_id, "hotfire_rig": run.rig_name, "time_origin": "T0"})
    with TdmsWriter(str(out)) as w:
        objs = [root]
        for tb in tables:
            objs.append(GroupObject(tb.name, properties={"rate_hz": tb.rate_hz, "resampled": tb.resampled}))
            uniform = len(tb.t) < 2 or bool(np.all(np.abs(np.diff(tb.t) - 1 / tb.rate_hz) < 0.25 / tb.rate_hz))
            wf = {"wf_start_offset": float(tb.t[0]), "wf_increment": 1.0 / tb.rate_hz,
                  "wf_samples": len(tb.t)} if uniform else {}
            objs.append(ChannelObject(tb.name, "time_s", np.asarray(tb.t, float), properties={"unit_string": "s"}))
            for n, u, v in tb.columns:
                objs.append(ChannelObject(tb.name, n, np.asarray(v, float), properties={"unit_string": u, **wf}))
        w.write_segment(objs)
    return [out]


def _ident(name: str, taken: set) -> str:
    """A MATLAB identifier for ``name`` (letters, digits, underscores; a letter first), unique in ``taken``."""
    s = re.sub(r"\W", "_", name)
    if not s or not s[0].isalpha():
        s = "x" + s
    s = s[:63]
    base, k = s, 2
    while s in taken:
        s = f"{base[:60]}_{k}"
        k += 1
    taken.add(s)
    return s


def write_mat(run, out: Path, tables) -> list[Path]:
    """One MATLAB struct per table: ``time_s``, ``rate_hz``, a field per channel, and ``units`` and
    ``names`` structs (a channel's units, and its name where the field had to change it)."""
    from scipy.io import savemat

    top, taken = {}, set()
    for tb in tables:
        fields, units, names = {"time_s": np.asarray(tb.t, float), "rate_hz": tb.rate_hz,
                                "resampled": tb.resampled}, {}, {}
        own = {"time_s", "rate_hz", "resampled", "units", "names"}
        for n, u, v in tb.columns:
            key = _ident(n, own)
            fields[key] = np.asarray(v, float)
            units[key] = u
            names[key] = n
        fields["units"], fields["names"] = units, names
        top[_ident(tb.name, taken)] = fields
    top["test_id"] = run.test_id
    top["time_origin"] = "T0"
    savemat(str(out), top, long_field_names=True, do_compression=True)
    return [out]


def write_eng(run, out: Path, keys, t=None, rate_hz: float | None = None) -> Path:
    """A motor's thrust curve as RASP .eng: the analysis's tared thrust (zero shift corrected as it is)
    over its impulse window, time from the window's start, a last point at zero thrust.

    ``keys`` must name the thrust (a load cell, or the role ``thrust``: all
    load cells summed). Without ``rate_hz`` the curve is decimated (through
    the anti-alias filter) to at most ``ENG_POINTS`` points.
    """
    from hotfire.analysis.export import ExportFailed, select
    from hotfire.analysis.results import analyze_run
    from hotfire.analysis.thrust import drift_ramp, total_thrust

    names = select(run, keys)
    bad = [n for n in names if run.channel_info(n).role != "thrust"]
    if bad:
        raise ExportFailed(f"{out}: a RASP .eng file holds one thrust curve; {', '.join(bad)} "
                           "is not a thrust channel (export --channels thrust)")
    perf = analyze_run(run, stability=False, uncertainty=False).performance
    tr = perf.thrust
    if tr is None or not tr.impulse_window_s:
        raise ExportFailed(f"{run.path}: no thrust curve found to export as .eng ({'; '.join(perf.notes[:2])})")
    tt, F = total_thrust([run.view(n) for n in names], health=perf.health)[:2]
    if tr.zero_shift_corrected and tr.zero_shift_burn_s:
        F = F - drift_ramp(tt, tr.zero_shift_N, tr.zero_shift_burn_s)
    a, b = tr.impulse_window_s
    if t is not None:
        a, b = max(a, t[0] if t[0] is not None else a), min(b, t[1] if t[1] is not None else b)
    keep = (tt >= a) & (tt <= b) & np.isfinite(F)
    tt, F = tt[keep], F[keep]
    fs = run.streams[run.channel_info(names[0]).stream].rate_hz
    need = len(tt) / ENG_POINTS
    rate = rate_hz or fs / next(k for k in (m * 10 ** e for e in range(9) for m in (1, 2, 5)) if k >= need)
    if rate < fs:
        F = rs.resample(F, fs, rate)
        tt = tt[0] + np.arange(len(F)) / rate
    x, y = tt - tt[0], np.maximum(F, 0.0)
    x, y = x[1:], y[1:]  # RASP's first point is the implicit (0, 0)
    art = run.article
    g = art.grain
    dia = getattr(g, "outer_diameter_mm", None) or art.chamber_diameter_mm or 0.0
    length = (g.length_mm * getattr(g, "segments", 1)) if g is not None and getattr(g, "length_mm", None) else 0.0
    prop = perf.propellant_mass_kg or run.metadata.get("propellant_mass_kg") or 0.0
    total = run.metadata.get("total_mass_kg") or prop
    name = re.sub(r"\s+", "-", str(art.serial or run.test_id)) or "motor"
    lines = [f"; {name}: exported by hotfire from {Path(str(run.path)).name} (test {run.test_id})",
             f"; tared thrust over the impulse window {a:+.4f} to {b:+.4f} s from T0, {rate:g} Hz; "
             f"total impulse {tr.total_impulse_Ns:.2f} N s",
             f"{name} {dia:g} {length:g} P {float(prop):.5g} {float(total):.5g} hotfire"]
    lines += [f"{xi:.5f} {yi:.3f}" for xi, yi in zip(x, y)]
    if y[-1] != 0.0:
        lines.append(f"{x[-1] + 1 / rate:.5f} 0.000")
    out.write_text("\n".join(lines) + "\n")
    return out
