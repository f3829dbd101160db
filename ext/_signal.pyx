# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Single-pass kernels for the analysis of long records, the GIL released.

numpy and scipy do each of these in several passes or slowly: a centred
moving average by cumulative sum takes four passes and a temporary (and
``scipy.ndimage.uniform_filter1d`` measured slower still, ~13 ns/sample on
5 M samples here), and per-window minimum and maximum of every column take
one strided reduction each. On a 60 s, 100 kHz record these passes were a
large part of an analysis that should cost a few times the file read.
"""
cimport numpy as cnp

import numpy as np

cnp.import_array()

cdef extern from "signal_extremes.h" nogil:
    void extremes_i16(const cnp.int16_t *raw, Py_ssize_t m, Py_ssize_t w, Py_ssize_t k, cnp.int16_t *lo, cnp.int16_t *hi)
    void extremes_i32(const cnp.int32_t *raw, Py_ssize_t m, Py_ssize_t w, Py_ssize_t k, cnp.int32_t *lo, cnp.int32_t *hi)
    void extremes_f32(const float *raw, Py_ssize_t m, Py_ssize_t w, Py_ssize_t k, float *lo, float *hi)
    void extremes_f64(const double *raw, Py_ssize_t m, Py_ssize_t w, Py_ssize_t k, double *lo, double *hi)


def moving_average(const double[::1] x, Py_ssize_t k):
    """Centred moving average over ``k`` samples (``k`` odd); the ends repeat the first/last full mean.

    A running sum, one pass. The sum is restarted from scratch every 65536
    samples so that rounding does not accumulate over long records.

    Parameters
    ----------
    x : ndarray of float64, C-contiguous
    k : int
        Odd window length, >= 1.

    Returns
    -------
    ndarray of float64, the length of ``x``.
    """
    if k < 1 or k % 2 == 0:
        raise ValueError(f"k must be odd and >= 1, got {k}")
    cdef Py_ssize_t n = x.shape[0], h = k // 2, i, j, c
    out = np.empty(n, np.float64)
    if n == 0:
        return out
    cdef double[::1] o = out
    cdef double s, mean
    if n <= k:
        mean = np.asarray(x).mean()
        o[:] = mean
        return out
    with nogil:
        s = 0.0
        for j in range(k):
            s += x[j]
        o[h] = s / k
        c = 0
        for i in range(h + 1, n - h):
            c += 1
            if c == 65536:  # re-sum the window: bounded rounding error
                c = 0
                s = 0.0
                for j in range(i - h, i + h + 1):
                    s += x[j]
            else:
                s += x[i + h] - x[i - h - 1]
            o[i] = s / k
        for i in range(h):
            o[i] = o[h]
        for i in range(n - h, n):
            o[i] = o[n - h - 1]
    return out


def window_extremes(raw, Py_ssize_t w):
    """Per-column minimum and maximum over consecutive windows of ``w`` rows, one pass.

    Parameters
    ----------
    raw : 2-D C-contiguous ndarray (int16, int32, float32 or float64)
    w : int
        Rows per window; a partial last window is left out.

    Returns
    -------
    mins, maxs : ndarray, shape (n // w, columns), the dtype of ``raw``.
    """
    if w < 1:
        raise ValueError(f"w must be >= 1, got {w}")
    raw = np.asarray(raw)
    cdef cnp.ndarray a = raw
    if a.ndim != 2 or not a.flags.c_contiguous:
        raise ValueError(f"raw must be a 2-D C-contiguous array, got shape {raw.shape}")
    cdef Py_ssize_t n = a.shape[0], k = a.shape[1], m = n // w
    mins = np.empty((m, k), a.dtype)
    maxs = np.empty((m, k), a.dtype)
    cdef void *src = cnp.PyArray_DATA(a)
    cdef void *lo = cnp.PyArray_DATA(mins)
    cdef void *hi = cnp.PyArray_DATA(maxs)
    dt = raw.dtype
    if dt.char not in "hifd" or not dt.isnative:
        raise TypeError(f"raw must be int16, int32, float32 or float64, got {dt}")
    cdef char code = ord(dt.char)
    with nogil:
        if code == c'h':
            extremes_i16(<const cnp.int16_t *>src, m, w, k, <cnp.int16_t *>lo, <cnp.int16_t *>hi)
        elif code == c'i':
            extremes_i32(<const cnp.int32_t *>src, m, w, k, <cnp.int32_t *>lo, <cnp.int32_t *>hi)
        elif code == c'f':
            extremes_f32(<const float *>src, m, w, k, <float *>lo, <float *>hi)
        else:
            extremes_f64(<const double *>src, m, w, k, <double *>lo, <double *>hi)
    return mins, maxs
