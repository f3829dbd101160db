"""The analysis kernels (ext/_signal.pyx) against plain numpy."""
import numpy as np
import pytest

from hotfire.ext import _signal


def reference_moving_average(x, k):
    h = k // 2
    full = np.convolve(x, np.ones(k) / k, mode="valid")
    return np.concatenate((np.full(h, full[0]), full, np.full(h, full[-1])))


@pytest.mark.parametrize("n,k", [(10, 1), (10, 3), (1000, 101), (200_001, 1001), (70_000, 3)])
def test_moving_average_matches_a_convolution(n, k):
    rng = np.random.default_rng(n + k)
    x = 7e6 + 1e5 * rng.standard_normal(n)  # a chamber pressure in Pa: large mean, small fluctuation
    got = _signal.moving_average(x, k)
    assert got.dtype == np.float64 and got.shape == x.shape
    np.testing.assert_allclose(got, reference_moving_average(x, k), rtol=0, atol=1e-6)


def test_moving_average_of_a_short_record_is_its_mean():
    x = np.array([1.0, 2.0, 6.0])
    np.testing.assert_array_equal(_signal.moving_average(x, 5), np.full(3, 3.0))
    assert len(_signal.moving_average(np.empty(0), 3)) == 0


@pytest.mark.parametrize("k", [0, 2, -1])
def test_moving_average_rejects_an_even_or_empty_window(k):
    with pytest.raises(ValueError, match="odd"):
        _signal.moving_average(np.ones(10), k)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("cols,w", [(1, 1000), (8, 2000), (8, 7), (3, 50), (64, 10), (100, 33), (7, 1)])
def test_window_extremes_match_numpy(dtype, cols, w):
    rng = np.random.default_rng(cols * 1000 + w)
    n = 25 * w + w // 2  # a partial last window, left out
    raw = (rng.standard_normal((n, cols)) * 3000).astype(dtype)
    raw[5 % n, 0] = np.iinfo(dtype).min if np.issubdtype(dtype, np.integer) else -1e30  # extremes anywhere
    raw[n - w // 2 - 1, -1] = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 1e30
    lo, hi = _signal.window_extremes(raw, w)
    m = n // w
    blocks = raw[: m * w].reshape(m, w, cols)
    assert lo.dtype == raw.dtype and lo.shape == (m, cols)
    np.testing.assert_array_equal(lo, blocks.min(axis=1))
    np.testing.assert_array_equal(hi, blocks.max(axis=1))


def test_window_extremes_rejects_what_it_cannot_scan():
    with pytest.raises(ValueError, match="C-contiguous"):
        _signal.window_extremes(np.zeros((10, 4), np.int16)[:, ::2], 2)
    with pytest.raises(TypeError, match="int16, int32, float32 or float64"):
        _signal.window_extremes(np.zeros((10, 4), np.int64), 2)
    with pytest.raises(ValueError, match="w must be"):
        _signal.window_extremes(np.zeros((10, 4), np.int16), 0)
    lo, hi = _signal.window_extremes(np.zeros((3, 4), np.int16), 10)
    assert lo.shape == (0, 4)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64])
def test_take_columns_copies_the_chosen_columns(dtype):
    raw = np.arange(1000 * 64).reshape(1000, 64).astype(dtype)
    cols = [5, 0, 63, 5]
    got = _signal.take_columns(raw, cols)
    assert got.shape == (4, 1000) and got.flags.c_contiguous and got.dtype == raw.dtype
    np.testing.assert_array_equal(got, raw[:, cols].T)
    assert _signal.take_columns(raw, []).shape == (0, 1000)
    with pytest.raises(IndexError, match="out of range"):
        _signal.take_columns(raw, [64])


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("n,k,b", [(50_000, 101, 20), (1000, 1001, 7), (5, 3, 2), (70_001, 3, 64)])
def test_detrend_blocks_is_the_residual_of_a_moving_average_and_its_block_statistics(dtype, n, k, b):
    rng = np.random.default_rng(n)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    lim = 30000 if info is None else min(info.max, 2**30)
    block = rng.integers(-lim, lim, size=(n, 4)).astype(dtype)
    if info is not None and n > 10:
        block[3, 1], block[4, 1] = info.max, info.min  # no overflow in differences
    col = block[:, 1]  # strided, as a channel of a stream block
    scale, offset = 2e-3, 70.0
    rest, st = _signal.detrend_blocks(col, k, scale, offset, b)
    v = col.astype(float) * scale + offset
    slow = reference_moving_average(v, k) if n > k else np.full(n, v.mean())
    assert rest.dtype == np.float32
    np.testing.assert_allclose(rest, v - slow, rtol=0, atol=1e-6 * np.abs(v).max())
    m = n // b
    R, Y = (v - slow)[: m * b].reshape(m, b), slow[: m * b].reshape(m, b)
    tol = 1e-6 * np.abs(v).max()
    np.testing.assert_allclose(st["min"], R.min(axis=1), atol=tol)
    np.testing.assert_allclose(st["max"], R.max(axis=1), atol=tol)
    np.testing.assert_allclose(st["sum"], R.sum(axis=1), rtol=1e-6, atol=b * tol)
    np.testing.assert_allclose(st["sumsq"], (R ** 2).sum(axis=1), rtol=1e-5, atol=b * tol * np.abs(R).max())
    np.testing.assert_allclose(st["ysum"], Y.sum(axis=1), rtol=1e-12, atol=1e-9 * b * np.abs(v).max())
    with pytest.raises(ValueError, match="odd"):
        _signal.detrend_blocks(col, 2, 1.0, 0.0, b)
