"""Text tables as stands write them: which separator, which decimal mark, where the data starts.

- Comment lines (``#``, ``//``, ``%``; ``;`` unless ``;`` separates the
  fields) and blank lines are skipped; free-text lines above the header (a
  preamble: operator, date, stand) are kept as the import's ``preamble``.
- The separator is the one of ``,`` ``;`` tab ``|`` or runs of whitespace
  that splits the last data lines into one constant number of fields that
  read as numbers (or date-time stamps); with ``;``, tab, ``|`` or
  whitespace, ``1,23`` is a decimal comma.
- The header is the line just above the first data line; a file without
  one names its columns ``col1``, ``col2``, ...
- A file of a few very long lines holds one channel per row (``row1``,
  ``row2``, ... or the row's first field when it is a name).
- Blank cells (and ``nan``, ``inf``) are masked: NaN, never zero and never
  interpolated. Any other cell that is not a number is an error naming
  file, line and column.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotfire.analysis.importers.base import ImportFailed

_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NUM_COMMA = re.compile(r"^[+-]?(\d+,?\d*|,\d+)([eE][+-]?\d+)?$")
_STAMP = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(:(\d{2})([.,]\d+)?)?"
                    r"(Z|[+-]\d{2}:?\d{2})?$")
_TOD = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([.,]\d+)?$")
_NONFINITE = {"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "na", "n/a", "null", "none"}
_DELIMS = (",", ";", "\t", "|", None)  # None: runs of whitespace
_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'", None: "whitespace"}
_ROWS_MIN_FIELDS = 16  # a "rows as channels" file: at most 16 rows, each of more fields than that


@dataclass
class Table:
    """The cells of a text table, with where each came from."""

    path: Path
    names: list[str]  # column (channel) names
    cells: list[list[str]]  # one list per column
    lines: list[int]  # file line of each row (by columns), or of each channel (by rows)
    delimiter: str | None
    decimal: str = "."
    preamble: list[str] = field(default_factory=list)
    header_line: int | None = None
    by_rows: bool = False  # each file row one channel

    @property
    def n(self) -> int:
        return len(self.cells[0]) if self.cells else 0

    def where(self, i: int, j: int) -> str:
        """``file:line: column 'NAME' (k)`` of sample ``i`` of channel ``j``."""
        if self.by_rows:
            return f"{self.path}:{self.lines[j]}: field {i + 1 + self._label_shift} (row {self.names[j]!r})"
        return f"{self.path}:{self.lines[i]}: column {self.names[j]!r}"

    _label_shift: int = 0

    def describe(self) -> str:
        if self.by_rows:
            return f"{len(self.names)} rows as channels of {self.n} values, {_NAMES[self.delimiter]}-separated"
        head = f"header on line {self.header_line}" if self.header_line else "no header row"
        dec = ", decimal comma" if self.decimal == "," else ""
        pre = f", {len(self.preamble)} preamble line(s)" if self.preamble else ""
        return f"{_NAMES[self.delimiter]}-separated{dec}, {head}{pre}, {self.n} rows"


def read_text(path) -> list[str]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{p}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:4096]:
        raise ImportFailed(f"{p}: a binary file, not a text table (NUL bytes in its first 4 kB)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # old loggers write degree signs in Latin-1
    return text.splitlines()


def _split(line: str, d: str | None) -> list[str]:
    if d is None:
        return line.split()
    parts = line.split(d)
    if len(parts) > 1 and parts[-1].strip() == "" and line.rstrip("\r\n").endswith(d):
        parts = parts[:-1]  # a trailing separator (LabVIEW and spreadsheets write one)
    return [x.strip().strip('"').strip() for x in parts]


def _is_value(x: str, comma: bool) -> bool:
    return (x == "" or x.lower() in _NONFINITE or bool(_NUM.match(x)) or (comma and bool(_NUM_COMMA.match(x)))
            or bool(_STAMP.match(x)) or bool(_TOD.match(x)))


def _comment(line: str, d: str | None) -> bool:
    s = line.lstrip()
    return not s or s.startswith(("#", "//", "%")) or (s.startswith(";") and d != ";")


def _score(lines: list[str], d: str | None):
    """(lines that read as data, fields per line) for separator ``d`` over sample lines."""
    counts = Counter(len(_split(ln, d)) for ln in lines)
    k, _ = counts.most_common(1)[0]
    comma = d != ","
    good = sum(1 for ln in lines if len(f := _split(ln, d)) == k and _mostly_values(f, comma))
    return good, k


def _mostly_values(f: list[str], comma: bool) -> bool:
    """A data line: at least half its fields numbers, blanks or stamps, one at least not blank
    (a text column, "ok", may stand beside them)."""
    v = [_is_value(x, comma) for x in f]
    return 2 * sum(v) >= len(f) and any(x and ok for x, ok in zip(f, v))


def sniff(lines: list[str]) -> str | None:
    """The field separator of a table's lines (None: whitespace)."""
    sample = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith(("#", "//", "%"))][-200:]
    if not sample:
        return ","
    best, key = ",", (-1, -1)
    for d in _DELIMS:
        if d is not None and not any(d in ln for ln in sample):
            continue
        good, k = _score(sample, d)
        # more data lines first, then more fields; a decimal comma must not pass for a separator
        k_key = k if k > 1 else 0
        if (good, k_key) > key:
            best, key = d, (good, k_key)
    return best


def read_table(path, lines: list[str] | None = None) -> Table:
    """The table in a text file (see the module's notes)."""
    p = Path(path)
    lines = read_text(p) if lines is None else lines
    d = sniff(lines)
    kept = [(i, ln) for i, ln in enumerate(lines, 1) if not _comment(ln, d)]
    if not kept:
        raise ImportFailed(f"{p}: no data (only blank or comment lines)")
    rows = [(i, _split(ln, d)) for i, ln in kept]
    decimal = "," if d != "," and any(_NUM_COMMA.match(x) and "," in x for _, f in rows[-50:] for x in f) else "."
    comma = decimal == ","
    data_like = [_mostly_values(f, comma) for _, f in rows]
    if len(rows) <= _ROWS_MIN_FIELDS and max(len(f) for _, f in rows) > _ROWS_MIN_FIELDS:
        return _by_rows(p, rows, d, decimal, comma)
    # the data: from the first of two data lines in a row to the end (a bad cell further down is an error)
    start = next((i for i in range(len(rows)) if data_like[i] and (i + 1 == len(rows) or data_like[i + 1])),
                 len(rows))
    if start == len(rows):
        i, f = rows[-1]
        bad = next((j for j, x in enumerate(f) if not _is_value(x, comma)), 0)
        raise ImportFailed(f"{p}:{i}: column {bad + 1}: {f[bad]!r} is not a number (no data lines found "
                           f"at the end of the file)")
    k = Counter(len(f) for _, f in rows[start:]).most_common(1)[0][0]
    # a data line of another width: the first such is an error naming its line
    for i, f in rows[start:]:
        if len(f) != k:
            raise ImportFailed(f"{p}:{i}: {len(f)} fields, the data above and below has {k} "
                               f"({_NAMES[d]}-separated)")
    header_line, names, preamble = None, [f"col{j + 1}" for j in range(k)], []
    if start > 0:
        i, f = rows[start - 1]
        if len(f) == k:
            header_line, names = i, [x or f"col{j + 1}" for j, x in enumerate(f)]
            preamble = [ln for _, ln in kept[: start - 1]]
        elif k == 1 and d is None:  # one column under a header of several words
            header_line, names = i, [" ".join(f)]
            preamble = [ln for _, ln in kept[: start - 1]]
        else:
            raise ImportFailed(f"{p}:{i}: {len(f)} fields in the header line above the data, the data has {k} "
                               f"({_NAMES[d]}-separated): name every column once")
    names = _unique(names)
    cells = [[f[j] for _, f in rows[start:]] for j in range(k)]
    return Table(p, names, cells, [i for i, _ in rows[start:]], d, decimal, preamble, header_line)


def _by_rows(p, rows, d, decimal, comma) -> Table:
    """Each row one channel; a first field that is not a number is the row's name."""
    labelled = all(f and not _is_value(f[0], comma) for _, f in rows)
    shift = 1 if labelled else 0
    n = Counter(len(f) - shift for _, f in rows).most_common(1)[0][0]
    for i, f in rows:
        if len(f) - shift != n:
            raise ImportFailed(f"{p}:{i}: {len(f) - shift} values in this row, the others have {n} "
                               "(a file of one channel per row)")
    names = _unique([f[0] if labelled else f"row{i}" for i, f in rows])
    t = Table(p, names, [f[shift:] for _, f in rows], [i for i, _ in rows], d, decimal, by_rows=True)
    t._label_shift = shift
    return t


def _unique(names: list[str]) -> list[str]:
    seen: Counter = Counter()
    out = []
    for x in names:
        seen[x] += 1
        out.append(x if seen[x] == 1 else f"{x}_{seen[x]}")
    return out


def stamp_kind(x) -> str:
    """``stamp``, ``time of day`` or ``number`` (anything else) for a time value."""
    if isinstance(x, str):
        return "stamp" if _STAMP.match(x) else "time of day" if _TOD.match(x) else "number"
    return "number"


def stamp_seconds(x: str) -> float | None:
    """Seconds since the epoch (UTC when no zone is written) of a date-time stamp, or None."""
    m = _STAMP.match(x)
    if m:
        try:
            frac = float((m.group(8) or ".0").replace(",", "."))
            zone = m.group(9) or ""
            tz = _dt.timezone.utc
            if zone and zone != "Z":
                sign = -1 if zone[0] == "-" else 1
                hh, mm = int(zone[1:3]), int(zone[-2:])
                tz = _dt.timezone(sign * _dt.timedelta(hours=hh, minutes=mm))
            v = _dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                             int(m.group(7) or 0), tzinfo=tz)
            return v.timestamp() + frac
        except ValueError:
            return None
    m = _TOD.match(x)
    if m:
        h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if h < 24 and mi < 60 and s < 61:
            return h * 3600.0 + mi * 60.0 + s + float((m.group(4) or ".0").replace(",", "."))
    return None


def is_text(table: Table, j: int) -> bool:
    """Whether column ``j`` holds text (its first non-blank cell is no number nor stamp)."""
    first = next((x for x in table.cells[j] if x), "")
    return bool(first) and not _is_value(first, table.decimal == ",")


def numbers(table: Table, j: int) -> tuple[np.ndarray, str]:
    """Column ``j`` as float64 (blank and non-finite cells NaN) and its kind: ``number``, ``stamp``
    (date-time: seconds since the epoch) or ``time of day`` (seconds since midnight)."""
    cells = table.cells[j]
    first = next((x for x in cells if x), "")
    if first and not _NUM.match(first) and not (table.decimal == "," and _NUM_COMMA.match(first)):
        if _STAMP.match(first) or _TOD.match(first):
            kind = "stamp" if _STAMP.match(first) else "time of day"
            out = np.empty(len(cells))
            same = _STAMP if kind == "stamp" else _TOD
            for i, x in enumerate(cells):
                v = stamp_seconds(x) if x and same.match(x) else None
                if v is None:
                    if not x:
                        raise ImportFailed(f"{table.where(i, j)}: blank time stamp")
                    raise ImportFailed(f"{table.where(i, j)}: {x!r} is not a date-time stamp like the first, "
                                       f"{first!r}")
                out[i] = v
            return out, kind
    src = [x.replace(",", ".") for x in cells] if table.decimal == "," else cells
    try:
        out = np.array(src, dtype=float)
        if all(_NUM.match(x) for x in src) and np.isfinite(out).all():  # numpy reads "1_0"; the slow path is strict
            return out, "number"
    except ValueError:
        pass
    out = np.empty(len(src))
    for i, x in enumerate(src):
        if x == "" or x.lower() in _NONFINITE:
            out[i] = np.nan
        elif _NUM.match(x):
            out[i] = float(x)
        else:
            raise ImportFailed(f"{table.where(i, j)}: {cells[i]!r} is not a number")
    out[~np.isfinite(out)] = np.nan  # 1e999 overflows: masked like a blank
    return out, "number"
