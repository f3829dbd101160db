"""Reading one file for the catalog (a batch task: it runs in a worker, a
helper process or this process): its hash, metadata and analysis.

The file's HDF5 metadata is first read by the guard the command line uses
(:mod:`hotfire.core.runfile.guard`, a short-lived child process), so a file
that crashes or hangs HDF5 is a problem named by the step that failed, even
when the batch runs in this process.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os

from hotfire.analysis import metrics as M
from hotfire.analysis.catalog.schema import META_FIELDS
from hotfire.core.version import __version__

GUARD_TIMEOUT_S = 10.0  # s: reading a file's metadata takes milliseconds; only a hang comes near it


def sha256_file(path, bufsize: int = 1 << 20) -> str:
    """SHA-256 of a file's content, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def _utc_iso(text: str) -> str:
    """An ISO time as UTC with microseconds, so text order is time order."""
    try:
        t = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")


def run_metadata(run) -> dict:
    """The catalog's metadata fields of an open run."""
    m = run.metadata
    meta = {k: (str(m[k]) if m.get(k) is not None else None) for k in META_FIELDS if k in m}
    meta["test_id"] = run.test_id
    meta["rig"] = run.rig_name
    if meta.get("start_time_utc"):
        meta["start_time_utc"] = _utc_iso(meta["start_time_utc"])
    if meta.get("end_time_utc"):
        meta["end_time_utc"] = _utc_iso(meta["end_time_utc"])
    try:
        a = run.article
        meta["fuel"], meta["oxidizer"] = a.fuel, a.oxidizer
    except Exception:  # an imported run may carry no rig article; it is still a run
        meta["fuel"] = meta["oxidizer"] = None
    spans = [st.rows / st.rate_hz for st in run.streams.values() if st.rate_hz > 0]
    meta["duration_s"] = max(spans) if spans else None
    rates = {s.name: s.rate_hz for s in run.streams.values()}
    meta["channels"] = [{"name": c.name, "role": c.role, "units": c.units, "stream": c.stream,
                         "rate_hz": rates.get(c.stream)} for c in run.channels]
    meta["roles"] = run.roles()
    return meta


def inspect_file(path: str, known_sha256: str | None = None) -> dict:
    """Read one file for the catalog.

    Parameters
    ----------
    path : str
        Absolute path of the file.
    known_sha256 : str, optional
        The content hash catalogued for this path: when the content still
        hashes to it, the file is not opened (``status="same"``).

    Returns
    -------
    dict
        ``status`` is ``"same"``, ``"read"`` (with metadata,
        ``performance``, ``stability`` or ``analysis_error``) or
        ``"problem"`` (with ``reason``); always ``size``, ``mtime_ns``,
        ``content_sha256``.

    Notes
    -----
    The analysis is :func:`hotfire.analysis.results.analyze_run`: what
    ``hotfire analyze`` reports, with uncertainties and stability.
    """
    from hotfire.analysis.results import analyze_run
    from hotfire.core.runfile.guard import check_run_file
    from hotfire.core.runfile.reader import RunFileError, open_run

    st = os.stat(path)  # before reading: a file changing meanwhile is re-read next time
    out = {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        out["content_sha256"] = sha256_file(path)
    except OSError as exc:
        return {**out, "content_sha256": "", "status": "problem", "reason": f"unreadable: {exc.strerror or exc}"}
    if out["content_sha256"] == known_sha256:
        return {**out, "status": "same"}
    try:
        # the guard every command uses (HDF5 crashing or hanging on it is a problem), well within a
        # batch task's own limit, so that the task reports the hang rather than being killed for it
        check_run_file(path, timeout_s=GUARD_TIMEOUT_S)
        run = open_run(path)
    except RunFileError as exc:
        return {**out, "status": "problem", "reason": _reason(exc, path)}
    except Exception as exc:  # a damaged file h5py chokes on
        return {**out, "status": "problem", "reason": "damaged run file: " + _reason(exc, path)}
    with run:
        try:
            meta = run_metadata(run)
            damage = run.damage  # samples failing their checksums (format 1.2): never catalogued as a result
        except Exception as exc:
            return {**out, "status": "problem", "reason": "damaged run file: " + _reason(exc, path)}
        if damage:
            more = f" (and {len(damage) - 1} more span(s))" if len(damage) > 1 else ""
            return {**out, "status": "problem", "reason": f"damaged run file: {damage[0]}{more}"}
        out.update(meta, status="read", performance=None, stability=None, metrics=None, analysis_error=None,
                   analysis_version=__version__)
        try:
            res = analyze_run(run, stability=True, uncertainty=True)
            d = res.to_dict()
        except OSError as exc:  # HDF5 could not read the samples: a damaged file, not a result
            return {**out, "status": "problem", "reason": "damaged run file: " + _reason(exc, path)}
        except Exception as exc:  # a valid run the analysis cannot handle
            out["analysis_error"] = f"{type(exc).__name__}: {_reason(exc, path)}"
            return out
        out["performance"], out["stability"] = d["results"], d["stability"]
        out["metrics"] = M.to_json(M.collect(res.performance, res.stability))
        if d["results"] is None:  # no thrust or no burn: the analysis says why in its notes
            out["analysis_error"] = "; ".join(d["notes"]) or "not analysed"
    return out


def _hash_or_none(path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _reason(exc: BaseException, path: str) -> str:
    msg = str(exc)
    if msg.startswith(path + ": "):  # RunFileError names the path; the report does too
        msg = msg[len(path) + 2:]
    return msg or type(exc).__name__
