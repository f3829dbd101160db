"""Two cursors over the replayed charts: vertical lines A and B on every
chart, moved together, and a table of each channel's value at each cursor,
their difference, and the time between them.

A cursor's value for a channel is the recorded sample at or just before the
cursor's time (the same hold as calculated channels use for slower
inputs), read at full rate from the stream: never a decimated point.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from hotfire.gui.charts import label_fill

#: cursor name -> line colour (neither red nor amber: those are the limits')
CURSOR_COLOURS = {"A": "#ffd866", "B": "#78dce8"}


def sample_at(stream, t: float) -> int:
    """The index of the sample at or just before acquisition time ``t`` (a millionth of a sample of slack)."""
    return int(math.floor((t - stream.offset_s) * stream.rate_hz + 1e-6))


def value_at(store, column: int, t: float) -> float:
    """One channel's recorded sample at or just before ``t``; NaN outside the record or in a gap."""
    i = sample_at(store.meta, t)
    lo, hi = store.span()
    if not lo <= i < hi:
        return math.nan
    return float(store.full(i, i + 1)[column, 0])


def fmt_precise(v: float, ref: float | None = None) -> str:
    """About 6 significant digits, fixed point (``ref``: take the decimals of this magnitude)."""
    if v is None or not np.isfinite(v):
        return "—"
    a = abs(v if ref is None or not np.isfinite(ref) else ref)
    digits = 0 if a >= 1e5 else max(0, min(6, 5 - int(math.floor(math.log10(a))))) if a > 0 else 3
    return f"{v:.{digits}f}"


def monospace() -> QtGui.QFont:
    """A fixed-pitch family and nothing else: the size still follows the application's (large font).

    A style sheet's ``font-family`` would pin the size the widget had when it was polished.
    """
    f = QtGui.QFont()
    f.setFamily("monospace")
    f.setStyleHint(QtGui.QFont.Monospace)
    return f


class CursorTable(QtWidgets.QWidget):
    """The cursors' times and, per channel, the values at A and B and B − A."""

    HEAD = ("channel", "A", "B", "B − A", "units")

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.times = QtWidgets.QLabel("Cursors off: tick Cursors (C) below the charts.")
        self.times.setFont(monospace())
        self.times.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, len(self.HEAD))
        self.table.setHorizontalHeaderLabels(self.HEAD)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.NoSelection)
        self.table.setFont(monospace())
        self.table.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)  # follows the font
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        hh.setStretchLastSection(True)
        lay.addWidget(self.times)
        lay.addWidget(self.table, 1)
        self.values: dict[str, tuple[float, float]] = {}

    def show_values(self, t_a: float, t_b: float, t0: float, rows) -> None:
        """``rows``: (channel name, units, value at A, value at B)."""
        dt = t_b - t_a
        rate = f"   1/Δt {1 / abs(dt):,.3f} Hz" if dt else ""
        self.times.setText(f"A  T{t_a - t0:+.5f} s\nB  T{t_b - t0:+.5f} s\nΔt {dt:+.5f} s{rate}")
        self.table.setRowCount(len(rows))
        self.values = {}
        for r, (name, units, a, b) in enumerate(rows):
            self.values[name] = (a, b)
            ref = max(abs(a), abs(b)) if np.isfinite(a) and np.isfinite(b) else None
            for c, text in enumerate((name, fmt_precise(a), fmt_precise(b), fmt_precise(b - a, ref), units)):
                item = QtWidgets.QTableWidgetItem(text)
                if c in (1, 2, 3):
                    item.setTextAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
                self.table.setItem(r, c, item)

    def clear(self) -> None:
        self.times.setText("Cursors off: tick Cursors (C) below the charts.")
        self.table.setRowCount(0)
        self.values = {}

    def text(self, name: str, column: str) -> str:
        """The table's text for one channel and column (for tests)."""
        col = self.HEAD.index(column)
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == name:
                return self.table.item(r, col).text()
        raise KeyError(name)


class Cursors(QtCore.QObject):
    """Cursors A and B: a movable vertical line per chart each, kept together.

    Times are acquisition times; the lines sit at ``time - t0`` on the charts.
    """

    moved = QtCore.Signal()

    def __init__(self, theme, parent=None):
        super().__init__(parent)
        self.fill = label_fill(theme)  # labels stay readable over curves and limit labels
        self.times: list[float] | None = None  # [A, B] when on
        self.t0 = 0.0
        self._lines: list[tuple[int, pg.InfiniteLine, object]] = []
        self._moving = False

    @property
    def on(self) -> bool:
        return self.times is not None

    def attach(self, charts) -> None:
        """Draw the lines on (new) charts."""
        self._lines = []
        for p in charts.plots if self.on else ():
            for k, name in enumerate(("A", "B")):
                col = CURSOR_COLOURS[name]
                line = pg.InfiniteLine(pos=self.times[k] - self.t0, angle=90, movable=True,
                                       pen=pg.mkPen(col, width=1), hoverPen=pg.mkPen(col, width=3),
                                       label=name if p is charts.plots[0] else None,
                                       labelOpts={"position": 0.97, "color": col, "fill": self.fill})
                line.setZValue(10)
                line.sigPositionChanged.connect(lambda ln, k=k: self._dragged(k, ln))
                p.item.addItem(line, ignoreBounds=True)
                self._lines.append((k, line, p.item))

    def detach(self) -> None:
        for _, line, item in self._lines:
            item.removeItem(line)
        self._lines = []

    def set(self, charts, t_a: float | None, t_b: float | None = None) -> None:
        """Cursors on at acquisition times ``t_a`` and ``t_b``, or off (``t_a`` None)."""
        self.detach()
        self.times = None if t_a is None else [float(t_a), float(t_b)]
        self.attach(charts)
        self.moved.emit()

    def move(self, k: int, t: float) -> None:
        """Cursor ``k`` (0: A, 1: B) to acquisition time ``t``, on every chart: what a drag does."""
        for j, line, _ in self._lines:
            if j == k:
                line.setValue(t - self.t0)  # the first one moves the rest (_dragged)
                return

    def set_t0(self, t0: float) -> None:
        if t0 != self.t0:
            self.t0 = t0
            self._place()

    def _dragged(self, k: int, line) -> None:
        if self._moving or not self.on:
            return
        self.times[k] = float(line.value()) + self.t0
        self._place()
        self.moved.emit()

    def _place(self) -> None:
        self._moving = True
        try:
            for j, line, _ in self._lines:
                line.setValue(self.times[j] - self.t0)
        finally:
            self._moving = False

    def line_positions(self) -> list[tuple[int, float]]:
        """(cursor, x on the charts) of every line drawn (for tests)."""
        return [(k, float(line.value())) for k, line, _ in self._lines]
