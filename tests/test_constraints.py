"""myelin.constraints: Keras's formulas, serialization, and the optimizer applying them after each update."""

import numpy as np
import pytest

from myelin import Input, Sequential, Tensor, constraints, layers, optimizers

EPS = 1e-7
W = np.random.default_rng(0).normal(size=(4, 3)) * 3


def keras_max_norm(w, m, axis):
    n = np.sqrt((w**2).sum(axis=axis, keepdims=True))
    return w * np.clip(n, 0, m) / (EPS + n)


def keras_min_max(w, lo, hi, rate, axis):
    n = np.sqrt((w**2).sum(axis=axis, keepdims=True))
    return w * (rate * np.clip(n, lo, hi) + (1 - rate) * n) / (EPS + n)


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_formulas(axis):
    ax = tuple(axis) if isinstance(axis, list) else axis
    np.testing.assert_allclose(constraints.MaxNorm(2.0, axis)(W), keras_max_norm(W, 2.0, ax), rtol=1e-14)
    np.testing.assert_allclose(constraints.MinMaxNorm(1.0, 2.5, 0.7, axis)(W), keras_min_max(W, 1.0, 2.5, 0.7, ax), rtol=1e-14)
    n = np.sqrt((W**2).sum(axis=ax, keepdims=True))
    np.testing.assert_allclose(constraints.UnitNorm(axis)(W), W / (EPS + n), rtol=1e-14)
    np.testing.assert_array_equal(constraints.NonNeg()(W), np.where(W >= 0, W, 0))
    norms = np.sqrt((constraints.MaxNorm(1.5, axis)(W) ** 2).sum(axis=ax))
    assert norms.max() <= 1.5


def test_get_serialize_deserialize():
    for name, cls in (("max_norm", "MaxNorm"), ("MinMaxNorm", "MinMaxNorm"), ("non_neg", "NonNeg"), ("unit_norm", "UnitNorm")):
        c = constraints.get(name)
        assert type(c).__name__ == cls
        again = constraints.deserialize(constraints.serialize(c))
        assert type(again) is type(c) and again.get_config() == c.get_config()
    assert constraints.get(None) is None
    assert constraints.serialize(constraints.MaxNorm(3, axis=1)) == {
        "class_name": "MaxNorm",
        "config": {"max_value": 3.0, "axis": 1},
    }
    with pytest.raises(ValueError, match="Unknown constraint"):
        constraints.get("max_nrom")
    with pytest.raises(ValueError, match="max_value"):
        constraints.MaxNorm(0)


def test_tensor_in_tensor_out():
    out = constraints.NonNeg()(Tensor(np.array([-1.0, 2.0], np.float32)))
    assert isinstance(out, Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0.0, 2.0])


def test_optimizer_applies_constraints_after_the_step():
    layer = layers.Dense(3, kernel_constraint=constraints.MaxNorm(0.5), bias_constraint="non_neg", kernel_initializer="ones")
    layer.build((None, 4))
    free = layers.Dense(3, kernel_initializer="ones")
    free.build((None, 4))
    grads = [np.full((4, 3), 0.1, np.float32), np.array([1.0, -1.0, 0.0], np.float32)]
    opt = optimizers.SGD(0.1)
    opt.apply(grads, [layer.kernel, layer.bias])
    expected = keras_max_norm(np.ones((4, 3)) - 0.01, 0.5, 0)
    np.testing.assert_allclose(layer.kernel.data, expected, rtol=1e-6)
    np.testing.assert_allclose(layer.bias.data, [0.0, 0.1, 0.0], rtol=1e-6)
    # without constraints the same step leaves the plain update
    opt2 = optimizers.SGD(0.1)
    opt2.apply([grads[0]], [free.kernel])
    np.testing.assert_allclose(free.kernel.data, np.full((4, 3), 0.99), rtol=1e-6)


def test_fit_keeps_constrained_weights_inside_and_config_round_trips():
    model = Sequential([Input(shape=(4,)), layers.Dense(2, kernel_constraint="unit_norm")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    model.fit(x, x[:, :2] * 5, epochs=2, verbose=0)
    np.testing.assert_allclose(np.sqrt((model.layers[-1].kernel.data ** 2).sum(axis=0)), [1.0, 1.0], rtol=1e-5)
    config = model.layers[-1].get_config()
    assert config["kernel_constraint"] == {"class_name": "UnitNorm", "config": {"axis": 0}}
    rebuilt = layers.Dense.from_config(config)
    assert isinstance(rebuilt.kernel_constraint, constraints.UnitNorm)
