"""File-system helpers that durability depends on."""
from __future__ import annotations

import os

__all__ = ["fsync_dir"]


def fsync_dir(path: str | os.PathLike) -> None:
    """fsync directory ``path``, so that a file created or renamed in it survives a power cut.

    ``fsync`` of a file makes its contents durable, not its name: the name
    lives in the directory, which needs its own ``fsync``.
    """
    fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
