"""The native convolution kernels (col2im, max pooling, the ReLU's gradient) equal the NumPy forms bit for bit.

The short-sum product of a first convolution (``native.small_k_product``/``small_k_grads``)
is the one exception: it agrees with the BLAS form to rounding, tested at the end. The
bit-for-bit tests turn it off (``SMALL_K_MAX = 0``) so that they see the other kernels.
"""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Tensor, native, ops
from myelin.ops import convolution as conv_ops

needs_native = pytest.mark.skipif(not native.available(), reason=f"native kernels: {native.status()}")


def _turn_off(monkeypatch):
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_status", "turned off by a test")


def _bits(a):
    a = np.asarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(_bits(a), _bits(b))  # NaN payloads and the sign of zero too


def _both(monkeypatch, run):
    """``run()`` with the kernels, then with the NumPy forms."""
    fast = run()
    with monkeypatch.context() as m:
        _turn_off(m)
        slow = run()
    return fast, slow


def _special(rng, shape, dtype):
    """Random values with ties, both zeros, infinities and NaN sprinkled in."""
    x = rng.standard_normal(shape).astype(dtype)
    x[rng.random(shape) < 0.2] = 0.0
    x[rng.random(shape) < 0.1] = -0.0
    x[rng.random(shape) < 0.1] = 1.0  # ties inside windows
    x[rng.random(shape) < 0.02] = np.inf
    x[rng.random(shape) < 0.02] = -np.inf
    x[rng.random(shape) < 0.02] = np.nan
    return x


POOLS = [
    # (spatial shape, pool, strides, padding, data_format)
    ((8, 8), (2, 2), None, "valid", "channels_last"),  # disjoint, tiled
    ((11, 11), (2, 2), None, "valid", "channels_last"),  # disjoint, the last row and column unread
    ((7, 9), (3, 3), (1, 1), "valid", "channels_last"),  # overlapping
    ((7, 9), (3, 2), (2, 1), "same", "channels_last"),  # -inf padding, mixed
    ((6, 5), (2, 2), None, "same", "channels_first"),
    ((10,), (3,), (2,), "same", "channels_last"),
    ((4, 5, 6), (2, 2, 2), (1, 2, 2), "valid", "channels_last"),
]


@needs_native
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial,pool,strides,padding,fmt", POOLS)
def test_max_pool_equals_numpy_form(spatial, pool, strides, padding, fmt, dtype, monkeypatch):
    rng = np.random.default_rng(len(spatial) * 7 + pool[0])
    shape = (3, 5, *spatial) if fmt == "channels_first" else (3, *spatial, 5)
    x = _special(rng, shape, dtype)
    calls = []
    real = native.max_pool
    monkeypatch.setattr(native, "max_pool", lambda *a: calls.append(real(*a)) or calls[-1])

    def run():
        xt = Tensor(x, requires_grad=True)
        y = ops.max_pool(xt, pool, strides, padding, fmt)
        g = rng.standard_normal(y.shape).astype(dtype)
        g[0] = np.inf  # g * 0 is NaN: the NumPy form's multiply by the hit mask, kept by the kernel
        y.backward(g)
        return y.data.copy(), xt.grad.copy()

    with np.errstate(invalid="ignore"):
        state = rng.bit_generator.state
        fast = run()
        rng.bit_generator.state = state
        with monkeypatch.context() as m:
            _turn_off(m)
            slow = run()
    assert calls[0] is not None  # the kernel did the forward
    for a, b in zip(fast, slow):
        _same(a, b)


@needs_native
def test_max_pool_routes_to_the_first_maximum():
    x = np.array([[[[1.0], [5.0]], [[5.0], [2.0]]]], np.float32)  # a tie between taps 1 and 2
    xt = Tensor(x, requires_grad=True)
    y = ops.max_pool(xt, 2)
    y.backward(np.full(y.shape, 3.0, np.float32))
    assert float(y.data.ravel()[0]) == 5.0
    np.testing.assert_array_equal(xt.grad.ravel(), [0.0, 3.0, 0.0, 0.0])
    assert y._ctx.arg is not None  # the kernel's winning taps, not the NumPy form's masks


def test_max_pool_arg_path_numpy_form_matches_wins_path(monkeypatch):
    """The backward from the kernel's winning taps has a NumPy form too (kernel gone between forward and backward)."""
    rng = np.random.default_rng(3)
    x = _special(rng, (2, 7, 7, 3), np.float64)
    g = rng.standard_normal((2, 3, 3, 3))

    def run(arg_then_numpy):
        xt = Tensor(x, requires_grad=True)
        y = ops.max_pool(xt, 3, 2, "valid")
        if arg_then_numpy:
            _turn_off(monkeypatch)
        y.backward(g)
        return xt.grad.copy()

    if not native.available():
        pytest.skip(f"native kernels: {native.status()}")
    with np.errstate(invalid="ignore"):
        mixed = run(True)  # forward by the kernel, backward by _grad_from_arg's NumPy form
        slow = run(False)  # kernels now off: NumPy both ways
    _same(mixed, slow)


COL2IM = [
    # (input spatial, kernel, strides, dilation, padding)
    ((13, 13), (3, 3), (2, 2), (1, 1), "valid"),
    ((9, 8), (3, 2), (2, 3), (1, 1), "same"),
    ((10, 10), (3, 3), (1, 1), (2, 2), "same"),
    ((17,), (5,), (3,), (1,), "valid"),
    ((6, 5, 7), (2, 3, 2), (2, 1, 2), (1, 1, 2), "valid"),
]


@needs_native
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spatial,kernel,strides,dilation,padding", COL2IM)
def test_conv_backward_equals_numpy_form(spatial, kernel, strides, dilation, padding, dtype, monkeypatch):
    """The per-tap col2im of the input gradient (by chunks of the product) and the ReLU's gradient."""
    rng = np.random.default_rng(sum(spatial))
    x = rng.standard_normal((2, *spatial, 4)).astype(dtype)
    k = rng.standard_normal((*kernel, 4, 6)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    calls = []
    for name in ("col2im", "product_col2im"):  # the product's col2im by chunks, or (groups) the whole one's
        real = getattr(native, name)
        monkeypatch.setattr(native, name, lambda *a, _real=real: calls.append(_real(*a)) or calls[-1])
    monkeypatch.setattr(native, "SMALL_K_MAX", 0)  # the BLAS product, whose numbers NumPy's form has too

    def run():
        xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, k, b))
        y = ops.conv_nd(xt, kt, bt, strides, padding, dilation_rate=dilation, activation="relu")
        g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
        y.backward(g)
        return y.data.copy(), xt.grad.copy(), kt.grad.copy(), bt.grad.copy()

    fast, slow = _both(monkeypatch, run)
    assert calls[0] is not None  # the kernel did the col2im
    for i, (a, c) in enumerate(zip(fast, slow)):
        if i == 1 and all(st == 1 for st in strides):
            # Without the kernels a stride-1 input gradient is the full correlation: the same sums, in another order.
            np.testing.assert_allclose(a, c, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
        else:
            _same(a, c)


@needs_native
@pytest.mark.parametrize("spatial,kernel,strides,dilation,padding", COL2IM)
def test_im2col_equals_strided_view_copy(spatial, kernel, strides, dilation, padding):
    x = np.random.default_rng(4).standard_normal((2, *spatial, 3))
    windows = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    pads = [conv_ops.padding_amounts(n, w, s, padding) for n, w, s in zip(spatial, windows, strides)]
    xpad = conv_ops._pad(x, pads)
    out = conv_ops._out_sizes(spatial, pads, windows, strides)
    view = conv_ops._windows(xpad, kernel, strides, dilation, out)
    cols = np.full((2 * int(np.prod(out)), int(np.prod(kernel)) * 3), np.nan)
    assert native.im2col(xpad, kernel, strides, dilation, out, cols)
    _same(cols, np.ascontiguousarray(view).reshape(cols.shape))
    assert not native.im2col(xpad.astype(np.float32), kernel, strides, dilation, out, cols)  # two dtypes
    assert not native.im2col(xpad, kernel, strides, dilation, out, cols[:-1])  # the wrong shape


@needs_native
@pytest.mark.parametrize("strides,padding", [((2, 2), "same"), ((1, 3), "valid"), ((3, 2), "same")])
def test_conv_transpose_equals_numpy_form(strides, padding, monkeypatch):
    """Conv2DTranspose's forward is a col2im."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 7, 3)).astype(np.float32)

    def run():
        xt, kt = Tensor(x, requires_grad=True), Tensor(k, requires_grad=True)
        y = ops.conv_transpose_nd(xt, kt, None, strides, padding, activation="tanh")
        y.backward(np.ones(y.shape, np.float32))
        return y.data.copy(), xt.grad.copy(), kt.grad.copy()

    fast, slow = _both(monkeypatch, run)
    for a, c in zip(fast, slow):
        _same(a, c)


@needs_native
def test_relu_grad_special_values(monkeypatch):
    g = np.array([1.0, -2.0, np.nan, np.inf, -np.inf, -3.0, 0.5, np.nan], np.float32)
    out = np.array([0.0, 0.0, 0.0, 0.0, 2.0, -0.0, np.nan, 1.0], np.float32)
    res = np.empty_like(g)
    with np.errstate(invalid="ignore"):
        assert native.relu_grad(g, out, res)
        _same(res, g * (out > 0))  # -0 where g < 0 is masked, NaN where inf is masked
    assert not native.relu_grad(g[::2], out[::2], res[::2])  # not contiguous: the caller's NumPy form
    assert not native.relu_grad(g.astype(np.float16), out.astype(np.float16), res.astype(np.float16))


@needs_native
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_relu_special_values(relu, dtype):
    out = np.array([[0.0, -0.0, -0.0, np.nan, 1.0, -1.0, np.inf, 3.0]] * 3, dtype)
    out[1] *= -1
    out[2] = np.random.default_rng(0).standard_normal(8)
    bias = np.array([-0.0, -0.0, 0.0, 1.0, -1.0, np.nan, -np.inf, -3.0], dtype)
    expected = out.copy()
    with np.errstate(invalid="ignore"):
        expected += bias
        if relu:
            np.maximum(expected, 0, out=expected)
        assert native.bias_relu(out, bias, relu)
    _same(out, expected)  # -0 + -0 stays -0 without the ReLU and becomes +0 with it, NaN stays NaN
    assert not native.bias_relu(out[:, ::2], bias[::2], relu)
    assert not native.bias_relu(out, bias.astype(np.float16), relu)
    assert not native.bias_relu(out, bias[:3], relu)


@needs_native
def test_kernels_decline_what_they_cannot_do():
    cols = np.ones((1, 2, 2, 1), np.float32)
    assert native.col2im(cols, (1, 3, 1), (2,), (1,), (1,), (2,)).ravel().tolist() == [1.0, 2.0, 1.0]
    assert native.col2im(cols[:, ::-1], (1, 3, 1), (2,), (1,), (1,), (2,)) is None  # not contiguous
    assert native.col2im(cols.astype(np.float16), (1, 3, 1), (2,), (1,), (1,), (2,)) is None
    assert native.col2im(cols, (1, 4, 1), (2,), (1,), (1,), (3,)) is None  # the shape does not fit the geometry
    assert native.max_pool(np.ones((1, 20, 20, 1), np.float32), (17, 17), (1, 1), (4, 4)) is None  # > 256 taps
    assert native.max_pool(np.ones((1, 2, 2, 2, 2, 1)), (1, 1, 1, 1), (1,) * 4, (2,) * 4) is None  # rank 4
    best, arg = native.max_pool(np.array([[[1.0], [3.0], [2.0], [2.0]]]), (2,), (2,), (2,))
    assert best.ravel().tolist() == [3.0, 2.0] and arg.ravel().tolist() == [1, 0] and arg.dtype == np.uint8
    g = np.ones((1, 2, 1))
    assert native.max_pool_grad(g, arg.astype(np.int32), (1, 4, 1), (2,), (2,), True) is None
    assert native.max_pool_grad(g, arg, (1, 4, 1), (2,), (2,), True).ravel().tolist() == [0.0, 1.0, 1.0, 0.0]


def _train_small_convnet(x, y, second_pool: bool):
    """Keras's mnist_convnet shape on 14x14 inputs, two epochs from a fixed seed: (weights, losses)."""
    myelin.utils.set_random_seed(1)
    layers = [
        myelin.Input(shape=(14, 14, 1)),
        myelin.layers.Conv2D(4, 3, activation="relu"),
        myelin.layers.MaxPooling2D(2),
        myelin.layers.Conv2D(6, 3, activation="relu"),
        *([myelin.layers.MaxPooling2D(2)] if second_pool else []),
        myelin.layers.Flatten(),
        myelin.layers.Dense(3, activation="softmax"),
    ]
    model = myelin.Sequential(layers)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    return [w.copy() for w in model.get_weights()], history.history["loss"]


@needs_native
def test_convnet_training_equals_numpy_form(monkeypatch):
    """Keras's mnist_convnet shape (Conv, MaxPool, Conv, MaxPool, Dense) trains to the same weights either way."""
    monkeypatch.setattr(native, "SMALL_K_MAX", 0)  # the first layer's product through BLAS, as NumPy's form
    rng = np.random.default_rng(0)
    x = rng.random((40, 14, 14, 1)).astype(np.float32)
    y = myelin.utils.to_categorical(rng.integers(0, 3, 40), 3)

    fast, slow = _both(monkeypatch, lambda: _train_small_convnet(x, y, second_pool=True))
    assert fast[1] == slow[1]
    for a, b in zip(fast[0], slow[0]):
        _same(a, b)


@pytest.mark.parametrize("native_on", [True, False])
def test_max_pool_gradient_float64(native_on, monkeypatch):
    """Finite differences of max pooling (distinct values, so no tie is near), with and without the kernels."""
    if native_on and not native.available():
        pytest.skip(f"native kernels: {native.status()}")
    if not native_on:
        _turn_off(monkeypatch)
    x = np.random.default_rng(2).permutation(3 * 6 * 5 * 2).reshape(3, 6, 5, 2).astype(np.float64) / 7.0
    w = np.random.default_rng(3).standard_normal((3, 3, 5, 2))

    def f(a):
        return float((conv_ops.max_pool(Tensor(a), 2, (2, 1), "same").data * w).sum())

    xt = Tensor(x, requires_grad=True)
    y = conv_ops.max_pool(xt, 2, (2, 1), "same")
    (y * Tensor(w)).sum().backward()
    eps = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        numeric[i] = (f(x + d) - f(x - d)) / (2 * eps)
    np.testing.assert_allclose(xt.grad, numeric, atol=1e-7)


@needs_native
def test_split_over_threads_gives_the_same_numbers(monkeypatch):
    """With two native threads (fit's policy on a 2-core machine) each kernel splits its batch: same numbers."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 12, 12, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)

    def run():
        xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, k, b))
        y = ops.max_pool(ops.conv_nd(xt, kt, bt, 2, "same", activation="relu"), 2)
        y.backward(np.ones(y.shape, np.float32))
        return y.data.copy(), xt.grad.copy(), kt.grad.copy(), bt.grad.copy()

    one = run()
    parts = []
    real = native.parallel
    monkeypatch.setattr(native, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(myelin.backend, "_native_threads", 3)
    monkeypatch.setattr(native, "parallel", lambda call, items, work: parts.append(items) or real(call, items, work))
    three = run()
    assert len(parts) >= 5 and max(parts) > 3  # im2col, bias+relu, pool both ways, relu grad, col2im
    for a, c in zip(one, three):
        _same(a, c)


def test_native_threads_follow_the_policy(monkeypatch):
    from tests.test_threads import FakeBLAS

    backend = myelin.backend
    blas = FakeBLAS(4)
    monkeypatch.setattr(backend, "_numpy_openblas", lambda: blas)
    monkeypatch.setattr(backend, "cpu_count", lambda: 4)
    monkeypatch.setattr(backend, "_first_seen_threads", None)
    monkeypatch.setattr(backend, "_explicit_threads", None)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    assert backend.native_threads() == 1  # outside fit
    with backend.thread_policy(workers=1):
        assert backend.native_threads() == 3  # the policy's count for large products
    assert backend.native_threads() == 1
    myelin.config.set_num_threads(2)
    try:
        with backend.thread_policy():
            assert backend.native_threads() == 2  # the user's explicit count
    finally:
        myelin.config.set_num_threads(None)
    assert backend.native_threads() == 1


@needs_native
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels,kernel", [(1, (3, 3)), (1, (3, 2)), (3, (1, 1)), (2, (2, 3))])
def test_im2col_copies_every_window(channels, kernel, dtype):
    """Including the one-channel 3-wide rows the kernel copies without a loop (MNIST's first layer)."""
    x = np.random.default_rng(9).standard_normal((3, 9, 8, channels)).astype(dtype)
    out = (9 - kernel[0] + 1, 8 - kernel[1] + 1)
    cols = np.full((3 * out[0] * out[1], kernel[0] * kernel[1] * channels), np.nan, dtype)
    assert native.im2col(x, kernel, (1, 1), (1, 1), out, cols)
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(1, 2))  # (3, o0, o1, c, k0, k1)
    np.testing.assert_array_equal(cols, windows.transpose(0, 1, 2, 4, 5, 3).reshape(cols.shape))


# ---- the short-sum product of a first convolution: to rounding, not bit for bit


def _small_k_reference(cols, w, bias, relu):
    out = cols.astype(np.float64) @ w.astype(np.float64) + (0.0 if bias is None else bias.astype(np.float64))
    return np.maximum(out, 0.0) if relu else out


def _close(a, reference, dtype, scale):
    """float32: a few roundings of sums of up to 32 products of numbers near 1 (|sum| up to ~``scale``)."""
    atol = (2e-6 if dtype == np.float32 else 1e-13) * scale
    np.testing.assert_allclose(a, reference, rtol=0, atol=atol)


@needs_native
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 9, 27, 32])
@pytest.mark.parametrize("f", [5, 16, 32, 64, 70])
def test_small_k_product_equals_the_product_to_rounding(k, f, dtype):
    rng = np.random.default_rng(k * 100 + f)
    cols = rng.standard_normal((37, k)).astype(dtype)  # 37 rows: nine blocks of four and one row left
    w = rng.standard_normal((k, f)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    for relu in (False, True):
        for b in (bias, None):
            out = native.small_k_product(cols, w, b, relu)
            assert out is not None and out.dtype == dtype and out.shape == (37, f)
            _close(out, _small_k_reference(cols, w, b, relu), dtype, 3 * np.sqrt(k))
            if relu:
                assert (out >= 0).all() and (out[_small_k_reference(cols, w, b, False) < 0] == 0).all()


@needs_native
def test_small_k_product_passes_nan_and_infinity_through_the_relu():
    cols = np.ones((6, 9), np.float32)
    cols[1, 3], cols[4, 0] = np.nan, np.inf
    w = np.full((9, 16), 0.5, np.float32)
    out = native.small_k_product(cols, w, np.zeros(16, np.float32), relu=True)
    assert np.isnan(out[1]).all() and np.isposinf(out[4]).all() and (out[0] == 4.5).all()


@needs_native
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 9, 27])
@pytest.mark.parametrize("f", [7, 32, 64])
def test_small_k_grads_equal_the_masked_products_to_rounding(k, f, dtype):
    rng = np.random.default_rng(k + f)
    m = 5000  # two chunks of 2,500 rows, each in blocks of the kernel's scratch
    cols = rng.standard_normal((m, k)).astype(dtype)
    g = rng.standard_normal((m, f)).astype(dtype)
    out = np.maximum(rng.standard_normal((m, f)), 0).astype(dtype)
    for activation_out in (out, None):
        masked = g.astype(np.float64) * (1.0 if activation_out is None else (activation_out > 0))
        for bias_grad in (True, False):
            gw, gb = native.small_k_grads(g, activation_out, cols, bias_grad)
            assert gw.shape == (k, f) and gw.dtype == dtype
            _close(gw, cols.astype(np.float64).T @ masked, dtype, 4 * np.sqrt(m))
            if bias_grad:
                _close(gb, masked.sum(0), dtype, 4 * np.sqrt(m))
            else:
                assert gb is None


@needs_native
def test_small_k_kernels_give_the_same_numbers_on_one_thread_and_three(monkeypatch):
    """The rows go to fixed chunks summed in order: splitting them over threads changes no bit."""
    rng = np.random.default_rng(4)
    cols, w = rng.standard_normal((40000, 9)).astype(np.float32), rng.standard_normal((9, 32)).astype(np.float32)
    bias, g = rng.standard_normal(32).astype(np.float32), rng.standard_normal((40000, 32)).astype(np.float32)

    def run():
        out = native.small_k_product(cols, w, bias, True)
        return (out, *native.small_k_grads(g, out, cols, True))

    one = run()
    parts = []
    real = native.parallel
    monkeypatch.setattr(native, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(myelin.backend, "_native_threads", 3)

    def spy(call, items, work):
        parts.append(native.parts(items, work))
        real(call, items, work)

    monkeypatch.setattr(native, "parallel", spy)
    three = run()
    assert parts == [3, 3]
    for a, c in zip(one, three):
        _same(a, c)


@needs_native
def test_small_k_kernels_decline_what_they_cannot_do():
    f32 = np.ones((8, 9), np.float32)
    w = np.ones((9, 4), np.float32)
    assert native.small_k_product(np.ones((8, 33), np.float32), np.ones((33, 4), np.float32), None, True) is None  # a long sum
    assert native.small_k_product(f32, w.astype(np.float64), None, True) is None  # two dtypes
    assert native.small_k_product(np.ones((9, 8), np.float32).T, w, None, True) is None  # not C-contiguous
    assert native.small_k_product(f32, w, np.ones(5, np.float32), True) is None  # a bias of another width
    assert native.small_k_product(f32, w, np.ones(4), True) is None  # a bias of another dtype
    assert native.small_k_product(f32, np.ones((8, 4), np.float32), None, True) is None  # inner sizes differ
    assert native.small_k_grads(np.ones((8, 4), np.float32), np.ones((8, 5), np.float32), f32, True) is None
    assert native.small_k_grads(np.ones((8, 4), np.float32), None, np.ones((8, 33), np.float32), True) is None
    assert native.small_k_grads(np.ones((7, 4), np.float32), None, f32, True) is None  # row counts differ


def _first_conv(x, k, b, activation, channels_first=False):
    kt, bt = Tensor(k, requires_grad=True), Tensor(b, requires_grad=True)
    layout = "channels_first" if channels_first else None
    y = ops.conv_nd(Tensor(x), kt, bt, 1, "same", data_format=layout, activation=activation)
    return y, kt, bt


@needs_native
@pytest.mark.parametrize("activation", ["relu", "linear"])
@pytest.mark.parametrize("channels_first", [False, True])
def test_a_first_convolution_takes_the_short_sum_kernels(activation, channels_first, monkeypatch):
    """Data input (no gradient wanted), 3x3 kernel over 3 channels: 27 numbers a sum, both passes native."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 10, 10) if channels_first else (4, 10, 10, 3)).astype(np.float32)
    k, b = rng.standard_normal((3, 3, 3, 8)).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    g = rng.standard_normal((4, 8, 10, 10) if channels_first else (4, 10, 10, 8)).astype(np.float32)
    used = []
    for name in ("small_k_product", "small_k_grads"):
        real = getattr(native, name)
        monkeypatch.setattr(native, name, lambda *a, _real=real, _name=name: used.append(_name) or _real(*a))

    def run():
        y, kt, bt = _first_conv(x, k, b, activation, channels_first)
        y.backward(g)
        return y.data.copy(), kt.grad.copy(), bt.grad.copy()

    fused = run()
    assert used == ["small_k_product", "small_k_grads"]
    monkeypatch.setattr(native, "SMALL_K_MAX", 0)
    blas = run()
    for a, c in zip(fused, blas):
        np.testing.assert_allclose(a, c, rtol=2e-5, atol=2e-5 * np.abs(c).max())


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_a_first_convolution_gradient_float64(activation):
    """Finite differences of the kernel and bias gradients the short-sum kernels give (gray 3x3: 9 numbers a sum)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 6, 6, 1))
    k, b = rng.standard_normal((3, 3, 1, 4)), rng.standard_normal(4)
    w = rng.standard_normal((2, 6, 6, 4))
    y, kt, bt = _first_conv(x, k, b, activation)
    (y * Tensor(w)).sum().backward()
    eps = 1e-6
    for param, grad, name in ((k, kt.grad, "kernel"), (b, bt.grad, "bias")):
        numeric = np.zeros_like(param)
        for i in np.ndindex(param.shape):
            d = np.zeros_like(param)
            d[i] = eps
            plus = _first_conv(x, k + d if name == "kernel" else k, b + d if name == "bias" else b, activation)[0]
            minus = _first_conv(x, k - d if name == "kernel" else k, b - d if name == "bias" else b, activation)[0]
            numeric[i] = float(((plus.data - minus.data) * w).sum()) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)


@needs_native
def test_convnet_training_with_the_short_sum_kernels_stays_with_the_numpy_form(monkeypatch):
    """mnist_convnet's shape trained with the first layer's kernels: the losses and weights of NumPy's form, to rounding."""
    rng = np.random.default_rng(0)
    x = rng.random((40, 14, 14, 1)).astype(np.float32)
    y = myelin.utils.to_categorical(rng.integers(0, 3, 40), 3)
    used = []
    real = native.small_k_grads
    monkeypatch.setattr(native, "small_k_grads", lambda *a: used.append(1) or real(*a))

    fast, slow = _both(monkeypatch, lambda: _train_small_convnet(x, y, second_pool=False))
    assert used  # the first layer's backward took the kernel
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-5)
    for a, b in zip(fast[0], slow[0]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@needs_native
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 3])
def test_product_col2im_by_chunks_equals_the_whole_product_then_col2im(dtype, threads, monkeypatch):
    """One batch item a chunk (and a part of three items), a strided 2-D window: the bits of product then col2im."""
    rng = np.random.default_rng(7)
    n, out, kernel, strides, c, f = 7, (4, 3), (3, 2), (2, 1), 5, 6
    padded = (n, (out[0] - 1) * strides[0] + kernel[0], (out[1] - 1) * strides[1] + kernel[1], c)
    g = rng.standard_normal((n * out[0] * out[1], f)).astype(dtype)
    w_t = rng.standard_normal((kernel[0] * kernel[1] * c, f)).astype(dtype).T  # a transposed view, as Conv passes
    whole = native.col2im((g @ w_t).reshape(n, *out, *kernel, c), padded, kernel, strides, (1, 1), out)
    monkeypatch.setattr(native, "PRODUCT_CHUNK_BYTES", 1)  # one item a chunk
    if threads > 1:
        monkeypatch.setattr(native, "PARALLEL_MIN_ELEMENTS", 1)
        monkeypatch.setattr(myelin.backend, "_native_threads", threads)
    chunked = native.product_col2im(g, w_t, padded, kernel, strides, (1, 1), out)
    _same(chunked, whole)
    assert native.product_col2im(g[:-1], w_t, padded, kernel, strides, (1, 1), out) is None  # rows of another batch
    assert native.product_col2im(g, w_t.astype(np.float16), padded, kernel, strides, (1, 1), out) is None


@pytest.mark.parametrize("native_on", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_windows_by_chunks_give_the_whole_products_numbers(native_on, dtype, monkeypatch):
    """Two batch items a chunk (five items: three chunks, the last short), then rows of one item (three chunks an
    item, the last short): the output and bias gradient bit for bit, the kernel gradient (the chunks' sums, added in
    order) and the input gradient to rounding; with the kernels and in the NumPy form."""
    if native_on and not native.available():
        pytest.skip(f"native kernels: {native.status()}")
    if not native_on:
        _turn_off(monkeypatch)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 9, 8, 4)).astype(dtype)
    k = rng.standard_normal((3, 3, 4, 6)).astype(dtype)  # 36 numbers a sum: past the short-sum kernels
    b = rng.standard_normal(6).astype(dtype)
    g = rng.standard_normal((5, 9, 8, 6)).astype(dtype)
    chunked_calls = []
    real = conv_ops._chunked_kernel_grad
    monkeypatch.setattr(conv_ops, "_chunked_kernel_grad", lambda *a: chunked_calls.append(len(a[4])) or real(*a))

    def run(chunk_bytes):
        monkeypatch.setattr(native, "PRODUCT_CHUNK_BYTES", chunk_bytes)
        xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, k, b))
        y = ops.conv_nd(xt, kt, bt, 1, "same", activation="relu")
        y.backward(g)
        return y.data.copy(), xt.grad.copy(), kt.grad.copy(), bt.grad.copy()

    whole = run(1 << 30)
    assert not chunked_calls
    item = 9 * 8 * 36 * np.dtype(dtype).itemsize  # one item's windows
    for chunk_bytes, count in ((2 * item, 3), (item * 4 // 9, 15)):  # two items a chunk; four of nine rows a chunk
        chunked = run(chunk_bytes)
        assert chunked_calls[-1] == count
        _same(chunked[0], whole[0])
        _same(chunked[3], whole[3])
        np.testing.assert_allclose(chunked[1], whole[1], rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
        np.testing.assert_allclose(chunked[2], whole[2], rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)


@needs_native
def test_windows_by_chunks_same_numbers_on_three_threads_and_in_the_numpy_form(monkeypatch):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((7, 6, 6, 8)).astype(np.float32)
    k = rng.standard_normal((3, 3, 8, 5)).astype(np.float32)
    g = rng.standard_normal((7, 4, 4, 5)).astype(np.float32)
    monkeypatch.setattr(native, "PRODUCT_CHUNK_BYTES", 16 * 72 * 4)  # one item a chunk

    def run():
        xt, kt = Tensor(x), Tensor(k, requires_grad=True)
        y = ops.conv_nd(xt, kt, None, 1, "valid")
        y.backward(g)
        return y.data.copy(), kt.grad.copy()

    one = run()
    with monkeypatch.context() as m:
        m.setattr(native, "PARALLEL_MIN_ELEMENTS", 1)
        m.setattr(myelin.backend, "_native_threads", 3)
        three = run()
    fast, slow = _both(monkeypatch, run)
    for a, c, e, d in zip(one, three, fast, slow):
        _same(a, c)
        _same(a, e)
        _same(a, d)


@pytest.mark.parametrize("native_on", [True, False])
@pytest.mark.parametrize("rows", [3, 2])
def test_windows_by_chunks_kernel_gradient_float64(native_on, rows, monkeypatch):
    """Finite differences of the kernel gradient summed chunk by chunk (one batch item a chunk, or two of its three
    output rows)."""
    if native_on and not native.available():
        pytest.skip(f"native kernels: {native.status()}")
    if not native_on:
        _turn_off(monkeypatch)
    rng = np.random.default_rng(10)
    x, k = rng.standard_normal((3, 5, 5, 4)), rng.standard_normal((3, 3, 4, 2))
    w = rng.standard_normal((3, 3, 3, 2))
    monkeypatch.setattr(native, "PRODUCT_CHUNK_BYTES", rows * 3 * 36 * 8)  # the windows of `rows` output rows

    def f(kernel):
        return float((ops.conv_nd(Tensor(x), Tensor(kernel), None, 1, "valid").data * w).sum())

    kt = Tensor(k, requires_grad=True)
    (ops.conv_nd(Tensor(x), kt, None, 1, "valid") * Tensor(w)).sum().backward()
    eps, numeric = 1e-6, np.zeros_like(k)
    for i in np.ndindex(k.shape):
        d = np.zeros_like(k)
        d[i] = eps
        numeric[i] = (f(k + d) - f(k - d)) / (2 * eps)
    np.testing.assert_allclose(kt.grad, numeric, rtol=1e-7, atol=1e-8)


CHUNKED = [
    # (input shape channels-last, kernel, strides, dilation, padding, channels_first)
    ((3, 17, 8), (5,), (2,), (1,), "valid", False),  # Conv1D, strided (sums of 40: past the short-sum kernels)
    ((3, 16, 12), (3,), (1,), (2,), "causal", False),  # Conv1D, causal and dilated
    ((2, 11, 9, 5), (3, 3), (2, 1), (1, 1), "same", True),  # channels-first input, strided rows
    ((2, 12, 10, 6), (3, 2), (1, 1), (2, 1), "valid", False),  # dilated rows
    ((2, 6, 5, 7, 3), (2, 3, 2), (2, 1, 1), (1, 1, 2), "same", False),  # Conv3D
]


@pytest.mark.parametrize("native_on", [True, False])
@pytest.mark.parametrize("shape,kernel,strides,dilation,padding,channels_first", CHUNKED)
def test_windows_by_rows_of_one_item_in_every_geometry(
    shape, kernel, strides, dilation, padding, channels_first, native_on, monkeypatch
):
    """One or two output rows a chunk (the batch items cut along their first spatial axis): the numbers of the whole
    window matrix, to rounding, for 1-D, 3-D, strided, dilated, causal and channels-first convolutions."""
    if native_on and not native.available():
        pytest.skip(f"native kernels: {native.status()}")
    if not native_on:
        _turn_off(monkeypatch)
    rng = np.random.default_rng(len(shape) + sum(kernel))
    c = shape[-1]
    x = rng.standard_normal(shape)
    if channels_first:
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    k = rng.standard_normal((*kernel, c, 4))
    b = rng.standard_normal(4)
    plans = []
    real = conv_ops._chunk_plan
    monkeypatch.setattr(conv_ops, "_chunk_plan", lambda *a: plans.append(real(*a)) or plans[-1])

    def run(chunk_bytes):
        monkeypatch.setattr(native, "PRODUCT_CHUNK_BYTES", chunk_bytes)
        xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, k, b))
        fmt = "channels_first" if channels_first else None
        y = ops.conv_nd(xt, kt, bt, strides, padding, data_format=fmt, dilation_rate=dilation, activation="tanh")
        y.backward(np.random.default_rng(1).standard_normal(y.shape))
        return y.data.copy(), xt.grad.copy(), kt.grad.copy(), bt.grad.copy()

    whole = run(1 << 30)
    assert plans[-1] is None
    rows = run(1)  # a chunk's bytes below one output row: one row a chunk
    assert plans[-1] and all(r1 - r0 == 1 for _, _, r0, r1 in plans[-1]) and len(plans[-1]) > shape[0]
    for a, w in zip(rows, whole):
        np.testing.assert_allclose(a, w, rtol=1e-12, atol=1e-12)
