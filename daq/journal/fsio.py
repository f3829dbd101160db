"""Operating-system helpers of the journal writer: directory fsync, full writes,
early writeback and page-cache drops (each an optimisation where the system has it)."""
from __future__ import annotations

import ctypes
import errno as _errno
import os
import sys

from hotfire.core.fsutil import fsync_dir  # noqa: F401  (the one directory fsync)

#: drop synced journal pages from the page cache (Linux, most Unixes); None where unsupported
FADV_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", None) if hasattr(os, "posix_fadvise") else None


def sync_file_range_fn():
    """Linux ``sync_file_range(fd, offset, nbytes, SYNC_FILE_RANGE_WRITE)`` (start writeback, do not
    wait), or None elsewhere. Python has no binding; ctypes releases the GIL during the call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return lambda fd, offset, nbytes: fn(fd, offset, nbytes, 2)  # 2: SYNC_FILE_RANGE_WRITE


start_writeback = sync_file_range_fn()
#: start writing back once this many bytes of whole pages are written and not yet started
WRITEBACK_BYTES = 1 << 20
PAGE = 4096


def write_fd_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``; ENOSPC if the file system stops taking bytes."""
    mv = memoryview(data)
    while len(mv):
        k = os.write(fd, mv)
        if k <= 0:
            raise OSError(_errno.ENOSPC, os.strerror(_errno.ENOSPC))
        mv = mv[k:]


def write_file(path: str, data: bytes) -> None:
    """Create ``path`` holding ``data``, synced (temporary name, ``fsync``, rename; the caller syncs the directory)."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        write_fd_all(fd, data)
        os.fsync(fd)
        os.rename(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        os.close(fd)
