"""The catalog's SQLite schema: metadata columns, one REAL column per
registered metric (:mod:`hotfire.analysis.metrics`), the analysis as JSON."""
from __future__ import annotations

from hotfire.analysis import metrics as M
from hotfire.core.errors import HotfireError

CATALOG_FILE = ".hotfire-catalog.sqlite"
SCHEMA_VERSION = 3  # SQLite user_version; another version (or other metric columns) is rebuilt from the files
RUN_SUFFIXES = (".h5", ".hdf5")
TEXT_FIELDS = (
    "test_id", "rig", "rig_description", "article_serial", "start_time_utc", "end_time_utc", "fuel",
    "oxidizer", "source", "rig_sha256", "software_version", "schema_version", "notes", "stability_verdict",
)
META_FIELDS = TEXT_FIELDS[:-1]  # from the file's attributes; the rest comes from the analysis
NUMBER_FIELDS = ("size", "mtime_ns", "duration_s")
JSON_COLUMNS = ("performance", "stability", "metrics")  # queried by JSON path: "stability.max_rms_percent"


class CatalogError(HotfireError):
    """A catalog cannot be opened or a query is malformed (the message says which)."""


def metric_columns() -> list[str]:
    """One REAL column per registered metric (its value in the metric's unit; NULL when n/a)."""
    return [m.key for m in M.REGISTRY]


def run_columns() -> list[str]:
    """Every column of the ``runs`` table, in order."""
    return (["path", "size", "mtime_ns", "content_sha256", *TEXT_FIELDS, "duration_s", "roles", "channels",
             "performance", "stability", "metrics", "analysis_error", "analysis_version", *metric_columns(),
             "catalogued_utc"])


def schema_sql() -> str:
    """The catalog's tables, with the registry's metric columns as it is now."""
    return f"""
CREATE TABLE runs (
    path TEXT PRIMARY KEY,          -- relative to the catalog's folder when inside it
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    {", ".join(f"{c} TEXT" for c in TEXT_FIELDS)},
    duration_s REAL,
    roles TEXT,                     -- JSON: role -> [channel names]
    channels TEXT,                  -- JSON: [{{name, role, units, stream, rate_hz}}]
    performance TEXT,               -- JSON of Performance.to_dict() (uncertainties expanded, k = 2), NULL if none
    stability TEXT,                 -- JSON of Stability.to_dict(), NULL when not analysed
    metrics TEXT,                   -- JSON: metric key -> Value.to_dict() (value, U, status, reason, provenance)
    analysis_error TEXT,
    analysis_version TEXT,
    {", ".join(f'"{c}" REAL' for c in metric_columns())},
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


def flatten(values: dict | None, stab: dict | None) -> dict:
    """The REAL columns (and the stability verdict) from the metrics JSON (``{key: Value.to_dict()}``)."""
    values = values or {}
    flat = {}
    for k in metric_columns():
        v = (values.get(k) or {}).get("value")
        flat[k] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    flat["stability_verdict"] = (stab or {}).get("verdict")
    return flat
