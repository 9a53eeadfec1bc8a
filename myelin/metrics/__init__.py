"""Level 3: stateful metrics with Keras's names: ``update_state``, ``result``, ``reset_state``.

Metrics read raw arrays (a ``Tensor``'s data is taken as is) and never build a graph. Totals
are kept in float64 so that long epochs do not drift.

Example:
    >>> import numpy as np
    >>> from myelin import metrics
    >>> m = metrics.CategoricalAccuracy()
    >>> m.update_state(np.eye(2), np.array([[0.9, 0.1], [0.8, 0.2]]))
    >>> m.result()
    0.5
"""

from __future__ import annotations

import inspect

import numpy as np

from ..backend import array_module
from ..losses import _snake
from ..registry import Registry
from ..tensor import Tensor

REGISTRY = Registry("metric")


def _accumulator_dtype(dtype, owner: str) -> str | None:
    """The float type a metric's state adds up in (None: float64), checked."""
    if dtype is None:
        return None
    try:
        kind = np.dtype(dtype)
    except TypeError:
        kind = None
    if kind is None or kind.kind != "f":
        raise ValueError(f"{owner}: dtype must be a floating-point type such as 'float32', got {dtype!r}")
    return kind.name


def _raw(x):
    if isinstance(x, Tensor):
        return x.data
    return x if hasattr(x, "dtype") else np.asarray(x)


def _weights(sample_weight, n_values, xp):
    if sample_weight is None:
        return None
    w = xp.asarray(_raw(sample_weight), dtype="float64").reshape(-1)
    if w.size != n_values:
        raise ValueError(f"sample_weight has {w.size} values but the metric received {n_values}")
    return w


class Metric:
    """Base class. Subclasses implement ``update_state``, ``result`` and ``reset_state``.

    Example:
        >>> class Count(Metric):
        ...     def reset_state(self): self.n = 0
        ...     def update_state(self, y_true, y_pred, sample_weight=None): self.n += len(y_true)
        ...     def result(self): return float(self.n)
        >>> c = Count(); c.update_state([1, 2], [1, 2]); c.result()
        2.0
    """

    # State that adds up over batches (sums and counts): what a mid-epoch backup saves and
    # adds back on resume (callbacks.BackupAndRestore). Empty: not restored.
    _additive_state: tuple[str, ...] = ()

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = _accumulator_dtype(dtype, type(self).__name__)
        self.reset_state()

    @property
    def _acc_dtype(self) -> str:
        """The type the state adds up in: ``dtype`` when given, else float64 (more exact than Keras's float32)."""
        return self.dtype or "float64"

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define reset_state()")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state()")

    def result(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define result()")

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, **self._dtype_config()}

    def _dtype_config(self) -> dict:
        return {} if self.dtype is None else {"dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        """Rebuild from :meth:`get_config`'s dict (Keras's counterpart)."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """The (weighted) mean of the values it is given.

    Example:
        >>> m = Mean(); m.update_state([1.0, 3.0]); m.result()
        2.0
    """

    _additive_state = ("total", "count")

    def reset_state(self) -> None:
        # float64 state as Python floats; a metric given a dtype adds up in NumPy scalars of that type
        zero = 0.0 if self.dtype is None else np.dtype(self.dtype).type(0)
        self.total = zero
        self.count = zero

    def update_state(self, values, sample_weight=None) -> None:
        values = _raw(values)
        xp = array_module(values)
        values = xp.asarray(values, dtype=self._acc_dtype).reshape(-1)
        w = _weights(sample_weight, values.size, xp)
        if w is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def add(self, total: float, count: float) -> None:
        """Add a precomputed sum and count (the training loop's cheap path)."""
        self.total += total
        self.count += count

    def result(self) -> float:
        return float(self.total / self.count) if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred)``, per sample.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: abs(t - p), name="err")
        >>> m.update_state(np.array([1.0]), np.array([3.0])); m.result()
        2.0
    """

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        self.fn, self.kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        hits = _HITS.get(self.fn) if sample_weight is None and not self.kwargs else None
        if hits is not None:  # a 0/1 metric without weights: count the hits (the same sum, less work)
            matches = hits(_raw(y_true), _raw(y_pred))
            self.total += int(array_module(matches).count_nonzero(matches))
            self.count += matches.size
            return
        super().update_state(self.fn(_raw(y_true), _raw(y_pred), **self.kwargs), sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, **self._dtype_config(), **self.kwargs}


# ---------------------------------------------------------------------------- per-sample functions
def _match_rank(y_true, y_pred):
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    return y_true


@REGISTRY.register()
def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    """1 where (y_pred > threshold) equals y_true, averaged over the last axis.

    Example:
        >>> binary_accuracy(np.array([[1.0], [0.0]]), np.array([[0.7], [0.6]])).tolist()
        [1.0, 0.0]
    """
    y_true, y_pred = _raw(y_true), _raw(y_pred)
    y_true = _match_rank(y_true, y_pred)
    return ((y_pred > threshold) == (y_true > 0.5)).mean(axis=-1)


@REGISTRY.register()
def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals argmax(y_true).

    Example:
        >>> categorical_accuracy(np.eye(2), np.array([[0.9, 0.1], [0.9, 0.1]])).tolist()
        [1.0, 0.0]
    """
    return _categorical_hits(_raw(y_true), _raw(y_pred)).astype("float64")


def _categorical_hits(y_true, y_pred):
    return y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)


@REGISTRY.register()
def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label.

    Example:
        >>> sparse_categorical_accuracy(np.array([1, 0]), np.array([[0.1, 0.9], [0.2, 0.8]])).tolist()
        [1.0, 0.0]
    """
    return _sparse_hits(_raw(y_true), _raw(y_pred)).astype("float64")


def _sparse_hits(y_true, y_pred):
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_pred.argmax(axis=-1) == y_true


# Per-sample 0/1 metrics and the boolean hits they average (MeanMetricWrapper's fast path)
_HITS = {categorical_accuracy: _categorical_hits, sparse_categorical_accuracy: _sparse_hits}


def _top_k_hits(labels, y_pred, k: int):
    xp = array_module(y_pred)
    k = min(k, y_pred.shape[-1])
    target_score = xp.take_along_axis(y_pred, labels.astype("int64")[..., None], axis=-1)
    # In the top k when fewer than k classes score strictly higher (ties count as hits, as Keras).
    return ((y_pred > target_score).sum(axis=-1) < k).astype("float64")


@REGISTRY.register()
def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1 where the true class is among the ``k`` highest-scored.

    Example:
        >>> top_k_categorical_accuracy(np.eye(3)[[2]], np.array([[0.5, 0.3, 0.2]]), k=2).tolist()
        [0.0]
    """
    y_true, y_pred = _raw(y_true), _raw(y_pred)
    return _top_k_hits(y_true.argmax(axis=-1), y_pred, k)


@REGISTRY.register()
def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1 where the integer label is among the ``k`` highest-scored classes.

    Example:
        >>> sparse_top_k_categorical_accuracy(np.array([0]), np.array([[0.5, 0.3, 0.2]]), k=1).tolist()
        [1.0]
    """
    y_true, y_pred = _raw(y_true), _raw(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _top_k_hits(y_true, y_pred, k)


def _mae(y_true, y_pred):
    y_true = _match_rank(_raw(y_true), _raw(y_pred))
    return abs(_raw(y_pred) - y_true).mean(axis=-1)


def _mse(y_true, y_pred):
    y_true = _match_rank(_raw(y_true), _raw(y_pred))
    return ((_raw(y_pred) - y_true) ** 2).mean(axis=-1)


# ---------------------------------------------------------------------------- classes
def _wrapper_class(class_name: str, fn, default_name: str, doc: str, **defaults):
    def __init__(self, name: str = default_name, dtype=None, **kwargs):
        unknown = sorted(set(kwargs) - set(defaults))
        if unknown:
            raise TypeError(f"{class_name}: unexpected argument(s) {', '.join(unknown)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})

    # The signature shows the real arguments (``inspect.signature``, help()), not ``**kwargs``.
    keyword = inspect.Parameter.KEYWORD_ONLY
    __init__.__signature__ = inspect.Signature(
        [
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default_name),
            inspect.Parameter("dtype", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
        ]
        + [inspect.Parameter(k, keyword, default=v) for k, v in defaults.items()]
    )
    cls = type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})
    REGISTRY.add(class_name, cls)
    return cls


BinaryAccuracy = _wrapper_class(
    "BinaryAccuracy",
    binary_accuracy,
    "binary_accuracy",
    """How often (y_pred > threshold) matches a binary label.

    Example:
        >>> BinaryAccuracy()(np.array([[1.0]]), np.array([[0.8]]))
        1.0
    """,
    threshold=0.5,
)
CategoricalAccuracy = _wrapper_class(
    "CategoricalAccuracy",
    categorical_accuracy,
    "categorical_accuracy",
    """How often the arg-max prediction matches a one-hot label.

    Example:
        >>> CategoricalAccuracy()(np.eye(2), np.eye(2))
        1.0
    """,
)
SparseCategoricalAccuracy = _wrapper_class(
    "SparseCategoricalAccuracy",
    sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
    """How often the arg-max prediction matches an integer label.

    Example:
        >>> SparseCategoricalAccuracy()(np.array([1]), np.array([[0.2, 0.8]]))
        1.0
    """,
)
TopKCategoricalAccuracy = _wrapper_class(
    "TopKCategoricalAccuracy",
    top_k_categorical_accuracy,
    "top_k_categorical_accuracy",
    """How often the one-hot label is among the top ``k`` (default 5) predictions.

    Example:
        >>> TopKCategoricalAccuracy(k=1)(np.eye(2), np.eye(2))
        1.0
    """,
    k=5,
)
SparseTopKCategoricalAccuracy = _wrapper_class(
    "SparseTopKCategoricalAccuracy",
    sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy",
    """How often the integer label is among the top ``k`` (default 5) predictions.

    Example:
        >>> SparseTopKCategoricalAccuracy(k=1)(np.array([0]), np.array([[0.9, 0.1]]))
        1.0
    """,
    k=5,
)
MeanAbsoluteError = _wrapper_class(
    "MeanAbsoluteError",
    _mae,
    "mean_absolute_error",
    """Mean of |y_true - y_pred|.

    Example:
        >>> MeanAbsoluteError()(np.array([[1.0]]), np.array([[3.0]]))
        2.0
    """,
)
MeanSquaredError = _wrapper_class(
    "MeanSquaredError",
    _mse,
    "mean_squared_error",
    """Mean of (y_true - y_pred) ** 2.

    Example:
        >>> MeanSquaredError()(np.array([[1.0]]), np.array([[3.0]]))
        4.0
    """,
)


@REGISTRY.register("RootMeanSquaredError")
class RootMeanSquaredError(Mean):
    """sqrt of the mean squared error over everything seen (not the mean of per-batch roots).

    Example:
        >>> RootMeanSquaredError()(np.array([[0.0], [0.0]]), np.array([[3.0], [4.0]]))
        3.5355339059327378
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(_mse(y_true, y_pred), sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class _ConfusionMetric(Metric):
    """Counts of true/false positives over every element, with predictions cut at ``thresholds``."""

    def __init__(self, thresholds=None, name=None, dtype=None, top_k: int | None = None, class_id: int | None = None):
        self.thresholds = np.atleast_1d(np.asarray(0.5 if thresholds is None else thresholds, dtype="float64"))
        self.top_k, self.class_id = top_k, class_id
        super().__init__(name, dtype)

    _additive_state = ("tp", "fp", "fn")

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.tp, self.fp, self.fn = (np.zeros(n, dtype=self._acc_dtype) for _ in range(3))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _raw(y_true), _raw(y_pred)
        y_true = _match_rank(y_true, y_pred)
        xp = array_module(y_pred)
        if self.top_k is not None:  # only the k best-scored classes can count as predicted
            kth = xp.sort(y_pred, axis=-1)[..., -self.top_k][..., None]
            y_pred = xp.where(y_pred >= kth, y_pred, -xp.inf)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        truth = y_true.reshape(-1) > 0.5
        scores = y_pred.reshape(-1).astype("float64")
        w = _weights(sample_weight, y_true.shape[0] if y_true.ndim else 1, xp)
        if w is not None:  # a weight per sample applies to each of its outputs
            w = xp.repeat(w, truth.size // w.size)
        else:
            w = xp.ones(truth.size)
        predicted = scores[None, :] > xp.asarray(self.thresholds)[:, None]
        self.tp += np.asarray(((predicted & truth) * w).sum(axis=1))
        self.fp += np.asarray(((predicted & ~truth) * w).sum(axis=1))
        self.fn += np.asarray(((~predicted & truth) * w).sum(axis=1))

    def _scalar(self, values):
        return float(values[0]) if len(values) == 1 else values.tolist()

    def get_config(self) -> dict:
        return {
            "name": self.name,
            **self._dtype_config(),
            "thresholds": self.thresholds.tolist(),
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


@REGISTRY.register("Precision")
class Precision(_ConfusionMetric):
    """true positives / predicted positives, each output thresholded at 0.5 by default.

    Example:
        >>> Precision()(np.array([[1.0], [0.0]]), np.array([[0.9], [0.8]]))
        0.5
    """

    def result(self):
        denominator = self.tp + self.fp
        return self._scalar(np.divide(self.tp, denominator, out=np.zeros_like(self.tp), where=denominator > 0))


@REGISTRY.register("Recall")
class Recall(_ConfusionMetric):
    """true positives / actual positives, each output thresholded at 0.5 by default.

    Example:
        >>> Recall()(np.array([[1.0], [1.0]]), np.array([[0.9], [0.1]]))
        0.5
    """

    def result(self):
        denominator = self.tp + self.fn
        return self._scalar(np.divide(self.tp, denominator, out=np.zeros_like(self.tp), where=denominator > 0))


@REGISTRY.register("AUC")
class AUC(Metric):
    """Area under the ROC (or precision-recall) curve, from counts at ``num_thresholds`` cut points.

    As Keras: thresholds evenly spaced in [0, 1] plus two just outside it, a Riemann sum with
    ``summation_method`` "interpolation" (trapezoids; for PR, Davis and Goadrich's
    interpolation), "minoring" or "majoring". Every output is treated as a binary prediction.

    Example:
        >>> AUC()(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
        0.75
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype=None,
        thresholds=None,
        from_logits: bool = False,
    ):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be interpolation, minoring or majoring, got {summation_method!r}")
        # Thresholds given replace num_thresholds (as in Keras); the config keeps them.
        self._given_thresholds = None if thresholds is None else [float(t) for t in np.sort(np.asarray(thresholds))]
        if thresholds is not None:
            inner = np.sort(np.asarray(thresholds, dtype="float64"))
        else:
            if num_thresholds < 2:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            inner = np.arange(1, num_thresholds - 1, dtype="float64") / (num_thresholds - 1)
        eps = 1e-7
        self.thresholds = np.concatenate([[0.0 - eps], inner, [1.0 + eps]])
        self.num_thresholds = len(self.thresholds)
        self.curve, self.summation_method, self.from_logits = curve, summation_method, from_logits
        super().__init__(name or "auc", dtype)

    _additive_state = ("tp", "fp", "tn", "fn")

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n, dtype=self._acc_dtype) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _raw(y_true), _raw(y_pred)
        y_true = _match_rank(y_true, y_pred)
        xp = array_module(y_pred)
        scores = y_pred.reshape(-1).astype("float64")
        if self.from_logits:
            scores = 1 / (1 + xp.exp(-scores))
        truth = y_true.reshape(-1) > 0.5
        w = _weights(sample_weight, y_true.shape[0] if y_true.ndim else 1, xp)
        w = xp.ones(truth.size) if w is None else xp.repeat(w, truth.size // w.size)
        # A histogram of scores over the threshold buckets gives every count in one pass.
        order = xp.searchsorted(xp.asarray(self.thresholds), scores, side="left")  # first threshold >= score
        pos = xp.bincount(order, weights=w * truth, minlength=self.num_thresholds + 1)
        neg = xp.bincount(order, weights=w * ~truth, minlength=self.num_thresholds + 1)
        # predicted positive at threshold t when score > t, i.e. bucket index > t's index
        pos_above = np.asarray(xp.cumsum(pos[::-1])[::-1][1:])
        neg_above = np.asarray(xp.cumsum(neg[::-1])[::-1][1:])
        self.tp += pos_above
        self.fp += neg_above
        self.fn += float(pos.sum()) - pos_above
        self.tn += float(neg.sum()) - neg_above

    def result(self) -> float:
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc()
        recall = _safe_div(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _safe_div(fp, fp + tn), recall
        else:
            x, y = recall, _safe_div(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def _interpolated_pr_auc(self) -> float:
        """Davis & Goadrich (2006): precision interpolated along true positives between cut points."""
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _safe_div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _safe_div(p[:-1], np.maximum(p[1:], 0)), np.ones_like(p[1:]))
        pr_auc_increment = _safe_div(prec_slope * (dtp + intercept * np.log(safe_p_ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return float(np.sum(pr_auc_increment))

    def get_config(self) -> dict:
        config = {
            "name": self.name,
            **self._dtype_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "from_logits": self.from_logits,
        }
        if self._given_thresholds is not None:
            config["thresholds"] = self._given_thresholds
        return config


def _safe_div(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype="float64"), where=b != 0)


# Keras's string names for metrics; "accuracy" is resolved by the model, which knows the loss.
for _name, _cls in [
    ("binary_accuracy", BinaryAccuracy),
    ("categorical_accuracy", CategoricalAccuracy),
    ("sparse_categorical_accuracy", SparseCategoricalAccuracy),
    ("top_k_categorical_accuracy", TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", SparseTopKCategoricalAccuracy),
    ("mae", MeanAbsoluteError),
    ("mean_absolute_error", MeanAbsoluteError),
    ("mse", MeanSquaredError),
    ("mean_squared_error", MeanSquaredError),
    ("rmse", RootMeanSquaredError),
    ("root_mean_squared_error", RootMeanSquaredError),
    ("precision", Precision),
    ("recall", Recall),
    ("auc", AUC),
]:
    REGISTRY.add(_name, _cls)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (Keras's ``Accuracy`` class).

    The string ``"accuracy"`` in ``compile`` means something else: the model picks binary,
    categorical or sparse categorical accuracy from the loss and the shapes.

    Example:
        >>> Accuracy()(np.array([1, 2]), np.array([1, 3]))
        0.5
    """

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(lambda t, p: (t == p).astype("float64"), name=name, dtype=dtype)


REGISTRY.add("Accuracy", Accuracy)


def get(identifier, name: str | None = None) -> Metric:
    """Resolve a metric to an instance: a name, a Metric, a Metric class or a function.

    ``name`` overrides the reported name (``compile`` passes the string the user wrote).

    Example:
        >>> get("mae").name
        'mae'
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        found = REGISTRY.lookup(identifier)
        if isinstance(found, type):
            metric = found()
        else:
            metric = MeanMetricWrapper(found)
        metric.name = name or identifier
        return metric
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=name)
    raise TypeError(f"metric must be a name, a Metric or a callable, got {type(identifier).__name__}: {identifier!r}")


def accuracy_for(loss_name: str | None, y_true_shape: tuple, y_pred_shape: tuple) -> Metric:
    """The accuracy that fits a loss (by its name) or, failing that, the shapes, as Keras chooses.

    Example:
        >>> type(accuracy_for("sparse_categorical_crossentropy", (8,), (8, 3))).__name__
        'SparseCategoricalAccuracy'
    """
    kinds = {
        "binary_crossentropy": BinaryAccuracy,
        "categorical_crossentropy": CategoricalAccuracy,
        "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
    }
    cls = kinds.get(loss_name)
    if cls is None:
        if y_pred_shape[-1] == 1:
            cls = BinaryAccuracy
        elif len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
            cls = SparseCategoricalAccuracy
        else:
            cls = CategoricalAccuracy
    metric = cls()
    metric.name = "accuracy"
    return metric


# ---------------------------------------------------------------------------- the rest of Keras's metrics
# Keras's metric namespace also holds its loss functions (per-sample values, as a Tensor).
from ..losses import (  # noqa: E402, F401  (re-exported: Keras's metric names)
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .confusion_metrics import (  # noqa: E402, F401  (re-exported: Keras's metric names)
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from .iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: E402, F401  (re-exported: Keras's metric names)
from .probabilistic_metrics import (  # noqa: E402  (re-exported: Keras's metric names)
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from .regression_metrics import (  # noqa: E402, F401  (re-exported: Keras's metric names)
    ConcordanceCorrelation,
    CosineSimilarity,
    LogCoshError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    PearsonCorrelation,
    R2Score,
    Sum,
    concordance_correlation,
    pearson_correlation,
)

for _name, _cls in [
    ("mape", MeanAbsolutePercentageError),
    ("mean_absolute_percentage_error", MeanAbsolutePercentageError),
    ("msle", MeanSquaredLogarithmicError),
    ("mean_squared_logarithmic_error", MeanSquaredLogarithmicError),
    ("binary_crossentropy", BinaryCrossentropy),
    ("categorical_crossentropy", CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy),
    ("kl_divergence", KLDivergence),
    ("kld", KLDivergence),
    ("poisson", Poisson),
    ("hinge", Hinge),
    ("squared_hinge", SquaredHinge),
    ("categorical_hinge", CategoricalHinge),
    ("logcosh", LogCoshError),
    ("cosine_similarity", CosineSimilarity),
    ("r2_score", R2Score),
    ("f1_score", F1Score),
    ("pearson_correlation", PearsonCorrelation),
    ("concordance_correlation", ConcordanceCorrelation),
]:
    REGISTRY.add(_name, _cls)


def serialize(obj) -> dict:
    """Keras's dict for one of these objects: ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> serialize(F1Score(average="macro"))["class_name"]
        'F1Score'
    """
    from ..serialization import serialize_keras_object  # noqa: PLC0415  (it imports this module)

    return serialize_keras_object(obj)


def deserialize(config, custom_objects: dict | None = None):
    """The object :func:`serialize`'s dict (or Keras's) describes, or the one a name gives.

    Example:
        >>> deserialize({"class_name": "F1Score", "config": {"average": "macro"}}).average
        'macro'
    """
    from ..serialization import deserialize_in  # noqa: PLC0415

    return deserialize_in(REGISTRY, config, custom_objects, instantiate_names=False)
