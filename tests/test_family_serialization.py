"""serialize/deserialize of each family (losses, metrics, optimizers, regularizers, initializers,
activations) and the orthogonal regularizer."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, activations, backend, gradcheck, initializers, losses, metrics, optimizers, regularizers


@pytest.mark.parametrize(
    ("module", "obj"),
    [
        (losses, losses.Tversky(alpha=0.3, beta=0.7)),
        (losses, losses.BinaryFocalCrossentropy(gamma=3.0)),
        (metrics, metrics.FBetaScore(beta=2.0)),
        (metrics, metrics.MeanIoU(num_classes=3)),
        (optimizers, optimizers.Adafactor(learning_rate=0.2, clip_threshold=0.5)),
        (regularizers, regularizers.OrthogonalRegularizer(0.2, mode="columns")),
        (initializers, initializers.Identity(gain=0.5)),
    ],
)
def test_round_trip(module, obj):
    spec = module.serialize(obj)
    assert spec["class_name"] == type(obj).__name__ and spec["registered_name"] is None
    again = module.deserialize(spec)
    assert type(again) is type(obj) and again.get_config() == obj.get_config()


def test_names_resolve_within_their_family():
    assert losses.deserialize("mse") is losses.mean_squared_error
    assert isinstance(metrics.deserialize("MeanSquaredError"), type)  # the metric class, not the loss's
    assert metrics.deserialize("MeanSquaredError") is metrics.MeanSquaredError
    assert isinstance(optimizers.deserialize("lamb"), optimizers.Lamb)
    assert isinstance(regularizers.deserialize("orthogonal_regularizer"), regularizers.OrthogonalRegularizer)
    assert losses.deserialize({"class_name": "function", "config": "poisson"}) is losses.poisson
    assert activations.deserialize(activations.serialize(activations.celu)) is activations.celu
    keras_spec = {
        "module": "keras.losses",
        "class_name": "Dice",
        "config": {"name": "dice", "reduction": "sum", "axis": [1]},
        "registered_name": None,
    }
    assert losses.deserialize(keras_spec).get_config() == {"name": "dice", "reduction": "sum", "axis": (1,)}
    with pytest.raises(ValueError, match="Unknown loss 'Nope'"):
        losses.deserialize({"class_name": "Nope", "config": {}})


def test_orthogonal_regularizer_matches_keras_and_its_gradient():
    backend.set_floatx("float64")
    try:
        w = np.random.default_rng(0).normal(size=(4, 3))
        # Keras 3.15's values for this weight (torch backend)
        assert regularizers.OrthogonalRegularizer(0.3)(Tensor(w)).item() == pytest.approx(0.1410036128164771, rel=1e-6)
        assert regularizers.OrthogonalRegularizer(0.3, mode="columns")(Tensor(w)).item() == pytest.approx(
            0.20617907866553745, rel=1e-6
        )
        assert regularizers.OrthogonalRegularizer(1.0)(Tensor(np.eye(3))).item() == 0.0
        assert gradcheck(lambda x: regularizers.OrthogonalRegularizer(0.3)(x), [w])
    finally:
        backend.set_floatx("float32")
    with pytest.raises(ValueError, match="OrthogonalRegularizer: the weight must have rank 2"):
        regularizers.OrthogonalRegularizer()(Tensor(np.ones(3)))
    with pytest.raises(ValueError, match="mode must be 'rows' or 'columns'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


def test_a_dense_kernel_takes_the_orthogonal_regularizer():
    from myelin import layers

    layer = layers.Dense(3, kernel_regularizer=regularizers.OrthogonalRegularizer(0.5))
    layer(np.ones((2, 3), np.float32))
    assert len(layer.losses) == 1 and layer.losses[0].item() > 0
