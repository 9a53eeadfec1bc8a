"""The learning-rate finder: the range test, its suggestion, and a model left exactly as it was."""

from __future__ import annotations

import math

import numpy as np
import pytest

import myelin
from myelin import layers, optimizers, tune
from myelin.debugging import NonFiniteLossError


def _regression(seed=0, scale=1.0, n=1024):
    rng = np.random.default_rng(seed)
    x = (scale * rng.normal(size=(n, 8))).astype("float32")
    y = (x @ rng.normal(size=8) + 0.1 * rng.normal(size=n)).astype("float32")
    return x, y


def _linear(optimizer="sgd"):
    model = myelin.Sequential([layers.Input(shape=(8,)), layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _final_loss(model, weights, x, y, lr):
    model.set_weights(weights)
    model.compile(optimizer=optimizers.SGD(lr), loss="mse")
    with np.errstate(all="ignore"):  # the diverging run overflows, as it should
        try:
            history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        except NonFiniteLossError:  # fit stops a run whose loss overflowed: diverged
            return math.inf
    return history.history["loss"][-1]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_suggestion_trains_and_ten_times_it_fails(optimizer, seed):
    """Handwritten 8x8 digits (scikit-learn's): the suggested rate learns them, ten times it does not."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x, y = (digits.data / 16).astype("float32"), digits.target

    def train(lr):
        model.set_weights(start)
        model.compile(optimizer=type(optimizers.get(optimizer))(learning_rate=lr), loss="sparse_categorical_crossentropy")
        with np.errstate(all="ignore"):  # the failing run may overflow, as it should
            try:
                model.fit(x, y, epochs=5, batch_size=32, verbose=0)
            except NonFiniteLossError:  # diverged
                return 0.0
            probabilities = model.predict(x, verbose=0)
        return float((probabilities.argmax(axis=1) == y).mean())

    myelin.utils.set_random_seed(seed)
    model = myelin.Sequential(
        [layers.Input(shape=(64,)), layers.Dense(32, activation="relu"), layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    start = model.get_weights()
    result = tune.find_learning_rate(model, x, y, batch_size=32)
    assert result.rule == "steepest"
    assert train(result.suggestion) > 0.9
    assert train(10 * result.suggestion) < 0.3  # chance is 0.1


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_minimum_over_ten_sits_a_decade_below_the_edge_of_stability(scale):
    """Linear regression with SGD: stable below lr = 2 / (largest curvature), divergent above."""
    x, y = _regression(scale=scale)
    model = _linear()
    start = model.get_weights()
    result = tune.find_learning_rate(model, x, y, batch_size=32, rule="minimum/10")
    assert result.rule == "minimum/10" and result.diverged
    lr = result.suggestion
    initial = float(np.mean((x @ start[0][:, 0] + start[1][0] - y) ** 2))
    assert _final_loss(model, start, x, y, lr) < 0.01 * initial  # converges (the noise floor is 0.01)
    blown = _final_loss(model, start, x, y, 10 * lr)
    assert not math.isfinite(blown) or blown > initial  # diverges
    critical = 2 / (2 * np.linalg.eigvalsh(x.T.astype(np.float64) @ x / len(x)).max())
    assert critical / 10 < lr < critical
    assert result.suggestions["steepest"] < lr  # the steepest descent comes earlier on the curve


def test_weights_optimizer_state_and_randomness_are_restored_exactly():
    x, y = _regression(n=256)
    myelin.utils.set_random_seed(7)
    model = _linear(optimizers.Adam(0.01))
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    weights = model.get_weights()
    state = {k: np.array(v, copy=True) for k, v in model.optimizer.get_state().items()}
    result = tune.find_learning_rate(model, x, y, num_steps=100)
    assert result.num_steps > 20
    for before, after in zip(weights, model.get_weights()):
        assert np.array_equal(before, after)
    after = model.optimizer.get_state()
    assert state.keys() == after.keys()
    for key, value in state.items():
        assert np.array_equal(value, after[key]), key
    assert model.optimizer.learning_rate == 0.01
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)

    # the same training without the finder ends on the same weights, bit for bit
    myelin.utils.set_random_seed(7)
    myelin.utils.clear_session()
    twin = _linear(optimizers.Adam(0.01))
    twin.fit(x, y, epochs=2, batch_size=32, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        assert np.array_equal(a, b)


def test_a_fresh_model_and_a_schedule_are_left_as_they_were():
    x, y = _regression(n=256)
    schedule = optimizers.schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.9)
    myelin.utils.set_random_seed(3)
    model = myelin.Sequential([layers.Input(shape=(8,)), layers.Dense(4), layers.Dropout(0.2, seed=1), layers.Dense(1)])
    model.compile(optimizer=optimizers.Adagrad(schedule), loss="mse")
    weights = model.get_weights()
    tune.find_learning_rate(model, x, y, num_steps=50)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    assert model.optimizer.learning_rate_schedule is schedule and model.optimizer.iterations == 0
    model.fit(x, y, epochs=1, verbose=0)

    myelin.utils.set_random_seed(3)
    myelin.utils.clear_session()
    twin = myelin.Sequential([layers.Input(shape=(8,)), layers.Dense(4), layers.Dropout(0.2, seed=1), layers.Dense(1)])
    twin.compile(optimizer=optimizers.Adagrad(schedule), loss="mse")
    twin.fit(x, y, epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))


def test_the_sweep_and_its_smoothing():
    x, y = _regression(n=256)
    result = tune.find_learning_rate(_linear(), x, y, start_lr=1e-4, end_lr=0.5, num_steps=60)
    assert not result.diverged and result.num_steps == 60
    np.testing.assert_allclose(result.learning_rates, np.geomspace(1e-4, 0.5, 60), rtol=1e-9)
    avg = 0.0
    for i, (loss, smooth) in enumerate(zip(result.losses, result.smoothed)):
        avg = 0.98 * avg + 0.02 * loss
        assert smooth == pytest.approx(avg / (1 - 0.98 ** (i + 1)), rel=1e-12)
    assert set(result.suggestions) == {"minimum/10", "steepest"}
    assert result.suggestions["minimum/10"] == pytest.approx(result.best_learning_rate / 10)
    assert result.rule == "steepest" and result.suggestion == result.suggestions["steepest"]
    assert "suggestion=" in repr(result)


def test_bad_arguments_are_named():
    x, y = _regression(n=64)
    with pytest.raises(RuntimeError, match="compile"):
        tune.find_learning_rate(myelin.Sequential([layers.Dense(1)]), x, y)
    model = _linear()
    with pytest.raises(ValueError, match="rule must be one of"):
        tune.find_learning_rate(model, x, y, rule="valley")
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        tune.find_learning_rate(model, x, y, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match=r"num_steps must be an integer of at least .* = 18"):
        tune.find_learning_rate(model, x, y, num_steps=5)
    with pytest.warns(UserWarning, match="too early to suggest a rate"):
        early = tune.find_learning_rate(model, x, y, start_lr=100.0, end_lr=1e6, num_steps=50)
    assert early.suggestion is None and early.diverged
