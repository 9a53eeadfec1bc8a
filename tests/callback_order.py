"""One small program that records every callback hook through ``fit``, ``evaluate`` and ``predict``.

It runs unchanged on Keras 3 and on myelin (``lib`` is either module): ``tests/make_callback_golden.py``
runs it on Keras 3 and writes ``tests/data/callback_order_golden.json``; ``tests/test_callback_order.py``
runs it on myelin and compares. Each recorded event is ``[hook, epoch-or-batch index or None,
type of logs, sorted keys of logs]``.

Example:
    >>> HOOKS[:2]
    ['on_train_begin', 'on_train_end']
"""

from __future__ import annotations

import numpy as np

# Every hook of Keras 3's Callback (and of myelin.callbacks.Callback), in its declaration order.
HOOKS = [
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_batch_begin",
    "on_batch_end",
]
_INDEXED = ("on_epoch_", "_batch_", "on_batch_")


def _recorder(lib, hooks: list[str]):
    """An instance of a ``lib.callbacks.Callback`` subclass that overrides ``hooks`` and records each call."""

    def make(hook: str):
        indexed = any(part in hook for part in _INDEXED)

        def with_index(self, index, logs=None):
            self.events.append([hook, int(index), type(logs).__name__, sorted(logs) if isinstance(logs, dict) else None])

        def without_index(self, logs=None):
            self.events.append([hook, None, type(logs).__name__, sorted(logs) if isinstance(logs, dict) else None])

        return with_index if indexed else without_index

    body = {hook: make(hook) for hook in hooks}
    cls = type("Recorder", (lib.callbacks.Callback,), body)
    cb = cls()
    cb.events = []
    return cb


def run(lib, steps_per_execution: int = 1) -> dict:
    """The events of a callback overriding every hook, and of one overriding only Keras 2's batch names."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 3)).astype("float32"), rng.standard_normal((10, 1)).astype("float32")
    vx, vy = rng.standard_normal((6, 3)).astype("float32"), rng.standard_normal((6, 1)).astype("float32")
    model = lib.Sequential([lib.Input(shape=(3,)), lib.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], steps_per_execution=steps_per_execution)
    every = _recorder(lib, HOOKS)
    legacy = _recorder(lib, ["on_batch_begin", "on_batch_end"])
    cbs = [every, legacy]
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(vx, vy), validation_batch_size=4, callbacks=cbs, verbose=0)
    model.evaluate(vx, vy, batch_size=4, callbacks=cbs, verbose=0)
    model.predict(x[:5], batch_size=4, callbacks=cbs, verbose=0)
    return {"every": every.events, "legacy": legacy.events}
