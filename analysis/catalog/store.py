"""The catalog itself: an SQLite file kept up to date with folders of run files."""
from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from hotfire.analysis import metrics as M
from hotfire.analysis.batch import Engine, TaskError, map_tasks
from hotfire.analysis.catalog.query import Queries
from hotfire.analysis.catalog.reading import _hash_or_none, inspect_file
from hotfire.analysis.catalog.schema import (CATALOG_FILE, RUN_SUFFIXES, SCHEMA_VERSION, TEXT_FIELDS, CatalogError,
                                             flatten, metric_columns, run_columns, schema_sql)


@dataclass
class Entry:
    """One catalogued run. ``metrics`` holds every registered metric's value
    (in the metric's unit, None when n/a), ``values`` the same as
    :class:`hotfire.analysis.metrics.Value` (expanded uncertainty, status,
    reason, provenance); ``performance`` the full analysis result."""

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
    values: dict = field(repr=False, default_factory=dict)
    row: dict = field(repr=False, default_factory=dict)

    def __getitem__(self, key):
        return self.row[key]


def _values(text: str | None) -> dict:
    """``{key: Value}`` of every registered metric from the stored metrics JSON (n/a when absent)."""
    stored = json.loads(text) if text else {}
    return {m.key: M.Value.from_dict(m, stored.get(m.key)) for m in M.REGISTRY}


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


class Catalog(Queries):
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
        if version != SCHEMA_VERSION or (version and self._columns() != run_columns()):
            self._create(rebuild=version != 0)  # another schema, or metrics added to the registry since

    def _columns(self) -> list[str]:
        return [r[1] for r in self.db.execute("PRAGMA table_info(runs)")]

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
            self.db.executescript(schema_sql())
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
            "metrics": json.dumps(res.get("metrics")) if res.get("metrics") is not None else None,
            "analysis_error": res.get("analysis_error"), "analysis_version": res.get("analysis_version"),
            **flatten(res.get("metrics"), stab), "catalogued_utc": now,
        }
        cols = ", ".join(f'"{c}"' for c in row)
        db.execute(f"INSERT OR REPLACE INTO runs ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
        db.execute("DELETE FROM problems WHERE path=?", (key,))

    # -- reading -------------------------------------------------------------------
    def duplicate_test_ids(self) -> dict[str, list[str]]:
        """Test ids held by more than one catalogued file: test id -> their paths."""
        rows = self.db.execute("SELECT test_id, path FROM runs WHERE test_id IN (SELECT test_id FROM runs "
                               "GROUP BY test_id HAVING COUNT(*) > 1) ORDER BY test_id, path").fetchall()
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(r["test_id"], []).append(str(self._abs(r["path"])))
        return out

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
            roles=json.loads(row["roles"] or "{}"), metrics={k: row[k] for k in metric_columns()},
            values=_values(row["metrics"]),
            performance=json.loads(row["performance"]) if row["performance"] else None,
            stability=json.loads(row["stability"]) if row["stability"] else None,
            analysis_error=row["analysis_error"], row=row)

    def get(self, path) -> Entry | None:
        """The entry of one file, or None."""
        r = self.db.execute("SELECT * FROM runs WHERE path=?", (self._key(Path(path).resolve()),)).fetchone()
        return self._entry(r) if r else None



def open_catalog(path) -> Catalog:
    """A catalog given its file, or the folder it sits beside the data in."""
    p = Path(path)
    if p.is_dir():
        return Catalog.for_folder(p)
    if not p.exists():
        raise CatalogError(f"{p}: no such catalog or folder")
    return Catalog(p)
