"""Every differentiable primitive and fused op: float64 finite differences, NumPy values, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, gradcheck, ops
from myelin.gradcheck import GradcheckError

RNG = np.random.default_rng(0)


def rand(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def away_from_zero(*shape):
    """Values in ±[0.2, 1]: no kinks of relu/abs/max within eps of a sample."""
    return RNG.uniform(0.2, 1.0, size=shape) * RNG.choice([-1.0, 1.0], size=shape)


def distinct(*shape):
    """A permutation of spaced values: no ties for max/min."""
    n = int(np.prod(shape))
    return (RNG.permutation(n).reshape(shape) * 0.37 - n * 0.15).astype(np.float64)


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((4,), ())]

# name -> (function of tensors, list of input generators)
CASES = {}
for sa, sb in BROADCAST_PAIRS:
    tag = f"{sa}x{sb}"
    CASES[f"add{tag}"] = (ops.add, [rand(*sa), rand(*sb)])
    CASES[f"sub{tag}"] = (ops.sub, [rand(*sa), rand(*sb)])
    CASES[f"mul{tag}"] = (ops.mul, [rand(*sa), rand(*sb)])
    CASES[f"div{tag}"] = (ops.div, [rand(*sa), positive(*sb)])
    CASES[f"maximum{tag}"] = (ops.maximum, [distinct(*sa), distinct(*sb) + 0.11])
    CASES[f"minimum{tag}"] = (ops.minimum, [distinct(*sa), distinct(*sb) + 0.11])
    CASES[f"pow_tensor{tag}"] = (ops.pow, [positive(*sa), rand(*sb)])
    CASES[f"where{tag}"] = (lambda a, b: ops.where(np.arange(a.size).reshape(a.shape) % 2 == 0, a, b), [rand(*sa), rand(*sb)])
CASES.update(
    {
        "neg": (ops.neg, [rand(3, 4)]),
        "pow_scalar": (lambda x: ops.pow(x, 3.0), [rand(3, 4)]),
        "pow_fraction": (lambda x: x**0.5, [positive(5)]),
        "square": (ops.square, [rand(2, 3)]),
        "exp": (ops.exp, [rand(3, 4)]),
        "log": (ops.log, [positive(3, 4)]),
        "sqrt": (ops.sqrt, [positive(3, 4)]),
        "abs": (ops.abs, [away_from_zero(3, 4)]),
        "matmul_2d": (ops.matmul, [rand(3, 4), rand(4, 2)]),
        "matmul_vec_mat": (ops.matmul, [rand(4), rand(4, 2)]),
        "matmul_mat_vec": (ops.matmul, [rand(3, 4), rand(4)]),
        "matmul_vec_vec": (ops.matmul, [rand(4), rand(4)]),
        "matmul_batched": (ops.matmul, [rand(2, 3, 4), rand(4, 2)]),
        "matmul_batched_both": (ops.matmul, [rand(2, 3, 4), rand(2, 4, 5)]),
        "matmul_broadcast_batch": (ops.matmul, [rand(1, 3, 4), rand(2, 4, 2)]),
        "sum_all": (ops.sum, [rand(3, 4)]),
        "sum_axis0": (lambda x: ops.sum(x, axis=0), [rand(3, 4)]),
        "sum_axis_neg_keepdims": (lambda x: ops.sum(x, axis=-1, keepdims=True), [rand(2, 3, 4)]),
        "sum_axes_tuple": (lambda x: ops.sum(x, axis=(0, 2)), [rand(2, 3, 4)]),
        "mean_all": (ops.mean, [rand(3, 4)]),
        "mean_axis1": (lambda x: ops.mean(x, axis=1), [rand(3, 4)]),
        "mean_keepdims": (lambda x: ops.mean(x, axis=0, keepdims=True), [rand(3, 4)]),
        "max_all": (ops.max, [distinct(3, 4)]),
        "max_axis1": (lambda x: ops.max(x, axis=1), [distinct(3, 4)]),
        "max_axis0_keepdims": (lambda x: ops.max(x, axis=0, keepdims=True), [distinct(3, 4)]),
        "min_axis_tuple": (lambda x: ops.min(x, axis=(0, 1)), [distinct(2, 3, 4)]),
        "reshape": (lambda x: ops.reshape(x, (4, 3)), [rand(3, 4)]),
        "reshape_minus_one": (lambda x: ops.reshape(x, (-1,)), [rand(2, 3, 2)]),
        "transpose": (ops.transpose, [rand(3, 4)]),
        "transpose_axes": (lambda x: ops.transpose(x, (2, 0, 1)), [rand(2, 3, 4)]),
        "getitem_slice": (lambda x: x[1:, ::2], [rand(3, 4)]),
        "getitem_int": (lambda x: x[1], [rand(3, 4)]),
        "getitem_ellipsis_none": (lambda x: x[..., None, 0], [rand(2, 3, 4)]),
        "getitem_fancy_repeated": (lambda x: x[np.array([0, 2, 0, 0])], [rand(3, 4)]),
        "getitem_pairs": (lambda x: x[np.array([0, 1, 1]), np.array([3, 0, 0])], [rand(3, 4)]),
        "getitem_bool_mask": (lambda x: x[np.arange(12).reshape(3, 4) % 3 == 0], [rand(3, 4)]),
        "getitem_list": (lambda x: x[[2, 0]], [rand(3, 4)]),
        "concatenate_axis0": (lambda a, b: ops.concatenate([a, b], axis=0), [rand(2, 3), rand(4, 3)]),
        "concatenate_axis1": (lambda a, b, c: ops.concatenate([a, b, c], axis=1), [rand(2, 3), rand(2, 1), rand(2, 2)]),
        "stack_axis0": (lambda a, b: ops.stack([a, b]), [rand(2, 3), rand(2, 3)]),
        "stack_axis_last": (lambda a, b: ops.stack([a, b], axis=-1), [rand(2, 3), rand(2, 3)]),
        "clip": (lambda x: ops.clip(x, -0.5, 0.5), [np.array([-0.9, -0.3, 0.1, 0.4, 0.8, 0.55])]),
        "clip_low_only": (lambda x: ops.clip(x, -0.5, None), [np.array([-0.9, -0.3, 0.1])]),
        "relu": (ops.relu, [away_from_zero(3, 4)]),
        "leaky_relu": (lambda x: ops.leaky_relu(x, 0.1), [away_from_zero(3, 4)]),
        "elu": (ops.elu, [away_from_zero(3, 4)]),
        "selu": (ops.selu, [away_from_zero(3, 4)]),
        "sigmoid": (ops.sigmoid, [rand(3, 4) * 6]),
        "hard_sigmoid": (ops.hard_sigmoid, [np.array([-4.0, -1.0, 0.3, 2.0, 5.0])]),
        "tanh": (ops.tanh, [rand(3, 4) * 3]),
        "softplus": (ops.softplus, [rand(3, 4) * 10]),
        "silu": (ops.silu, [rand(3, 4) * 4]),
        "gelu_exact": (lambda x: ops.gelu(x, approximate=False), [rand(3, 4) * 3]),
        "gelu_tanh": (lambda x: ops.gelu(x, approximate=True), [rand(3, 4) * 3]),
        "softmax": (ops.softmax, [rand(3, 5) * 3]),
        "softmax_axis0": (lambda x: ops.softmax(x, axis=0), [rand(3, 5)]),
        "log_softmax": (ops.log_softmax, [rand(3, 5) * 3]),
        "log_softmax_axis0": (lambda x: ops.log_softmax(x, axis=0), [rand(3, 5)]),
        "dense_linear": (lambda x, k, b: ops.dense(x, k, b), [rand(4, 3), rand(3, 2), rand(2)]),
        "dense_relu": (lambda x, k, b: ops.dense(x, k, b, "relu"), [rand(4, 3), rand(3, 5), rand(5)]),
        "dense_tanh": (lambda x, k, b: ops.dense(x, k, b, "tanh"), [rand(4, 3), rand(3, 2), rand(2)]),
        "dense_no_bias": (lambda x, k: ops.dense(x, k, activation="tanh"), [rand(4, 3), rand(3, 2)]),
        "dense_3d_input": (lambda x, k, b: ops.dense(x, k, b, "tanh"), [rand(2, 3, 4), rand(4, 2), rand(2)]),
        "softmax_cross_entropy": (lambda z, y: ops.softmax_cross_entropy(z, y), [rand(4, 3) * 3, np.eye(3)[[0, 2, 1, 1]]]),
        "softmax_cross_entropy_soft_targets": (ops.softmax_cross_entropy, [rand(4, 3), np.full((4, 3), 1 / 3)]),
        "softmax_cross_entropy_smoothing": (
            lambda z, y: ops.softmax_cross_entropy(z, y, label_smoothing=0.2),
            [rand(4, 3), np.eye(3)[[0, 2, 1, 1]]],
        ),
        "softmax_cross_entropy_axis0": (
            lambda z, y: ops.softmax_cross_entropy(z, y, axis=0),
            [rand(3, 4), np.eye(3)[:, [0, 2, 1, 1]]],
        ),
        "sparse_softmax_cross_entropy": (
            lambda z: ops.sparse_softmax_cross_entropy(z, np.array([0, 2, 1, 1])),
            [rand(4, 3) * 3],
        ),
        "sparse_softmax_cross_entropy_3d": (
            lambda z: ops.sparse_softmax_cross_entropy(z, np.array([[0, 2], [1, 1]])),
            [rand(2, 2, 3)],
        ),
        "softmax_cross_entropy_mean": (
            lambda z, y: ops.softmax_cross_entropy(z, y, mean=True),
            [rand(4, 3) * 3, np.eye(3)[[0, 2, 1, 1]]],
        ),
        "softmax_cross_entropy_mean_reusing_softmax": (
            lambda z, y: ops.softmax_cross_entropy(z, y, label_smoothing=0.1, mean=True, probabilities=ops.softmax(z)),
            [rand(4, 3) * 3, np.eye(3)[[0, 2, 1, 1]]],
        ),
        "softmax_cross_entropy_mean_3d": (
            lambda z, y: ops.softmax_cross_entropy(z, y, mean=True),
            [rand(2, 2, 3), np.full((2, 2, 3), 1 / 3)],
        ),
        "sparse_softmax_cross_entropy_mean_reusing_softmax": (
            lambda z: ops.sparse_softmax_cross_entropy(z, np.array([0, 2, 1, 1]), mean=True, probabilities=ops.softmax(z)),
            [rand(4, 3) * 3],
        ),
        "sparse_softmax_cross_entropy_mean_3d": (
            lambda z: ops.sparse_softmax_cross_entropy(z, np.array([[0, 2], [1, 1]]), mean=True),
            [rand(2, 2, 3)],
        ),
        "softmax_wide": (ops.softmax, [rand(2, 40) * 3]),
        "bias_add_unbroadcast": (lambda x, b: x + b, [rand(5, 3), rand(3)]),
        "sigmoid_binary_cross_entropy": (ops.sigmoid_binary_cross_entropy, [rand(4, 2) * 4, RNG.uniform(0, 1, (4, 2))]),
    }
)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    fn, inputs = CASES[name]
    result = gradcheck(fn, inputs, atol=1e-6, rtol=1e-5)
    assert result.passed and result.max_rel_error < 1e-5


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(ops.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return (g * self.x,)  # missing the factor 2

    with pytest.raises(GradcheckError, match="differ"):
        gradcheck(lambda x: WrongSquare.apply(x), [np.array([1.0, 2.0])])
    result = gradcheck(lambda x: WrongSquare.apply(x), [np.array([1.0, 2.0])], raise_exception=False)
    assert not result and result.per_input[0]["mismatches"] == 2


def test_gradcheck_rejects_float32_computation():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: Tensor(x.data.astype(np.float32), requires_grad=True), [np.ones(2)])


# ---------------------------------------------------------------------------- forward values
def test_forward_values_match_numpy():
    a, b = rand(3, 4), positive(4)
    A, B = Tensor(a), Tensor(b)
    np.testing.assert_allclose(ops.div(A, B).data, a / b, rtol=1e-12)
    np.testing.assert_allclose(ops.pow(B, A).data, b**a, rtol=1e-12)
    np.testing.assert_allclose(ops.matmul(A, Tensor(rand(4, 2))).shape, (3, 2))
    np.testing.assert_allclose(ops.softmax(A).data.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(ops.log_softmax(A).data), ops.softmax(A).data, rtol=1e-12)
    np.testing.assert_allclose(ops.softplus(Tensor(np.array([1000.0, -1000.0]))).data, [1000.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(ops.sigmoid(Tensor(np.array([-1000.0, 0.0, 1000.0]))).data, [0.0, 0.5, 1.0], rtol=1e-12)
    assert ops.sigmoid(Tensor(np.array([-30.0]))).data[0] == pytest.approx(1 / (1 + np.exp(30.0)), rel=1e-12)


def test_fused_mean_cross_entropy_equals_the_mean_of_per_sample_losses():
    z, y = rand(6, 4) * 3, np.eye(4)[[0, 3, 1, 1, 2, 0]]
    labels = y.argmax(axis=1)
    for per_sample, fused in (
        (ops.softmax_cross_entropy(Tensor(z), y), ops.softmax_cross_entropy(Tensor(z), y, mean=True)),
        (ops.sparse_softmax_cross_entropy(Tensor(z), labels), ops.sparse_softmax_cross_entropy(Tensor(z), labels, mean=True)),
    ):
        assert fused.shape == ()
        np.testing.assert_allclose(fused.data, per_sample.data.mean(), rtol=1e-14)


def test_cross_entropy_reusing_the_softmax_is_bit_identical():
    z = Tensor(rand(5, 3).astype(np.float32) * 4, requires_grad=True)
    y = np.eye(3, dtype=np.float32)[[0, 2, 1, 1, 0]]
    probabilities = ops.softmax(z)
    reused = ops.softmax_cross_entropy(z, y, mean=True, probabilities=probabilities)
    assert ops._softmax_fn(probabilities, z) is probabilities._ctx  # the reuse really happens
    reused.backward()
    g_reused = z.grad
    z.grad = None
    alone = ops.softmax_cross_entropy(z, y, mean=True)
    alone.backward()
    np.testing.assert_array_equal(reused.data, alone.data)
    np.testing.assert_array_equal(g_reused, z.grad)
    # probabilities of other logits are never reused
    assert ops._softmax_fn(ops.softmax(Tensor(rand(5, 3), requires_grad=True)), z) is None


def test_softmax_fast_path_matches_the_reduction_formula():
    x = rand(7, 5) * 20
    x[2, 1] = np.nan
    expected = np.exp(x - x.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ops.softmax(Tensor(x)).data, expected, rtol=1e-14)
    assert np.isnan(ops.softmax(Tensor(x)).data[2]).all()  # a NaN logit makes its row NaN, as the formula does
    one_row = np.concatenate([ops.softmax(Tensor(x[i : i + 1].copy())).data for i in range(7)])
    np.testing.assert_array_equal(one_row, ops.softmax(Tensor(x)).data)  # a row's result does not depend on its batch


def test_erf_accuracy():
    import math

    xs = np.linspace(-5, 5, 1001)
    reference = np.array([math.erf(v) for v in xs])
    assert np.max(np.abs(ops.erf(xs) - reference)) < 2e-7


def test_unbroadcast_shapes():
    g = np.ones((2, 3, 4))
    assert ops.unbroadcast(g, (3, 1)).shape == (3, 1)
    assert ops.unbroadcast(g, ()).shape == ()
    assert float(ops.unbroadcast(g, ())) == 24.0


def test_dense_rejects_unfused_activation():
    with pytest.raises(ValueError, match="activation must be one of"):
        ops.dense(Tensor(np.ones((1, 2))), Tensor(np.ones((2, 2))), activation="softmax")


# ---------------------------------------------------------------------------- PyTorch
# The unary ops, and a batched matmul with broadcasting, a division and a max, against PyTorch: tests/torch_cases.py's
# "op/" cases, run by tests/test_torch_golden.py against the committed values everywhere and torch where installed.
