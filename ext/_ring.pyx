# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Low-level lock-free ring buffer: one writer, many readers, absolute indices.

The Python API is in :mod:`hotfire.ext.ring`, which subclasses the ring and
reader types here. This module holds only what runs per block: argument
checks, the copies (``ring_copy.h``) and the seqlock on the two shared
indices (``ring_atomic.h``).

Invariants, with ``start`` and ``commit`` the writer's shared indices:
``commit <= start <= commit + capacity``; rows ``[start - capacity, commit)``
are intact; rows ``[commit, start)`` are being written, and their slots held
rows ``[commit - capacity, start - capacity)``, which are therefore gone.
"""
cimport numpy as cnp
from cpython.buffer cimport PyBUF_WRITABLE
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memmove, memset

import numpy as np

cnp.import_array()

cdef extern from "ring_atomic.h" nogil:
    int64_t ring_load_acquire(const int64_t *p)
    int64_t ring_load_relaxed(const int64_t *p)
    void ring_store_release(int64_t *p, int64_t v)
    void ring_store_relaxed(int64_t *p, int64_t v)
    void ring_fence_acquire()
    void ring_fence_release()

cdef extern from "ring_copy.h" nogil:
    void ring_copy(char *dst, const char *src, size_t n)


# Copies of fewer bytes keep the GIL: releasing it costs a GIL hand-over to any
# waiting thread (microseconds) and that costs more than copying a small block.
cdef Py_ssize_t _nogil_min_bytes = 65536

# Test hook, called between a reader's copy and its re-check of the writer's
# index, so a test can overwrite rows "during" the copy. None in production.
cdef object _after_copy = None

_DTYPES = (np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.float32), np.dtype(np.float64))


def set_nogil_min_bytes(Py_ssize_t nbytes):
    """Set the copy size from which copies release the GIL; return the old one.

    Parameters
    ----------
    nbytes : int
        0 releases the GIL for every copy.
    """
    global _nogil_min_bytes
    if nbytes < 0:
        raise ValueError(f"nbytes must be >= 0, got {nbytes}")
    old = _nogil_min_bytes
    _nogil_min_bytes = nbytes
    return old


def nogil_min_bytes():
    """Return the copy size from which copies release the GIL."""
    return _nogil_min_bytes


def _set_after_copy_hook(hook):
    """Install a callable run after each reader copy (tests only); None removes it."""
    global _after_copy
    _after_copy = hook


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


cdef inline void _copy_out(const char *data, int64_t cap, Py_ssize_t rb,
                           int64_t first, int64_t n, char *dst) noexcept nogil:
    """Copy rows [first, first+n) of the ring to dst, across the wrap."""
    cdef int64_t slot = first % cap
    cdef int64_t k = cap - slot
    if k > n:
        k = n
    ring_copy(dst, data + slot * rb, k * rb)
    if n > k:
        ring_copy(dst + k * rb, data, (n - k) * rb)


cdef inline void _copy_in(char *data, int64_t cap, Py_ssize_t rb,
                          int64_t first, int64_t n, const char *src) noexcept nogil:
    """Copy n rows from src into the ring at rows [first, first+n)."""
    cdef int64_t slot = first % cap
    cdef int64_t k = cap - slot
    if k > n:
        k = n
    ring_copy(data + slot * rb, src, k * rb)
    if n > k:
        ring_copy(data, src + k * rb, (n - k) * rb)


cdef class _Memory:
    """The ring's rows, owned here; they export a read-only buffer only.

    The arrays readers are lent (:meth:`ReaderBase.acquire`) are views of
    this memory, and their ``base`` chain ends here: no reader can reach a
    writable array of the ring, nor make a lent array writeable.
    """
    cdef char *data
    cdef Py_ssize_t nbytes

    def __cinit__(self, Py_ssize_t nbytes):
        self.data = <char *>malloc(nbytes if nbytes > 0 else 1)
        if self.data == NULL:
            raise MemoryError(f"cannot allocate a ring of {nbytes} bytes")
        # Touch every page now, so the first lap of writes does not page-fault.
        memset(self.data, 0, nbytes)
        self.nbytes = nbytes

    def __dealloc__(self):
        free(self.data)

    def __getbuffer__(self, Py_buffer *view, int flags):
        if flags & PyBUF_WRITABLE:
            raise BufferError("the ring's rows are read-only outside the ring's writer")
        view.buf = self.data
        view.obj = self
        view.len = self.nbytes
        view.readonly = 1
        view.itemsize = 1
        view.format = NULL
        view.ndim = 1
        view.shape = NULL
        view.strides = NULL
        view.suboffsets = NULL
        view.internal = NULL

    def __releasebuffer__(self, Py_buffer *view):
        pass


cdef class RingBase:
    """Preallocated ring of ``capacity`` rows of ``n_channels`` values.

    Parameters
    ----------
    capacity : int
        Rows held; the oldest are overwritten once full.
    n_channels : int
        Values per row.
    dtype : dtype-like
        One of int16, int32, float32, float64.
    """
    cdef _Memory _mem           # owns the memory
    cdef readonly object _rows  # read-only (capacity, n_channels) array of it, for zero-copy reads
    cdef char *_data
    cdef int64_t _cap
    cdef Py_ssize_t _nch
    cdef Py_ssize_t _rb         # bytes per row
    cdef int _type_num
    cdef object _dtype
    # Shared with readers; only the writer stores them.
    cdef int64_t _start         # rows [.., _start) have been started
    cdef int64_t _commit        # rows [.., _commit) are complete

    def __cinit__(self, capacity, n_channels, dtype, *args, **kwargs):
        dt = np.dtype(dtype)
        if dt.newbyteorder("=") not in _DTYPES or not dt.isnative:
            raise TypeError(
                f"dtype must be one of int16, int32, float32, float64 (native byte order), got {dt}")
        if not _is_int(capacity) or capacity < 1:
            raise ValueError(f"capacity must be an integer >= 1 (rows), got {capacity!r}")
        if not _is_int(n_channels) or n_channels < 1:
            raise ValueError(f"n_channels must be an integer >= 1, got {n_channels!r}")
        capacity = int(capacity)
        n_channels = int(n_channels)
        self._mem = _Memory(capacity * n_channels * dt.itemsize)
        self._rows = np.frombuffer(self._mem, dtype=dt).reshape(capacity, n_channels)
        self._data = self._mem.data
        self._cap = capacity
        self._nch = n_channels
        self._rb = n_channels * dt.itemsize
        self._type_num = dt.num
        self._dtype = dt
        self._start = 0
        self._commit = 0

    @property
    def capacity(self):
        """Rows held."""
        return self._cap

    @property
    def n_channels(self):
        """Values per row."""
        return self._nch

    @property
    def dtype(self):
        """Sample dtype."""
        return self._dtype

    @property
    def written(self):
        """Rows ever written: the absolute index of the next row."""
        return ring_load_acquire(&self._commit)

    @property
    def oldest(self):
        """Absolute index of the oldest intact row (rows before it are gone)."""
        cdef int64_t lo = ring_load_acquire(&self._start) - self._cap
        return lo if lo > 0 else 0

    cdef int _check(self, object arr, str name, bint writeable) except -1:
        """Check that arr is a C-contiguous (m, n_channels) array of the ring's dtype."""
        cdef cnp.ndarray a
        if not cnp.PyArray_Check(arr):
            raise TypeError(
                f"{name} must be a numpy array of shape (n, {self._nch}) and dtype "
                f"{self._dtype}, got {type(arr).__name__}")
        a = <cnp.ndarray>arr
        if cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_DIM(a, 1) != self._nch:
            raise ValueError(
                f"{name} must have shape (n, {self._nch}), got shape {arr.shape}")
        if cnp.PyArray_TYPE(a) != self._type_num or not cnp.PyArray_ISNOTSWAPPED(a):
            raise TypeError(f"{name} must have dtype {self._dtype}, got {arr.dtype}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(a):
            raise ValueError(
                f"{name} must be C-contiguous (use np.ascontiguousarray), got strides {arr.strides}")
        if writeable and not cnp.PyArray_ISWRITEABLE(a):
            raise ValueError(f"{name} must be writeable")
        return 0

    def write(self, block):
        """Append rows; never blocks, overwrites the oldest rows once full.

        Only one thread may write to a ring.

        Parameters
        ----------
        block : numpy.ndarray
            C-contiguous ``(n, n_channels)`` array of exactly the ring's dtype,
            ``n <= capacity``.

        Returns
        -------
        int
            Absolute index of the first row written.

        Raises
        ------
        TypeError
            If block is not an ndarray or has another dtype.
        ValueError
            If block has the wrong shape, is not C-contiguous or n > capacity.
        """
        self._check(block, "block", False)
        cdef int64_t n = cnp.PyArray_DIM(<cnp.ndarray>block, 0)
        if n > self._cap:
            raise ValueError(f"block has {n} rows, more than the ring's capacity of {self._cap}")
        cdef int64_t w = self._commit   # only this thread stores it
        if n == 0:
            return w
        cdef const char *src = cnp.PyArray_BYTES(<cnp.ndarray>block)
        # Seqlock: announce the rows about to be overwritten before touching them.
        ring_store_relaxed(&self._start, w + n)
        ring_fence_release()
        if n * self._rb >= _nogil_min_bytes:
            with nogil:
                _copy_in(self._data, self._cap, self._rb, w, n, src)
        else:
            _copy_in(self._data, self._cap, self._rb, w, n, src)
        ring_store_release(&self._commit, w + n)
        return w

    def _peek_into(self, int64_t first, out):
        """Copy rows [first, first + len(out)) into out, cursor-free.

        Returns
        -------
        int
            The number of leading rows of out that were already gone (or may
            have been overwritten during the copy); 0 if all are intact.
        """
        self._check(out, "out", True)
        cdef int64_t n = cnp.PyArray_DIM(<cnp.ndarray>out, 0)
        cdef int64_t c = ring_load_acquire(&self._commit)
        if first < 0 or first + n > c:
            raise ValueError(f"rows [{first}, {first + n}) are not all written (written: {c})")
        cdef int64_t bad = ring_load_acquire(&self._start) - self._cap - first
        if bad >= n:
            return n
        if bad < 0:
            bad = 0
        cdef char *dst = cnp.PyArray_BYTES(<cnp.ndarray>out)
        if (n - bad) * self._rb >= _nogil_min_bytes:
            with nogil:
                _copy_out(self._data, self._cap, self._rb, first + bad, n - bad, dst + bad * self._rb)
        else:
            _copy_out(self._data, self._cap, self._rb, first + bad, n - bad, dst + bad * self._rb)
        if _after_copy is not None:
            _after_copy()
        ring_fence_acquire()
        cdef int64_t bad2 = ring_load_relaxed(&self._start) - self._cap - first
        if bad2 > bad:
            bad = bad2 if bad2 < n else n
        return bad


cdef class ReaderBase:
    """One reader's cursor on a ring; use from one thread at a time.

    Parameters
    ----------
    ring : RingBase
    start : int
        Absolute index of the first row to read.
    """
    cdef RingBase _ring
    cdef int64_t _pos           # next row to read
    cdef int64_t _lost          # rows lost in total
    cdef int64_t _held_first    # rows [_held_first, +_held_n) are held by acquire()
    cdef int64_t _held_n
    cdef bint _holding

    def __cinit__(self, RingBase ring not None, int64_t start, *args, **kwargs):
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        self._ring = ring
        self._pos = start
        self._lost = 0
        self._holding = False

    # No ``ring`` attribute: a reader is what subscribers are given, and it must
    # not lead to the ring's writer. What a reader needs of its ring is here.
    @property
    def capacity(self):
        """Rows the ring read holds."""
        return self._ring._cap

    @property
    def n_channels(self):
        """Samples per row."""
        return self._ring._nch

    @property
    def dtype(self):
        """The ring's dtype."""
        return self._ring._dtype

    @property
    def written(self):
        """Rows written to the ring so far."""
        return ring_load_acquire(&self._ring._commit)

    @property
    def position(self):
        """Absolute index of the next row to read."""
        return self._pos

    @property
    def lost(self):
        """Rows lost so far (overwritten before they were read, or while held)."""
        return self._lost

    @property
    def available(self):
        """Rows a read would return now (after skipping any lost rows)."""
        cdef RingBase r = self._ring
        cdef int64_t c = ring_load_acquire(&r._commit)
        cdef int64_t lo = ring_load_acquire(&r._start) - r._cap
        if lo < self._pos:
            lo = self._pos
        return c - lo if c > lo else 0

    def _on_gap(self, int64_t first, int64_t count):
        """Make the gap object for lost rows [first, first+count); overridden."""
        return (first, count)

    cdef inline int64_t _skip_lost(self, int64_t *n, int64_t max_rows) noexcept:
        """Clamp the cursor to the oldest intact row; set *n to the rows readable.

        Returns the first row to read (>= self._pos).
        """
        cdef RingBase r = self._ring
        cdef int64_t c = ring_load_acquire(&r._commit)
        cdef int64_t lo = ring_load_acquire(&r._start) - r._cap
        if lo < self._pos:
            lo = self._pos
        cdef int64_t k = c - lo
        if k > max_rows:
            k = max_rows
        n[0] = k if k > 0 else 0
        return lo

    def read_into(self, out):
        """Copy the next rows into a caller's array; allocates no array.

        Parameters
        ----------
        out : numpy.ndarray
            C-contiguous, writeable ``(m, n_channels)`` array of the ring's
            dtype; up to m rows are copied into its first rows.

        Returns
        -------
        first_index : int
            Absolute index of ``out[0]``.
        n : int
            Rows copied.
        gap : Gap or None
            Rows lost just before ``first_index``, if any.
        """
        cdef RingBase r = self._ring
        r._check(out, "out", True)
        cdef int64_t n
        cdef int64_t lo = self._skip_lost(&n, cnp.PyArray_DIM(<cnp.ndarray>out, 0))
        cdef char *dst = cnp.PyArray_BYTES(<cnp.ndarray>out)
        cdef int64_t bad
        if n > 0:
            if n * r._rb >= _nogil_min_bytes:
                with nogil:
                    _copy_out(r._data, r._cap, r._rb, lo, n, dst)
            else:
                _copy_out(r._data, r._cap, r._rb, lo, n, dst)
            if _after_copy is not None:
                _after_copy()
            # Seqlock re-check: rows below start - capacity may have been
            # overwritten while we copied them; drop them as lost.
            ring_fence_acquire()
            bad = ring_load_relaxed(&r._start) - r._cap - lo
            if bad > 0:
                if bad >= n:
                    lo += bad
                    n = 0
                else:
                    memmove(dst, dst + bad * r._rb, (n - bad) * r._rb)
                    lo += bad
                    n -= bad
        gap = None
        if lo > self._pos:
            self._lost += lo - self._pos
            gap = self._on_gap(self._pos, lo - self._pos)
        self._pos = lo + n
        return lo, n, gap

    def acquire(self, max_rows=None):
        """Hold the next rows in place, without copying.

        Release the view with :meth:`release` before the next acquire or read.

        Parameters
        ----------
        max_rows : int, optional
            Hold at most this many rows; all available rows if None.

        Returns
        -------
        View
            ``first_index``, ``parts`` (one or two read-only arrays into the
            ring, two when the rows cross its end), ``gap`` (rows lost just
            before ``first_index``, or None) and ``n`` (rows held).

        Warnings
        --------
        The writer does not wait for readers: rows held can be overwritten
        while the caller looks at them. :meth:`release` says whether that
        happened; until it returns None, treat the rows as possibly torn.
        """
        if self._holding:
            raise RuntimeError("this reader already holds a view; release it first")
        cdef RingBase r = self._ring
        cdef int64_t m = r._cap
        if max_rows is not None:
            m = max_rows
            if m < 0:
                raise ValueError(f"max_rows must be >= 0, got {max_rows}")
        cdef int64_t n
        cdef int64_t lo = self._skip_lost(&n, m)
        cdef View view = View.__new__(View)
        view.first_index = lo
        view.n = n
        if lo > self._pos:
            self._lost += lo - self._pos
            view.gap = self._on_gap(self._pos, lo - self._pos)
        cdef int64_t slot = lo % r._cap
        cdef int64_t k = r._cap - slot
        if k < n:
            view.parts = (r._rows[slot:], r._rows[:n - k])
        else:
            view.parts = (r._rows[slot:slot + n],)
        self._pos = lo
        self._held_first = lo
        self._held_n = n
        self._holding = True
        return view

    def release(self, View view not None):
        """Consume the rows of a view from :meth:`acquire`.

        Returns
        -------
        Gap or None
            The held rows that the writer overwrote (or began to) while they
            were held: they may be torn, and are counted as lost. None if all
            held rows stayed intact.
        """
        if not self._holding:
            raise RuntimeError("this reader holds no view")
        cdef int64_t first = view.first_index
        cdef int64_t n = view.n
        if first != self._held_first or n != self._held_n:
            raise ValueError(
                f"view [{first}, {first + n}) is not the one held "
                f"[{self._held_first}, {self._held_first + self._held_n})")
        cdef RingBase r = self._ring
        # The caller's reads of the view come before this fence.
        ring_fence_acquire()
        cdef int64_t bad = ring_load_relaxed(&r._start) - r._cap - first
        self._holding = False
        self._pos = first + n
        if bad <= 0 or n == 0:
            return None
        if bad > n:
            bad = n
        self._lost += bad
        return self._on_gap(first, bad)


cdef class View:
    """Rows held in place by :meth:`ReaderBase.acquire`.

    Attributes
    ----------
    first_index : int
        Absolute index of ``parts[0][0]``.
    n : int
        Rows held (the total length of the parts).
    parts : tuple of numpy.ndarray
        One or two read-only arrays into the ring (two across its end).
        Valid until release; the writer may overwrite them even before,
        which release() then reports.
    gap : Gap or None
        Rows lost just before ``first_index``.
    """
    cdef readonly int64_t first_index
    cdef readonly int64_t n
    cdef readonly tuple parts
    cdef readonly object gap

    def __init__(self, first_index, parts, gap=None):
        self.first_index = first_index
        self.parts = tuple(parts)
        self.n = sum(len(p) for p in self.parts)
        self.gap = gap

    def __repr__(self):
        return (f"View(first_index={self.first_index}, n={self.n}, "
                f"parts={len(self.parts)}, gap={self.gap!r})")
