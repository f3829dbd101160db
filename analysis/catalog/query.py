"""Queries of the catalog: text, time, propellant and metric conditions, as SQL."""
from __future__ import annotations

import datetime as _dt
import re
from typing import Iterable

from hotfire.analysis.catalog.schema import JSON_COLUMNS, NUMBER_FIELDS, TEXT_FIELDS, CatalogError, metric_columns


class Queries:
    """The query half of :class:`hotfire.analysis.catalog.Catalog` (needs ``self.db`` and ``self._entry``)."""

    def fields(self) -> list[str]:
        """Every field a query can test: columns, then other numbers of the stored results
        (``thrust.thrust_rise_time_s``, ``stability.max_rms_percent``, ``metrics.isp_s.U``)."""
        extra = set()
        for col, prefix in (("performance", ""), ("stability", "stability."), ("metrics", "metrics.")):
            extra |= {prefix + r[0].lstrip("$.").replace('"', "") for r in self.db.execute(
                f"SELECT DISTINCT j.fullkey FROM runs, json_tree(runs.{col}) AS j "
                "WHERE j.type IN ('integer', 'real') AND j.fullkey NOT LIKE '%[%'")}
        base = list(TEXT_FIELDS) + list(NUMBER_FIELDS) + metric_columns()
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
        """SQL for a field: a column, or a value inside a stored JSON column (a performance result by default)."""
        if name in TEXT_FIELDS or name in NUMBER_FIELDS or name == "path":
            return name
        if name in metric_columns():
            return f'"{name}"'
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
            raise CatalogError(f"{name!r} is not a field name")
        col, key = next(((c, name[len(c) + 1:]) for c in JSON_COLUMNS[1:] if name.startswith(c + ".")),
                        ("performance", name))
        path = "$." + key
        if not self.db.execute(f"SELECT 1 FROM runs WHERE json_extract({col}, ?) IS NOT NULL LIMIT 1",
                               (path,)).fetchone():
            raise CatalogError(_unknown(name, self.fields()))
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
            if not expr.startswith("json_extract(") or op not in ("=", "!="):
                raise CatalogError(f"condition {cond!r}: {name} is a number, got {value!r}") from None
            num = value  # a text inside the stored results: "metrics.isp_s.status=degraded"
        sql.append(f"{expr} {op} ?")
        args.append(num)



def _unknown(name: str, fields: list[str]) -> str:
    """"unknown field 'isp'", with the closest field names rather than every one."""
    import difflib

    close = difflib.get_close_matches(name, fields, n=5, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return (f"unknown field {name!r}{hint}: a field is a metric of the registry (isp_s, c_star_efficiency, ...: "
            "docs/compare.md), a metadata field (rig, test_id, start_time_utc, ...) or a number of the stored "
            "results by its JSON path (thrust.ignition_s, stability.max_rms_percent, metrics.isp_s.U)")


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
