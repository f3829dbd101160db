"""Keep freed memory in the process, for the analysis's many large temporaries.

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

import ctypes
import ctypes.util
import threading

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
