"""Activations by name and callable, their values (Keras's definitions) and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from myelin import Tensor, activations, gradcheck

NAMES = [
    "linear",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softplus",
    "swish",
    "silu",
]
X = np.array([[-3.0, -0.5, 0.25, 2.0]])


def reference(name, x):
    sig = 1 / (1 + np.exp(-x))
    return {
        "linear": x,
        "relu": np.maximum(x, 0),
        "leaky_relu": np.where(x > 0, x, 0.2 * x),
        "elu": np.where(x > 0, x, np.expm1(x)),
        "selu": 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
        "gelu": x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
        "sigmoid": sig,
        "hard_sigmoid": np.clip(x / 6 + 0.5, 0, 1),
        "tanh": np.tanh(x),
        "softmax": np.exp(x) / np.exp(x).sum(-1, keepdims=True),
        "log_softmax": x - np.log(np.exp(x).sum(-1, keepdims=True)),
        "softplus": np.log1p(np.exp(x)),
        "swish": x * sig,
        "silu": x * sig,
    }[name]


@pytest.mark.parametrize("name", NAMES)
def test_values_by_name(name):
    fn = activations.get(name)
    np.testing.assert_allclose(fn(Tensor(X)).data, reference(name, X), rtol=1e-12, atol=1e-15)  # float64 X: a few operations


@pytest.mark.parametrize("name", NAMES)
def test_gradients(name):
    fn = activations.get(name)
    assert gradcheck(fn, [X * 1.1])


def test_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.get(np.tanh) is np.tanh
    assert activations.serialize(activations.get("silu")) == "swish"
    with pytest.raises(ValueError, match=r"Unknown activation 'rellu'\. Did you mean 'relu'"):
        activations.get("rellu")
    with pytest.raises(ValueError, match="not registered"):
        activations.serialize(lambda x: x)
    with pytest.raises(TypeError):
        activations.get(3)


def test_relu_options_and_softmax_axis():
    x = Tensor(np.array([-2.0, 0.5, 3.0]))
    np.testing.assert_allclose(activations.relu(x, max_value=1.0).data, [0.0, 0.5, 1.0], rtol=1e-12)
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.1).data, [-0.2, 0.5, 3.0], rtol=1e-12)
    np.testing.assert_allclose(activations.relu(x, threshold=1.0).data, [0.0, 0.0, 3.0], rtol=1e-12)
    assert gradcheck(lambda t: activations.relu(t, negative_slope=0.1, max_value=2.5), [np.array([-2.0, 0.5, 3.0])])
    np.testing.assert_allclose(activations.softmax(Tensor(np.ones((2, 3))), axis=0).data, np.full((2, 3), 0.5), rtol=1e-12)
