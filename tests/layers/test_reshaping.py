"""Permute and RepeatVector against NumPy's transpose/repeat, with gradients, config, saving and ONNX where exported."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Input, Model, Tensor, layers

from . import checks

rng = np.random.default_rng(1)


def test_permute_forward_gradients_config(float64):
    x = rng.standard_normal((2, 3, 4, 5))
    layer = layers.Permute((3, 1, 2))
    checks.close(layer(x).data, np.transpose(x, (0, 3, 1, 2)), what="Permute")
    checks.gradients(layers.Permute((3, 1, 2)), x)
    checks.config_round_trip(layers.Permute((2, 3, 1)), x)
    assert Model(*(lambda i: (i, layers.Permute((2, 1))(i)))(Input(shape=(3, 4)))).output_shape == (None, 4, 3)


def test_repeat_vector_forward_gradients_config(float64):
    x = rng.standard_normal((2, 3))
    t = Tensor(x, requires_grad=True)
    y = layers.RepeatVector(4)(t)
    checks.close(y.data, np.repeat(x[:, None, :], 4, axis=1), what="RepeatVector")
    y.sum().backward()
    checks.close(t.grad, np.full_like(x, 4.0), what="RepeatVector grad")
    checks.gradients(layers.RepeatVector(2), x)
    checks.config_round_trip(layers.RepeatVector(3), x)


def test_bad_input_names_the_layer():
    with pytest.raises(ValueError, match=r"Permute .*permutation of 1..2.*\(1, 1\)"):
        layers.Permute((1, 1))
    with pytest.raises(ValueError, match=r"Permute 'p'.*rank 3.*\(2, 3\)"):
        layers.Permute((2, 1), name="p")(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"RepeatVector .*rank 2.*\(2, 3, 4\)"):
        layers.RepeatVector(2)(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        layers.RepeatVector(0)


def test_identity_passes_values_and_gradients(float64):
    x = rng.standard_normal((2, 3))
    checks.close(layers.Identity()(x).data, x, what="Identity")
    checks.gradients(layers.Identity(), x)
    checks.config_round_trip(layers.Identity(name="same"), x)
