"""The run-file builder process: HDF5 runs outside the acquisition process.

HDF5 is a C library that can crash (it was seen to segfault after ENOSPC)
or hang; in the acquisition process that would take the sources, the
journal and the live stream down with it. So the recorder only writes the
journal (the durable record), and a child process, ``python -m
hotfire.daq.buildproc``, builds the run file from it:

* the recorder tells the child where each journal record is (segment,
  offset, sequence number) once its journal write has returned, so the run
  file never holds a row the journal does not;
* the child reads each record back from the journal (CRC checked; the
  journal keeps the pages the child has yet to read in the page cache) and
  appends it to ``<test id>.h5.live`` with :class:`~hotfire.daq.runbuild.RunBuilder`,
  flushed every ``flush_interval`` for SWMR readers;
* at the end the recorder sends the journal's final counts, and the child
  seals the file (verified, fsynced, renamed).

The recorder's :class:`Supervisor` watches the child. If it dies (a signal,
an exit, an HDF5 error it reports) or shows no sign of life for
``hang_timeout`` seconds (then it is killed), the supervisor posts an
``alarm`` event, waits ``retry_interval`` and starts a new child, which
rebuilds the run file from the journal's first record; a ``note`` event
says when it has caught up. Acquisition and the journal are never held up.
Should every attempt at the end fail, ``hotfire recover`` rebuilds the file.

Wire protocol (JSON lines). Parent to child, on stdin: a config object, then
``{"r": [[seq, segment, offset], ...]}`` batches, then ``{"seal": path,
"expected": {stream: samples}}``. Child to parent, on its original stdout:
``{"built": n, "waiting": reason}`` (records applied to the file so far; a
heartbeat at least every 0.1 s), ``{"failed": message}``, ``{"sealed": path}``.
End of stdin without a seal (the parent died) ends the child at once.

For tests, ``HOTFIRE_BUILDER_FAULT`` (comma-separated) makes the first
child fail: ``flush:K`` (the K-th flush raises EIO), ``crash:K`` (SIGSEGV at
the K-th record), ``hang:K`` (sleeps for ever at the K-th record); and
``slow:S`` makes every child sleep S seconds per record.
"""
from __future__ import annotations

import collections
import errno
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time

__all__ = ["Supervisor", "main"]

#: the child reports progress at least this often (seconds)
_REPORT_S = 0.1


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


# ------------------------------------------------------------------ parent side


class Supervisor:
    """Run and watch the builder child of one recording (in the acquisition process).

    Parameters
    ----------
    config : dict
        What the child needs (JSON-able): ``live_path``, ``journal_dir``,
        ``metadata``, ``rig_text``, ``streams``, ``journal_name``,
        ``journal_id``, ``flush_interval``, ``reserve_bytes``.
    locations : list
        ``(seq, segment path, offset, end)`` of every journal record written,
        in order; the recorder appends to it (from its own thread).
    report : callable
        ``report(kind, message)``: post an event (``alarm`` or ``note``).
    keep : callable
        ``keep(location or None)``: where the journal must keep its pages
        cached from (the first record the child has not confirmed).
    hang_timeout : float
        Seconds without a word from the child before it is killed.
    retry_interval : float
        Seconds between a child's death and the next start.
    """

    def __init__(self, config: dict, locations: list, report, keep, hang_timeout: float = 30.0,
                 retry_interval: float = 2.0):
        self.config = config
        self.locations = locations
        self.report, self.keep = report, keep
        self.hang_timeout = hang_timeout
        self.retry_interval = retry_interval
        self.proc: subprocess.Popen | None = None
        self.attempts = 0          # children started
        self.deaths: list[str] = []
        self.built = 0             # records the current child has applied
        self.sealed_path = None
        self._failing = False      # an episode of deaths not yet made good by a rebuild
        self._seal: dict | None = None
        self._seal_attempts = 0
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._loop, name="recorder-builder-supervisor", daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int | None:
        """The current child's process id (None between children)."""
        p = self.proc
        return p.pid if p is not None and p.poll() is None else None

    def wake(self) -> None:
        """New locations to send (called by the recorder after a write; cheap, never blocks)."""
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # a wake-up is pending already

    def seal(self, final_path, expected: dict, late_events: list, max_attempts: int = 3) -> bool:
        """Have the child seal the run file as ``final_path`` once it holds ``expected``; wait.

        A child that dies meanwhile is replaced (it rebuilds from the journal,
        now complete), up to ``max_attempts`` children after this call.
        ``late_events`` (event dicts the journal, closed, no longer takes; it
        may grow meanwhile) are added to the file by the child that seals it.
        Returns True if the file was sealed.
        """
        with self._lock:
            self._seal = {"seal": os.fspath(final_path), "expected": expected, "events": late_events}
            self._seal_attempts = max_attempts
        self.wake()
        self._done.wait()
        self._thread.join()
        return self.sealed_path is not None

    # -- the supervisor thread -------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._run()
        finally:
            self._stop_child()
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._done.set()

    def _run(self) -> None:
        restart_at = 0.0
        while True:
            with self._lock:
                seal = self._seal
            if self.proc is None:
                if seal is not None and self._seal_attempts <= 0:
                    return  # given up: the journal is complete, `hotfire recover` builds the file
                wait = restart_at - time.monotonic()
                if wait > 0:
                    self._wait_wake(wait)
                    continue
                if seal is not None:
                    self._seal_attempts -= 1
                try:
                    self._start()
                except OSError as exc:  # no process, no memory, no descriptor: try again later
                    self.proc = None
                    died = f"cannot start the run-file builder process: {exc}"
                else:
                    died = self._serve(seal)
            else:
                died = self._serve(seal)
            if died is None:
                return  # sealed
            self.deaths.append(died)
            if not self._failing:
                self._failing = True
                self.report("alarm", died)
            restart_at = time.monotonic() + self.retry_interval

    def _wait_wake(self, timeout: float) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ)
        if sel.select(timeout):
            os.read(self._wake_r, 4096)
        sel.close()

    def _start(self) -> None:
        self.attempts += 1
        self.built = 0
        self._sent = 0
        self._out = bytearray()
        self._lines = bytearray()
        self._err = collections.deque(maxlen=20)
        self._err_part = b""
        self._failed_msg = ""
        self._seal_sent = False
        # the same hotfire as here; a crash's stack goes into the alarm
        env = dict(os.environ, PYTHONFAULTHANDLER="1", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc = subprocess.Popen([sys.executable, "-m", "hotfire.daq.buildproc"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0,
                                     close_fds=True)
        os.set_blocking(self.proc.stdin.fileno(), False)
        cfg = dict(self.config, attempt=self.attempts)
        # encoded as the journal encodes its metadata (numpy scalars and arrays as plain JSON)
        from hotfire.daq.journal.format import json_default
        self._out += json.dumps(cfg, default=json_default).encode() + b"\n"
        self._heard = time.monotonic()
        self._spoke = False
        self.keep(self._location(0))

    def _location(self, i):
        locs = self.locations
        if i < len(locs):
            return locs[i][1], locs[i][2]
        if locs:
            return locs[-1][1], locs[-1][3]  # the next record: keep what is written from now on
        return None

    def _serve(self, seal) -> str | None:
        """Feed and watch the running child; return why it died, or None once it sealed the file."""
        p = self.proc
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ, "out")
        sel.register(p.stderr, selectors.EVENT_READ, "err")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        stdin_fd = p.stdin.fileno()
        writing = False
        try:
            while True:
                with self._lock:
                    seal = self._seal
                self._queue_locations(seal)
                if self._out and not writing:
                    sel.register(stdin_fd, selectors.EVENT_WRITE, "in")
                    writing = True
                elif not self._out and writing:
                    sel.unregister(stdin_fd)
                    writing = False
                for key, _ in sel.select(0.05):
                    if key.data == "out":
                        chunk = os.read(p.stdout.fileno(), 65536)
                        if chunk:
                            self._heard = time.monotonic()
                            self._spoke = True
                            if self._on_output(chunk):
                                return None
                    elif key.data == "err":
                        self._on_stderr(os.read(p.stderr.fileno(), 65536))
                    elif key.data == "wake":
                        os.read(self._wake_r, 4096)
                    elif key.data == "in":
                        if not self._write_stdin(stdin_fd):
                            break
                code = p.poll()
                if code is not None:
                    self._drain(p)
                    if self.sealed_path is not None:
                        return None
                    return self._death(_describe_exit(code))
                # (a child still importing gets longer: a loaded machine can take seconds)
                limit = self.hang_timeout if self._spoke else max(self.hang_timeout, 60.0)
                if time.monotonic() - self._heard > limit:
                    p.kill()
                    p.wait()
                    self._drain(p)
                    return self._death(f"no sign of life for {self.hang_timeout:g} s: killed")
        finally:
            sel.close()
            if p.poll() is None and self.sealed_path is None:
                p.kill()
            try:
                p.wait(timeout=10)  # a child that sealed exits by itself
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                try:
                    f.close()
                except OSError:
                    pass
            self.proc = None

    def _queue_locations(self, seal) -> None:
        n = len(self.locations)
        if n > self._sent:
            batch = [[seq, os.path.basename(path), off] for seq, path, off, _ in self.locations[self._sent:n]]
            self._out += json.dumps({"r": batch}).encode() + b"\n"
            self._sent = n
        if seal is not None and not self._seal_sent and n == len(self.locations):
            self._out += json.dumps(seal).encode() + b"\n"
            self._seal_sent = True

    def _write_stdin(self, fd) -> bool:
        try:
            k = os.write(fd, self._out)
        except BlockingIOError:
            return True
        except (BrokenPipeError, OSError):
            self._out.clear()
            return False  # the child is gone: poll() tells how
        del self._out[:k]
        return True

    def _on_output(self, chunk: bytes) -> bool:
        """Handle the child's messages; True once it sealed the file."""
        self._lines += chunk
        *lines, rest = self._lines.split(b"\n")
        self._lines = bytearray(rest)
        for line in lines:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "built" in msg:
                self.built = int(msg["built"])
                self.keep(self._location(self.built))
                if self._failing and self.built == len(self.locations) and not msg.get("waiting"):
                    self._failing = False
                    self.report("note", f"run file rebuilt from the journal by a new builder process: "
                                        f"{self.config['live_path']}")
            elif "failed" in msg:
                self._failed_msg = str(msg["failed"])
            elif "sealed" in msg:
                self.sealed_path = msg["sealed"]
                return True
        return False

    def _on_stderr(self, chunk: bytes) -> None:
        if not chunk:
            return
        data = self._err_part + chunk
        *lines, self._err_part = data.split(b"\n")
        for line in lines:
            if line.strip():
                self._err.append(line.decode("utf-8", "replace"))

    def _drain(self, p) -> None:
        for f, handle in ((p.stdout, self._on_output), (p.stderr, self._on_stderr)):
            try:
                os.set_blocking(f.fileno(), False)
                while chunk := os.read(f.fileno(), 65536):
                    handle(chunk)
            except (BlockingIOError, OSError, ValueError):
                pass

    def _death(self, how: str) -> str:
        journal = self.config["journal_dir"]
        if self._failed_msg:
            return (f"writing the run file failed: {self._failed_msg}. Every sample is in the journal {journal}; "
                    f"the run file is rebuilt from it by a new builder process (or by `hotfire recover {journal}`)")
        last = [ln for ln in self._err if "Fatal Python error" in ln] or list(self._err)[-1:]
        why = f" ({last[0].strip()[:200]})" if last else ""
        return (f"run-file builder died: {how}{why}. Acquisition and the journal go on; every sample is in the "
                f"journal {journal}, and the run file is rebuilt from it by a new builder process (or by "
                f"`hotfire recover {journal}`)")

    def _stop_child(self) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()


# ------------------------------------------------------------------- child side


class _Faults:
    """Test-only faults (``HOTFIRE_BUILDER_FAULT``, comma-separated); see the module docstring."""

    def __init__(self, spec: str, first: bool):
        self.faults = {}
        for part in filter(None, spec.split(",")):
            kind, _, arg = part.partition(":")
            if first or kind == "slow":
                self.faults[kind] = float(arg or 0)
        self.flushes = self.records = 0

    def on_record(self):
        self.records += 1
        f = self.faults
        if "slow" in f:
            time.sleep(f["slow"])
        if f.get("crash") == self.records:
            os.kill(os.getpid(), signal.SIGSEGV)
        if f.get("hang") == self.records:
            while True:
                time.sleep(3600)

    def on_flush(self):
        self.flushes += 1
        if self.faults.get("flush") == self.flushes:
            raise OSError(errno.EIO, "injected HDF5 write failure")


def _die_with_parent() -> None:
    """Linux: be killed when the parent goes (even if HDF5 hangs holding the GIL)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main() -> int:
    """The child: build the run file from the journal records the parent names."""
    _die_with_parent()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (HDF5 diagnostics) must not corrupt the protocol
    cfg = json.loads(sys.stdin.buffer.readline())
    inbox: collections.deque = collections.deque()
    arrived = threading.Event()

    def read_stdin():
        for line in sys.stdin.buffer:
            inbox.append(json.loads(line))
            arrived.set()
        if not any("seal" in m for m in inbox):
            os._exit(0)  # the parent is gone: the journal is the record, recovery rebuilds the file
        arrived.set()
    threading.Thread(target=read_stdin, daemon=True).start()

    def say(**msg):
        out.write(json.dumps(msg) + "\n")

    faults = _Faults(os.environ.get("HOTFIRE_BUILDER_FAULT", ""), cfg.get("attempt", 1) == 1)
    try:
        return _build(cfg, inbox, arrived, say, faults)
    except Exception as exc:  # noqa: BLE001 - any failure of the file: the parent restarts a builder
        say(failed=" ".join(f"{type(exc).__name__}: {exc}".split()))  # HDF5's messages span lines
        return 3


def _build(cfg, inbox, arrived, say, faults) -> int:
    from hotfire.daq.journal import JournalReadError, read_record
    from hotfire.daq.runbuild import RunBuilder

    jdir, live = cfg["journal_dir"], cfg["live_path"]
    streams = cfg["streams"]
    flush_iv = float(cfg["flush_interval"])
    pending: collections.deque = collections.deque()
    seal = None
    builder = None
    built = 0
    fds: dict[str, int] = {}
    next_flush = time.monotonic() + flush_iv
    last_report, reported = 0.0, -1
    try:
        while True:
            arrived.clear()
            while inbox:
                m = inbox.popleft()
                if "r" in m:
                    pending.extend(m["r"])
                elif "seal" in m:
                    seal = m
            final = seal is not None
            waiting = ""
            if not final and not _space_ok(cfg):
                waiting = "little free space: the journal needs it more"
            elif builder is None:
                builder = RunBuilder(live, cfg["metadata"], cfg["rig_text"], streams, cfg["journal_name"],
                                     cfg["journal_id"], live=True)
            if builder is not None and not waiting:
                while pending:
                    seq, seg, off = pending[0]
                    path = os.path.join(jdir, seg)
                    fd = fds.get(path)
                    if fd is None:
                        for old in list(fds):  # records come in segment order: keep one open
                            os.close(fds.pop(old))
                        fd = fds[path] = os.open(path, os.O_RDONLY)
                    rec = read_record(path, off, streams, fd=fd)
                    if rec.seq != seq:
                        raise JournalReadError(0, f"record at offset {off} has sequence {rec.seq}, expected {seq}",
                                               path)
                    faults.on_record()
                    builder.add(rec)
                    pending.popleft()
                    built += 1
                    now = time.monotonic()
                    if (now >= next_flush and not final) or now - last_report >= _REPORT_S:
                        break  # flush (not needed at the end: the seal does it), or report progress
                    if not final and not _space_ok(cfg):
                        break  # pause before the next record: the journal needs the space more
                if time.monotonic() >= next_flush or (final and not pending):
                    faults.on_flush()
                    builder.flush()
                    next_flush = time.monotonic() + flush_iv
            now = time.monotonic()
            if now - last_report >= _REPORT_S or (built != reported and now - last_report >= 0.02):
                say(built=built, waiting=waiting)
                reported, last_report = built, now
            if final and not pending and builder is not None:
                _add_late_events(builder, seal.get("events", ()))
                builder.seal(seal["seal"], seal["expected"])
                say(sealed=seal["seal"])
                return 0
            if not pending or waiting:
                arrived.wait(0.02 if built != reported else _REPORT_S)
    except BaseException:
        if builder is not None:
            builder.abandon()
        raise
    finally:
        for fd in fds.values():
            os.close(fd)


def _add_late_events(builder, events) -> None:
    """Events the acquisition posted after its journal closed (an earlier builder's death)."""
    from hotfire.core.events import Event
    builder.w.add_events([Event(str(e.get("kind", "")), str(e.get("stream", "")), int(e.get("sample", 0)),
                                str(e.get("message", "")), str(e.get("channel", ""))) for e in events])


def _space_ok(cfg) -> bool:
    """Enough free space for the live file to go on (else it lags; the journal has priority)."""
    try:
        st = os.statvfs(os.path.dirname(cfg["live_path"]) or ".")
    except OSError:
        return True
    reserve = cfg.get("reserve_bytes")
    if reserve is None:
        reserve = min(512 << 20, st.f_blocks * st.f_frsize // 50)
    return st.f_bavail * st.f_frsize >= reserve


if __name__ == "__main__":
    sys.exit(main())
