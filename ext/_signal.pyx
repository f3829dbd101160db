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


ctypedef fused sample_t:
    cnp.int16_t
    cnp.int32_t
    float
    double


def moving_average(const double[::1] x, Py_ssize_t k):
    """Centred moving average over ``k`` samples (``k`` odd); the ends repeat the first/last full mean.

    A running sum, restarted from scratch every 65536 samples so that
    rounding does not accumulate.

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
    cdef Py_ssize_t n = x.shape[0], h = k // 2, i, j, c = 0
    slow = np.empty(n, np.float64)
    cdef double[::1] o = slow
    cdef double s = 0.0, inv = 1.0 / k
    if n == 0:
        return slow
    if n <= k:
        o[:] = np.asarray(x).mean()
        return slow
    with nogil:
        for j in range(k):
            s += x[j]
        o[h] = s * inv
        for i in range(h + 1, n - h):
            c += 1
            if c == 65536:  # re-sum the window: bounded rounding error
                c = 0
                s = 0.0
                for j in range(i - h, i + h + 1):
                    s += x[j]
            else:
                s += x[i + h] - x[i - h - 1]
            o[i] = s * inv
        for i in range(h):
            o[i] = o[h]
        for i in range(n - h, n):
            o[i] = o[n - h - 1]
    return slow


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


def take_columns(const sample_t[:, ::1] raw, columns):
    """Contiguous copies of some columns of a row-major block, in one pass over it.

    numpy's ``raw[:, columns].T`` copy walks the block element by element
    (measured ~4 ms per column of a 600 000 x 64 int16 block); this reads
    each row once and writes every requested column.

    Returns
    -------
    ndarray, shape (len(columns), rows), the dtype of ``raw``.
    """
    cdef Py_ssize_t n = raw.shape[0], k = raw.shape[1], m = len(columns), r, j
    cols_arr = np.asarray(columns, dtype=np.intp).reshape(-1)
    if m and (cols_arr.min() < 0 or cols_arr.max() >= k):
        raise IndexError(f"columns {list(columns)} out of range for a block of {k} columns")
    cdef Py_ssize_t[::1] cols = cols_arr
    out = np.empty((m, n), np.asarray(raw).dtype)
    cdef sample_t[:, ::1] o = out
    cdef Py_ssize_t r0, r1, c
    with nogil:
        for r0 in range(0, n, 256):  # tiles of rows that stay in L1 while each column is copied out
            r1 = min(r0 + 256, n)
            for j in range(m):
                c = cols[j]
                for r in range(r0, r1):
                    o[j, r] = raw[r, c]
    return out


def one_sided_power(const float complex[:, ::1] X, float[:, ::1] out, double scale, bint even):
    """``out = scale * |X|**2`` as a one-sided PSD (inner bins doubled), one pass, float32.

    ``X`` is a batch of ``rfft`` rows (complex64); ``out`` rows of the same
    length receive the densities. numpy needs three passes and two
    temporaries for this (``X.real**2 + X.imag**2``, then the doubling).

    Parameters
    ----------
    even : bool
        Whether the segment length was even (then the last bin is Nyquist and not doubled).
    """
    cdef Py_ssize_t m = X.shape[0], nf = X.shape[1], i, j, last = nf - 1 if even else nf
    if out.shape[0] != m or out.shape[1] != nf:
        raise ValueError(f"out must have shape {(m, nf)}, got {(out.shape[0], out.shape[1])}")
    cdef float s1 = <float>scale, s2 = <float>(2.0 * scale), re, im
    with nogil:
        for i in range(m):
            for j in range(nf):
                re = X[i, j].real
                im = X[i, j].imag
                out[i, j] = (re * re + im * im) * (s2 if 0 < j < last else s1)


def detrend_blocks(x, Py_ssize_t k, double scale, double offset, Py_ssize_t b):
    """``v = x * scale + offset`` minus its centred moving average, and per-block statistics; one pass.

    The moving average over ``k`` (odd) samples is as :func:`moving_average`'s
    (it is not kept). ``x`` may be a strided view (a column of a stream's
    block) of int16, int32, float32 or float64: the samples are scaled as
    they are read.

    Returns
    -------
    rest : ndarray of float32
        ``v - moving average``, ``v = x * scale + offset``.
    blocks : dict of ndarray
        Per whole block of ``b`` samples: ``min``, ``max`` (float32), ``sum``,
        ``sumsq`` of ``rest`` and ``ysum``, the sum of the moving average (float64).
    """
    if k < 1 or k % 2 == 0:
        raise ValueError(f"k must be odd and >= 1, got {k}")
    if b < 1:
        raise ValueError(f"b must be >= 1, got {b}")
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    if x.dtype == np.int16:
        return _detrend_blocks[cnp.int16_t](x, k, scale, offset, b)
    if x.dtype == np.int32:
        return _detrend_blocks[cnp.int32_t](x, k, scale, offset, b)
    if x.dtype == np.float32:
        return _detrend_blocks[float](x, k, scale, offset, b)
    return _detrend_blocks[double](np.asarray(x, dtype=np.float64), k, scale, offset, b)


cdef _detrend_blocks(const sample_t[:] x, Py_ssize_t k, double a, double b0, Py_ssize_t b):
    cdef Py_ssize_t n = x.shape[0], h = k // 2, m = n // b, i, j, c, q
    rest = np.empty(n, np.float32)
    lo = np.empty(m, np.float32)
    hi = np.empty(m, np.float32)
    s1 = np.zeros(m, np.float64)
    s2 = np.zeros(m, np.float64)
    sy = np.zeros(m, np.float64)
    cdef float[::1] r = rest, l = lo, hh = hi
    cdef double[::1] a1 = s1, a2 = s2, ay = sy
    cdef double s = 0.0, inv = 1.0 / k, slow, first = 0.0, last = 0.0
    cdef float v
    if n == 0:
        return rest, {"min": lo, "max": hi, "sum": s1, "sumsq": s2, "ysum": sy}
    with nogil:
        if n <= k:
            for i in range(n):
                s += x[i] * a + b0
            first = last = s / n
        else:
            for j in range(k):
                s += x[j] * a + b0
            first = s * inv  # the ends repeat the first and the last full window's mean
        c = 0
        for i in range(n):
            if n <= k:
                slow = first
            elif i <= h:
                slow = first
                if i == h:
                    c = 0
            elif i < n - h:
                c += 1
                if c == 65536:  # re-sum the window: bounded rounding error
                    c = 0
                    s = 0.0
                    for j in range(i - h, i + h + 1):
                        s += x[j] * a + b0
                else:
                    s += (<double>x[i + h] - <double>x[i - h - 1]) * a
                slow = s * inv
                last = slow
            else:
                slow = last
            v = <float>(x[i] * a + b0 - slow)
            r[i] = v
            q = i // b
            if q < m:
                if i == q * b:
                    l[q] = v
                    hh[q] = v
                else:
                    l[q] = v if v < l[q] else l[q]
                    hh[q] = v if v > hh[q] else hh[q]
                a1[q] += v
                a2[q] += <double>v * v
                ay[q] += slow
    return rest, {"min": lo, "max": hi, "sum": s1, "sumsq": s2, "ysum": sy}
