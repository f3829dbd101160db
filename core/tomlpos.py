"""Line numbers for TOML keys.

``tomllib`` parses correctly but forgets where each key was written; rig
errors must name the line. This scanner maps each key path to the line that
defines it. It understands what rig files use: ``[table.headers]``,
``key = value`` with bare, quoted and dotted keys, and one level of keys
inside inline tables. A key it cannot place is reported at its table's
header line, which is still the right neighbourhood.
"""
from __future__ import annotations

import re

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
_INLINE_KEY = re.compile(rf"(?:^|[{{,])\s*({_DOTTED})\s*=")


def _split(dotted: str) -> tuple[str, ...]:
    parts = re.findall(_KEY, dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every key path in a TOML document to its 1-based line number.

    Parameters
    ----------
    text : str
        The TOML document.

    Returns
    -------
    dict
        ``{("channels", "PC", "range"): 14, ...}``; tables map to their header line.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_multiline = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            continue
        m = _HEADER.match(line)
        if m:
            table = _split(m.group(1))
            for i in range(1, len(table) + 1):
                lines.setdefault(table[:i], lineno)
            continue
        m = _ASSIGN.match(line)
        if not m:
            continue
        path = table + _split(m.group(1))
        for i in range(len(table) + 1, len(path) + 1):
            lines.setdefault(path[:i], lineno)
        value = m.group(2)
        for quote in ('"""', "'''"):
            if value.count(quote) == 1:
                in_multiline = quote
        if value.lstrip().startswith("{"):
            for inner in _INLINE_KEY.finditer(value):
                lines.setdefault(path + _split(inner.group(1)), lineno)
    return lines


def line_of(lines: dict[tuple[str, ...], int], path: tuple[str, ...]) -> int | None:
    """The line of ``path``, or of its nearest enclosing key that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
