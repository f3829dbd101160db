"""A guarded open: a run file is first read in a short-lived child process.

HDF5 is a C library. A single damaged byte in a file's metadata (an object
header, a B-tree node, a table's heap) can make it crash the process that
reads it (a segmentation fault) or loop forever, and no Python exception or
signal handler gets control back. :func:`check_run_file` therefore touches
every piece of HDF5 metadata a reader uses (the file's attributes, the
channel and events tables, each stream's attributes, segments, checksum
table and chunk index) in a child process that is killed after a timeout,
and turns a crash or a hang into a :class:`RunFileCrashError` that names
the file, what was being read, and how to get the run back. HDF5 reads the
same bytes the same way twice, so a file the child read whole is one this
process can then open.

The command line opens every run file through :func:`open_run_guarded`; the
catalog checks each file the same way before reading it. The library's
:func:`~hotfire.core.runfile.reader.open_run` does not (a script may opt in
with :func:`open_run_guarded`): docs/durability.md gives the cost.

The child is a ``fork`` of this process (a few milliseconds) when this
process runs one thread; otherwise a fresh interpreter (``fork`` with other
threads alive could inherit a lock held by one of them).
"""
from __future__ import annotations

import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hotfire.core.runfile.reader import RunFileError, open_run

#: seconds the child may take; reading metadata takes milliseconds, so only a hang comes near it
DEFAULT_TIMEOUT_S = float(os.environ.get("HOTFIRE_GUARD_TIMEOUT_S", "20"))
_DONE, _ERROR = "\x00done", "\x00error "
_OPENING = ("opening the file (",)  # errors there (not HDF5, truncated): open_run says them best


class RunFileCrashError(RunFileError):
    """The HDF5 library crashed or hung reading a run file (seen in the guard's child process)."""


def probe(path: str | os.PathLike, stage=lambda what: None) -> None:
    """Read every piece of HDF5 metadata of a run file that a reader uses.

    ``stage(text)`` is called before each step with what it reads (the
    child reports it, so a crash is named by the step it happened in).
    Python exceptions propagate: they are the reader's to report.
    """
    import h5py

    from hotfire.core.runfile.chunkread import _layout
    from hotfire.core.runfile.schema import CHUNK_CRC

    stage("opening the file (superblock and root group)")
    with h5py.File(path, "r") as f:
        stage("reading the file's attributes")
        dict(f.attrs.items())
        for table in ("channels", "events"):
            stage(f"reading the {table} table")
            if table in f:
                f[table][()]
        for group in ("simulation", "import"):
            if group in f:
                stage(f"reading the {group} group's attributes")
                dict(f[group].attrs.items())
        stage("reading the streams group")
        names = list(f["streams"]) if "streams" in f else []
        for name in names:
            stage(f"reading stream {name!r}'s attributes")
            g = f["streams"][name]
            dict(g.attrs.items())
            for part in ("segments", CHUNK_CRC):
                if part in g:
                    stage(f"reading stream {name!r}'s {part} table")
                    g[part][()]
            if "raw" in g:
                stage(f"reading stream {name!r}'s chunk index")
                ds = g["raw"]
                ds.shape, ds.dtype, ds.chunks
                if ds.chunks:
                    _layout(ds)
    stage("closing the file")  # the parent then opens it as a run (what open_run reads, read above)


def _child(path: str, wfd: int, timeout_s: float) -> None:
    """In the child: probe, reporting each stage on ``wfd``; never returns."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash here is expected: no core file
    except (ValueError, OSError):
        pass
    # Ends itself (SIGALRM's default action stops even a loop inside C) should its parent be killed
    # before it could kill this child: an orphan must not spin in HDF5 for ever.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(timeout_s) + 2)

    def stage(what):
        os.write(wfd, (what + "\n").encode())

    try:
        probe(path, stage)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        stage(f"{_ERROR}{type(exc).__name__}: {exc}".replace("\n", " "))
    try:
        os.write(wfd, (_DONE + "\n").encode())
    finally:
        os._exit(0)


def _start(path: str, timeout_s: float):
    """Start the child; return (pid or Popen, read fd)."""
    if hasattr(os, "fork") and threading.active_count() == 1:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
            os.close(r)
            _child(path, w, timeout_s)
        os.close(w)
        return pid, r
    proc = subprocess.Popen([sys.executable, "-m", "hotfire.core.runfile.guard", path, str(timeout_s)],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return proc, proc.stdout.fileno()


def _finish(child, kill: bool) -> int:
    """Reap the child (killing it first if asked); its wait status as returncode (-signal if killed)."""
    if isinstance(child, subprocess.Popen):
        if kill:
            child.kill()
        rc = child.wait()
        child.stdout.close()
        return rc
    if kill:
        os.kill(child, signal.SIGKILL)
    _, status = os.waitpid(child, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def check_run_file(path: str | os.PathLike, timeout_s: float | None = None) -> None:
    """Read a run file's HDF5 metadata in a child process; raise if HDF5 crashes or hangs on it.

    Parameters
    ----------
    path : str or Path
    timeout_s : float, optional
        How long the child may take (default :data:`DEFAULT_TIMEOUT_S`,
        or the environment variable ``HOTFIRE_GUARD_TIMEOUT_S``).

    Raises
    ------
    RunFileCrashError
        The child died by a signal or did not finish in time; the message
        names the file, the step, and the repair command.
    RunFileError
        The file is missing, or HDF5 reported damage in a piece of metadata (a group's object
        header, a table) past opening the file: the message names it.

    Notes
    -----
    Errors opening the file (not HDF5, not a run, a missing table) are not
    raised here: opening the file reports them as usual.
    """
    path = str(path)
    if not os.path.exists(path):
        raise RunFileError(f"{path}: no such file")
    timeout_s = DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
    child, fd = _start(path, timeout_s)
    buf, deadline, eof = b"", time.monotonic() + timeout_s, False
    try:
        while not eof:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                break
            chunk = os.read(fd, 4096)
            eof = not chunk
            buf += chunk
    finally:
        if not isinstance(child, subprocess.Popen):
            os.close(fd)
        rc = _finish(child, kill=not eof)
    said = buf.decode(errors="replace").splitlines()
    if said and said[-1] == _DONE:
        if len(said) >= 3 and said[-2].startswith(_ERROR) and not said[-3].startswith(_OPENING):
            # HDF5 reported damage in metadata the reader reads later, lazily (a traceback there)
            raise RunFileError(f"{path}: damaged run file: {said[-3]} failed ({said[-2][len(_ERROR):]}). "
                               f"{repair_hint(path)}")
        return
    step = said[-1] if said else "starting to read it"
    if not eof:
        what = f"hung (no answer in {timeout_s:g} s) while {step}"
    elif rc < 0:
        what = f"crashed ({signal.Signals(-rc).name}) while {step}"
    else:
        what = f"stopped with exit status {rc} while {step}"
    raise RunFileCrashError(f"{path}: damaged run file: the HDF5 library {what}; it was read in a separate "
                            f"process, which was stopped. {repair_hint(path)}")


def repair_hint(path: str | os.PathLike) -> str:
    """What to do about a run file HDF5 cannot read: repair from its journal if it is there."""
    p = Path(path)
    journal = p.with_suffix(".journal")
    if journal.is_dir():
        return (f"Its journal {journal} is there: `hotfire verify {p} --repair` rebuilds the file from it "
                f"(or `hotfire recover {journal}`).")
    return (f"No journal beside it ({journal.name}): restore the file from a copy, or rebuild it with "
            "`hotfire verify RUN --repair --journal DIR` / `hotfire recover DIR` if its journal is elsewhere.")


def open_run_guarded(path: str | os.PathLike, timeout_s: float | None = None):
    """:func:`~hotfire.core.runfile.reader.open_run` after :func:`check_run_file`.

    A damaged file that would crash or hang HDF5 raises
    :class:`RunFileCrashError` instead.
    """
    check_run_file(path, timeout_s)
    return open_run(path)


if __name__ == "__main__":  # the child when fork is not used: stages on stdout
    _child(sys.argv[1], sys.stdout.fileno(), float(sys.argv[2]))
