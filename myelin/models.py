"""Level 5: ``Model`` and ``Sequential``: compile, fit, evaluate, predict, summary.

This is the one home of the training loop. One training step::

    outputs = model(x_batch, training=True)           # forward, recording the graph
    loss = compiled_loss(y_batch, outputs) + penalties
    loss.backward()                                    # gradients of every trainable weight
    optimizer.step(weights); optimizer.zero_grad()     # in-place update over one flat buffer

Validation, ``evaluate`` and ``predict`` run under ``no_grad``: no graph is built.

Three ways to make a model, as in Keras:

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> seq = myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    >>> x = layers.Input(shape=(4,))
    >>> functional = myelin.Model(x, layers.Dense(3)(x))
    >>> class Subclassed(myelin.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = layers.Dense(8, activation="relu")
    ...         self.out = layers.Dense(3)
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
"""

from __future__ import annotations

import contextlib
import functools
import math
import signal
import sys
import threading
import warnings

import numpy as np

from . import backend, data, debugging, losses, ops, optimizers, saving
from . import callbacks as callbacks_module
from . import explain as explain_module
from . import metrics as metrics_module
from . import tensor as tensor_module
from .layers.base import REGISTRY as LAYERS
from .layers.base import InputLayer, Layer, SymbolicTensor, _shape_str, replay_safe
from .tape import Plan, Tape
from .tensor import Tensor, no_grad

# Samples per batch when evaluating or predicting without a batch_size (Keras uses 32). A
# batch's outputs do not depend on the others in it, so larger batches change nothing but
# the speed (fewer Python steps, better matrix-product efficiency) and float rounding in
# the averaged metrics.
INFERENCE_BATCH = 1024


def _thread_policy(method):
    """Run ``fit``/``evaluate``/``predict`` under myelin's BLAS thread policy (``backend.thread_policy``).

    Each matrix product then picks its thread count by its size, the cores of this machine
    shared with any other MPI process of a data-parallel run; the caller's setting is
    restored afterwards, and an explicit setting of the user's wins (``docs/performance.md``).
    """

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with backend.thread_policy(workers=_data_workers(args, kwargs), processes=_local_processes()):
            return method(self, *args, **kwargs)

    return run


def _data_workers(args, kwargs) -> int:
    """Data-loading workers that run beside the step (a PyDataset's ``workers``); 0 for arrays."""
    x = kwargs.get("x", args[0] if args else None)
    workers = getattr(x, "workers", 0)  # Keras's PyDataset attribute; arrays have none
    return workers if isinstance(workers, int) and not isinstance(workers, bool) else 0


def _local_processes() -> int:
    """Processes of a data-parallel run on this machine (1 without one); never imports mpi4py."""
    world = sys.modules.get("myelin.distribution.world")
    return world.local_size() if world is not None else 1


class Model(Layer):
    """A trainable network: a functional graph ``Model(inputs, outputs)`` or a subclass with ``call``.

    Example:
        >>> from myelin import layers
        >>> inputs = layers.Input(shape=(2,))
        >>> model = Model(inputs, layers.Dense(1)(inputs), name="tiny")
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.zeros((8, 2)), np.zeros(8), epochs=2, verbose=0)
        >>> len(history.history["loss"])
        2
    """

    # Set by fit for its duration: whether a non-finite loss stops training (before its update),
    # and the value that did. Set by a callback (BackupAndRestore) in on_train_begin: where to
    # resume, as (epoch, batches of that epoch already done).
    _stop_on_nonfinite = False
    _nonfinite_loss = None
    _resume_at = None

    def __init__(self, inputs=None, outputs=None, name: str | None = None, trainable: bool = True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._functional = False
        self._compiled_loss = None
        self._compiled_metrics = None
        self._step_hooks: list = []  # called as hook(xs, weights) between backward() and the optimizer step
        self._jit_compile, self._run_eagerly = "auto", False
        self._infer_plans, self._infer_checked = None, False
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError(f"Model {self.name!r}: give both inputs and outputs for a functional model")
            self._init_functional(inputs, outputs)

    # ------------------------------------------------------------------ structure
    def _init_functional(self, inputs, outputs) -> None:
        self._single_input = not isinstance(inputs, (list, tuple, dict))
        self._single_output = not isinstance(outputs, (list, tuple, dict))
        self.inputs = list(inputs.values() if isinstance(inputs, dict) else inputs) if not self._single_input else [inputs]
        self.outputs = (
            list(outputs.values() if isinstance(outputs, dict) else outputs) if not self._single_output else [outputs]
        )
        for t in self.inputs + self.outputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(
                    f"Model {self.name!r}: inputs and outputs must come from myelin.Input(...) and layers called "
                    f"on it, got {t!r}"
                )
        for t in self.inputs:
            if not isinstance(t.layer, InputLayer):
                raise ValueError(f"Model {self.name!r}: every input must be made by myelin.Input(...), got {t!r}")
        # Nodes in topological order: each layer call, after the calls that feed it.
        nodes, seen = [], {id(t) for t in self.inputs}
        stack = [(t, False) for t in reversed(self.outputs)]
        while stack:
            t, expanded = stack.pop()
            if id(t) in seen and not expanded:
                continue
            if expanded:
                nodes.append((t.layer, [id(i) for i in t.inputs], id(t)))
                seen.add(id(t))
                continue
            if t.layer is None or isinstance(t.layer, InputLayer):
                raise ValueError(f"Model {self.name!r}: output {t!r} depends on an input that is not among the model's inputs")
            stack.append((t, True))
            stack.extend((i, False) for i in reversed(t.inputs) if id(i) not in seen)
        self._nodes = nodes
        ordered = [t.layer for t in self.inputs] + [layer for layer, _, _ in nodes]
        self._graph_layers = list(dict.fromkeys(ordered))
        for layer in self._graph_layers:
            if layer not in self._sublayers:
                self._sublayers.append(layer)
        self._functional = True
        self.built = True
        self._build_input_shape = self.inputs[0].shape
        self.output_shape = self.outputs[0].shape if self._single_output else [o.shape for o in self.outputs]

    @property
    def layers(self) -> list[Layer]:
        """The model's layers: a functional model's in graph order (inputs first), a subclass's as assigned."""
        if self._functional:
            return list(self._graph_layers)
        return list(self._sublayers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by position in ``layers``.

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Dense(2, name="hidden")])
            >>> m.get_layer("hidden").name
            'hidden'
        """
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"Model {self.name!r} has no layer named {name!r}; its layers are {[lyr.name for lyr in self.layers]}"
        )

    @property
    def input_shape(self):
        if self._functional:
            return self.inputs[0].shape if self._single_input else [t.shape for t in self.inputs]
        return self._build_input_shape

    def call(self, inputs, training: bool = False):
        if not self._functional:
            raise NotImplementedError(
                f"Model {self.name!r}: a subclass of Model must define call(self, inputs, training=False); "
                "or build a model with Model(inputs, outputs) or Sequential([...])"
            )
        xs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if len(xs) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} input(s), got {len(xs)}")
        values = {id(sym): x for sym, x in zip(self.inputs, xs)}
        for layer, inputs_ids, out_id in self._nodes:
            args = [values[i] for i in inputs_ids]
            values[out_id] = layer(args[0] if len(args) == 1 else args, training=training)
        outs = [values[id(o)] for o in self.outputs]
        return outs[0] if self._single_output else outs

    def build(self, input_shape) -> None:
        """Create every weight for inputs of ``input_shape`` (batch axis None).

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Dense(4)]); m.build((None, 3)); m.count_params()
            16
        """
        if self._functional or self.built:
            return
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        probes = [
            Tensor(np.zeros((1,) + tuple(1 if d is None else d for d in s[1:]), dtype=self.compute_dtype)) for s in shapes
        ]
        with no_grad():
            out = self.call(probes[0] if len(probes) == 1 else probes, training=False)
        outs = out if isinstance(out, (list, tuple)) else [out]
        shapes_out = [(None,) + tuple(o.shape[1:]) for o in outs]
        self.output_shape = shapes_out[0] if len(shapes_out) == 1 else shapes_out

    _builds_from_every_input = True

    def _maybe_build(self, shape) -> None:
        """Build from one input's shape, or from the list of shapes of several inputs.

        A subclassed model whose ``call`` takes a list of inputs records the list, so that
        its inputs are checked and the model is rebuilt from a saved file input by input.
        """
        several = isinstance(shape, list) and len(shape) > 1
        if isinstance(self._build_input_shape, list):  # built on several inputs: the count must match
            given = len(shape) if isinstance(shape, list) else 1
            if given != len(self._build_input_shape):
                raise ValueError(f"Model {self.name!r} expects {len(self._build_input_shape)} inputs, got {given}")
            return
        if not several or self.built:  # one input, or a model built on one shape: the first input is checked
            super()._maybe_build(tuple(shape[0]) if isinstance(shape, list) else shape)
            return
        shapes = [(None,) + tuple(s[1:]) for s in shape]
        self.build(shapes)
        self.built = True
        self._build_input_shape = shapes

    def _ensure_built(self, xs: list) -> None:
        if self.built:
            self._check_model_input(xs)
            return
        shapes = [(None,) + tuple(a.shape[1:]) for a in xs]
        self._maybe_build(shapes[0] if len(xs) == 1 else shapes)

    def _check_model_input(self, xs: list) -> None:
        expected = self.input_shape if self._functional else self._build_input_shape
        if expected is None:
            return
        expected = expected if isinstance(expected, list) else [expected]
        if len(expected) != len(xs):
            raise ValueError(f"Model {self.name!r} expects {len(expected)} input array(s), got {len(xs)}")
        for i, (exp, arr) in enumerate(zip(expected, xs)):
            got = arr.shape
            if len(exp) != len(got) or any(e is not None and e != g for e, g in zip(exp[1:], got[1:])):
                which = "x" if len(xs) == 1 else f"x[{i}]"
                raise ValueError(
                    f"Model {self.name!r} expects input of shape {_shape_str(exp)} (batch first), but {which} has "
                    f"shape {got}: each sample must have shape {tuple(exp[1:])}"
                )

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
        ``run_eagerly=True`` turn it off. ``steps_per_execution`` and ``auto_scale_loss`` are
        accepted for Keras compatibility.

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Dense(3, activation="softmax")])
            >>> m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        """
        if loss is None:
            raise ValueError(f"Model {self.name!r}: compile() needs a loss, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers.get(optimizer)
        self._compiled_loss = _CompiledLoss(loss, loss_weights)
        self._compiled_metrics = _CompiledMetrics(metrics, weighted_metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"compile: jit_compile must be 'auto', True or False, got {jit_compile!r}")
        self._jit_compile, self._run_eagerly = jit_compile, bool(run_eagerly)
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
        """[name, {variable: value}] per tracker, JSON-ready (BackupAndRestore saves it mid-epoch)."""
        out = []
        for m in self._log_trackers():
            values = {k: getattr(m, k) for k in m._additive_state}
            out.append([m.name, {k: v.tolist() if hasattr(v, "tolist") else float(v) for k, v in values.items()}])
        return out

    def _add_tracker_state(self, saved: list) -> None:
        """Add a saved ``_tracker_state`` to the trackers, matched by position and name (sums add up)."""
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

    def _output_names(self, n: int) -> list[str]:
        if self._functional:
            return [o.layer.name for o in self.outputs]
        return [f"output_{i + 1}" for i in range(n)] if n > 1 else ["output"]

    def _step(self, xs: list, ys: list, sw, training: bool) -> float:
        """One batch: forward, loss, and (training) backward and update; then the trackers.

        Eligible models record their first step of each batch shape on a ``Tape`` and replay
        it afterwards (``myelin.tape``): same primitives, same order, same results, without
        the Python work of layers, losses and graph bookkeeping.
        """
        dynamic = xs + ys if sw is None else xs + ys + [sw]
        key, plan, record = _lookup_plan(self._plans if training else self._test_plans, dynamic)
        if plan is not None:
            loss, values, grads = plan.run(dynamic, backward=training)
            for w, g in zip(plan.weights, grads):
                w.grad = g
        else:
            plans = self._plans if training else self._test_plans
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
                total.backward()
            loss, values = total.data, [t.data for t in watched]
        value = float(loss)
        if training:
            if self._stop_on_nonfinite and not math.isfinite(value):
                self._nonfinite_loss = value  # fit explains it and stops; this batch's update is not applied
                for w in self._train_params:
                    w.grad = None
                return value
            if self._step_hooks:  # e.g. callbacks.Diagnostics reading the gradients
                for hook in self._step_hooks:
                    hook(xs, self._train_params)
            self.optimizer.step(self._train_params)
            self.optimizer.zero_grad()
        n = len(xs[0])
        self._loss_tracker.add(value * n, n)
        n_out = len(values) - len(self._compiled_loss.last_values)
        self._compiled_loss.track(values[n_out:], n)
        self._compiled_metrics.update(ys, values[:n_out], sw, self._compiled_loss, self._output_names(n_out))
        return value

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
        logs = {"loss": self._loss_tracker.result()}
        logs.update(self._compiled_loss.results())
        logs.update(self._compiled_metrics.results())
        return logs

    # ------------------------------------------------------------------ data handling
    def _prepare_x(self, x, name: str = "x", check_finite: bool = True, method: str = "fit") -> list:
        specs = self._input_specs()
        declared = None if specs is None else [d for d, _, _ in specs]
        if self._functional:
            x = self._inputs_by_name(x, name)
        xs = data.to_arrays(x, name, allow_strings=declared is not None and "string" in declared)
        if not xs:
            raise ValueError(f"Model {self.name!r}: {name} is required")
        dtype = self.compute_dtype
        if declared is None or len(declared) != len(xs):
            xs = [data.cast_features(data.to_array(a, name), dtype) for a in xs]
        else:
            labels = [name] if len(xs) == 1 else [f"{name}[{n!r}]" for _, _, n in specs]
            xs = [data.cast_input(a, d, dtype, lab) for a, d, lab in zip(xs, declared, labels)]
            # A column (n,) for an input of shape (None, 1), as Keras accepts it.
            xs = [a.reshape(-1, 1) if a.ndim == 1 and tuple(shape[1:]) == (1,) else a for a, (_, shape, _) in zip(xs, specs)]
        n = data.num_samples(xs, name)
        if n == 0:
            raise ValueError(f"Model {self.name!r}: {name} is empty (0 samples)")
        if check_finite:
            columns = list(x.columns) if len(xs) == 1 and hasattr(x, "columns") else None
            for i, a in enumerate(xs):
                data.check_finite(a, name if len(xs) == 1 else f"{name}[{i}]", columns, method)
        return xs

    def _input_specs(self) -> list[tuple] | None:
        """(declared dtype or None, shape, name) per model input, when the model declares its inputs."""
        if self._functional:
            return [(t.layer.dtype, t.shape, t.layer.name) for t in self.inputs]
        layer = getattr(self, "_input_layer", None)
        if layer is not None:
            return [(layer.dtype, (None,) + tuple(layer.batch_shape[1:]), layer.name)]
        return None

    def _inputs_by_name(self, x, name: str):
        """A dict keyed by input names (or a DataFrame holding them as columns) as a list in input order."""
        names = [t.layer.name for t in self.inputs]
        if hasattr(x, "columns") and hasattr(x, "to_numpy") and len(names) > 1 and set(names) <= set(x.columns):
            return [x[n] for n in names]
        if isinstance(x, dict) and set(names) <= set(x):
            return [x[n] for n in names]
        if isinstance(x, dict) and len(x) == len(names) and set(x) != set(names):
            missing = [n for n in names if n not in x]
            raise ValueError(f"Model {self.name!r}: {name} has no entry for input(s) {missing}; the inputs are {names}")
        return x

    def _prepare_xy(
        self, x, y, sample_weight=None, class_weight=None, what: str = "", check_finite: bool = True, method: str = "fit"
    ) -> tuple:
        xs = self._prepare_x(x, f"x{what}", check_finite, method)
        if y is None:
            raise ValueError(f"Model {self.name!r}: y{what} is required (the targets to learn)")
        ys = [data.cast_targets(a, self.compute_dtype) for a in data.to_arrays(y, f"y{what}")]
        nx, ny = data.num_samples(xs, f"x{what}"), data.num_samples(ys, f"y{what}")
        if nx != ny:
            raise ValueError(f"Model {self.name!r}: x{what} has {nx} samples but y{what} has {ny}; they must match")
        if check_finite:
            for i, a in enumerate(ys):
                data.check_finite(a, f"y{what}" if len(ys) == 1 else f"y{what}[{i}]", None, method)
        sw = None
        if sample_weight is not None:
            sw = np.asarray(data.to_array(sample_weight, "sample_weight"), dtype=np.float64)
            if len(sw) != nx:
                raise ValueError(f"sample_weight{what} has {len(sw)} values for {nx} samples; give one per sample")
            sw = sw.reshape(nx, -1)[:, 0]
            data.check_finite(sw, f"sample_weight{what}", None, method)
        if class_weight is not None:
            cw = data.class_weights_to_sample_weights(ys[0], class_weight)
            sw = cw if sw is None else sw * cw
        if sw is not None:
            sw = sw.astype(self.compute_dtype)
        return xs, ys, sw

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

    def _output_label(self, i: int) -> str:
        layer = self._output_layer(i)
        return f"output layer {layer.name!r}" if layer is not None else f"output {i}"

    def _output_layer(self, i: int):
        if self._functional:
            return self.outputs[i].layer
        if isinstance(self, Sequential) and self._stack:
            return self._stack[-1]
        return None

    def _shape_targets(self, ys: list) -> list:
        """Give (n,) targets of a one-unit output their trailing axis, once, before the batches."""
        shapes = self.output_shape if isinstance(self.output_shape, list) else [self.output_shape]
        return [
            y[..., None] if s is not None and y.ndim == len(s) - 1 and s[-1] == 1 else y
            for y, s in zip(ys, shapes + [None] * (len(ys) - len(shapes)))
        ]

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
        batch_size = self._check_batch_size(batch_size)
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)):
            raise TypeError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if not isinstance(validation_freq, int) or validation_freq < 1:
            raise ValueError(f"validation_freq must be a positive integer, got {validation_freq!r}")
        xs, ys, sw = self._prepare_xy(x, y, sample_weight, class_weight, check_finite=check_finite)
        val = None
        if validation_data is not None:
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
        self._ensure_built(xs)
        self._check_targets(ys)
        ys = self._shape_targets(ys)
        if val is not None:
            self._check_model_input(val[0])
            self._check_targets(val[1], "_val")
            val = (val[0], self._shape_targets(val[1]), val[2])
        n = len(xs[0])
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        verbose = 1 if verbose == "auto" else int(verbose)
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
        gen = backend.rng()

        self._stop_on_nonfinite, self._nonfinite_loss = on_nonfinite_loss != "continue", None
        ctrl_c = _StopAtBatchEnd()
        epoch = step = 0
        cbs.on_train_begin()
        initial_epoch, skip = self._resume_at or (initial_epoch, 0)  # a callback may resume an interrupted run
        self._resume_at = None
        logs: dict = {}
        try:
            with ctrl_c:
                for epoch in range(initial_epoch, epochs):
                    self.reset_metrics()
                    cbs.on_epoch_begin(epoch)
                    for step, idx in enumerate(data.batch_indices(n, batch_size, shuffle, gen)):
                        if step >= steps:
                            break
                        if step < skip:
                            continue
                        if want_begin:
                            cbs.batch("on_train_batch_begin", step)
                        xb = [a[idx] for a in xs]
                        yb = [a[idx] for a in ys]
                        swb = None if sw is None else sw[idx]
                        self._step(xb, yb, swb, training=True)
                        if self._nonfinite_loss is not None:
                            self._nonfinite_stop(on_nonfinite_loss, xb, yb, swb, epoch, step, epochs, steps)
                            break
                        if want_end:
                            cbs.batch("on_train_batch_end", step, self._logs())
                        if self.stop_training or ctrl_c.requested:
                            break
                    skip = 0
                    if ctrl_c.requested:
                        raise KeyboardInterrupt(_interrupted(epoch, step, epochs, steps))
                    logs = self._logs()
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        vbs = self._check_batch_size(validation_batch_size, max(batch_size, INFERENCE_BATCH))
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
        return history

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
        self.reset_metrics()
        n = len(xs[0])
        cbs.on_test_begin()
        want_end = cbs.wants("on_test_batch_end")
        for step, idx in enumerate(data.batch_indices(n, batch_size)):
            if steps is not None and step >= steps:
                break
            self._step([a[idx] for a in xs], [a[idx] for a in ys], None if sw is None else sw[idx], training=False)
            if want_end:
                cbs.batch("on_test_batch_end", step, self._logs())
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
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
            >>> loss, mae = m.evaluate(np.zeros((4, 2)), np.zeros(4), verbose=0)
        """
        self._assert_compiled("evaluate")
        batch_size = self._check_batch_size(batch_size, INFERENCE_BATCH)
        xs, ys, sw = self._prepare_xy(x, y, sample_weight, check_finite=check_finite, method="evaluate")
        self._ensure_built(xs)
        self._check_targets(ys)
        ys = self._shape_targets(ys)
        verbose = 1 if verbose == "auto" else int(verbose)
        n_steps = math.ceil(len(xs[0]) / batch_size) if steps is None else int(steps)
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.insert(0, callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(cb_list, model=self, params={"verbose": verbose, "steps": n_steps, "mode": "test"})
        logs = self._evaluate_arrays(xs, ys, sw, batch_size, cbs, steps)
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
            >>> m = Sequential([layers.Input(shape=(3,)), layers.Dense(2, activation="softmax")])
            >>> m.predict(np.zeros((5, 3)), verbose=0).shape
            (5, 2)
        """
        batch_size = self._check_batch_size(batch_size, INFERENCE_BATCH)
        xs = self._prepare_x(x, check_finite=check_finite, method="predict")
        self._ensure_built(xs)
        n = len(xs[0])
        verbose = 1 if verbose == "auto" else int(verbose)
        n_steps = math.ceil(n / batch_size) if steps is None else min(int(steps), math.ceil(n / batch_size))
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.insert(0, callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(
            cb_list, model=self, params={"verbose": verbose, "steps": n_steps, "mode": "predict"}
        )
        want_end = cbs.wants("on_predict_batch_end")
        cbs.on_predict_begin()
        results = None
        stop = min(n, n_steps * batch_size)
        for step, idx in enumerate(data.batch_indices(stop, batch_size)):
            outs = self._infer([a[idx] for a in xs])
            if results is None:  # one output buffer per output, filled in place
                kinds = [object if o.dtype.kind in "US" else o.dtype for o in outs]  # strings of any length
                results = [backend.array_module(o).empty((stop,) + o.shape[1:], dtype=k) for o, k in zip(outs, kinds)]
            for buf, o in zip(results, outs):
                buf[idx] = o
            if want_end:
                cbs.batch("on_predict_batch_end", step, {"outputs": outs})
        cbs.on_predict_end()
        results = [Tensor._wrap(r, False).numpy() for r in results]
        return results[0] if len(results) == 1 else results

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One gradient step on one batch; returns that batch's loss (and metrics).

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> loss = m.train_on_batch(np.ones((4, 2)), np.ones(4))
        """
        self._assert_compiled("train_on_batch")
        xs, ys, sw = self._prepare_xy(x, y, sample_weight, class_weight, method="train_on_batch")
        self._ensure_built(xs)
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
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> m.test_on_batch(np.zeros((4, 2)), np.zeros(4))
            0.0
        """
        self._assert_compiled("test_on_batch")
        xs, ys, sw = self._prepare_xy(x, y, sample_weight, method="test_on_batch")
        self._ensure_built(xs)
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
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
            >>> m.predict_on_batch(np.zeros((4, 2))).shape
            (4, 3)
        """
        xs = self._prepare_x(x, method="predict_on_batch")
        self._ensure_built(xs)
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

    # ------------------------------------------------------------------ config and files
    def get_config(self) -> dict:
        """The constructor arguments; for a functional model, its layers and the graph that connects them.

        Nodes name the layers they call and the (layer, call) pairs they read, so shared
        layers and several inputs and outputs round-trip. A subclassed model returns
        ``name`` and ``trainable``; override ``get_config`` to add your constructor's arguments.

        Example:
            >>> from myelin import layers
            >>> x = layers.Input(shape=(2,), name="x")
            >>> m = Model(x, layers.Dense(1, name="y")(x))
            >>> m.get_config()["nodes"]
            [{'layer': 'y', 'inputs': [['x', 0]]}]
        """
        if not self._functional:
            return super().get_config()
        names = [layer.name for layer in self._graph_layers]
        if len(set(names)) != len(names):
            raise ValueError(f"Model {self.name!r}: layer names must be unique to save the model; they are {names}")
        refs = {id(t): [t.layer.name, 0] for t in self.inputs}
        calls: dict[int, int] = {}
        nodes = []
        for layer, input_ids, out_id in self._nodes:
            k = calls.get(id(layer), 0)
            calls[id(layer)] = k + 1
            refs[out_id] = [layer.name, k]
            nodes.append({"layer": layer.name, "inputs": [refs[i] for i in input_ids]})
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [saving.serialize_layer(layer) for layer in self._graph_layers],
            "nodes": nodes,
            "inputs": [refs[id(t)] for t in self.inputs],
            "outputs": [refs[id(t)] for t in self.outputs],
            "single_input": self._single_input,
            "single_output": self._single_output,
        }

    @classmethod
    def from_config(cls, config: dict) -> Model:
        """Rebuild from :meth:`get_config`: a functional graph, or a subclass from its constructor arguments.

        Example:
            >>> from myelin import layers
            >>> x = layers.Input(shape=(2,))
            >>> m = Model(x, layers.Dense(1)(x))
            >>> Model.from_config(m.get_config()).output_shape
            (None, 1)
        """
        if "nodes" not in config:
            try:
                return cls(**config)
            except TypeError:
                if set(config) - {"name", "trainable", "dtype"}:
                    raise
                model = cls()  # a subclass whose constructor takes no arguments (the usual case)
                model.name = config.get("name", model.name)
                model.trainable = config.get("trainable", True)
                return model
        return _functional_from_config(cls, config)

    def get_compile_config(self) -> dict | None:
        """The arguments given to ``compile``, as JSON (None before ``compile``); what ``save`` stores.

        Example:
            >>> from myelin import layers
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
        }

    def compile_from_config(self, config: dict) -> None:
        """``compile`` with the arguments :meth:`get_compile_config` returned.

        Example:
            >>> from myelin import layers
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
        )

    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save the whole model to one ``.myelin`` file, atomically (see ``myelin.saving``).

        Architecture, compile settings, weights and the optimizer's state: the model loaded
        by ``myelin.models.load_model`` predicts identically and continues training exactly.
        A failed or interrupted save leaves any previous file at ``filepath`` intact.

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.save("model.myelin")  # doctest: +SKIP
        """
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights only, atomically; ``load_weights`` matches them by layer order and shape.

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.save_weights("model.weights.myelin")  # doctest: +SKIP
        """
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights from any myelin file, matched by layer order and shape (clear error on mismatch).

        Example:
            >>> m.load_weights("model.weights.myelin")  # doctest: +SKIP
        """
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    # ------------------------------------------------------------------ export
    def export(self, filepath, format: str = "onnx", verbose: bool = False, input_signature=None, **kwargs) -> None:  # noqa: A002
        """Write the model for serving; ``format="onnx"`` (Keras 3's call) is what myelin writes.

        The ONNX file (opset 17; ``ai.onnx.ml`` 3 for lookup layers) takes the model's inputs
        by name with a dynamic ``"batch"`` first axis; ``opset_version=`` picks another opset
        (13 or later). ``input_signature`` is not needed (the model knows its input shapes)
        and must be None. Needs ``pip install 'myelin[onnx]'``; see :mod:`myelin.onnx`.

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
            >>> m.export("model.onnx", format="onnx")  # doctest: +SKIP
        """
        if format != "onnx":
            raise ValueError(f"Model {self.name!r}: export format {format!r} is not available; myelin exports format='onnx'")
        if input_signature is not None:
            raise ValueError(f"Model {self.name!r}: export() takes its input shapes from the model; pass input_signature=None")
        unknown = set(kwargs) - {"opset_version"}
        if unknown:
            raise TypeError(f"Model {self.name!r}: export() got unexpected argument(s) {', '.join(sorted(unknown))}")
        from . import onnx  # noqa: PLC0415  (level 6, and the optional onnx package, only when exporting)

        onnx.export(self, filepath, opset_version=kwargs.get("opset_version"))
        if verbose:
            print(f"Saved the model as ONNX at {filepath}")

    # ------------------------------------------------------------------ explain
    def explain(self, x, y=None, class_names=None, loss=None, check_finite: bool = True) -> explain_module.Explanation:
        """Walk one sample (or a small batch) through the network, layer by layer; see :mod:`myelin.explain`.

        Returns an ``Explanation``: ``print()`` it for the weighted sums, activations and class
        probabilities of each layer (and, with ``y``, the loss and every gradient of the
        backward pass); index it by layer name, or call ``to_dict()``, for the arrays.

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(3, activation="softmax", name="out")])
            >>> m.explain([1.0, 2.0], class_names=["a", "b", "c"])["out"]["output"].shape
            (1, 3)
        """
        return explain_module.explain(self, x, y=y, class_names=class_names, loss=loss, check_finite=check_finite)

    # ------------------------------------------------------------------ summary
    def summary(
        self,
        line_length: int | None = None,
        positions=None,
        print_fn=None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range=None,
    ) -> None:
        """Print a table of the layers (name and type, output shape, parameter count) and the totals.

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(4,)), layers.Dense(2)])
            >>> m.summary(print_fn=lambda line: None)
        """
        print_fn = print_fn or print
        rows = _summary_rows(self, expand_nested, "")
        if layer_range is not None:
            names = [r[0].split(" (")[0].strip() for r in rows]
            start, stop = names.index(layer_range[0]), names.index(layer_range[1]) + 1
            rows = rows[start:stop]
        headers = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
        if self._functional and not self._is_chain():
            headers.insert(3, "Connected to")
            conn = self._connections()
            rows = [r[:3] + (conn.get(r[0], ""),) + r[3:] for r in rows]
        line_length = line_length or (98 if len(headers) > 3 else 77)
        positions = positions or ([0.34, 0.62, 0.78, 1.0] if len(headers) == 4 else [0.45, 0.75, 1.0])
        if len(positions) < len(headers):
            positions = list(positions) + [1.0] * (len(headers) - len(positions))
        widths, prev = [], 0
        for p in positions[: len(headers)]:
            edge = int(p * line_length) if p <= 1 else int(p)
            widths.append(max(edge - prev - 3, 8))
            prev = edge
        right = {2}

        def fmt(cells):
            parts = []
            for i, (cell, w) in enumerate(zip(cells, widths)):
                text = str(cell)
                text = text if len(text) <= w else text[: w - 1] + "…"
                parts.append(text.rjust(w) if i in right else text.ljust(w))
            return parts

        def border(left, mid, r, fill):
            return left + mid.join(fill * (w + 2) for w in widths) + r

        print_fn(f'Model: "{self.name}"')
        print_fn(border("┏", "┳", "┓", "━"))
        print_fn("┃ " + " ┃ ".join(fmt(headers)) + " ┃")
        print_fn(border("┡", "╇", "┩", "━"))
        for i, row in enumerate(rows):
            print_fn("│ " + " │ ".join(fmt(row)) + " │")
            print_fn(border("├", "┼", "┤", "─") if i < len(rows) - 1 else border("└", "┴", "┘", "─"))
        if not rows:
            print_fn(border("└", "┴", "┘", "─"))
        for label, count, size in self._param_totals():
            print_fn(f" {label}: {count:,} ({size})")

    def _param_totals(self) -> list[tuple[str, int, str]]:
        """(label, count, size) for the summary's closing lines."""
        total = self.count_params()
        trainable = int(sum(w.size for w in self.trainable_weights))
        itemsize = np.dtype(self.compute_dtype).itemsize
        lines = [
            ("Total params", total, _bytes(total * itemsize)),
            ("Trainable params", trainable, _bytes(trainable * itemsize)),
            ("Non-trainable params", total - trainable, _bytes((total - trainable) * itemsize)),
        ]
        if self.optimizer is not None and self.optimizer.built:
            state = self.optimizer.get_state()
            count = int(sum(v.size for k, v in state.items() if k != "iterations")) + 2  # + iterations, learning rate
            lines.append(("Optimizer params", count, _bytes(count * itemsize)))
        return lines

    def _is_chain(self) -> bool:
        return (
            len(self.inputs) == 1
            and all(len(ins) == 1 for _, ins, _ in self._nodes)
            and len({i for _, ins, _ in self._nodes for i in ins}) == len(self._nodes)
        )

    def _connections(self) -> dict:
        producer = {id(t): t.layer.name for t in self.inputs}
        for layer, _, out_id in self._nodes:
            producer[out_id] = layer.name
        out = {}
        for layer, ins, _ in self._nodes:
            out[f"{layer.name} ({type(layer).__name__})"] = ", ".join(producer[i] for i in ins)
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"

    def _repr_html_(self) -> str:
        """Jupyter's view of a model: ``summary()`` as an HTML table (connections for a branching graph).

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(4,)), layers.Dense(2, name="out")])
            >>> "<td>out (Dense)</td><td>(None, 2)</td><td style='text-align:right'>10</td>" in m._repr_html_()
            True
        """
        import html  # noqa: PLC0415  (only for notebooks)

        rows = _summary_rows(self, False, "")
        headers = ["Layer (type)", "Output Shape", "Param #"]
        cells = [r[:3] for r in rows]
        if self._functional and not self._is_chain():
            headers.append("Connected to")
            conn = self._connections()
            cells = [r[:3] + (conn.get(r[0], ""),) for r in rows]
        right = " style='text-align:right'"
        head = "".join(f"<th{right if i == 2 else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers))
        body = "".join(
            "<tr>" + "".join(f"<td{right if i == 2 else ''}>{html.escape(str(c))}</td>" for i, c in enumerate(row)) + "</tr>"
            for row in cells
        )
        totals = "".join(f"<li>{label}: {count:,} ({size})</li>" for label, count, size in self._param_totals())
        return (
            f"<div><b>Model: {html.escape(self.name)}</b>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<ul style='list-style:none;padding-left:0'>{totals}</ul></div>"
        )


_LOSS_KINDS = {
    "MeanSquaredError": "mean_squared_error",
    "MeanAbsoluteError": "mean_absolute_error",
    "Huber": "huber",
    "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
}


def _loss_kind(loss) -> str | None:
    """The function name of one of myelin's own losses (by class or wrapped function); None for others."""
    if isinstance(loss, losses.LossFunctionWrapper):
        name = losses.REGISTRY.name_of(loss.fn)
        return name if name in _LOSS_KINDS.values() else None
    return _LOSS_KINDS.get(losses.REGISTRY.name_of(type(loss)) or "")


def _final_activation(layer):
    """The activation an output layer ends with (softmax for a Softmax layer), or None if unknown."""
    from . import activations  # noqa: PLC0415
    from .layers import Softmax  # noqa: PLC0415

    if isinstance(layer, Softmax):
        return activations.softmax
    return getattr(layer, "activation", None)


def _misfits(model: Model, n_out: int) -> list[str]:
    """Warnings for a loss and an output activation that do not fit each other, saying why."""
    from . import activations  # noqa: PLC0415

    out = []
    compiled = model._compiled_loss
    shapes = model.output_shape if isinstance(model.output_shape, list) else [model.output_shape]
    for i in range(n_out):
        loss, layer = compiled._losses[i], model._output_layer(i)
        if loss is None or layer is None:
            continue
        act, kind = _final_activation(layer), _loss_kind(loss)
        units = shapes[i][-1] if shapes[i] else None
        label, logits = f"output layer {layer.name!r}", getattr(loss, "from_logits", False)
        if act is activations.softmax and units == 1:
            out.append(
                f"{label} applies softmax to a single unit, which always gives 1.0: nothing can be learned. "
                "For two classes use Dense(1, activation='sigmoid') with binary_crossentropy."
            )
        elif kind in ("categorical_crossentropy", "sparse_categorical_crossentropy") and units == 1:
            out.append(
                f"{label} has a single unit but the loss is {kind}: over one class the loss is always 0 and nothing is "
                "learned. For two classes use Dense(1, activation='sigmoid') with binary_crossentropy, or "
                "Dense(2, activation='softmax')."
            )
        elif logits and act in (activations.softmax, activations.sigmoid):
            out.append(
                f"{label} applies {act.__name__}, but the loss has from_logits=True: it applies {act.__name__} a second "
                "time to these probabilities, so the loss is wrong and training slow. Remove the activation (keep "
                "from_logits=True) or use from_logits=False."
            )
        elif kind in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy") and not logits:
            wanted = activations.sigmoid if kind == "binary_crossentropy" else activations.softmax
            if act is not None and act not in (activations.softmax, activations.sigmoid):
                out.append(
                    f"{label} ends with {getattr(act, '__name__', act)}, not {wanted.__name__}, but {kind} expects "
                    "probabilities (from_logits=False): it takes the outputs as probabilities (normalised, clipped to "
                    "[1e-7, 1 - 1e-7]), which is meaningless for values that are not, and training goes wrong. "
                    f"Add activation='{wanted.__name__}' or pass from_logits=True to the loss."
                )
    return out


class _StopAtBatchEnd:
    """During ``fit``: the first Ctrl-C asks the loop to stop at the end of the batch; a second one stops at once.

    Only in the main thread, and only when SIGINT has Python's default handler (a program
    or notebook with its own handler keeps it; Ctrl-C then interrupts wherever it lands).
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            signal.default_int_handler(signum, frame)
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _interrupted(epoch: int, step: int, epochs: int, steps: int) -> str:
    return (
        f"training stopped by Ctrl-C after batch {step + 1}/{steps} of epoch {epoch + 1}/{epochs}; the model keeps "
        "the weights of that batch and model.history holds the epochs completed"
    )


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.2f} B"


def _summary_rows(model: Model, expand_nested: bool, indent: str) -> list[tuple]:
    rows = []
    for layer in model.layers:
        if isinstance(layer, InputLayer) and not model._functional:
            continue
        shape = layer.output_shape
        shape_text = (
            "?"
            if shape is None
            else (", ".join(_shape_str(s) for s in shape) if isinstance(shape, list) else _shape_str(shape))
        )
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        trainable = "Y" if layer.trainable else "N"
        rows.append((f"{indent}{layer.name} ({type(layer).__name__})", shape_text, params, trainable))
        if expand_nested and isinstance(layer, Model):
            rows.extend(_summary_rows(layer, True, indent + "  "))
    return rows


class Sequential(Model):
    """A plain stack of layers, each feeding the next.

    Example:
        >>> from myelin import layers
        >>> model = Sequential()
        >>> model.add(layers.Dense(64, activation="relu", input_shape=(784,)))
        >>> model.add(layers.Dense(10, activation="softmax"))
        >>> model.output_shape
        (None, 10)
    """

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    @property
    def input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.output_shape
        return self._build_input_shape

    def add(self, layer) -> None:
        """Append a layer (or an ``Input``/``InputLayer`` as the first entry)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer) and not layer.inputs:
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(f"Sequential {self.name!r}: an Input can only be the first entry")
            self._input_layer = layer
            self._build_from_input((None,) + layer.batch_shape[1:])
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential {self.name!r}: add() expects a Layer, got {type(layer).__name__}: {layer!r}")
        if any(layer.name == other.name for other in self._stack):
            raise ValueError(f"Sequential {self.name!r}: all layers need unique names; {layer.name!r} is already used")
        self._stack.append(layer)
        self._sublayers.append(layer)
        self._reset_plans()  # recordings describe the old stack
        if len(self._stack) == 1 and self._input_layer is None and layer.input_shape_hint is not None:
            self._build_from_input(layer.input_shape_hint)
        elif self.built:
            shape = self.output_shape
            layer._maybe_build(shape)
            self.output_shape = layer.output_shape = layer.compute_output_shape(shape)

    def get_config(self) -> dict:
        """Name, trainable, and each layer's registered class name and config (the Input first, if any).

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
            >>> [entry["class_name"] for entry in m.get_config()["layers"]]
            ['InputLayer', 'Dense']
        """
        stack = ([self._input_layer] if self._input_layer is not None else []) + self._stack
        config = {"name": self.name, "trainable": self.trainable, "layers": [saving.serialize_layer(lyr) for lyr in stack]}
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """Rebuild from :meth:`get_config` (layer names resolve through myelin's registries only).

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
            >>> Sequential.from_config(m.get_config()).output_shape
            (None, 2)
        """
        config = dict(config)
        entries = config.pop("layers", [])
        if not isinstance(entries, list):
            raise ValueError(f"Sequential config: 'layers' must be a list, got {type(entries).__name__}")
        return cls([saving.deserialize_layer(entry) for entry in entries], **config)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise IndexError(f"Sequential {self.name!r} has no layers to pop")
        layer = self._stack.pop()
        self._sublayers.remove(layer)
        self._reset_plans()
        self.output_shape = self._stack[-1].output_shape if self._stack else self.input_shape
        return layer

    def _build_from_input(self, shape: tuple) -> None:
        self._maybe_build(tuple(shape))

    def build(self, input_shape) -> None:
        shape = (None,) + tuple(input_shape[1:])
        for layer in self._stack:
            layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
            layer.output_shape = shape
        self.output_shape = shape

    def call(self, x, training: bool = False):
        for layer in self._stack:
            x = layer(x, training=training)
        return x


# ---------------------------------------------------------------------------- which steps may be replayed
def _lookup_plan(plans: dict | None, arrays: list) -> tuple:
    """(key, the recorded plan or None, whether to record this batch) for a batch of ``arrays``.

    Nothing is replayed or recorded when ``plans`` is None (replay is off or refused) or while
    ``detect_anomaly`` watches every primitive (a replay would bypass its hook).
    """
    if plans is None or tensor_module._anomaly_hook is not None:
        return None, None, False
    key = tuple((a.shape, a.dtype.str) for a in arrays)
    plan = plans.get(key)
    return key, plan, plan is None


def _replay_refusal(model: Model, with_loss: bool = True) -> str:
    """Why ``model``'s steps must not be replayed from a recording ('' when they may be).

    A recording holds the primitives one step ran; it stays right only if no Python code in
    the step looks at data values to decide what to compute. That holds for myelin's own
    layers, activations, losses and regularizers, and is not known for user code.
    """
    from . import activations, regularizers  # noqa: PLC0415

    own_regularizers = (regularizers.L1, regularizers.L2, regularizers.L1L2)
    stack = [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, Model):
            if type(layer) not in (Model, Sequential) or not (layer._functional or isinstance(layer, Sequential)):
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


# ---------------------------------------------------------------------------- compiled loss and metrics
def _per_output(spec, names: list[str], what: str) -> list:
    """Spread a loss/metrics spec over the outputs: one value for all, a list in order, or a dict by name."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"{what}: unknown output name(s) {sorted(unknown)}; the outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1 and len(spec) == len(names):
        return list(spec)
    return [spec] * len(names)


def _functional_from_config(cls, config: dict) -> Model:
    """Replay a functional model's graph: create its layers, call them in node order on symbolic inputs."""
    by_name: dict[str, Layer] = {}
    for entry in config["layers"]:
        layer = saving.deserialize_layer(entry)
        if layer.name in by_name:
            raise ValueError(f"functional config: two layers are named {layer.name!r}")
        by_name[layer.name] = layer
    tensors = {(name, 0): layer.output for name, layer in by_name.items() if isinstance(layer, InputLayer)}
    calls: dict[str, int] = {}

    def tensor(ref):
        if not (isinstance(ref, list) and len(ref) == 2 and tuple(ref) in tensors):
            raise ValueError(f"functional config: {ref!r} names no tensor produced before it")
        return tensors[tuple(ref)]

    for node in config["nodes"]:
        name = node["layer"]
        if name not in by_name or isinstance(by_name[name], InputLayer):
            raise ValueError(f"functional config: node calls {name!r}, which is not a layer of the model")
        args = [tensor(ref) for ref in node["inputs"]]
        if not args:
            raise ValueError(f"functional config: node of {name!r} has no inputs")
        k = calls.get(name, 0)
        calls[name] = k + 1
        tensors[(name, k)] = by_name[name](args[0] if len(args) == 1 else args)
    inputs = [tensor(ref) for ref in config["inputs"]]
    outputs = [tensor(ref) for ref in config["outputs"]]
    if not inputs or not outputs:
        raise ValueError("functional config: a model needs at least one input and one output")
    single_in, single_out = config.get("single_input", True), config.get("single_output", True)
    return cls(
        inputs[0] if single_in and len(inputs) == 1 else inputs,
        outputs[0] if single_out and len(outputs) == 1 else outputs,
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )


class _CompiledLoss:
    """The compiled loss: one ``Loss`` per output, weighted and summed."""

    def __init__(self, spec, loss_weights):
        self.spec, self.weights_spec = spec, loss_weights
        self._losses = None
        self._trackers: list[metrics_module.Mean] = []
        self.last_values: list[Tensor] = []  # per-output losses of the last call (several outputs only)

    def resolve(self, names: list[str]) -> None:
        specs = _per_output(self.spec, names, "loss")
        self._losses = [losses.get(s) if s is not None else None for s in specs]
        if self.weights_spec is None:
            self._weights = [1.0] * len(names)
        else:
            self._weights = [1.0 if w is None else float(w) for w in _per_output(self.weights_spec, names, "loss_weights")]
        self._names = names
        many = len(names) > 1
        self._trackers = [metrics_module.Mean(name=f"{n}_loss") for n, s in zip(names, self._losses) if s is not None and many]

    @property
    def losses(self) -> list:
        return [loss for loss in self._losses or () if loss is not None]

    def loss_name(self, i: int) -> str | None:
        loss = self._losses[i]
        return REGISTRY_NAME.get(type(loss).__name__) or (loss.name if loss is not None else None)

    def __call__(self, ys: list, outs: list, sw, names: list[str]) -> Tensor:
        if self._losses is None:
            self.resolve(names)
        if len(ys) != len(outs):
            raise ValueError(f"the model has {len(outs)} output(s) but {len(ys)} target array(s) were given")
        total = None
        values = []
        for loss, weight, y, out in zip(self._losses, self._weights, ys, outs):
            if loss is None:
                continue
            value = loss(y, out, sw)
            values.append(value)
            if weight != 1.0:
                value = ops.mul(value, weight)
            total = value if total is None else ops.add(total, value)
        self.last_values = values if self._trackers else []
        return total

    def track(self, values: list, n: int) -> None:
        """Add the per-output loss values of one batch of ``n`` samples to their trackers."""
        for tracker, value in zip(self._trackers, values):
            tracker.add(float(value) * n, n)

    def results(self) -> dict:
        return {t.name: t.result() for t in self._trackers}

    def reset(self) -> None:
        for t in self._trackers:
            t.reset_state()


# Loss class -> the name Keras uses when choosing an accuracy for it
REGISTRY_NAME = {
    "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
}


class _CompiledMetrics:
    """The compiled metrics: per output, resolved on the first batch (when shapes are known)."""

    def __init__(self, spec, weighted_spec):
        self.spec, self.weighted_spec = spec, weighted_spec
        self._metrics = None  # list (per output) of list of (metric, weighted, log name)

    def _resolve(self, ys, outs, compiled_loss, names):
        per = _per_output(self.spec, names, "metrics") if self.spec is not None else [None] * len(names)
        per_w = (
            _per_output(self.weighted_spec, names, "weighted_metrics")
            if self.weighted_spec is not None
            else [None] * len(names)
        )
        self._metrics = []
        for i, name in enumerate(names):
            entries = []
            for weighted, specs in ((False, per[i]), (True, per_w[i])):
                if specs is None:
                    continue
                for s in specs if isinstance(specs, (list, tuple)) else [specs]:
                    if isinstance(s, str) and s in ("accuracy", "acc"):
                        loss_name = compiled_loss.loss_name(i) if compiled_loss._losses else None
                        m = metrics_module.accuracy_for(loss_name, ys[i].shape, outs[i].shape)
                        m.name = s
                    else:
                        m = metrics_module.get(s)
                    log_name = m.name if len(names) == 1 else f"{name}_{m.name}"
                    entries.append((m, weighted, log_name))
            self._metrics.append(entries)

    def update(self, ys, outs, sw, compiled_loss, names) -> None:
        if self._metrics is None:
            self._resolve(ys, outs, compiled_loss, names)
        for entries, y, out in zip(self._metrics, ys, outs):
            for m, weighted, _ in entries:
                m.update_state(y, out, sw if weighted else None)

    def all(self) -> list:
        return [m for entries in self._metrics or () for m, _, _ in entries]

    def names(self) -> list[str]:
        return [log for entries in self._metrics or () for _, _, log in entries]

    def results(self) -> dict:
        return {log: m.result() for entries in self._metrics or () for m, _, log in entries}


def clone_model(model: Model) -> Model:
    """A new model with the same architecture and freshly initialised weights.

    Sequential models get fresh layer names; functional models keep theirs (the graph is
    described by them). The clone is rebuilt from ``get_config`` as a saved file would be.

    Example:
        >>> from myelin import layers
        >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
        >>> clone_model(m).count_params()
        9
    """
    if isinstance(model, Sequential):
        entries = []
        for entry in model.get_config()["layers"]:
            config = dict(entry["config"])
            config.pop("name", None)
            entries.append({**entry, "config": config})
        return Sequential.from_config({"layers": entries})
    if model._functional:
        return type(model).from_config(model.get_config())
    raise TypeError(
        "clone_model: a subclassed model is rebuilt by its own code: call its constructor again "
        "(or register it and use myelin.saving)"
    )


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True) -> Model:  # noqa: A002  (Keras's name)
    """Load a model saved by ``model.save`` (Keras's ``keras.models.load_model``); see ``myelin.saving``.

    Safe on files from anyone: names resolve only through myelin's registries; a malformed
    file raises ``myelin.saving.ModelFileError``.

    Example:
        >>> model = load_model("classifier.myelin")  # doctest: +SKIP
    """
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


# Saved files name a model's class like any layer's.
LAYERS.add("Sequential", Sequential)
LAYERS.add("Functional", Model, aliases=("Model",))
