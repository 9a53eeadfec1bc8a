"""The native optimizer kernels (myelin/_native.c) equal the NumPy forms bit for bit."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import myelin
from myelin import Tensor, native, optimizers

needs_native = pytest.mark.skipif(not native.available(), reason=f"native kernels: {native.status()}")


def test_built_where_required():
    """CI sets MYELIN_REQUIRE_NATIVE=1: there the kernels must have been built and loaded."""
    if os.environ.get("MYELIN_REQUIRE_NATIVE") != "1":
        pytest.skip("MYELIN_REQUIRE_NATIVE is not set")
    assert native.available(), native.status()


def _turn_off(monkeypatch):
    """Turn the kernels off for the rest of a test (what a build without a compiler does)."""
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_status", "turned off by a test")


@pytest.fixture
def numpy_forms(monkeypatch):
    _turn_off(monkeypatch)


CASES = [
    ("adam", lambda: optimizers.Adam(0.01)),
    ("adam-tiny-eps", lambda: optimizers.Adam(0.003, beta_1=0.5, beta_2=0.9, epsilon=1e-12)),
    ("adamw", lambda: optimizers.AdamW(0.01, weight_decay=0.1)),
    ("adam-clipped-ema", lambda: optimizers.Adam(0.01, global_clipnorm=0.5, use_ema=True)),
    ("sgd", lambda: optimizers.SGD(0.1)),
    ("sgd-momentum", lambda: optimizers.SGD(0.1, momentum=0.9)),
    ("sgd-nesterov", lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True)),
    ("rmsprop", lambda: optimizers.RMSprop(0.01)),
    ("rmsprop-momentum", lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.9)),
]


def _run(make, dtype, steps=25, skip_every=0):
    """Train three variables on fixed random gradients; return every number the optimizer owns."""
    rng = np.random.default_rng(7)
    shapes = [(17, 5), (5,), (3, 4, 2)]
    variables = [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    opt = make()
    grads_per_step = [
        [(rng.standard_normal(s) * 10.0 ** rng.uniform(-4, 1)).astype(dtype) for s in shapes] for _ in range(steps)
    ]
    for k, grads in enumerate(grads_per_step):
        if skip_every and k % skip_every == 1:
            grads = [None, grads[1], grads[2]]  # one variable without a gradient: the per-slice path
        opt.apply(grads, variables)
    state = {name: arr.copy() for name, arr in opt.get_state().items() if name != "iterations"}
    return [v.data.copy() for v in variables], state


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@needs_native
@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("skip_every", [0, 3])
def test_kernel_equals_numpy_form_bit_for_bit(name, make, dtype, skip_every, monkeypatch):
    fast = _run(make, dtype, skip_every=skip_every)
    _turn_off(monkeypatch)
    slow = _run(make, dtype, skip_every=skip_every)
    for a, b in zip(fast[0], slow[0]):
        assert a.dtype == dtype
        np.testing.assert_array_equal(_bits(a), _bits(b))
    assert fast[1].keys() == slow[1].keys()
    for key in fast[1]:
        np.testing.assert_array_equal(_bits(fast[1][key]), _bits(slow[1][key]))
    untrained = _run(lambda: optimizers.SGD(0.0), dtype, steps=1)[0]
    assert not any(np.array_equal(a, b) for a, b in zip(fast[0], untrained))  # every variable moved


@needs_native
def test_kernel_is_used_by_fit_and_training_equals_numpy_form(monkeypatch):
    x = np.random.default_rng(0).standard_normal((96, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")

    def train():
        myelin.utils.set_random_seed(3)
        model = myelin.Sequential([myelin.layers.Dense(8, activation="relu"), myelin.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        return [w.copy() for w in model.get_weights()], history.history["loss"]

    calls = []
    real = native.adam
    monkeypatch.setattr(native, "adam", lambda *a: calls.append(1) or real(*a))
    fast = train()
    assert len(calls) == 3 * 6  # every step of fit went through the kernel
    _turn_off(monkeypatch)
    slow = train()
    assert fast[1] == slow[1]
    for a, b in zip(fast[0], slow[0]):
        np.testing.assert_array_equal(a, b)


@needs_native
def test_special_values_match(monkeypatch):
    """NaN, infinities, zeros, subnormals and huge gradients round and propagate as in NumPy."""
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-40, 3e38, -3e38, 1.0], np.float32)

    def run():
        w = Tensor(np.ones(10, np.float32), requires_grad=True)
        opt = optimizers.Adam(0.1)
        with np.errstate(all="ignore"):  # NumPy's form warns about inf - inf and overflow
            for _ in range(3):
                opt.apply([special], [w])
        return w.data.copy(), opt.get_state()["0/v"].copy()

    fast = run()
    _turn_off(monkeypatch)
    slow = run()
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)  # NaN where NumPy has NaN, same values elsewhere
        assert np.array_equal(np.signbit(a), np.signbit(b))


@needs_native
def test_kernel_declines_what_it_cannot_do():
    f32 = np.zeros(4, np.float32)
    assert not native.adam(np.zeros(4, np.float16), *(np.zeros(4, np.float16),) * 3, 0.1, 0.1, 1e-7, 0.1)
    assert not native.adam(f32, np.zeros(4, np.float64), f32.copy(), f32.copy(), 0.1, 0.1, 1e-7, 0.1)
    assert not native.adam(f32, np.zeros(5, np.float32), f32.copy(), f32.copy(), 0.1, 0.1, 1e-7, 0.1)
    assert not native.sgd(np.zeros(8, np.float32)[::2], f32, None, 0.1, 0.0, False)  # not contiguous
    read_only = np.zeros(4, np.float32)
    read_only.flags.writeable = False
    assert not native.sgd(read_only, f32, None, 0.1, 0.0, False)
    assert not native.sgd([0.0] * 4, f32, None, 0.1, 0.0, False)
    assert native.sgd(f32, np.ones(4, np.float32), None, 0.5, 0.0, False)
    np.testing.assert_array_equal(f32, np.full(4, -0.5, np.float32))


def test_without_kernels_every_rule_still_runs(numpy_forms):
    assert not native.available()
    assert native.status() == "turned off by a test"
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    optimizers.Adam(0.1).apply([np.ones(3, np.float32)], [w])
    np.testing.assert_allclose(w.data, np.full(3, 0.9), rtol=1e-6)  # Adam's first step moves by lr


def test_environment_variable_turns_kernels_off():
    code = "from myelin import native; print(native.available(), native.status())"
    env = {**os.environ, "MYELIN_NATIVE": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False turned off by MYELIN_NATIVE=0"


def test_import_does_not_load_kernels():
    code = "import myelin; from myelin import native; print(native._status)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "None"  # loaded on the first optimizer step, not at import


@needs_native
def test_addresses_are_read_afresh_so_a_moved_array_is_never_written_at_its_old_place():
    p = np.zeros(4, np.float32)
    assert native.sgd(p, np.ones(4, np.float32), None, 1.0, 0.0, False)
    p.resize(100_000, refcheck=False)  # NumPy moves its memory
    assert native.sgd(p, np.ones(100_000, np.float32), None, 1.0, 0.0, False)
    np.testing.assert_array_equal(p[:5], [-2, -2, -2, -2, -1])
    base = np.zeros(8, np.float32)
    assert native.sgd(base[2:6], np.ones(4, np.float32), None, 1.0, 0.0, False)  # a view: its own address
    np.testing.assert_array_equal(base, [0, 0, -1, -1, -1, -1, 0, 0])
    assert native._address(base[2:6]) == base[2:6].ctypes.data


def test_a_part_of_a_split_call_never_splits_again(monkeypatch):
    """The pool's threads are all busy with the outer parts: an inner split would wait on itself."""
    monkeypatch.setattr(myelin.backend, "_native_threads", 2)
    seen = []

    def inner(lo, hi):
        seen.append(("inner", lo, hi))

    def outer(lo, hi):
        seen.append(("outer", native.parts(10, 10**9)))
        native.parallel(inner, 10, 10**9)

    assert native.parts(4, 10**9) == 2
    native.parallel(outer, 4, 10**9)
    assert sorted(seen) == [("inner", 0, 10), ("inner", 0, 10), ("outer", 1), ("outer", 1)]
    assert native.parts(4, 10**9) == 2  # the flag is the parts' alone


def _pooled(monkeypatch, c_pool: bool):
    """Turn the pooling on as fit would, on two native threads, splitting every product; ``c_pool``: the C pool's
    threads (else the Python pool, as where the C file has none)."""
    monkeypatch.setattr(myelin.backend, "_policy_depth", 1)
    monkeypatch.setattr(myelin.backend, "_native_threads", 2)
    monkeypatch.setattr(myelin.backend, "_pool_products", False)
    monkeypatch.setattr(myelin.backend, "blas_threads_for", lambda flops: None)
    monkeypatch.setattr(native, "POOL_FLOPS", 1.0)
    monkeypatch.setattr(native, "POOL_GEMM_FLOPS", 1.0)
    if not c_pool:
        monkeypatch.setattr(native, "_gemms", dict.fromkeys(map(np.dtype, (np.float32, np.float64))))
    elif not native.pool_gemm_available():
        pytest.skip("no C pool here (native file not built, or NumPy's BLAS is not OpenBLAS)")
    assert myelin.backend.pool_products(True)


@pytest.mark.parametrize("c_pool", [True, False], ids=["c-pool", "python-pool"])
@pytest.mark.parametrize("shape", [(40, 7, 5), (5, 7, 40), (33, 64, 33), (1, 9, 70), (70, 9, 1)])
def test_matmul_split_over_the_pool(shape, c_pool, monkeypatch):
    """Rows (or columns) over two threads: each element the same dot product; the BLAS may round an edge block's
    elements otherwise (as its own threads' split does), never by more than float32 rounding."""
    m, k, n = shape
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)
    whole = a @ b
    _pooled(monkeypatch, c_pool)
    before = native.splits()
    out = native.matmul(a, b)
    assert native.splits() == before + 1  # rows (or columns, for a wide product) over two threads
    np.testing.assert_allclose(out, whole, rtol=2e-6, atol=1e-6)
    again = native.matmul(a, b, out=np.empty_like(whole))
    np.testing.assert_array_equal(again, out)  # the same split, the same bits
    myelin.backend.pool_products(False)
    assert not myelin.backend.pool_products()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed", [False, True])
def test_a_small_result_of_a_long_sum_is_split_along_the_sum(dtype, transposed, monkeypatch):
    """A kernel's gradient (cols.T @ g: 9 x 32 from 3,000 terms): each thread sums its half, the halves added."""
    _pooled(monkeypatch, True)
    rng = np.random.default_rng(10)
    cols, g = rng.standard_normal((3000, 9)).astype(dtype), rng.standard_normal((3000, 32)).astype(dtype)
    a = cols.T if not transposed else np.ascontiguousarray(cols.T)  # stored (k, m) or (m, k)
    before = native.splits()
    got = native.matmul(a, g)
    assert native.splits() == before + 1
    tol = {"rtol": 1e-5, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-11}
    np.testing.assert_allclose(got, cols.T.astype(np.float64) @ g.astype(np.float64), **tol)
    np.testing.assert_array_equal(native.matmul(a, g), got)  # the same split, the same bits
    halves = cols[:1500].T @ g[:1500], cols[1500:].T @ g[1500:]
    np.testing.assert_allclose(got, halves[0] + halves[1], rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_c_pool_reads_transposed_and_strided_operands_in_place(dtype, monkeypatch):
    _pooled(monkeypatch, True)
    rng = np.random.default_rng(4)
    a = rng.standard_normal((48, 30)).astype(dtype)
    b = rng.standard_normal((30, 20)).astype(dtype)
    tol = {"rtol": 2e-6, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    at, bt = np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T  # (48, 30), (30, 20) views of transposes
    wide = np.zeros((48, 50), dtype)  # the result written into columns 10..30 of a wider array (row stride 50)
    cases = [(a, b, None), (at, b, None), (a, bt, None), (at, bt, None), (a[::1, :25], b[:25], None), (a, b, wide[:, 10:30])]
    for x, y, out in cases:
        before = native.splits()
        got = native.matmul(x, y, out=out)
        assert native.splits() == before + 1, (x.strides, y.strides)  # no copy, the pool ran it
        np.testing.assert_allclose(got, x @ y, **tol)
    assert np.all(wide[:, :10] == 0) and np.all(wide[:, 30:] == 0)  # nothing outside the out view written
    np.testing.assert_allclose(wide[:, 10:30], a @ b, **tol)


def test_the_c_pool_leaves_what_it_cannot_read_in_place_to_numpy(monkeypatch):
    _pooled(monkeypatch, True)
    rng = np.random.default_rng(5)
    a = rng.standard_normal((40, 24)).astype(np.float32)
    b = rng.standard_normal((12, 40)).astype(np.float32)
    out = np.empty((40, 40), np.float32)
    assert native._pool_product(a[::2, ::2], b, out[:20], 2) is False  # no unit stride on either axis
    assert native._pool_product(a[:, :12], b.astype(np.float64), out, 2) is False  # two dtypes
    assert native._pool_product(a[:, :12], b, out[:, ::2], 2) is False  # an out without unit column stride
    for x, y in [(a[::2, ::2], b), (a[:, :12], b.astype(np.float64))]:  # native.matmul still gives the product
        np.testing.assert_allclose(native.matmul(x, y), x @ y, rtol=2e-6, atol=1e-5)
    square = rng.standard_normal((40, 40)).astype(np.float32)
    expect = square @ square
    native.matmul(square, square.copy(), out=square)  # out is an operand: NumPy's own (buffered) product
    np.testing.assert_allclose(square, expect, rtol=2e-6, atol=1e-5)


@needs_native  # (the convolution kernels' splits are what make fit pool without the C pool)
@pytest.mark.parametrize("c_pool", [True, False], ids=["c-pool", "python-pool"])
def test_fit_pools_its_products_and_the_weights_do_not_change(c_pool, monkeypatch):
    """With the C pool the policy pools from the start; without it fit pools once its step splits native work."""
    if c_pool and not native.pool_gemm_available():
        pytest.skip("no C pool here (native file not built, or NumPy's BLAS is not OpenBLAS)")
    from myelin import layers

    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 4, 64)

    def train(pool: bool):
        myelin.utils.set_random_seed(3)
        model = myelin.Sequential(
            [
                myelin.Input((8, 8, 3)),
                layers.Conv2D(8, 3, activation="relu"),
                layers.Flatten(),
                layers.Dense(4, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        seen = []
        real = myelin.backend.pool_products

        def spy(on=None):
            got = real(on)
            seen.append(got)
            return got

        with monkeypatch.context() as m:
            m.setattr(native, "PARALLEL_MIN_ELEMENTS", 1)
            m.setattr(myelin.backend, "THREAD_CROSSOVER_FLOPS", 1.0)
            m.setattr(native, "POOL_FLOPS", 1.0)
            m.setattr(native, "POOL_GEMM_FLOPS", 1.0)
            if not c_pool or not pool:
                m.setattr(native, "_gemms", dict.fromkeys(map(np.dtype, (np.float32, np.float64))))
            m.setattr(myelin.backend, "busy_cores", lambda: 0)
            m.setattr(myelin.backend, "cpu_count", lambda: 2)
            m.setattr(myelin.backend, "pool_products", spy)
            if not pool:
                m.setattr(native, "splits", lambda: 0)  # the trainer never sees a split: no pool
            model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model.get_weights(), any(seen)

    plain, pooled_plain = train(False)
    pooled, pooled_used = train(True)
    again, _ = train(True)
    assert pooled_used and not pooled_plain
    assert not myelin.backend.pool_products()  # off again after fit
    for a, b, c in zip(plain, pooled, again):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # float32 rounding of edge blocks at most
        np.testing.assert_array_equal(b, c)  # the same threads, the same numbers


def test_the_c_pool_serves_two_threads_at_once_and_a_forked_child(monkeypatch):
    """A second caller finding the pool busy runs its product alone; a forked child starts its own workers."""
    import os
    import threading
    import warnings

    _pooled(monkeypatch, True)
    rng = np.random.default_rng(6)
    shapes = [((64, 48), (48, 32)), ((48, 64), (64, 40))]
    pairs = [(rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)) for sa, sb in shapes]
    wrong = []

    def run(a, b):
        for _ in range(200):
            if not np.allclose(native.matmul(a, b), a @ b, rtol=2e-6, atol=1e-5):
                wrong.append(1)

    threads = [threading.Thread(target=run, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong
    if not hasattr(os, "fork"):
        return
    a, b = pairs[0]
    native.matmul(a, b)  # the parent's workers exist now
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (Python 3.12+: fork with threads running)
        pid = os.fork()
    if pid == 0:  # the child: its product must not wait on workers it does not have
        os._exit(0 if np.allclose(native.matmul(a, b), a @ b, rtol=2e-6, atol=1e-5) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@needs_native
def test_a_large_dense_relu_layer_takes_the_native_passes_with_numpys_numbers():
    from myelin.ops.primitives import dense

    rng = np.random.default_rng(8)
    x, k = rng.standard_normal((128, 40)).astype(np.float32), rng.standard_normal((40, 64)).astype(np.float32)
    b, r = rng.standard_normal(64).astype(np.float32), rng.standard_normal((128, 64)).astype(np.float32)
    leaves = [Tensor(a, requires_grad=True) for a in (x, k, b)]
    y = dense(*leaves, activation="relu")
    (y * Tensor(r)).sum().backward()
    want = x @ k
    want += b
    np.maximum(want, 0, out=want)
    np.testing.assert_array_equal(y.data, want)
    masked = r * (want > 0)
    np.testing.assert_array_equal(leaves[0].grad, masked @ k.T)
    np.testing.assert_array_equal(leaves[1].grad, x.T @ masked)


@needs_native
def test_adam_remembers_its_last_buffers_and_still_checks_what_can_change():
    def arrays(seed):
        rng = np.random.default_rng(seed)
        return [rng.random(7).astype(np.float32) for _ in range(4)]

    def numpy_adam(p, g, m, v):
        m += (g - m) * np.float32(0.1)
        v += (g * g - v) * np.float32(0.001)
        p -= m / (np.sqrt(v) + np.float32(1e-7)) * np.float32(0.01)

    first, second = arrays(0), arrays(1)
    for buffers in (first, first, second, first):  # the same buffers again, then others, then the first again
        expected = [a.copy() for a in buffers]
        numpy_adam(*expected)
        assert native.adam(*buffers, 0.1, 0.001, 1e-7, 0.01)
        for a, b in zip(buffers, expected):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    first[0].flags.writeable = False  # (the one property of the same array that can change)
    assert not native.adam(*first, 0.1, 0.001, 1e-7, 0.01)
