"""Intersection-over-union metrics for segmentation and classification, from a confusion matrix.

IoU of a class = TP / (TP + FP + FN), over everything seen; a class that never appears in
the labels nor the predictions is left out of the mean. Class ids outside
``[0, num_classes)`` (and ``ignore_class``) are not counted.

Example:
    >>> import numpy as np
    >>> from myelin import metrics
    >>> m = metrics.MeanIoU(num_classes=2)
    >>> round(m(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])), 4)
    0.3333
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module
from . import REGISTRY, Metric, _raw

_EPSILON = 1e-7


def _host(a) -> np.ndarray:
    return np.asarray(a.get() if hasattr(a, "get") else a)


def _class_ids(ids, owner: str) -> list[int]:
    try:
        out = [int(i) for i in ids]
    except TypeError as err:
        raise ValueError(f"{owner}: target_class_ids must be a list of class ids, got {ids!r}") from err
    if not out:
        raise ValueError(f"{owner}: target_class_ids must not be empty")
    return out


class _IoUBase(Metric):
    _additive_state = ("total_cm",)

    def __init__(
        self,
        num_classes: int,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        owner = type(self).__name__
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(f"{owner}: num_classes must be a positive integer, got {num_classes!r}")
        self.num_classes = num_classes
        self.target_class_ids = _class_ids(target_class_ids, owner)
        bad = [i for i in self.target_class_ids if not 0 <= i < num_classes]
        if bad:
            raise ValueError(f"{owner}: target_class_ids {bad} are not in [0, num_classes={num_classes})")
        self.ignore_class, self.sparse_y_true, self.sparse_y_pred, self.axis = ignore_class, sparse_y_true, sparse_y_pred, axis
        super().__init__(name, dtype)

    def reset_state(self) -> None:
        self.total_cm = np.zeros((self.num_classes, self.num_classes), dtype=self._acc_dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _raw(y_true), _raw(y_pred)
        xp = array_module(y_pred)
        y_true, y_pred = xp.asarray(y_true), xp.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = xp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = xp.argmax(y_pred, axis=self.axis)
        y_true, y_pred = y_true.reshape(-1).astype("int64"), y_pred.reshape(-1).astype("int64")
        if y_true.size != y_pred.size:
            raise ValueError(f"{type(self).__name__}: y_true has {y_true.size} class ids but y_pred has {y_pred.size}")
        if sample_weight is None:
            w = xp.ones(y_true.size)
        else:
            w = xp.broadcast_to(xp.asarray(_raw(sample_weight), dtype="float64").reshape(-1), y_true.shape)
        n = self.num_classes
        keep = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        index = y_true[keep] * n + y_pred[keep]
        self.total_cm += _host(xp.bincount(index, weights=w[keep], minlength=n * n)).reshape(n, n)

    def result(self) -> float:
        cm = self.total_cm
        tp = np.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        tp = tp[self.target_class_ids]
        valid = denominator > 1e-9
        iou = np.where(valid, tp / (denominator + _EPSILON), 0.0)
        return float(iou.sum() / (valid.sum() + _EPSILON))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            **self._dtype_config(),
            "num_classes": self.num_classes,
            "target_class_ids": list(self.target_class_ids),
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


@REGISTRY.register("IoU")
class IoU(_IoUBase):
    """Mean IoU over the classes in ``target_class_ids``, from integer class ids (or one-hot/scores).

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> round(m(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])), 4)
        0.3333
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ):
        super().__init__(
            num_classes, target_class_ids, name or "io_u", dtype, ignore_class, sparse_y_true, sparse_y_pred, axis
        )


@REGISTRY.register("MeanIoU")
class MeanIoU(_IoUBase):
    """IoU averaged over all ``num_classes`` classes.

    Example:
        >>> round(MeanIoU(num_classes=2)(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])), 4)
        0.3333
    """

    def __init__(
        self, num_classes: int, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1
    ):
        super().__init__(
            num_classes, range(num_classes), name or "mean_io_u", dtype, ignore_class, sparse_y_true, sparse_y_pred, axis
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["target_class_ids"]
        return config


@REGISTRY.register("BinaryIoU")
class BinaryIoU(_IoUBase):
    """IoU of a binary task: scores at or above ``threshold`` are class 1, the others class 0.

    Example:
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> round(m(np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.4, 0.7])), 4)
        0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold: float = 0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name or "binary_io_u", dtype)
        self.threshold = float(threshold)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = _raw(y_pred)
        super().update_state(y_true, array_module(y_pred).asarray(y_pred) >= self.threshold, sample_weight)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            **self._dtype_config(),
            "target_class_ids": list(self.target_class_ids),
            "threshold": self.threshold,
        }


@REGISTRY.register("OneHotIoU")
class OneHotIoU(_IoUBase):
    """IoU from one-hot labels (and scores, or class ids with ``sparse_y_pred=True``).

    Example:
        >>> m = OneHotIoU(num_classes=2, target_class_ids=[1])
        >>> round(m(np.eye(2)[[0, 1, 1]], np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])), 4)
        0.5
    """

    def __init__(
        self, num_classes: int, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(
            num_classes, target_class_ids, name or "one_hot_io_u", dtype, ignore_class, False, sparse_y_pred, axis
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


@REGISTRY.register("OneHotMeanIoU")
class OneHotMeanIoU(_IoUBase):
    """Mean IoU over all classes, from one-hot labels.

    Example:
        >>> m = OneHotMeanIoU(num_classes=2)
        >>> round(m(np.eye(2)[[0, 1, 1]], np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])), 4)
        0.5
    """

    def __init__(self, num_classes: int, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(
            num_classes, range(num_classes), name or "one_hot_mean_io_u", dtype, ignore_class, False, sparse_y_pred, axis
        )

    def get_config(self) -> dict:
        config = super().get_config()
        del config["sparse_y_true"], config["target_class_ids"]
        return config
