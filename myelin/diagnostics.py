"""Level 4: training diagnostics: what each layer's weights, gradients and units do, epoch by epoch.

``model.fit(..., diagnostics=True)``, or ``callbacks=[myelin.callbacks.Diagnostics()]``,
records for every layer and every epoch:

- ``weight_norm``: the L2 norm of the layer's trainable weights at the end of the epoch;
- ``grad_norm`` and ``grad_norm_max``: the L2 norm of their gradient (the gradient of the
  training loss, read after ``backward()`` and before the optimizer step), the mean and the
  largest over the epoch's batches;
- ``update_ratio``: ``‖ΔW‖ / ‖W‖``, how much one optimizer step changes the weights, the
  mean over the epoch's steps (around 1e-3 is the usual healthy value; near 1 the learning
  rate is too high; below 1e-6 the layer hardly learns);
- ``dead_fraction`` (layers with a relu activation): the fraction of units that output 0 for
  every sample of a fixed sample batch: they pass no signal on and get no gradient; with
  ``dead_units``, the indices of those units. A unit is one output channel: a Dense unit, a
  convolution's filter (dead when its map is 0 at every position of every sample; the
  channel axis follows ``data_format``), a Dense unit applied along a sequence (0 at every step);
- ``vanishing_units`` (Dense and convolution layers): the output units (channels) whose
  gradient (their kernel slice and bias entry; the root mean square over the epoch's
  batches) is below ``vanishing`` or ``vanishing_ratio`` times the layer's largest unit's;
- ``saturation`` (sigmoid and tanh): the fraction of activations where the derivative is
  below a tenth of its maximum (sigmoid: a(1 - a) < 0.025; tanh: 1 - a² < 0.1), so that
  almost no gradient passes.

The activation statistics are computed at the end of each epoch, in inference mode, on a
fixed sample of up to ``sample_size`` training samples (the first ones the training loop
draws, during the first epoch). The records go to ``history.diagnostics`` (``fit``'s return value), so that
``myelin.plot.diagnostics(history)`` can draw them, and :class:`TrainingWarning` warns in
plain words when a layer's gradients explode or vanish, or its units die or saturate.

Example:
    >>> import numpy as np
    >>> import myelin
    >>> from myelin import layers
    >>> model = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="relu", name="h"), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(32, 3))
    >>> history = model.fit(x, x.sum(axis=1), epochs=2, verbose=0, diagnostics=True)
    >>> sorted(history.diagnostics["layers"]["h"])
    ['dead_fraction', 'dead_units', 'grad_norm', 'grad_norm_max', 'update_ratio', 'vanishing_units', 'weight_norm']
    >>> len(history.diagnostics["layers"]["h"]["grad_norm"])
    2
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .backend import array_module
from .callback_base import Callback
from .explain import layer_weights, walk
from .explain_layers import layer_kind


class TrainingWarning(UserWarning):
    """A warning about how training goes: exploding or vanishing gradients, dead or saturated units.

    Example:
        >>> issubclass(TrainingWarning, UserWarning)
        True
    """


def _sq_norm(arrays) -> float:
    total = 0.0
    for a in arrays:
        if a is not None:
            total += float(array_module(a).vdot(a.reshape(-1), a.reshape(-1)))
    return total


class Diagnostics(Callback):
    """Record weight and gradient norms, update ratios, dead and saturated units per layer per epoch.

    Arguments:
        sample_size: how many training samples the activation statistics are computed on.
        exploding: a layer's gradient norm above this (or not finite) is "exploding".
        vanishing: a layer's gradient norm below this is "vanishing"; so is one below
            ``vanishing_ratio`` times the largest layer's (the gradient fades on its way down).
        dead: warn when at least this fraction of a relu layer's units never fire.
        saturated: warn when at least this fraction of a sigmoid/tanh layer's activations saturate.
        warn: emit :class:`TrainingWarning` (each problem once per layer per ``fit``).

    The records are ``history.diagnostics``: ``{"epoch": [...], "layers": {name: {metric:
    [one value per epoch]}}, "activations": {name: activation}, "warnings": [...]}``.

    Example:
        >>> cb = Diagnostics(sample_size=128)
        >>> cb.exploding, cb.dead
        (1000.0, 0.5)
    """

    def __init__(
        self,
        sample_size: int = 256,
        exploding: float = 1e3,
        vanishing: float = 1e-7,
        vanishing_ratio: float = 1e-5,
        dead: float = 0.5,
        saturated: float = 0.5,
        warn: bool = True,
    ):
        super().__init__()
        if not isinstance(sample_size, int) or sample_size < 1:
            raise ValueError(f"Diagnostics: sample_size must be a positive integer, got {sample_size!r}")
        for arg, value in (("dead", dead), ("saturated", saturated)):
            if not 0 < value <= 1:
                raise ValueError(f"Diagnostics: {arg} must be a fraction in (0, 1], got {value!r}")
        self.sample_size = sample_size
        self.exploding, self.vanishing, self.vanishing_ratio = float(exploding), float(vanishing), float(vanishing_ratio)
        self.dead, self.saturated, self.warn = float(dead), float(saturated), bool(warn)
        self.records: dict = {}

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self.records = {"epoch": [], "layers": {}, "activations": {}, "warnings": []}
        self._unit_names: dict = {}
        self._warned: set = set()
        self._sample: list | None = None
        found = layer_weights(self.model)
        self._layers = [(name, weights) for name, _, weights in found]
        self._unit_weights = [unit_weights(layer, weights) for _, layer, weights in found]
        self._unit_names = {name: "channels" for name, layer, _ in found if layer_kind(layer) == "conv"}
        self._prev: list | None = None
        self._buffers: list | None = None
        history = getattr(self.model, "history", None)
        if history is not None:
            history.diagnostics = self.records
        self.model._step_hooks.append(self._after_backward)

    def on_train_end(self, logs=None):
        if self._after_backward in self.model._step_hooks:
            self.model._step_hooks.remove(self._after_backward)

    def on_epoch_begin(self, epoch, logs=None):
        self._grad_sq = [[] for _ in self._layers]
        self._unit_sq = [None for _ in self._layers]  # per output unit: the sum over the epoch's batches
        self._batches = 0
        self._ratios = [[] for _ in self._layers]
        self._prev = None

    def _after_backward(self, xs, weights) -> None:
        """Called by the training step between ``backward()`` and the optimizer's step."""
        if self._sample is None:
            self._sample = [a[: self.sample_size].copy() for a in xs]
        elif len(self._sample[0]) < self.sample_size and not self.records["epoch"]:  # filled during the first epoch only
            room = self.sample_size - len(self._sample[0])
            self._sample = [array_module(s).concatenate([s, a[:room]]) for s, a in zip(self._sample, xs)]
        for i, (_, ws) in enumerate(self._layers):
            self._grad_sq[i].append(_sq_norm([w.grad for w in ws]))
        self._batches += 1
        for i, pairs in enumerate(self._unit_weights):
            if pairs:
                sq = _unit_sq(pairs)
                self._unit_sq[i] = sq if self._unit_sq[i] is None else self._unit_sq[i] + sq
        self._record_update()
        if self._buffers is None:  # the weights before this step, kept in buffers made once
            self._buffers = [[w.data.copy() for w in ws] for _, ws in self._layers]
        else:
            for (_, ws), buffers in zip(self._layers, self._buffers):
                for w, buffer in zip(ws, buffers):
                    buffer[...] = w.data
        self._prev = self._buffers

    def _record_update(self) -> None:
        """‖W - W_before‖ / ‖W_before‖ for the step since the last call."""
        if self._prev is None:
            return
        for i, ((_, ws), before) in enumerate(zip(self._layers, self._prev)):
            size = math.sqrt(_sq_norm(before))
            change = math.sqrt(_sq_norm([w.data - b for w, b in zip(ws, before)]))
            self._ratios[i].append(change / size if size > 0 else math.inf if change > 0 else 0.0)

    def on_epoch_end(self, epoch, logs=None):
        self._record_update()  # the epoch's last step
        self._prev = None
        self.records["epoch"].append(epoch)
        per_layer = self.records["layers"]
        for i, (name, ws) in enumerate(self._layers):
            entry = per_layer.setdefault(name, {})
            grads = np.sqrt(np.asarray(self._grad_sq[i], dtype=np.float64))
            entry.setdefault("weight_norm", []).append(math.sqrt(_sq_norm([w.data for w in ws])))
            entry.setdefault("grad_norm", []).append(float(grads.mean()) if grads.size else math.nan)
            entry.setdefault("grad_norm_max", []).append(float(grads.max()) if grads.size else math.nan)
            ratios = self._ratios[i]
            entry.setdefault("update_ratio", []).append(float(np.mean(ratios)) if ratios else math.nan)
            if self._unit_sq[i] is not None:
                units = np.sqrt(_host(self._unit_sq[i]) / self._batches)
                entry.setdefault("vanishing_units", []).append(self._vanishing_units(units))
        self._activation_statistics()
        self._check(epoch)

    # ------------------------------------------------------------------ statistics
    def _activation_statistics(self) -> None:
        if self._sample is None:
            return
        steps, _ = walk(self.model, self._sample if len(self._sample) > 1 else self._sample[0], hidden_states=False)
        for step in steps:
            output = _host(step.value.data)
            stat = activation_statistic(step.activation, output, step.channel_axis)
            if stat is None:
                continue
            key, value = stat
            self.records["activations"][step.name] = step.activation
            entry = self.records["layers"].setdefault(step.name, {})
            entry.setdefault(key, []).append(value)
            if key == "dead_fraction":
                entry.setdefault("dead_units", []).append(dead_units(output, step.channel_axis))
                self._unit_names[step.name] = "channels" if step.kind == "conv" or output.ndim > 2 else "units"

    def _vanishing_units(self, norms: np.ndarray) -> list[int]:
        """The output units (channels) whose gradient norm is below ``vanishing`` or ``vanishing_ratio`` x the largest."""
        largest = float(norms.max()) if norms.size else 0.0
        low = (norms < self.vanishing) | (norms < self.vanishing_ratio * largest)
        return [int(i) for i in np.flatnonzero(low)]

    def _check(self, epoch: int) -> None:
        """Warn about dead or saturated units first (often the cause), then about the gradients."""
        layers = self.records["layers"]
        for name, entry in layers.items():
            dead = entry.get("dead_fraction", [None])[-1]
            if dead is not None and dead >= self.dead:
                whole = "all" if dead == 1 else f"{dead:.0%}"
                units = self._unit_names.get(name, "units")
                which = "" if dead == 1 else f" ({_index_list(entry['dead_units'][-1])})"
                where = " at every position" if units == "channels" else ""
                self._warn(
                    name,
                    "dead",
                    f"epoch {epoch + 1}: layer {name!r} is {'dead' if dead == 1 else 'dying'}: {whole} of its relu {units}"
                    f"{which} output 0{where} for every one of {len(self._sample[0])} samples, so they pass nothing on "
                    "and receive no gradient. Large negative biases, a too-high learning rate or a dead layer below do "
                    "this; lower the learning rate, or use leaky_relu.",
                )
            saturated = entry.get("saturation", [None])[-1]
            if saturated is not None and saturated >= self.saturated:
                activation = self.records["activations"].get(name, "sigmoid/tanh")
                self._warn(
                    name,
                    "saturated",
                    f"epoch {epoch + 1}: {saturated:.0%} of the {activation} activations of layer {name!r} are saturated "
                    "(pinned near their limits, where the derivative is almost 0), so little gradient passes "
                    "through them. Scale the inputs, use smaller initial weights, or relu.",
                )
        norms = {name: layers[name]["grad_norm"][-1] for name, _ in self._layers}
        largest = max((v for v in norms.values() if math.isfinite(v)), default=0.0)
        for name, _ in self._layers:
            peak = layers[name]["grad_norm_max"][-1]
            mean = norms[name]
            if not math.isfinite(peak) or peak > self.exploding:
                self._warn(
                    name,
                    "exploding",
                    f"epoch {epoch + 1}: the gradient of layer {name!r} is exploding (norm {peak:.3g}, above "
                    f"{self.exploding:g}): its weight updates are huge and training will diverge. Lower the learning "
                    "rate, start from smaller weights (a standard initializer such as glorot_uniform), scale the "
                    "inputs, or clip gradients (clipnorm=1.0).",
                )
            elif mean < self.vanishing or (largest > 0 and mean < self.vanishing_ratio * largest):
                size = "is 0: no gradient reaches it" if mean == 0 else f"has norm {mean:.3g}"
                versus = f", against {largest:.3g} for the layer with the largest" if largest > 0 else ""
                self._warn(
                    name,
                    "vanishing",
                    f"epoch {epoch + 1}: the gradient of layer {name!r} is vanishing (it {size}{versus}), so this "
                    "layer hardly learns. Saturated sigmoid/tanh units or dead relu units block the gradient on its "
                    "way down; try relu with he_normal initialization, fewer layers, or scaled inputs.",
                )
            else:
                self._check_units(epoch, name, layers[name])

    def _check_units(self, epoch: int, name: str, entry: dict) -> None:
        """Warn about units (channels) that get almost no gradient although they fire: the layers above ignore them."""
        vanishing = entry.get("vanishing_units", [None])[-1]
        if not vanishing:
            return
        dead = set(entry.get("dead_units", [[]])[-1])  # a dead unit gets no gradient: the dead warning explains it
        alive = [i for i in vanishing if i not in dead]
        if not alive:
            return
        unit = self._unit_names.get(name, "units")[:-1]
        count = f"{len(alive)} {unit}{'s' if len(alive) != 1 else ''}"
        verb = "receive" if len(alive) != 1 else "receives"
        self._warn(
            name,
            "vanishing units",
            f"epoch {epoch + 1}: {count} of layer {name!r} ({_index_list(alive)}) {verb} almost no gradient (a norm "
            f"below {self.vanishing_ratio:g} times the layer's largest {unit}'s) although not dead, so they hardly "
            "learn: the layers above ignore what they output (zero or frozen weights from them, or saturated units above).",
        )

    def _warn(self, layer: str, kind: str, message: str) -> None:
        """Record (and warn about) each problem once per layer per fit, at the first epoch that shows it."""
        if (layer, kind) in self._warned:
            return
        self._warned.add((layer, kind))
        self.records["warnings"].append(message)
        if self.warn:
            warnings.warn(message, TrainingWarning, stacklevel=2)


def unit_weights(layer, weights) -> list[tuple]:
    """``(weight, unit axis)`` for the trainable weights of ``layer`` that belong to one output unit per entry.

    The output units are a Dense layer's units, a convolution's filters (output channels):
    a kernel's last axis (a transposed convolution's second last; a depthwise kernel's last
    two, flattened, as its output channels are), a bias's only axis. A separable
    convolution's depthwise kernel feeds every output channel, so it is left out. Other
    layers have none.

    Example:
        >>> from myelin import layers
        >>> conv = layers.Conv2D(4, 3)
        >>> conv.build((None, 8, 8, 2))
        >>> [(w.name, axis) for w, axis in unit_weights(conv, conv.trainable_weights)]
        [('conv2d/kernel', -1), ('conv2d/bias', -1)]
    """
    from .layers.convolutional import _Conv, _ConvTranspose, _DepthwiseConv, _SeparableConv  # noqa: PLC0415
    from .layers.core import Dense  # noqa: PLC0415

    own = type(layer).__module__ == "myelin.layers.convolutional"
    if type(layer) is Dense or (own and isinstance(layer, _Conv)):
        kernel, axis = layer.kernel, -1
    elif own and isinstance(layer, _ConvTranspose):
        kernel, axis = layer.kernel, -2
    elif own and isinstance(layer, _DepthwiseConv):
        kernel, axis = layer.kernel, "last two"
    elif own and isinstance(layer, _SeparableConv):
        kernel, axis = layer.pointwise_kernel, -1
    else:
        return []
    trainable = {id(w) for w in weights}
    pairs = [(kernel, axis)] if id(kernel) in trainable else []
    if layer.bias is not None and id(layer.bias) in trainable:
        pairs.append((layer.bias, -1))
    return pairs


def _unit_sq(pairs) -> object:
    """The squared gradient norm of each output unit, summed over its weights (an array of the weights' module)."""
    total = None
    for w, axis in pairs:
        g = w.grad
        if g is None:
            continue
        xp = array_module(g)
        if axis == "last two":
            g = g.reshape(-1, g.shape[-2] * g.shape[-1])
        else:
            g = xp.moveaxis(g, axis, -1).reshape(-1, g.shape[axis])
        sq = (g.astype(xp.float64) ** 2).sum(axis=0)
        total = sq if total is None else total + sq
    if total is None:
        w, axis = pairs[0]
        units = w.shape[-2] * w.shape[-1] if axis == "last two" else w.shape[axis]
        total = array_module(w.data).zeros(units)
    return total


def _units_last(output: np.ndarray, channel_axis: int) -> np.ndarray:
    """(everything else, units): the samples and every position first, the units (channels) last."""
    out = np.moveaxis(np.asarray(output, dtype=np.float64), channel_axis, -1)
    return out.reshape(-1, out.shape[-1]) if out.ndim > 1 else out.reshape(-1, 1)


def dead_units(output: np.ndarray, channel_axis: int = -1) -> list[int]:
    """The units (channels) of a relu output that are 0 for every sample at every position.

    Example:
        >>> maps = np.ones((2, 3, 4, 4)); maps[:, 1] = 0.0  # channels_first: channel 1 never fires
        >>> dead_units(maps, channel_axis=1)
        [1]
    """
    return [int(i) for i in np.flatnonzero((_units_last(output, channel_axis) <= 0).all(axis=0))]


def _index_list(indices: list[int], most: int = 10) -> str:
    shown = ", ".join(str(i) for i in indices[:most])
    return shown + (f", … {len(indices) - most} more" if len(indices) > most else "")


def activation_statistic(activation: str | None, output: np.ndarray, channel_axis: int = -1) -> tuple[str, float] | None:
    """``("dead_fraction", f)`` for relu outputs, ``("saturation", f)`` for sigmoid/tanh, else None.

    A relu unit is dead when it outputs 0 for every sample at every position: the units are
    the entries of ``channel_axis`` (a conv layer's channels; the last axis by default) and
    every other axis (batch, time, space) is a place where the unit may fire. Saturation
    is counted over every activation.

    Example:
        >>> activation_statistic("relu", np.array([[0.0, 1.0], [0.0, 2.0]]))
        ('dead_fraction', 0.5)
        >>> activation_statistic("tanh", np.array([[0.99, 0.1]]))
        ('saturation', 0.5)
        >>> maps = np.zeros((2, 5, 5, 4)); maps[0, 2, 3, :3] = 1.0  # channel 3 is 0 everywhere
        >>> activation_statistic("relu", maps)
        ('dead_fraction', 0.25)
    """
    if activation == "relu":
        return "dead_fraction", float((_units_last(output, channel_axis) <= 0).all(axis=0).mean())
    out = np.asarray(output, dtype=np.float64)
    if activation == "sigmoid":
        return "saturation", float((out * (1 - out) < 0.025).mean())
    if activation == "tanh":
        return "saturation", float((1 - out * out < 0.1).mean())
    return None


def _host(a) -> np.ndarray:
    return a if array_module(a).__name__ == "numpy" else a.get()


__all__ = ["Diagnostics", "TrainingWarning", "activation_statistic", "dead_units", "unit_weights"]
