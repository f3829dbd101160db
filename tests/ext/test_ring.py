"""Ring buffer: wrap-around, cursors, gaps, zero-copy views, errors, allocation."""
import doctest
import tracemalloc

import numpy as np
import pytest

from hotfire.ext import _ring, ring as ring_module
from hotfire.ext.ring import Gap, GapError, ReadResult, Reader, Ring, View

DTYPES = [np.int16, np.int32, np.float32, np.float64]


def rows(first, n, nch=3, dtype=np.float64):
    """Rows [first, first+n): value (i * 7 + c) mod 2**15, distinct per row."""
    i = np.arange(first, first + n, dtype=np.int64)[:, None]
    return ((i * 7 + np.arange(nch)) % 2**15).astype(dtype)


@pytest.fixture
def after_copy():
    """Run a callable between a reader's copy and its re-check (simulated race)."""
    def install(fn):
        _ring._set_after_copy_hook(fn)
    yield install
    _ring._set_after_copy_hook(None)


def test_module_doctest():
    assert doctest.testmod(ring_module).failed == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_wraparound_each_dtype(dtype):
    ring = Ring(10, 3, dtype)
    r = ring.reader()
    w = 0
    for n in [3, 4, 5, 7, 10, 1, 9, 6]:   # slots cross the end in most writes
        assert ring.write(rows(w, n, dtype=dtype)) == w
        w += n
        res = r.read()
        assert isinstance(res, ReadResult)
        assert res.gap is None
        assert res.first_index == w - n
        assert res.data.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(res.data, rows(w - n, n, dtype=dtype))
    assert ring.written == w == r.position
    assert r.lost == 0 and r.gaps == [] and r.available == 0


def test_properties_and_repr():
    ring = Ring(8, 2, "int32")
    assert (ring.capacity, ring.n_channels, ring.dtype, ring.written) == (8, 2, np.dtype(np.int32), 0)
    assert ring.oldest == 0
    ring.write(rows(0, 5, 2, np.int32))
    r = ring.reader(start=1)
    assert (r.position, r.available, r.lost, r.gaps) == (1, 4, 0, [])
    assert (r.capacity, r.n_channels, r.dtype, r.written) == (8, 2, np.dtype(np.int32), 5)
    assert isinstance(r, Reader)
    assert "written=5" in repr(ring) and "position=1" in repr(r)
    ring.write(rows(5, 7, 2, np.int32))
    assert ring.oldest == 4
    assert r.available == 8   # rows 1..3 are gone; 4..11 readable


def test_several_readers_have_independent_cursors():
    ring = Ring(16, 3, np.int16)
    a, b = ring.reader(), ring.reader()
    ring.write(rows(0, 6, dtype=np.int16))
    res = a.read(max_rows=4)
    assert (res.first_index, len(res.data)) == (0, 4)
    c = ring.reader()                  # starts at the current write index
    ring.write(rows(6, 5, dtype=np.int16))
    assert (a.position, b.position, c.position) == (4, 0, 6)
    for r, first in [(a, 4), (b, 0), (c, 6)]:
        res = r.read()
        assert res.first_index == first and res.gap is None
        np.testing.assert_array_equal(res.data, rows(first, 11 - first, dtype=np.int16))
    assert a.position == b.position == c.position == 11


def test_read_max_rows_and_empty():
    ring = Ring(10, 3, np.float64)
    r = ring.reader()
    res = r.read()
    assert res.first_index == 0 and res.data.shape == (0, 3) and res.gap is None
    ring.write(rows(0, 7))
    assert len(r.read(max_rows=2).data) == 2
    assert len(r.read(max_rows=0).data) == 0
    assert r.read(max_rows=100).first_index == 2
    with pytest.raises(ValueError, match="max_rows"):
        r.read(max_rows=-1)


def test_overrun_reports_exact_gaps():
    ring = Ring(10, 3, np.float64)
    r = ring.reader()
    ring.write(rows(0, 8))
    ring.write(rows(8, 8))
    ring.write(rows(16, 9))            # written 25: rows 15..24 intact
    res = r.read()
    assert res.gap == Gap(0, 15)
    assert res.first_index == 15
    np.testing.assert_array_equal(res.data, rows(15, 10))
    assert (r.lost, r.gaps, r.position) == (15, [Gap(0, 15)], 25)
    # A second, separate overrun: read 2 rows, then fall behind again.
    ring.write(rows(25, 10))
    r.read(max_rows=2)                 # rows 25, 26
    ring.write(rows(35, 10))           # intact: 35..44
    res = r.read(max_rows=3)
    assert res.gap == Gap(27, 8) and res.first_index == 35
    np.testing.assert_array_equal(res.data, rows(35, 3))
    assert r.gaps == [Gap(0, 15), Gap(27, 8)] and r.lost == 23
    assert r.gaps[-1].stop == 35


def test_read_into_copies_into_callers_array():
    ring = Ring(10, 3, np.int32)
    r = ring.reader()
    out = np.full((6, 3), -1, np.int32)
    assert r.read_into(out) == (0, 0, None)
    ring.write(rows(0, 4, dtype=np.int32))
    first, n, gap = r.read_into(out)
    assert (first, n, gap) == (0, 4, None)
    np.testing.assert_array_equal(out[:4], rows(0, 4, dtype=np.int32))
    assert (out[4:] == -1).all()       # rows past n untouched
    ring.write(rows(4, 10, dtype=np.int32))
    ring.write(rows(14, 3, dtype=np.int32))
    first, n, gap = r.read_into(out)
    assert (first, n, gap) == (7, 6, Gap(4, 3))
    np.testing.assert_array_equal(out, rows(7, 6, dtype=np.int32))


def test_reader_start_pretrigger():
    ring = Ring(10, 3, np.float64)
    ring.write(rows(0, 8))
    r = ring.reader(start=3)           # history still in the ring
    res = r.read()
    assert res.gap is None and res.first_index == 3
    np.testing.assert_array_equal(res.data, rows(3, 5))
    ring.write(rows(8, 9))             # written 17: rows 7..16 intact
    old = ring.reader(start=2)
    res = old.read()
    assert res.gap == Gap(2, 5) and res.first_index == 7
    np.testing.assert_array_equal(res.data, rows(7, 10))
    new = ring.reader()
    assert new.position == 17 and new.read().data.shape == (0, 3)
    future = ring.reader(start=20)     # waits for the writer to get there
    ring.write(rows(17, 5))
    res = future.read()
    assert res.first_index == 20 and res.gap is None
    np.testing.assert_array_equal(res.data, rows(20, 2))
    with pytest.raises(ValueError, match="start must be >= 0"):
        ring.reader(start=-1)


def test_latest():
    ring = Ring(10, 3, np.float64)
    first, data = ring.latest(5)
    assert first == 0 and data.shape == (0, 3)
    ring.write(rows(0, 3))
    first, data = ring.latest(5)
    assert first == 0
    np.testing.assert_array_equal(data, rows(0, 3))
    ring.write(rows(3, 9))
    first, data = ring.latest(4)
    assert first == 8
    np.testing.assert_array_equal(data, rows(8, 4))
    first, data = ring.latest(100)     # at most capacity rows
    assert first == 2
    np.testing.assert_array_equal(data, rows(2, 10))
    data[:] = 0                        # a copy: the ring is unchanged
    np.testing.assert_array_equal(ring.latest(1)[1], rows(11, 1))
    with pytest.raises(ValueError):
        ring.latest(-1)


def test_copy_range_and_errors():
    ring = Ring(10, 3, np.float64)
    ring.write(rows(0, 8))
    np.testing.assert_array_equal(ring.copy_range(2, 6), rows(2, 4))
    assert ring.copy_range(3, 3).shape == (0, 3)
    ring.write(rows(8, 7))             # written 15: rows 5..14 intact
    np.testing.assert_array_equal(ring.copy_range(5, 15), rows(5, 10))
    with pytest.raises(GapError) as exc:
        ring.copy_range(2, 9)
    assert exc.value.gap == Gap(2, 3)
    assert isinstance(exc.value, LookupError)
    assert "[2, 5)" in str(exc.value)
    with pytest.raises(GapError) as exc:
        ring.copy_range(0, 13)         # longer than the ring
    assert exc.value.gap == Gap(0, 5)
    with pytest.raises(ValueError, match="not all written"):
        ring.copy_range(10, 16)
    with pytest.raises(ValueError, match="start <= stop"):
        ring.copy_range(6, 5)


def test_acquire_release_across_the_wrap():
    ring = Ring(10, 3, np.float32)
    r = ring.reader()
    ring.write(rows(0, 7, dtype=np.float32))
    r.read()
    ring.write(rows(7, 6, dtype=np.float32))   # rows 7..12 in slots 7,8,9,0,1,2
    view = r.acquire()
    assert isinstance(view, View)
    assert view.first_index == 7 and view.gap is None and view.n == 6
    assert [len(p) for p in view.parts] == [3, 3]
    np.testing.assert_array_equal(np.concatenate(view.parts), rows(7, 6, dtype=np.float32))
    assert not view.parts[0].flags.writeable
    with pytest.raises(ValueError):
        view.parts[0][0, 0] = 1
    assert r.position == 7             # not consumed until release
    with pytest.raises(RuntimeError, match="release"):
        r.acquire()
    assert r.release(view) is None
    assert r.position == 13 and r.lost == 0
    with pytest.raises(RuntimeError, match="holds no view"):
        r.release(view)
    ring.write(rows(13, 2, dtype=np.float32))
    view = r.acquire(max_rows=1)
    assert (view.first_index, view.n, len(view.parts)) == (13, 1, 1)
    with pytest.raises(ValueError, match="not the one held"):
        r.release(View(14, view.parts, None))
    assert r.release(view) is None
    empty = r.acquire(max_rows=0)
    assert empty.n == 0 and r.release(empty) is None


def test_acquire_reports_gap_before_view():
    ring = Ring(10, 3, np.float64)
    r = ring.reader()
    ring.write(rows(0, 10))
    ring.write(rows(10, 4))
    view = r.acquire()
    assert view.gap == Gap(0, 4) and view.first_index == 4 and view.n == 10
    assert r.release(view) is None
    assert r.lost == 4 and r.position == 14


def test_release_reports_rows_overwritten_while_held():
    ring = Ring(10, 3, np.float64)
    r = ring.reader()
    ring.write(rows(0, 6))
    view = r.acquire()                 # rows 0..5 held in place
    ring.write(rows(6, 7))             # overwrites the slots of rows 0, 1, 2
    gap = r.release(view)
    assert gap == Gap(0, 3)
    assert r.lost == 3 and r.gaps == [Gap(0, 3)] and r.position == 6
    np.testing.assert_array_equal(view.parts[0][3:], rows(3, 3))   # the rest intact
    res = r.read()
    assert res.gap is None and res.first_index == 6


def test_read_discards_rows_overwritten_during_the_copy(after_copy):
    ring = Ring(10, 3, np.float64)
    r = ring.reader()
    ring.write(rows(0, 10))
    # While the reader copies rows 0..9, the writer overwrites rows 0..3.
    after_copy(lambda: (after_copy(None), ring.write(rows(10, 4))))
    first, n, gap = r.read_into(out := np.zeros((10, 3)))
    assert (first, n, gap) == (4, 6, Gap(0, 4))
    np.testing.assert_array_equal(out[:6], rows(4, 6))
    assert r.position == 10 and r.lost == 4
    res = r.read()
    assert res.gap is None and res.first_index == 10
    np.testing.assert_array_equal(res.data, rows(10, 4))


def test_read_discards_everything_after_a_lap_during_the_copy(after_copy):
    ring = Ring(10, 3, np.float64)
    r = ring.reader()
    ring.write(rows(0, 10))

    def lap():
        after_copy(None)
        ring.write(rows(10, 10))
        ring.write(rows(20, 5))        # rows 15..24 intact now

    after_copy(lap)
    res = r.read()
    assert res.gap == Gap(0, 15) and res.first_index == 15 and len(res.data) == 0
    res = r.read()
    assert res.gap is None and res.first_index == 15
    np.testing.assert_array_equal(res.data, rows(15, 10))


def test_copy_range_and_latest_detect_overwrite_during_copy(after_copy):
    ring = Ring(10, 3, np.float64)
    ring.write(rows(0, 10))
    after_copy(lambda: (after_copy(None), ring.write(rows(10, 3))))
    with pytest.raises(GapError) as exc:
        ring.copy_range(0, 10)
    assert exc.value.gap == Gap(0, 3)
    # latest() retries and returns intact rows only.
    after_copy(lambda: (after_copy(None), ring.write(rows(13, 2))))
    first, data = ring.latest(10)
    assert first + len(data) <= ring.written
    np.testing.assert_array_equal(data, rows(first, len(data)))


def offset_array(shape, dtype, offset):
    """A C-contiguous array starting `offset` bytes after a 4096-byte boundary."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.zeros(nbytes + 8192, np.uint8)
    start = (-raw.ctypes.data) % 4096 + offset
    return raw[start:start + nbytes].view(dtype).reshape(shape)


@pytest.mark.parametrize("distance", [0, 1, 4, 16, 32, 63, 64, 100, 2048, 4095])
def test_copies_at_every_alignment(distance):
    # Large copies whose destination lies 1..63 bytes after the source
    # (mod 4096) take the vector path of ring_copy.h; all must be exact.
    ring = Ring(1021, 4, np.int32)
    r = ring.reader()
    base = ring._rows.ctypes.data
    for k in range(3):                     # the third write crosses the end
        slot = base + (k * 1000) % 1021 * 16
        block = offset_array((1000, 4), np.int32, (slot - distance) % 4096)
        out = offset_array((1000, 4), np.int32, (slot + distance) % 4096)
        assert (slot - block.ctypes.data) % 4096 == distance
        assert (out.ctypes.data - slot) % 4096 == distance
        block[:] = rows(k * 1000, 1000, 4, np.int32)
        ring.write(block)
        first, n, gap = r.read_into(out)
        assert (first, n, gap) == (k * 1000, 1000, None)
        np.testing.assert_array_equal(out, block)


def test_write_zero_and_full_capacity():
    ring = Ring(5, 2, np.int16)
    r = ring.reader()
    assert ring.write(np.empty((0, 2), np.int16)) == 0
    ring.write(rows(0, 3, 2, np.int16))
    assert ring.write(rows(3, 5, 2, np.int16)) == 3
    res = r.read()
    assert res.gap == Gap(0, 3)
    np.testing.assert_array_equal(res.data, rows(3, 5, 2, np.int16))


def test_constructor_errors():
    with pytest.raises(TypeError, match=r"int16, int32, float32, float64.*got uint8"):
        Ring(10, 2, np.uint8)
    with pytest.raises(TypeError, match="native byte order"):
        Ring(10, 2, ">f8")
    with pytest.raises(ValueError, match="capacity must be an integer >= 1.*got 0"):
        Ring(0, 2, np.float64)
    with pytest.raises(ValueError, match="n_channels must be an integer >= 1.*got 0"):
        Ring(4, 0, np.float64)
    with pytest.raises(ValueError, match=r"capacity must be an integer >= 1 \(rows\), got 2.5"):
        Ring(2.5, 1, np.float64)
    with pytest.raises(TypeError):
        Ring(4, 2)                     # the dtype is never implied
    assert Ring(np.int64(4), np.int32(2), "f4").capacity == 4


@pytest.mark.parametrize("bad, exc, msg", [
    (np.zeros((3, 4)), TypeError, r"block must have dtype int16, got float64"),
    (np.zeros((3, 4), np.int32), TypeError, r"block must have dtype int16, got int32"),
    (np.zeros((3, 4), ">i2"), TypeError, r"block must have dtype int16, got >i2"),
    (np.zeros((3, 5), np.int16), ValueError, r"shape \(n, 4\), got shape \(3, 5\)"),
    (np.zeros(12, np.int16), ValueError, r"shape \(n, 4\), got shape \(12,\)"),
    (np.zeros((6, 4), np.int16)[::2], ValueError, r"C-contiguous.*got strides \(16, 2\)"),
    (np.zeros((4, 3), np.int16).T, ValueError, r"C-contiguous.*got strides \(2, 6\)"),
    (np.zeros((4, 8), np.int16)[:, :4], ValueError, r"C-contiguous"),
    ([[1, 2, 3, 4]], TypeError, r"numpy array of shape \(n, 4\) and dtype int16, got list"),
    (np.zeros((9, 4), np.int16), ValueError, r"9 rows, more than the ring's capacity of 8"),
])
def test_write_errors_name_expected_and_given(bad, exc, msg):
    ring = Ring(8, 4, np.int16)
    with pytest.raises(exc, match=msg):
        ring.write(bad)
    assert ring.written == 0


def test_read_into_errors():
    ring = Ring(8, 4, np.float32)
    r = ring.reader()
    with pytest.raises(TypeError, match="out must have dtype float32, got float64"):
        r.read_into(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"out must have shape \(n, 4\), got shape \(2, 3\)"):
        r.read_into(np.zeros((2, 3), np.float32))
    ro = np.zeros((2, 4), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        r.read_into(ro)
    with pytest.raises(ValueError, match="C-contiguous"):
        r.read_into(np.zeros((4, 4), np.float32)[::2])


def test_no_allocation_per_block_in_steady_state():
    ring = Ring(4096, 16, np.float64)     # 100-row blocks wrap every 41 writes
    r = ring.reader()
    block = np.ones((100, 16))
    out = np.empty_like(block)
    write, read_into = ring.write, r.read_into

    def run(n):
        for _ in range(n):
            write(block)
            read_into(out)

    run(200)
    tracemalloc.start()
    try:
        grown, peaks = [], []
        for n in (2000, 20000):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            run(n)
            current, peak = tracemalloc.get_traced_memory()
            grown.append(current - before)
            peaks.append(peak - before)
    finally:
        tracemalloc.stop()
    assert r.lost == 0 and r.position == ring.written
    # No array, view or list per block: a block alone is 12800 bytes, and ten
    # times more blocks must not cost more memory.
    assert max(grown) < 512, grown
    assert max(peaks) < 1024, peaks


def test_a_reader_cannot_write_its_ring():
    """A reader (what subscribers get) leads to no writer and lends only read-only rows."""
    ring = Ring(8, 2, np.float64)
    ring.write(np.arange(10.0).reshape(5, 2))
    r = ring.reader(start=0)
    assert not hasattr(r, "ring")
    # nothing reachable from the reader's attributes can write a block
    for name in dir(r):
        if not name.startswith("__"):
            assert not hasattr(getattr(r, name), "write"), name
    view = r.acquire()
    part = view.parts[0]
    with pytest.raises(ValueError):
        part[0, 0] = -1.0
    with pytest.raises(ValueError):
        part.flags.writeable = True
    base = part
    while isinstance(base, np.ndarray):  # the chain of bases ends at read-only memory
        assert not base.flags.writeable
        base = base.base
    owner = base.obj if isinstance(base, memoryview) else base
    with pytest.raises((BufferError, TypeError, ValueError)):
        np.frombuffer(owner, np.uint8)[0] = 1
    with pytest.raises(TypeError):
        memoryview(owner)[0] = 1
    assert r.release(view) is None
    np.testing.assert_array_equal(ring.copy_range(0, 5), np.arange(10.0).reshape(5, 2))  # unchanged
