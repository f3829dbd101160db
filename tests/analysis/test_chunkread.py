"""Direct chunk reads agree with h5py byte for byte, and fall back to h5py where they cannot read."""
import h5py
import numpy as np
import pytest

from hotfire.core.runfile.chunkread import _layout, read_rows


def make(path, data, **kw):
    with h5py.File(path, "w") as f:
        f.create_dataset("raw", data=data, **kw)


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    return rng.integers(-32768, 32767, size=(10_000, 8), dtype=np.int16)


RANGES = [(0, 10_000), (0, 1), (1234, 5678), (4095, 4097), (9_999, 10_000), (500, 500), (9_000, 20_000)]


@pytest.mark.parametrize("kw,direct", [
    ({"chunks": (1024, 8)}, True),  # hotfire's layout: full-width chunks, the last one partial
    ({"chunks": (1000, 8), "maxshape": (None, 8)}, True),
    ({}, True),  # contiguous
    ({"chunks": (1024, 4)}, False),  # narrower than a row
    ({"chunks": (1024, 8), "compression": "gzip"}, False),
    ({"chunks": (1024, 8), "shuffle": True}, False),
    ({"chunks": (1024, 8), "dtype": ">i2"}, False),  # big-endian on disk
])
def test_rows_are_what_h5py_reads(tmp_path, data, kw, direct):
    path = tmp_path / "r.h5"
    make(path, data, **kw)
    with h5py.File(path, "r") as f:
        ds = f["raw"]
        assert (_layout(ds) is not None) == direct
        for r0, r1 in RANGES:
            got, want = read_rows(ds, r0, r1), ds[r0:r1]
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.tobytes() == want.tobytes(), (kw, r0, r1)


def test_unwritten_chunks_are_left_to_h5py(tmp_path, data):
    path = tmp_path / "r.h5"
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("raw", shape=(10_000, 8), dtype=np.int16, chunks=(1024, 8), fillvalue=-7)
        ds[:3000] = data[:3000]
        ds[6000:] = data[6000:]  # a hole of unallocated chunks reads as the fill value
    with h5py.File(path, "r") as f:
        ds = f["raw"]
        assert _layout(ds) is None
        got = read_rows(ds, 0, 10_000)
        assert got.tobytes() == ds[()].tobytes() and (got[4096:5120] == -7).all()


def test_float_datasets_of_a_run_file(tmp_path):
    data = np.random.default_rng(2).standard_normal((3001, 5))
    make(tmp_path / "f.h5", data, chunks=(256, 5))
    with h5py.File(tmp_path / "f.h5", "r") as f:
        np.testing.assert_array_equal(read_rows(f["raw"], 100, 3001), data[100:])
