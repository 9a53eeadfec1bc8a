"""The shared layer checks on the oldest layer, Dense: they pass on it and catch a wrong backward."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import layers, ops
from tests.layers import checks


def test_dense_passes_every_shared_check(float64, tmp_path):
    layer = layers.Dense(3, activation="tanh")
    x = np.random.default_rng(0).standard_normal((4, 5))
    checks.gradients(layer, x)
    checks.config_round_trip(layer, x)


def test_shared_checks_on_a_float32_model(tmp_path):
    layer = layers.Dense(3, activation="relu")
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    model = checks.model_of(layer, (5,))
    checks.saving(model, x, tmp_path)
    checks.onnx_export(model, x, tmp_path)


def test_gradients_check_catches_a_wrong_backward(float64, monkeypatch):
    original = ops.Tanh.backward
    monkeypatch.setattr(ops.Tanh, "backward", lambda self, g: tuple(0.5 * a for a in original(self, g)))
    with pytest.raises(AssertionError, match="central differences"):
        checks.gradients(layers.Activation("tanh"), np.random.default_rng(0).standard_normal((3, 4)))
