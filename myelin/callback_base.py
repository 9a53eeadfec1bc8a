"""Level 4: ``Callback``, the base class of every callback (``myelin.callbacks.Callback``).

Its own module so that callbacks living in other modules (``diagnostics``, ``tensorboard``)
subclass it without importing ``myelin.callbacks``, which re-exports them.

Example:
    >>> from myelin.callbacks import Callback
    >>> Callback().params
    {}
"""

from __future__ import annotations


class Callback:
    """Base class with every hook as a no-op; ``self.model`` and ``self.params`` are set by ``fit``.

    ``fit``, ``evaluate`` and ``predict`` call the hooks in Keras 3's order, each with ``logs``
    a dict (empty where nothing is known yet). ``on_train_batch_begin``/``_end`` call the Keras 2
    names ``on_batch_begin``/``_end`` unless overridden, as Keras's do. With
    ``compile(steps_per_execution=N)`` the batch hooks run once per N batches.

    Example:
        >>> class Printer(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, round(logs["loss"], 2))
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # as in Keras: the Keras 2 name is its default

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names: what on_train_batch_begin/_end call unless a subclass overrides those
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
