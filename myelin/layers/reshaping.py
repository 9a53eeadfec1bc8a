"""Reshaping layers: ``Permute`` reorders a sample's axes, ``RepeatVector`` repeats a vector n times.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.Permute((2, 1))(np.zeros((4, 2, 3))).shape
    (4, 3, 2)
"""

from __future__ import annotations

from .. import ops
from .base import REGISTRY, Layer, _shape_str


@REGISTRY.register("Permute")
class Permute(Layer):
    """Reorder the axes of each sample: ``dims`` is a permutation of 1..rank-1 (the batch axis stays).

    Example:
        >>> import numpy as np
        >>> Permute((2, 1))(np.arange(6.0).reshape(1, 2, 3)).data[0]
        array([[0., 3.],
               [1., 4.],
               [2., 5.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Permute {self.name!r}: dims must be a permutation of 1..{len(self.dims)} (the batch axis 0 stays), "
                f"got {self.dims}"
            )

    def _check(self, shape) -> None:
        if len(shape) != len(self.dims) + 1:
            raise ValueError(
                f"Permute {self.name!r} expects inputs of rank {len(self.dims) + 1} (batch + {len(self.dims)} axes), "
                f"got shape {_shape_str(shape)}"
            )

    def call(self, x, training=False):
        self._check(x.shape)
        return ops.transpose(x, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": list(self.dims)}


@REGISTRY.register("RepeatVector")
class RepeatVector(Layer):
    """Repeat each sample (a vector) ``n`` times: (batch, features) -> (batch, n, features).

    Example:
        >>> import numpy as np
        >>> RepeatVector(3)(np.array([[1.0, 2.0]])).data
        array([[[1., 2.],
                [1., 2.],
                [1., 2.]]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if int(n) != n or n < 1:
            raise ValueError(f"RepeatVector {self.name!r}: n must be a positive integer, got {n!r}")
        self.n = int(n)

    def _check(self, shape) -> None:
        if len(shape) != 2:
            raise ValueError(
                f"RepeatVector {self.name!r} expects inputs of rank 2 (batch, features), got shape {_shape_str(shape)}"
            )

    def call(self, x, training=False):
        self._check(x.shape)
        return ops.stack([x] * self.n, axis=1)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


__all__ = ["Permute", "RepeatVector"]
