"""Losses: values and gradients against PyTorch, numerical stability, reductions, errors."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, gradcheck, losses, ops

RNG = np.random.default_rng(1)


def test_keras_names_resolve():
    for name in [
        "mse",
        "mae",
        "MSE",
        "mean_squared_error",
        "huber",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "CategoricalCrossentropy",
    ]:
        assert isinstance(losses.get(name), losses.Loss)
    with pytest.raises(ValueError, match=r"Unknown loss 'categorical_crosentropy'\. Did you mean 'categorical_crossentropy'"):
        losses.get("categorical_crosentropy")
    with pytest.raises(TypeError):
        losses.get(3)


def test_functions_reduce_last_axis_only():
    y, p = np.zeros((4, 3)), RNG.random((4, 3))
    assert losses.mean_squared_error(y, p).shape == (4,)
    np.testing.assert_allclose(losses.mean_squared_error(y, p).data, (p**2).mean(axis=1), rtol=1e-14)  # float64


def test_rank_matching_like_keras():
    # (batch,) targets with (batch, 1) predictions, and the reverse
    np.testing.assert_allclose(
        losses.MeanSquaredError()(np.array([1.0, 2.0]), np.array([[1.0], [4.0]])).item(), 2.0, rtol=1e-12
    )
    with pytest.raises(ValueError, match="y_true has shape"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.zeros((4, 3)))


def test_reductions_and_sample_weight():
    values = Tensor(np.array([1.0, 2.0, 3.0, 6.0]))
    w = np.array([1.0, 0.0, 1.0, 0.5])
    assert losses.reduce_weighted(values, w).item() == pytest.approx((1 + 3 + 3) / 4)
    assert losses.reduce_weighted(values, w, "sum").item() == pytest.approx(7.0)
    assert losses.reduce_weighted(values, w, "mean_with_sample_weight").item() == pytest.approx(7.0 / 2.5)
    assert losses.reduce_weighted(values, None, "none").shape == (4,)
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="avg")


# Against PyTorch (categorical, sparse and binary crossentropy with and without logits and label smoothing,
# plain probabilities, MSE, MAE, Huber): tests/torch_cases.py's "loss/" cases, run by tests/test_torch_golden.py
# against the committed values everywhere and against torch itself where it is installed (float64: losses
# agree to 1e-13, gradients to 1e-12).


def test_sparse_labels_as_floats_or_with_a_trailing_axis():
    logits = RNG.normal(size=(6, 4))
    labels = RNG.integers(0, 4, 6)
    want = losses.sparse_categorical_crossentropy(labels, Tensor(logits), from_logits=True).data
    for given in (labels[:, None].astype(float), labels.astype(float)):
        got = losses.sparse_categorical_crossentropy(given, Tensor(logits), from_logits=True)
        assert got.shape == (6,)
        np.testing.assert_array_equal(got.data, want)


@pytest.mark.parametrize(
    "loss, target",
    [
        (losses.CategoricalCrossentropy(), np.eye(4)[[0, 3, 1, 2, 2]]),
        (losses.get("categorical_crossentropy"), np.eye(4)[[0, 3, 1, 2, 2]]),
        (losses.SparseCategoricalCrossentropy(), np.array([0, 3, 1, 2, 2])),
        (losses.get("sparse_categorical_crossentropy"), np.array([0, 3, 1, 2, 2])),
    ],
)
def test_unweighted_crossentropy_is_one_fused_node_with_the_per_sample_mean(loss, target):
    z = Tensor(RNG.normal(size=(5, 4)) * 2, requires_grad=True)
    fused = loss(target, ops.softmax(z))
    assert isinstance(fused._ctx, (ops.SoftmaxCrossEntropy, ops.SparseSoftmaxCrossEntropy)) and fused._ctx.mean
    fused.backward()
    g_fused, z.grad = z.grad, None
    weighted = loss(target, ops.softmax(z), sample_weight=np.ones(5))  # the general path: per sample, then the mean
    assert not isinstance(weighted._ctx, (ops.SoftmaxCrossEntropy, ops.SparseSoftmaxCrossEntropy))
    weighted.backward()
    assert fused.item() == pytest.approx(weighted.item(), rel=1e-14)
    np.testing.assert_allclose(g_fused, z.grad, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_crossentropies_are_stable_at_extremes(dtype):
    huge = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    onehot = np.eye(3, dtype=dtype)[[1, 0]]  # the worst labels for these logits
    for pred_fn, fl in ((lambda z: z, True), (ops.softmax, False)):
        z = Tensor(huge, requires_grad=True)
        loss = losses.CategoricalCrossentropy(from_logits=fl)(onehot, pred_fn(z))
        loss.backward()
        # row 1: 1e4 - (-1e4); row 2: 1e4 + log 2 - (-1e4): the exact values, not a clipped 16.1
        # float32 holds 2e4 to 1e-3 (eps 6e-8 relative); float64 to the last bits
        assert loss.item() == pytest.approx(2e4 + np.log(2) / 2, rel=1e-6 if dtype == np.float32 else 1e-14)
        assert np.all(np.isfinite(z.grad))
        z = Tensor(huge, requires_grad=True)
        loss = losses.SparseCategoricalCrossentropy(from_logits=fl)(np.array([1, 0]), pred_fn(z))
        loss.backward()
        assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))
    z = Tensor(huge, requires_grad=True)
    loss = losses.BinaryCrossentropy()(np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]], dtype=dtype), ops.sigmoid(z))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_of_exactly_zero_and_one_are_finite(dtype):
    probs = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)
    onehot = np.eye(3, dtype=dtype)[[0, 1]]  # each label has probability 0
    for loss_fn, target in (
        (losses.CategoricalCrossentropy(), onehot),
        (losses.SparseCategoricalCrossentropy(), np.array([0, 1])),
        (losses.BinaryCrossentropy(), 1.0 - probs),
    ):
        p = Tensor(probs, requires_grad=True)
        value = loss_fn(target, p)
        value.backward()
        assert np.isfinite(value.item()) and value.item() > 5
        assert np.all(np.isfinite(p.grad))


def test_loss_function_gradients_by_finite_differences():
    y = np.eye(3)[[0, 2, 1]]
    for fn in (
        lambda p: losses.categorical_crossentropy(y, ops.softmax(p)),
        lambda p: losses.binary_crossentropy(np.abs(y), ops.sigmoid(p)),
        lambda p: losses.huber(y, p, delta=0.7),
        lambda p: losses.mean_absolute_error(y, p),
        lambda p: losses.mean_squared_error(y, p),
        lambda p: losses.sparse_categorical_crossentropy(np.array([0, 2, 1]), ops.softmax(p)),
    ):
        assert gradcheck(fn, [RNG.uniform(0.1, 0.9, (3, 3)) * RNG.choice([-1, 1], (3, 3))])


def test_custom_loss_class_and_function():
    class Cubic(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.abs(ops.sub(y_pred, y_true)) ** 3, axis=-1)

    assert Cubic()(np.zeros((2, 1)), np.full((2, 1), 2.0)).item() == 8.0
    wrapped = losses.get(lambda t, p: ops.mean(ops.square(ops.sub(p, t)), axis=-1))
    assert wrapped(np.zeros((1, 1)), np.ones((1, 1))).item() == 1.0
    assert losses.Huber().get_config()["delta"] == 1.0
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=2.0)
