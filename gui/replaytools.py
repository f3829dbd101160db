"""What replay adds to the window: zoom and pan linked across the charts,
two cursors with their values, a list of the run's events to jump to, and a
channel chooser.

The charts show the window ``[playhead - window, playhead]``; zooming or
panning any chart (mouse wheel, drag; x only) sets both from that chart's
new range, so every chart is redrawn from the file for the new span, at full
rate when it is short. **Reset zoom** (Home) shows the whole run.
"""
from __future__ import annotations

import dataclasses

from PySide6 import QtCore, QtGui, QtWidgets

from hotfire.gui.charts import group_channels
from hotfire.gui.cursors import CursorTable, Cursors, value_at
from hotfire.gui.panels import fmt_tclock

#: the shortest span a zoom shows (s): a few samples of a 10 kHz stream
MIN_SPAN_S = 1e-3


class ReplayTools(QtCore.QObject):
    """Replay's tools for a :class:`~hotfire.gui.window.MainWindow` showing a ReplayFeed.

    Parameters
    ----------
    win : MainWindow
    """

    def __init__(self, win):
        super().__init__(win)
        self.win, self.feed = win, win.feed
        self.cursors = Cursors(win.theme, self)
        self.cursors.moved.connect(self.refresh_cursors)
        self.cursor_table = CursorTable()
        self.events = QtWidgets.QTreeWidget()
        self.events.setHeaderLabels(["T", "event", "channel", "message"])
        self.events.setRootIsDecorated(False)
        self.events.setUniformRowHeights(True)
        self.events.itemClicked.connect(self._event_clicked)
        self.events.itemActivated.connect(self._event_clicked)
        self.chooser = QtWidgets.QTreeWidget()
        self.chooser.setHeaderHidden(True)
        self.chooser.itemChanged.connect(self._chosen)
        self._n_events = -1
        self._choosing = False
        self.cursor_box = QtWidgets.QCheckBox("Cursors")
        self.cursor_box.setToolTip("two cursors, A and B, with each channel's value and the difference (C)")
        self.cursor_box.toggled.connect(self.show_cursors)
        self.reset_button = QtWidgets.QPushButton("Reset zoom")
        self.reset_button.setToolTip("show the whole run (Home); zoom with the mouse wheel, pan by dragging")
        self.reset_button.clicked.connect(self.reset_zoom)
        QtGui.QShortcut(QtGui.QKeySequence("Home"), win, self.reset_zoom)
        QtGui.QShortcut(QtGui.QKeySequence("C"), win, self.cursor_box.toggle)

    # -- construction --------------------------------------------------------------
    def bar_widgets(self):
        """Widgets for the replay bar."""
        return [self.reset_button, self.cursor_box]

    def side(self, readouts) -> QtWidgets.QTabWidget:
        """The side panel's tabs: the readouts, the cursors, the events, the channels."""
        self.tabs = QtWidgets.QTabWidget()
        for w, name in ((readouts, "Values"), (self.cursor_table, "Cursors"), (self.events, "Events"),
                        (self.chooser, "Channels")):
            self.tabs.addTab(w, name)
        self._fill_chooser()
        return self.tabs

    def attach(self, charts) -> None:
        """Make (new) charts zoomable and draw the cursors on them."""
        charts.setInteractive(True)  # the live view's charts take no mouse input; these do
        for p in charts.plots:
            vb = p.item.vb
            p.item.setMouseEnabled(x=True, y=False)
            vb.setLimits(minXRange=MIN_SPAN_S)  # no maximum: a preset window may be longer than the run
            vb.sigRangeChangedManually.connect(lambda _mask, vb=vb: self._zoomed(vb))
        self.cursors.attach(charts)
        self.refresh_cursors()

    def _fill_chooser(self):
        self._choosing = True
        self.chooser.clear()
        for title, chans in group_channels(self.feed.meta):
            top = QtWidgets.QTreeWidgetItem([title])
            top.setFlags(top.flags() | QtCore.Qt.ItemIsUserCheckable | QtCore.Qt.ItemIsAutoTristate)
            self.chooser.addTopLevelItem(top)
            for ch in chans:
                item = QtWidgets.QTreeWidgetItem([ch.name])
                item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
                item.setCheckState(0, QtCore.Qt.Checked)
                item.setData(0, QtCore.Qt.UserRole, ch.name)
                top.addChild(item)
            top.setExpanded(True)
        self._choosing = False

    # -- per frame -------------------------------------------------------------
    def frame(self, t0: float) -> None:
        """Keep the cursors and the event list in step with the run (cheap when nothing changed)."""
        self.cursors.set_t0(t0)
        if len(self.feed.events.events) != self._n_events or t0 != getattr(self, "_list_t0", None):
            self._list_t0 = t0
            self._n_events = len(self.feed.events.events)
            self.events.clear()
            for ev in self.feed.events.events:
                item = QtWidgets.QTreeWidgetItem([fmt_tclock(ev.time_s - t0), ev.kind, ev.channel, ev.message])
                item.setToolTip(3, ev.message)
                item.setData(0, QtCore.Qt.UserRole, ev.time_s)
                self.events.addTopLevelItem(item)
            for c in range(3):
                self.events.resizeColumnToContents(c)

    # -- zoom and pan ------------------------------------------------------------
    def _zoomed(self, vb) -> None:
        (x0, x1), _ = vb.viewRange()
        self.show_span(x0 + self.win.t0(), x1 + self.win.t0())

    def show_span(self, t_left: float, t_right: float) -> None:
        """Show acquisition times ``[t_left, t_right]`` on every chart (the right edge stays in the run)."""
        self.win.set_window_span(max(MIN_SPAN_S, t_right - t_left))
        self.feed.seek(t_right)

    def reset_zoom(self) -> None:
        """The whole run."""
        self.show_span(self.feed.start_s, self.feed.end_s)

    def centre_on(self, t: float) -> None:
        """Centre the charts on acquisition time ``t``, keeping the span."""
        self.feed.seek(t + self.win.window_s / 2)

    def _event_clicked(self, item, _column=0) -> None:
        self.centre_on(float(item.data(0, QtCore.Qt.UserRole)))

    # -- cursors -----------------------------------------------------------------
    def show_cursors(self, on: bool) -> None:
        """Cursors on, at a third and two thirds of the span shown, or off."""
        if on == self.cursors.on:
            return
        if on:
            right = self.feed.playhead
            left = right - self.win.window_s
            self.cursors.set(self.win.charts, left + (right - left) / 3, left + 2 * (right - left) / 3)
            self.tabs.setCurrentWidget(self.cursor_table)
        else:
            self.cursors.set(self.win.charts, None)
        self.cursor_box.blockSignals(True)
        self.cursor_box.setChecked(on)
        self.cursor_box.blockSignals(False)

    def refresh_cursors(self) -> None:
        if not self.cursors.on:
            self.cursor_table.clear()
            return
        t_a, t_b = self.cursors.times
        stores = self.feed.stores
        rows = [(ch.name, ch.units, value_at(stores[ch.stream], ch.column, t_a),
                 value_at(stores[ch.stream], ch.column, t_b)) for p in self.win.charts.plots for ch in p.chans]
        self.cursor_table.show_values(t_a, t_b, self.win.t0(), rows)

    # -- channel chooser ---------------------------------------------------------
    def chosen(self) -> list[str]:
        """The channels ticked in the chooser."""
        out = []
        for i in range(self.chooser.topLevelItemCount()):
            top = self.chooser.topLevelItem(i)
            out += [top.child(j).data(0, QtCore.Qt.UserRole) for j in range(top.childCount())
                    if top.child(j).checkState(0) == QtCore.Qt.Checked]
        return out

    def _chosen(self, *_):
        if self._choosing:
            return
        # Several itemChanged signals come from one click on a chart's box: rebuild once, after them.
        QtCore.QTimer.singleShot(0, self.apply_choice)

    def apply_choice(self) -> None:
        """Rebuild the charts with the ticked channels (at least one stays: the last cannot be unticked)."""
        names = self.chosen()
        if not names:
            self._choosing = True
            self.chooser.topLevelItem(0).child(0).setCheckState(0, QtCore.Qt.Checked)
            self._choosing = False
            names = self.chosen()
        if names == [c.name for p in self.win.charts.plots for c in p.chans]:
            return
        keep = set(names)
        meta = dataclasses.replace(self.feed.meta, channels=[c for c in self.feed.meta.channels if c.name in keep])
        self.cursors.detach()
        self.win.set_charts(meta)
