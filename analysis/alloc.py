"""Process settings that make analyses faster, for the commands to apply.

:func:`tuned_for_analysis` is what ``hotfire analyze``, ``demo``, ``compare``
and ``catalog`` wrap their work in; library calls (``analyze_run``) change
no process-wide state themselves, so a script or an application that embeds
hotfire keeps its own settings unless it asks for these.

Keep freed memory in the process, for the analysis's many large temporaries.

An analysis of a long run makes hundreds of arrays of a few MB (a channel
converted, smoothed, masked...). With glibc's default settings, freed memory
at the top of the heap is handed back to the kernel as soon as a few MB are
free, and the next array of that size faults every page in again. Page
faults are slow on virtual machines (which may also hand freed memory back
to the host): on the 2-core VM these analyses were measured on, filling a
fresh 4.8 MB array took 2 ms, a reused one 0.27 ms, and the analysis of
bench_analysis's 60 s run took 4600 page faults and 60-240 ms of system
time; with this, 800 faults (as many as reading the file) and ~50 ms.

:func:`keep_freed_memory` asks glibc (``mallopt``) to keep what it frees:
blocks up to 32 MiB come from the heap, which is never trimmed. The process
keeps its peak heap size; nothing else changes. Elsewhere than glibc, it
does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterator

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc malloc.h
_done = threading.Event()


def keep_freed_memory() -> bool:
    """Tune glibc's malloc once per process (see the module doc); True if it took effect."""
    if _done.is_set():
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 and mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
    if ok:
        _done.set()
    return ok


_switch_lock = threading.Lock()
_switch_users = [0, 0.005]  # blocks inside short_gil_switches, the interval to restore


@contextlib.contextmanager
def short_gil_switches(interval: float = 2e-4) -> Iterator[None]:
    """Hand the GIL over every ``interval`` s inside the block (Python's default is 5 ms).

    The stability thread makes many short GIL-free calls (one per batch of
    FFT segments); each must take the GIL back from the main thread, which
    runs Python code, and with the default interval each waited up to 5 ms:
    the analysis of a 60 s run took ~25 % longer (bench_analysis). Nested
    and concurrent blocks share the setting; the last one out restores it.
    """
    with _switch_lock:
        if _switch_users[0] == 0:
            _switch_users[1] = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, _switch_users[1]))
        _switch_users[0] += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users[0] -= 1
            if _switch_users[0] == 0:
                sys.setswitchinterval(_switch_users[1])


@contextlib.contextmanager
def tuned_for_analysis() -> Iterator[None]:
    """A command's analyses: freed memory kept (for the rest of the process) and short GIL switches
    (for the block)."""
    keep_freed_memory()
    with short_gil_switches():
        yield
