"""``hotfire acquire`` with a power-cut recorder around fdatasync/fsync/rename (child of crash_campaign.py).

argv: the sync log path, then hotfire's arguments. Every sync that returns
appends ``{"file": path, "size": bytes}`` (or ``{"dir": path, "names": [...]}``)
to the log, written but never synced itself: the page cache keeps it across
the SIGKILL that ends this process, as the disk would keep what was synced
across a power cut. A rename moves a file's synced size to its new name.
"""
from __future__ import annotations

import json
import os
import stat
import sys

LOG = open(sys.argv[1], "a", buffering=1)
_fdatasync, _fsync, _rename, _replace = os.fdatasync, os.fsync, os.rename, os.replace


def _synced(fd, real):
    path = os.readlink(f"/proc/self/fd/{fd}")
    st = os.fstat(fd)
    names = sorted(os.listdir(path)) if stat.S_ISDIR(st.st_mode) else None
    real(fd)  # what was there when the sync started is durable once it returns
    LOG.write(json.dumps({"dir": path, "names": names} if names is not None else {"file": path, "size": st.st_size})
              + "\n")


def _moved(real):
    def move(src, dst, *a, **k):
        real(src, dst, *a, **k)
        LOG.write(json.dumps({"rename": os.path.abspath(src), "to": os.path.abspath(dst)}) + "\n")
    return move


os.fdatasync = lambda fd: _synced(fd, _fdatasync)
os.fsync = lambda fd: _synced(fd, _fsync)
os.rename, os.replace = _moved(_rename), _moved(_replace)

from hotfire.cli import main  # noqa: E402

sys.exit(main(sys.argv[2:]))
