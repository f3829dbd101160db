"""Strip charts: one plot per group of roles, on a shared time axis in
seconds from T0, with limit lines and event markers.

All plots live in one ``GraphicsLayoutWidget`` (one scene, one paint per
frame) and draw pre-decimated min/max envelopes: pyqtgraph's own
downsampling is off, it would only redo the work.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from hotfire.gui.decimate import polyline

#: chart title -> roles it shows, in display order
ROLE_GROUPS = (
    ("Thrust", ("thrust", "total_thrust")),  # the load cells and their tared total (calculated)
    ("Chamber pressure", ("chamber_pressure",)),
    ("Dynamic chamber pressure", ("chamber_pressure_dynamic",)),
    ("Injector pressures", ("ox_injector_pressure", "fuel_injector_pressure")),
    ("Injector pressure drops", ("injector_dp",)),  # calculated: feed minus chamber
    ("O/F", ("mixture_ratio",)),  # calculated
    ("Tank pressures", ("ox_tank_pressure", "fuel_tank_pressure")),
    ("Mass flows", ("ox_mass_flow", "fuel_mass_flow")),
    ("Temperatures", ("chamber_wall_temperature", "ox_temperature", "fuel_temperature", "ambient_temperature")),
    ("Valves", ("ox_valve_position", "fuel_valve_position")),
)
#: event kind -> (marker label, label height as a fraction of the plot); others get no marker
MARKERS = {"T0": ("T0", 0.93), "cutoff": ("cutoff", 0.93), "redline": ("RL", 0.78), "warning": ("W", 0.64),
           "gap": ("gap", 0.50), "driver_error": ("DAQ error", 0.50), "alarm": ("alarm", 0.50),
           "note": ("note", 0.36), "trigger": ("trigger", 0.36), "sensor": ("sensor", 0.22)}
MAX_MARKERS = 300


class TimeAxis(pg.AxisItem):
    """The time axis with major ticks only: it is redrawn every frame while
    the charts scroll, and minor ticks nearly double its cost."""

    def tickSpacing(self, minVal, maxVal, size):
        return super().tickSpacing(minVal, maxVal, size)[:1]


def label_fill(theme):
    """A translucent background for labels drawn over curves."""
    bg = pg.mkColor(theme.bg)
    bg.setAlpha(190)
    return pg.mkBrush(bg)


def group_channels(meta) -> list[tuple[str, list]]:
    """Channels grouped into charts by role (roles without a group go to "Other")."""
    groups, seen = [], set()
    for title, roles in ROLE_GROUPS:
        chans = [c for c in meta.channels if c.role in roles]
        if chans:
            groups.append((title, chans))
            seen.update(c.name for c in chans)
    rest = [c for c in meta.channels if c.name not in seen]
    for i in range(0, len(rest), 4):  # at most 4 curves per "Other" chart
        groups.append(("Other" if i == 0 else f"Other ({i // 4 + 1})", rest[i:i + 4]))
    return groups


def channel_colours(meta, theme) -> dict[str, str]:
    """Each channel's curve colour (also used by its readout)."""
    out = {}
    for _, chans in group_channels(meta):
        for i, ch in enumerate(chans):
            out[ch.name] = theme.curves[i % len(theme.curves)]
    return out


class _Plot:
    """One chart: its plot item, curves, limit lines, grid and y-range state."""

    def __init__(self, item, title, chans, colours, theme):
        self.item, self.title, self.chans = item, title, chans
        # The grid is one path of line pairs at the axes' major ticks: pyqtgraph's
        # own grid (drawn by the axes) costs ~10 ms per plot per frame offscreen.
        self.grid = pg.PlotCurveItem(pen=pg.mkPen(theme.grid, width=1), connect="pairs")
        self.grid.setZValue(-10)
        item.addItem(self.grid, ignoreBounds=True)
        self._grid_for = None
        self.curves = []
        for ch in chans:
            curve = pg.PlotCurveItem(pen=pg.mkPen(colours[ch.name], width=1), connect="finite")
            item.addItem(curve)
            self.curves.append((ch, curve))
        # One line per distinct limit: channels sharing a value share the line.
        owners: dict[tuple, list[str]] = {}
        for ch in chans:
            for kind, lim in (("redline", ch.redline), ("warning", ch.warning)):
                for bound in ("max", "min"):
                    if lim is not None and getattr(lim, bound) is not None:
                        owners.setdefault((kind, bound, getattr(lim, bound)), []).append(ch.name)
        self.limits = []
        for (kind, bound, value), names in owners.items():
            col = theme.redline if kind == "redline" else theme.warning
            who = f"{names[0]} " if len(chans) > 1 and len(names) == 1 else ""
            # Labels at the left end, pointing away from the band: a max redline's label
            # above its line, a max warning's below, so close limits never overprint.
            above = (kind == "redline") == (bound == "max")
            anchor = (0, 1) if above else (0, 0)
            line = pg.InfiniteLine(
                pos=value, angle=0, movable=False, pen=pg.mkPen(col, width=1, style=QtCore.Qt.DashLine),
                label=f"{who}{kind} {value:g}",
                labelOpts={"position": 0.01, "color": col, "anchors": [anchor, anchor], "fill": label_fill(theme)})
            line.setZValue(-5)
            item.addItem(line, ignoreBounds=True)
            self.limits.append(value)
        self.yrange = None

    def fit_y(self, lo: float, hi: float):
        """Follow the data (and its limits) without jitter: grow at once, shrink only when much too wide."""
        if not np.isfinite(lo):
            return
        # A limit at the edge of the range needs room for its label beyond it.
        pad_lo = pad_hi = 0.06
        if self.limits:
            if min(self.limits) < lo:
                lo, pad_lo = min(self.limits), 0.14
            if max(self.limits) > hi:
                hi, pad_hi = max(self.limits), 0.14
        span = hi - lo or max(abs(hi), 1.0) * 0.1
        want = (lo - pad_lo * span, hi + pad_hi * span)
        cur = self.yrange
        if cur is not None and cur[0] <= want[0] and want[1] <= cur[1] \
                and (want[1] - want[0]) > 0.6 * (cur[1] - cur[0]):
            return
        self.yrange = (want[0] - 0.04 * span, want[1] + 0.04 * span)
        self.item.setYRange(*self.yrange, padding=0)

    def update_grid(self, xr, xs):
        """Redraw the grid lines (``xs``: the time ticks) if the x or y range moved."""
        yr = self.yrange
        if yr is None or (xr, yr) == self._grid_for:
            return
        if self._grid_for is None or self._grid_for[1] != yr:
            self._yticks = _major_ticks(self.item.getAxis("left"), yr, self.item.vb.height())
        self._grid_for = (xr, yr)
        ys = self._yticks
        x = np.concatenate([np.repeat(xs, 2), np.tile(xr, len(ys))])
        y = np.concatenate([np.tile(yr, len(xs)), np.repeat(ys, 2)])
        self.grid.setData(x, y, connect="pairs")


def _major_ticks(axis, rng, size) -> np.ndarray:
    """The positions where ``axis`` puts its major tick labels in ``rng``."""
    levels = axis.tickValues(rng[0], rng[1], max(1.0, size))
    vals = [v for _, values in levels[:2] for v in values] if levels else []
    return np.asarray(vals, dtype=float)


class Charts(pg.GraphicsLayoutWidget):
    """The strip charts of a run.

    Parameters
    ----------
    meta : RunMeta
    theme : Theme
    columns : int, optional
        Chart columns (default: 2 when there are more than 5 charts).
    colours : dict, optional
        Channel name -> curve colour (default: :func:`channel_colours` of ``meta``); replay's
        channel chooser keeps each channel's colour when others are hidden.
    """

    def __init__(self, meta, theme, columns: int | None = None, parent=None, colours: dict | None = None):
        super().__init__(parent=parent)
        self.meta, self.theme = meta, theme
        self.frames = 0
        self.title_pt = 9.0
        # One paint of the whole scene per frame: cheaper than many partial updates.
        # Every curve changes every frame, so the scene's BSP index is pure cost;
        # nothing is antialiased and the charts take no mouse input.
        GV = QtWidgets.QGraphicsView
        self.setViewportUpdateMode(GV.ViewportUpdateMode.FullViewportUpdate)
        self.setOptimizationFlag(GV.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setInteractive(False)
        self.scene().setItemIndexMethod(QtWidgets.QGraphicsScene.ItemIndexMethod.NoIndex)
        groups = group_channels(meta)
        self.colours = colours or channel_colours(meta, theme)
        ncol = columns or (2 if len(groups) > 5 else 1)
        nrow = -(-len(groups) // ncol)
        self.plots: list[_Plot] = []
        self.by_channel: dict[str, _Plot] = {}
        first = None
        for i, (title, chans) in enumerate(groups):
            row, col = i % nrow, i // nrow
            item = self.addPlot(row=row, col=col, axisItems={"bottom": TimeAxis("bottom")})
            item.setMenuEnabled(False)
            item.setMouseEnabled(x=False, y=False)  # the time axis is driven by the view; y follows the data
            item.hideButtons()
            item.enableAutoRange(False)
            for ax in ("left", "bottom", "top", "right"):
                # Units are in the label; rescaling them costs an HTML relayout per frame
                # (hidden axes too: they follow the view all the same).
                item.getAxis(ax).enableAutoSIPrefix(False)
            left = item.getAxis("left")
            left.setWidth(58)
            # The y axis rarely changes (the y range follows the data with hysteresis): cache its pixels.
            left.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
            units = sorted({c.units for c in chans if c.units})
            item.setLabel("left", ", ".join(units))
            last_in_col = row == nrow - 1 or i == len(groups) - 1
            if last_in_col:  # one time axis per column, under its last chart
                item.setLabel("bottom", "s from T0")
            else:
                item.hideAxis("bottom")
            if first is None:
                first = item
            else:
                item.setXLink(first)
            p = _Plot(item, title, chans, self.colours, theme)
            self._set_title(p)
            self.plots.append(p)
            for ch in chans:
                self.by_channel[ch.name] = p
        self.ci.layout.setSpacing(2)
        self.streams = sorted({c.stream for c in meta.channels})
        self._markers: list[tuple] = []
        self._label_fill = label_fill(theme)
        self._t0 = 0.0

    def _set_title(self, p: _Plot):
        names = "  ".join(f"<span style='color:{self.colours[c.name]}'>{c.name}</span>" for c, _ in p.curves)
        p.item.setTitle(f"<span style='color:{self.theme.dim}'>{p.title}</span>&nbsp;&nbsp;{names}",
                        size=f"{self.title_pt:g}pt")

    def paintEvent(self, ev):
        super().paintEvent(ev)
        self.frames += 1  # frames actually painted (the fps shown in the health panel)

    # -- per frame -------------------------------------------------------------
    def update_data(self, stores, t_left: float, t_right: float, t0: float) -> None:
        """Draw every channel between acquisition times ``t_left`` and ``t_right``, time axis from ``t0``."""
        n_px = max(100, int(max(p.item.vb.width() for p in self.plots)))
        traces = {}
        for s in self.streams:
            tr = stores[s].fetch(t_left, t_right, n_px) if s in stores else None
            traces[s] = (tr, tr.times(self.meta.streams[s]) - t0 if tr is not None else None)
        for p in self.plots:
            lo, hi = np.inf, -np.inf
            # one pixel in y (the range of the last frame: it moves rarely)
            px_y = 0.0 if p.yrange is None else (p.yrange[1] - p.yrange[0]) / max(1.0, p.item.vb.height())
            for ch, curve in p.curves:
                tr, t = traces[ch.stream]
                if tr is None:
                    curve.setData([], [])
                    continue
                ylo, yhi = tr.lo[ch.column], tr.hi[ch.column]
                x, y = polyline(t, ylo, yhi if tr.k > 1 else None, min_height=px_y)
                curve.setData(x, np.array(y, np.float32, copy=tr.k == 1))
                lo = np.fmin(lo, np.fmin.reduce(ylo)) if len(ylo) else lo
                hi = np.fmax(hi, np.fmax.reduce(yhi)) if len(yhi) else hi
            if np.isfinite(lo) and np.isfinite(hi):
                p.fit_y(float(lo), float(hi))
        xr = (t_left - t0, t_right - t0)
        self.plots[0].item.setXRange(*xr, padding=0)
        # Time ticks once for all charts (they share the axis).
        xs = _major_ticks(self.plots[-1].item.getAxis("bottom"), xr, self.plots[-1].item.vb.width())
        for p in self.plots:
            p.update_grid(xr, xs)
            # Apply the new ranges now: left to the paint, the view transform
            # changes during painting and Qt paints the whole scene twice.
            p.item.vb.prepareForPaint()
        if t0 != self._t0:
            self._t0 = t0
            for line, ev, _ in self._markers:
                line.setValue(ev.time_s - t0)

    def add_markers(self, events) -> None:
        """Vertical lines for new events (channel events only on their channel's chart)."""
        for ev in events:
            if ev.kind not in MARKERS:
                continue
            text, height = MARKERS[ev.kind]
            own = self.by_channel.get(ev.channel)
            plots = [own] if own is not None else self.plots
            col = self.theme.marker(ev.kind)
            style = QtCore.Qt.DotLine if ev.kind == "warning" else QtCore.Qt.SolidLine
            for i, p in enumerate(plots):
                label = (f"{text} {ev.channel}" if own is not None and len(p.chans) > 1 else text) if i == 0 else None
                # pyqtgraph puts the label on the side of the line nearer the middle:
                # a marker that appears at the right edge, live, stays readable.
                line = pg.InfiniteLine(
                    pos=ev.time_s - self._t0, angle=90, movable=False, pen=pg.mkPen(col, width=1, style=style),
                    label=label, labelOpts={"position": height, "color": col, "fill": self._label_fill})
                line.setZValue(-4)
                p.item.addItem(line, ignoreBounds=True)
                self._markers.append((line, ev, p.item))
        while len(self._markers) > MAX_MARKERS * max(1, len(self.plots)):  # a chattering run: drop the oldest
            line, _, item = self._markers.pop(0)
            item.removeItem(line)

    def marker_count(self, kind: str | None = None) -> int:
        """Marker lines drawn (for tests), optionally of one event kind."""
        return sum(1 for _, ev, _ in self._markers if kind is None or ev.kind == kind)

    def curve_points(self) -> dict[str, int]:
        """Points in each channel's curve (for tests)."""
        out = {}
        for p in self.plots:
            for ch, curve in p.curves:
                x, _ = curve.getData()
                out[ch.name] = 0 if x is None else len(x)
        return out
