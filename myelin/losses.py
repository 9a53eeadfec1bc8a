# Over 800 lines because it holds every Keras loss, as a function and as a class, around one registry.
"""Level 3: losses, as functions (one value per sample) and as classes (reduced to a scalar).

Functions take ``(y_true, y_pred)`` and reduce only the last axis, as Keras's do. Classes
add ``sample_weight`` and the reduction (default: sum over the batch divided by its size).

Cross-entropies are stable: a probability output made by ``softmax`` or ``sigmoid``
remembers its logits, and the loss is then computed from the logits in one fused, exact
pass (as Keras does on TensorFlow). Other probabilities are clipped to [1e-7, 1 - 1e-7].

Example:
    >>> import numpy as np
    >>> from myelin import losses
    >>> losses.MeanSquaredError()(np.array([[1.0]]), np.array([[3.0]])).item()
    4.0
"""

from __future__ import annotations

import math

import numpy as np

from . import ops
from .backend import array_module, floatx
from .ops.core import _cast_keeping_logits
from .registry import Registry
from .tensor import Tensor

REGISTRY = Registry("loss")
EPSILON = 1e-7


def _prepare(y_true, y_pred, float_target: bool = True) -> tuple:
    """y_pred as a Tensor, y_true as a raw array of matching rank (Keras's squeeze/expand)."""
    y_pred = ops.as_tensor(y_pred)
    y_true = y_true.data if isinstance(y_true, Tensor) else y_true
    xp = array_module(y_pred.data)
    y_true = xp.asarray(y_true)
    if float_target and y_true.dtype != y_pred.dtype:
        y_true = y_true.astype(y_pred.dtype)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape and float_target:
        raise ValueError(
            f"loss: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must match "
            "(for integer class labels use sparse_categorical_crossentropy)"
        )
    return y_true, y_pred


def _logits_of(y_pred: Tensor, kind: str):
    """The logits behind a probability tensor made by ``kind`` (softmax or sigmoid), if any."""
    record = y_pred._logits
    if record is not None and record[0] == kind:
        return record[1]
    return None


# ---------------------------------------------------------------------------- functions
@REGISTRY.register(aliases=("mse", "MSE"))
def mean_squared_error(y_true, y_pred) -> Tensor:
    """mean((y_true - y_pred) ** 2) over the last axis.

    Example:
        >>> mean_squared_error([[0.0, 0.0]], [[1.0, 3.0]]).data
        array([5.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.square(ops.sub(y_pred, y_true)), axis=-1)


@REGISTRY.register(aliases=("mae", "MAE"))
def mean_absolute_error(y_true, y_pred) -> Tensor:
    """mean(|y_true - y_pred|) over the last axis.

    Example:
        >>> mean_absolute_error([[0.0, 0.0]], [[1.0, -3.0]]).data
        array([2.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.abs(ops.sub(y_pred, y_true)), axis=-1)


@REGISTRY.register()
def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """0.5 e^2 where |e| <= delta, delta (|e| - delta / 2) beyond; mean over the last axis.

    Example:
        >>> huber([[0.0, 0.0]], [[0.5, 3.0]]).data
        array([1.3125], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    abs_error = ops.abs(ops.sub(y_pred, y_true))
    # With q = min(|e|, delta): 0.5 q^2 + delta (|e| - q) is 0.5 e^2 inside, delta |e| - delta^2 / 2 beyond,
    # written with primitives only (no mask computed from the data outside the graph).
    q = ops.minimum(abs_error, delta)
    return ops.mean(ops.add(ops.mul(ops.square(q), 0.5), ops.mul(ops.sub(abs_error, q), delta)), axis=-1)


@REGISTRY.register(aliases=("bce",))
def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), mean over ``axis``.

    Example:
        >>> round(binary_crossentropy([[1.0]], [[0.5]]).item(), 4)
        0.6931
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    if logits is not None:
        per_element = ops.sigmoid_binary_cross_entropy(logits, y_true)
    else:
        p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
        per_element = ops.neg(ops.add(ops.mul(ops.log(p), y_true), ops.mul(ops.log(ops.sub(1.0, p)), 1.0 - y_true)))
    return ops.mean(per_element, axis=axis)


@REGISTRY.register(aliases=("cce",))
def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Tensor:
    """-sum(y_true * log(p)) over ``axis``, for one-hot (or probability) targets.

    Example:
        >>> round(categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]).item(), 4)
        0.6931
    """
    y_true, y_pred, logits = _categorical_inputs(y_true, y_pred, from_logits, axis)
    if logits is not None:
        return ops.softmax_cross_entropy(logits, y_true, axis=axis, label_smoothing=label_smoothing)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    p = ops.div(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    p = ops.clip(p, EPSILON, 1.0 - EPSILON)
    return ops.neg(ops.sum(ops.mul(ops.log(p), y_true), axis=axis))


def _categorical_inputs(y_true, y_pred, from_logits: bool, axis: int) -> tuple:
    y_true, y_pred = _prepare(y_true, y_pred)
    logits = y_pred if from_logits else (_logits_of(y_pred, "softmax") if axis in (-1, y_pred.ndim - 1) else None)
    return y_true, y_pred, logits


@REGISTRY.register(aliases=("scce",))
def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1) -> Tensor:
    """-log(p[label]) for integer class labels.

    Example:
        >>> round(sparse_categorical_crossentropy([1], [[0.5, 0.5]]).item(), 4)
        0.6931
    """
    y_true, y_pred, logits = _sparse_inputs(y_true, y_pred, from_logits, axis)
    if logits is not None:
        return ops.sparse_softmax_cross_entropy(logits, y_true)
    p = ops.div(y_pred, ops.sum(y_pred, axis=-1, keepdims=True))
    p = ops.clip(p, EPSILON, 1.0 - EPSILON)
    picked = ops.getitem(p.reshape(-1, p.shape[-1]), (array_module(y_true).arange(y_true.size), y_true.reshape(-1)))
    return ops.neg(ops.log(picked)).reshape(y_true.shape)


def _sparse_inputs(y_true, y_pred, from_logits: bool, axis: int) -> tuple:
    y_true, y_pred = _prepare(y_true, y_pred, float_target=False)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(
            f"sparse_categorical_crossentropy: only the last axis is supported as the class axis, got axis={axis}"
        )
    if y_true.dtype.kind == "f":
        y_true = y_true.astype("int64")
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax")
    return y_true, y_pred, logits


def _fused_mean(fn, y_true, y_pred, options: dict) -> Tensor | None:
    """The mean cross-entropy over samples as one fused node, when ``fn`` is a softmax
    cross-entropy that can use logits; None otherwise (the caller takes the general path).

    The value is the per-sample losses' mean (up to float rounding); the softmax that made
    ``y_pred`` lends its intermediate results.
    """
    from_logits = bool(options.get("from_logits", False))
    axis = options.get("axis", -1)
    if fn is categorical_crossentropy:
        y_true, y_pred, logits = _categorical_inputs(y_true, y_pred, from_logits, axis)
        if logits is None:
            return None
        smoothing = options.get("label_smoothing", 0.0)
        probabilities = None if from_logits else y_pred
        return ops.softmax_cross_entropy(logits, y_true, axis, smoothing, mean=True, probabilities=probabilities)
    if fn is sparse_categorical_crossentropy:
        y_true, y_pred, logits = _sparse_inputs(y_true, y_pred, from_logits, axis)
        if logits is None:
            return None
        probabilities = None if from_logits else y_pred
        return ops.sparse_softmax_cross_entropy(logits, y_true, mean=True, probabilities=probabilities)
    return None


# ---------------------------------------------------------------------------- classes
_REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight", None)


class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample values; ``__call__`` weights and reduces.

    Reductions: "sum_over_batch_size" (default: sum of weighted values over their count),
    "sum", "mean_with_sample_weight" (over the sum of weights), "none".

    Example:
        >>> class Cube(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return ops.mean(ops.sub(y_pred, y_true) ** 3, axis=-1)
        >>> Cube()([[0.0]], [[2.0]]).item()
        8.0
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        if isinstance(y_pred, Tensor) and _low_precision(y_pred.data.dtype):
            y_pred = _in_floatx(y_pred)  # Keras computes losses in float32: a float16 model's outputs cast up
        if sample_weight is None and self.reduction in ("sum_over_batch_size", "mean"):
            fused = self._fused_mean(y_true, y_pred)
            if fused is not None:
                return fused
        values = self.call(y_true, y_pred)
        return reduce_weighted(values, sample_weight, self.reduction)

    def _fused_mean(self, y_true, y_pred) -> Tensor | None:
        """The unweighted mean loss in one fused node, for losses that have one (else None)."""
        return None

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        """Rebuild from :meth:`get_config`'s dict (Keras's counterpart)."""
        return cls(**config)


_FLOAT16 = np.dtype("float16")


def _low_precision(dtype: np.dtype) -> bool:
    """float16, or bfloat16 (``ml_dtypes``, NumPy kind 'V'): one identity test on the float32 path."""
    return dtype is _FLOAT16 or (dtype.kind == "V" and dtype.name == "bfloat16")


def _in_floatx(y_pred: Tensor) -> Tensor:
    """A float16/bfloat16 prediction cast up to ``floatx()`` (logits too), differentiably."""
    dtype = np.dtype(floatx())
    return y_pred if dtype.itemsize <= y_pred.data.dtype.itemsize else _cast_keeping_logits(y_pred, dtype)


def reduce_weighted(values: Tensor, sample_weight=None, reduction: str | None = "sum_over_batch_size") -> Tensor:
    """Weight per-sample loss values and reduce them to a scalar (or not, for "none").

    Example:
        >>> import numpy as np
        >>> reduce_weighted(Tensor([1.0, 3.0]), np.array([1.0, 0.0])).item()
        0.5
    """
    xp = array_module(values.data)
    if sample_weight is not None:
        w = xp.asarray(sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight, dtype=values.dtype)
        while w.ndim > values.ndim and w.shape[-1] == 1:
            w = w[..., 0]
        while w.ndim < values.ndim:
            w = w[..., None]
        values = ops.mul(values, w)
    if reduction in (None, "none"):
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        denominator = float(xp.broadcast_to(w, values.shape).sum())
        return ops.mul(total, 1.0 / denominator) if denominator else ops.mul(total, 0.0)
    return ops.mul(total, 1.0 / max(values.size, 1))


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


@REGISTRY.register("MeanSquaredError")
class MeanSquaredError(Loss):
    """Mean of squared errors.

    Example:
        >>> MeanSquaredError()([[0.0]], [[2.0]]).item()
        4.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)


@REGISTRY.register("MeanAbsoluteError")
class MeanAbsoluteError(Loss):
    """Mean of absolute errors.

    Example:
        >>> MeanAbsoluteError()([[0.0]], [[-2.0]]).item()
        2.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)


@REGISTRY.register("Huber")
class Huber(Loss):
    """Quadratic for small errors, linear beyond ``delta``.

    Example:
        >>> Huber(delta=1.0)([[0.0]], [[3.0]]).item()
        2.5
    """

    def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size", name="huber_loss"):
        super().__init__(name, reduction)
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.delta)

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta}


@REGISTRY.register("BinaryCrossentropy")
class BinaryCrossentropy(Loss):
    """Binary cross-entropy for sigmoid outputs (or logits with ``from_logits=True``).

    Example:
        >>> round(BinaryCrossentropy()([[0.0]], [[0.5]]).item(), 4)
        0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
    ):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis
        _check_smoothing(self)

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


@REGISTRY.register("CategoricalCrossentropy")
class CategoricalCrossentropy(Loss):
    """Cross-entropy for one-hot targets and softmax outputs (or logits).

    Example:
        >>> round(CategoricalCrossentropy(from_logits=True)([[1.0, 0.0]], [[0.0, 0.0]]).item(), 4)
        0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
    ):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis
        _check_smoothing(self)

    def call(self, y_true, y_pred):
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)

    def _fused_mean(self, y_true, y_pred):
        options = {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing, "axis": self.axis}
        return _fused_mean(categorical_crossentropy, y_true, y_pred, options)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


@REGISTRY.register("SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy for integer labels and softmax outputs (or logits).

    Example:
        >>> round(SparseCategoricalCrossentropy(from_logits=True)([0], [[0.0, 0.0]]).item(), 4)
        0.6931
    """

    def __init__(self, from_logits: bool = False, reduction="sum_over_batch_size", name="sparse_categorical_crossentropy"):
        super().__init__(name, reduction)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def _fused_mean(self, y_true, y_pred):
        return _fused_mean(sparse_categorical_crossentropy, y_true, y_pred, {"from_logits": self.from_logits})

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits}


def _check_smoothing(loss) -> None:
    if not 0.0 <= loss.label_smoothing <= 1.0:
        raise ValueError(f"{type(loss).__name__}: label_smoothing must be in [0, 1], got {loss.label_smoothing}")


class LossFunctionWrapper(Loss):
    """A per-sample loss function turned into a Loss class (what ``get`` returns for a name).

    Example:
        >>> LossFunctionWrapper(mean_absolute_error)([[1.0]], [[0.0]]).item()
        1.0
    """

    def __init__(self, fn, name: str | None = None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn, self.kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.kwargs)

    def _fused_mean(self, y_true, y_pred):
        return _fused_mean(self.fn, y_true, y_pred, self.kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.kwargs}


# ---------------------------------------------------------------------------- more of Keras's losses
def _hinge_labels(y_true):
    """Keras's rule: labels that are all 0 or 1 become -1 or 1; other labels stay as they are."""
    xp = array_module(y_true)
    if bool(xp.all((y_true == 0) | (y_true == 1))):
        return 2.0 * y_true - 1.0
    return y_true


@REGISTRY.register()
def hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)) over the last axis; 0/1 labels are read as -1/1.

    Example:
        >>> hinge([[1.0, 0.0]], [[0.5, -2.0]]).data
        array([0.25], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    margin = ops.sub(1.0, ops.mul(y_pred, _hinge_labels(y_true)))
    return ops.mean(ops.maximum(margin, 0.0), axis=-1)


@REGISTRY.register()
def squared_hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0) ** 2) over the last axis; 0/1 labels are read as -1/1.

    Example:
        >>> squared_hinge([[1.0, 0.0]], [[0.5, -2.0]]).data
        array([0.125], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    margin = ops.sub(1.0, ops.mul(y_pred, _hinge_labels(y_true)))
    return ops.mean(ops.square(ops.maximum(margin, 0.0)), axis=-1)


@REGISTRY.register()
def categorical_hinge(y_true, y_pred) -> Tensor:
    """max(neg - pos + 1, 0), pos = sum(y_true * y_pred), neg = max((1 - y_true) * y_pred).

    Example:
        >>> categorical_hinge([[0.0, 1.0]], [[0.3, 0.9]]).data.round(4)
        array([0.4], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    pos = ops.sum(ops.mul(y_pred, y_true), axis=-1)
    neg = ops.max(ops.mul(y_pred, 1.0 - y_true), axis=-1)
    return ops.maximum(ops.add(ops.sub(neg, pos), 1.0), 0.0)


@REGISTRY.register(aliases=("mape", "MAPE"))
def mean_absolute_percentage_error(y_true, y_pred) -> Tensor:
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis.

    Example:
        >>> mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 5.0]]).data
        array([37.5], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    xp = array_module(y_true)
    scale = 100.0 / xp.maximum(xp.abs(y_true), EPSILON)
    return ops.mean(ops.mul(ops.abs(ops.sub(y_pred, y_true)), scale), axis=-1)


@REGISTRY.register(aliases=("msle", "MSLE"))
def mean_squared_logarithmic_error(y_true, y_pred) -> Tensor:
    """mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1)) ** 2) over the last axis.

    Example:
        >>> round(float(mean_squared_logarithmic_error([[0.0]], [[1.718281828]]).item()), 5)
        1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    xp = array_module(y_true)
    second = xp.log(xp.maximum(y_true, EPSILON) + 1.0)
    first = ops.log(ops.add(ops.maximum(y_pred, EPSILON), 1.0))
    return ops.mean(ops.square(ops.sub(first, second)), axis=-1)


@REGISTRY.register(aliases=("logcosh",))
def log_cosh(y_true, y_pred) -> Tensor:
    """mean(log(cosh(y_pred - y_true))) over the last axis, computed as x + softplus(-2x) - log 2.

    Example:
        >>> round(log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).data[0].item(), 3)
        0.217
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    x = ops.sub(y_pred, y_true)
    return ops.mean(ops.sub(ops.add(x, ops.softplus(ops.mul(x, -2.0))), math.log(2.0)), axis=-1)


@REGISTRY.register(aliases=("kld", "KLD", "kullback_leibler_divergence"))
def kl_divergence(y_true, y_pred) -> Tensor:
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [1e-7, 1].

    Example:
        >>> round(kl_divergence([[0.5, 0.5]], [[0.25, 0.75]]).item(), 5)
        0.14384
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    xp = array_module(y_true)
    t = xp.clip(y_true, EPSILON, 1.0)
    p = ops.clip(y_pred, EPSILON, 1.0)
    return ops.sum(ops.mul(ops.sub(xp.log(t), ops.log(p)), t), axis=-1)


@REGISTRY.register()
def poisson(y_true, y_pred) -> Tensor:
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis.

    Example:
        >>> round(poisson([[1.0]], [[1.0]]).item(), 5)
        1.0
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.sub(y_pred, ops.mul(ops.log(ops.add(y_pred, EPSILON)), y_true)), axis=-1)


@REGISTRY.register()
def cosine_similarity(y_true, y_pred, axis: int = -1) -> Tensor:
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over ``axis`` (-1 for equal directions).

    Example:
        >>> cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[0.0, 2.0], [-1.0, -1.0]]).data.round(5)
        array([-1.,  1.], dtype=float32)
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    t = ops.normalize(ops.as_tensor(y_true), axis=axis).data
    return ops.neg(ops.sum(ops.mul(ops.normalize(y_pred, axis=axis), t), axis=axis))


@REGISTRY.register()
def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Binary cross-entropy scaled by (1 - p_t) ** gamma (and by alpha / 1 - alpha when balancing).

    ``p_t = y p + (1 - y)(1 - p)``; mean over ``axis``. With gamma = 0 and no balancing it is
    the binary cross-entropy.

    Example:
        >>> round(binary_focal_crossentropy([[1.0]], [[0.5]]).item(), 5)
        0.17329
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    bce = ops.binary_crossentropy(y_true, p)
    p_t = ops.add(ops.mul(p, 2.0 * y_true - 1.0), 1.0 - y_true)
    focal = ops.mul(ops.power(ops.sub(1.0, p_t), gamma), bce)
    if apply_class_balancing:
        focal = ops.mul(focal, y_true * alpha + (1.0 - y_true) * (1.0 - alpha))
    return ops.mean(focal, axis=axis)


@REGISTRY.register()
def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """sum(alpha (1 - p) ** gamma * -y log p) over ``axis``, p renormalised and clipped to [1e-7, 1 - 1e-7].

    Example:
        >>> round(categorical_focal_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]).item(), 5)
        0.04332
    """
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"categorical_focal_crossentropy: axis must be an int, got {axis!r}")
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    p = ops.softmax(y_pred, axis=axis) if from_logits else y_pred
    p = ops.clip(ops.div(p, ops.sum(p, axis=axis, keepdims=True)), EPSILON, 1.0 - EPSILON)
    cce = ops.mul(ops.log(p), -y_true)
    return ops.sum(ops.mul(ops.mul(ops.power(ops.sub(1.0, p), gamma), alpha), cce), axis=axis)


@REGISTRY.register()
def dice(y_true, y_pred, axis=None) -> Tensor:
    """1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + 1e-7) over ``axis`` (all axes when None).

    Example:
        >>> round(dice([[1.0, 0.0]], [[0.5, 0.5]]).item(), 5)
        0.5
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    inter = ops.sum(ops.mul(y_pred, y_true), axis=axis)
    total = ops.add(ops.sum(y_pred, axis=axis), y_true.sum(axis=axis) + EPSILON)
    return ops.sub(1.0, ops.div(ops.mul(inter, 2.0), total))


@REGISTRY.register()
def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis=None) -> Tensor:
    """1 - TP / (TP + alpha FP + beta FN + 1e-7), TP = sum(y_true y_pred), over ``axis``.

    FP = sum((1 - y_pred) y_true) and FN = sum(y_pred (1 - y_true)), Keras's naming. With
    alpha = beta = 0.5 it is the Dice loss.

    Example:
        >>> round(tversky([[1.0, 0.0]], [[0.5, 0.5]]).item(), 5)
        0.5
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    inter = ops.sum(ops.mul(y_pred, y_true), axis=axis)
    fp = ops.sum(ops.mul(ops.sub(1.0, y_pred), y_true), axis=axis)
    fn = ops.sum(ops.mul(y_pred, 1.0 - y_true), axis=axis)
    denominator = ops.add(ops.add(ops.add(inter, ops.mul(fp, alpha)), ops.mul(fn, beta)), EPSILON)
    return ops.sub(1.0, ops.div(inter, denominator))


def _plain_loss_class(class_name: str, fn, doc: str):
    """A Loss class around ``fn`` with only Keras's ``reduction`` and ``name`` arguments."""

    def __init__(self, reduction="sum_over_batch_size", name: str = fn.__name__):
        Loss.__init__(self, name, reduction)

    def call(self, y_true, y_pred):
        return fn(y_true, y_pred)

    cls = type(class_name, (Loss,), {"__init__": __init__, "call": call, "__doc__": doc, "__module__": __name__})
    REGISTRY.add(class_name, cls)
    return cls


Hinge = _plain_loss_class(
    "Hinge",
    hinge,
    """Hinge loss (0/1 labels are read as -1/1).

    Example:
        >>> Hinge()([[1.0, 0.0]], [[0.5, -2.0]]).item()
        0.25
    """,
)
SquaredHinge = _plain_loss_class(
    "SquaredHinge",
    squared_hinge,
    """Squared hinge loss (0/1 labels are read as -1/1).

    Example:
        >>> SquaredHinge()([[1.0, 0.0]], [[0.5, -2.0]]).item()
        0.125
    """,
)
CategoricalHinge = _plain_loss_class(
    "CategoricalHinge",
    categorical_hinge,
    """Categorical hinge loss for one-hot targets.

    Example:
        >>> round(CategoricalHinge()([[0.0, 1.0]], [[0.3, 0.9]]).item(), 5)
        0.4
    """,
)
MeanAbsolutePercentageError = _plain_loss_class(
    "MeanAbsolutePercentageError",
    mean_absolute_percentage_error,
    """Mean absolute percentage error (in percent).

    Example:
        >>> MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 5.0]]).item()
        37.5
    """,
)
MeanSquaredLogarithmicError = _plain_loss_class(
    "MeanSquaredLogarithmicError",
    mean_squared_logarithmic_error,
    """Mean squared logarithmic error.

    Example:
        >>> round(MeanSquaredLogarithmicError()([[0.0]], [[1.718281828]]).item(), 5)
        1.0
    """,
)
LogCosh = _plain_loss_class(
    "LogCosh",
    log_cosh,
    """Logarithm of the hyperbolic cosine of the error.

    Example:
        >>> round(LogCosh()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).item(), 3)
        0.108
    """,
)
KLDivergence = _plain_loss_class(
    "KLDivergence",
    kl_divergence,
    """Kullback-Leibler divergence of y_pred from y_true.

    Example:
        >>> round(KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]]).item(), 5)
        0.14384
    """,
)
Poisson = _plain_loss_class(
    "Poisson",
    poisson,
    """Poisson loss: y_pred - y_true log(y_pred).

    Example:
        >>> round(Poisson()([[1.0]], [[1.0]]).item(), 5)
        1.0
    """,
)


@REGISTRY.register("CosineSimilarity")
class CosineSimilarity(Loss):
    """Negative cosine similarity along ``axis`` (-1 when the directions agree).

    Example:
        >>> round(CosineSimilarity()([[0.0, 1.0]], [[0.0, 3.0]]).item(), 5)
        -1.0
    """

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size", name="cosine_similarity"):
        super().__init__(name, reduction)
        self.axis = axis

    def call(self, y_true, y_pred):
        return cosine_similarity(y_true, y_pred, self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


@REGISTRY.register("BinaryFocalCrossentropy")
class BinaryFocalCrossentropy(Loss):
    """Focal binary cross-entropy (Lin et al., 2017): easy examples weigh less.

    Example:
        >>> round(BinaryFocalCrossentropy(gamma=2.0)([[1.0]], [[0.5]]).item(), 5)
        0.17329
    """

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
    ):
        super().__init__(name, reduction)
        self.apply_class_balancing, self.alpha, self.gamma = bool(apply_class_balancing), float(alpha), float(gamma)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis
        _check_smoothing(self)

    def call(self, y_true, y_pred):
        return binary_focal_crossentropy(
            y_true,
            y_pred,
            self.apply_class_balancing,
            self.alpha,
            self.gamma,
            self.from_logits,
            self.label_smoothing,
            self.axis,
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "apply_class_balancing": self.apply_class_balancing,
            "alpha": self.alpha,
            "gamma": self.gamma,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


@REGISTRY.register("CategoricalFocalCrossentropy")
class CategoricalFocalCrossentropy(Loss):
    """Focal categorical cross-entropy for one-hot targets.

    Example:
        >>> round(CategoricalFocalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]]).item(), 5)
        0.04332
    """

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
    ):
        super().__init__(name, reduction)
        self.alpha, self.gamma = float(alpha), float(gamma)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis
        _check_smoothing(self)

    def call(self, y_true, y_pred):
        return categorical_focal_crossentropy(
            y_true, y_pred, self.alpha, self.gamma, self.from_logits, self.label_smoothing, self.axis
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "gamma": self.gamma,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


@REGISTRY.register("Dice")
class Dice(Loss):
    """Dice loss, 1 - 2|A n B| / (|A| + |B|), over ``axis`` (everything when None).

    Example:
        >>> round(Dice()([[1.0, 0.0]], [[0.5, 0.5]]).item(), 5)
        0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None):
        super().__init__(name, reduction)
        self.axis = _axis_argument(axis, "Dice")

    def call(self, y_true, y_pred):
        return dice(y_true, y_pred, self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


@REGISTRY.register("Tversky")
class Tversky(Loss):
    """Tversky loss: Dice with false positives weighed by ``alpha`` and false negatives by ``beta``.

    Example:
        >>> round(Tversky(alpha=0.5, beta=0.5)([[1.0, 0.0]], [[0.5, 0.5]]).item(), 5)
        0.5
    """

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction="sum_over_batch_size", name="tversky", axis=None):
        super().__init__(name, reduction)
        self.alpha, self.beta = float(alpha), float(beta)
        self.axis = _axis_argument(axis, "Tversky")

    def call(self, y_true, y_pred):
        return tversky(y_true, y_pred, self.alpha, self.beta, self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta, "axis": self.axis}


@REGISTRY.register()
def categorical_generalized_cross_entropy(y_true, y_pred, q: float) -> Tensor:
    """(1 - p ** q) / q, p the predicted probability of the integer label (Zhang & Sabuncu, 2018).

    Between the cross-entropy (q -> 0) and the mean absolute error (q = 1): robust to noisy labels.

    Example:
        >>> round(categorical_generalized_cross_entropy([1], [[0.75, 0.25]], q=0.5).item(), 4)
        1.0
    """
    y_pred = ops.as_tensor(y_pred)
    labels = y_true.data if isinstance(y_true, Tensor) else y_true
    xp = array_module(y_pred.data)
    labels = xp.asarray(labels).astype("int64")
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"categorical_generalized_cross_entropy: y_true holds integer labels of shape {y_pred.shape[:-1]}, "
            f"got shape {labels.shape}"
        )
    onehot = (labels[..., None] == xp.arange(y_pred.shape[-1])).astype(y_pred.dtype)
    p = ops.sum(ops.mul(y_pred, onehot), axis=-1)
    return ops.mul(ops.sub(1.0, ops.power(p, q)), 1.0 / q)


@REGISTRY.register("CategoricalGeneralizedCrossEntropy")
class CategoricalGeneralizedCrossEntropy(Loss):
    """Generalized cross-entropy for integer labels and probability outputs, ``q`` in (0, 1).

    Example:
        >>> round(CategoricalGeneralizedCrossEntropy(q=0.5)([1], [[0.75, 0.25]]).item(), 4)
        1.0
    """

    def __init__(self, q: float = 0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy"):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in the interval (0, 1), got {q!r}")
        super().__init__(name, reduction)
        self.q = float(q)

    def call(self, y_true, y_pred):
        return categorical_generalized_cross_entropy(y_true, y_pred, self.q)

    def get_config(self) -> dict:
        return {**super().get_config(), "q": self.q}


def _axis_argument(axis, owner: str):
    if axis is None or (isinstance(axis, int) and not isinstance(axis, bool)):
        return axis
    if isinstance(axis, (tuple, list)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
        return tuple(axis)
    raise ValueError(f"{owner}: axis must be None, an int or a tuple of ints, got {axis!r}")


def get(identifier) -> Loss:
    """Resolve a loss to a ``Loss`` instance: a name, a Loss, a Loss class or a function.

    Example:
        >>> get("mse").name
        'mean_squared_error'
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        found = REGISTRY.lookup(identifier)
        if isinstance(found, type):
            return found()
        return LossFunctionWrapper(found, name=REGISTRY.name_of(found))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(f"loss must be a name, a Loss or a callable, got {type(identifier).__name__}: {identifier!r}")


def serialize(obj) -> dict:
    """Keras's dict for one of these objects: ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> serialize(Huber(delta=2.0))["config"]["delta"]
        2.0
    """
    from .serialization import serialize_keras_object  # noqa: PLC0415  (it imports this module)

    return serialize_keras_object(obj)


def deserialize(config, custom_objects: dict | None = None):
    """The object :func:`serialize`'s dict (or Keras's) describes, or the one a name gives.

    Example:
        >>> deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).delta
        2.0
    """
    from .serialization import deserialize_in  # noqa: PLC0415

    return deserialize_in(REGISTRY, config, custom_objects, instantiate_names=False)


# ---------------------------------------------------------------------------- CTC and Circle (Keras's)
def _raw(x):
    return x.data if isinstance(x, Tensor) else x


@REGISTRY.register()
def ctc(y_true, y_pred) -> Tensor:
    """CTC loss per sample: ``y_true`` (batch, max_length) labels padded with 0 (the blank), logits ``y_pred``.

    The label length of a row is its count of nonzero entries; every sample uses all of
    ``y_pred``'s time steps (Keras's ``keras.losses.ctc``).

    Example:
        >>> import numpy as np
        >>> round(float(ctc([[1, 0]], np.zeros((1, 2, 2), np.float32)).data[0]), 4)
        0.2877
    """
    y_pred = ops.as_tensor(y_pred)
    xp = array_module(y_pred.data)
    labels = xp.asarray(_raw(y_true))
    if labels.ndim != 2:
        raise ValueError(f"ctc: y_true must be integer labels of shape (batch_size, max_length), got shape {labels.shape}")
    if y_pred.ndim != 3:
        raise ValueError(
            f"ctc: y_pred must be logits of shape (batch_size, max_length, num_classes), got shape {y_pred.shape}"
        )
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    label_length = (labels != 0).sum(axis=-1).astype("int32")
    output_length = xp.full((batch,), steps, dtype="int32")
    return ops.ctc_loss(labels.astype("int64"), y_pred, label_length, output_length, mask_index=0)


@REGISTRY.register("CTC")
class CTC(Loss):
    """CTC (connectionist temporal classification) loss between padded integer labels and logits.

    Example:
        >>> import numpy as np
        >>> round(CTC()([[1, 0]], np.zeros((1, 2, 2), np.float32)).item(), 4)
        0.2877
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "ctc"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)


def _pos_neg_masks(labels, ref_labels, remove_diagonal: bool, xp):
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    if remove_diagonal:
        positive = positive & ~xp.eye(positive.shape[0], positive.shape[1], dtype=bool)
    return positive, ~(labels.reshape(-1, 1) == ref_labels.reshape(1, -1))


def _masked_logsumexp(values: Tensor, mask, xp) -> Tensor:
    """log-sum-exp over axis 1 of the entries where ``mask`` holds; a row with none gives a very negative number.

    Keras writes -inf there (its softplus then gives 0); a finite stand-in keeps the gradient
    free of inf - inf while giving the same loss (softplus of it is exactly 0).
    """
    fill = float(xp.finfo(values.dtype).min) / 4
    return ops.logsumexp(ops.where(mask, values, fill), axis=1)


@REGISTRY.register()
def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> Tensor:
    """Circle loss (Sun et al., 2020) per sample, from integer labels and L2-normalised embeddings.

    With cosine distances d to the reference embeddings (default: the batch itself),
    positives weighted by relu(margin + d) around margin, negatives by relu(1 + margin - d)
    around 1 - margin: softplus(logsumexp(-gamma w_p (margin - d_p)) + logsumexp(gamma w_n (1 - margin - d_n))).
    A sample with no positive pair gets 0, and Keras's mask (``loss > 0``) on the result,
    which ``Circle`` leaves out of its mean.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
        >>> np.round(circle([0, 0, 1], x, gamma=2.0).data, 4)
        array([0.4518, 0.7763, 0.    ], dtype=float32)
    """
    y_pred = ops.as_tensor(y_pred)
    xp = array_module(y_pred.data)
    if y_pred.ndim != 2:
        raise ValueError(f"circle: y_pred must be embeddings of shape (batch_size, dim), got shape {y_pred.shape}")
    labels = xp.asarray(_raw(y_true)).astype("int32").reshape(-1)
    if labels.shape[0] != y_pred.shape[0]:
        raise ValueError(f"circle: y_true has {labels.shape[0]} labels for {y_pred.shape[0]} embeddings")
    ref = y_pred if ref_embeddings is None else ops.as_tensor(ref_embeddings)
    ref_lab = labels if ref_labels is None else xp.asarray(_raw(ref_labels)).astype("int32").reshape(-1)
    if ref.ndim != 2 or ref.shape[1] != y_pred.shape[1] or ref_lab.shape[0] != ref.shape[0]:
        raise ValueError(
            f"circle: ref_embeddings must have shape (n, {y_pred.shape[1]}) with n ref_labels, "
            f"got shape {ref.shape} and {ref_lab.shape[0]} labels"
        )
    positive, negative = _pos_neg_masks(labels, ref_lab, bool(remove_diagonal), xp)
    gamma, margin = float(gamma), float(margin)
    dist = ops.maximum(ops.sub(1.0, ops.matmul(y_pred, ops.transpose(ref))), 0.0)
    pos_w = ops.maximum(ops.mul(ops.add(dist, margin), positive.astype(dist.dtype)), 0.0)
    neg_w = ops.maximum(ops.mul(ops.sub(1.0 + margin, dist), negative.astype(dist.dtype)), 0.0)
    pos_terms = ops.mul(ops.mul(pos_w, ops.sub(margin, dist)), -gamma)
    neg_terms = ops.mul(ops.mul(neg_w, ops.sub(1.0 - margin, dist)), gamma)
    out = ops.softplus(ops.add(_masked_logsumexp(pos_terms, positive, xp), _masked_logsumexp(neg_terms, negative, xp)))
    out._keras_mask = out.data > 0
    return out


@REGISTRY.register("Circle")
class Circle(Loss):
    """Circle loss between integer labels and L2-normalised embeddings (Keras's ``keras.losses.Circle``).

    Samples whose loss is 0 (no positive pair in the batch) are masked out of the reduction,
    as Keras does: "sum_over_batch_size" divides by the number of unmasked samples.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
        >>> round(Circle(gamma=2.0, reduction="sum")([0, 0, 1], x).item(), 4)
        1.2282
    """

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction="sum_over_batch_size",
        name: str = "circle",
    ):
        super().__init__(name, reduction)
        self.gamma, self.margin, self.remove_diagonal = float(gamma), float(margin), bool(remove_diagonal)

    def call(self, y_true, y_pred):
        return circle(y_true, y_pred, remove_diagonal=self.remove_diagonal, gamma=self.gamma, margin=self.margin)

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        values = self.call(y_true, y_pred)
        xp = array_module(values.data)
        mask = values._keras_mask
        in_mask = getattr(y_pred, "_keras_mask", None)
        if in_mask is not None:
            mask = mask & xp.asarray(in_mask, dtype=bool).reshape(mask.shape)
        # Keras's apply_mask: for the means, unmasked entries weigh total / valid (0 when none is valid).
        if self.reduction in ("sum_over_batch_size", "mean"):
            valid = int(mask.sum())
            weight = xp.where(mask, mask.size / valid if valid else 0.0, 0.0).astype(values.dtype)
        else:
            weight = mask.astype(values.dtype)
        if sample_weight is not None:
            sw = xp.asarray(_raw(sample_weight), dtype=values.dtype).reshape(-1)
            if sw.shape != weight.shape:
                raise ValueError(f"Circle: sample_weight must hold one weight per sample ({weight.shape[0]}), got {sw.shape}")
            weight = weight * sw
        return reduce_weighted(values, weight, self.reduction)

    def get_config(self) -> dict:
        return {**super().get_config(), "gamma": self.gamma, "margin": self.margin, "remove_diagonal": self.remove_diagonal}
