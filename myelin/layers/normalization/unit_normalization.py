"""``UnitNormalization``: each sample scaled to unit L2 norm over the feature axes.

Example:
    >>> import numpy as np
    >>> from myelin.layers import UnitNormalization
    >>> UnitNormalization()(np.array([[3.0, 4.0]])).data.astype(float).round(4).tolist()
    [[0.6, 0.8]]
"""

from __future__ import annotations

from ...ops import primitives as prim
from ..base import REGISTRY, Layer
from ._axes import check_axis, resolve_axes


@REGISTRY.register("UnitNormalization")
class UnitNormalization(Layer):
    """``x / max(||x||_2, 1e-12)`` over ``axis`` (Keras's epsilon), no weights; masks pass through.

    Several axes are one vector (the L2 norm of all their elements), as in Keras.

    PyTorch's ``F.normalize(x, dim=axis)`` computes the same.

    Example:
        >>> import numpy as np
        >>> UnitNormalization(axis=[1, 2])(np.ones((1, 2, 2))).data.ravel().tolist()
        [0.5, 0.5, 0.5, 0.5]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis("UnitNormalization", axis)

    def call(self, x, training=False):
        axes = resolve_axes("UnitNormalization", self.name, self.axis, x.shape)
        norm = prim.sqrt(prim.sum(prim.mul(x, x), axis=axes, keepdims=True))
        return prim.div(x, prim.maximum(norm, 1e-12))

    def compute_output_shape(self, input_shape):
        resolve_axes("UnitNormalization", self.name, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
