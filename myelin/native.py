"""Level 0: the optional native kernels (``myelin/_native.c``): optimizer steps, convolution, the LSTM loop.

An optimizer rule written with NumPy ufuncs makes about a dozen passes over every parameter;
the compiled kernel makes one and gives the same numbers bit for bit (same float operations,
same order, no fused multiply-adds). ``pip install`` compiles it when a C compiler is there;
without one it is skipped and every rule runs its NumPy form, with identical results, only
slower. The file is plain C loaded with ``ctypes`` on first use, so ``import myelin`` does not
pay for it. Set ``MYELIN_NATIVE=0`` in the environment to turn it off.

The convolution kernels (:func:`col2im`, :func:`max_pool`, :func:`max_pool_grad`,
:func:`relu_grad`) do in one cache-friendly pass what ``myelin/ops/convolution.py`` does with
a NumPy operation per window tap, with the same float operations in the same order (equal
bit for bit too); they return None (or False) where the caller must run its NumPy form. So do
the sequence kernels of ``myelin/ops/recurrent.py``: :func:`index_add` (the embedding's
gradient), :func:`lstm_factors` and :func:`lstm_step_kernels` (the LSTM loop between its
products and its tanh calls, which stay NumPy's).

The C file also has a small thread pool (POSIX threads; not built on Windows, where a Python
thread pool stands in): :func:`matmul` splits a product's rows or columns over it, each part
one call of NumPy's own OpenBLAS gemm on the operands in place, and :func:`parallel` runs a
call in parts on the same threads. Its workers claim their own part first, watch briefly for
the next job (yielding the core), then sleep, so a hand-off costs microseconds, not the
~20-50 us of a Python executor (docs/performance.md, "The native thread pool").

Each optimizer function returns ``True`` when it did the update, ``False`` when the caller must run
the NumPy form instead (no kernel built, turned off, an array that is not a contiguous
NumPy float32/float64 array, or arrays of different lengths or types). Every state value a
kernel stores is flushed to zero when subnormal, exactly as ``Optimizer._flush_state`` does
after the NumPy forms (``docs/performance.md``).

Example:
    >>> from myelin import native
    >>> isinstance(native.available(), bool)
    True
"""

# Over 800 lines because every kernel of _native.c has its binding here, beside the one loader and thread pool they share.
from __future__ import annotations

import ctypes
import importlib.util
import itertools
import math
import os
import sys
import threading
import weakref

import numpy as np

from . import backend

_VERSION = 7  # must equal myelin_native_version() in _native.c
_TYPES = {np.dtype(np.float32): ("f32", ctypes.c_float), np.dtype(np.float64): ("f64", ctypes.c_double)}

_lib = None  # the loaded library, once loaded
_status: str | None = None  # why it is not used, or "loaded"
_kernels: dict = {}  # (rule, "f32" or "f64") -> the ctypes function


def _load() -> None:
    global _lib, _status
    if os.environ.get("MYELIN_NATIVE", "1").strip().lower() in ("0", "false", "no", "off"):
        _status = "turned off by MYELIN_NATIVE=0"
        return
    try:
        spec = importlib.util.find_spec("myelin._native")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        _status = "not built (no C compiler when myelin was installed)"
        return
    try:
        lib = ctypes.CDLL(spec.origin)
        version = lib.myelin_native_version()
    except (OSError, AttributeError) as exc:
        _status = f"could not be loaded from {spec.origin}: {exc}"
        return
    if version != _VERSION:
        _status = f"{spec.origin} is version {version}, this myelin needs {_VERSION}: reinstall myelin"
        return
    ptr, size = ctypes.c_void_p, ctypes.c_size_t
    for suffix, scalar in _TYPES.values():
        for rule, argtypes in (
            ("adam", [ptr] * 4 + [size] + [scalar] * 4),
            ("sgd", [ptr] * 3 + [size, scalar, scalar, ctypes.c_int]),
            ("rmsprop", [ptr] * 4 + [size] + [scalar] * 5),
        ):
            function = getattr(lib, f"myelin_{rule}_{suffix}")
            function.argtypes, function.restype = argtypes, None
            _kernels[rule, suffix] = function
        for rule, argtypes in (
            ("im2col", [ptr, ptr, ptr]),
            ("col2im", [ptr, ptr, ptr]),
            ("maxpool_fwd", [ptr, ptr, ptr, ptr]),
            ("maxpool_bwd", [ptr, ptr, ptr, ptr, ctypes.c_int]),
            ("relu_grad", [ptr, ptr, ptr, size]),
            ("bias_relu", [ptr, ptr, size, size, ctypes.c_int]),
            ("smallk_fwd", [ptr] * 4 + [ctypes.c_int64] * 2 + [ctypes.c_int] + [ctypes.c_int64] * 2),
            ("smallk_bwd", [ptr] * 5 + [ctypes.c_int64] * 6),
            ("index_add", [ptr] * 3 + [size] * 4),
            ("lstm_cell", [ptr] * 5 + [size, size]),
            ("lstm_factors", [ptr] * 5 + [size, size]),
            ("lstm_back_step", [ptr, size] + [ptr] * 5 + [ptr, size, size, size]),
        ):
            function = getattr(lib, f"myelin_{rule}_{suffix}")
            function.argtypes, function.restype = argtypes, None
            _kernels[rule, suffix] = function
    i64, int_ = ctypes.c_int64, ctypes.c_int
    lib.myelin_pool_gemm.argtypes = [ptr, int_, int_, int_, int_, i64, i64, i64, ptr, i64, ptr, i64, ptr, i64, int_, int_]
    lib.myelin_pool_gemm.restype = None
    for name in ("myelin_dense_chain_fwd", "myelin_dense_chain_bwd"):  # (ops/dense_chain.py)
        getattr(lib, name).argtypes, getattr(lib, name).restype = [ptr], None
    lib.myelin_pool_spin.argtypes, lib.myelin_pool_spin.restype = [ctypes.c_long], ctypes.c_long
    lib.myelin_pool_ranges.argtypes = [_RANGE_CALLBACK, i64, i64, int_]
    lib.myelin_pool_ranges.restype = None
    _lib, _status = lib, "loaded"


def available() -> bool:
    """Whether the native kernels are built, loaded and turned on.

    Example:
        >>> available() in (True, False)
        True
    """
    if _status is None:
        _load()
    return _lib is not None


def status() -> str:
    """``"loaded"``, or the reason the NumPy forms are used instead.

    Example:
        >>> isinstance(status(), str)
        True
    """
    available()
    return _status


_checked: dict = {}  # (rule, ids of the arrays) -> (weak references to them, kernel): an optimizer's fixed buffers


def _kernel(rule: str, *writable, read_only=()):
    """The compiled ``rule`` for these arrays, or None when the NumPy form must run.

    Every array (None ones aside) must be a C-contiguous NumPy array of the same float dtype
    and size as the first, and those in ``writable`` must be writable. The answer for the
    same array objects (an optimizer's flat buffers, every step) is remembered while they live.
    """
    key = (rule, *map(id, writable), *map(id, read_only))
    seen = _checked.get(key)
    arrays = (*writable, *read_only)
    if seen is not None and all(ref is None if a is None else ref() is a for ref, a in zip(seen[0], arrays)):
        if all(a is None or a.flags.writeable for a in writable):  # (the one property that can change)
            return seen[1]
        return None
    first = writable[0] if writable else read_only[0]
    present = [a for a in arrays if a is not None]
    kernel = _array_kernel(rule, first, *present)
    if kernel is None or any(a.size != first.size for a in present):
        return None
    if not all(a is None or a.flags.writeable for a in writable):
        return None
    if all(type(a) is np.ndarray for a in present):  # remembered only while every array lives
        refs = tuple(None if a is None else weakref.ref(a, lambda _, key=key: _checked.pop(key, None)) for a in arrays)
        _checked[key] = (refs, kernel)
    return kernel


def _data_offset() -> int | None:
    """Where CPython keeps an ndarray's data address inside the array object (found by looking), or None."""
    if sys.implementation.name != "cpython":
        return None
    probes = [np.empty(3), np.empty((2, 5), np.float32)]
    for offset in range(8, 64, 8):
        if all(ctypes.c_void_p.from_address(id(p) + offset).value == p.ctypes.data for p in probes):
            return offset
    return None


_DATA_OFFSET = _data_offset()
_read_address = ctypes.c_void_p.from_address


def _address(a) -> int:
    """The data address of the ndarray ``a`` (kept alive by the caller), read from the object: 7x ``a.ctypes.data``."""
    if _DATA_OFFSET is None:
        return a.ctypes.data
    return _read_address(id(a) + _DATA_OFFSET).value or 0


def _ptr(a) -> int | None:
    """``a``'s data address (None for None), read afresh each call: never stale, even after a resize."""
    return None if a is None else _address(a)


def adam(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, c1: float, c2: float, eps: float, alpha: float) -> bool:
    """Adam's update in place: ``m += (g - m) c1; v += (g*g - v) c2; p -= m / (sqrt(v) + eps) * alpha``.

    Example:
        >>> import numpy as np
        >>> p, g = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
        >>> m, v = np.zeros(3, np.float32), np.zeros(3, np.float32)
        >>> if not adam(p, g, m, v, 0.1, 0.001, 1e-7, 0.01):
        ...     m += (g - m) * np.float32(0.1)  # the caller's NumPy form (shown for m only)
        >>> m
        array([0.05, 0.05, 0.05], dtype=float32)
    """
    last = _last_adam[0]
    if (
        last is not None
        and last[0]() is p
        and last[1]() is g
        and last[2]() is m
        and last[3]() is v
        and p.flags.writeable
        and m.flags.writeable
        and v.flags.writeable
    ):  # the same optimizer buffers as last call (every step of a fit): no checks but the one that can change
        kernel = last[4]
    else:
        kernel = _kernel("adam", p, m, v, read_only=(g,))
        if kernel is None:
            return False
        if all(type(a) is np.ndarray for a in (p, g, m, v)):
            _last_adam[0] = (*(weakref.ref(a) for a in (p, g, m, v)), kernel)
    kernel(_address(p), _address(g), _address(m), _address(v), p.size, c1, c2, eps, alpha)
    return True


_last_adam: list = [None]  # (weak references to the last p, g, m, v, their kernel)


def sgd(p: np.ndarray, g: np.ndarray, velocity: np.ndarray | None, lr: float, momentum: float, nesterov: bool) -> bool:
    """SGD's update in place (``velocity`` None: no momentum), as ``optimizers.SGD`` computes it.

    Example:
        >>> import numpy as np
        >>> p, g = np.ones(2, np.float32), np.ones(2, np.float32)
        >>> if not sgd(p, g, None, 0.5, 0.0, False): p -= g * np.float32(0.5)
        >>> p
        array([0.5, 0.5], dtype=float32)
    """
    kernel = _kernel("sgd", p, velocity, read_only=(g,))
    if kernel is None:
        return False
    kernel(_ptr(p), _ptr(g), _ptr(velocity), p.size, lr, momentum, int(bool(nesterov)))
    return True


def rmsprop(
    p: np.ndarray,
    g: np.ndarray,
    s: np.ndarray,
    velocity: np.ndarray | None,
    rho: float,
    c: float,
    eps: float,
    lr: float,
    momentum: float,
) -> bool:
    """RMSprop's update in place (not centered; ``velocity`` None: no momentum), as ``optimizers.RMSprop``.

    Example:
        >>> import numpy as np
        >>> p, g, s = np.ones(2), np.ones(2), np.zeros(2)
        >>> if not rmsprop(p, g, s, None, 0.9, 0.1, 1e-7, 0.01, 0.0):
        ...     s *= 0.9; s += g * g * 0.1  # the caller's NumPy form (shown for s only)
        >>> s
        array([0.1, 0.1])
    """
    kernel = _kernel("rmsprop", p, s, velocity, read_only=(g,))
    if kernel is None:
        return False
    kernel(_ptr(p), _ptr(g), _ptr(s), _ptr(velocity), p.size, rho, c, eps, lr, momentum)
    return True


# ---------------------------------------------------------------------------- convolution and pooling


# A kernel call that touches at least this many numbers splits its batch over
# backend.native_threads() threads (ctypes lets go of the GIL during each part); the parts
# are whole batch items (or rows), so the numbers do not depend on the split. A split costs
# ~20 us in fit (each part's Python takes the GIL, and a thread waiting for it is woken by the
# kernel); measured on 2 cores, bias+ReLU in place: 262,144 numbers 51 us split, 28 whole;
# 524,288: 68 and 72; the ReLU's gradient (3 arrays) gains from 786,432 numbers on.
PARALLEL_MIN_ELEMENTS = 1 << 19

_executor = None  # the ThreadPoolExecutor of the parts after the first, made on first use
_inside = threading.local()  # .part: this thread runs a part of a split call now
_splits = [0]  # calls split over threads so far (fit looks whether its recorded step made any)
_largest = [0.0]  # the largest product (floating-point operations) native.matmul has run so far

# While ``backend.pool_products()`` is on, products of at least this many floating-point operations are split over
# the native threads; smaller ones run on one BLAS thread (splitting them costs more than it saves). ``fit`` turns
# the pooling on only for a step whose largest product reaches it.
POOL_FLOPS = 3e7
# The C pool's hand-off (myelin_pool_gemm in _native.c) costs ~4 us with the Python around it, and a product from
# this size on gains from it inside fit. (Alone, in a loop, 2.1 MFLOP already ran 1.5x faster; inside the seed
# network's step its 3.2 MFLOP products did not: their weights change between steps and must travel to the other
# core's cache. The same crossover as OpenBLAS's own threads; docs/performance.md.)
POOL_GEMM_FLOPS = 4e6


def _reset_executor() -> None:
    global _executor
    _executor = None  # a forked child has none of its parent's threads


if hasattr(os, "register_at_fork"):  # (not on Windows, which does not fork)
    os.register_at_fork(after_in_child=_reset_executor)


def parts(items: int, work: int) -> int:
    """How many parts :func:`parallel` splits ``items`` into for ``work`` numbers (1: the caller's thread alone).

    Example:
        >>> parts(100, 10)  # too little work (and 1 thread outside fit)
        1
    """
    threads = min(backend.native_threads(), items)
    if threads < 2 or work < PARALLEL_MIN_ELEMENTS or getattr(_inside, "part", False):
        return 1  # (a part's own kernels never split again: the pool's threads are all at work)
    return threads


# ---- the parts of parallel() on the C pool's threads (myelin_pool_ranges): a ctypes callback takes the GIL for each
_RANGE_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int)
_jobs: dict = {}  # job number -> [call, the first exception a part raised]
_job_numbers = itertools.count(1)
_kept = threading.local()  # .state: this pool thread keeps its Python thread state (made once, not per part)
_python_api = getattr(ctypes, "pythonapi", None) if sys.implementation.name == "cpython" else None
_has_pool: list = []  # [whether the C file has its thread pool], looked at once


def _pool() -> bool:
    """Whether the C file's thread pool is there (built with threads: not on Windows), looked at once."""
    if not _has_pool:
        _has_pool.append(available() and _lib.myelin_pool_spin(-1) > 0)
    return _has_pool[0]


def _run_range(job: int, lo: int, hi: int, on_worker: int) -> None:
    if on_worker and _python_api is not None and not getattr(_kept, "state", False):
        # A ctypes callback on a thread Python did not start makes and drops a thread state each time (~15 us);
        # one more PyGILState_Ensure, never released, keeps it for the thread's life: a part then costs ~1 us.
        _python_api.PyGILState_Ensure()
        _kept.state = True
    slot = _jobs[job]
    try:
        _as_part(slot[0], lo, hi)
    except BaseException as exc:  # (a callback cannot raise into C: the caller raises it once the pool is done)
        if slot[1] is None:
            slot[1] = exc


_run_range_c = _RANGE_CALLBACK(_run_range)


def parallel(call, items: int, work: int) -> None:
    """``call(lo, hi)`` over ``range(items)`` in parts, one per native thread when ``work`` numbers are enough.

    The parts run at once on :func:`myelin.backend.native_threads` threads (1 outside ``fit``
    and the like), the first on the caller's; ``call`` must let go of the GIL (a ctypes
    kernel, a NumPy product) and write only its own part, so that the parts never race.

    Example:
        >>> import numpy as np
        >>> out = np.zeros(4)
        >>> parallel(lambda lo, hi: out.__setitem__(slice(lo, hi), 1.0), 4, 4)
        >>> out.tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    global _executor
    threads = parts(items, work)
    if threads < 2:
        call(0, items)
        return
    _splits[0] += 1
    if _pool():  # the C pool's threads (the products' too): a hand-off of ~3 us, not ~20-50
        job = next(_job_numbers)
        slot = _jobs[job] = [call, None]
        try:
            _lib.myelin_pool_ranges(_run_range_c, job, items, threads)
        finally:
            del _jobs[job]
        if slot[1] is not None:
            raise slot[1]
        return
    if _executor is None:
        import concurrent.futures  # noqa: PLC0415

        _executor = concurrent.futures.ThreadPoolExecutor(max(1, backend.cpu_count() - 1), "myelin-native")
    bounds = [items * i // threads for i in range(threads + 1)]
    futures = [_executor.submit(_as_part, call, lo, hi) for lo, hi in itertools.pairwise(bounds[1:])]
    _as_part(call, bounds[0], bounds[1])
    for future in futures:
        future.result()


def splits() -> int:
    """How many calls :func:`parallel` has split over threads so far in this process.

    Example:
        >>> splits() >= 0
        True
    """
    return _splits[0]


def largest_product(reset: bool = False) -> float:
    """The floating-point operations of the largest product :func:`matmul` has run (since the last ``reset``).

    Example:
        >>> largest_product() >= 0.0
        True
    """
    value = _largest[0]
    if reset:
        _largest[0] = 0.0
    return value


def matmul(a, b, out=None):
    """``a @ b`` for 2-D operands, threaded as the thread policy says.

    While ``backend.pool_products()`` is on, a product of at least :data:`POOL_GEMM_FLOPS` is
    split by its rows (or, with fewer rows than columns, its columns; for a small result of a
    long sum, such as a convolution kernel's gradient, the sum itself, the parts' blocks then
    added) over the native pool, one BLAS call each, as OpenBLAS's own threads split it: the
    BLAS may round an edge block's elements differently, and a split sum is added in another
    order (float32 rounding, as between its own thread counts), the same split always giving
    the same bits. Without the C pool, products of :data:`POOL_FLOPS` go to :func:`parallel`.
    Otherwise it is one product on ``backend.blas_threads_for``'s thread count.

    Example:
        >>> import numpy as np
        >>> matmul(np.ones((2, 3)), np.ones((3, 2))).tolist()
        [[3.0, 3.0], [3.0, 3.0]]
    """
    m, n = a.shape[0], b.shape[-1]
    flops = 2.0 * m * a.shape[-1] * n
    if flops > _largest[0]:
        _largest[0] = flops
    backend.blas_threads_for(flops)  # (one thread while pool_products is on)
    if (
        backend.pool_products()
        and flops >= POOL_GEMM_FLOPS
        and type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.ndim == 2
        and b.ndim == 2
        and (count := parts(max(m, n), 1 << 30)) > 1
    ):
        fresh = out is None
        if fresh:
            out = np.empty((m, n), dtype=np.result_type(a, b))
        elif np.may_share_memory(out, a) or np.may_share_memory(out, b):
            return np.matmul(a, b, out=out)  # (NumPy buffers an out that overlaps an operand; parts would race)
        if _pool_product(a, b, out, count):
            return out
        if flops < POOL_FLOPS:  # (the Python pool's hand-off costs more than such a product gains)
            return a @ b if fresh else np.matmul(a, b, out=out)
        if m >= n:
            parallel(lambda lo, hi: np.matmul(a[lo:hi], b, out=out[lo:hi]), m, 1 << 30)
        else:
            parallel(lambda lo, hi: np.matmul(a, b[:, lo:hi], out=out[:, lo:hi]), n, 1 << 30)
        return out
    return a @ b if out is None else backend.array_module(a).matmul(a, b, out=out)


_SMALL_RESULT = 1 << 14  # a product with at most this many results and a sum 8 times longer is split along the sum
_gemms: dict = {}  # dtype -> (address of NumPy's BLAS gemm, 64-bit integers) or None, looked for once
_NO_TRANS, _TRANS = 111, 112  # CBLAS's codes


def pool_gemm_available() -> bool:
    """Whether :func:`matmul` can split products over the native pool (its C threads and NumPy's OpenBLAS gemm).

    Example:
        >>> pool_gemm_available() in (True, False)
        True
    """
    return _gemm(np.dtype(np.float32)) is not None


def _gemm(dtype):
    if dtype not in _gemms:
        blas = backend._numpy_openblas()
        found = None
        if _pool() and blas is not None:
            found = blas.gemm(dtype)
        _gemms[dtype] = found
    return _gemms[dtype]


def _operand(x, rows: int, cols: int):
    """(CBLAS transpose code, leading dimension) reading ``x`` (rows, cols) in place, or None (a copy would be needed)."""
    size = x.itemsize
    s0, s1 = x.strides
    if s0 % size or s1 % size:
        return None
    if s1 == size and s0 >= max(1, cols) * size:
        return _NO_TRANS, s0 // size
    if s0 == size and s1 >= max(1, rows) * size:
        return _TRANS, s1 // size
    if rows == 1 and s1 == size:
        return _NO_TRANS, max(1, cols)
    if cols == 1 and s0 == size:
        return _TRANS, max(1, rows)
    return None


def _pool_product(a, b, out, parts: int) -> bool:
    """``out = a @ b`` split over the C pool's threads; False when these operands need NumPy's own product.

    ``out`` must not overlap ``a`` or ``b`` (the caller checks).
    """
    dtype = a.dtype
    found = _gemm(dtype)
    if found is None or b.dtype != dtype or out.dtype != dtype or not out.flags.writeable:
        return False
    m, k = a.shape
    n = b.shape[1]
    la, lb = _operand(a, m, k), _operand(b, k, n)
    size = dtype.itemsize
    so, s1 = out.strides
    if la is None or lb is None or s1 != size or so % size or so < n * size or k == 0:
        return False
    _splits[0] += 1
    split_sum = m * n <= _SMALL_RESULT and k >= 8 * max(m, n)  # a small result of a long sum (a weight's gradient)
    if split_sum:  # each part's block of the sum, added below; else rows (or columns) of out
        target, ldc, by = np.empty((parts, m, n), dtype), n, 2
    else:
        target, ldc, by = out, so // size, int(m >= n)
    _lib.myelin_pool_gemm(
        found[0], found[1], size == 8, la[0], lb[0], m, n, k,
        _address(a), la[1], _address(b), lb[1], _address(target), ldc, by, parts,
    )  # fmt: skip
    if split_sum:
        np.sum(target, axis=0, out=out)
    return True


def _as_part(call, lo: int, hi: int) -> None:
    _inside.part = True
    try:
        call(lo, hi)
    finally:
        _inside.part = False


def _batched(kernel_fn, arrays, geometry: np.ndarray, *extra) -> None:
    """``kernel_fn(*array pointers, geometry, *extra)`` with every array's leading axis the batch, split by batch item."""
    batch = int(geometry[0])

    def call(lo: int, hi: int) -> None:
        part = geometry.copy()
        part[0] = hi - lo
        kernel_fn(*(_address(a) + lo * (a.nbytes // batch) for a in arrays), _address(part), *extra)

    parallel(call, batch, sum(a.size for a in arrays))


def _array_kernel(rule: str, *arrays):
    """The compiled ``rule`` for these C-contiguous NumPy arrays of the first one's float dtype, or None."""
    if _lib is None and not available():
        return None
    first = arrays[0]
    if type(first) is not np.ndarray:
        return None
    kind = _TYPES.get(first.dtype)
    if kind is None:
        return None
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != first.dtype or not a.flags.c_contiguous:
            return None
    return _kernels[rule, kind[0]]


def _geometry(batch, channels, padded, out, window, strides, dilation) -> np.ndarray | None:
    """The int64 geometry array the C loops read (spatial axes padded to three with leading 1s); None past rank 3."""
    rank = len(window)
    if rank > 3:
        return None
    lead = (1,) * (3 - rank)
    values = (batch, channels, *lead, *padded, *lead, *out, *lead, *window, *lead, *strides, *lead, *dilation)
    return np.array(values, dtype=np.int64)


def im2col(xpad: np.ndarray, kernel, strides, dilation, out, cols: np.ndarray) -> bool:
    """im2col: the windows of channels-last ``xpad`` copied into ``cols``, (N * prod(out), taps * C), in one pass.

    False (nothing written) when the kernels are not there or the arrays are not C-contiguous
    NumPy arrays of one float dtype and these shapes: the caller copies its strided view instead.

    Example:
        >>> import numpy as np
        >>> cols = np.empty((2, 2), np.float32)
        >>> if not im2col(np.arange(3, dtype=np.float32).reshape(1, 3, 1), (2,), (1,), (1,), (2,), cols):
        ...     cols[:] = [[0, 1], [1, 2]]
        >>> cols.tolist()
        [[0.0, 1.0], [1.0, 2.0]]
    """
    rank = len(kernel)
    if type(xpad) is not np.ndarray or type(cols) is not np.ndarray or xpad.ndim != rank + 2:
        return False
    if cols.shape != (xpad.shape[0] * math.prod(out), math.prod(kernel) * xpad.shape[-1]) or not cols.flags.writeable:
        return False
    kernel_fn = _array_kernel("im2col", xpad, cols)
    geometry = _geometry(xpad.shape[0], xpad.shape[-1], xpad.shape[1:-1], out, kernel, strides, dilation)
    if kernel_fn is None or geometry is None:
        return False
    _batched(kernel_fn, (xpad, cols), geometry)
    return True


def col2im(cols: np.ndarray, padded_shape, kernel, strides, dilation, out) -> np.ndarray | None:
    """col2im: the (N, *out, *kernel, C) window values added back into a new zero (N, *padded, C) array.

    Tap by tap, in the order of ``myelin/ops/convolution.py``'s NumPy form, so the sums are
    the same bit for bit. None when the kernels are not there or ``cols`` is not a
    C-contiguous float32/float64 NumPy array of that shape.

    Example:
        >>> import numpy as np
        >>> cols = np.ones((1, 2, 2, 1), np.float32)  # 2 outputs of a 2-tap window, stride 1
        >>> acc = col2im(cols, (1, 3, 1), (2,), (1,), (1,), (2,))
        >>> acc is None or acc.ravel().tolist() == [1.0, 2.0, 1.0]
        True
    """
    rank = len(kernel)
    if type(cols) is not np.ndarray or cols.shape != (padded_shape[0], *out, *kernel, padded_shape[-1]):
        return None
    kernel_fn = _array_kernel("col2im", cols)
    geometry = _geometry(padded_shape[0], padded_shape[-1], padded_shape[1 : 1 + rank], out, kernel, strides, dilation)
    if kernel_fn is None or geometry is None:
        return None
    acc = np.empty(padded_shape, dtype=cols.dtype)
    _batched(kernel_fn, (cols, acc), geometry)
    return acc


PRODUCT_CHUNK_BYTES = 2 << 20  # the windows of a chunk of batch items: measured best between 1 and 4 MiB
_chunk_scratch = threading.local()  # .arrays: each thread's window buffers, kept between calls


def chunk_buffer(rows: int, width: int, dtype) -> np.ndarray:
    """A (rows, width) array of this thread's own, kept between calls: where a part copies a chunk's windows.

    One buffer per thread, dtype and width, grown when a call needs more rows; only for
    arrays used within one call (a later call overwrites it).

    Example:
        >>> chunk_buffer(4, 3, np.float32).shape
        (4, 3)
    """
    arrays = getattr(_chunk_scratch, "arrays", None)
    if arrays is None:
        arrays = _chunk_scratch.arrays = {}
    key = (np.dtype(dtype), width)
    buffer = arrays.get(key)
    if buffer is None or buffer.shape[0] < rows:
        buffer = arrays[key] = np.empty((rows, width), dtype)
    return buffer[:rows]


def product_col2im(g: np.ndarray, w_t, padded_shape, kernel, strides, dilation, out) -> np.ndarray | None:
    """:func:`col2im` of ``g @ w_t`` without the whole product: the same numbers, the windows never leave the cache.

    A convolution's input gradient is the output gradient ``g`` (N * prod(out), filters)
    times the kernel's transpose ``w_t`` (filters, taps * C), its window values then added
    back (col2im). Whole, that product is a (pixels x taps * C) array of many megabytes
    written to memory and read back; here each part takes the batch items a chunk of
    ``PRODUCT_CHUNK_BYTES`` at a time, NumPy's product into a kept buffer, then the col2im of
    those items. Each item's rows are the same product rows, so the sums are those of the
    whole product bit for bit. None where :func:`col2im` declines.

    Example:
        >>> import numpy as np
        >>> g, w_t = np.ones((2, 1), np.float32), np.ones((1, 2), np.float32)  # 2 outputs of a 2-tap window
        >>> acc = product_col2im(g, w_t, (1, 3, 1), (2,), (1,), (1,), (2,))
        >>> acc is None or acc.ravel().tolist() == [1.0, 2.0, 1.0]
        True
    """
    rank = len(kernel)
    batch, width = padded_shape[0], math.prod(kernel) * padded_shape[-1]
    outs = math.prod(out)
    if type(g) is not np.ndarray or g.ndim != 2 or g.shape[0] != batch * outs or g.shape[1] != w_t.shape[0]:
        return None
    kernel_fn = _array_kernel("col2im", g)
    geometry = _geometry(batch, padded_shape[-1], padded_shape[1 : 1 + rank], out, kernel, strides, dilation)
    if kernel_fn is None or geometry is None or type(w_t) is not np.ndarray or w_t.dtype != g.dtype or w_t.shape[1] != width:
        return None
    acc = np.empty(padded_shape, dtype=g.dtype)
    items = max(1, PRODUCT_CHUNK_BYTES // (outs * width * g.itemsize))
    item_bytes = acc.nbytes // batch

    def call(lo: int, hi: int) -> None:
        windows = chunk_buffer(min(items, hi - lo) * outs, width, g.dtype)
        part = geometry.copy()
        for b0 in range(lo, hi, items):
            b1 = min(hi, b0 + items)
            chunk = windows[: (b1 - b0) * outs]
            np.matmul(g[b0 * outs : b1 * outs], w_t, out=chunk)
            part[0] = b1 - b0
            kernel_fn(_address(chunk), _address(acc) + b0 * item_bytes, _address(part))

    parallel(call, batch, g.size + batch * outs * width + acc.size)
    return acc


def max_pool(xpad: np.ndarray, pool, strides, out) -> tuple[np.ndarray, np.ndarray] | None:
    """Max pooling of a channels-last (padded) array: the (N, *out, C) maxima and the tap of each (uint8).

    The running maximum of the window's taps in order, as NumPy's ``maximum``; the tap kept
    is the first maximum (ties and NaN never win). None when the kernels are not there,
    ``xpad`` is not a C-contiguous float32/float64 NumPy array or a window has over 256 taps.

    Example:
        >>> import numpy as np
        >>> res = max_pool(np.array([[[1.0], [3.0], [2.0], [2.0]]]), (2,), (2,), (2,))
        >>> res is None or (res[0].ravel().tolist(), res[1].ravel().tolist()) == ([3.0, 2.0], [1, 0])
        True
    """
    if type(xpad) is not np.ndarray or math.prod(pool) > 256:
        return None
    kernel_fn = _array_kernel("maxpool_fwd", xpad)
    geometry = _geometry(xpad.shape[0], xpad.shape[-1], xpad.shape[1:-1], out, pool, strides, (1,) * len(pool))
    if kernel_fn is None or geometry is None:
        return None
    shape = (xpad.shape[0], *out, xpad.shape[-1])
    best, arg = np.empty(shape, dtype=xpad.dtype), np.empty(shape, dtype=np.uint8)
    _batched(kernel_fn, (xpad, best, arg), geometry)
    return best, arg


def max_pool_grad(g: np.ndarray, arg: np.ndarray, padded_shape, pool, strides, disjoint: bool) -> np.ndarray | None:
    """Max pooling's input gradient: each of ``g`` sent to its window's tap ``arg``, in a new (N, *padded, C) array.

    Taps from the last, assigned when the windows are ``disjoint`` and added otherwise, as
    the NumPy form does. None when the kernels are not there or the arrays do not fit.

    Example:
        >>> import numpy as np
        >>> gx = max_pool_grad(np.ones((1, 2, 1)), np.array([[[1], [0]]], np.uint8), (1, 4, 1), (2,), (2,), True)
        >>> gx is None or gx.ravel().tolist() == [0.0, 1.0, 1.0, 0.0]
        True
    """
    if type(g) is not np.ndarray or type(arg) is not np.ndarray or arg.dtype != np.uint8 or arg.shape != g.shape:
        return None
    if not arg.flags.c_contiguous or g.shape[0] != padded_shape[0] or g.shape[-1] != padded_shape[-1]:
        return None
    kernel_fn = _array_kernel("maxpool_bwd", g)
    geometry = _geometry(g.shape[0], g.shape[-1], padded_shape[1:-1], g.shape[1:-1], pool, strides, (1,) * len(pool))
    if kernel_fn is None or geometry is None:
        return None
    dst = np.empty(padded_shape, dtype=g.dtype)
    _batched(kernel_fn, (g, arg, dst), geometry, int(bool(disjoint)))
    return dst


def relu_grad(g: np.ndarray, out: np.ndarray, res: np.ndarray) -> bool:
    """``res = g * (out > 0)`` in one pass (the ReLU's gradient read off its output); False: run the NumPy form.

    Example:
        >>> import numpy as np
        >>> g, out, res = np.ones(3), np.array([-1.0, 0.0, 2.0]), np.empty(3)
        >>> if not relu_grad(g, out, res): _ = np.multiply(g, out > 0, out=res)
        >>> res
        array([0., 0., 1.])
    """
    kernel_fn = _array_kernel("relu_grad", g, out, res)
    if kernel_fn is None or g.shape != out.shape or res.shape != g.shape or not res.flags.writeable:
        return False
    if 3 * g.size < PARALLEL_MIN_ELEMENTS:  # one call, without the split's closure (a small layer's every step)
        kernel_fn(_address(g), _address(out), _address(res), g.size)
        return True
    size = g.itemsize

    def call(lo: int, hi: int) -> None:
        kernel_fn(_address(g) + lo * size, _address(out) + lo * size, _address(res) + lo * size, hi - lo)

    parallel(call, g.size, 3 * g.size)
    return True


def bias_relu(out: np.ndarray, bias: np.ndarray, relu: bool) -> bool:
    """``out += bias`` then, with ``relu``, ``maximum(out, 0)``, in place and in one pass; False: run the NumPy form.

    ``out`` is a C-contiguous (rows, len(bias)) array of ``bias``'s dtype.

    Example:
        >>> import numpy as np
        >>> out, bias = np.array([[1.0, -2.0], [0.5, 0.5]]), np.array([0.5, 1.0])
        >>> if not bias_relu(out, bias, True): out += bias; _ = np.maximum(out, 0, out=out)
        >>> out
        array([[1.5, 0. ],
               [1. , 1.5]])
    """
    kernel_fn = _array_kernel("bias_relu", out, bias)
    if kernel_fn is None or out.ndim != 2 or bias.shape != (out.shape[1],) or not out.flags.writeable:
        return False
    if out.size < PARALLEL_MIN_ELEMENTS:
        kernel_fn(_address(out), _address(bias), out.shape[0], out.shape[1], int(bool(relu)))
        return True
    row = out.shape[1] * out.itemsize

    def call(lo: int, hi: int) -> None:
        kernel_fn(_address(out) + lo * row, _address(bias), hi - lo, out.shape[1], int(bool(relu)))

    parallel(call, out.shape[0], out.size)
    return True


SMALL_K_MAX = 32  # the longest sum the short-sum kernels take: past it BLAS's packed product is faster
_SMALL_K_WIDTH = 4096  # and the widest output row (the C kernel's scratch holds one)


def _small_k_fits(k: int, f: int) -> bool:
    """Whether the short-sum kernels take a sum of ``k`` numbers into rows of ``f``."""
    return 0 < k <= SMALL_K_MAX and 0 < f <= _SMALL_K_WIDTH


def small_k_product(cols: np.ndarray, w: np.ndarray, bias: np.ndarray | None, relu: bool) -> np.ndarray | None:
    """``act(cols @ w + bias)`` for a short sum (``w.shape[0] <= SMALL_K_MAX``) in one pass; None: run the BLAS form.

    A first convolution's product is (pixels x taps*channels) @ (taps*channels x filters)
    with 9 or 27 numbers a sum: BLAS packs both operands for it, and the bias and ReLU then
    read and write its long output again. The C kernel sums four rows at a time in registers
    and writes each output number once, split over the native threads. The numbers agree
    with the BLAS form to rounding (BLAS fuses multiply-adds; this kernel does not).

    Example:
        >>> import numpy as np
        >>> cols, w = np.ones((5, 3)), np.full((3, 2), 0.5)
        >>> out = small_k_product(cols, w, np.array([0.0, -2.0]), relu=True)
        >>> (out if out is not None else np.maximum(cols @ w + [0.0, -2.0], 0))[0]
        array([1.5, 0. ])
    """
    if cols.ndim != 2 or w.ndim != 2 or cols.shape[1] != w.shape[0] or not _small_k_fits(*w.shape):
        return None
    kernel_fn = _array_kernel("smallk_fwd", cols, w)
    if kernel_fn is None:
        return None
    m, k = cols.shape
    f = w.shape[1]
    if bias is None:
        bias = np.zeros(f, cols.dtype)
    elif type(bias) is not np.ndarray or bias.dtype != cols.dtype or bias.shape != (f,) or not bias.flags.c_contiguous:
        return None
    out = np.empty((m, f), cols.dtype)
    flag = int(bool(relu))

    def call(lo: int, hi: int) -> None:
        kernel_fn(_address(cols), _address(w), _address(bias), _address(out), k, f, flag, lo, hi)

    parallel(call, m, m * f)
    return out


def small_k_grads(g: np.ndarray, out: np.ndarray | None, cols: np.ndarray, bias_grad: bool) -> tuple | None:
    """The kernel and bias gradients of :func:`small_k_product` when its input needs none, in one pass; None: no kernel.

    ``g`` is the output's gradient and ``out`` the ReLU's output (None: no activation):
    returns ``(cols.T @ (g * (out > 0)), column sums of that)`` (the second None without
    ``bias_grad``) without writing the masked gradient. The rows are summed in up to 16
    fixed chunks, added in order, so one thread and two give the same numbers.

    Example:
        >>> import numpy as np
        >>> g, cols = np.ones((4, 2)), np.ones((4, 3))
        >>> res = small_k_grads(g, None, cols, True)
        >>> (res[1] if res is not None else g.sum(0)).tolist()
        [4.0, 4.0]
    """
    if g.ndim != 2 or cols.ndim != 2 or cols.shape[0] != g.shape[0] or (out is not None and out.shape != g.shape):
        return None
    (m, f), k = g.shape, cols.shape[1]
    kernel_fn = _array_kernel("smallk_bwd", *((g, cols) if out is None else (g, cols, out)))
    if kernel_fn is None or not _small_k_fits(k, f):
        return None
    chunks = max(1, min(16, m // 2048))
    chunk = -(-m // chunks)
    gw_parts = np.empty((chunks, k, f), g.dtype)
    gb_parts = np.empty((chunks, f), g.dtype) if bias_grad else None
    out_ptr = None if out is None else _address(out)
    gb_ptr = None if gb_parts is None else _address(gb_parts)

    def call(lo: int, hi: int) -> None:
        kernel_fn(_address(g), out_ptr, _address(cols), _address(gw_parts), gb_ptr, m, k, f, chunk, lo, hi)

    parallel(call, chunks, 3 * m * f)
    return gw_parts.sum(axis=0), None if gb_parts is None else gb_parts.sum(axis=0)


def index_add(grad: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> bool:
    """``grad[idx[k]] += rows[k]`` for every k in order, in place, as ``np.add.at(grad, idx, rows)``; False: run that.

    ``grad`` is a C-contiguous (vocabulary, dim) array, ``rows`` (len(idx), dim) of its
    dtype, ``idx`` int64 ids already checked to lie in [0, vocabulary). Large calls split
    the columns between the native threads (each adds its columns in the same order).

    Example:
        >>> import numpy as np
        >>> grad = np.zeros((3, 2))
        >>> if not index_add(grad, np.array([2, 0, 2]), np.ones((3, 2))): np.add.at(grad, [2, 0, 2], 1.0)
        >>> grad[:, 0].tolist()
        [1.0, 0.0, 2.0]
    """
    kernel_fn = _array_kernel("index_add", grad, rows)
    if kernel_fn is None or type(idx) is not np.ndarray or idx.dtype != np.int64 or not idx.flags.c_contiguous:
        return False
    if grad.ndim != 2 or rows.shape != (idx.size, grad.shape[1]) or not grad.flags.writeable:
        return False
    dim = grad.shape[1]

    def call(lo: int, hi: int) -> None:
        kernel_fn(_address(grad), _address(idx), _address(rows), idx.size, dim, lo, hi)

    parallel(call, dim, 2 * rows.size)
    return True


# ---------------------------------------------------------------------------- the LSTM's time loop


def lstm_factors(gates: np.ndarray, cells: np.ndarray, tanh_c: np.ndarray, factors: np.ndarray, to_cell: np.ndarray) -> bool:
    """The LSTM backward's gate factors and d c / d h for every (step, batch) row, in one pass.

    ``gates`` and ``factors`` are (..., 4 units) (activations i, f, c, o), the others (...,
    units), all C-contiguous of one float dtype with the same leading shape: ``factors`` =
    (g i (1 - i), c f (1 - f), i (1 - g^2), tanh(c) o (1 - o)), ``to_cell`` = o (1 - tanh(c)^2),
    as ``myelin/ops/recurrent.py``'s NumPy form. False: run that form.

    Example:
        >>> import numpy as np
        >>> gates, cells, tc = np.full((1, 4), 0.5), np.ones((1, 1)), np.zeros((1, 1))
        >>> factors, to_cell = np.empty((1, 4)), np.empty((1, 1))
        >>> lstm_factors(gates, cells, tc, factors, to_cell) in (True, False)
        True
    """
    kernel_fn = _array_kernel("lstm_factors", gates, cells, tanh_c, factors, to_cell)
    u = cells.shape[-1] if cells.ndim else 0
    lead = gates.shape[:-1]
    if kernel_fn is None or gates.shape[-1] != 4 * u or factors.shape != gates.shape:
        return False
    if cells.shape != (*lead, u) or tanh_c.shape != cells.shape or to_cell.shape != cells.shape:
        return False
    rows, size = math.prod(lead), gates.itemsize

    def call(lo: int, hi: int) -> None:
        kernel_fn(
            _address(gates) + lo * 4 * u * size,
            _address(cells) + lo * u * size,
            _address(tanh_c) + lo * u * size,
            _address(factors) + lo * 4 * u * size,
            _address(to_cell) + lo * u * size,
            hi - lo,
            u,
        )

    parallel(call, rows, 7 * rows * u)
    return True


def lstm_step_kernels(*arrays):
    """The LSTM's per-step kernels ``(cell, back_step)`` for these arrays' dtype, or None: run the NumPy form.

    Raw ctypes functions taking data addresses (the caller keeps the arrays alive and
    C-contiguous), called once per time step, where :func:`lstm_factors`'s checks would cost
    more than the step: ``cell(z, scale, shift, c, c_new, batch, units)`` turns the step's
    tanh of the pre-activations into the gates and writes the new cell; ``back_step(gout,
    gout_row_stride, dh, dc, to_cell, factors, gates, dz, dz_row_stride, batch, units)`` is
    one step of the reverse sweep (strides in elements, ``dc`` updated in place).

    Example:
        >>> import numpy as np
        >>> kernels = lstm_step_kernels(np.zeros((2, 8), np.float32))
        >>> kernels is None or len(kernels) == 2
        True
    """
    first = arrays[0]
    if _array_kernel("lstm_cell", *arrays) is None:
        return None
    suffix = _TYPES[first.dtype][0]
    return _kernels["lstm_cell", suffix], _kernels["lstm_back_step", suffix]
