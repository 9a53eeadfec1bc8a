"""Keras's extension points: ``train_step``, ``test_step``, ``predict_step``, ``compute_loss``, ``compute_metrics``.

A model that overrides one of the three steps has ``fit`` / ``evaluate`` / ``predict`` call
it on each batch, as Keras 3 does, with ``data`` = ``x``, ``(x, y)`` or ``(x, y, sample_weight)``
(myelin Tensors; lists for several inputs) and the returned dict as the batch's logs. Such a
step runs as written, every batch (never replayed from a recording). Models that override
nothing keep the recorded, replayed step of :mod:`myelin.trainers.trainer`, bit-identical.

Example:
    >>> import numpy as np, myelin
    >>> from myelin import layers
    >>> class Custom(myelin.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.dense = layers.Dense(1)
    ...     def call(self, x, training=False):
    ...         return self.dense(x)
    ...     def train_step(self, data):
    ...         x, y = data
    ...         with myelin.GradientTape() as tape:
    ...             loss = self.compute_loss(x, y, self(x, training=True))
    ...         grads = tape.gradient(loss, self.trainable_variables)
    ...         self.optimizer.apply(grads, self.trainable_variables)
    ...         self._loss_tracker.update_state(loss)
    ...         return self.get_metrics_result()
    >>> m = Custom(); m.compile(optimizer="sgd", loss="mse")
    >>> sorted(m.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0).history)
    ['loss']
"""

from __future__ import annotations

from .. import ops
from ..gradient_tape import GradientTape
from ..tensor import Tensor


def _arrays(value) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    return [v.data if isinstance(v, Tensor) else v for v in values]


class StepOverrides:
    """The overridable steps of ``Trainer`` (mixed into it); the defaults do what ``fit`` does, eagerly."""

    _custom_logs = None  # the dict the last overridden step returned (the batch's logs)

    def _overrides(self, name: str) -> bool:
        """Whether the model's class overrides ``name``, or (for a train/test step) the loss or metrics it computes."""
        names = (name, "compute_loss", "compute_metrics") if name in ("train_step", "test_step") else (name,)
        return any(getattr(type(self), n) is not getattr(StepOverrides, n) for n in names)

    def _custom_batch(self, kind: str, xb: list, yb: list, swb):
        """Call the overridden ``kind`` (``train_step``, ``test_step``, ``predict_step``) on one batch of arrays."""
        xt = [Tensor._wrap(a, False) for a in xb]
        x = xt[0] if len(xt) == 1 else xt
        if kind == "predict_step":
            out = self.predict_step(x)
            return [o.data if isinstance(o, Tensor) else o for o in (out if isinstance(out, (list, tuple)) else [out])]
        self._clear_call_losses()  # add_loss terms belong to one step
        yt = [Tensor._wrap(a, False) for a in yb]
        y = None if not yt else yt[0] if len(yt) == 1 else yt
        batch = x if y is None else (x, y) if swb is None else (x, y, Tensor._wrap(swb, False))
        logs = getattr(self, kind)(batch)
        if not isinstance(logs, dict):
            raise TypeError(
                f"Model {self.name!r}: {kind}() must return a dict of logs (e.g. self.get_metrics_result()), got {logs!r}"
            )
        return {k: float(v.data) if isinstance(v, Tensor) and v.data.size == 1 else v for k, v in logs.items()}

    def train_step(self, data) -> dict:
        """One training step on ``data`` (``x``, ``(x, y)`` or ``(x, y, sample_weight)``); returns the logs.

        Override it for a custom step (Keras's pattern); the default computes the loss with
        ``compute_loss``, its gradients with a ``GradientTape``, applies them and returns
        ``compute_metrics``.

        Example:
            >>> import numpy as np, myelin
            >>> from myelin import layers
            >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> m.train_step((myelin.Tensor(np.zeros((2, 2))), myelin.Tensor(np.zeros((2, 1)))))["loss"]
            0.0
        """
        x, y, sw = _unpack(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sw, training=True)
            scaled = self.optimizer.scale_loss(loss)  # Keras's: times loss_scale_factor; apply() divides it out
        self._loss_tracker.update_state(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self.compute_metrics(x, y, y_pred, sw)

    def test_step(self, data) -> dict:
        """One evaluation step on ``data``; returns the logs. Override it for custom evaluation.

        Example:
            >>> import numpy as np, myelin
            >>> from myelin import layers
            >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> m.test_step((myelin.Tensor(np.zeros((2, 2))), myelin.Tensor(np.zeros((2, 1)))))["loss"]
            0.0
        """
        x, y, sw = _unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sw, training=False)
        self._loss_tracker.update_state(loss)
        return self.compute_metrics(x, y, y_pred, sw)

    def predict_step(self, data):
        """The outputs for one batch ``data`` (x); override it to post-process predictions.

        Example:
            >>> import numpy as np, myelin
            >>> from myelin import layers
            >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
            >>> m.predict_step(myelin.Tensor(np.zeros((4, 2)))).shape
            (4, 3)
        """
        x, _, _ = _unpack(data)
        return self(x, training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True) -> Tensor:
        """The compiled loss of ``y_pred`` against ``y`` plus the model's ``losses`` (``add_loss``, regularizers).

        Example:
            >>> import numpy as np, myelin
            >>> from myelin import layers
            >>> m = myelin.Sequential([layers.Input(shape=(1,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> float(m.compute_loss(y=np.ones((2, 1)), y_pred=myelin.Tensor(np.zeros((2, 1)))).data)
            1.0
        """
        total = None
        if self._compiled_loss is not None and y is not None:
            outs = list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]
            outs = [o if isinstance(o, Tensor) else Tensor._wrap(o, False) for o in outs]
            sw = None if sample_weight is None else _arrays(sample_weight)[0]
            total = self._compiled_loss(_arrays(y), outs, sw, self._output_names(len(outs)))
        for penalty in self.losses:
            total = penalty if total is None else ops.add(total, penalty)
        if total is None:
            raise ValueError(
                f"Model {self.name!r}: compute_loss has nothing to compute: compile(loss=...) was not given (or y is None) "
                "and the model has no losses (add_loss)"
            )
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with this batch; returns ``get_metrics_result()``.

        Example:
            >>> import numpy as np, myelin
            >>> from myelin import layers
            >>> m = myelin.Sequential([layers.Input(shape=(1,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
            >>> m.compute_metrics(None, np.ones((2, 1)), myelin.Tensor(np.zeros((2, 1))))["mae"]
            1.0
        """
        if self._compiled_metrics is not None and y is not None:
            outs = _arrays(y_pred)
            sw = None if sample_weight is None else _arrays(sample_weight)[0]
            self._compiled_metrics.update(_arrays(y), outs, sw, self._compiled_loss, self._output_names(len(outs)))
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: result}`` of every tracker in ``self.metrics`` (a dict result is merged in).

        Example:
            >>> import myelin
            >>> from myelin import layers
            >>> m = myelin.Sequential([layers.Input(shape=(1,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> m.get_metrics_result()
            {'loss': 0.0}
        """
        out = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[m.name] = float(result) if getattr(result, "size", 1) == 1 else result
        return out


def _unpack(data) -> tuple:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (Keras's convention)."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(f"a batch is x, (x, y) or (x, y, sample_weight); got a tuple of {len(data)}")
    return data, None, None
