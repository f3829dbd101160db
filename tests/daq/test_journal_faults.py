"""Journal: injected write and sync faults (a full disk, EIO from fdatasync, a failed truncate)."""
from __future__ import annotations

import errno
import os
import time

import numpy as np
import pytest

from hotfire.daq import journal as J
from hotfire.daq.journal import (
    JournalWriteError,
    JournalWriter,
    read_journal,
    segment_name,
    stream_rows,
)
from journaldata import META, RIG, block, segments  # noqa: E402


# ---------------------------------------------------------- injected faults


class Faults:
    """Make os.writev / os.write / os.ftruncate / os.fdatasync fail on demand."""

    def __init__(self, monkeypatch):
        self.real_writev, self.real_write = os.writev, os.write
        self.real_ftruncate, self.real_fdatasync = os.ftruncate, os.fdatasync
        self.partial = None          # bytes of the next writev that reach the disk
        self.write_errno = None      # errno for writev/write
        self.truncate_errno = None
        self.sync_errno = None
        monkeypatch.setattr(os, "writev", self.writev)
        monkeypatch.setattr(os, "write", self.write)
        monkeypatch.setattr(os, "ftruncate", self.ftruncate)
        monkeypatch.setattr(os, "fdatasync", self.fdatasync)

    def writev(self, fd, bufs):
        if self.write_errno is None:
            return self.real_writev(fd, bufs)
        if self.partial:
            data = b"".join(bytes(b) for b in bufs)[: self.partial]
            self.partial = None
            return self.real_write(fd, data)  # the kernel wrote what fitted
        raise OSError(self.write_errno, os.strerror(self.write_errno))

    def write(self, fd, data):
        if self.write_errno is None:
            return self.real_write(fd, data)
        raise OSError(self.write_errno, os.strerror(self.write_errno))

    def ftruncate(self, fd, n):
        if self.truncate_errno is not None:
            raise OSError(self.truncate_errno, os.strerror(self.truncate_errno))
        return self.real_ftruncate(fd, n)

    def fdatasync(self, fd):
        if self.sync_errno is not None:
            raise OSError(self.sync_errno, os.strerror(self.sync_errno))
        return self.real_fdatasync(fd)

    def clear(self):
        self.partial = self.write_errno = self.truncate_errno = self.sync_errno = None


@pytest.mark.parametrize("partial", [None, 10, 64, 70, 120])
def test_enospc_on_write_keeps_disk_clean_and_writer_usable(tmp_path, monkeypatch, partial):
    d = tmp_path / "r"
    w = JournalWriter(d, META, RIG, sync_interval=None)
    rows = [block("counts", i * 8, 8) for i in range(4)]
    w.append("counts", 0, rows[0])
    w.append("counts", 8, rows[1])
    good_end = os.path.getsize(w.path)
    f = Faults(monkeypatch)
    f.write_errno, f.partial = errno.ENOSPC, partial
    with pytest.raises(JournalWriteError) as ei:
        w.append("counts", 16, rows[2])
    e = ei.value
    assert isinstance(e, OSError) and e.errno == errno.ENOSPC and e.operation == "write"
    assert e.filename == w.path and e.offset == good_end
    assert f"at offset {good_end}" in str(e) and "ENOSPC" in str(e) and segment_name(1) in str(e)
    assert os.path.getsize(w.path) == good_end  # the partial record was cut off
    j = read_journal(d)
    assert j.damage == [] and [r.first_index for r in j] == [0, 8]
    # still failing: still clean
    with pytest.raises(JournalWriteError):
        w.append("counts", 16, rows[2])
    f.clear()  # space came back
    w.append("counts", 16, rows[2])
    w.append("counts", 24, rows[3])
    w.close()
    j = read_journal(d)
    assert j.damage == []
    sr = stream_rows(j, "counts")
    assert sr.contiguous and np.array_equal(sr.rows, np.concatenate(rows))


def test_torn_tail_left_when_truncate_fails_too(tmp_path, monkeypatch):
    d = tmp_path / "r"
    w = JournalWriter(d, META, RIG, sync_interval=None)
    w.append("counts", 0, block("counts", 0, 8))
    good_end = os.path.getsize(w.path)
    f = Faults(monkeypatch)
    f.write_errno, f.partial, f.truncate_errno = errno.EIO, 100, errno.EIO
    with pytest.raises(JournalWriteError, match="EIO"):
        w.append("counts", 8, block("counts", 8, 8))
    assert os.path.getsize(w.path) == good_end + 100  # torn record stays
    f.clear()
    w.append("counts", 8, block("counts", 8, 8))  # goes to a new segment
    w.close()
    j = read_journal(d)
    assert [(x.segment, x.offset) for x in j.damage] == [(segment_name(1), good_end)]
    assert "short payload" in j.damage[0].reason
    sr = stream_rows(j, "counts")
    assert sr.contiguous and np.array_equal(sr.rows, np.concatenate([block("counts", 0, 8), block("counts", 8, 8)]))


def test_writeback_and_page_cache_drops_follow_what_is_synced(tmp_path, monkeypatch):
    """Writeback starts on whole pages as records are written; only synced bytes leave the page
    cache, and none from ``keep_cached_from`` on; a failed sync drops nothing."""
    starts, drops = [], []
    monkeypatch.setattr(J.fsio, "start_writeback", lambda fd, off, n: starts.append((off, n)))
    monkeypatch.setattr(J.fsio, "FADV_DONTNEED", os.POSIX_FADV_DONTNEED)
    real_fadvise = os.posix_fadvise

    def fadvise(fd, off, n, advice):
        drops.append((os.readlink(f"/proc/self/fd/{fd}"), off, n))
        return real_fadvise(fd, off, n, advice)

    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    w = JournalWriter(tmp_path / "r", META, RIG, sync_interval=None)
    big = np.zeros((200_000, 3), np.int16)  # 1.2 MB: past the writeback threshold
    w.append("fast", 0, big)
    end1 = w.last_record.offset + w.last_record.size
    assert starts == [(0, end1 & ~4095)]
    assert drops == []  # nothing is synced yet
    w.sync()
    assert drops == [(w.path, 0, end1)]
    # A reader still needs the third record: it is synced but stays cached.
    w.append("fast", 200_000, big)
    w.append("fast", 400_000, big)
    third = w.last_record
    end3 = third.offset + third.size
    assert starts[-1][0] + starts[-1][1] == end3 & ~4095
    assert all(a[0] + a[1] == b[0] for a, b in zip(starts, starts[1:]))  # contiguous, never twice
    w.keep_cached_from = (third.path, third.offset)
    w.sync()
    assert drops[-1] == (w.path, end1, third.offset - end1)
    w.keep_cached_from = None
    f = Faults(monkeypatch)
    f.sync_errno = errno.EIO
    w.append("fast", 600_000, big)
    with pytest.raises(JournalWriteError):
        w.sync()
    n = len(drops)
    f.clear()
    w.sync()
    assert len(drops) == n + 1 and drops[-1][1] == third.offset
    assert drops[-1][1] + drops[-1][2] == w.last_record.offset + w.last_record.size
    w.close()
    assert stream_rows(tmp_path / "r", "fast").rows.shape == (800_000, 3)


def test_eio_on_fdatasync(tmp_path, monkeypatch):
    w = JournalWriter(tmp_path / "r", META, RIG, sync_interval=None)
    w.append("fast", 0, block("fast", 0, 4))
    w.sync()
    w.append("fast", 4, block("fast", 4, 4))
    f = Faults(monkeypatch)
    f.sync_errno = errno.EIO
    with pytest.raises(JournalWriteError) as ei:
        w.sync()
    assert ei.value.errno == errno.EIO and ei.value.operation == "fdatasync"
    assert "fdatasync failed" in str(ei.value)
    assert w.synced_through == {"fast": 4}  # not advanced
    f.clear()
    assert w.sync() == {"fast": 8}
    w.close()


def test_background_sync_failure_is_reported_before_the_next_write(tmp_path, monkeypatch):
    w = JournalWriter(tmp_path / "r", META, RIG, sync_interval=0.02)
    f = Faults(monkeypatch)
    f.sync_errno = errno.EIO
    w.append("fast", 0, block("fast", 0, 4))
    time.sleep(0.15)  # the sync thread tries and fails
    seq = w.sequence
    with pytest.raises(JournalWriteError, match="fdatasync"):
        w.append("fast", 4, block("fast", 4, 4))
    assert w.sequence == seq  # raised before writing: the record is not in the journal
    assert w.synced_through == {}
    f.clear()
    w.append("fast", 4, block("fast", 4, 4))
    w.close()
    assert w.synced_through == {"fast": 8}
    assert stream_rows(tmp_path / "r", "fast").contiguous


def test_enospc_when_creating_a_segment(tmp_path, monkeypatch):
    d = tmp_path / "r"
    w = JournalWriter(d, META, RIG, sync_interval=None, segment_bytes=4096)
    i = 0
    while len(segments(d)) == 1 and os.path.getsize(w.path) < 4096 - 200:
        w.append("counts", i, block("counts", i, 4))
        i += 4
    f = Faults(monkeypatch)
    f.write_errno = errno.ENOSPC
    with pytest.raises(JournalWriteError) as ei:
        for _ in range(20):  # until the rotation
            w.append("counts", i, block("counts", i, 100))
            i += 100
    assert ei.value.operation in ("create", "write")
    assert sorted(os.listdir(d)) == [segment_name(1), J.HEADER_COPY]  # no half-made segment or temp file
    f.clear()
    w.append("counts", i, block("counts", i, 100))
    w.close()
    j = read_journal(d)
    assert j.damage == [] and len(j.segments) == 2
    assert stream_rows(j, "counts").contiguous
