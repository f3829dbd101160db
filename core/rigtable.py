"""Validating a rig file's TOML tables: typed getters whose errors name file, line and key."""
from __future__ import annotations

import difflib
import math
from pathlib import Path

from hotfire.core import tomlpos
from hotfire.core.errors import HotfireError


class RigError(HotfireError):
    """A rig file is invalid; the message names file, line and key."""

    def __init__(self, path, line, key, message):
        self.path, self.line, self.key = str(path), line, key
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class _Table:
    """A TOML table being validated: typed getters that report file:line:key."""

    def __init__(self, loader: "_Loader", data: dict, path: tuple[str, ...]):
        self.loader, self.data, self.path = loader, data, path
        self.used: set[str] = set()

    def fail(self, key: str | None, message: str):
        self.loader.fail(self.path + ((key,) if key else ()), message)

    def _get(self, key, required, default):
        self.used.add(key)
        if key not in self.data:
            if required:
                # A typo is likelier than an omission: name the misspelt key.
                close = difflib.get_close_matches(key, [k for k in self.data if k not in self.used], 1, 0.75)
                if close:
                    self.fail(close[0], f"unknown key (did you mean {key!r}?)")
                self.fail(None, f"missing required key {key!r}")
            return default
        return self.data[key]

    def str(self, key, required=True, default="", choices=None):
        v = self._get(key, required, default)
        if not isinstance(v, str):
            self.fail(key, f"expected a string, got {v!r}")
        if choices and v not in choices:
            self.fail(key, f"expected one of {', '.join(choices)}, got {v!r}")
        return v

    def num(self, key, required=True, default=None, positive=False, minimum=None):
        v = self._get(key, required, default)
        if v is None and not required:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.fail(key, f"expected a number, got {v!r}")
        if positive and v <= 0:
            self.fail(key, f"expected a positive number, got {v!r}")
        if minimum is not None and v < minimum:
            self.fail(key, f"expected a number >= {minimum}, got {v!r}")
        return float(v)

    def table(self, key, required=True):
        v = self._get(key, required, None)
        if v is None:
            return None
        if not isinstance(v, dict):
            self.fail(key, f"expected a table, got {v!r}")
        return _Table(self.loader, v, self.path + (key,))

    def raw(self, key, required=False, default=None):
        return self._get(key, required, default)

    def check_unknown(self, allowed=None):
        allowed = self.used if allowed is None else set(allowed)
        for key in self.data:
            if key not in allowed:
                self.fail(key, f"unknown key (expected one of: {', '.join(sorted(allowed))})")


class _Loader:
    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text

    def fail(self, keypath: tuple[str, ...], message: str):
        lines = tomlpos.key_lines(self.text)  # only for the message: a valid rig never needs it
        # a key missing at the top has no line of its own: the file's first line
        raise RigError(self.path, tomlpos.line_of(lines, keypath) or 1, ".".join(keypath), message)
