"""Level 4: callbacks (Keras's hooks) and the progress display.

A callback receives the model through ``set_model`` and is called at the start and end of
training, of each epoch and of each batch, with a ``logs`` dict of the current metric values.

Example:
    >>> from myelin import callbacks
    >>> stop = callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
import warnings

import numpy as np

_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
)
_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class with every hook as a no-op; ``self.model`` and ``self.params`` are set by ``fit``.

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
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names, still called by Keras 3
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


def _overrides(cb: Callback, hook: str) -> bool:
    """Whether ``cb`` does something at ``hook`` (a method of its class, or a LambdaCallback's function)."""
    return hook in getattr(cb, "_given", ()) or getattr(type(cb), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Calls a hook on each callback in order; batch hooks only on callbacks that define them.

    Example:
        >>> cbs = CallbackList([History()], model=None)
        >>> cbs.on_train_begin()
    """

    def __init__(self, callbacks=None, model=None, params: dict | None = None):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}: {cb!r}")
            if model is not None:
                cb.set_model(model)
            if params is not None:
                cb.set_params(params)
        self._batch = {}
        for hook in _BATCH_HOOKS:
            alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(hook)
            self._batch[hook] = [getattr(cb, h) for cb in self.callbacks for h in (hook, alias) if h and _overrides(cb, h)]

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def wants(self, hook: str) -> bool:
        """Whether any callback defines this batch hook (the loop skips building logs otherwise)."""
        return bool(self._batch[hook])

    def batch(self, hook: str, batch: int, logs=None) -> None:
        for fn in self._batch[hook]:
            fn(batch, logs)


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it (``history.history["loss"]`` and so on).

    Example:
        >>> h = History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 0.5})
        >>> h.history
        {'loss': [0.5]}
    """

    def __init__(self):
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list] = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"<History epochs={len(self.epoch)}{': ' + last if last else ''}>"

    def _repr_html_(self) -> str:
        """Jupyter's view: one row per logged quantity with its last value and its best epoch.

        Example:
            >>> h = History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 0.5}); h.on_epoch_end(1, {"loss": 0.25})
            >>> "<td>loss</td><td>0.2500</td>" in h._repr_html_()
            True
        """
        import html  # noqa: PLC0415  (only for notebooks)

        rows = []
        for name, values in self.history.items():
            if not values:
                continue
            best = _best_epoch(name, values)
            best_text = f"{values[best]:.4f} (epoch {self.epoch[best] + 1 if best < len(self.epoch) else best + 1})"
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{values[-1]:.4f}</td><td>{best_text}</td></tr>")
        head = "<tr><th style='text-align:left'>metric</th><th>last</th><th>best</th></tr>"
        return (
            f"<div><b>History</b>: {len(self.epoch)} epoch{'s' if len(self.epoch) != 1 else ''}"
            f"<table>{head}{''.join(rows)}</table></div>"
        )


def _best_epoch(name: str, values: list) -> int:
    """The index of the best value: lowest for losses and errors, highest for accuracies and the like."""
    finite = [(float(v), i) for i, v in enumerate(values) if isinstance(v, (int, float, np.number)) and math.isfinite(v)]
    if not finite:
        return len(values) - 1
    return (max if _monitor_mode(name, "auto") == "max" else min)(finite)[1]


# ---------------------------------------------------------------------------- progress display
def _format_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{round(seconds)}s"


def _format_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(logs: dict) -> str:
    """`` - name: value`` for each entry, sorted by name, four decimals (Keras's style).

    Example:
        >>> format_logs({"loss": 0.12345, "accuracy": 0.9})
        ' - accuracy: 0.9000 - loss: 0.1235'
    """
    parts = []
    for k in sorted(logs):
        v = logs[k]
        if isinstance(v, (int, float, np.floating, np.integer)):
            v = float(v)
            text = f"{v:.4f}" if math.isfinite(v) and (v == 0 or 1e-3 <= abs(v) < 1e5) else f"{v:.4e}"
            parts.append(f" - {k}: {text}")
    return "".join(parts)


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (the test tqdm.auto uses to pick its notebook widget).

    Example:
        >>> in_notebook()
        False
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an IPython too old or too unusual to ask
        return False


class ProgbarLogger(Callback):
    """The progress display: Keras's layout, drawn by tqdm.

    In a terminal with ``verbose=1`` a live bar per epoch::

        Epoch 3/10
        375/375 ━━━━━━━━━━━━━━━━━━━━ 1s 3ms/step - accuracy: 0.9612 - loss: 0.1290 - val_accuracy: ...

    Otherwise (``verbose=2``, or output that is not a terminal) one plain line per epoch,
    with no carriage returns or colour codes::

        Epoch 3/10 - 375/375 - 1s - 3ms/step - accuracy: 0.9612 - loss: 0.1290

    Example:
        >>> ProgbarLogger().interactive in (True, False)
        True
    """

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self._bar = None

    @property
    def out(self):
        return self.stream or sys.stdout

    @property
    def interactive(self) -> bool:
        """A terminal, or a Jupyter kernel's own output (where tqdm.auto draws the notebook widget)."""
        if self.stream is None and in_notebook():
            return True
        isatty = getattr(self.out, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.steps = params.get("steps")
        self.live = self.verbose == 1 and self.interactive

    # -- training
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._start, self._seen, self._last_draw = epoch, time.perf_counter(), 0, 0.0
        if self.live:
            self.out.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            self._open_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None:
            self._advance(logs)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        timing = f"{_format_duration(elapsed)} {_format_per_step(elapsed / max(self._seen, 1))}"
        if self._bar is not None:
            self._close_bar(timing, logs)
        elif self.verbose:
            steps = self.steps or self._seen
            self.out.write(
                f"Epoch {epoch + 1}/{self.epochs} - {self._seen}/{steps} - {_format_duration(elapsed)} - "
                f"{_format_per_step(elapsed / max(self._seen, 1))}{format_logs(logs or {})}\n"
            )
        self.out.flush()

    def on_train_end(self, logs=None):
        if self._bar is not None:  # interrupted mid-epoch: leave a finished line behind
            self._bar.close()
            self._bar = None

    # -- evaluate / predict (only drawn live; the final line is printed by the caller's verbosity)
    def on_test_begin(self, logs=None):
        if self.params.get("mode") == "test":
            self._start, self._seen = time.perf_counter(), 0
            if self.live:
                self._open_bar()

    def on_test_batch_end(self, batch, logs=None):
        if self.params.get("mode") == "test":
            self.on_train_batch_end(batch, logs)

    def on_test_end(self, logs=None):
        if self.params.get("mode") == "test":
            self._finish_single(logs)

    def on_predict_begin(self, logs=None):
        self._start, self._seen = time.perf_counter(), 0
        if self.live:
            self._open_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, None)

    def on_predict_end(self, logs=None):
        self._finish_single(None)

    def _finish_single(self, logs):
        elapsed = time.perf_counter() - self._start
        timing = f"{_format_duration(elapsed)} {_format_per_step(elapsed / max(self._seen, 1))}"
        if self._bar is not None:
            self._close_bar(timing, logs)
        elif self.verbose:
            self.out.write(f"{self._seen}/{self.steps or self._seen} - {timing}{format_logs(logs or {})}\n")
        self.out.flush()

    # -- tqdm
    def _open_bar(self):
        from tqdm.auto import tqdm  # noqa: PLC0415  (imported when a bar is first drawn)

        class KerasBar(tqdm):
            @property
            def format_dict(self):
                d = super().format_dict
                d.update(getattr(self, "fields", None) or {"timing": "", "metrics": ""})
                return d

        # tqdm's notebook widget draws its own bar where the format says "{bar}" (a width would hide it)
        bar = "{bar}" if tqdm.__module__ == "tqdm.notebook" else "{bar:20}"
        self._bar = KerasBar(
            total=self.steps,
            file=self.out,
            leave=True,
            mininterval=0.1,
            ascii="─━",
            dynamic_ncols=False,
            bar_format=f"{{n_fmt}}/{{total_fmt}} {bar} {{timing}}{{metrics}}",
        )

    def _advance(self, logs):
        bar = self._bar
        now = time.perf_counter()
        if now - self._last_draw >= 0.1 or self._seen == self.steps:
            self._last_draw = now
            elapsed = now - self._start
            per_step = elapsed / self._seen
            remaining = per_step * ((self.steps or self._seen) - self._seen)
            bar.fields = {
                "timing": f"{_format_duration(remaining)} {_format_per_step(per_step)}",
                "metrics": format_logs(logs or {}),
            }
        bar.update(self._seen - bar.n)

    def _close_bar(self, timing, logs):
        bar = self._bar
        bar.fields = {"timing": timing, "metrics": format_logs(logs or {})}
        bar.update(self._seen - bar.n)
        bar.refresh()
        bar.close()
        self._bar = None


# ---------------------------------------------------------------------------- monitoring helpers
def _monitor_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    if name.startswith(
        ("acc", "auc", "precision", "recall", "categorical_acc", "binary_acc", "sparse_categorical_acc", "top_k")
    ):
        return "max"
    return "min"


def _monitored(logs, monitor: str, who: str):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{who}: the monitored metric {monitor!r} is not available; available: {', '.join(sorted(logs or {}))}",
            RuntimeWarning,
            stacklevel=3,
        )
    return value


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs.

    Improvement means beating the best value by more than ``min_delta`` in the direction of
    ``mode`` ("auto" reads it from the name: accuracies rise, losses fall). With
    ``restore_best_weights`` the model ends with the weights of its best epoch.

    Example:
        >>> es = EarlyStopping(monitor="loss", patience=2)
        >>> es.mode
        'min'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        super().__init__()
        self.monitor, self.min_delta, self.patience, self.verbose = monitor, abs(min_delta), patience, verbose
        self.mode = _monitor_mode(monitor, mode)
        self.baseline, self.restore_best_weights, self.start_from_epoch = baseline, restore_best_weights, start_from_epoch
        self.stopped_epoch = 0

    def _better(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_weights, self.best_epoch = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    Example:
        >>> TerminateOnNaN()
        <myelin.callbacks.TerminateOnNaN object ...>
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Example:
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        for name, fn in given.items():
            if name not in _HOOKS + _BATCH_HOOKS + ("on_batch_begin", "on_batch_end"):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            if fn is not None:
                # An instance attribute shadows the no-op method, and CallbackList sees the override.
                setattr(self, name, fn)
        self._given = {k for k, v in given.items() if v is not None}


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``.

    Example:
        >>> cb = LearningRateScheduler(lambda epoch, lr: lr * 0.9)
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(self.schedule(epoch, optimizer.learning_rate))
        if not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr} for epoch {epoch}")
        optimizer.learning_rate = lr
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs.

    Example:
        >>> ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2).factor
        0.5
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode = _monitor_mode(monitor, mode)
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def _better(self, value) -> bool:
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = self.model.optimizer.learning_rate
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(value):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.model.optimizer.learning_rate
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Append each epoch's logs as a row of a CSV file (header written once).

    Example:
        >>> logger = CSVLogger("training.csv", append=True)
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file = self._writer = self._keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._has_header = exists
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch"] + self._keys, delimiter=self.separator, extrasaction="ignore"
            )
            if not self._has_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def __getattr__(name: str):
    # TensorBoard lives in its own module (it needs tensorboardX); loaded on first use.
    if name == "TensorBoard":
        from .tensorboard import TensorBoard  # noqa: PLC0415

        return TensorBoard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
