"""A catalog of run files: metadata and analysis results in SQLite, kept up
to date incrementally, queried by rig, article, date, propellants and metrics.

    >>> from hotfire.analysis.catalog import Catalog
    >>> cat = Catalog.for_folder("runs")          # runs/.hotfire-catalog.sqlite
    >>> report = cat.update()                      # reads only new or changed files
    >>> for e in cat.query(rig="lox-rp1-100kN", c_star_efficiency=(0.95, None)):
    ...     print(e.test_id, e.metrics["isp_s"], e.path)

The catalog is a cache of what the files say: deleting it loses nothing, and
a catalog written by another schema version is rebuilt. A file is re-read
only when its size or modification time changed *and* its content hash
differs from the one catalogued (a copy or ``touch`` costs a hash, not an
analysis); a file whose content reappears at a new path is moved, not
re-read. Files that are not readable hotfire run files are recorded as
problems with the reason, reported, and skipped; they never stop an update.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from hotfire.core.version import __version__
from hotfire.analysis.batch import Engine, TaskError, map_tasks
from hotfire.core.errors import HotfireError

CATALOG_FILE = ".hotfire-catalog.sqlite"
SCHEMA_VERSION = 2  # SQLite user_version; another version is rebuilt from the files
RUN_SUFFIXES = (".h5", ".hdf5")

#: Performance fields with their own REAL column (any other number in the
#: stored performance or stability JSON is still queryable: "thrust.ignition_delay_s",
#: "uncertainty.isp_s", "stability.max_rms_percent").
METRICS = (
    "burn_start_s", "burn_end_s", "burn_time_s", "action_time_s", "total_impulse_Ns", "average_thrust_N",
    "peak_thrust_N", "thrust_N", "pc_bar", "mdot_kg_s", "ox_mdot_kg_s", "fuel_mdot_kg_s", "of", "isp_s",
    "c_star_m_s", "cf", "c_star_theory_m_s", "c_star_efficiency", "isp_theory_s", "isp_efficiency", "cf_theory",
    "propellant_mass_kg", "isp_from_mass_s", "tare_N", "steady_start_s", "steady_end_s",
    "ignition_delay_s", "stability_max_rms_percent", "stability_max_pk_pk_percent",
)
TEXT_FIELDS = (
    "test_id", "rig", "rig_description", "article_serial", "start_time_utc", "end_time_utc", "fuel",
    "oxidizer", "source", "rig_sha256", "software_version", "schema_version", "notes", "stability_verdict",
)
_META_FIELDS = TEXT_FIELDS[:-1]  # from the file's attributes; the rest comes from the analysis
NUMBER_FIELDS = ("size", "mtime_ns", "duration_s")

_SCHEMA = f"""
CREATE TABLE runs (
    path TEXT PRIMARY KEY,          -- relative to the catalog's folder when inside it
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    {", ".join(f"{c} TEXT" for c in TEXT_FIELDS)},
    duration_s REAL,
    roles TEXT,                     -- JSON: role -> [channel names]
    channels TEXT,                  -- JSON: [{{name, role, units, stream, rate_hz}}]
    performance TEXT,               -- JSON of Performance.to_dict(), NULL if the analysis failed
    stability TEXT,                 -- JSON of Stability.to_dict(), NULL when not analysed
    analysis_error TEXT,
    analysis_version TEXT,
    {", ".join(f"{c} REAL" for c in METRICS)},
    catalogued_utc TEXT
);
CREATE INDEX runs_rig ON runs(rig);
CREATE INDEX runs_article ON runs(article_serial);
CREATE INDEX runs_start ON runs(start_time_utc);
CREATE INDEX runs_sha ON runs(content_sha256);
CREATE TABLE problems (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL,
    seen_utc TEXT
);
CREATE TABLE roots (path TEXT PRIMARY KEY);
"""


class CatalogError(HotfireError):
    """A catalog cannot be opened or a query is malformed (the message says which)."""


# -- reading one file (a batch task: runs in a worker or in this process) ------

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


def _flatten(perf: dict | None, stab: dict | None) -> dict:
    """The REAL columns (and the stability verdict) from the analysis results."""
    perf, stab = perf or {}, stab or {}
    out = {k: perf.get(k) for k in METRICS if k in perf}
    win = perf.get("steady_window_s")
    if win:
        out["steady_start_s"], out["steady_end_s"] = win[0], win[1]
    out["ignition_delay_s"] = (perf.get("thrust") or {}).get("ignition_delay_s")
    out["stability_max_rms_percent"] = stab.get("max_rms_percent")
    out["stability_max_pk_pk_percent"] = stab.get("max_pk_pk_percent")
    flat = {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None)
            for k, v in out.items()}
    flat["stability_verdict"] = stab.get("verdict")
    return flat


def run_metadata(run) -> dict:
    """The catalog's metadata fields of an open run."""
    m = run.metadata
    meta = {k: (str(m[k]) if m.get(k) is not None else None) for k in _META_FIELDS if k in m}
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
        run = open_run(path)
    except RunFileError as exc:
        return {**out, "status": "problem", "reason": _reason(exc, path)}
    except Exception as exc:  # a damaged file h5py chokes on
        return {**out, "status": "problem", "reason": "damaged run file: " + _reason(exc, path)}
    with run:
        try:
            meta = run_metadata(run)
        except Exception as exc:
            return {**out, "status": "problem", "reason": "damaged run file: " + _reason(exc, path)}
        out.update(meta, status="read", performance=None, stability=None, analysis_error=None,
                   analysis_version=__version__)
        try:
            res = analyze_run(run, stability=True, uncertainty=True).to_dict()
        except OSError as exc:  # HDF5 could not read the samples: a damaged file, not a result
            return {**out, "status": "problem", "reason": "damaged run file: " + _reason(exc, path)}
        except Exception as exc:  # a valid run the analysis cannot handle
            out["analysis_error"] = f"{type(exc).__name__}: {_reason(exc, path)}"
            return out
        out["performance"], out["stability"] = res["results"], res["stability"]
        if res["results"] is None:  # no thrust or no burn: the analysis says why in its notes
            out["analysis_error"] = "; ".join(res["notes"]) or "not analysed"
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


# -- the catalog -----------------------------------------------------------------

@dataclass
class Entry:
    """One catalogued run. ``metrics`` holds the flattened key results (SI
    units as named); ``performance`` the full analysis result."""

    path: str
    test_id: str
    rig: str
    article_serial: str
    start_time_utc: str
    fuel: str | None
    oxidizer: str | None
    source: str | None
    rig_sha256: str | None
    size: int
    mtime_ns: int
    content_sha256: str
    duration_s: float | None
    roles: dict
    metrics: dict
    performance: dict | None
    stability: dict | None
    analysis_error: str | None
    row: dict = field(repr=False, default_factory=dict)

    def __getitem__(self, key):
        return self.row[key]


@dataclass
class Problem:
    path: str
    reason: str


@dataclass
class UpdateReport:
    """What an update did. ``read`` lists the files opened as run files."""

    added: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    moved: list = field(default_factory=list)  # (old, new)
    touched: list = field(default_factory=list)  # size/mtime changed, content did not
    unchanged: int = 0
    read: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # Problem, every one under the scanned folders
    new_problems: list = field(default_factory=list)
    engine: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{len(self.added)} new", f"{len(self.changed)} changed", f"{len(self.removed)} removed"]
        if self.moved:
            parts.append(f"{len(self.moved)} moved")
        if self.touched:
            parts.append(f"{len(self.touched)} touched")
        parts.append(f"{self.unchanged} unchanged")
        s = ", ".join(parts)
        if self.problems:
            s += f"; {len(self.problems)} skipped"
        eng = f" {self.engine}" if self.read else ""
        return f"{s}; read {len(self.read)} file(s) in {self.seconds:.2f} s{eng}"


class Catalog:
    """An SQLite catalog of run files.

    Parameters
    ----------
    path : str or Path
        The catalog file (created if missing). Use :meth:`for_folder` for
        the default one beside the data.
    """

    def __init__(self, path):
        self.path = Path(path).resolve()
        self.base = self.path.parent
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30)
        except sqlite3.Error as exc:
            raise CatalogError(f"{self.path}: cannot open the catalog ({exc})") from None
        self.db.row_factory = sqlite3.Row
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"{self.path}: not an SQLite catalog ({exc})") from None
        if version != SCHEMA_VERSION:
            self._create(rebuild=version != 0)

    @classmethod
    def for_folder(cls, folder) -> "Catalog":
        """The catalog beside the data: ``folder/.hotfire-catalog.sqlite``."""
        folder = Path(folder)
        if not folder.is_dir():
            raise CatalogError(f"{folder}: no such folder")
        return cls(folder / CATALOG_FILE)

    def _create(self, rebuild: bool):
        with self.db:
            if rebuild:  # a cache of the files: another schema version is rebuilt from them
                roots = [r[0] for r in self.db.execute("SELECT path FROM roots")] if self._has("roots") else []
                for t in ("runs", "problems", "roots"):
                    self.db.execute(f"DROP TABLE IF EXISTS {t}")
            self.db.executescript(_SCHEMA)
            if rebuild:
                self.db.executemany("INSERT INTO roots VALUES (?)", [(r,) for r in roots])
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _has(self, table: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() \
            is not None

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        return self.db.execute("SELECT count(*) FROM runs").fetchone()[0]

    # -- paths: relative to the catalog's folder when inside it, so a folder of
    #    runs with its catalog can be moved or mounted elsewhere
    def _key(self, p: Path) -> str:
        try:
            return p.relative_to(self.base).as_posix()
        except ValueError:
            return str(p)

    def _abs(self, key: str) -> Path:
        p = Path(key)
        return p if p.is_absolute() else self.base / p

    @property
    def roots(self) -> list[Path]:
        """The folders this catalog indexes."""
        return [self._abs(r[0]) for r in self.db.execute("SELECT path FROM roots ORDER BY path")]

    # -- updating ----------------------------------------------------------------
    @staticmethod
    def scan(roots: Iterable) -> dict[Path, os.stat_result]:
        """Run files under ``roots`` (recursively; hidden folders and files skipped)."""
        found = {}
        for root in roots:
            root = Path(root)
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in filenames:
                    if name.startswith(".") or not name.lower().endswith(RUN_SUFFIXES):
                        continue
                    p = Path(dirpath, name)
                    try:
                        found[p] = p.stat()
                    except OSError:  # vanished between listing and stat
                        continue
        return found

    def update(self, roots: Iterable | None = None, *, engine: Engine | None = None, verify: bool = False,
               refresh: bool = False, progress: Callable | None = None) -> UpdateReport:
        """Bring the catalog up to date with the files under ``roots``.

        Parameters
        ----------
        roots : iterable of str or Path, optional
            Folders to index (added to the catalog's roots). Default: the
            roots indexed before.
        engine : Engine, optional
            Where files are read (default: a local Dask cluster, or this
            process for fewer than ``Engine.min_batch`` files).
        verify : bool
            Hash every file, even those whose size and mtime did not change.
        refresh : bool
            Re-read and re-analyse every file (e.g. after a hotfire upgrade).
        progress : callable, optional
            ``progress(done, total)`` while files are read.

        Returns
        -------
        UpdateReport
        """
        t_start = time.perf_counter()
        if roots is not None:
            roots = [Path(r).resolve() for r in roots]
            for r in roots:
                if not r.is_dir():
                    raise CatalogError(f"{r}: no such folder")
            with self.db:
                self.db.executemany("INSERT OR IGNORE INTO roots VALUES (?)", [(self._key(r),) for r in roots])
        else:
            roots = self.roots
            if not roots:
                raise CatalogError(f"{self.path}: no folders catalogued yet; give one")
        found = self.scan(roots)
        under = lambda p: any(p == r or r in p.parents for r in roots)  # noqa: E731
        known = {}
        for r in self.db.execute("SELECT path, size, mtime_ns, content_sha256 FROM runs"):
            p = self._abs(r["path"])
            if under(p):
                known[p] = (r["size"], r["mtime_ns"], r["content_sha256"])
        bad = {}
        for r in self.db.execute("SELECT path, size, mtime_ns, reason FROM problems"):
            p = self._abs(r["path"])
            if under(p):
                bad[p] = (r["size"], r["mtime_ns"], r["reason"])

        rep = UpdateReport()
        todo = []
        for p, st in sorted(found.items()):
            stat = (st.st_size, st.st_mtime_ns)
            if p in known:
                if known[p][:2] == stat and not (verify or refresh):
                    rep.unchanged += 1
                    continue
                todo.append((str(p), None if refresh else known[p][2]))
            elif p in bad and bad[p][:2] == stat and not refresh:
                rep.problems.append(Problem(str(p), bad[p][2]))  # known bad and unchanged: not re-read
            else:
                todo.append((str(p), None))
        gone = [p for p in known if p not in found]
        new = [] if refresh else [Path(x) for x, _ in todo if Path(x) not in known]
        moved_from = self._moves(gone, new, known, found, rep)
        moved_to = {dst for _, dst in rep.moved}
        todo = [(x, sha) for x, sha in todo if x not in moved_to]
        engine = engine or Engine()
        rep.engine = engine.describe(len(todo))
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        pending = 0
        try:
            for (path, _), res in map_tasks(inspect_file, todo, engine, progress):
                p = Path(path)
                if isinstance(res, TaskError):
                    st = found[p]
                    reason = f"reading it failed: {res.reason}"
                    if res.reason.startswith("TimeoutError"):
                        reason = (f"no answer within {engine.timeout_s:g} s (HDF5 can loop forever on damaged "
                                  "metadata); the reader was killed")
                    res = {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "status": "problem",
                           "reason": reason}
                self._store(p, res, known, rep, now)
                pending += 1
                if pending >= 50:  # a long batch that is interrupted keeps what it did
                    self.db.commit()
                    pending = 0
        finally:
            self.db.commit()
        with self.db:
            for p in gone:
                if str(p) not in moved_from:
                    self.db.execute("DELETE FROM runs WHERE path=?", (self._key(p),))
                    rep.removed.append(str(p))
            for p in bad:
                if p not in found:
                    self.db.execute("DELETE FROM problems WHERE path=?", (self._key(p),))
        rep.problems.sort(key=lambda pr: pr.path)
        rep.seconds = time.perf_counter() - t_start
        return rep

    def _moves(self, gone: list, new: list, known: dict, found: dict, rep: UpdateReport) -> set:
        """Entries of vanished files whose content is now at a new path: moved, not re-read.

        Only when files vanished; the new files are hashed here (threads:
        hashing releases the GIL), which costs a read, not an analysis.
        """
        if not gone or not new:
            return set()
        from concurrent.futures import ThreadPoolExecutor

        orphans: dict[str, Path] = {}
        for p in gone:
            orphans.setdefault(known[p][2], p)
        moved_from = set()
        with ThreadPoolExecutor(4) as pool, self.db:
            for p, digest in zip(new, pool.map(_hash_or_none, new)):
                old = orphans.pop(digest, None)
                if old is None:
                    continue
                st, key = found[p], self._key(p)
                self.db.execute("UPDATE runs SET path=?, size=?, mtime_ns=? WHERE path=?",
                                (key, st.st_size, st.st_mtime_ns, self._key(old)))
                self.db.execute("DELETE FROM problems WHERE path=?", (key,))
                moved_from.add(str(old))
                rep.moved.append((str(old), str(p)))
        return moved_from

    def _store(self, p: Path, res: dict, known: dict, rep: UpdateReport, now: str):
        key, status = self._key(p), res["status"]
        db = self.db
        if status == "same":
            if known.get(p, (None, None))[:2] == (res["size"], res["mtime_ns"]):
                rep.unchanged += 1  # hashed on request (verify): nothing changed at all
                return
            db.execute("UPDATE runs SET size=?, mtime_ns=? WHERE path=?", (res["size"], res["mtime_ns"], key))
            rep.touched.append(str(p))
            return
        rep.read.append(str(p))
        if status == "problem":
            db.execute("DELETE FROM runs WHERE path=?", (key,))
            prev = db.execute("SELECT 1 FROM problems WHERE path=?", (key,)).fetchone()
            db.execute("INSERT OR REPLACE INTO problems VALUES (?,?,?,?,?)",
                       (key, res["size"], res["mtime_ns"], res["reason"], now))
            pr = Problem(str(p), res["reason"])
            rep.problems.append(pr)
            if not prev:
                rep.new_problems.append(pr)
            return
        (rep.changed if p in known else rep.added).append(str(p))
        perf, stab = res.get("performance"), res.get("stability")
        row = {
            "path": key, "size": res["size"], "mtime_ns": res["mtime_ns"], "content_sha256": res["content_sha256"],
            **{k: res.get(k) for k in TEXT_FIELDS}, "duration_s": res.get("duration_s"),
            "roles": json.dumps(res.get("roles") or {}), "channels": json.dumps(res.get("channels") or []),
            "performance": json.dumps(perf) if perf is not None else None,
            "stability": json.dumps(stab) if stab is not None else None,
            "analysis_error": res.get("analysis_error"), "analysis_version": res.get("analysis_version"),
            **_flatten(perf, stab), "catalogued_utc": now,
        }
        cols = ", ".join(row)
        db.execute(f"INSERT OR REPLACE INTO runs ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
        db.execute("DELETE FROM problems WHERE path=?", (key,))

    # -- reading -------------------------------------------------------------------
    def problems(self) -> list[Problem]:
        """Files that are not readable run files, with the reason."""
        return [Problem(str(self._abs(r["path"])), r["reason"])
                for r in self.db.execute("SELECT path, reason FROM problems ORDER BY path")]

    def _entry(self, r: sqlite3.Row) -> Entry:
        row = dict(r)
        return Entry(
            path=str(self._abs(row["path"])), test_id=row["test_id"], rig=row["rig"],
            article_serial=row["article_serial"], start_time_utc=row["start_time_utc"], fuel=row["fuel"],
            oxidizer=row["oxidizer"], source=row["source"], rig_sha256=row["rig_sha256"], size=row["size"],
            mtime_ns=row["mtime_ns"], content_sha256=row["content_sha256"], duration_s=row["duration_s"],
            roles=json.loads(row["roles"] or "{}"), metrics={k: row[k] for k in METRICS},
            performance=json.loads(row["performance"]) if row["performance"] else None,
            stability=json.loads(row["stability"]) if row["stability"] else None,
            analysis_error=row["analysis_error"], row=row)

    def get(self, path) -> Entry | None:
        """The entry of one file, or None."""
        r = self.db.execute("SELECT * FROM runs WHERE path=?", (self._key(Path(path).resolve()),)).fetchone()
        return self._entry(r) if r else None

    def fields(self) -> list[str]:
        """Every field a query can test: columns, then other numbers of the analysis results."""
        extra = set()
        for col, prefix in (("performance", ""), ("stability", "stability.")):
            extra |= {prefix + r[0].lstrip("$.") for r in self.db.execute(
                f"SELECT DISTINCT j.fullkey FROM runs, json_tree(runs.{col}) AS j "
                "WHERE j.type IN ('integer', 'real') AND j.fullkey NOT LIKE '%[%'")}
        base = list(TEXT_FIELDS) + list(NUMBER_FIELDS) + list(METRICS)
        return base + sorted(extra - set(base))

    def query(self, *, rig=None, article=None, since=None, until=None, propellants=None, fuel=None,
              oxidizer=None, source=None, test_id=None, where: Iterable[str] = (), analysed: bool | None = None,
              order_by: str = "start_time_utc", limit: int | None = None, **ranges) -> list[Entry]:
        """Catalogued runs matching every condition given.

        Parameters
        ----------
        rig, article, fuel, oxidizer, source, test_id : str or list of str, optional
            Exact (case-insensitive) or glob (``*``, ``?``) matches; a list
            matches any of its items.
        since, until : str, date or datetime, optional
            Start time bounds (UTC when no zone is given); a bare date as
            ``until`` includes that whole day.
        propellants : str, optional
            ``"O2(L)/RP-1"``: the oxidizer and fuel, in either order.
        where : iterable of str
            Conditions ``FIELD OP VALUE`` with OP one of ``= != < <= > >=``,
            e.g. ``"c_star_efficiency>0.95"``, ``"rig=lox-*"``. FIELD is any
            of :meth:`fields`.
        analysed : bool, optional
            Only runs whose analysis succeeded (True) or failed (False).
        order_by : str
            A field; prefix ``-`` for descending.
        limit : int, optional
        **ranges
            ``metric=(low, high)``, either bound None, both inclusive.

        Returns
        -------
        list of Entry

        Raises
        ------
        CatalogError
            For an unknown field or a malformed condition.
        """
        sql, args = [], []
        for col, val in (("rig", rig), ("article_serial", article), ("fuel", fuel), ("oxidizer", oxidizer),
                         ("source", source), ("test_id", test_id)):
            if val is not None:
                self._text_match(col, val, sql, args)
        if propellants:
            parts = [s.strip() for s in re.split(r"[/+,]", propellants) if s.strip()]
            if len(parts) != 2:
                raise CatalogError(f"propellants {propellants!r}: give two, as OXIDIZER/FUEL")
            a, b = (s.lower() for s in parts)
            sql.append("((lower(oxidizer)=? AND lower(fuel)=?) OR (lower(oxidizer)=? AND lower(fuel)=?))")
            args += [a, b, b, a]
        if since is not None:
            sql.append("start_time_utc >= ?")
            args.append(_time_bound(since, end=False))
        if until is not None:
            sql.append("start_time_utc < ?" if _is_bare_date(until) else "start_time_utc <= ?")
            args.append(_time_bound(until, end=True))
        if analysed is not None:
            sql.append("performance IS NOT NULL" if analysed else "performance IS NULL")
        for cond in where:
            self._condition(cond, sql, args)
        for name, rng in ranges.items():
            if not (isinstance(rng, (tuple, list)) and len(rng) == 2):
                raise CatalogError(f"{name}: give a (low, high) range, None for an open end")
            expr = self._field(name)
            if rng[0] is not None:
                sql.append(f"{expr} >= ?")
                args.append(float(rng[0]))
            if rng[1] is not None:
                sql.append(f"{expr} <= ?")
                args.append(float(rng[1]))
        desc = order_by.startswith("-")
        order = self._field(order_by.lstrip("-"))
        q = "SELECT * FROM runs" + (" WHERE " + " AND ".join(sql) if sql else "")
        q += f" ORDER BY {order} {'DESC' if desc else 'ASC'}, test_id, path"
        if limit is not None:
            q += f" LIMIT {int(limit)}"
        return [self._entry(r) for r in self.db.execute(q, args)]

    def _field(self, name: str) -> str:
        """SQL for a field: a column, or a numeric result inside the performance JSON."""
        if name in TEXT_FIELDS or name in NUMBER_FIELDS or name in METRICS or name == "path":
            return name
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
            raise CatalogError(f"{name!r} is not a field name")
        col, key = ("stability", name[len("stability."):]) if name.startswith("stability.") else ("performance", name)
        path = "$." + key
        if not self.db.execute(f"SELECT 1 FROM runs WHERE json_extract({col}, ?) IS NOT NULL LIMIT 1",
                               (path,)).fetchone():
            raise CatalogError(f"unknown field {name!r} (fields: {', '.join(self.fields())})")
        return f"json_extract({col}, '{path}')"

    def _text_match(self, col, val, sql, args):
        vals = [val] if isinstance(val, str) else list(val)
        ors = []
        for v in vals:
            if any(ch in v for ch in "*?["):
                ors.append(f"lower({col}) GLOB ?")
            else:
                ors.append(f"lower({col}) = ?")
            args.append(v.lower())
        sql.append("(" + " OR ".join(ors) + ")")

    def _condition(self, cond: str, sql, args):
        m = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s*(<=|>=|!=|==|=|<|>)\s*(.*?)\s*", cond)
        if not m:
            raise CatalogError(f"condition {cond!r}: expected FIELD OP VALUE, OP one of = != < <= > >=")
        name, op, value = m.groups()
        op = "=" if op == "==" else op
        if name in ("article", "propellants", "since", "until"):
            raise CatalogError(f"condition {cond!r}: use the {name} filter (or a field: article_serial, "
                               "start_time_utc, fuel, oxidizer)")
        expr = self._field(name)
        if name in TEXT_FIELDS or name == "path":
            if name in ("start_time_utc", "end_time_utc") and op not in ("=", "!="):
                value = _time_bound(value, end=op in ("<", "<="))
                sql.append(f"{expr} {op} ?")
                args.append(value)
            elif op in ("=", "!="):
                neg = "NOT " if op == "!=" else ""
                tmp: list = []
                self._text_match(name, value, tmp, args)
                sql.append(neg + tmp[0])
            else:
                sql.append(f"{expr} {op} ?")
                args.append(value)
            return
        try:
            num = float(value)
        except ValueError:
            raise CatalogError(f"condition {cond!r}: {name} is a number, got {value!r}") from None
        sql.append(f"{expr} {op} ?")
        args.append(num)


def _is_bare_date(v) -> bool:
    if isinstance(v, _dt.datetime):
        return False
    return isinstance(v, _dt.date) or bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v).strip()))


def _time_bound(v, end: bool) -> str:
    """A time bound as catalogued text; a bare date as ``until`` means before the next day."""
    if _is_bare_date(v):
        d = v if isinstance(v, _dt.date) else _dt.date.fromisoformat(str(v).strip())
        if end:
            d = d + _dt.timedelta(days=1)
        t = _dt.datetime(d.year, d.month, d.day, tzinfo=_dt.timezone.utc)
    elif isinstance(v, _dt.datetime):
        t = v
    else:
        try:
            t = _dt.datetime.fromisoformat(str(v).strip())
        except ValueError:
            raise CatalogError(f"{v!r} is not a date or time (use ISO 8601: 2026-11-25 or "
                               "2026-11-25T14:00)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")


def open_catalog(path) -> Catalog:
    """A catalog given its file, or the folder it sits beside the data in."""
    p = Path(path)
    if p.is_dir():
        return Catalog.for_folder(p)
    if not p.exists():
        raise CatalogError(f"{p}: no such catalog or folder")
    return Catalog(p)
