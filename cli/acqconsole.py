"""What ``hotfire acquire`` (and ``hotfire demo``) print while a firing is recorded.

Every event (T0, redlines, warnings, sensor failures, alarms, ...) gets its own
line as it happens, dated from T0; the progress line is redrawn in place on a
terminal and, in a log file or CI, printed as a plain line every few seconds
(carriage returns would pile up into one unreadable line).
"""
from __future__ import annotations

import sys
import threading
import time

#: kinds an engineer must not miss, shouted
_LOUD = {"redline", "alarm", "sensor", "driver_error"}


def _t0_s(events, streams):
    t0 = next((e for e in events if e.kind == "T0"), None)
    return None if t0 is None else t0.sample / streams[t0.stream].rate_hz


def event_line(e, streams, t0_s) -> str:
    """One event as the terminal shows it: time from T0 (or from the start before T0), kind, message."""
    t = e.sample / streams[e.stream].rate_hz
    when = f"T{'+' if t >= t0_s else '-'}{abs(t - t0_s):7.3f} s" if t0_s is not None else f"t={t:8.3f} s"
    kind = e.kind.upper() if e.kind in _LOUD else e.kind
    return f"  {when}  {kind:<8} {e.message or e.kind}"


class AcquireConsole:
    """A ``progress(view)`` for :meth:`hotfire.daq.acquisition.Acquisition.run` that also prints events.

    Parameters
    ----------
    stream : file, optional
        Where to print (default: ``sys.stderr`` at each call).
    quiet : bool
        Events only, no progress line.
    log_every_s : float
        Off a terminal, seconds between progress lines.
    """

    def __init__(self, stream=None, quiet: bool = False, log_every_s: float = 5.0):
        self._stream, self.quiet, self.log_every_s = stream, quiet, log_every_s
        self._shown = 0          # events printed so far
        self._line = False       # a progress line is drawn (terminal) and must be cleared first
        self._last_log = -1e9
        self._lock = threading.Lock()

    @property
    def out(self):
        return self._stream if self._stream is not None else sys.stderr  # looked up now: may be replaced

    def _tty(self) -> bool:
        try:
            return self.out.isatty()
        except (AttributeError, ValueError):
            return False

    def say(self, text: str) -> None:
        """Print a line of its own (clearing the progress line first)."""
        with self._lock:
            self._clear()
            print(text, file=self.out, flush=True)

    def _clear(self):
        if self._line:
            print("\r\033[K", end="", file=self.out)
            self._line = False

    def __call__(self, acq) -> None:
        streams = acq.source.streams
        events = acq.events
        t0_s = _t0_s(events, streams)
        with self._lock:
            if len(events) > self._shown:
                self._clear()
                for e in sorted(events[self._shown:], key=lambda e: e.sample / streams[e.stream].rate_hz):
                    print(event_line(e, streams, t0_s), file=self.out)
                self._shown = len(events)
            if self.quiet:
                self.out.flush()
                return
            ref = max(streams.values(), key=lambda s: s.n_channels)
            t = acq.rings[ref.name].written / ref.rate_hz
            clock = ""
            if t0_s is not None:
                dt = t - t0_s
                clock = f"T{'+' if dt >= 0 else '-'}{abs(dt):6.2f} s  "
            counts = "  ".join(f"{s}: {ring.written:,}" for s, ring in acq.rings.items())
            text = f"  {clock}{t:7.2f} s acquired  |  {counts}"
            if self._tty():
                print(f"\r\033[K{text}", end="", file=self.out, flush=True)
                self._line = True
            elif time.monotonic() - self._last_log >= self.log_every_s:
                self._last_log = time.monotonic()
                print(text, file=self.out, flush=True)

    def close(self) -> None:
        """End the progress line (the terminal's next output starts on a line of its own)."""
        with self._lock:
            if self._line:
                print(file=self.out, flush=True)
                self._line = False
