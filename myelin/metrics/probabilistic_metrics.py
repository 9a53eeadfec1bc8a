"""Probabilistic and hinge metrics: the running means of Keras's loss functions of the same names.

Example:
    >>> import numpy as np
    >>> from myelin import metrics
    >>> round(metrics.BinaryCrossentropy()(np.array([[1.0]]), np.array([[0.5]])), 4)
    0.6931
"""

from __future__ import annotations

import numpy as np

from .. import losses
from ..backend import array_module
from . import REGISTRY, Mean, MeanMetricWrapper, _raw, _wrapper_class

BinaryCrossentropy = _wrapper_class(
    "BinaryCrossentropy",
    losses.binary_crossentropy,
    "binary_crossentropy",
    """Mean binary cross-entropy.

    Example:
        >>> round(BinaryCrossentropy()(np.array([[1.0]]), np.array([[0.5]])), 4)
        0.6931
    """,
    from_logits=False,
    label_smoothing=0.0,
)
CategoricalCrossentropy = _wrapper_class(
    "CategoricalCrossentropy",
    losses.categorical_crossentropy,
    "categorical_crossentropy",
    """Mean categorical cross-entropy of one-hot labels.

    Example:
        >>> round(CategoricalCrossentropy()(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]])), 4)
        0.6931
    """,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
KLDivergence = _wrapper_class(
    "KLDivergence",
    losses.kl_divergence,
    "kl_divergence",
    """Mean Kullback-Leibler divergence.

    Example:
        >>> round(KLDivergence()(np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])), 5)
        0.14384
    """,
)
Poisson = _wrapper_class(
    "Poisson",
    losses.poisson,
    "poisson",
    """Mean Poisson loss.

    Example:
        >>> round(Poisson()(np.array([[1.0]]), np.array([[1.0]])), 5)
        1.0
    """,
)
Hinge = _wrapper_class(
    "Hinge",
    losses.hinge,
    "hinge",
    """Mean hinge loss (0/1 labels are read as -1/1).

    Example:
        >>> Hinge()(np.array([[1.0, 0.0]]), np.array([[0.5, -2.0]]))
        0.25
    """,
)
SquaredHinge = _wrapper_class(
    "SquaredHinge",
    losses.squared_hinge,
    "squared_hinge",
    """Mean squared hinge loss.

    Example:
        >>> SquaredHinge()(np.array([[1.0, 0.0]]), np.array([[0.5, -2.0]]))
        0.125
    """,
)
CategoricalHinge = _wrapper_class(
    "CategoricalHinge",
    losses.categorical_hinge,
    "categorical_hinge",
    """Mean categorical hinge loss.

    Example:
        >>> round(CategoricalHinge()(np.array([[0.0, 1.0]]), np.array([[0.3, 0.9]])), 4)
        0.4
    """,
)


@REGISTRY.register("SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean cross-entropy of integer labels; a label equal to ``ignore_class`` adds 0 (and counts, as in Keras).

    Example:
        >>> m = SparseCategoricalCrossentropy(ignore_class=0)
        >>> round(m(np.array([1, 0]), np.array([[0.5, 0.5], [0.9, 0.1]])), 4)
        0.3466
    """

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype=None,
        from_logits: bool = False,
        ignore_class=None,
        axis: int = -1,
    ):
        if ignore_class is not None and (not isinstance(ignore_class, int) or isinstance(ignore_class, bool)):
            raise ValueError(f"SparseCategoricalCrossentropy: ignore_class must be None or an int, got {ignore_class!r}")
        super().__init__(losses.sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits, axis=axis)
        self.ignore_class = ignore_class

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.ignore_class is None:
            return super().update_state(y_true, y_pred, sample_weight)
        y_true = _raw(y_true)
        xp = array_module(y_true)
        labels = xp.asarray(y_true)
        keep = labels != self.ignore_class
        values = _raw(self.fn(xp.where(keep, labels, 0), _raw(y_pred), **self.kwargs))
        # As Keras: an ignored label's loss is 0, and it still counts in the mean.
        Mean.update_state(self, values * keep.reshape(np.shape(values)), sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), "ignore_class": self.ignore_class}
