"""myelin.gradcheck(model, x, y): every weight's gradient of the training loss against central differences."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers, losses
from myelin.gradcheck import GradcheckError
from myelin.tensor import Function

RNG = np.random.default_rng(0)


class BadSquare(Function):
    """x², with the factor 2 forgotten in the backward: the kind of slip a custom layer makes."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (g * self.x,)


class Squash(layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")

    def call(self, x, training=False):
        return BadSquare.apply(x * self.w)


def _data(n=4):
    return RNG.normal(size=(n, 3)), np.array([0, 1, 1, 0][:n])


def test_a_correct_model_passes_and_is_left_untouched():
    model = myelin.Sequential(
        [
            layers.Input(shape=(3,)),
            layers.Dense(5, activation="tanh", kernel_regularizer="l2", name="h1"),
            layers.Dropout(0.5, name="drop"),
            layers.Dense(4, activation="sigmoid", activity_regularizer="l1", name="h2"),
            layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x, y, epochs=2, verbose=0)
    model.predict(x, verbose=0)  # recordings of the training and inference steps exist: the copy leaves them
    weights = model.get_weights()
    state = {k: np.array(v, copy=True) for k, v in model.optimizer.get_state().items()}
    result = myelin.gradcheck(model, x, y, sample_weight=np.array([1.0, 2.0, 0.5, 1.0]))
    assert result.passed and bool(result)
    assert set(result.per_layer) == {"h1", "h2", "out"}
    assert all(error < 1e-6 for error in result.per_layer.values())
    assert [row["weight"] for row in result.per_input] == [
        "h1/kernel",
        "h1/bias",
        "h2/kernel",
        "h2/bias",
        "out/kernel",
        "out/bias",
    ]
    assert [row["checked"] for row in result.per_input] == [15, 5, 20, 4, 8, 2]
    assert "passed" in str(result) and "h2/kernel" in str(result)
    # the check ran on a float64 copy: the model, its weights and its optimizer are as they were
    assert all(np.array_equal(a, b) and b.dtype == np.float32 for a, b in zip(weights, model.get_weights()))
    assert all(w.grad is None for w in model.weights)
    assert all(np.array_equal(v, model.optimizer.get_state()[k]) for k, v in state.items())
    model.fit(x, y, epochs=1, verbose=0)  # and it still trains


def test_the_loss_checked_is_the_training_loss():
    model = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(2, kernel_regularizer="l2", name="out")])
    model.compile(optimizer="sgd", loss="mse")
    x, y = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2))
    result = myelin.gradcheck(model, x, y)
    w, b = (a.astype(np.float64) for a in model.get_weights())
    x32 = x.astype(np.float32).astype(np.float64)  # the features as fit takes them (float32), then float64
    expected = np.mean((x32 @ w + b - y.astype(np.float32)) ** 2) + 0.01 * (w**2).sum()
    assert result.loss == pytest.approx(expected, rel=1e-12)


def test_a_wrong_custom_layer_backward_is_caught_and_named():
    model = myelin.Sequential(
        [
            layers.Input(shape=(3,)),
            layers.Dense(4, activation="tanh", name="h"),
            Squash(name="squash"),
            layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    with pytest.raises(GradcheckError) as caught:
        myelin.gradcheck(model, x, y)
    message = str(caught.value)
    first = message.splitlines()[1].strip()
    assert first.startswith("layer 'squash' (Squash), weight 'squash/w' (4,)")  # nearest the output: the culprit
    assert "layer 'out'" not in message  # above the bad backward, gradients are right
    result = myelin.gradcheck(model, x, y, raise_exception=False)
    assert not result.passed
    verdict = {row["weight"]: row["mismatches"] == 0 for row in result.per_input}
    assert verdict == {"h/kernel": False, "h/bias": False, "squash/w": False, "out/kernel": True, "out/bias": True}
    row = next(r for r in result.per_input if r["weight"] == "squash/w")
    assert row["worst"]["numeric"] == pytest.approx(2 * row["worst"]["analytic"], rel=1e-6)  # the missing factor 2
    assert result.per_layer["squash"] == pytest.approx(0.5, rel=1e-6)
    assert "WRONG" in str(result)


def test_a_wrong_custom_loss_is_caught():
    class SquaredError(Function):
        def forward(self, p, t):
            self.d = p - t
            return self.d * self.d

        def backward(self, g):
            return (g * self.d, None)  # should be 2 d

    def bad_mse(y_true, y_pred):
        return BadMean(SquaredError.apply(y_pred, myelin.ops.as_tensor(y_true, y_pred)))

    def BadMean(t):
        return t.mean(axis=-1)

    model = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(2, name="out")])
    model.compile(optimizer="sgd", loss=bad_mse)
    with pytest.raises(GradcheckError, match="layer 'out' \\(Dense\\), weight 'out/"):
        myelin.gradcheck(model, RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2)))
    model.compile(optimizer="sgd", loss=losses.MeanSquaredError())
    assert myelin.gradcheck(model, RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2)))


def test_functional_model_frozen_layer_and_a_sample_of_elements():
    inputs = myelin.Input(shape=(3,))
    frozen = layers.Dense(6, activation="relu", name="frozen")
    hidden = frozen(inputs)
    species = layers.Dense(3, activation="softmax", name="species")(hidden)
    mass = layers.Dense(1, name="mass")(hidden)
    model = myelin.Model(inputs, [species, mass])
    frozen.trainable = False
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.3])
    x = RNG.normal(size=(5, 3))
    result = myelin.gradcheck(model, x, [np.array([0, 1, 2, 1, 0]), RNG.normal(size=(5, 1))], max_elements=4)
    assert result.passed and set(result.per_layer) == {"species", "mass"}
    assert [row["checked"] for row in result.per_input] == [4, 3, 4, 1]


def test_arguments():
    model = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    with pytest.raises(RuntimeError, match="compile"):
        myelin.gradcheck(model, np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(TypeError, match="for checking a model"):
        myelin.gradcheck(lambda t: t.sum(), [np.ones(2)], np.ones(2))
