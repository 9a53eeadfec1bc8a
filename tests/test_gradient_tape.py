"""myelin.GradientTape: tf.GradientTape's interface over myelin's autodiff, with known gradients."""

import numpy as np
import pytest

import myelin
from myelin import GradientTape, Tensor, layers, losses, optimizers


def test_gradient_of_a_polynomial_in_float64_is_exact():
    x = Tensor(np.array([1.5, -2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = (x * x * x + x * 2.0).sum()
    np.testing.assert_allclose(tape.gradient(y, x), 3 * np.array([1.5, -2.0]) ** 2 + 2.0, rtol=1e-15)


def test_non_persistent_tape_gives_one_gradient_and_persistent_several():
    w = Tensor([2.0], requires_grad=True)
    with GradientTape() as tape:
        y = w * w
    assert tape.gradient(y, w).tolist() == [4.0]
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(y, w)
    with GradientTape(persistent=True) as tape:
        y = w * w
        z = y * y  # w**4
    assert tape.gradient(y, w).tolist() == [4.0]
    assert tape.gradient(z, w).tolist() == [32.0]
    assert tape.gradient(z, y).tolist() == [8.0]  # an intermediate as the source: dz/dy = 2y


def test_stop_recording_unconnected_and_structures():
    a, b = Tensor([1.0], requires_grad=True), Tensor([4.0], requires_grad=True)
    with GradientTape(persistent=True) as tape:
        with tape.stop_recording():
            c = a * 10.0
        y = a * c
    assert tape.gradient(y, a).tolist() == [10.0]  # c is a constant
    grads = tape.gradient(y, (a, [b]))
    assert isinstance(grads, tuple) and grads[0].tolist() == [10.0] and grads[1] == [None]
    assert tape.gradient(y, {"b": b}, unconnected_gradients="zero")["b"].tolist() == [0.0]
    assert a.grad is None and b.grad is None  # the tape never touches .grad


def test_output_gradients_and_several_targets():
    w = Tensor([3.0, 1.0], requires_grad=True)
    with GradientTape(persistent=True) as tape:
        y = w * w
        z = w * 5.0
    assert tape.gradient(y, w, output_gradients=np.array([1.0, 2.0], np.float32)).tolist() == [6.0, 4.0]
    assert tape.gradient([y, z], w).tolist() == [11.0, 7.0]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="watch_accessed_variables=False"):
        GradientTape(watch_accessed_variables=False)
    with GradientTape() as tape, pytest.raises(TypeError, match="watch: expects myelin Tensors"):
        tape.watch(np.ones(2))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(Tensor([1.0]), Tensor([1.0]), unconnected_gradients="nan")


def _pair(seed=0):
    myelin.utils.set_random_seed(seed)
    a = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="tanh"), layers.Dense(2)])
    b = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="tanh"), layers.Dense(2)])
    b.set_weights(a.get_weights())
    return a, b


def test_a_tensorflow_style_custom_loop_matches_train_on_batch():
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 3), dtype=np.float32), rng.random((8, 2), dtype=np.float32)
    fitted, looped = _pair()
    fitted.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    opt = optimizers.SGD(learning_rate=0.1)
    loss_fn = losses.MeanSquaredError()
    for _ in range(3):
        fitted.train_on_batch(x, y)
        with GradientTape() as tape:
            loss = loss_fn(Tensor(y), looped(Tensor(x), training=True))
        grads = tape.gradient(loss, looped.trainable_variables)
        opt.apply_gradients(zip(grads, looped.trainable_variables))
    for wa, wb in zip(fitted.get_weights(), looped.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)  # float32; the fused and unfused losses round apart


def test_a_pytorch_style_backward_then_grad_matches_the_tape():
    rng = np.random.default_rng(1)
    x, y = rng.random((5, 3), dtype=np.float32), rng.random((5, 2), dtype=np.float32)
    model, _ = _pair(1)
    loss_fn = losses.MeanSquaredError()
    with GradientTape() as tape:
        loss = loss_fn(Tensor(y), model(Tensor(x), training=True))
    tape_grads = tape.gradient(loss, model.trainable_variables)
    loss.backward()
    for w, g in zip(model.trainable_variables, tape_grads):
        np.testing.assert_array_equal(w.grad, g)
