"""Training diagnostics: per-layer norms and unit statistics, and plain warnings about broken training."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import myelin
from myelin import initializers, layers
from myelin.callbacks import Diagnostics, TrainingWarning


def _data(n=128):  # fewer samples than Diagnostics' sample_size (256): the sample is the whole first epoch
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64")


def _net(h1=None, h2=None, activation="relu"):
    return myelin.Sequential(
        [
            layers.Input(shape=(6,)),
            layers.Dense(16, activation=activation, name="h1", **(h1 or {})),
            layers.Dense(16, activation=activation, name="h2", **(h2 or {})),
            layers.Dense(2, activation="softmax", name="out"),
        ]
    )


def _fit(model, epochs=3, **kwargs):
    x, y = _data()
    model.compile(optimizer=kwargs.pop("optimizer", "sgd"), loss="sparse_categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, **kwargs)
    return history, [str(w.message) for w in caught if issubclass(w.category, TrainingWarning)]


def test_a_healthy_network_is_recorded_without_warnings():
    model = _net()
    history, warned = _fit(model, diagnostics=True)
    assert warned == []
    records = history.diagnostics
    assert records["epoch"] == [0, 1, 2] and records["warnings"] == []
    assert set(records["layers"]) == {"h1", "h2", "out"}
    assert records["activations"] == {"h1": "relu", "h2": "relu"}
    for name in ("h1", "h2", "out"):
        entry = records["layers"][name]
        for key in ("weight_norm", "grad_norm", "grad_norm_max", "update_ratio"):
            assert len(entry[key]) == 3 and all(math.isfinite(v) and v > 0 for v in entry[key])
        assert 1e-5 < entry["update_ratio"][-1] < 1e-1
    weights = model.get_layer("h1").get_weights()
    assert records["layers"]["h1"]["weight_norm"][-1] == pytest.approx(
        np.sqrt(sum((w.astype(float) ** 2).sum() for w in weights))
    )
    assert records["layers"]["h1"]["dead_fraction"][-1] < 0.5
    assert model._step_hooks == []  # the hook is gone after fit


def test_gradient_norm_and_update_ratio_are_the_true_ones():
    """One full batch per epoch: the recorded gradient is the gradient of the loss on all the data."""
    x, y = _data(64)
    model = _net()
    model.compile(optimizer=myelin.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_layer("out").get_weights()]
    e = model.explain(x, y)  # no Dropout: the same loss and gradients as the training step
    expected = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in e["out"]["grad_weights"].values()))
    history = model.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0, diagnostics=True)
    out = history.diagnostics["layers"]["out"]
    assert out["grad_norm"][0] == pytest.approx(expected, rel=1e-6)
    assert out["grad_norm_max"][0] == out["grad_norm"][0]  # one batch
    # plain SGD: ‖ΔW‖ = lr ‖g‖, so the ratio is lr ‖g‖ / ‖W before the step‖
    norm_before = np.sqrt(sum(float((w.astype(np.float64) ** 2).sum()) for w in before))
    assert out["update_ratio"][0] == pytest.approx(0.1 * expected / norm_before, rel=1e-4)
    assert out["update_ratio"][1] == pytest.approx(0.1 * out["grad_norm"][1] / out["weight_norm"][0], rel=1e-4)


def test_detects_an_exploding_network():
    huge = {"kernel_initializer": initializers.RandomNormal(stddev=100.0)}
    history, warned = _fit(_net(h1=huge, h2=huge), diagnostics=True)
    layers_ = history.diagnostics["layers"]
    assert layers_["h1"]["grad_norm_max"][0] > 1e3
    assert any("'h1' is exploding" in w for w in warned)
    assert any("'h2' is exploding" in w for w in warned)
    exploding = next(w for w in warned if "'h1' is exploding" in w)
    assert exploding.startswith("epoch 1: the gradient of layer 'h1' is exploding (norm ")
    assert "Lower the learning rate" in exploding
    assert history.diagnostics["warnings"] == warned  # every warning is also in the records


def test_detects_a_dead_relu_layer():
    dead = {"bias_initializer": initializers.Constant(-50.0)}
    history, warned = _fit(_net(h1=dead), callbacks=[Diagnostics()])
    layers_ = history.diagnostics["layers"]
    assert layers_["h1"]["dead_fraction"] == [1.0, 1.0, 1.0]
    assert layers_["h1"]["grad_norm"] == [0.0, 0.0, 0.0]  # dead units get no gradient
    assert any(
        w.startswith("epoch 1: layer 'h1' is dead: all of its relu units output 0 for every one of 128") for w in warned
    )
    assert any("the gradient of layer 'h1' is vanishing (it is 0: no gradient reaches it" in w for w in warned)
    # each problem is warned (and recorded) once per layer, however many epochs show it
    assert sum("'h1' is dead" in w for w in warned) == 1
    assert history.diagnostics["warnings"] == warned


def test_detects_saturated_sigmoid_units():
    big = {"kernel_initializer": initializers.RandomNormal(stddev=20.0)}
    history, warned = _fit(_net(h1=big, activation="sigmoid"), diagnostics=True)
    assert history.diagnostics["layers"]["h1"]["saturation"][0] > 0.5
    assert any("sigmoid activations of layer 'h1' are saturated" in w for w in warned)


def test_no_diagnostics_unless_asked_and_bad_arguments():
    history, _ = _fit(_net())
    assert history.diagnostics is None
    with pytest.raises(ValueError, match="sample_size must be a positive integer"):
        Diagnostics(sample_size=0)
    with pytest.raises(ValueError, match="dead must be a fraction"):
        Diagnostics(dead=2)


def test_the_activation_sample_is_fixed_after_the_first_epoch():
    x, y = _data(100)
    model = _net()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    callback = Diagnostics(sample_size=64)
    model.fit(x, y, epochs=2, batch_size=48, verbose=0, callbacks=[callback])
    assert len(callback._sample[0]) == 64
    small = Diagnostics()
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[small])
    assert len(small._sample[0]) == 100  # the whole first epoch, not more in later ones
