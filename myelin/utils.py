"""Level 6: Keras's utilities: one-hot labels, seeding, naming, normalisation.

Example:
    >>> from myelin.utils import to_categorical
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

import random

import numpy as np

from . import backend
from .layers.base import reset_names


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels: shape (..., num_classes), float32.

    ``num_classes`` defaults to the largest label + 1. A trailing axis of size 1 is
    dropped first, as Keras does.

    Example:
        >>> to_categorical([1, 0]).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    y = np.asarray(x)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("to_categorical: labels must be whole numbers (class indices)")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise TypeError(f"to_categorical: labels must be integers, got dtype {y.dtype}")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, got {int(y.min())}")
    top = int(y.max()) + 1 if y.size else 0
    if num_classes is None:
        num_classes = top
    elif top > num_classes:
        raise ValueError(f"to_categorical: label {top - 1} is out of range for num_classes={num_classes}")
    out = np.zeros(y.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, y[..., None].astype(np.int64), 1.0, axis=-1)
    return out


def set_random_seed(seed: int) -> None:
    """Seed every generator myelin uses (and Python's and NumPy's), for repeatable runs.

    On the CPU the same seed gives bit-for-bit the same weights after training.

    Example:
        >>> set_random_seed(1234)
    """
    backend.set_seed(seed)
    random.seed(seed)


def clear_session() -> None:
    """Restart automatic layer naming (``dense``, ``dense_1``, ...), as Keras's ``clear_session``.

    Example:
        >>> clear_session()
    """
    reset_names()


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero).

    Example:
        >>> normalize([[3.0, 4.0]]).tolist()
        [[0.6, 0.8]]
    """
    x = backend.as_float_array(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


__all__ = ["clear_session", "normalize", "set_random_seed", "to_categorical"]
