"""JAX (CPU) with optax's Adam: a jitted train step in a Python loop, or a whole epoch in one ``lax.scan``."""

from __future__ import annotations

import itertools
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from . import epoch_logs


def configure(threads: int) -> None:
    """XLA's threads are set through XLA_FLAGS before import (see bench/envs.py)."""


def versions() -> dict:
    import jaxlib

    return {"jax": jax.__version__, "jaxlib": jaxlib.__version__, "optax": optax.__version__, "numpy": np.__version__}


def init_params(sizes, seed: int) -> list:
    """Glorot-uniform kernels and zero biases, as Keras's Dense starts."""
    rng = np.random.default_rng(seed)
    params = []
    for a, b in itertools.pairwise(sizes):
        limit = np.sqrt(6.0 / (a + b))
        params.append((jnp.asarray(rng.uniform(-limit, limit, (a, b)).astype(np.float32)), jnp.zeros((b,), jnp.float32)))
    return params


def forward(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def loss_fn(params, x, y):
    logits = forward(params, x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), logits


def batch_stats(logits, y):
    """Summed loss and correct count of a batch (for the epoch's logs)."""
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).sum()
    return loss, (logits.argmax(1) == y).sum()


def make_step(optimizer):
    def step(params, opt_state, x, y):
        (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, loss * len(y), (logits.argmax(1) == y).sum()

    return step


@partial(jax.jit, static_argnums=(3,))
def evaluate_scan(params, x, y, batch: int):
    """Validation in batches of ``batch``: full batches by ``lax.scan``, the remainder after."""
    k = x.shape[0] // batch
    loss, correct = jnp.zeros(()), jnp.zeros((), jnp.int32)
    if k:
        xs = x[: k * batch].reshape(k, batch, x.shape[1])
        ys = y[: k * batch].reshape(k, batch)

        def body(carry, xy):
            loss, correct = batch_stats(forward(params, xy[0]), xy[1])
            return (carry[0] + loss, carry[1] + correct), None

        (loss, correct), _ = lax.scan(body, (loss, correct), (xs, ys))
    if x.shape[0] % batch:
        extra = batch_stats(forward(params, x[k * batch :]), y[k * batch :])
        loss, correct = loss + extra[0], correct + extra[1]
    return loss, correct


@jax.jit
def evaluate_batch(params, x, y):
    return batch_stats(forward(params, x), y)


class Trainer:
    def __init__(self, sizes, lr: float, seed: int, scan: bool):
        self.params = init_params(sizes, seed)
        self.optimizer = optax.adam(lr)
        self.opt_state = self.optimizer.init(self.params)
        self.rng = np.random.default_rng(seed)
        self.scan = scan
        step = make_step(self.optimizer)
        self.step = jax.jit(step, donate_argnums=(0, 1))
        self._epoch_fns: dict = {}
        self._device: tuple = (None, None)

        def epoch(params, opt_state, x, y, perm, batch):
            def body(carry, i):
                idx = lax.dynamic_slice(perm, (i * batch,), (batch,))
                params, opt_state, loss, correct = step(*carry, x[idx], y[idx])
                return (params, opt_state), (loss, correct)

            (params, opt_state), (losses, corrects) = lax.scan(body, (params, opt_state), jnp.arange(perm.shape[0] // batch))
            return params, opt_state, losses.sum(), corrects.sum()

        self.epoch = jax.jit(epoch, static_argnums=(5,), donate_argnums=(0, 1))

    def _on_device(self, data):
        if self._device[0] is not data:
            self._device = (data, tuple(jnp.asarray(a) for a in (data.x_train, data.y_train, data.x_val, data.y_val)))
        return self._device[1]

    def _epoch_jit(self, data, batch):
        x, y, n = data.x_train, data.y_train, data.n_train
        perm = self.rng.permutation(n)
        losses, corrects = [], []
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            self.params, self.opt_state, loss, correct = self.step(self.params, self.opt_state, x[idx], y[idx])
            losses.append(loss)
            corrects.append(correct)
        loss_sum = sum(float(v) for v in jax.device_get(losses))
        correct_sum = sum(int(v) for v in jax.device_get(corrects))
        val = [
            evaluate_batch(self.params, data.x_val[i : i + batch], data.y_val[i : i + batch])
            for i in range(0, len(data.y_val), batch)
        ]
        val = jax.device_get(val)
        return loss_sum, correct_sum, sum(float(v[0]) for v in val), sum(int(v[1]) for v in val)

    def _epoch_scan(self, data, batch):
        x, y, x_val, y_val = self._on_device(data)
        n = data.n_train
        perm = self.rng.permutation(n).astype(np.int32)
        full = n - n % batch
        self.params, self.opt_state, loss_sum, correct_sum = self.epoch(self.params, self.opt_state, x, y, perm[:full], batch)
        if full < n:  # the last, smaller batch: one more jitted step
            idx = perm[full:]
            self.params, self.opt_state, loss, correct = self.step(
                self.params, self.opt_state, data.x_train[idx], data.y_train[idx]
            )
            loss_sum, correct_sum = loss_sum + loss, correct_sum + correct
        val_loss, val_correct = evaluate_scan(self.params, x_val, y_val, batch)
        loss_sum, correct_sum, val_loss, val_correct = jax.device_get((loss_sum, correct_sum, val_loss, val_correct))
        return float(loss_sum), int(correct_sum), float(val_loss), int(val_correct)

    def fit(self, data, batch: int, epochs: int):
        seconds, logs = [], {}
        for _ in range(epochs):
            start = time.perf_counter()
            loss, correct, val_loss, val_correct = (self._epoch_scan if self.scan else self._epoch_jit)(data, batch)
            seconds.append(time.perf_counter() - start)
            logs = epoch_logs(loss, correct, data.n_train, val_loss, val_correct, len(data.y_val))
        return seconds, logs

    def predict(self, x, batch: int):
        if len(x) <= batch:
            return np.asarray(jax.device_get(predict_jit(self.params, x)))
        return np.concatenate([np.asarray(predict_jit(self.params, x[i : i + batch])) for i in range(0, len(x), batch)])


@jax.jit
def predict_jit(params, x):
    return jax.nn.softmax(forward(params, x))


def make(variant: str, sizes, lr: float, seed: int) -> Trainer:
    return Trainer(sizes, lr, seed, scan=variant == "jax-scan")
