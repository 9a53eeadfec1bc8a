"""Regression metrics: R2, correlations, cosine similarity, the error means, and ``Sum``.

Example:
    >>> import numpy as np
    >>> from myelin import metrics
    >>> metrics.R2Score()(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [4.0]]))
    0.5
"""

from __future__ import annotations

import warnings

import numpy as np

from ..backend import array_module
from ..losses import log_cosh, mean_absolute_percentage_error, mean_squared_logarithmic_error
from . import REGISTRY, Metric, _match_rank, _raw, _wrapper_class

_EPSILON = 1e-7


def _host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a)


def _pair(y_true, y_pred):
    y_true, y_pred = _raw(y_true), _raw(y_pred)
    xp = array_module(y_pred)
    y_pred = xp.asarray(y_pred, dtype="float64")
    y_true = _match_rank(xp.asarray(y_true, dtype="float64"), y_pred)
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return xp, y_true, y_pred


def cosine_similarity(y_true, y_pred, axis: int = -1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis`` (1 for equal directions).

    Example:
        >>> cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[0.0, 2.0], [-1.0, -1.0]]).round(5)
        array([ 1., -1.])
    """
    xp, y_true, y_pred = _pair(y_true, y_pred)

    def unit(x):
        return x / xp.maximum(xp.sqrt((x * x).sum(axis=axis, keepdims=True)), _EPSILON)

    return (unit(y_true) * unit(y_pred)).sum(axis=axis)


def pearson_correlation(y_true, y_pred, axis: int = -1):
    """Pearson's correlation of y_true and y_pred along ``axis`` (population standard deviations).

    Example:
        >>> pearson_correlation([[0.0, 1.0, 0.5]], [[0.1, 0.9, 0.5]]).round(5)
        array([1.])
    """
    _, y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - y_true.mean(axis=axis, keepdims=True)
    p = y_pred - y_pred.mean(axis=axis, keepdims=True)
    t = t / t.std(axis=axis, keepdims=True)
    p = p / p.std(axis=axis, keepdims=True)
    return (t * p).mean(axis=axis)


def concordance_correlation(y_true, y_pred, axis: int = -1):
    """Lin's concordance correlation along ``axis``, with Keras's formula.

    mean(2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) / (var(y_true) + var(y_pred) +
    (mean(y_true) - mean(y_pred)) ** 2 + 1e-7)); Keras centres y_true on y_pred's mean in the
    covariance term, and so does myelin, to give the same numbers.

    Example:
        >>> concordance_correlation([[0.0, 1.0, 0.5]], [[0.0, 1.0, 0.5]]).round(5)
        array([1.])
    """
    _, y_true, y_pred = _pair(y_true, y_pred)
    mt, mp = y_true.mean(axis=axis, keepdims=True), y_pred.mean(axis=axis, keepdims=True)
    vt, vp = (y_true - mt).var(axis=axis, keepdims=True), (y_pred - mp).var(axis=axis, keepdims=True)
    covariance = (y_true - mp) * (y_pred - mp)
    return (2 * covariance / (vt + vp + (mt - mp) ** 2 + _EPSILON)).mean(axis=axis)


CosineSimilarity = _wrapper_class(
    "CosineSimilarity",
    cosine_similarity,
    "cosine_similarity",
    """Mean cosine similarity between labels and predictions along ``axis``.

    Example:
        >>> round(CosineSimilarity()(np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 1.0]])), 4)
        0.5
    """,
    axis=-1,
)
PearsonCorrelation = _wrapper_class(
    "PearsonCorrelation",
    pearson_correlation,
    "pearson_correlation",
    """Mean of the per-sample Pearson correlations along ``axis``.

    Example:
        >>> round(PearsonCorrelation()(np.array([[0.0, 1.0, 0.5]]), np.array([[0.1, 0.9, 0.5]])), 4)
        1.0
    """,
    axis=-1,
)
ConcordanceCorrelation = _wrapper_class(
    "ConcordanceCorrelation",
    concordance_correlation,
    "concordance_correlation",
    """Mean of the per-sample concordance correlations along ``axis`` (Keras's formula).

    Example:
        >>> round(ConcordanceCorrelation()(np.array([[0.0, 1.0, 0.5]]), np.array([[0.0, 1.0, 0.5]])), 4)
        1.0
    """,
    axis=-1,
)
LogCoshError = _wrapper_class(
    "LogCoshError",
    log_cosh,
    "logcosh",
    """Mean of log(cosh(y_pred - y_true)).

    Example:
        >>> round(LogCoshError()(np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])), 4)
        0.2169
    """,
)
MeanAbsolutePercentageError = _wrapper_class(
    "MeanAbsolutePercentageError",
    mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    """Mean of 100 |y_true - y_pred| / |y_true|.

    Example:
        >>> MeanAbsolutePercentageError()(np.array([[2.0, 4.0]]), np.array([[1.0, 5.0]]))
        37.5
    """,
)
MeanSquaredLogarithmicError = _wrapper_class(
    "MeanSquaredLogarithmicError",
    mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    """Mean of (log(1 + y_pred) - log(1 + y_true)) ** 2.

    Example:
        >>> round(MeanSquaredLogarithmicError()(np.array([[0.0]]), np.array([[1.718281828]])), 5)
        1.0
    """,
)


@REGISTRY.register("Sum")
class Sum(Metric):
    """The (weighted) sum of the values it is given.

    Example:
        >>> m = Sum(); m.update_state([1.0, 3.0, 5.0]); m.update_state([2.0], sample_weight=[0.5]); m.result()
        10.0
    """

    _additive_state = ("total",)

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.total = 0.0 if self.dtype is None else np.dtype(self.dtype).type(0)

    def update_state(self, values, sample_weight=None) -> None:
        values = _raw(values)
        xp = array_module(values)
        values = xp.asarray(values, dtype=self._acc_dtype)
        if sample_weight is not None:
            w = xp.asarray(_raw(sample_weight), dtype=self._acc_dtype)
            while w.ndim < values.ndim:
                w = w[..., None]
            values = values * w
        self.total += float(values.sum())

    def result(self) -> float:
        return float(self.total)


@REGISTRY.register("R2Score")
class R2Score(Metric):
    """The coefficient of determination per output of a (batch, outputs) regression, aggregated.

    ``class_aggregation``: "uniform_average" (mean over outputs), "variance_weighted_average"
    or None (one score per output). ``num_regressors`` > 0 gives the adjusted R2.

    Example:
        >>> R2Score()(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [4.0]]))
        0.5
    """

    _additive_state = ("squared_sum", "sum", "total_mse", "count", "num_samples")

    def __init__(
        self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0, name="r2_score", dtype=None
    ):
        choices = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in choices:
            raise ValueError(f"R2Score: class_aggregation must be one of {choices}, got {class_aggregation!r}")
        if not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be an integer >= 0, got {num_regressors!r}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.squared_sum = self.sum = self.total_mse = self.count = None
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        xp, y_true, y_pred = _pair(y_true, y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                f"R2Score expects 2-D inputs (batch_size, output_dim), got y_true {y_true.shape} and y_pred {y_pred.shape}"
            )
        if sample_weight is None:
            w = xp.ones_like(y_true)
        else:
            w = xp.asarray(_raw(sample_weight), dtype="float64")
            w = xp.broadcast_to(w[:, None] if w.ndim == 1 else w, y_true.shape)
        parts = [y_true * y_true * w, y_true * w, (y_true - y_pred) ** 2 * w, w]
        sums = [_host(p.sum(axis=0)) for p in parts]
        if self.sum is None:
            self.squared_sum, self.sum, self.total_mse, self.count = sums
        else:
            if sums[0].shape != self.sum.shape:
                raise ValueError(f"R2Score: got {y_pred.shape[-1]} outputs after {self.sum.shape[0]}")
            self.squared_sum, self.sum, self.total_mse, self.count = (
                a + b for a, b in zip((self.squared_sum, self.sum, self.total_mse, self.count), sums)
            )
        self.num_samples += int(y_true.size)

    def result(self):
        if self.sum is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n, p = self.num_samples, self.num_regressors
            if p >= n - 1:
                warnings.warn("R2Score: too few samples for the adjusted R2 score; giving the plain R2 score", stacklevel=2)
            else:
                score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return float(score) if np.ndim(score) == 0 else np.asarray(score).tolist()

    def get_config(self) -> dict:
        return {
            "name": self.name,
            **self._dtype_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
