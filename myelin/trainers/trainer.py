"""The training loop: ``compile``, ``fit``, ``evaluate``, ``predict`` and the step they run.

``Trainer`` is the half of ``myelin.Model`` that trains (as in Keras 3, where ``Model``
inherits from ``keras.src.trainers.trainer.Trainer``); the model and its graph live in
:mod:`myelin.models`. One training step::

    outputs = model(x_batch, training=True)           # forward, recording the graph
    loss = compiled_loss(y_batch, outputs) + penalties
    loss.backward()                                    # gradients of every trainable weight
    optimizer.step(weights); optimizer.zero_grad()     # in-place update over one flat buffer

Validation, ``evaluate`` and ``predict`` run under ``no_grad``: no graph is built. Models
whose every part is one of myelin's own record their first step of each batch shape on a
``Tape`` and replay it afterwards (:mod:`myelin.tape`; ``_replay_refusal`` says when not).

``Trainer`` reads the model's graph through ``Model``'s methods (``_ensure_built``, ``_output_names``, ...).

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    >>> m.compile(optimizer="sgd", loss="mse")
    >>> isinstance(m, Trainer)
    True
"""

# Over 800 lines because fit, evaluate and predict share one data preparation, one step and one set of checks,
# which are read together; the adapters, compiled losses, interrupt handling and thread policy live beside it.
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from .. import backend, data, debugging, losses, native, ops, optimizers, saving
from .. import callbacks as callbacks_module
from .. import metrics as metrics_module
from .. import tensor as tensor_module
from ..layers.base import replay_safe
from ..tape import Plan, Tape
from ..tensor import Tensor, no_grad
from .compile_utils import _CompiledLoss, _CompiledMetrics, _loss_kind, _misfits
from .data_adapters import array_data_adapter, get_stream_adapter, is_stream
from .distributed import DistributedRun
from .epoch_iterator import _array_batches, _ran_out, _stream_steps
from .interrupt import _interrupted, _StopAtBatchEnd
from .steps import StepOverrides
from .threads import _thread_policy

# Samples per batch when evaluating or predicting without a batch_size (Keras uses 32): a batch's
# outputs do not depend on the others in it, so only speed and the metrics' float rounding change.
INFERENCE_BATCH = 1024


class Trainer(StepOverrides):
    """What ``Model`` can do to train: ``compile``, ``fit``, ``evaluate``, ``predict`` and ``*_on_batch``.

    Mixed into :class:`myelin.Model`; see the module's docstring for what it reads from the model.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> from myelin.models import Sequential
        >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> m.evaluate(np.zeros((4, 2)), np.zeros(4), verbose=0)
        0.0
    """

    # Set by fit for its duration: whether a non-finite loss stops training (before its update),
    # and the value that did. Set by a callback (BackupAndRestore) in on_train_begin: where to
    # resume, as (epoch, batches of that epoch already done).
    _stop_on_nonfinite = False
    _nonfinite_loss = None
    _resume_at = None
    # The DistributedRun of the fit or evaluate in progress (None on one process): shards batches, reduces logs.
    _dist = None

    def _init_trainer(self) -> None:
        """The training state of a new model (nothing compiled yet)."""
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compiled_loss = None
        self._compiled_metrics = None
        self._step_hooks: list = []  # called as hook(xs, weights) between backward() and the optimizer step
        self._jit_compile, self._run_eagerly = "auto", False
        self.steps_per_execution, self.auto_scale_loss = 1, True
        self._infer_plans, self._infer_checked = None, False

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile="auto",
        auto_scale_loss: bool = True,
    ):
        """Choose the optimizer, the loss (one, or one per output), loss weights and metrics.

        ``jit_compile`` ("auto", the default) lets ``fit`` record the first training step of
        each batch shape and replay it afterwards, with bit-identical results, when every layer,
        activation, loss and regularizer is one of myelin's own (``model.compile_status`` says
        whether it did, or why not); ``True`` makes that an error when it cannot, ``False`` or
        ``run_eagerly=True`` turn it off.
        ``steps_per_execution=N`` runs N batches per round of callbacks: ``on_*_batch_begin`` before
        the first of them and ``on_*_batch_end`` after the last (with that batch's index and the
        logs after it), as Keras does; the batch hooks and their logs cost once per N batches.
        ``auto_scale_loss`` (default True): when the model's dtype policy is "mixed_float16", the
        optimizer is wrapped in a ``LossScaleOptimizer`` (dynamic loss scaling), as Keras does.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Dense(3, activation="softmax")])
            >>> m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        """
        if loss is None and not self._overrides("train_step"):
            raise ValueError(f"Model {self.name!r}: compile() needs a loss, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers.get(optimizer)
        self._compiled_loss = _CompiledLoss(loss, loss_weights)
        self._compiled_metrics = _CompiledMetrics(metrics, weighted_metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"compile: jit_compile must be 'auto', True or False, got {jit_compile!r}")
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, (int, np.integer)):
            raise TypeError(f"compile: steps_per_execution must be a positive integer, got {steps_per_execution!r}")
        if steps_per_execution < 1:
            raise ValueError(f"compile: steps_per_execution must be a positive integer, got {steps_per_execution!r}")
        if not isinstance(auto_scale_loss, bool):
            raise TypeError(f"compile: auto_scale_loss must be True or False, got {auto_scale_loss!r}")
        self._jit_compile, self._run_eagerly = jit_compile, bool(run_eagerly)
        self.steps_per_execution = int(steps_per_execution)
        # Keras scales the loss (wraps the optimizer in a LossScaleOptimizer) when this is True and the
        # model's dtype policy is "mixed_float16": float16 gradients would underflow otherwise.
        self.auto_scale_loss = auto_scale_loss
        if (
            auto_scale_loss
            and self.dtype_policy.name == "mixed_float16"
            and not isinstance(self.optimizer, optimizers.LossScaleOptimizer)
        ):
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        self.compiled = True
        self._train_params = None
        self._reset_plans()

    @property
    def loss(self):
        return self._compiled_loss.spec if self._compiled_loss is not None else None

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"Model {self.name!r}: call compile(optimizer=..., loss=...) before {method}(), "
                "e.g. model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])"
            )

    @property
    def metrics(self) -> list:
        out = [self._loss_tracker] if self.compiled else []
        if self._compiled_metrics is not None:
            out += self._compiled_metrics.all()
        return out

    @property
    def metrics_names(self) -> list[str]:
        return ["loss"] + ([n for n in self._compiled_metrics.names()] if self._compiled_metrics else [])

    def _log_trackers(self) -> list:
        """Every running tracker of the training logs: the loss, per-output losses, compiled metrics."""
        per_output = self._compiled_loss._trackers if self._compiled_loss is not None else []
        return self.metrics[:1] + list(per_output) + self.metrics[1:]

    def _tracker_state(self) -> list:
        """[name, {variable: value}] per tracker, JSON-ready (BackupAndRestore saves it mid-epoch).

        On N processes, every process's own sums (each adds its own back on resuming, so the
        resumed epoch adds up in the same order as an uninterrupted one).
        """
        if self._dist is not None:
            everyone = self._dist.gather(self._local_tracker_state())
            return [["__processes__", {str(r): state for r, state in enumerate(everyone)}]]
        return self._local_tracker_state()

    def _local_tracker_state(self) -> list:
        out = []
        for m in self._log_trackers():
            values = {k: getattr(m, k) for k in m._additive_state}
            out.append([m.name, {k: v.tolist() if hasattr(v, "tolist") else float(v) for k, v in values.items()}])
        return out

    def _add_tracker_state(self, saved: list) -> None:
        """Add a saved ``_tracker_state`` to the trackers, matched by position and name (sums add up)."""
        if self._dist is not None:  # this process's own sums, saved beside the others'
            mine = [e[1].get(str(self._dist.rank)) for e in saved if isinstance(e, list) and e[:1] == ["__processes__"]]
            saved = mine[0] if mine and isinstance(mine[0], list) else []
        for m, entry in zip(self._log_trackers(), saved):
            if not (isinstance(entry, list) and len(entry) == 2 and entry[0] == m.name and isinstance(entry[1], dict)):
                continue
            for key in m._additive_state:
                value = entry[1].get(key)
                if value is None:
                    continue
                current = getattr(m, key)
                try:
                    if isinstance(current, np.ndarray):
                        added = current + np.asarray(value, dtype=current.dtype).reshape(current.shape)
                    else:
                        added = current + float(value)
                except (TypeError, ValueError):  # not what this tracker holds: leave it
                    continue
                setattr(m, key, added)

    def reset_metrics(self) -> None:
        """Reset the loss tracker and every compiled metric."""
        self._custom_logs = None
        for m in self.metrics:
            m.reset_state()
        if self._compiled_loss is not None:
            self._compiled_loss.reset()

    # ------------------------------------------------------------------ steps
    def _run(self, xs: list, training: bool) -> list[Tensor]:
        x = [Tensor._wrap(a, False) for a in xs]
        out = self(x[0] if len(x) == 1 else x, training=training)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def _loss(self, ys: list, outs: list, sw) -> Tensor:
        total = self._compiled_loss(ys, outs, sw, self._output_names(len(outs)))
        penalties = self.losses
        if penalties:
            for p in penalties:
                total = ops.add(total, p)
        return total

    def _step(self, xs: list, ys: list, sw, training: bool) -> float:
        """One batch: forward, loss, and (training) backward and update; then the trackers.

        Eligible models record their first step of each batch shape on a ``Tape`` and replay
        it afterwards (``myelin.tape``): same primitives, same order, same results, without
        the Python work of layers, losses and graph bookkeeping.
        """
        dynamic = xs + ys if sw is None else xs + ys + [sw]
        key, plan, record = _lookup_plan(self._plans if training else self._test_plans, dynamic)
        # Keras's train step differentiates optimizer.scale_loss(loss): the loss times loss_scale_factor
        scale = (self.optimizer.loss_scale_factor or 1.0) if training else 1.0
        # With loss scaling (a LossScaleOptimizer), float16 gradients may overflow: the optimizer finds the
        # infinities and skips the step, so NumPy's overflow warnings are not the user's concern.
        quiet = np.errstate(over="ignore", invalid="ignore") if scale != 1.0 else contextlib.nullcontext()
        if plan is not None:
            with quiet:
                loss, values, grads = plan.run(dynamic, backward=training, seed=scale, into=self._grad_into(plan, training))
            for w, g in zip(plan.weights, grads):
                w.grad = g
        else:
            plans = self._plans if training else self._test_plans
            splits = native.splits()
            native.largest_product(reset=True)
            with Tape(dynamic, self.weights) if record else contextlib.nullcontext() as tape, contextlib.ExitStack() as stack:
                if not training:
                    stack.enter_context(no_grad())
                self._clear_call_losses()
                outs = self._run(xs, training=training)
                total = self._loss(ys, outs, sw)
            watched = outs + self._compiled_loss.last_values
            if record:
                self._keep_plan(plans, key, tape, total, watched, training)
            if training:
                with quiet:
                    total.backward(None if scale == 1.0 else backend.array_module(total.data).full_like(total.data, scale))
                if record and native.splits() > splits and native.largest_product() >= native.POOL_FLOPS:
                    # The step splits native work over threads and has large products: OpenBLAS's own threads would
                    # spin beside those parts (docs/performance.md), so for the rest of this fit the large products
                    # use the same threads and the others one.
                    backend.pool_products(True)
            loss, values = total.data, [t.data for t in watched]
        value = float(loss)
        if training:
            dist = self._dist
            if dist is None and self._stop_on_nonfinite and not math.isfinite(value):
                self._nonfinite_loss = value  # fit explains it and stops; this batch's update is not applied
                for w in self._train_params:
                    w.grad = None
                return value
            if dist is not None:
                # On N processes the loss of the whole global batch decides, so that all stop or none does: it
                # travels with the gradients (one allreduce), and the optimizer skips the update if it is not finite.
                dist.step_loss = value
            if self._step_hooks:  # e.g. callbacks.Diagnostics reading the gradients
                for hook in self._step_hooks:
                    hook(xs, self._train_params)
            self.optimizer.step(self._train_params)
            self.optimizer.zero_grad()
            if dist is not None and dist.nonfinite is not None:
                self._nonfinite_loss, dist.nonfinite = dist.nonfinite, None
                return value
        n = len(xs[0])
        self._loss_tracker.add(value * n, n)
        n_out = len(values) - len(self._compiled_loss.last_values)
        self._compiled_loss.track(values[n_out:], n)
        self._compiled_metrics.update(ys, values[:n_out], sw, self._compiled_loss, self._output_names(n_out))
        return value

    def _grad_into(self, plan, training: bool) -> list | None:
        """The optimizer's gradient buffers for ``plan``'s weights (a replay writes there, the update copies nothing)."""
        if not training or not hasattr(self.optimizer, "grad_buffers"):
            return None
        groups = getattr(self.optimizer, "_groups", None)
        kept = plan.__dict__.get("grad_into")
        if kept is None or kept[0] is not groups:
            buffers = self.optimizer.grad_buffers(plan.weights) if groups is not None else None
            kept = plan.grad_into = (groups, buffers)
        return kept[1]

    def _keep_plan(self, plans: dict, key, tape, total, watched, training: bool) -> None:
        reason = _replay_refusal(self) or None
        if reason is None:
            try:
                plans[key] = Plan(tape, total, watched)
                return
            except ValueError as err:
                reason = str(err)
        if self._jit_compile is True:
            raise ValueError(f"Model {self.name!r}: jit_compile=True, but the step cannot be compiled: {reason}")
        # Not replayable: stop trying, and remember why (model.compile_status says it).
        self._replay_reason = reason
        if training:
            self._plans = None
        else:
            self._test_plans = None

    def _begin_steps(self) -> None:
        """Reset per-fit state: the weights to train and the recorded plans."""
        params = self.trainable_weights
        if not params:
            raise ValueError(f"Model {self.name!r} has no trainable weights: nothing to train")
        self._train_params = params
        self._reset_plans()

    def _reset_plans(self) -> None:
        on = self._jit_compile is not False and not self._run_eagerly
        self._plans = {} if on else None
        self._test_plans = {} if on else None
        self._infer_plans, self._infer_checked = None, False
        self._replay_reason = None if on else "run_eagerly=True or jit_compile=False"

    @property
    def compile_status(self) -> str:
        """Whether training steps are replayed from a recording, and if not, why.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> _ = m.fit(np.zeros((4, 2)), np.zeros(4), verbose=0)
            >>> m.compile_status
            'compiled: 1 training step shape(s) recorded'
        """
        if self._replay_reason is not None:
            return f"not compiled: {self._replay_reason}"
        return f"compiled: {len(self._plans or {})} training step shape(s) recorded"

    def _logs(self) -> dict:
        if self._dist is not None:  # the sums of every process's trackers
            return self._dist.reduced_logs(self, self._local_logs)
        return self._local_logs()

    def _local_logs(self) -> dict:
        if self._custom_logs is not None:  # what the overridden step returned for the last batch
            return dict(self._custom_logs)
        logs = {"loss": self._loss_tracker.result()}
        logs.update(self._compiled_loss.results())
        logs.update(self._compiled_metrics.results())
        return logs

    # ------------------------------------------------------------------ data handling
    def _prepare_x(self, x, name: str = "x", check_finite: bool = True, method: str = "fit") -> list:
        return array_data_adapter.prepare_x(self, x, name, check_finite, method)

    def _prepare_data(self, x, y, sample_weight, class_weight, check_finite: bool, custom: bool, method: str) -> tuple:
        """``_prepare_xy``; for an overridden step, ``y`` may be None (the step takes ``x`` alone)."""
        if y is None and custom:
            if sample_weight is not None or class_weight is not None:
                raise ValueError(f"Model {self.name!r}: {method}() got sample_weight or class_weight without y")
            return self._prepare_x(x, check_finite=check_finite, method=method), [], None
        return self._prepare_xy(x, y, sample_weight, class_weight, check_finite=check_finite, method=method)

    def _prepare_xy(
        self, x, y, sample_weight=None, class_weight=None, what: str = "", check_finite: bool = True, method: str = "fit"
    ) -> tuple:
        return array_data_adapter.prepare_xy(self, x, y, sample_weight, class_weight, what, check_finite, method)

    def _check_targets(self, ys: list, what: str = "") -> None:
        """Before any work: targets that cannot fit the loss or the output layer are an error; misfits a warning."""
        shapes = self.output_shape if isinstance(self.output_shape, list) else [self.output_shape]
        n_out = len(self.outputs) if self._functional else len(shapes)
        if len(ys) != n_out:
            raise ValueError(
                f"Model {self.name!r} has {n_out} output(s) ({', '.join(self._output_names(n_out))}) but "
                f"{len(ys)} target array(s) were given as y{what}"
            )
        compiled = self._compiled_loss
        if compiled._losses is None:
            compiled.resolve(self._output_names(n_out))
        for i, (y, shape) in enumerate(zip(ys, shapes)):
            loss = compiled._losses[i]
            if loss is None:
                continue
            name = f"y{what}" if n_out == 1 else f"y{what}[{i}]"
            data.check_targets(y, _loss_kind(loss), getattr(loss, "from_logits", False), shape, name, self._output_label(i))
        if compiled is not getattr(self, "_misfits_checked", None):
            self._misfits_checked = compiled
            for message in _misfits(self, n_out):
                warnings.warn(message, UserWarning, stacklevel=3)

    def _shape_targets(self, ys: list) -> list:
        """Give (n,) targets of a one-unit output their trailing axis, once, before the batches."""
        shapes = self.output_shape if isinstance(self.output_shape, list) else [self.output_shape]
        return [
            y[..., None] if s is not None and y.ndim == len(s) - 1 and s[-1] == 1 else y
            for y, s in zip(ys, shapes + [None] * (len(ys) - len(shapes)))
        ]

    def _fixed_batch_size(self) -> int | None:
        """The batch size the model's Input fixes (``Input(batch_size=N)``), or None when it is free."""
        if getattr(self, "_functional", False):
            dims = [t.shape[0] for t in self.inputs]
        else:
            layer = getattr(self, "_input_layer", None)
            dims = [layer.batch_shape[0]] if layer is not None else []
        fixed = sorted({d for d in dims if d is not None})
        if len(fixed) > 1:
            raise ValueError(f"Model {self.name!r}: its inputs fix different batch sizes {fixed}; give them one")
        return fixed[0] if fixed else None

    def _batch_size_for(self, batch_size, default: int, n: int, steps, method: str, what: str = "batch_size") -> int:
        """``batch_size`` checked (``default`` when None) against the batch size the model's Input may fix.

        With ``Input(batch_size=N)`` every batch must hold N samples: ``batch_size`` None means N,
        another value is an error, and so are samples that do not fill the batches run.
        """
        fixed = self._fixed_batch_size()
        if fixed is None:
            return self._check_batch_size(batch_size, default)
        if batch_size is not None and self._check_batch_size(batch_size) != fixed:
            raise ValueError(
                f"Model {self.name!r}: its Input fixes the batch size at {fixed} (Input(batch_size={fixed})), "
                f"but {method}() got {what}={batch_size}"
            )
        used = n if steps is None else min(n, int(steps) * fixed)
        if used % fixed:
            raise ValueError(
                f"Model {self.name!r}: its Input fixes the batch size at {fixed} (Input(batch_size={fixed})), but "
                f"{method}() got {used} samples, which do not fill batches of {fixed} (the last would hold {used % fixed}); "
                f"give a multiple of {fixed} samples"
            )
        return fixed

    def _check_one_batch(self, xs: list, method: str) -> None:
        fixed = self._fixed_batch_size()
        if fixed is not None and len(xs[0]) != fixed:
            raise ValueError(
                f"Model {self.name!r}: its Input fixes the batch size at {fixed} (Input(batch_size={fixed})), "
                f"but {method}() got a batch of {len(xs[0])} samples"
            )

    @staticmethod
    def _check_batch_size(batch_size, default: int = 32) -> int:
        if batch_size is None:
            return default
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return int(batch_size)

    # ------------------------------------------------------------------ fit
    @_thread_policy
    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        class_weight=None,
        sample_weight=None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
        on_nonfinite_loss: str | None = None,
        check_finite: bool = True,
        diagnostics: bool = False,
    ):
        """Train for ``epochs`` passes over the data; returns the ``History``.

        ``x`` is arrays (``y`` beside them), a NumPy memory map (read batch by batch), or a
        generator, iterator or ``myelin.utils.PyDataset`` of ``(x, y[, sample_weight])``
        batches (``steps_per_epoch`` for an endless one; ``docs/data.md``).
        ``validation_split`` holds out the last fraction of the samples (taken before
        shuffling); ``validation_data`` is ``(x_val, y_val)`` or ``(x_val, y_val, weights)``.
        ``class_weight`` maps a class to a weight of its samples' loss.
        ``diagnostics=True`` adds a ``callbacks.Diagnostics()``: per-layer weight and gradient
        norms, update ratios, dead and saturated units in ``history.diagnostics``, and
        warnings about exploding or vanishing gradients and dead layers.

        Data is checked before any work: lengths, widths, class labels against the loss and
        the output layer, text, and (``check_finite=True``) NaN or infinite values; a loss
        and output activation that do not fit each other give a warning that says why.

        When the loss becomes NaN or infinite, ``on_nonfinite_loss="raise"`` (the default)
        stops before that batch's update and raises ``myelin.debugging.NonFiniteLossError``
        saying at which epoch and batch, which layer went non-finite first and what usually
        causes it; ``"stop"`` stops with that message as a warning; ``"continue"`` trains on,
        as Keras does (the default when a ``TerminateOnNaN`` callback is given: it decides).

        Ctrl-C stops at the end of the current batch: the progress line is closed,
        callbacks' ``on_train_end`` runs, ``model.history`` holds the epochs completed, and
        ``KeyboardInterrupt`` is raised again (a second Ctrl-C stops at once).

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
            >>> m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
            >>> h = m.fit(np.random.rand(64, 2), np.random.randint(0, 2, 64), epochs=3, verbose=0)
            >>> sorted(h.history)
            ['accuracy', 'loss']
        """
        self._assert_compiled("fit")
        if on_nonfinite_loss is None:
            given = callbacks or []
            on_nonfinite_loss = "continue" if any(isinstance(c, callbacks_module.TerminateOnNaN) for c in given) else "raise"
        if on_nonfinite_loss not in ("raise", "stop", "continue"):
            raise ValueError(f"on_nonfinite_loss must be 'raise', 'stop' or 'continue', got {on_nonfinite_loss!r}")
        custom = self._overrides("train_step")
        stream = is_stream(x)
        if stream:
            adapter = get_stream_adapter(self, x, y, sample_weight, batch_size, "fit", check_finite, class_weight, custom)
        given_batch_size, batch_size = batch_size, self._check_batch_size(batch_size)
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)):
            raise TypeError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if not isinstance(validation_freq, int) or validation_freq < 1:
            raise ValueError(f"validation_freq must be a positive integer, got {validation_freq!r}")
        if stream:
            if validation_split:
                raise ValueError("fit(): validation_split needs arrays; with a generator or PyDataset, give validation_data")
            xs, ys, sw = adapter.first()
        else:
            xs, ys, sw = self._prepare_data(x, y, sample_weight, class_weight, check_finite, custom, "fit")
        val = val_adapter = None
        n_validations = sum((e + 1) % validation_freq == 0 for e in range(initial_epoch, epochs))
        if is_stream(validation_data):
            val_adapter = get_stream_adapter(
                self,
                validation_data,
                None,
                None,
                None,
                "fit",
                check_finite,
                None,
                self._overrides("test_step"),
                what="validation_data",
            )
            endless = val_adapter.source != "generator"  # a PyDataset whose num_batches is None
            if val_adapter.num_batches is None and validation_steps is None and (n_validations > 1 or endless):
                raise ValueError(
                    f"fit(): validation_data is {'an endless PyDataset' if endless else 'a generator without a length'}, "
                    f"read by {n_validations} validation(s): give validation_steps (the batches of each one)"
                )
            given_validation_steps = validation_steps
            if val_adapter.num_batches is not None:
                validation_steps = _stream_steps(val_adapter, validation_steps, 1, "fit", "validation_steps")
            val = val_adapter.first()
        elif validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val)")
            vx, vy = validation_data[0], validation_data[1]
            vsw = validation_data[2] if len(validation_data) == 3 else None
            val = self._prepare_xy(vx, vy, vsw, what="_val", check_finite=check_finite)
        elif validation_split:
            train, held = data.split_last([*xs, *ys, sw], validation_split)
            k, m = len(xs), len(xs) + len(ys)
            val = (held[:k], held[k:m], held[m])
            xs, ys, sw = train[:k], train[k:m], train[m]
        if not custom:  # an overridden step decides what its data is (a GAN's x is not the model's input)
            self._ensure_built(xs)
            self._check_targets(ys)
        ys = self._shape_targets(ys)
        if val is not None:
            if not custom:
                self._check_model_input(val[0])
                self._check_targets(val[1], "_val")
            val = (val[0], self._shape_targets(val[1]), val[2])
        n = len(xs[0])
        if not stream:
            batch_size = self._batch_size_for(given_batch_size, 32, n, steps_per_epoch, "fit")
        if val is not None and val_adapter is None:
            vbs = self._batch_size_for(
                validation_batch_size,
                max(batch_size, INFERENCE_BATCH),
                len(val[0][0]),
                validation_steps,
                "fit",
                "validation_batch_size",
            )
        dist = DistributedRun.current()
        if dist is not None:  # data-parallel: agree, broadcast the state; batch_size becomes this process's draw
            facts = {"epochs": epochs, "initial_epoch": initial_epoch, "shuffle": bool(shuffle), "steps": steps_per_epoch}
            facts["validation"] = None if val is None else [validation_freq, validation_steps]
            if val is not None and val_adapter is None:
                facts["validation"].append(len(val[0][0]))
            facts["validation steps"] = validation_steps
            facts["custom step"] = custom
            batch_size = dist.start(self, xs, ys, sw, batch_size, facts, adapter if stream else None, val_adapter)
            if val_adapter is not None and val_adapter.shard is not None and val_adapter.num_batches is not None:
                # sharded by batch: a validation step reads one batch per process
                validation_steps = _stream_steps(val_adapter, given_validation_steps, 1, "fit", "validation_steps")
        if stream:
            steps = _stream_steps(adapter, steps_per_epoch, epochs - initial_epoch, "fit", "steps_per_epoch")
        else:
            steps = math.ceil(n / batch_size)
            if steps_per_epoch is not None:
                steps = min(steps, int(steps_per_epoch))
        verbose = 1 if verbose == "auto" else int(verbose)
        if dist is not None:
            verbose = dist.verbose(verbose)
        if custom:
            self._train_params = self.trainable_weights  # the step may build its weights on its first batch
            self._reset_plans()
        else:
            self._begin_steps()
        self.stop_training = False

        history = callbacks_module.History()
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.insert(0, callbacks_module.ProgbarLogger())
        if diagnostics and not any(isinstance(cb, callbacks_module.Diagnostics) for cb in cb_list):
            cb_list.append(callbacks_module.Diagnostics())
        cb_list.append(history)
        params = {"verbose": verbose, "epochs": epochs, "steps": steps, "mode": "train"}
        cbs = callbacks_module.CallbackList(cb_list, model=self, params=params)
        self.history = history
        want_begin = cbs.wants("on_train_batch_begin")
        want_end = cbs.wants("on_train_batch_end")
        want_logs = want_end and cbs.wants_logs("on_train_batch_end")  # not a plain progress display alone
        spe = self.steps_per_execution
        if dist is not None:  # batch-end logs are reduced over processes: all must compute them, or none
            want_logs = dist.any(want_logs)
        gen = backend.rng()

        self._stop_on_nonfinite, self._nonfinite_loss = on_nonfinite_loss != "continue", None
        if dist is not None:
            dist.stop_on_nonfinite = self._stop_on_nonfinite
        ctrl_c = _StopAtBatchEnd()
        epoch = step = 0
        cbs.on_train_begin({})
        initial_epoch, skip = self._resume_at or (initial_epoch, 0)  # a callback may resume an interrupted run
        self._resume_at = None
        logs: dict = {}
        self._dist = dist
        try:
            with ctrl_c:
                for epoch in range(initial_epoch, epochs):
                    self.reset_metrics()
                    if dist is not None:
                        dist.epoch_begin()
                    cbs.on_epoch_begin(epoch, {})
                    if stream:
                        adapter.on_epoch_begin()
                        batches = self._stream_batches(adapter, steps, shuffle, gen, training=True)
                    else:
                        batches = _array_batches(xs, ys, sw, batch_size, steps, shuffle, gen)
                    step = -1
                    in_round, round_begin = False, 0  # inside a round of steps_per_execution batches; its first
                    with contextlib.closing(batches):
                        for step, (xb, yb, swb) in enumerate(batches):
                            if step < skip:
                                continue
                            if not in_round:
                                in_round, round_begin = True, step
                                if want_begin:
                                    cbs.batch("on_train_batch_begin", step, {})
                            if self._train_batch(xb, yb, swb, custom, on_nonfinite_loss, epoch, step, epochs, steps):
                                break
                            last = steps is not None and step + 1 == steps
                            if (step + 1) % spe == 0 or last or self.stop_training or ctrl_c.requested:
                                in_round = False
                                # Keras's index: the round's last, as if it were full (EpochIterator)
                                self._batch_end(cbs, "on_train_batch_end", round_begin + spe - 1, want_end, want_logs)
                            if self.stop_training or ctrl_c.requested:
                                break
                    if stream:
                        adapter.on_epoch_end()
                        if steps is None:  # a generator read to its end: now its length is known
                            steps = max(step + 1, 1)
                            params["steps"] = steps  # what callbacks read from now on
                        ended = dist is not None and dist.data_ended  # its last step was one without data
                        if _ran_out(adapter, step - ended, steps):
                            if step < 0:
                                break
                            self.stop_training = True
                    skip = 0
                    if ctrl_c.requested:
                        raise KeyboardInterrupt(_interrupted(epoch, step, epochs, steps))
                    logs = self._logs()
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        if val_adapter is not None:
                            val_logs = self._evaluate_batches(self._stream_batches(val_adapter, validation_steps), cbs)
                        else:
                            val_logs = self._evaluate_arrays(*val, vbs, cbs, validation_steps)
                        logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    cbs.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
                    if ctrl_c.requested:
                        raise KeyboardInterrupt(_interrupted(epoch, steps - 1, epochs, steps))
        finally:
            self._stop_on_nonfinite = False
            cbs.on_train_end(logs)
            self.optimizer.finalize_variable_values()
            if dist is not None:
                dist.end()
            self._dist = None
        return history

    def _train_batch(self, xb, yb, swb, custom: bool, policy: str, epoch: int, step: int, epochs: int, steps) -> bool:
        """One training batch (the model's step or the overridden one); True when a non-finite loss stops the epoch."""
        if self._dist is not None:  # data-parallel: this process's rows of the batch
            xb, yb, swb = self._dist.shard((xb, yb, swb))
        if self._dist is not None and not len(xb[0]):
            self._dist.idle_step(self)
        elif custom:
            self._custom_logs = self._custom_batch("train_step", xb, yb, swb)
        else:
            self._step(xb, yb, swb, training=True)
        if self._dist is not None and self._dist.peers_ended:
            self._data_ended_elsewhere(step)
        if self._nonfinite_loss is not None:
            self._nonfinite_stop(policy, xb, yb, swb, epoch, step, epochs, steps)
            return True
        return False

    def _batch_end(self, cbs, hook: str, index: int, want_end: bool, want_logs: bool) -> None:
        """A batch-end hook; its logs built only when a callback reads them (on N processes: a collective call)."""
        if want_end or want_logs:
            logs = self._logs() if want_logs else {}
            if want_end:
                cbs.batch(hook, index, logs)

    def _data_ended_elsewhere(self, step: int) -> None:
        """Data-parallel: some process's own generator ran out at this step; every process stops after it."""
        dist = self._dist
        self.stop_training = True
        if dist.data_ended:
            return  # this process's own adapter says so (fit's usual warning)
        warnings.warn(
            f"fit(): the generator of {dist.peers_ended} of the {dist.size} processes ran out of data at batch "
            f"{step + 1} of this epoch; every process stops training (each must yield steps_per_epoch * epochs batches)",
            UserWarning,
            stacklevel=4,
        )

    def _stream_batches(self, adapter, steps, shuffle: bool = False, rng=None, training: bool = False):
        """The prepared batches of one epoch of a generator or ``PyDataset``; its targets checked against the model."""
        check = not adapter.custom and adapter.mode == "xy"
        inner = adapter.epoch(steps, rng, shuffle)
        if self._dist is not None:  # data-parallel: every process takes the same number of steps
            inner = self._dist.stream_epoch(inner, adapter, steps, training)
        try:
            for xs, ys, sw in inner:
                if check and len(xs[0]):
                    self._check_model_input(xs)
                    self._check_targets(ys)
                yield xs, self._shape_targets(ys), sw
        finally:
            inner.close()

    def _nonfinite_stop(self, policy: str, xb, yb, swb, epoch: int, step: int, epochs: int, steps: int) -> None:
        """The loss of this batch is NaN or infinite: explain where it came from, then raise or stop."""
        value, self._nonfinite_loss = self._nonfinite_loss, None
        message = debugging.explain_nonfinite_loss(self, xb, yb, swb, epoch, step, value, epochs, steps)
        if policy == "raise":
            raise debugging.NonFiniteLossError(message, epoch, step, value)
        warnings.warn(message, UserWarning, stacklevel=3)
        self.stop_training = True

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_arrays(self, xs, ys, sw, batch_size: int, cbs, steps=None) -> dict:
        return self._evaluate_batches(_array_batches(xs, ys, sw, batch_size, steps), cbs)

    def _evaluate_batches(self, batches, cbs) -> dict:
        """Loss and metrics over ``batches`` of ``(xs, ys, sw)``, with the test callbacks."""
        self.reset_metrics()
        spe = self.steps_per_execution
        cbs.on_test_begin({})
        want_begin, want_end = cbs.wants("on_test_batch_begin"), cbs.wants("on_test_batch_end")
        want_logs = want_end and cbs.wants_logs("on_test_batch_end")
        if self._dist is not None:
            want_logs = self._dist.any(want_logs)
        custom = self._overrides("test_step")
        step, open_round = -1, False  # a round of steps_per_execution batches whose end hook has not run
        with contextlib.closing(batches):
            for step, batch in enumerate(batches):
                if step % spe == 0:
                    open_round = True
                    if want_begin:
                        cbs.batch("on_test_batch_begin", step, {})
                if self._dist is not None:
                    batch = self._dist.shard_eval(batch)
                if not len(batch[0][0]):
                    pass  # this process has no rows of this (last, small) batch; its trackers add nothing
                elif custom:
                    self._custom_logs = self._custom_batch("test_step", *batch)
                else:
                    self._step(*batch, training=False)
                if (step + 1) % spe == 0:
                    open_round = False
                    self._batch_end(cbs, "on_test_batch_end", step, want_end, want_logs)
        if open_round:  # the last, short round: Keras's index, as if it were full
            self._batch_end(cbs, "on_test_batch_end", step - step % spe + spe - 1, want_end, want_logs)
        logs = self._logs()
        cbs.on_test_end(logs)
        return logs

    @_thread_policy
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        verbose="auto",
        sample_weight=None,
        steps: int | None = None,
        callbacks=None,
        return_dict: bool = False,
        check_finite: bool = True,
    ):
        """Loss and metrics on data, without training: a scalar (loss only), a list, or a dict.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
            >>> loss, mae = m.evaluate(np.zeros((4, 2)), np.zeros(4), verbose=0)
        """
        self._assert_compiled("evaluate")
        custom = self._overrides("test_step")
        adapter = None
        if is_stream(x):
            adapter = get_stream_adapter(self, x, y, sample_weight, batch_size, "evaluate", check_finite, None, custom)
            xs, ys, sw = adapter.first()
        else:
            given_batch_size, batch_size = batch_size, self._check_batch_size(batch_size, INFERENCE_BATCH)
            xs, ys, sw = self._prepare_data(x, y, sample_weight, None, check_finite, custom, "evaluate")
            batch_size = self._batch_size_for(given_batch_size, INFERENCE_BATCH, len(xs[0]), steps, "evaluate")
        if not custom:
            self._ensure_built(xs)
            self._check_targets(ys)
        ys = self._shape_targets(ys)
        verbose = 1 if verbose == "auto" else int(verbose)
        dist = DistributedRun.current()
        if dist is not None:  # data-parallel: each process evaluates its rows (or batches); the logs are summed
            dist.start_evaluate(xs, ys, sw, {"batch_size": batch_size, "steps": steps}, adapter)
            verbose = dist.verbose(verbose)
        if adapter is not None:
            n_steps = _stream_steps(adapter, steps, 1, "evaluate", "steps")
        else:
            n_steps = math.ceil(len(xs[0]) / batch_size) if steps is None else int(steps)
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.insert(0, callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(cb_list, model=self, params={"verbose": verbose, "steps": n_steps, "mode": "test"})
        self._dist = dist
        try:
            if adapter is not None:
                logs = self._evaluate_batches(self._stream_batches(adapter, n_steps), cbs)
            else:
                logs = self._evaluate_arrays(xs, ys, sw, batch_size, cbs, steps)
        finally:
            self._dist = None
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names if k in logs]
        values += [v for k, v in logs.items() if k not in self.metrics_names]
        return values[0] if len(values) == 1 else values

    @_thread_policy
    def predict(
        self,
        x,
        batch_size: int | None = None,
        verbose="auto",
        steps: int | None = None,
        callbacks=None,
        check_finite: bool = True,
    ):
        """Outputs for ``x`` as NumPy arrays, computed batch by batch without a graph.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(3,)), layers.Dense(2, activation="softmax")])
            >>> m.predict(np.zeros((5, 3)), verbose=0).shape
            (5, 2)
        """
        if is_stream(x):
            return self._predict_stream(x, batch_size, verbose, steps, callbacks, check_finite)
        given_batch_size, batch_size = batch_size, self._check_batch_size(batch_size, INFERENCE_BATCH)
        xs = self._prepare_x(x, check_finite=check_finite, method="predict")
        self._ensure_built(xs)
        n = len(xs[0])
        batch_size = self._batch_size_for(given_batch_size, INFERENCE_BATCH, n, steps, "predict")
        verbose = 1 if verbose == "auto" else int(verbose)
        n_steps = math.ceil(n / batch_size) if steps is None else min(int(steps), math.ceil(n / batch_size))
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.insert(0, callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(
            cb_list, model=self, params={"verbose": verbose, "steps": n_steps, "mode": "predict"}
        )
        want_begin, want_end = cbs.wants("on_predict_batch_begin"), cbs.wants("on_predict_batch_end")
        spe = self.steps_per_execution
        custom = self._overrides("predict_step")
        cbs.on_predict_begin({})
        results = None
        stop = min(n, n_steps * batch_size)
        round_start = 0
        for step, idx in enumerate(data.batch_indices(stop, batch_size)):
            if step % spe == 0:
                round_start = idx.start if isinstance(idx, slice) else int(idx[0])
                if want_begin:
                    cbs.batch("on_predict_batch_begin", step, {})
            xb = [a[idx] for a in xs]
            outs = self._custom_batch("predict_step", xb, [], None) if custom else self._infer(xb)
            if results is None:  # one output buffer per output, filled in place
                kinds = [object if o.dtype.kind in "US" else o.dtype for o in outs]  # strings of any length
                results = [backend.array_module(o).empty((stop,) + o.shape[1:], dtype=k) for o, k in zip(outs, kinds)]
            for buf, o in zip(results, outs):
                buf[idx] = o
            if want_end and ((step + 1) % spe == 0 or step + 1 == n_steps):
                # the outputs of this round's batches (Keras: one per output, the batches concatenated)
                end = idx.stop if isinstance(idx, slice) else int(idx[-1]) + 1
                outputs = [buf[round_start:end] for buf in results] if spe > 1 else list(outs)
                index = step - step % spe + spe - 1  # as fit's
                cbs.batch("on_predict_batch_end", index, {"outputs": outputs[0] if len(outputs) == 1 else outputs})
        cbs.on_predict_end({})
        results = [Tensor._wrap(r, False).numpy() for r in results]
        return results[0] if len(results) == 1 else results

    def _predict_stream(self, x, batch_size, verbose, steps, callbacks, check_finite: bool):
        """``predict`` on a generator or ``PyDataset``: the outputs of its batches, in order, concatenated."""
        adapter = get_stream_adapter(self, x, None, None, batch_size, "predict", check_finite, mode="x")
        self._ensure_built(adapter.first()[0])
        n_steps = _stream_steps(adapter, steps, 1, "predict", "steps")
        verbose = 1 if verbose == "auto" else int(verbose)
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.insert(0, callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(
            cb_list, model=self, params={"verbose": verbose, "steps": n_steps, "mode": "predict"}
        )
        want_begin, want_end = cbs.wants("on_predict_batch_begin"), cbs.wants("on_predict_batch_end")
        spe = self.steps_per_execution
        custom = self._overrides("predict_step")
        cbs.on_predict_begin({})
        parts = []
        step, round_start = -1, 0
        with contextlib.closing(adapter.epoch(n_steps)) as batches:
            for step, (xb, _, _) in enumerate(batches):
                if step % spe == 0:
                    round_start = step
                    if want_begin:
                        cbs.batch("on_predict_batch_begin", step, {})
                self._check_model_input(xb)
                outs = self._custom_batch("predict_step", xb, [], None) if custom else self._infer(xb)
                parts.append([Tensor._wrap(o, False).numpy() for o in outs])
                if want_end and (step + 1) % spe == 0:
                    cbs.batch("on_predict_batch_end", step, {"outputs": self._round_outputs(parts, round_start)})
        if want_end and step >= 0 and (step + 1) % spe:  # the last, short round
            index = step - step % spe + spe - 1
            cbs.batch("on_predict_batch_end", index, {"outputs": self._round_outputs(parts, round_start)})
        cbs.on_predict_end({})
        results = [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
        return results[0] if len(results) == 1 else results

    @staticmethod
    def _round_outputs(parts: list, start: int):
        """The outputs of the batches since ``start`` (one array per output, the batches concatenated)."""
        outs = [np.concatenate([p[i] for p in parts[start:]]) for i in range(len(parts[start]))]
        return outs[0] if len(outs) == 1 else outs

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One gradient step on one batch; returns that batch's loss (and metrics).

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> loss = m.train_on_batch(np.ones((4, 2)), np.ones(4))
        """
        self._assert_compiled("train_on_batch")
        xs, ys, sw = self._prepare_xy(x, y, sample_weight, class_weight, method="train_on_batch")
        self._ensure_built(xs)
        self._check_one_batch(xs, "train_on_batch")
        self._check_targets(ys)
        ys = self._shape_targets(ys)
        self.reset_metrics()
        if self._train_params is None:
            self._begin_steps()
        self._step(xs, ys, sw, training=True)
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss (and metrics) on one batch, without training.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> m.test_on_batch(np.zeros((4, 2)), np.zeros(4))
            0.0
        """
        self._assert_compiled("test_on_batch")
        xs, ys, sw = self._prepare_xy(x, y, sample_weight, method="test_on_batch")
        self._ensure_built(xs)
        self._check_one_batch(xs, "test_on_batch")
        self._check_targets(ys)
        ys = self._shape_targets(ys)
        self.reset_metrics()
        self._step(xs, ys, sw, training=False)
        return self._batch_result(return_dict)

    def _batch_result(self, return_dict: bool):
        logs = self._logs()
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names if k in logs]
        return values[0] if len(values) == 1 else values

    def predict_on_batch(self, x):
        """Outputs for one batch as NumPy arrays.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
            >>> m.predict_on_batch(np.zeros((4, 2))).shape
            (4, 3)
        """
        xs = self._prepare_x(x, method="predict_on_batch")
        self._ensure_built(xs)
        self._check_one_batch(xs, "predict_on_batch")
        results = [Tensor._wrap(o, False).numpy() for o in self._infer(xs)]
        return results[0] if len(results) == 1 else results

    def _infer(self, xs: list) -> list:
        """The outputs' arrays for one batch, without a graph; replayed from a recording when eligible."""
        if not self._infer_checked:  # decided once per structure: may inference be replayed?
            self._infer_checked = True
            eligible = self._jit_compile is not False and not self._run_eagerly and not _replay_refusal(self, with_loss=False)
            self._infer_plans = {} if eligible else None
        key, plan, record = _lookup_plan(self._infer_plans, xs)
        if plan is not None:
            return plan.run(xs)[1]
        with Tape(xs, self.weights) if record else contextlib.nullcontext() as tape, no_grad():
            outs = self._run(xs, training=False)
        if record:
            try:
                self._infer_plans[key] = Plan(tape, None, outs)
            except ValueError:
                self._infer_plans = None
        return [o.data for o in outs]

    def get_compile_config(self) -> dict | None:
        """The arguments given to ``compile``, as JSON (None before ``compile``); what ``save`` stores.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
            >>> m.get_compile_config()["loss"], m.get_compile_config()["optimizer"]["class_name"]
            ('mse', 'SGD')
        """
        if not self.compiled:
            return None
        return {
            "optimizer": saving.serialize_object(self.optimizer, "optimizer"),
            "loss": saving.serialize_object(self._compiled_loss.spec, "loss"),
            "loss_weights": saving.serialize_object(self._compiled_loss.weights_spec, "loss"),
            "metrics": saving.serialize_object(self._compiled_metrics.spec, "metric"),
            "weighted_metrics": saving.serialize_object(self._compiled_metrics.weighted_spec, "metric"),
            "run_eagerly": self._run_eagerly,
            "steps_per_execution": self.steps_per_execution,
            "jit_compile": self._jit_compile,
        }

    def compile_from_config(self, config: dict) -> None:
        """``compile`` with the arguments :meth:`get_compile_config` returned.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Dense(1)])
            >>> m.compile_from_config({"optimizer": "adam", "loss": "mse"})
            >>> m.optimizer.name
            'adam'
        """
        if not isinstance(config, dict):
            raise TypeError(f"compile_from_config expects a dict, got {type(config).__name__}")
        weights = config.get("loss_weights")
        values = weights.values() if isinstance(weights, dict) else weights if isinstance(weights, list) else [weights]
        if not all(w is None or (isinstance(w, (int, float)) and not isinstance(w, bool)) for w in values):
            raise TypeError(f"compile_from_config: loss_weights must be numbers (a list or dict of them), got {weights!r}")
        self.compile(
            optimizer=saving.deserialize_object(config.get("optimizer", "rmsprop"), "optimizer"),
            loss=saving.deserialize_object(config.get("loss"), "loss"),
            loss_weights=config.get("loss_weights"),
            metrics=saving.deserialize_object(config.get("metrics"), "metric"),
            weighted_metrics=saving.deserialize_object(config.get("weighted_metrics"), "metric"),
            run_eagerly=config.get("run_eagerly", False),
            steps_per_execution=config.get("steps_per_execution", 1),
            jit_compile=config.get("jit_compile", "auto"),
        )


# ---------------------------------------------------------------------------- which steps may be replayed
def _lookup_plan(plans: dict | None, arrays: list) -> tuple:
    """(key, the recorded plan or None, whether to record this batch) for a batch of ``arrays``.

    Nothing is replayed or recorded when ``plans`` is None (replay is off or refused) or while
    ``detect_anomaly`` watches every primitive (a replay would bypass its hook).
    """
    if plans is None or tensor_module._anomaly_hook is not None:
        return None, None, False
    key = tuple((a.shape, a.dtype) for a in arrays)
    plan = plans.get(key)
    return key, plan, plan is None


def _replay_refusal(model: Trainer, with_loss: bool = True) -> str:
    """Why ``model``'s steps must not be replayed from a recording ('' when they may be).

    A recording holds the primitives one step ran; it stays right only if no Python code in
    the step looks at data values to decide what to compute. That holds for myelin's own
    layers, activations, losses and regularizers, and is not known for user code.
    """
    from .. import activations, regularizers  # noqa: PLC0415

    own_regularizers = (regularizers.L1, regularizers.L2, regularizers.L1L2)
    stack = [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, Trainer):
            if not layer._graph_replayable():
                return f"model {layer.name!r} has its own call()"
            stack.extend(layer.layers)
            continue
        if not replay_safe(layer):
            return f"layer {layer.name!r} ({type(layer).__name__}) is not one of myelin's own"
        act = getattr(layer, "activation", None)
        if act is not None and getattr(act, "__module__", None) != activations.__name__:
            return f"layer {layer.name!r} uses a custom activation"
        for reg, _ in layer._regularizers:
            if type(reg) not in own_regularizers:
                return f"layer {layer.name!r} uses a custom regularizer"
        if layer.activity_regularizer is not None and type(layer.activity_regularizer) not in own_regularizers:
            return f"layer {layer.name!r} uses a custom activity regularizer"
    for loss in model._compiled_loss.losses if with_loss and model._compiled_loss is not None else ():
        fn = loss.fn if isinstance(loss, losses.LossFunctionWrapper) else None
        if type(loss).__module__ != losses.__name__ or (fn is not None and getattr(fn, "__module__", None) != losses.__name__):
            return f"loss {loss.name!r} is not one of myelin's own"
        if loss.reduction == "mean_with_sample_weight":
            return "reduction 'mean_with_sample_weight' depends on the weights' sum"
    return ""
