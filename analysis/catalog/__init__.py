"""A catalog of run files: metadata and analysis results in SQLite, kept up
to date incrementally, queried by rig, article, date, propellants and metrics.

    >>> from hotfire.analysis.catalog import Catalog
    >>> cat = Catalog.for_folder("runs")          # runs/.hotfire-catalog.sqlite
    >>> report = cat.update()                      # reads only new or changed files
    >>> for e in cat.query(rig="lox-rp1-100kN", c_star_efficiency=(0.95, None)):
    ...     print(e.test_id, e.metrics["isp_s"], e.values["isp_s"].U, e.path)

The catalog is a cache of what the files say: deleting it loses nothing, and
a catalog written by another schema version (or before a metric was added to
the registry, :mod:`hotfire.analysis.metrics`: each registered metric has
its column) is rebuilt. A file is re-read only when its size or modification
time changed *and* its content hash differs from the one catalogued (a copy
or ``touch`` costs a hash, not an analysis); a file whose content reappears
at a new path is moved, not re-read. Files that are not readable hotfire run
files are recorded as problems with the reason, reported, and skipped; they
never stop an update.

Modules: :mod:`.schema` (tables and columns), :mod:`.reading` (one file,
as a batch task), :mod:`.store` (the catalog and its updates),
:mod:`.query` (conditions as SQL).
"""
from hotfire.analysis.catalog.reading import inspect_file, run_metadata, sha256_file
from hotfire.analysis.catalog.schema import (CATALOG_FILE, NUMBER_FIELDS, RUN_SUFFIXES, SCHEMA_VERSION, TEXT_FIELDS,
                                             CatalogError, metric_columns)
from hotfire.analysis.catalog.store import Catalog, Entry, Problem, UpdateReport, open_catalog

__all__ = ["CATALOG_FILE", "NUMBER_FIELDS", "RUN_SUFFIXES", "SCHEMA_VERSION", "TEXT_FIELDS", "Catalog",
           "CatalogError", "Entry", "Problem", "UpdateReport", "inspect_file", "metric_columns", "open_catalog",
           "run_metadata", "sha256_file"]
