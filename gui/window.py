"""The main window: assembles the panels for a run and runs the frame loop.

Every frame (a timer, ~30 per second) the window asks its feed (live or
replay) to take in new data, then redraws the charts for the time window
ending at the feed's display time. Readouts, the spectrum and the health
panel refresh a few times per second: numbers that change 30 times a
second cannot be read.
"""
from __future__ import annotations

import time
from collections import deque

from PySide6 import QtCore, QtGui, QtWidgets

from hotfire.gui.charts import Charts, channel_colours, group_channels
from hotfire.gui.cursors import monospace
from hotfire.gui.panels import AlarmBanner, HealthPanel, Readouts, SpectrumPanel, fmt_tclock
from hotfire.gui.replay import SPEEDS
from hotfire.gui.replaytools import ReplayTools
from hotfire.gui.theme import DARK, set_font_scale

#: label -> seconds
WINDOWS = (("5 s", 5), ("10 s", 10), ("30 s", 30), ("1 min", 60), ("2 min", 120), ("5 min", 300))


class MainWindow(QtWidgets.QMainWindow):
    """The live view / replay window.

    Parameters
    ----------
    feed : LiveFeed or ReplayFeed
    theme : Theme
    window_s : float
        Initial time window (5 s to 5 min).
    large : bool
        Start with the large font.
    fps : float
        Frames per second asked of the timer.
    """

    def __init__(self, feed, theme=DARK, window_s: float = 10.0, large: bool = False, fps: float = 30.0):
        super().__init__()
        self.feed, self.theme = feed, theme
        self.window_s = float(window_s)
        self._gen = None
        self._acked: set = set()
        self._marked: set = set()
        self._next_slow = {"values": 0.0, "spectrum": 0.0, "health": 0.0}
        self._painted = deque(maxlen=90)  # (time, frames painted so far)
        self._drawn = None
        self._levels = {}
        self.charts = self.readouts = self.spectrum = self.tools = None
        self.setWindowTitle("hotfire view")
        self.resize(1600, 1000)

        central = QtWidgets.QWidget()
        self.setCentralWidget(central)
        self.vbox = QtWidgets.QVBoxLayout(central)
        self.vbox.setContentsMargins(6, 6, 6, 6)
        self.vbox.setSpacing(4)
        self.vbox.addLayout(self._top_bar(large))
        self.banner = AlarmBanner(theme)
        self.banner.acknowledged.connect(self.acknowledge)
        self.vbox.addWidget(self.banner)
        self.placeholder = QtWidgets.QLabel(self._waiting_text())
        self.placeholder.setAlignment(QtCore.Qt.AlignCenter)
        self.vbox.addWidget(self.placeholder, 1)
        self.body = None
        if not feed.live:
            self.vbox.addLayout(self._replay_bar())

        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(int(1000 / fps))
        QtGui.QShortcut(QtGui.QKeySequence("Ctrl+L"), self, self.toggle_large)
        if large:
            self.large.setChecked(True)

    # -- construction --------------------------------------------------------------
    def _top_bar(self, large):
        bar = QtWidgets.QHBoxLayout()
        self.mode = QtWidgets.QLabel("LIVE" if self.feed.live else "REPLAY")
        self.mode.setStyleSheet(f"background:{'#1f6f3f' if self.feed.live else '#1f4f8f'}; color:white; "
                                f"font-weight:bold; padding:3px 10px; border-radius:3px;")
        self.title = QtWidgets.QLabel("")
        self.clock = QtWidgets.QLabel("T ––:––.––")
        self.clock.setStyleSheet("font-family:monospace; font-weight:bold;")
        self._clock_font(1.0)
        self.window_box = QtWidgets.QComboBox()
        for text, s in WINDOWS:
            self.window_box.addItem(text, s)
        idx = min(range(len(WINDOWS)), key=lambda i: abs(WINDOWS[i][1] - self.window_s))
        self.window_box.setCurrentIndex(idx)
        self.window_s = float(WINDOWS[idx][1])
        self.window_box.currentIndexChanged.connect(
            lambda i: setattr(self, "window_s", float(WINDOWS[i][1])) if i >= 0 else None)
        self.window_box.setPlaceholderText("zoomed")  # a span set by zooming, not one of WINDOWS
        self.large = QtWidgets.QCheckBox("Large font")
        self.large.toggled.connect(self._apply_large)
        for w, stretch in ((self.mode, 0), (self.title, 1), (self.clock, 0), (QtWidgets.QLabel(""), 1),
                           (QtWidgets.QLabel("Window"), 0), (self.window_box, 0), (self.large, 0)):
            bar.addWidget(w, stretch)
        return bar

    def _replay_bar(self):
        bar = QtWidgets.QHBoxLayout()
        f = self.feed
        self.play_button = QtWidgets.QPushButton("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.slider.setRange(int(f.start_s * 1000), int(f.end_s * 1000))
        self.slider.setValue(int(f.playhead * 1000))
        self.slider.valueChanged.connect(self._slider_moved)
        self.speed_box = QtWidgets.QComboBox()
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(f.speed) if f.speed in SPEEDS else SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda i: setattr(f, "speed", SPEEDS[i]))
        self.position = QtWidgets.QLabel("")
        self.position.setFont(monospace())  # not a style sheet: that would pin the size (large font)
        self.tools = ReplayTools(self)
        for w, stretch in ((self.play_button, 0), (self.slider, 1), (self.position, 0),
                           (QtWidgets.QLabel("Speed"), 0), (self.speed_box, 0), *((t, 0) for t in self.tools.bar_widgets())):
            bar.addWidget(w, stretch)
        QtGui.QShortcut(QtGui.QKeySequence("Space"), self, self.toggle_play)
        return bar

    def _build(self):
        """Lay the panels out for the feed's run (again, when a new acquisition starts)."""
        meta = self.feed.meta
        self._gen = self.feed.generation
        self._acked.clear()
        self._marked.clear()
        self._drawn = None
        self._levels = {}
        self._painted.clear()
        if self.body is not None:
            self.vbox.removeWidget(self.body)
            self.body.deleteLater()
        self.placeholder.hide()
        self.mode.setText("LIVE" if self.feed.live else "REPLAY")
        self.title.setText(f"<b>{meta.test_id}</b>&nbsp;&nbsp;<span style='color:{self.theme.dim}'>"
                           f"{meta.rig_name} · {meta.source}</span>")
        self.body = QtWidgets.QSplitter(QtCore.Qt.Horizontal)
        self.charts = Charts(meta, self.theme)
        self.body.addWidget(self.charts)
        if self.tools is not None:
            self.tools.attach(self.charts)
        side = QtWidgets.QWidget()
        sv = QtWidgets.QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 0)
        colours = channel_colours(meta, self.theme)
        ordered = [c for _, chans in group_channels(meta) for c in chans]
        self.readouts = Readouts(ordered, colours, self.theme)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.readouts)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        scroll.setMinimumHeight(min(self.readouts.sizeHint().height() + 4, 560))
        sv.addWidget(scroll if self.tools is None else self.tools.side(scroll), 1)
        dyn = meta.by_role("chamber_pressure_dynamic")
        self.spectrum = None
        if dyn:
            ch = dyn[0]
            self.spectrum = SpectrumPanel(ch, meta.streams[ch.stream], self.theme, colours[ch.name])
            self.spectrum.setMinimumHeight(220)
            sv.addWidget(self.spectrum, 1)
        self.health = HealthPanel(self.theme)
        sv.addWidget(self.health, 0)
        self.body.addWidget(side)
        self.body.setStretchFactor(0, 4)
        self.body.setStretchFactor(1, 1)
        self.body.setSizes([int(self.width() * 0.76), int(self.width() * 0.24)])
        self.vbox.insertWidget(2, self.body, 1)
        self._apply_large(self.large.isChecked())
        self._next_slow = dict.fromkeys(self._next_slow, 0.0)

    def _waiting_text(self):
        if self.feed.live:
            return f"Waiting for an acquisition on {self.feed.address} …\n\n(start one with: hotfire acquire RIG)"
        return "Opening…"

    # -- frame loop --------------------------------------------------------------
    def tick(self):
        """One frame: take in data, redraw."""
        feed = self.feed
        feed.pump()
        if feed.meta is None:
            self.placeholder.setText(self._waiting_text())
            return
        if feed.generation != self._gen:
            self._build()
        now = time.monotonic()
        t_right = feed.display_time()
        t_data = feed.data_time()
        t0_actual = feed.events.t0()
        t0 = t0_actual if t0_actual is not None else feed.meta.planned_t0_s
        # Redraw only what changed: a paused replay or an ended run costs nothing per frame.
        key = (t_right, self.window_s, t0, feed.version, self.charts.width(), self.charts.height())
        if t_right is not None and key != self._drawn:
            self._drawn = key
            self.charts.update_data(feed.stores, t_right - self.window_s, t_right, t0)
        if self.tools is not None:
            self.tools.frame(t0)
        new = [e for e in feed.events.events if e.key not in self._marked]
        if new:
            self._marked.update(e.key for e in new)
            self.charts.add_markers(new)
        horizon = feed.event_horizon()
        levels = feed.events.levels(horizon)
        if levels != self._levels:
            # A readout that turns red shows the value that turned it red, not the last refresh's.
            self._levels = levels
            self._next_slow["values"] = 0.0
        self.readouts.set_levels(levels)
        self.banner.show_alarms([a for a in feed.events.alarms(horizon) if a.key not in self._acked], t0)
        if t_data is not None:
            planned = "" if t0_actual is not None else "  (planned)"
            self.clock.setText(fmt_tclock(t_data - t0) + planned)
        self.clock.setEnabled(not feed.stale)
        if now >= self._next_slow["values"] and t_data is not None:
            self._next_slow["values"] = now + 0.1
            self.readouts.set_values({ch.name: feed.stores[ch.stream].mean(ch.column, t_data, 0.1)
                                      for ch in feed.meta.channels})
        if self.spectrum is not None and now >= self._next_slow["spectrum"] and t_data is not None:
            self._next_slow["spectrum"] = now + 0.25
            self.spectrum.update_from(feed.stores[self.spectrum.channel.stream], t_data)
        ended = feed.live and feed.health.get("ended")
        if ended and self.mode.text() != "LIVE · ENDED":
            self.mode.setText("LIVE · ENDED")
            self._next_slow["health"] = 0.0  # say so in the health panel too, now
        if now >= self._next_slow["health"]:
            self._next_slow["health"] = now + 0.5
            h = feed.health_view()
            fps = self.fps()
            h["viewer"] = f"{h.get('viewer', '')}<br>display {fps:.0f} fps" if fps else h.get("viewer", "")
            self.health.set_health(h)
        if not feed.live:
            self.slider.blockSignals(True)
            self.slider.setValue(int(feed.playhead * 1000))
            self.slider.blockSignals(False)
            self.play_button.setText("Pause" if feed.playing else "Play")
            self.position.setText(fmt_tclock(feed.playhead - t0))
        self._painted.append((now, self.charts.frames))

    def t0(self) -> float:
        """Acquisition time of T0 (the planned one until the T0 event is known)."""
        t0 = self.feed.events.t0() if self.feed.events is not None else None
        return t0 if t0 is not None else self.feed.meta.planned_t0_s

    def set_window_span(self, seconds: float) -> None:
        """Any time window (a zoom): the window box then reads "zoomed" until a preset is picked."""
        self.window_s = float(seconds)
        match = [i for i, (_, s) in enumerate(WINDOWS) if s == self.window_s]
        self.window_box.blockSignals(True)
        self.window_box.setCurrentIndex(match[0] if match else -1)
        self.window_box.blockSignals(False)

    def set_charts(self, meta) -> None:
        """Replace the charts by charts of ``meta``'s channels (the channel chooser), colours kept."""
        old = self.charts
        self.charts = Charts(meta, self.theme, colours=channel_colours(self.feed.meta, self.theme))
        self.body.replaceWidget(0, self.charts)
        old.deleteLater()
        self._marked.clear()  # markers go on the new charts at the next frame
        self._drawn = None
        self._apply_large(self.large.isChecked())
        if self.tools is not None:
            self.tools.attach(self.charts)

    def fps(self) -> float:
        """Chart frames painted per second over the last ~3 s (0 when nothing changes)."""
        p = self._painted
        if len(p) < 2 or p[-1][0] - p[0][0] <= 0:
            return 0.0
        return (p[-1][1] - p[0][1]) / (p[-1][0] - p[0][0])

    # -- actions -----------------------------------------------------------------
    def acknowledge(self):
        """Acknowledge every alarm shown so far: the banner goes until the next one."""
        if self.feed.events is not None:
            self._acked.update(a.key for a in self.feed.events.alarms(self.feed.event_horizon()))
        self.banner.hide()

    def toggle_play(self):
        if self.feed.live:
            return
        self.feed.pause() if self.feed.playing else self.feed.play()

    def _slider_moved(self, v):
        self.feed.seek(v / 1000.0)

    def set_window(self, seconds: float):
        """Choose the time window (nearest of WINDOWS)."""
        idx = min(range(len(WINDOWS)), key=lambda i: abs(WINDOWS[i][1] - seconds))
        self.window_box.setCurrentIndex(idx)

    def toggle_large(self):
        self.large.toggle()

    def _clock_font(self, scale):
        f = self.clock.font()
        f.setPointSizeF(QtWidgets.QApplication.instance().font().pointSizeF() * 1.9)
        self.clock.setFont(f)

    def _apply_large(self, on: bool):
        app = QtWidgets.QApplication.instance()
        set_font_scale(app, 1.45 if on else 1.0)
        self._clock_font(1.0)
        if self.charts is not None:
            tick_font = QtGui.QFont(app.font())
            for p in self.charts.plots:
                for ax in ("left", "bottom"):
                    p.item.getAxis(ax).setStyle(tickFont=tick_font)
                p.item.getAxis("left").setWidth(int(58 * (1.45 if on else 1.0)))
                self.charts.title_pt = 9.0 * (1.45 if on else 1.0)
                self.charts._set_title(p)
            if self.spectrum is not None:
                self.spectrum.set_title_pt(9.0 * (1.45 if on else 1.0))
                for ax in ("left", "bottom"):
                    self.spectrum.getPlotItem().getAxis(ax).setStyle(tickFont=tick_font)

    def save_png(self, path) -> None:
        """Grab the whole window to a PNG file."""
        self.grab().save(str(path))

    def closeEvent(self, ev):
        self.timer.stop()
        super().closeEvent(ev)
