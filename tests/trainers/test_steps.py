"""Keras's custom-step patterns (train_step with a GradientTape, compute_loss, a GAN, add_loss), with known results."""

import numpy as np
import pytest

import myelin
from myelin import GradientTape, Tensor, layers, metrics, optimizers

RNG = np.random.default_rng(0)
X = RNG.random((16, 3), dtype=np.float32)
Y = RNG.random((16, 2), dtype=np.float32)


def _net(cls=myelin.Sequential, seed=0):
    myelin.utils.set_random_seed(seed)
    return cls([layers.Input(shape=(3,)), layers.Dense(4, activation="tanh"), layers.Dense(2)])


class TapeStep(myelin.Sequential):
    """The guide's first custom train_step: forward under a tape, compiled loss, apply, metrics."""

    def train_step(self, data):
        x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self._loss_tracker.update_state(loss)
        return self.compute_metrics(x, y, y_pred)


def test_a_train_step_with_a_gradient_tape_trains_as_fit_does():
    plain, custom = _net(), _net(TapeStep)
    custom.set_weights(plain.get_weights())
    for m in (plain, custom):
        m.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"])
    h1 = plain.fit(X, Y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    h2 = custom.fit(X, Y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(plain.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # float32 over 12 steps; fused vs unfused loss rounding
    for key in ("loss", "mae"):
        np.testing.assert_allclose(h1.history[key], h2.history[key], rtol=1e-5)
    assert plain.compile_status.startswith("compiled")  # the ordinary model keeps the replayed step


class DoubledLoss(myelin.Sequential):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(x, y, y_pred, sample_weight, training) * 2.0


def test_a_compute_loss_override_is_used_by_fit():
    # Twice the loss under SGD(lr) is the plain loss under SGD(2 lr).
    plain, doubled = _net(), _net(DoubledLoss)
    doubled.set_weights(plain.get_weights())
    plain.compile(optimizer=optimizers.SGD(learning_rate=0.2), loss="mse")
    doubled.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    plain.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h = doubled.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(plain.get_weights(), doubled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert doubled.evaluate(X, Y, verbose=0) == pytest.approx(2 * plain.evaluate(X, Y, verbose=0), rel=1e-5)
    assert len(h.history["loss"]) == 2


class GAN(myelin.Model):
    """The guide's GAN pattern: two sub-networks, two optimizers, custom trackers reset per epoch."""

    def __init__(self):
        super().__init__()
        self.generator = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
        self.discriminator = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
        self.d_loss_tracker = metrics.Mean(name="d_loss")
        self.g_loss_tracker = metrics.Mean(name="g_loss")
        self.batches_seen = metrics.Mean(name="batch_size")

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.batches_seen]

    def train_step(self, real):
        n = real.shape[0]
        z = Tensor(np.linspace(-1, 1, 2 * n, dtype=np.float32).reshape(n, 2))
        with GradientTape() as tape:  # discriminator: real high, fake low (squared error)
            fake = self.generator(z)
            d_loss = ((self.discriminator(real) - 1.0) ** 2).mean() + (self.discriminator(fake) ** 2).mean()
        d_vars = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))
        with GradientTape() as tape:  # generator: make the discriminator call fakes real
            g_loss = ((self.discriminator(self.generator(z)) - 1.0) ** 2).mean()
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.batches_seen.update_state(float(n))
        return {m.name: m.result() for m in self.metrics}


def test_a_gan_with_two_optimizers_and_trackers_reset_each_epoch():
    myelin.utils.set_random_seed(0)
    gan = GAN()
    gan.compile(d_optimizer=optimizers.SGD(learning_rate=0.05), g_optimizer=optimizers.SGD(learning_rate=0.05))
    d0 = [w.copy() for w in gan.discriminator.get_weights()]
    g0 = [w.copy() for w in gan.generator.get_weights()]
    real = RNG.random((12, 3), dtype=np.float32)
    h = gan.fit(real, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert sorted(h.history) == ["batch_size", "d_loss", "g_loss"]
    assert int(gan.d_optimizer.iterations) == 6 and int(gan.g_optimizer.iterations) == 6
    assert all(not np.allclose(a, b) for a, b in zip(d0, gan.discriminator.get_weights()))
    assert all(not np.allclose(a, b) for a, b in zip(g0, gan.generator.get_weights()))
    assert all(np.isfinite(v) for v in h.history["d_loss"] + h.history["g_loss"])


class Penalised(myelin.layers.Layer):
    def call(self, x, training=False):
        self.add_loss((x * x).mean() * 0.5)
        return x


def test_add_loss_adds_to_the_loss_of_fit_and_evaluate():
    x = layers.Input(shape=(3,))
    model = myelin.Model(x, layers.Dense(2)(Penalised()(x)))
    model.compile(optimizer="sgd", loss="mse")
    pred = model.predict(X, verbose=0)
    mse = float(np.mean((pred - Y) ** 2))
    assert model.evaluate(X, Y, batch_size=16, verbose=0) == pytest.approx(mse + 0.5 * float(np.mean(X * X)), rel=1e-5)
    assert len(model.losses) == 1  # the terms of the last call only


def test_a_custom_step_must_return_logs_and_a_model_without_loss_needs_a_step():
    class Bad(myelin.Sequential):
        def train_step(self, data):
            return 1.0

    bad = _net(Bad)
    bad.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="must return a dict of logs"):
        bad.fit(X, Y, verbose=0)
    with pytest.raises(ValueError, match="needs a loss"):
        _net().compile(optimizer="sgd")
