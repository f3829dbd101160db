"""The side panels: numeric readouts, the alarm banner, stream health and
the spectrum of the dynamic chamber pressure."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from scipy.signal import welch

LEVEL_NAMES = {0: "ok", 1: "warning", 2: "redline"}
#: a stream this far behind the wall clock is shown amber (a block or two late is normal)
BEHIND_WARN_S = 0.5


def fmt_value(v: float) -> str:
    """A readout: steady width, about 4 significant digits."""
    if v is None or not np.isfinite(v):
        return "—"
    a = abs(v)
    digits = 0 if a >= 1000 else 1 if a >= 100 else 2 if a >= 10 else 3
    return f"{v:.{digits}f}"


def fmt_tclock(dt: float) -> str:
    """``T-00:01.23`` / ``T+00:02.31`` from seconds relative to T0."""
    sign = "-" if dt < 0 else "+"
    a = abs(dt)
    return f"T{sign}{int(a // 60):02d}:{a % 60:05.2f}"


class Readouts(QtWidgets.QFrame):
    """One row per channel: colour swatch, name, value, units; the row turns
    amber at a warning and red at a redline."""

    def __init__(self, channels, colours, theme, parent=None):
        super().__init__(parent)
        self.theme = theme
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.rows = {}
        self.levels = {}
        for r, ch in enumerate(channels):
            swatch = QtWidgets.QLabel()
            swatch.setFixedWidth(5)
            swatch.setStyleSheet(f"background:{colours.get(ch.name, theme.fg)};")
            name = QtWidgets.QLabel(ch.name)
            value = QtWidgets.QLabel("—")
            value.setObjectName("value")
            value.setAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("−00000.00") + 8)
            units = QtWidgets.QLabel(ch.units)
            for c, w in enumerate((swatch, name, value, units)):
                grid.addWidget(w, r, c)
            self.rows[ch.name] = (name, value, units)
            self.levels[ch.name] = None
            self._style(ch.name, 0)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(len(channels), 1)

    def _style(self, name, level):
        if self.levels.get(name) == level:
            return
        self.levels[name] = level
        t = self.theme
        bg = {0: t.ok, 1: t.warning, 2: t.redline}[level]
        fg = t.fg if level == 0 else t.on_alarm
        weight = "bold" if level else "normal"
        for w in self.rows[name]:
            w.setStyleSheet(f"background:{bg}; color:{fg}; padding:2px 4px; font-weight:{weight};")
        value = self.rows[name][1]
        value.setStyleSheet(value.styleSheet() + "font-family:monospace; font-weight:bold;")

    def set_values(self, values: dict[str, float]) -> None:
        for name, v in values.items():
            if name in self.rows:
                self.rows[name][1].setText(fmt_value(v))

    def set_levels(self, levels: dict[str, int]) -> None:
        """Colour every row by its level (channels not in ``levels`` are in band)."""
        for name in self.rows:
            self._style(name, levels.get(name, 0))

    def text(self, name: str) -> str:
        return self.rows[name][1].text()


class AlarmBanner(QtWidgets.QFrame):
    """A red banner that stays up, whatever the data does, until acknowledged."""

    acknowledged = QtCore.Signal()

    def __init__(self, theme, parent=None):
        super().__init__(parent)
        self.setStyleSheet(f"QFrame {{ background:{theme.redline}; }} QLabel {{ color:{theme.on_alarm}; "
                           f"font-weight:bold; }}")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        self.label = QtWidgets.QLabel()
        font = self.label.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        self.label.setFont(font)
        self.button = QtWidgets.QPushButton("Acknowledge")
        self.button.setStyleSheet("QPushButton { background:#ffffff; color:#000000; font-weight:bold; "
                                  "padding:4px 14px; }")
        self.button.clicked.connect(self.acknowledged)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button)
        self.hide()

    def show_alarms(self, pending, t0: float) -> None:
        """Show the oldest unacknowledged alarm (and how many more), or hide."""
        if not pending:
            self.hide()
            return
        e = pending[0]
        more = f"   (+{len(pending) - 1} more)" if len(pending) > 1 else ""
        self.label.setText(f"{e.kind.upper().replace('_', ' ')}   {e.message}   at {fmt_tclock(e.time_s - t0)}{more}")
        self.show()


class HealthPanel(QtWidgets.QLabel):
    """Stream health: rate (amber with the lag when behind the wall clock), gaps, ring fill, recording state, viewer fps."""

    def __init__(self, theme, parent=None):
        super().__init__(parent)
        self.theme = theme
        self.setTextFormat(QtCore.Qt.RichText)
        self.setAlignment(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft)
        self.setWordWrap(True)

    def set_health(self, h: dict) -> None:
        t = self.theme
        good, warn, bad = t.fg, t.warning, t.redline
        rows = []
        for s in h.get("streams", []):
            # The sample clock sets the rate; what can go wrong live is a stream falling behind
            # the wall clock (a stalled driver, an overloaded machine), so that is what is flagged.
            behind = s.get("behind_s") or 0.0
            late = h.get("producing", True) and behind > BEHIND_WARN_S
            rate_col = warn if late else good
            rate_txt = f"{s['nominal_hz']:,.0f} Hz" + (f" · {behind:.1f} s behind" if late else "")
            gaps = s.get("gaps", 0)
            lost = s.get("lost", 0)
            fill = s.get("fill")
            fill_col = good if fill is None or fill < 0.5 else warn if fill < 0.8 else bad
            rows.append(
                f"<tr><td>{s['name']}</td><td align=right style='color:{rate_col}'>{rate_txt}</td>"
                f"<td align=right style='color:{bad if gaps or lost else good}'>{gaps}"
                f"{f' ({lost:,} lost)' if lost else ''}</td>"
                f"<td align=right style='color:{fill_col}'>{'' if fill is None else f'{100 * fill:.0f} %'}</td></tr>")
        head = (f"<tr style='color:{t.dim}'><td>stream</td><td align=right>rate</td><td align=right>gaps</td>"
                f"<td align=right>{'ring' if h.get('mode') == 'live' else ''}</td></tr>")
        for sen in h.get("sensors", []):  # failed sensors (hotfire.core.health, live in acquisition)
            rows.append(f"<tr><td colspan=4 style='color:{bad}'>&#9888; {sen['message']}</td></tr>")
        rec = h.get("recording", "")
        rec_col = bad if rec.startswith("●") else t.dim
        foot = f"<div style='color:{rec_col}; font-weight:bold'>{rec}</div>"
        if h.get("viewer"):
            foot += f"<div style='color:{warn if h.get('stale') else t.dim}'>{h['viewer']}</div>"
        self.setText(f"<table cellspacing=0 cellpadding=2 width='100%'>{head}{''.join(rows)}</table>{foot}")


class SpectrumPanel(pg.PlotWidget):
    """Welch PSD of the last second of one channel (the dynamic chamber pressure)."""

    def __init__(self, channel, stream, theme, colour, seconds: float = 1.0, parent=None):
        super().__init__(parent=parent)
        self.channel, self.stream, self.seconds = channel, stream, seconds
        self.theme, self.colour = theme, colour
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.setLogMode(x=False, y=True)
        item.showGrid(x=True, y=True, alpha=theme.grid_alpha)
        for ax in ("left", "bottom"):
            item.getAxis(ax).enableAutoSIPrefix(False)
        item.setLabel("bottom", "Hz")
        item.setLabel("left", f"PSD, {channel.units}²/Hz")
        self.set_title_pt(9.0)
        self.curve = item.plot(pen=pg.mkPen(colour, width=1))
        self.peak = pg.TextItem(color=theme.fg, anchor=(1, 0))
        item.addItem(self.peak, ignoreBounds=True)
        self.peak_hz = None
        item.setXRange(0, stream.rate_hz / 2, padding=0)

    def set_title_pt(self, pt: float):
        self.getPlotItem().setTitle(
            f"<span style='color:{self.theme.dim}'>Spectrum, last {self.seconds:g} s</span>&nbsp;&nbsp;"
            f"<span style='color:{self.colour}'>{self.channel.name}</span>", size=f"{pt:g}pt")

    def update_from(self, store, t: float) -> bool:
        """Recompute from the second of samples before acquisition time ``t``; False if too few."""
        rate = self.stream.rate_hz
        i1 = min(store.span()[1], self.stream.sample(t) + 1)
        n = int(self.seconds * rate)
        y = store.full(i1 - n, i1)[self.channel.column]
        y = y[np.isfinite(y)].astype(np.float64)
        if len(y) < n // 4 or len(y) < 64:
            return False
        nper = min(4096, 1 << int(np.log2(len(y) // 4)))
        f, p = welch(y, fs=rate, nperseg=nper)
        p = np.maximum(p, 1e-12)  # log axis
        self.curve.setData(f, p)
        # A tone worth naming stands well above the broadband floor (slow
        # drifts and the mean, below 100 Hz, are the strip charts' business).
        band = f > 100.0
        self.peak_hz = None
        text = ""
        if band.any():
            k = int(np.argmax(np.where(band, p, 0)))
            if p[k] > 30 * np.median(p[band]):
                self.peak_hz = float(f[k])
                text = f"peak {self.peak_hz:,.0f} Hz"
        self.peak.setText(text)
        (x0, x1), (y0, y1) = self.getPlotItem().vb.viewRange()
        self.peak.setPos(x1, y1)  # view coordinates: log10 on the y axis
        return True
