"""Reshaping layers: ``Permute`` reorders a sample's axes (``RepeatVector`` lives in ``core.py``).

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


__all__ = ["Permute"]
