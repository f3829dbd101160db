"""Durable recording: the journal is the record, the run file is built from it.

Run-file readable during acquisition, sealed and verified at the end, rebuilt
by ``hotfire recover`` (deterministically), a full disk or an I/O error
handled without a crash and without harming what was written, a failing or
slow HDF5 never costing journal data. The counter pattern source tells every
stored row from a fabricated or misplaced one.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import h5py
import numpy as np
import pytest

from hotfire.core.runfile.reader import open_run
from hotfire.cli import main
from hotfire.daq import journal as journal_mod
from hotfire.daq.acquisition import Acquisition
from hotfire.daq.journal import read_journal, stream_rows
from hotfire.daq.recorder import Recorder
from hotfire.core.rig import parse_rig
from hotfire.daq.runbuild import RunBuilder
from hotfire.daq.sources import open_source
from hotfire.daq.sources.pattern import check_pattern, synthetic_rig_text

CI = bool(os.environ.get("HOTFIRE_CI") or os.environ.get("CI"))


def fast_rig(rate=100_000, nch=8):
    """~1.6 MB/s per stream of int16 plus a slow float64 stream."""
    return parse_rig(synthetic_rig_text({"fast": (rate, nch, "int16"), "slow": (200, 3, "float64")}),
                     "<test rig>")


def run_acq(out, rig, duration, realtime=True, ring_seconds=20.0, test_id="T", **rec_opts):
    src = open_source(rig, "pattern", realtime=realtime, duration_s=duration)
    rec = Recorder(out, **rec_opts)
    acq = Acquisition(rig, src, [rec], test_id=test_id, ring_seconds=ring_seconds)
    return acq, rec


def check_file(path, expect_gapless=True):
    """Every stored row is the pattern at its sample index; return per-stream (rows, gaps)."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, g in f["streams"].items():
            raw = g["raw"][()]
            seg = g["segments"][()]
            idx = np.concatenate([np.arange(s0, s0 + n) for s0, _, n in seg]) if len(seg) else np.empty(0, int)
            assert len(idx) == len(raw) == g.attrs["committed"]
            assert check_pattern(name, raw, idx).all(), f"{name}: a stored row is not the pattern at its index"
            gaps = [(int(a + an), int(b - a - an)) for (a, _, an), (b, _, _) in zip(seg[:-1], seg[1:])]
            if expect_gapless:
                assert gaps == [] and (len(seg) == 0 or seg[0, 0] == 0), name
            out[name] = (len(raw), gaps)
    return out


def journal_gaps(jdir):
    j = read_journal(jdir)
    return j, {s: stream_rows(j, s) for s in j.streams}


# ------------------------------------------------------------------ clean run


def test_clean_run_journal_and_sealed_file_agree_and_recover_is_byte_identical(tmp_path):
    rig = fast_rig()
    acq, rec = run_acq(tmp_path, rig, 1.0, realtime=False)
    summary = acq.run()
    assert summary.error is None and rec.sealed and rec.path == tmp_path / "T.h5"
    assert not (tmp_path / "T.h5.live").exists()
    counts = check_file(rec.path)
    j, rows = journal_gaps(tmp_path / "T.journal")
    assert j.damage == []
    for s, (n, _) in counts.items():
        assert rows[s].contiguous and rows[s].end_index == n == summary.samples[s]
    with h5py.File(rec.path, "r") as f:
        assert f.attrs["sealed"] == 1 and f.attrs["recovered"] == 0
        assert f.attrs["journal"] == "T.journal" and f.attrs["journal_id"] == j.journal_id
    # recovery from the same journal: same samples, marked, and byte-identical when repeated
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert main(["recover", str(tmp_path / "T.journal"), "-o", str(a)]) == 0
    shutil.copy(a, b)
    assert main(["recover", str(tmp_path / "T.journal"), "-o", str(a)]) == 0
    assert a.read_bytes() == b.read_bytes()
    with h5py.File(a, "r") as fa, h5py.File(rec.path, "r") as fl:
        assert fa.attrs["recovered"] == 1 and json.loads(fa.attrs["recovery"])["closed"] is True
        for s in fl["streams"]:
            assert np.array_equal(fa[f"streams/{s}/raw"][()], fl[f"streams/{s}/raw"][()])
            assert np.array_equal(fa[f"streams/{s}/segments"][()], fl[f"streams/{s}/segments"][()])
        assert np.array_equal(fa["events"][()], fl["events"][()])
    # a run file that recovery did not make is not replaced without --force
    assert main(["recover", str(tmp_path / "T.journal")]) == 1


def test_test_id_already_recorded_is_refused(tmp_path):
    rig = fast_rig()
    acq, rec = run_acq(tmp_path, rig, 0.1, realtime=False)
    acq.run()
    acq2, _ = run_acq(tmp_path, rig, 0.1, realtime=False)
    with pytest.raises(Exception, match="recorded already"):
        acq2.run()


# ------------------------------------------------------------- live reading


READER = r"""
import json, sys, h5py, numpy as np
from hotfire.daq.sources.pattern import check_pattern
f = h5py.File(sys.argv[1], "r", libver="latest", swmr=True)
out = {}
for name, g in f["streams"].items():
    seg = g["segments"]; raw = g["raw"]
    seg.refresh(); s = seg[()]          # the commit mark first ...
    raw.refresh()                       # ... then the rows it covers
    n = int(s[:, 2].sum()) if len(s) else 0
    rows = raw[:n]
    idx = np.concatenate([np.arange(a, a + c) for a, _, c in s]) if len(s) else np.empty(0, int)
    out[name] = [n, bool(check_pattern(name, rows, idx).all()), int(raw.shape[0])]
print(json.dumps(out))
"""


def test_run_file_is_readable_during_acquisition(tmp_path):
    rig = fast_rig()
    acq, rec = run_acq(tmp_path, rig, 4.0 if CI else 5.0, flush_interval=0.2)  # the builder may start ~2 s late
    t = threading.Thread(target=acq.run)
    t.start()
    try:
        live = tmp_path / "T.h5.live"
        deadline = time.monotonic() + 10
        # the file exists and the builder process has built records into it (it starts up to ~1 s late)
        while not (live.exists() and getattr(rec, "_builder", None) and rec._builder.built > 0) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        res = subprocess.run([sys.executable, "-c", READER, str(live)], capture_output=True, text=True,
                             env=env, timeout=60)
        assert res.returncode == 0, res.stderr
        seen = json.loads(res.stdout)
        assert t.is_alive(), "the acquisition ended before the reader looked: the test proved nothing"
    finally:
        t.join()
    assert rec.sealed
    final = check_file(rec.path)
    for name, (n, ok, _) in seen.items():
        assert ok, f"{name}: a live reader saw a row that is not the pattern"
        assert n > 0 and n < final[name][0], f"{name}: live reader saw {n} rows of {final[name][0]}"


# ------------------------------------------------------ full disk, I/O errors


class Faults:
    """Make os.writev (ENOSPC) or os.fdatasync (EIO) fail for the journal's files while set."""

    def __init__(self, monkeypatch, op, err):
        self.on = threading.Event()
        self.calls = 0
        real = getattr(os, op)

        def faulty(fd, *a):
            if self.on.is_set() and _is_journal(fd):
                self.calls += 1
                raise OSError(err, os.strerror(err))
            return real(fd, *a)
        monkeypatch.setattr(os, op, faulty)  # the journal writer calls os.<op>


def _is_journal(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}").endswith(".hfj")
    except OSError:
        return True


def check_outage(tmp_path, summary, rec, capsys):
    """What a disk outage must leave: alarm + clear, exact gaps, a verified file, an intact journal."""
    assert summary.error is None, summary.error
    assert rec.sealed, rec.messages
    err = capsys.readouterr().err
    assert "ALARM: recording to disk failed" in err and "recording resumed" in err
    counts = check_file(rec.path, expect_gapless=False)
    j, rows = journal_gaps(tmp_path / "T.journal")
    assert j.damage == [], j.damage  # a failed write left nothing behind
    with open_run(rec.path) as run:
        kinds = [e["kind"] for e in run.events]
        assert "alarm" in kinds and "note" in kinds
        alarm = next(e for e in run.events if e["kind"] == "alarm")
        assert "recording to disk failed" in alarm["message"]
        for s, st in run.streams.items():
            # the file's gaps are exactly the journal's, and each is a declared GAP (ring overrun)
            assert st.gaps == [(f, c) for f, c, _ in rows[s].gaps], s
            assert all("ring overrun while journal writes failed" in r for _, _, r in rows[s].gaps), rows[s].gaps
            gap_events = sorted(e["sample"] for e in run.events if e["kind"] == "gap" and e["stream"] == s)
            assert gap_events == [f for f, _ in st.gaps]
            assert counts[s][0] + sum(c for _, c in st.gaps) == summary.samples[s]
    return counts


@pytest.mark.parametrize("op,err", [("writev", errno.ENOSPC), ("fdatasync", errno.EIO)])
def test_injected_disk_fault_alarms_holds_the_batch_and_resumes(tmp_path, monkeypatch, capsys, op, err):
    # writev: nothing can be written, the batch is held, the ring overruns into
    # an exact gap. fdatasync: writes go through but are not durable: one
    # alarm, no gap, and "resumed" only once a sync succeeds again.
    faults = Faults(monkeypatch, op, err)
    rig = fast_rig()
    # a 0.3 s ring and a 0.9 s outage: the ring must overrun, so the gap is exercised too
    acq, rec = run_acq(tmp_path, rig, 2.2, ring_seconds=0.3, retry_interval=0.05)
    threading.Timer(0.5, faults.on.set).start()
    threading.Timer(1.4, faults.on.clear).start()
    summary = acq.run()
    assert faults.calls > 1
    counts = check_outage(tmp_path, summary, rec, capsys)
    with open_run(rec.path) as run:
        kinds = [e["kind"] for e in run.events]
        assert kinds.count("alarm") == 1 and kinds.count("note") == 1, kinds
    if op == "writev":
        assert any(g for _, g in counts.values()), "the outage outlasted the ring: there must be a gap"


def _mount_tmpfs(path, size):
    path.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True,
                       capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the injected-ENOSPC test covers the logic")


@pytest.mark.parametrize("reserve", [8 << 20, 0])
def test_real_full_file_system(tmp_path, capsys, reserve):
    # reserve 8 MiB: the run file pauses while space is short, so the journal
    # is what hits ENOSPC. reserve 0: either may fail first; the run file
    # that fails is dropped and rebuilt from the journal. Same result.
    fs = tmp_path / "fs"
    _mount_tmpfs(fs, "24m")
    try:
        out = fs / "runs"
        out.mkdir()
        rig = fast_rig()
        # 6 s: the builder process may start ~2 s late on a loaded machine; the disk fills after that
        acq, rec = run_acq(out, rig, 6.0, ring_seconds=0.3, retry_interval=0.05, hdf5_retry_interval=0.3,
                           hdf5_reserve_bytes=reserve, check_space=False)  # filling it is the point
        t = threading.Thread(target=lambda: setattr(acq, "summary", acq.run()))
        t.start()
        # once the builder process is writing the run file, leave ~2 MiB: the run (~1.7 MB/s to the
        # journal, as much to the run file) fills it at once, and HDF5 meets ENOSPC too (reserve 0)
        deadline = time.monotonic() + 20
        while not (getattr(rec, "_builder", None) and rec._builder.built > 0) and time.monotonic() < deadline:
            time.sleep(0.01)
        ballast = fs / "ballast"
        with open(ballast, "wb") as f:
            while True:
                st = os.statvfs(fs)
                k = min(1 << 20, st.f_bavail * st.f_frsize - (2 << 20))
                if k <= 0:
                    break
                f.write(b"\xa5" * k)
                f.flush()
        deadline = time.monotonic() + 10
        while not any(e.kind == "alarm" for e in acq.events) and time.monotonic() < deadline:
            time.sleep(0.02)
        alarmed = any(e.kind == "alarm" for e in acq.events)
        time.sleep(0.6)  # full for longer than the ring holds
        os.unlink(ballast)
        t.join()
        assert alarmed, "the file system never filled up"
        print(f"\nbuilder processes {rec._builder.attempts}, deaths: {rec._builder.deaths}")
        if reserve:
            check_outage(out, acq.summary, rec, capsys)
        else:
            assert acq.summary.error is None and rec.sealed, rec.messages
            counts = check_file(rec.path, expect_gapless=False)
            j, rows = journal_gaps(out / "T.journal")
            assert j.damage == []
            for s, (n, gaps) in counts.items():
                assert gaps == [(f, c) for f, c, _ in rows[s].gaps]
                assert n + sum(c for _, c in gaps) == acq.summary.samples[s]
    finally:
        subprocess.run(["umount", "-l", str(fs)], capture_output=True)


# --------------------------------------------- a failing or slow run file


def test_run_file_failure_costs_no_journal_data_and_is_rebuilt(tmp_path, monkeypatch, capsys):
    # the builder process's 2nd flush fails (an HDF5 error), and every builder is slow: the journal
    # must wait for neither
    monkeypatch.setenv("HOTFIRE_BUILDER_FAULT", "flush:2,slow:0.002")
    rig = fast_rig()
    acq, rec = run_acq(tmp_path, rig, 1.5, flush_interval=0.2, hdf5_retry_interval=0.2)
    summary = acq.run()
    assert summary.error is None and rec.sealed
    assert "writing the run file failed: OSError: [Errno 5] injected HDF5 write failure" in capsys.readouterr().err
    assert rec._builder.attempts == 2
    counts = check_file(rec.path)
    for s, (n, _) in counts.items():
        assert n == summary.samples[s]
    with open_run(rec.path) as run:
        assert [e["kind"] for e in run.events].count("alarm") == 1


def test_a_lagging_builder_reads_from_pages_the_journal_keeps_cached(tmp_path, monkeypatch):
    """The journal drops synced pages from the page cache, except from the first record the builder
    process has not built yet: while the builder lags, that mark trails the journal's end."""
    import hotfire.daq.recorder as recorder_mod

    monkeypatch.setenv("HOTFIRE_BUILDER_FAULT", "slow:0.003")
    lag = []
    real_keep = recorder_mod.Recorder._keep_cached

    def spy(self, loc):
        real_keep(self, loc)
        last = self._locs[-1] if self._locs else None
        if loc is not None and last is not None and loc[0] == last[1]:
            lag.append(last[3] - loc[1])  # bytes between the kept mark and the journal's end
    monkeypatch.setattr(recorder_mod.Recorder, "_keep_cached", spy)
    acq, rec = run_acq(tmp_path, fast_rig(), 1.0, realtime=False, batch_bytes=64 << 10, flush_interval=0.2)
    summary = acq.run()
    assert summary.error is None and rec.sealed
    assert lag and max(lag) > 1 << 20, "the slow builder should have lagged by more than 1 MiB"
    assert min(lag) >= 0
    check_file(rec.path)


# ------------------------------------------------ recovery of damaged journals


@pytest.fixture(scope="module")
def crashed_journal(tmp_path_factory):
    """A journal of several segments with no end record, as a crash leaves it."""
    d = tmp_path_factory.mktemp("crash")
    rig = fast_rig(rate=50_000, nch=4)
    acq, rec = run_acq(d, rig, 2.0, realtime=False, segment_bytes=1 << 20, batch_bytes=64 << 10)
    acq.run()
    jdir = d / "T.journal"
    # drop the end-of-run META: the last segment is cut after its last DATA record
    j = read_journal(jdir)
    last_data = [r for r in j if isinstance(r, journal_mod.DataRecord)][-1]
    seg = jdir / last_data.segment
    with open(seg, "r+b") as f:
        f.truncate(last_data.offset + 64 + last_data.rows.nbytes)
    for later in sorted(jdir.glob("journal-*.hfj")):
        if later.name > last_data.segment:
            later.unlink()
    return jdir


def _damage(src, dst, how):
    shutil.copytree(src, dst)
    segs = sorted(dst.glob("journal-*.hfj"))
    last = segs[-1]
    size = last.stat().st_size
    j = read_journal(dst)
    recs = [r for r in j if r.segment == last.name]
    off = recs[-1].offset  # the last record of the last segment
    with open(last, "r+b") as f:
        if how == "cut-in-header":
            f.truncate(off + 20)
        elif how == "cut-in-payload":
            f.truncate(size - 7)
        elif how == "zero-tail":
            f.seek(off)
            f.write(b"\0" * (size - off))
        elif how == "garbage-after":
            f.seek(size)
            f.write(os.urandom(999))
        elif how == "bitflip-payload":
            f.seek(size - 100)
            b = f.read(1)
            f.seek(size - 100)
            f.write(bytes([b[0] ^ 0x10]))
        elif how == "bitflip-header":
            f.seek(off + 33)
            b = f.read(1)
            f.seek(off + 33)
            f.write(bytes([b[0] ^ 0x01]))
        elif how == "middle-segment":
            pass
    if how == "middle-segment":  # a torn tail in an earlier segment: later segments still count
        mid = segs[len(segs) // 2]
        with open(mid, "r+b") as f:
            f.truncate(mid.stat().st_size - 5)
    return dst


@pytest.mark.parametrize("how", ["cut-in-header", "cut-in-payload", "zero-tail", "garbage-after",
                                 "bitflip-payload", "bitflip-header", "middle-segment"])
def test_recover_damaged_journal_returns_exactly_the_valid_records(crashed_journal, tmp_path, capsys, how):
    jdir = _damage(crashed_journal, tmp_path / "T.journal", how)
    j, rows = journal_gaps(jdir)
    assert j.damage, "the damage was not detected"
    assert main(["recover", str(jdir)]) == 0
    out = capsys.readouterr().out
    assert "no end-of-run record" in out and "damage:" in out
    d0 = j.damage[0]
    assert f"{d0.segment} at byte {d0.offset}: {d0.reason}" in out
    path = tmp_path / "T.h5"
    check_file(path, expect_gapless=False)
    with h5py.File(path, "r") as f:
        rep = json.loads(f.attrs["recovery"])
        assert f.attrs["recovered"] == 1
        assert [tuple(d) for d in rep["damage"]] == [(d.segment, d.offset, d.reason) for d in j.damage]
        for s, sr in rows.items():
            # exactly the rows of the valid records: same indices, same bits
            seg = f[f"streams/{s}/segments"][()]
            idx = np.concatenate([np.arange(a, a + n) for a, _, n in seg])
            assert np.array_equal(idx, sr.index), s
            assert f[f"streams/{s}/raw"][()].tobytes() == sr.rows.tobytes(), s
    # readable by the tools, and recovering again gives the same bytes
    assert main(["info", str(path)]) == 0
    first = path.read_bytes()
    assert main(["recover", str(jdir)]) == 0
    assert path.read_bytes() == first


# ------------------------------------------- the builder process dies or hangs


@pytest.mark.parametrize("how", ["sigkill", "segfault", "hang"])
def test_a_builder_that_dies_or_hangs_costs_the_acquisition_nothing(tmp_path, monkeypatch, capsys, how):
    # HDF5 runs in the builder process: killed from outside, crashing inside (SIGSEGV, as h5py
    # did after ENOSPC) or hung, it is replaced, the run file rebuilt from the journal, every sample kept.
    if how != "sigkill":
        monkeypatch.setenv("HOTFIRE_BUILDER_FAULT", "crash:20" if how == "segfault" else "hang:20")
    acq, rec = run_acq(tmp_path, fast_rig(), 3.0, flush_interval=0.2, hdf5_retry_interval=0.2,
                       builder_timeout=1.5)
    t = threading.Thread(target=lambda: setattr(acq, "summary", acq.run()))
    t.start()
    if how == "sigkill":
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (getattr(rec, "_builder", None) and rec._builder.built > 5):
            time.sleep(0.01)
        pid = rec.builder_pid
        assert pid is not None and t.is_alive(), "the builder should be building while the acquisition runs"
        os.kill(pid, signal.SIGKILL)
    t.join()
    summary = acq.summary
    assert summary.error is None and rec.sealed, rec.messages
    assert sum(summary.gaps.values()) == 0
    counts = check_file(rec.path)  # gapless, and every row the pattern at its index
    for s, (n, _) in counts.items():
        assert n == summary.samples[s] > 0
    assert rec._builder.attempts >= 2
    expect = {"sigkill": "killed by signal SIGKILL", "segfault": "killed by signal SIGSEGV (Fatal Python error: "
              "Segmentation fault", "hang": "no sign of life for 1.5 s: killed"}[how]
    with open_run(rec.path) as run:
        alarms = [e["message"] for e in run.events if e["kind"] == "alarm"]
        assert len(alarms) == 1 and f"run-file builder died: {expect}" in alarms[0], alarms
    assert f"ALARM: run-file builder died: {expect}" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.live")) and not list(tmp_path.glob("*.tmp"))


# ------------------------------------------------ a disk full to the end of the run


def test_a_disk_full_to_the_end_is_recorded_as_gaps_and_recover_reports_them(tmp_path, monkeypatch, capsys):
    # The journal's writes fail (ENOSPC) from 0.5 s to the end; only deleting the recorder's space
    # reserve frees room, for the end of the run: what was never written must be gaps, in the sealed
    # file, in the journal and in what `hotfire recover` reports (it said "gaps none").
    reserve = tmp_path / "T.journal" / "space-reserve"
    on = threading.Event()
    real = os.writev

    def full(fd, *a):
        if on.is_set() and reserve.exists() and _is_journal(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, *a)
    monkeypatch.setattr(os, "writev", full)  # the journal writer calls os.writev
    acq, rec = run_acq(tmp_path, fast_rig(), 1.5, ring_seconds=0.3, retry_interval=0.05, close_timeout=0.5)
    threading.Timer(0.5, on.set).start()
    summary = acq.run()
    assert on.is_set() and not reserve.exists()
    assert summary.error is None and rec.sealed, rec.messages
    assert "giving up after 0.5 s" in capsys.readouterr().err
    j, rows = journal_gaps(tmp_path / "T.journal")
    never = {}
    with open_run(rec.path) as run:
        for s in summary.samples:
            declared = [(f, c) for f, c, r in rows[s].gaps if r.startswith("never written")]
            assert declared, s
            never[s] = sum(c for _, c in declared)
            # every acquired sample is either stored or in a declared gap
            assert len(rows[s].index) + never[s] == summary.samples[s], s
            gap_events = sorted(e["sample"] for e in run.events if e["kind"] == "gap" and e["stream"] == s)
            assert gap_events == sorted(f for f, _ in declared), s
    assert main(["recover", str(tmp_path / "T.journal"), "-o", str(tmp_path / "R.h5")]) == 0
    out = capsys.readouterr().out
    assert "closed normally" in out and f"{sum(never.values()):,} samples acquired were never recorded" in out
    assert "never written: journal writes failed until the end" in out
    with h5py.File(tmp_path / "R.h5", "r") as f:
        rep = json.loads(f.attrs["recovery"])
        for s, n in never.items():
            assert sum(c for _, c, _ in rep["streams"][s]["gaps"]) == n, s
    with open_run(tmp_path / "R.h5") as run:
        assert sum(e["kind"] == "gap" for e in run.events) == sum(len(rep["streams"][s]["gaps"]) for s in never)
    # `hotfire info` shows the tail never written as a gap of each stream, as recover does
    assert main(["info", str(rec.path)]) == 0
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines() if ln.strip()}
    for s, n in never.items():
        assert lines[s].endswith(f"({n} samples)"), lines[s]


def test_recover_reports_a_tail_never_written_even_without_gap_records(tmp_path, capsys):
    # only the end-of-run record's count of samples acquired tells of the missing tail
    from hotfire.daq.journal import JournalWriter
    rig = fast_rig()
    src = open_source(rig, "pattern", duration_s=0.1)
    acq = Acquisition(rig, src, [], test_id="T")
    from hotfire.daq.runbuild import run_metadata
    jdir = tmp_path / "T.journal"
    with JournalWriter(jdir, run_metadata(acq), rig.text) as w:
        w.append("slow", 0, np.zeros((100, 3)))
        w.meta({"end_time_utc": "2026-01-01T00:00:00+00:00", "acquired_samples": {"slow": 150, "fast": 0}})
    assert main(["recover", str(jdir)]) == 0
    out = capsys.readouterr().out
    assert "50 samples acquired were never recorded" in out and "50 at 100 (not in journal)" in out
    with open_run(tmp_path / "T.h5") as run:
        gaps = [e for e in run.events if e["kind"] == "gap"]
        assert [(e["stream"], e["sample"]) for e in gaps] == [("slow", 100)]
