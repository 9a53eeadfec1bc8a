"""Confusion-matrix metrics: counts at thresholds, the "X at Y" metrics, F1 and F-beta scores.

A prediction counts as positive at threshold t when it is strictly above t (as in Keras); a
label is positive when above 0.5. ``sample_weight`` weighs each sample (and each of its
outputs). Counts are kept in float64.

Example:
    >>> import numpy as np
    >>> from myelin import metrics
    >>> m = metrics.TruePositives()
    >>> m.update_state(np.array([1, 1, 0]), np.array([0.9, 0.2, 0.8]))
    >>> m.result()
    1.0
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module
from . import REGISTRY, Metric, _match_rank, _raw, _weights


def _host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a)


def confusion_counts(y_true, y_pred, thresholds, class_id=None, sample_weight=None) -> tuple:
    """(tp, fp, tn, fn), each one value per threshold, over every element of the batch.

    Example:
        >>> tp, fp, tn, fn = confusion_counts(np.array([1, 0]), np.array([0.7, 0.6]), [0.5, 0.65])
        >>> tp.tolist(), fp.tolist(), tn.tolist(), fn.tolist()
        ([1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0])
    """
    y_true, y_pred = _raw(y_true), _raw(y_pred)
    y_true = _match_rank(y_true, y_pred)
    xp = array_module(y_pred)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
    truth = xp.asarray(y_true).reshape(-1) > 0.5
    scores = xp.asarray(y_pred, dtype="float64").reshape(-1)
    if truth.size != scores.size:
        raise ValueError(f"y_true has {truth.size} values but y_pred has {scores.size}; they must match")
    w = _weights(sample_weight, y_true.shape[0] if y_true.ndim else 1, xp)
    w = xp.ones(truth.size) if w is None else xp.repeat(w, truth.size // max(w.size, 1))
    predicted = scores[None, :] > xp.asarray(thresholds, dtype="float64")[:, None]
    tp = ((predicted & truth) * w).sum(axis=1)
    fp = ((predicted & ~truth) * w).sum(axis=1)
    fn = ((~predicted & truth) * w).sum(axis=1)
    tn = ((~predicted & ~truth) * w).sum(axis=1)
    return tuple(_host(c) for c in (tp, fp, tn, fn))


class _Count(Metric):
    _kind = "tp"
    _additive_state = ("count",)

    def __init__(self, thresholds=None, name: str | None = None, dtype=None):
        self._given = thresholds
        values = 0.5 if thresholds is None else thresholds
        self.thresholds = np.atleast_1d(np.asarray(values, dtype="float64"))
        if self.thresholds.ndim != 1 or not np.all((self.thresholds >= 0) & (self.thresholds <= 1)):
            raise ValueError(f"{type(self).__name__}: thresholds must be numbers in [0, 1], got {thresholds!r}")
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.count = np.zeros(len(self.thresholds), dtype=self._acc_dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        counts = dict(zip(("tp", "fp", "tn", "fn"), confusion_counts(y_true, y_pred, self.thresholds, None, sample_weight)))
        self.count += counts[self._kind]

    def result(self):
        return float(self.count[0]) if np.ndim(self._given) == 0 else self.count.tolist()

    def get_config(self) -> dict:
        given = self._given
        given = given if given is None or np.ndim(given) == 0 else [float(t) for t in np.ravel(given)]
        return {"name": self.name, **self._dtype_config(), "thresholds": given}


def _count_class(class_name: str, kind: str, doc: str):
    default = "".join("_" + c.lower() if c.isupper() else c for c in class_name).lstrip("_")

    def __init__(self, thresholds=None, name: str | None = None, dtype=None):
        _Count.__init__(self, thresholds, name or default, dtype)

    cls = type(class_name, (_Count,), {"__init__": __init__, "_kind": kind, "__doc__": doc})
    REGISTRY.add(class_name, cls)
    return cls


TruePositives = _count_class(
    "TruePositives",
    "tp",
    """The (weighted) number of true positives at each threshold (default 0.5).

    Example:
        >>> TruePositives()(np.array([1, 1, 0]), np.array([0.9, 0.2, 0.8]))
        1.0
    """,
)
FalsePositives = _count_class(
    "FalsePositives",
    "fp",
    """The (weighted) number of false positives at each threshold (default 0.5).

    Example:
        >>> FalsePositives(thresholds=[0.5, 0.85])(np.array([1, 1, 0]), np.array([0.9, 0.2, 0.8]))
        [1.0, 0.0]
    """,
)
TrueNegatives = _count_class(
    "TrueNegatives",
    "tn",
    """The (weighted) number of true negatives at each threshold (default 0.5).

    Example:
        >>> TrueNegatives()(np.array([0, 0, 1]), np.array([0.1, 0.7, 0.2]))
        1.0
    """,
)
FalseNegatives = _count_class(
    "FalseNegatives",
    "fn",
    """The (weighted) number of false negatives at each threshold (default 0.5).

    Example:
        >>> FalseNegatives()(np.array([1, 1, 0]), np.array([0.9, 0.2, 0.8]))
        1.0
    """,
)


class _AtConstraint(Metric):
    """Counts at ``num_thresholds`` evenly spaced thresholds in [0, 1]; the result is the best
    ``dependent`` value among thresholds where ``constrained >= value`` (0 when none)."""

    _additive_state = ("tp", "fp", "tn", "fn")
    _value_name = "value"

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None, name=None, dtype=None):
        owner = type(self).__name__
        if not isinstance(num_thresholds, int) or isinstance(num_thresholds, bool) or num_thresholds <= 0:
            raise ValueError(f"{owner}: num_thresholds must be an integer > 0, got {num_thresholds!r}")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{owner}: {self._value_name} must be in [0, 1], got {value!r}")
        self.value, self.num_thresholds, self.class_id = float(value), num_thresholds, class_id
        if num_thresholds == 1:
            self.thresholds = np.array([0.5])
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = np.array([0.0, *inner, 1.0])
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n, dtype=self._acc_dtype) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self.thresholds, self.class_id, sample_weight)
        self.tp += tp
        self.fp += fp
        self.tn += tn
        self.fn += fn

    def _rates(self) -> dict:
        div = _divide_no_nan
        return {
            "sensitivity": div(self.tp, self.tp + self.fn),
            "specificity": div(self.tn, self.tn + self.fp),
            "precision": div(self.tp, self.tp + self.fp),
        }

    def _best(self, constrained, dependent) -> float:
        feasible = constrained >= self.value
        return float(np.max(np.where(feasible, dependent, 0.0), initial=0.0))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            **self._dtype_config(),
            self._value_name: self.value,
            "num_thresholds": self.num_thresholds,
            "class_id": self.class_id,
        }


def _divide_no_nan(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype="float64"), where=b != 0)


@REGISTRY.register("SensitivityAtSpecificity")
class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) among thresholds whose specificity is at least ``specificity``.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m(np.array([0, 0, 1, 1]), np.array([0.0, 0.5, 0.3, 0.9]))
        1.0
    """

    _value_name = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name or "sensitivity_at_specificity", dtype)

    def result(self) -> float:
        r = self._rates()
        return self._best(r["specificity"], r["sensitivity"])


@REGISTRY.register("SpecificityAtSensitivity")
class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity among thresholds whose sensitivity is at least ``sensitivity``.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m(np.array([0, 0, 1, 1]), np.array([0.0, 0.5, 0.3, 0.9]))
        1.0
    """

    _value_name = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name or "specificity_at_sensitivity", dtype)

    def result(self) -> float:
        r = self._rates()
        return self._best(r["sensitivity"], r["specificity"])


@REGISTRY.register("PrecisionAtRecall")
class PrecisionAtRecall(_AtConstraint):
    """The best precision among thresholds whose recall is at least ``recall``.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m(np.array([0, 0, 0, 1, 1]), np.array([0.0, 0.3, 0.8, 0.3, 0.8]))
        0.5
    """

    _value_name = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name or "precision_at_recall", dtype)

    def result(self) -> float:
        r = self._rates()
        return self._best(r["sensitivity"], r["precision"])


@REGISTRY.register("RecallAtPrecision")
class RecallAtPrecision(_AtConstraint):
    """The best recall among thresholds whose precision is at least ``precision`` (0 when none).

    Example:
        >>> m = RecallAtPrecision(0.8)
        >>> m(np.array([0, 0, 1, 1]), np.array([0.0, 0.5, 0.3, 0.9]))
        0.5
    """

    _value_name = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name or "recall_at_precision", dtype)

    def result(self) -> float:
        r = self._rates()
        return self._best(r["precision"], r["sensitivity"])


_EPSILON = 1e-7


@REGISTRY.register("FBetaScore")
class FBetaScore(Metric):
    """F-beta score per class of a (batch, classes) output, or averaged ("micro", "macro", "weighted").

    Without ``threshold`` each row's largest score is the predicted class; with it, every
    score above ``threshold`` is a positive prediction (multi-label).

    Example:
        >>> m = FBetaScore(beta=1.0, average="macro")
        >>> round(m(np.eye(3), np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])), 4)
        0.5556
    """

    _additive_state = ("tp", "fp", "fn", "support")

    def __init__(
        self, average: str | None = None, beta: float = 1.0, threshold: float | None = None, name="fbeta_score", dtype=None
    ):
        owner = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{owner}: average must be None, 'micro', 'macro' or 'weighted', got {average!r}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{owner}: beta must be a Python float > 0, got {beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{owner}: threshold must be None or a Python float in (0, 1], got {threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.tp = self.fp = self.fn = self.support = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _raw(y_true), _raw(y_pred)
        xp = array_module(y_pred)
        y_true = xp.asarray(y_true, dtype="float64")
        y_pred = xp.asarray(y_pred, dtype="float64")
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2-D inputs (batch_size, output_dim), got y_true {y_true.shape} "
                f"and y_pred {y_pred.shape}"
            )
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (xp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype("float64")
        w = _weights(sample_weight, y_true.shape[0], xp)
        w = xp.ones((y_true.shape[0], 1)) if w is None else w[:, None]
        axis = None if self.average == "micro" else 0
        parts = [predicted * y_true, predicted * (1 - y_true), (1 - predicted) * y_true, y_true]
        sums = [_host((p * w).sum(axis=axis)).astype(self._acc_dtype) for p in parts]
        if self.tp is None:
            self.tp, self.fp, self.fn, self.support = sums
        else:
            if np.shape(sums[0]) != np.shape(self.tp):
                raise ValueError(f"{type(self).__name__}: got {y_pred.shape[-1]} classes after {np.size(self.tp)}")
            self.tp, self.fp, self.fn, self.support = (a + b for a, b in zip((self.tp, self.fp, self.fn, self.support), sums))

    def result(self):
        if self.tp is None:
            return 0.0
        precision = self.tp / (self.tp + self.fp + _EPSILON)
        recall = self.tp / (self.tp + self.fn + _EPSILON)
        b2 = self.beta**2
        score = precision * recall / (b2 * precision + recall + _EPSILON) * (1 + b2)
        if self.average == "weighted":
            score = np.sum(score * self.support / (np.sum(self.support) + _EPSILON))
        elif self.average is not None:
            score = np.mean(score)
        return float(score) if np.ndim(score) == 0 else score.tolist()

    def get_config(self) -> dict:
        return {
            "name": self.name,
            **self._dtype_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


@REGISTRY.register("F1Score")
class F1Score(FBetaScore):
    """The F1 score (F-beta with beta = 1): the harmonic mean of precision and recall.

    Example:
        >>> m = F1Score(average="micro")
        >>> round(m(np.eye(3), np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])), 4)
        0.6667
    """

    def __init__(self, average: str | None = None, threshold: float | None = None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
