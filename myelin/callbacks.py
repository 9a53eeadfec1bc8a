"""Level 4: callbacks (Keras's hooks) and the progress display.

A callback receives the model through ``set_model`` and is called at the start and end of
training, of each epoch and of each batch, with a ``logs`` dict of the current metric values.

Example:
    >>> from myelin import callbacks
    >>> stop = callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
"""

# Over 800 lines because it holds Keras's whole family of built-in callbacks; ones with other dependencies get own modules.
from __future__ import annotations

import contextlib
import csv
import math
import os
import sys
import time
import warnings

import numpy as np

from .callback_base import Callback
from .diagnostics import Diagnostics, TrainingWarning  # noqa: F401  (re-exported: Diagnostics lives in its own module)
from .distribution.data_parallel import is_chief

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
            # Callback.on_train_batch_begin/_end call on_batch_begin/_end (Keras 2's names) by default
            alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(hook)
            self._batch[hook] = [
                getattr(cb, hook) for cb in self.callbacks if _overrides(cb, hook) or (alias and _overrides(cb, alias))
            ]

    def __iter__(self):
        return iter(self.callbacks)

    def wants_logs(self, hook: str) -> bool:
        """Whether a callback that defines this batch hook reads its logs (a progress display without a live bar does not).

        Example:
            >>> CallbackList([ProgbarLogger()], params={"verbose": 2}).wants_logs("on_train_batch_end")
            False
        """
        return any(getattr(getattr(fn, "__self__", None), "reads_batch_logs", True) for fn in self._batch[hook])

    def _call(self, hook: str, *args) -> None:
        *args, logs = args
        logs = {} if logs is None else logs  # Keras passes a dict to every hook
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)

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
        logs = {} if logs is None else logs
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
        self.diagnostics: dict | None = None  # filled by callbacks.Diagnostics (fit(..., diagnostics=True))

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
            if not (isatty and isatty()):
                return False
        except ValueError:  # a closed stream
            return False
        try:  # a terminal that reports no width (some CI pseudo-terminals) cannot show a live bar
            return os.get_terminal_size(self.out.fileno()).columns > 0
        except (AttributeError, OSError, ValueError):
            return True

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.steps = params.get("steps")
        self.live = self.verbose == 1 and self.interactive

    @property
    def reads_batch_logs(self) -> bool:
        """Only a live bar shows each batch's logs; the plain display counts batches and prints each epoch's line.

        Example:
            >>> bar = ProgbarLogger(); bar.set_params({"verbose": 2}); bar.reads_batch_logs
            False
        """
        return bool(getattr(self, "live", True))

    # -- training
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._start, self._seen, self._last_draw = epoch, time.perf_counter(), 0, 0.0
        if self.live:
            self.out.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            self._open_bar()

    def on_train_batch_end(self, batch, logs=None):
        # with steps_per_execution, the last round's index may pass the last batch (as in Keras)
        self._seen = min(batch + 1, self.steps) if self.steps else batch + 1
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
        if not is_chief():  # data-parallel: process 0 writes the (already reduced) logs
            return
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._has_header = exists
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._file is None:
            return
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


# ---------------------------------------------------------------------------- checkpoints
def _check_save_freq(save_freq, who: str):
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer)) or save_freq <= 0:
        raise ValueError(f"{who}: save_freq must be 'epoch' or a positive number of batches, got {save_freq!r}")
    return int(save_freq)


class ModelCheckpoint(Callback):
    """Save the model (or its weights) during training, every epoch or every ``save_freq`` batches.

    ``filepath`` may hold fields filled in at each save: ``{epoch}`` (1-based), ``{batch}``
    (1-based, with an integer ``save_freq``) and any log value such as ``{val_loss:.3f}``.
    With ``save_best_only``, a save happens only when ``monitor`` improves in the direction
    of ``mode`` ("auto" reads it from the name). Files are myelin files written atomically
    (``model.save`` / ``model.save_weights``): a crash during a save never destroys the
    previous checkpoint.

    Example:
        >>> cb = ModelCheckpoint("checkpoints/epoch{epoch:02d}-{val_loss:.2f}.myelin", save_best_only=True)
        >>> cb.mode
        'min'
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold: float | None = None,
    ):
        super().__init__()
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = bool(save_best_only), bool(save_weights_only)
        self.mode = _monitor_mode(monitor, mode)
        self.save_freq = _check_save_freq(save_freq, "ModelCheckpoint")
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self._epoch, self._batches_seen = 0, 0
        if self.save_freq != "epoch":
            # The batch hook exists only when it is needed (the loop skips hooks nobody defines).
            self.on_train_batch_end = self._on_batch_end
            self._given = {"on_train_batch_end"}

    def on_train_begin(self, logs=None):
        self._batches_seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _on_batch_end(self, batch, logs=None):
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _path(self, epoch: int, batch, logs: dict) -> str:
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"ModelCheckpoint: cannot fill in the filepath {self.filepath!r} ({type(err).__name__}: {err}); "
                f"the fields available at this save are {', '.join(sorted(fields))}"
            ) from None

    def _improved(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def _save(self, epoch: int, batch, logs) -> None:
        logs = dict(logs or {})
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None:
                return
            if not self._improved(float(value)):
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best}")
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to {value}, saving to {path}")
            self.best = float(value)
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder and is_chief():
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)


def _plain(value):
    """A history value as JSON (NaN and infinities as strings, read back with float())."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


class BackupAndRestore(Callback):
    """Resume an interrupted ``fit`` where it stopped: weights, optimizer state, random generator, epoch.

    Every epoch (or every ``save_freq`` batches) the training state goes to one file in
    ``backup_dir``, written atomically. When ``fit`` starts and a backup is there, because
    the previous run was killed, crashed or stopped with Ctrl-C, the model's weights, the
    optimizer's state and learning rate, the library's random generator and the history so
    far are restored and training continues from that point: the final weights are the
    same, bit for bit on the CPU, as those of a run that was never interrupted. The backup is
    deleted when training completes (``delete_checkpoint=True``), not when it is interrupted.
    With ``double_checkpoint=True`` the previous backup is kept too, and used if the newest
    cannot be read.

    Run the same script again to resume: the model must be built and compiled the same way.
    A mid-epoch backup (an integer ``save_freq``) also holds the running sums of the loss
    and the metrics, so the resumed epoch logs the same values as an uninterrupted one
    (custom metrics without ``_additive_state`` restart at the resume). The state of other
    callbacks (EarlyStopping's patience, ...) is not saved, as in Keras.

    Example:
        >>> backup = BackupAndRestore("training_backup", save_freq="epoch")
        >>> backup.save_freq
        'epoch'
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False, delete_checkpoint: bool = True):
        super().__init__()
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = _check_save_freq(save_freq, "BackupAndRestore")
        self.double_checkpoint, self.delete_checkpoint = bool(double_checkpoint), bool(delete_checkpoint)
        self._files = [os.path.join(self.backup_dir, "backup.myelin")]
        if self.double_checkpoint:
            self._files.append(os.path.join(self.backup_dir, "backup-previous.myelin"))
        self._pending, self._pending_trackers = None, None
        self._epoch, self._epoch_rng, self._batches_seen, self._completed = 0, None, 0, False
        if self.save_freq != "epoch":
            self.on_train_batch_end = self._on_batch_end
            self._given = {"on_train_batch_end"}

    # -- restoring
    def on_train_begin(self, logs=None):
        from . import saving  # noqa: PLC0415  (saving sits above callbacks; imported when training starts)

        if is_chief():  # data-parallel: process 0 writes; every process reads the same backup
            os.makedirs(self.backup_dir, exist_ok=True)
            saving.clean_temp_files(self.backup_dir)
        self._batches_seen, self._completed, self._pending, self._pending_trackers = 0, False, None, None
        state = self._load(saving)
        if state is None:
            return
        self.model._resume_at = (int(state["epoch"]), int(state["step"]))
        self._pending = state
        if int(state["step"]) and isinstance(state.get("trackers"), list):
            self._pending_trackers = state["trackers"]  # added once the resumed epoch's first batch has run
        history = getattr(self.model, "history", None)
        if history is not None and isinstance(state.get("history"), dict):
            history.history = {k: [float(v) for v in vs] for k, vs in state["history"].items()}

    def _load(self, saving):
        errors = []
        for path in self._files:
            if not os.path.exists(path):
                continue
            try:
                state = saving.load_checkpoint(self.model, path)
            except saving.ModelFileError as err:
                errors.append(f"{path}: {err}")
                continue
            for key in ("epoch", "step", "rng", "epoch_rng"):
                if key not in state:
                    errors.append(f"{path}: the backup has no {key!r}")
                    break
            else:
                if errors:
                    warnings.warn(f"BackupAndRestore: the newest backup could not be read: {errors[0]}", stacklevel=3)
                return state
        if errors:
            raise ValueError(
                f"BackupAndRestore: cannot resume from {self.backup_dir!r}: {'; '.join(errors)}. "
                "Delete that folder to start training from the beginning."
            )
        return None

    def on_epoch_begin(self, epoch, logs=None):
        from . import backend  # noqa: PLC0415

        self._epoch = epoch
        pending = self._pending
        if pending is not None and epoch == pending["epoch"]:
            backend.set_rng_state(pending["epoch_rng"])  # the generator as this epoch began: same shuffle
            history = getattr(self.model, "history", None)
            if history is not None and isinstance(pending.get("history_epochs"), list):
                history.epoch[:0] = [int(e) for e in pending["history_epochs"]]
            if pending["step"] == 0:
                self._pending = None
        self._epoch_rng = backend.rng_state()

    def on_train_batch_begin(self, batch, logs=None):
        if self._pending is not None:  # resuming mid-epoch: the generator as it was after the last saved batch
            from . import backend  # noqa: PLC0415

            backend.set_rng_state(self._pending["rng"])
            self._pending = None

    # -- backing up
    def _on_batch_end(self, batch, logs=None):
        if self._pending_trackers is not None:
            # the trackers were reset and resolved when the resumed epoch began: add the sums saved mid-epoch
            self.model._add_tracker_state(self._pending_trackers)
            self._pending_trackers = None
        self._batches_seen += 1
        # Not after an epoch's last batch: a crash before on_epoch_end resumes from the backup
        # before it (same result), so that every resumed epoch runs at least one batch.
        if self._batches_seen % self.save_freq == 0 and batch + 1 < self.params.get("steps", batch + 2):
            self._save(self._epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._completed = epoch + 1 >= self.params.get("epochs", epoch + 1)
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0, (epoch, logs or {}))

    def _save(self, epoch: int, step: int, finished=None) -> None:
        from . import backend, saving  # noqa: PLC0415

        history = getattr(self.model, "history", None)
        values = {k: list(vs) for k, vs in (history.history if history else {}).items()}
        epochs = list(history.epoch) if history else []
        if finished is not None and finished[0] not in epochs:  # History records this epoch after us
            epochs.append(finished[0])
            for k, v in finished[1].items():
                values.setdefault(k, []).append(v)
        state = {
            "epoch": epoch,
            "step": step,
            "rng": backend.rng_state(),
            "epoch_rng": self._epoch_rng if step else backend.rng_state(),
            "history": {k: [_plain(v) for v in vs] for k, vs in values.items()},
            "history_epochs": epochs,
        }
        if step:
            state["trackers"] = self.model._tracker_state()
        if self.double_checkpoint and is_chief() and os.path.exists(self._files[0]):
            os.replace(self._files[0], self._files[1])
        saving.save_checkpoint(self.model, self._files[0], state)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not (self._completed or self.model.stop_training):
            return  # interrupted: keep the backup for the next run
        if not is_chief():
            return
        for path in self._files:
            if os.path.exists(path):
                os.remove(path)
        with contextlib.suppress(OSError):  # other files live there
            os.rmdir(self.backup_dir)


def __getattr__(name: str):
    # TensorBoard lives in its own module (it needs tensorboardX); loaded on first use.
    if name == "TensorBoard":
        from .tensorboard import TensorBoard  # noqa: PLC0415

        return TensorBoard
    if name in ("RemoteMonitor", "SwapEMAWeights"):
        from . import callbacks_more  # noqa: PLC0415

        return getattr(callbacks_more, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
