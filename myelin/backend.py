"""Level 0: the array module, the default float type, and the random generator.

Every other module asks this one for ``xp`` (NumPy, or CuPy when an array lives on a GPU)
instead of importing NumPy into an op, so one implementation serves both.

Example:
    >>> import numpy as np
    >>> from myelin import backend
    >>> backend.array_module(np.zeros(3)) is np
    True
    >>> backend.floatx()
    'float32'
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
import time

import numpy as np

_FLOATX = "float32"
_rng = np.random.default_rng()


def array_module(*arrays):
    """Return the array module (``numpy`` or ``cupy``) that owns ``arrays``.

    CuPy is consulted only when an argument is not a NumPy array or scalar, so a
    NumPy-only process never imports it.

    Example:
        >>> import numpy as np
        >>> array_module(np.ones(2)) is np
        True
    """
    for a in arrays:
        if type(a) is np.ndarray or isinstance(a, (np.ndarray, np.generic, float, int)) or a is None:
            continue
        module = type(a).__module__
        if module.startswith("cupy"):
            import cupy  # noqa: PLC0415  (only reached with a CuPy array in hand)

            return cupy
    return np


def floatx() -> str:
    """The default floating-point type of new weights and converted inputs.

    Example:
        >>> floatx()
        'float32'
    """
    return _FLOATX


def set_floatx(dtype: str) -> None:
    """Set the default floating-point type: ``"float32"`` (default) or ``"float64"``.

    float64 is for gradient checks and comparisons; training runs in float32.

    Example:
        >>> set_floatx("float64"); set_floatx("float32")
    """
    global _FLOATX
    name = np.dtype(dtype).name
    if name not in ("float16", "float32", "float64"):
        raise ValueError(f"set_floatx: dtype must be float16, float32 or float64, got {dtype!r}")
    _FLOATX = name


def is_float_dtype(dtype) -> bool:
    """Whether a NumPy dtype is a floating type, bfloat16 (``ml_dtypes``, whose NumPy kind is 'V') included.

    Example:
        >>> import numpy as np
        >>> is_float_dtype(np.dtype("float16")), is_float_dtype(np.dtype("int8"))
        (True, False)
    """
    return dtype.kind == "f" or (dtype.kind == "V" and dtype.name == "bfloat16")


def as_float_array(data, dtype=None):
    """Convert ``data`` to an array of a floating dtype, without copying when it already is one.

    Integer, boolean and Python-number input becomes ``dtype`` (default: ``floatx()``);
    floating arrays keep their dtype unless ``dtype`` is given.

    Example:
        >>> as_float_array([1, 2]).dtype
        dtype('float32')
    """
    xp = array_module(data)
    if dtype is None and not hasattr(data, "dtype"):
        dtype = _FLOATX  # Python numbers and lists: never let them become float64
    arr = xp.asarray(data, dtype=dtype)
    if arr.dtype.kind != "f":
        arr = arr.astype(_FLOATX)
    return arr


def rng() -> np.random.Generator:
    """The library's random generator: weight initialisation, shuffling and dropout draw from it.

    Example:
        >>> set_seed(0); a = rng().random(); set_seed(0); a == rng().random()
        True
    """
    return _rng


def set_seed(seed: int) -> None:
    """Reseed the library's generator (and NumPy's global one, as Keras does).

    Example:
        >>> set_seed(42)
    """
    global _rng
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"set_seed: seed must be a non-negative integer, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)


def rng_state() -> dict:
    """The generator's state as a JSON-serialisable dict (for checkpoints).

    Example:
        >>> state = rng_state(); set_rng_state(state)
    """
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`rng_state`.

    Example:
        >>> set_rng_state(rng_state())
    """
    _rng.bit_generator.state = state


# ---------------------------------------------------------------------------- BLAS
class _OpenBLAS:
    """NumPy's OpenBLAS, reached through ctypes (symbols with or without scipy-openblas's prefix)."""

    def __init__(self, path: str):
        self.path = path
        self.lib = ctypes.CDLL(path)  # already loaded by NumPy: the same handle
        self.prefix, self.suffix = ("scipy_", "64_") if self._has("scipy_openblas_get_corename64_") else ("", "")

    def _has(self, name: str) -> bool:
        return hasattr(self.lib, name)

    def _fn(self, name: str):
        return getattr(self.lib, f"{self.prefix}{name}{self.suffix}")

    def corename(self) -> str:
        fn = self._fn("openblas_get_corename")
        fn.restype = ctypes.c_char_p
        return fn().decode()

    def threads(self) -> int:
        return int(self._fn("openblas_get_num_threads")())

    def set_threads(self, n: int) -> None:
        self._fn("openblas_set_num_threads")(int(n))

    def gemm(self, dtype) -> tuple[int, bool] | None:
        """The address of its CBLAS ``sgemm`` (float32) or ``dgemm`` (float64), and whether it takes 64-bit integers."""
        name = {"float32": "cblas_sgemm", "float64": "cblas_dgemm"}.get(str(dtype))
        if name is None or not self._has(f"{self.prefix}{name}{self.suffix}"):
            return None
        config = self._fn("openblas_get_config")
        config.restype = ctypes.c_char_p
        return ctypes.cast(self._fn(name), ctypes.c_void_p).value, b"USE64BITINT" in (config() or b"")

    def gemv(self, dtype) -> int | None:
        """The address of its CBLAS ``sgemv`` or ``dgemv`` (same integers as :meth:`gemm`), or None."""
        name = {"float32": "cblas_sgemv", "float64": "cblas_dgemv"}.get(str(dtype))
        if name is None or not self._has(f"{self.prefix}{name}{self.suffix}"):
            return None
        return ctypes.cast(self._fn(name), ctypes.c_void_p).value


_found_openblas: list = []  # [the _OpenBLAS found (or None)] once looked for: the libraries loaded do not change


def _numpy_openblas() -> _OpenBLAS | None:
    """NumPy's bundled OpenBLAS, when that is NumPy's BLAS (Linux wheels), else None; looked for once."""
    if _found_openblas:
        return _found_openblas[0]
    found = None
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/maps", encoding="utf-8") as maps:
                paths = {line.split()[-1] for line in maps if "openblas" in line and ".so" in line}
        except OSError:
            paths = set()
        for path in sorted(paths):
            try:
                found = _OpenBLAS(path)
                break
            except (OSError, AttributeError):
                continue
    _found_openblas.append(found)
    return found


def blas_info() -> dict:
    """NumPy's BLAS as myelin sees it: library path, kernel ("core") and thread count.

    Example:
        >>> sorted(blas_info())
        ['core', 'library', 'threads']
    """
    blas = _numpy_openblas()
    if blas is None:
        return {"library": None, "core": None, "threads": None}
    return {"library": blas.path, "core": blas.corename(), "threads": blas.threads()}


def set_blas_threads(n: int) -> None:
    """Set the number of threads NumPy's OpenBLAS uses (1 is best for small products here).

    Example:
        >>> set_blas_threads(blas_info()["threads"] or 1)
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_blas_threads: n must be a positive integer, got {n!r}")
    blas = _numpy_openblas()
    if blas is None:
        raise RuntimeError("set_blas_threads: NumPy does not use a bundled OpenBLAS here; set OPENBLAS_NUM_THREADS instead")
    blas.set_threads(n)


# ---------------------------------------------------------------------------- the thread policy
# Products below this many floating-point operations (2 m k n) run on one BLAS thread: splitting
# them costs more than it saves. Measured on this project's 2-core machines (AMD EPYC, OpenBLAS
# SkylakeX kernels, quiet machine): 3.2 MFLOP 0.77x on two threads, 8.4 MFLOP 1.66x, 12.8 MFLOP
# 1.75x (docs/performance.md, bench/RESULTS.md).
THREAD_CROSSOVER_FLOPS = 4e6

_explicit_threads: int | None = None  # set by myelin.config.set_num_threads
_policy_depth = 0  # > 0 while fit, evaluate or predict runs with myelin choosing
_policy_many = 1  # the thread count for large products while the policy is on
_policy_blas = None  # the _OpenBLAS the policy drives
_policy_current = [0]  # the count myelin last set (0: unknown)
_first_seen_threads: int | None = None  # OpenBLAS's count the first time myelin looked
_native_threads = 1  # threads the native kernels split a batch over: the policy's count while it is on
_pool_products = False  # inside fit: large products split over the native threads, OpenBLAS at one thread


def native_threads() -> int:
    """How many threads the native convolution kernels split a batch over now (1 outside ``fit`` and the like).

    While :func:`thread_policy` is on: the thread count of large products (or the user's
    explicit count); the kernels give the same numbers whatever it is.

    Example:
        >>> native_threads()
        1
    """
    return _native_threads


_busy_seen = [-1e9, 0]  # (time.monotonic() of the last look, cores other processes kept busy then)


def busy_cores() -> int:
    """How many cores other processes keep busy now: the runnable tasks in ``/proc/loadavg`` but this process's.

    Five looks a millisecond apart, their median, and when that shows a busy core five more
    10 ms later (the smaller count stands: a burst that has ended does not count), remembered
    for a second (a ``predict`` in a loop pays for it once a second). 0 where
    ``/proc/loadavg`` does not exist (not Linux).
    The BLAS thread policy leaves these cores alone: a second BLAS thread on a core another
    process is using makes a product several times slower, not faster (docs/performance.md).

    Example:
        >>> busy_cores() >= 0
        True
    """
    now = time.monotonic()
    if now - _busy_seen[0] < 1.0:
        return _busy_seen[1]
    busy = _busy_looks()
    if busy:
        # A program that has just finished its own threaded work (PyTorch's OpenMP workers spin ~8 ms after
        # their last call) looks busy for a few milliseconds: only what is still busy 10 ms later counts.
        time.sleep(0.010)
        busy = min(busy, _busy_looks())
    _busy_seen[0], _busy_seen[1] = now, busy
    return busy


def _busy_looks() -> int:
    """The median over five looks a millisecond apart of the runnable tasks of other processes."""
    counts = []
    try:
        for i in range(5):
            with open("/proc/loadavg", encoding="ascii") as f:
                runnable = int(f.read().split()[3].split("/")[0])
            counts.append(runnable - _own_runnable())  # this process's threads (a peer's spinning ones too) aside
            if i < 4:
                time.sleep(0.001)
    except (OSError, ValueError, IndexError):
        counts = [0]
    return max(0, sorted(counts)[len(counts) // 2])


def _own_runnable() -> int:
    """This process's threads that are running or runnable now (at least 1: the one asking)."""
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii", errors="replace") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        n += state == "R"
    return max(1, n)


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask; ``os.cpu_count()`` where there is none).

    Example:
        >>> cpu_count() >= 1
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def explicit_threads() -> int | None:
    """The thread count the user chose, or None when myelin may choose (``docs/performance.md``).

    The user's choice is, in order: ``myelin.config.set_num_threads(n)``;
    ``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS`` in the environment; a limit set on
    NumPy's OpenBLAS since myelin first looked at it (``threadpoolctl.threadpool_limits``,
    ``set_blas_threads``), seen as a thread count other than the one OpenBLAS started with.

    Example:
        >>> n = explicit_threads()
        >>> n is None or n >= 1
        True
    """
    global _first_seen_threads
    if _explicit_threads is not None:
        return _explicit_threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    blas = _numpy_openblas()
    if blas is None:
        return None
    now = blas.threads()
    if _first_seen_threads is None:
        _first_seen_threads = now
    return None if now == _first_seen_threads else now


@contextlib.contextmanager
def thread_policy(workers: int = 0, processes: int = 1):
    """While active (``fit``, ``evaluate``, ``predict``), myelin picks each product's BLAS thread count.

    Products of at least :data:`THREAD_CROSSOVER_FLOPS` run on every core this process
    has to itself, smaller ones on one thread. ``workers`` (data-loading threads or processes
    that run beside the step) and ``processes`` (MPI ranks sharing this machine) take cores
    away, and so do other programs keeping cores busy when the call starts
    (:func:`busy_cores`): never more BLAS threads than free cores. The caller's setting is restored at the
    end. With an explicit setting (:func:`explicit_threads`) nothing is chosen: an
    explicit ``myelin.config.set_num_threads(n)`` is applied for the duration, and
    environment or ``threadpoolctl`` limits are left as they are.

    Example:
        >>> with thread_policy(workers=0):
        ...     blas_threads_for(1e3)  # a small product: one thread while the policy is on
    """
    global _policy_users, _policy_undo
    with _policy_lock:  # (one model's predict from several threads: the first one in sets, the last one out restores)
        if _policy_users == 0:
            _policy_undo = _begin_policy(workers, processes)
        _policy_users += 1  # (nested, as validation inside fit: the outer policy stands)
    try:
        yield
    finally:
        with _policy_lock:
            _policy_users -= 1
            if _policy_users == 0 and _policy_undo is not None:
                _end_policy(*_policy_undo)
                _policy_undo = None


_policy_lock = threading.Lock()
_policy_users = 0  # calls inside thread_policy now, in every thread
_policy_undo = None  # (the BLAS, its thread count before, the native threads before): restored by the last one out


def _begin_policy(workers: int, processes: int) -> tuple | None:
    """Apply the policy (or the explicit setting) for the first call in; what to restore, or None (no OpenBLAS)."""
    global _policy_depth, _policy_many, _policy_blas, _native_threads
    blas = _numpy_openblas()
    if blas is None:
        return None
    explicit = explicit_threads()
    previous = blas.threads()
    saved_native = _native_threads
    if explicit is not None:
        if _explicit_threads is not None:
            blas.set_threads(_explicit_threads)
        _native_threads = max(1, min(explicit, cpu_count()))
        return blas, previous, saved_native
    own = max(0, int(workers)) + max(0, int(processes) - 1)  # our data workers and MPI peers (busy or about to be)
    free = max(1, cpu_count() - max(own, busy_cores()))
    _policy_blas, _policy_many, _policy_current[0] = blas, max(1, min(free, previous)), previous
    _policy_depth, _native_threads = 1, _policy_many
    if _policy_many > 1:
        from . import native  # noqa: PLC0415  (loads the C file on first use only)

        if native.pool_gemm_available() and pool_products(True):
            # Products split over myelin's own threads, OpenBLAS at one: its idle worker would spin beside them.
            blas.set_threads(1)
            _policy_current[0] = 1
    return blas, previous, saved_native


def _end_policy(blas, previous: int, saved_native: int) -> None:
    global _policy_depth, _policy_blas, _pool_products, _native_threads
    _policy_depth = 0
    _policy_blas = None
    _pool_products = False
    blas.set_threads(previous)
    _native_threads = saved_native


def blas_threads_for(flops: float) -> None:
    """Set NumPy's BLAS thread count for a product of ``flops`` operations, when the policy is on (hot path).

    Called by the matrix-product primitives before each product; a no-op outside
    :func:`thread_policy` and when the count is already right.

    Example:
        >>> blas_threads_for(1e9)  # outside fit: does nothing
    """
    if _policy_depth:
        n = _policy_many if flops >= THREAD_CROSSOVER_FLOPS and not _pool_products else 1
        if n != _policy_current[0]:
            _policy_blas.set_threads(n)
            _policy_current[0] = n


def pool_products(on: bool | None = None) -> bool:
    """Whether large products run split over the native threads (one BLAS thread each) now; ``on`` sets it.

    Only while the thread policy is on, with several native threads. The policy turns it on
    as it starts when the native pool can run products (:func:`myelin.native.pool_gemm_available`:
    the C file's threads calling NumPy's OpenBLAS gemm); without that pool ``fit`` turns it
    on when its recorded step splits native work over threads and has a product of at least
    ``native.POOL_FLOPS`` (OpenBLAS's own threads would spin beside those parts;
    docs/performance.md). The policy turns it off when it ends.

    Example:
        >>> pool_products()
        False
    """
    global _pool_products
    if on is not None:
        _pool_products = bool(on) and _policy_depth > 0 and _native_threads > 1
    return _pool_products


def set_num_threads(n: int | None) -> None:
    """Fix the BLAS thread count myelin's products use in ``fit``/``evaluate``/``predict`` (None: myelin chooses).

    Example:
        >>> set_num_threads(1); set_num_threads(None)
    """
    global _explicit_threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_num_threads: n must be a positive integer or None, got {n!r}")
    _explicit_threads = n


# Where new tensors go (myelin.device): None keeps arrays where they are made (NumPy on the host);
# (cupy, index) inside ``device("gpu:index")`` moves the data of each new Tensor to that GPU.
_placement = None


def placement():
    """None (arrays stay where they are), or ``(cupy, gpu index)`` inside ``myelin.device("gpu")``.

    Example:
        >>> placement() is None
        True
    """
    return _placement


def set_placement(value) -> None:
    """Set what :func:`placement` returns (``myelin.device`` does, on entering and leaving).

    Example:
        >>> set_placement(None)
    """
    global _placement
    _placement = value


def placed(data):
    """``data`` on the device that :func:`placement` names: unchanged on the host, a CuPy array on a GPU.

    Example:
        >>> placed(np.ones(2)).tolist()
        [1.0, 1.0]
    """
    if _placement is None:
        return data
    cupy, index = _placement
    if type(data).__module__.startswith("cupy") and data.device.id == index:
        return data
    with cupy.cuda.Device(index):
        return cupy.asarray(data)
