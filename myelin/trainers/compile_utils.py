"""The compiled loss and metrics: what ``compile(loss=..., metrics=...)`` turns into, per output.

Also the checks made before training that a loss and an output layer fit each other
(``misfits``), as Keras's ``keras.src.trainers.compile_utils`` holds its ``CompileLoss``
and ``CompileMetrics``.

Example:
    >>> loss = _CompiledLoss("mse", None)
    >>> loss.resolve(["output"]); [type(f).__name__ for f in loss.losses]
    ['LossFunctionWrapper']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import losses, ops
from .. import metrics as metrics_module
from ..tensor import Tensor

if TYPE_CHECKING:
    from .trainer import Trainer

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
    from .. import activations  # noqa: PLC0415
    from ..layers import Softmax  # noqa: PLC0415

    if isinstance(layer, Softmax):
        return activations.softmax
    return getattr(layer, "activation", None)


def _misfits(model: Trainer, n_out: int) -> list[str]:
    """Warnings for a loss and an output activation that do not fit each other, saying why."""
    from .. import activations  # noqa: PLC0415

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
