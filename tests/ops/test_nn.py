"""ops.nn against reference formulas (Keras's definitions) and central differences."""

import math

import numpy as np
import pytest

from myelin import ops

from .checks import assert_grads

RNG = np.random.default_rng(1)
X = RNG.uniform(-3, 3, size=(3, 5))


def sig(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {
    "relu": (ops.nn.relu, lambda x: np.maximum(x, 0)),
    "relu6": (ops.nn.relu6, lambda x: np.clip(x, 0, 6)),
    "sigmoid": (ops.nn.sigmoid, sig),
    "sparse_sigmoid": (ops.nn.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1)),
    "softplus": (ops.nn.softplus, lambda x: np.log1p(np.exp(x))),
    "softsign": (ops.nn.softsign, lambda x: x / (np.abs(x) + 1)),
    "silu": (ops.nn.silu, lambda x: x * sig(x)),
    "swish": (ops.swish, lambda x: x * sig(x)),
    "squareplus": (ops.nn.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2),
    "log_sigmoid": (ops.nn.log_sigmoid, lambda x: np.log(sig(x))),
    "leaky_relu": (ops.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    "hard_sigmoid": (ops.nn.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "hard_silu": (ops.nn.hard_silu, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    "hard_tanh": (ops.nn.hard_tanh, lambda x: np.clip(x, -1, 1)),
    "tanh_shrink": (ops.nn.tanh_shrink, lambda x: x - np.tanh(x)),
    "elu": (ops.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu": (ops.nn.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    "celu": (lambda x: ops.nn.celu(x, 0.5), lambda x: np.maximum(x, 0) + np.minimum(0, 0.5 * np.expm1(x / 0.5))),
    "gelu_tanh": (ops.nn.gelu, lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    "soft_shrink": (ops.nn.soft_shrink, lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))),
    "hard_shrink": (ops.nn.hard_shrink, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    "sparse_plus": (ops.nn.sparse_plus, lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    "glu": (ops.nn.glu, lambda x: None),
    "softmax": (ops.nn.softmax, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    "softmax_axis0": (lambda x: ops.nn.softmax(x, axis=0), lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True)),
    "log_softmax": (ops.nn.log_softmax, lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    "sparsemax": (ops.nn.sparsemax, lambda x: None),
    "normalize": (ops.nn.normalize, lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_forward_and_gradient(name):
    fn, ref = ACTIVATIONS[name]
    x = X[:, :4] if name == "glu" else X
    expected = ref(x)
    if expected is not None:
        np.testing.assert_allclose(fn(x).data, expected, rtol=1e-12, atol=1e-12)
    assert fn(x.astype(np.float32)).dtype == np.float32
    assert_grads(fn, x + 0.013, tol=1e-5)  # the shift keeps points off the kinks


def test_gelu_defaults_to_the_tanh_approximation_as_keras():
    x = np.array([-1.0, 0.5, 2.0])
    exact = x * 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x]))
    assert not np.allclose(ops.gelu(x).data, exact, atol=1e-6)
    np.testing.assert_allclose(ops.gelu(x, approximate=False).data, exact, rtol=1e-14, atol=1e-16)  # float64 erf is exact


def test_sparsemax_projects_onto_the_simplex():
    out = ops.nn.sparsemax(np.array([[0.5, 0.3, -1.0], [2.0, 0.0, 0.0]])).data
    np.testing.assert_allclose(out, [[0.6, 0.4, 0.0], [1.0, 0.0, 0.0]], atol=1e-12)


def test_glu_values():
    x = np.array([[1.0, 2.0, 0.0, -1.0]])
    np.testing.assert_allclose(ops.nn.glu(x).data, [[1.0 * sig(0.0), 2.0 * sig(-1.0)]], rtol=1e-12)


def test_one_hot_and_multi_hot():
    np.testing.assert_array_equal(ops.one_hot(np.array([2, -1, 0]), 3).data, [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    assert ops.one_hot([1], 4, axis=0).shape == (4, 1)
    assert ops.one_hot([1], 4, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ops.multi_hot([[0, 2], [1, 1]], 3).data, [[1, 0, 1], [0, 1, 0]])


def test_moments_and_batch_normalization():
    x = RNG.normal(size=(4, 3))
    m, v = ops.moments(x, axes=[0])
    np.testing.assert_allclose(m.data, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(v.data, x.var(0), rtol=1e-12)
    assert ops.moments(x, axes=[0], keepdims=True)[0].shape == (1, 3)
    scale, offset = np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.2, 0.3])
    out = ops.batch_normalization(x, x.mean(0), x.var(0), axis=-1, offset=offset, scale=scale, epsilon=1e-3)
    np.testing.assert_allclose(out.data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * scale + offset, rtol=1e-12)
    assert_grads(lambda t: ops.moments(t, axes=[0])[1], x)
    assert_grads(lambda t, s: ops.batch_normalization(t, x.mean(0), x.var(0), -1, scale=s), x, scale)


def test_cross_entropies_follow_keras_formulas():
    eps = 1e-7
    p = np.array([[0.2, 0.7, 0.1], [0.0, 1.0, 0.0]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    expected = -(t * np.log(np.clip(p / p.sum(-1, keepdims=True), eps, 1 - eps))).sum(-1)
    np.testing.assert_allclose(ops.categorical_crossentropy(t, p).data, expected, rtol=1e-12)
    logits = np.log(p + 0.05)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(ops.categorical_crossentropy(t, logits, from_logits=True).data, -(t * logp).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(
        ops.sparse_categorical_crossentropy([1, 0], logits, from_logits=True).data, -logp[[0, 1], [1, 0]], rtol=1e-12
    )
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy([[1], [0]], p).data, expected, rtol=1e-12)
    y, q = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.0])
    qc = np.clip(q, eps, 1 - eps)
    np.testing.assert_allclose(ops.binary_crossentropy(y, q).data, -(y * np.log(qc) + (1 - y) * np.log(1 - qc)), rtol=1e-12)
    z = np.array([2.0, -1.0, 0.5])
    np.testing.assert_allclose(
        ops.binary_crossentropy(y, z, from_logits=True).data, -(y * np.log(sig(z)) + (1 - y) * np.log(1 - sig(z))), rtol=1e-12
    )
    assert_grads(lambda a: ops.categorical_crossentropy(t, a, from_logits=True), logits)
    assert_grads(lambda a: ops.sparse_categorical_crossentropy(np.array([1, 0]), a), p + 0.1)
    assert_grads(lambda a: ops.binary_crossentropy(y, a), np.array([0.9, 0.2, 0.4]))
    with pytest.raises(ValueError, match="same shape"):
        ops.binary_crossentropy(y, z[:2])


def test_depth_to_space_round_trip_and_top_k():
    x = RNG.normal(size=(2, 4, 6, 8))
    y = ops.nn.space_to_depth(x, 2)
    assert y.shape == (2, 2, 3, 32)
    np.testing.assert_array_equal(ops.nn.depth_to_space(y, 2).data, x)
    values, idx = ops.top_k(np.array([[1.0, 5.0, 3.0, 4.0]]), 2)
    np.testing.assert_array_equal(values.data, [[5.0, 4.0]])
    np.testing.assert_array_equal(idx.data, [[1, 3]])
    np.testing.assert_array_equal(ops.in_top_k([3, 0], np.array([[1.0, 5.0, 3.0, 4.0]] * 2), 2).data, [True, False])


def test_psnr():
    a, b = np.zeros(4), np.full(4, 0.1)
    assert float(ops.psnr(a, b, 1.0).data) == pytest.approx(20.0)
