"""Batch work over many run files: in this process, or on Dask.

One function, :func:`map_tasks`, runs a module-level function over a list of
argument tuples and yields each result as it completes, whichever engine
runs it:

- in this process, one after the other (``Engine(serial=True)``, or when
  there are fewer tasks than ``Engine.min_batch``: starting a cluster costs
  seconds, more than it saves on a handful of files);
- on a local Dask cluster started for the batch (the default);
- on a running Dask cluster (``Engine(scheduler="tcp://host:8786")``): its
  workers must have hotfire installed and see the run files at the same
  paths (a shared file system).

The same function computes the same result on every engine, so a batch on a
cluster is identical to a serial run. A task that raises, or kills its
worker, yields a :class:`TaskError` for that item; the batch goes on.

Tasks run isolated by default: each worker (or this process) hands them to a
helper process and kills it when a task overruns ``Engine.timeout_s``. The
HDF5 library can loop forever on a file whose metadata was torn (4 KiB of
zeros at the wrong place is enough), and a catalog must skip such a file,
not hang on it; a crash in the helper (a segfault in a C library) likewise
costs one item, not the batch.

    >>> from hotfire.analysis.batch import Engine, analyze_runs
    >>> results = analyze_runs(paths, Engine(workers=4), progress=print)
"""
from __future__ import annotations

import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from hotfire.core.errors import HotfireError


@dataclass(frozen=True)
class TaskError:
    """A task that raised or lost its worker; ``reason`` says why."""

    reason: str


@dataclass
class Engine:
    """Where a batch runs.

    Parameters
    ----------
    workers : int, optional
        Size of the local Dask cluster (default: the CPU count, at most 8).
    scheduler : str, optional
        Address of a running Dask scheduler; overrides ``workers``.
    client : distributed.Client, optional
        An existing client to use (not closed after the batch).
    serial : bool
        Run every task in this process, one after the other.
    processes : bool
        Local cluster workers are processes (default) or threads. h5py
        serialises HDF5 calls under one lock per process, so threads mostly
        help tests and tiny batches.
    min_batch : int
        Fewer tasks than this run in this process even when a local cluster
        was asked for (not when ``scheduler`` or ``client`` is given).
    isolate : bool
        Run each task in a helper process (one per worker thread, reused),
        so a task that hangs or crashes costs that item only.
    timeout_s : float
        With ``isolate``: a task that takes longer is killed and yields a
        :class:`TaskError`.
    connect_timeout_s : float
        How long to try reaching ``scheduler``.
    """

    workers: int | None = None
    scheduler: str | None = None
    client: object | None = None
    serial: bool = False
    processes: bool = True
    min_batch: int = 8
    isolate: bool = True
    timeout_s: float = 300.0
    connect_timeout_s: float = 30.0

    def n_workers(self) -> int:
        return self.workers or max(1, min(8, os.cpu_count() or 1))

    def chooses_serial(self, n_tasks: int) -> bool:
        """Whether ``n_tasks`` tasks would run in this process."""
        if self.client is not None or self.scheduler:
            return False
        return self.serial or n_tasks < self.min_batch

    def describe(self, n_tasks: int) -> str:
        if self.client is not None:
            return "on the given Dask client"
        if self.scheduler:
            return f"on the Dask cluster at {self.scheduler}"
        if self.chooses_serial(n_tasks):
            return "in this process"
        kind = "processes" if self.processes else "threads"
        return f"on a local Dask cluster ({self.n_workers()} worker {kind})"


def _apply(func, args, isolate=False, timeout_s=None):
    # a failure is a result, not an exception: one bad item never stops the
    # batch, and Dask workers need not log it as a failed computation
    try:
        if isolate:
            return _helper().call(func, args, timeout_s)
        return func(*args)
    except Exception as exc:
        return TaskError(f"{type(exc).__name__}: {exc}")


# -- helper process: runs tasks for one thread, killed when a task overruns ------

_HEADER = struct.Struct("<Q")
_local = threading.local()


class _Helper:
    """A Python process that runs pickled calls sent on its stdin."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "hotfire.analysis.batch", "--helper"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()

    def _read(self, n: int, deadline: float | None) -> bytes:
        buf = b""
        fd = self.proc.stdout.fileno()
        while len(buf) < n:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def call(self, func, args, timeout_s: float | None):
        msg = pickle.dumps((func, args), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        try:
            self.proc.stdin.write(_HEADER.pack(len(msg)) + msg)
            (n,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
            ok, value = pickle.loads(self._read(n, deadline))
        except TimeoutError:
            self.kill()
            raise TimeoutError(f"no answer within {timeout_s:g} s; the task was killed") from None
        except (EOFError, BrokenPipeError):
            self.kill()
            raise RuntimeError(f"the helper process died (exit status {self.proc.returncode})") from None
        return value if ok else TaskError(value)


def _helper() -> _Helper:
    h = getattr(_local, "helper", None)
    if h is None or not h.alive():
        h = _local.helper = _Helper()
    return h


def _orphan_watch(parent: int):
    """End this helper once its parent is gone, even inside a task that never returns (a hang in
    HDF5 on a damaged file): nobody else would ever kill it (found spinning for an hour after its
    test suite ended)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(3)


def _helper_main():
    """Serve calls from the parent until its end of the pipe closes (or the parent dies)."""
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a task that prints must not corrupt the replies
    while True:
        head = inp.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        func, args = pickle.loads(inp.read(_HEADER.unpack(head)[0]))
        try:
            reply = (True, func(*args))
        except Exception as exc:
            reply = (False, f"{type(exc).__name__}: {exc}")
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()


@contextmanager
def dask_client(engine: Engine):
    """A ``distributed.Client`` for ``engine``; a local cluster is closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency of hotfire
        raise HotfireError(f"batch on Dask needs the 'distributed' package ({exc})") from None
    if engine.client is not None:
        yield engine.client
        return
    if engine.scheduler:
        try:
            client = Client(engine.scheduler, timeout=engine.connect_timeout_s)
        except OSError as exc:
            raise HotfireError(f"cannot reach the Dask scheduler at {engine.scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(n_workers=engine.n_workers(), threads_per_worker=1, processes=engine.processes,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def map_tasks(func: Callable, items: Iterable[tuple], engine: Engine | None = None,
              progress: Callable | None = None) -> Iterator[tuple[tuple, object]]:
    """Run ``func(*item)`` for every item; yield ``(item, result)`` as each completes.

    Parameters
    ----------
    func : callable
        A module-level function (Dask ships it to workers by reference).
    items : iterable of tuple
        Argument tuples, one per task.
    engine : Engine, optional
        Default: a local Dask cluster (or this process for small batches).
    progress : callable, optional
        Called as ``progress(done, total)`` after each task.

    Yields
    ------
    (tuple, object)
        The item and ``func``'s result, or a :class:`TaskError`.
    """
    engine = engine or Engine()
    items = list(items)
    total = len(items)
    if not total:
        return
    if engine.chooses_serial(total):
        for done, item in enumerate(items, 1):
            result = _apply(func, item, engine.isolate, engine.timeout_s)
            if progress:
                progress(done, total)
            yield item, result
        return
    from distributed import as_completed

    with dask_client(engine) as client:
        # pure=False: a file may change between two batches of one client,
        # so results must never be reused by key.
        futures = client.map(_apply, [func] * total, items, isolate=engine.isolate, timeout_s=engine.timeout_s,
                             pure=False)
        owner = {f.key: item for f, item in zip(futures, items)}
        for done, fut in enumerate(as_completed(futures), 1):
            try:
                result = fut.result()
            except Exception as exc:  # a worker that died on it (KilledWorker), a lost connection
                result = TaskError(f"{type(exc).__name__}: {exc}")
            item = owner[fut.key]
            fut.release()
            if progress:
                progress(done, total)
            yield item, result


def analyze_file(path: str) -> dict:
    """Performance results of one run file, as a JSON-able dict (a batch task)."""
    from hotfire.analysis.performance import analyze
    from hotfire.core.runfile.reader import open_run

    with open_run(path) as run:
        return {"test_id": run.test_id, "rig": run.rig_name, "performance": analyze(run).to_dict()}


def analyze_runs(paths: Iterable, engine: Engine | None = None, progress: Callable | None = None) -> dict:
    """Analyse many run files; ``{path: result dict or TaskError}``, in input order.

    Parameters
    ----------
    paths : iterable of str or Path
    engine : Engine, optional
        Default: a local Dask cluster (this process for fewer than 8 runs).
    progress : callable, optional
        ``progress(done, total)``.
    """
    paths = [str(p) for p in paths]
    got = {item[0]: res for item, res in map_tasks(analyze_file, [(p,) for p in paths], engine, progress)}
    return {p: got[p] for p in paths}


def progress_printer(label: str, stream=None, every_s: float = 0.5):
    """A ``progress(done, total)`` that redraws one status line on a terminal.

    Off a terminal (a log file, CI) it prints a line at each tenth of the work.
    """
    import sys
    import time

    stream = stream or sys.stderr
    tty = stream.isatty()
    state = {"last": 0.0, "tenth": -1}

    def show(done, total):
        now = time.monotonic()
        if tty:
            if done == total or now - state["last"] >= every_s:
                state["last"] = now
                end = "\n" if done == total else ""
                print(f"\r{label}: {done}/{total}", end=end, file=stream, flush=True)
        else:
            tenth = done * 10 // total
            if tenth != state["tenth"]:
                state["tenth"] = tenth
                print(f"{label}: {done}/{total}", file=stream, flush=True)
    return show


if __name__ == "__main__" and sys.argv[1:] == ["--helper"]:
    _helper_main()
