"""Colours and fonts: dark by default (a control room is dim), large-font option.

Red and amber are reserved for redlines and warnings; curve colours avoid them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    dark: bool
    bg: str
    fg: str
    panel: str
    dim: str
    grid: str
    grid_alpha: float
    curves: tuple[str, ...]
    ok: str        # readout background in band
    warning: str
    redline: str
    on_alarm: str  # text on red or amber
    markers: dict

    def marker(self, kind: str) -> str:
        return self.markers.get(kind, self.fg)


DARK = Theme(
    dark=True, bg="#0d1117", fg="#d7dde5", panel="#161b22", dim="#8b949e", grid="#222a35", grid_alpha=0.18,
    curves=("#4fc3f7", "#9ccc65", "#ce93d8", "#f5f5f5", "#4db6ac", "#90caf9", "#f48fb1", "#dce775"),
    ok="#1c2430", warning="#f0a020", redline="#e5383b", on_alarm="#ffffff",
    markers={"T0": "#f5f5f5", "cutoff": "#4fc3f7", "redline": "#e5383b", "warning": "#f0a020",
             "gap": "#ff4fd8", "driver_error": "#e5383b", "alarm": "#e5383b", "note": "#9ccc65",
             "trigger": "#9ccc65"},
)

LIGHT = Theme(
    dark=False, bg="#ffffff", fg="#1f2328", panel="#f3f4f6", dim="#57606a", grid="#e1e4e8", grid_alpha=0.25,
    curves=("#0969da", "#1a7f37", "#8250df", "#24292f", "#0a7c86", "#3b5bdb", "#bf3989", "#6e7781"),
    ok="#e9edf2", warning="#d97706", redline="#cf222e", on_alarm="#ffffff",
    markers={"T0": "#24292f", "cutoff": "#0969da", "redline": "#cf222e", "warning": "#d97706",
             "gap": "#bf3989", "driver_error": "#cf222e", "alarm": "#cf222e", "note": "#1a7f37",
             "trigger": "#1a7f37"},
)


def setup(app, theme: Theme, large: bool = False) -> None:
    """Apply ``theme`` to pyqtgraph and the Qt application (before any widget exists)."""
    import pyqtgraph as pg
    from PySide6 import QtGui, QtWidgets

    # No antialiasing: thin lines at full speed; the min/max envelope already reads well.
    pg.setConfigOptions(background=theme.bg, foreground=theme.fg, antialias=False)
    app.setStyle(QtWidgets.QStyleFactory.create("Fusion"))
    if theme.dark:
        pal = QtGui.QPalette()
        c = QtGui.QColor
        for role, col in ((QtGui.QPalette.Window, theme.bg), (QtGui.QPalette.WindowText, theme.fg),
                          (QtGui.QPalette.Base, theme.panel), (QtGui.QPalette.AlternateBase, theme.bg),
                          (QtGui.QPalette.Text, theme.fg), (QtGui.QPalette.Button, theme.panel),
                          (QtGui.QPalette.ButtonText, theme.fg), (QtGui.QPalette.Highlight, "#2f81f7"),
                          (QtGui.QPalette.HighlightedText, "#ffffff"), (QtGui.QPalette.ToolTipBase, theme.panel),
                          (QtGui.QPalette.ToolTipText, theme.fg), (QtGui.QPalette.PlaceholderText, theme.dim)):
            pal.setColor(role, c(col))
        app.setPalette(pal)
    set_font_scale(app, 1.45 if large else 1.0)


def set_font_scale(app, scale: float) -> None:
    """Scale the application font (the large-font option)."""
    font = app.font()
    base = app.property("hotfire_base_pt") or font.pointSizeF()
    app.setProperty("hotfire_base_pt", base)
    font.setPointSizeF(base * scale)
    app.setFont(font)
