"""The native convolution kernels (col2im, max pooling, the ReLU's gradient) equal the NumPy forms bit for bit."""

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
    """The per-tap col2im of the input gradient (strided or dilated convolutions) and the ReLU's gradient."""
    rng = np.random.default_rng(sum(spatial))
    x = rng.standard_normal((2, *spatial, 4)).astype(dtype)
    k = rng.standard_normal((*kernel, 4, 6)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    calls = []
    real = native.col2im
    monkeypatch.setattr(native, "col2im", lambda *a: calls.append(real(*a)) or calls[-1])

    def run():
        xt, kt, bt = (Tensor(a, requires_grad=True) for a in (x, k, b))
        y = ops.conv_nd(xt, kt, bt, strides, padding, dilation_rate=dilation, activation="relu")
        g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
        y.backward(g)
        return y.data.copy(), xt.grad.copy(), kt.grad.copy(), bt.grad.copy()

    fast, slow = _both(monkeypatch, run)
    if any(st > 1 for st in strides):  # stride 1 takes the full correlation instead (no col2im)
        assert calls[0] is not None  # the kernel did the col2im
    for a, c in zip(fast, slow):
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


@needs_native
def test_convnet_training_equals_numpy_form(monkeypatch):
    """Keras's mnist_convnet shape (Conv, MaxPool, Conv, MaxPool, Dense) trains to the same weights either way."""
    rng = np.random.default_rng(0)
    x = rng.random((40, 14, 14, 1)).astype(np.float32)
    y = myelin.utils.to_categorical(rng.integers(0, 3, 40), 3)

    def train():
        myelin.utils.set_random_seed(1)
        model = myelin.Sequential(
            [
                myelin.Input(shape=(14, 14, 1)),
                myelin.layers.Conv2D(4, 3, activation="relu"),
                myelin.layers.MaxPooling2D(2),
                myelin.layers.Conv2D(6, 3, activation="relu"),
                myelin.layers.MaxPooling2D(2),
                myelin.layers.Flatten(),
                myelin.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return [w.copy() for w in model.get_weights()], history.history["loss"]

    fast, slow = _both(monkeypatch, train)
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
