"""``RMSNormalization``: each sample divided by its root mean square over the feature axes, then scaled.

Example:
    >>> import numpy as np
    >>> from myelin.layers import RMSNormalization
    >>> RMSNormalization(epsilon=0.0)(np.array([[3.0, 4.0]])).data.astype(float).round(4).tolist()
    [[0.8485, 1.1314]]
"""

from __future__ import annotations

from ... import ops
from ..base import REGISTRY, Layer
from ._axes import check_axis, resolve_axes


@REGISTRY.register("RMSNormalization")
class RMSNormalization(Layer):
    """``x * rsqrt(mean(x ** 2) + epsilon) * scale`` over ``axis`` (Zhang and Sennrich, 2019).

    Keras 3's arguments (``axis``, ``epsilon=1e-6``) and weight (``scale``, ones, the shape of
    the normalized axes); one fused primitive (``ops.RMSNorm``). PyTorch's ``nn.RMSNorm``
    with the same ``eps`` computes the same.

    Example:
        >>> rn = RMSNormalization()
        >>> rn.build((None, 8)); rn.scale.shape
        (8,)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _float32_under_mixed = True  # under mixed_float16/bfloat16 it computes in float32, as Keras's
    supports_masking = True

    def __init__(self, axis=-1, epsilon: float = 1e-6, **kwargs):
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(f"RMSNormalization: epsilon must be a number >= 0, got {epsilon!r}")
        super().__init__(**kwargs)
        self.axis = check_axis("RMSNormalization", axis)
        self.epsilon = float(epsilon)
        self.scale = None
        self._axes: tuple | None = None

    def build(self, input_shape):
        self._axes = resolve_axes("RMSNormalization", self.name, self.axis, input_shape)
        self.scale = self.add_weight(shape=tuple(input_shape[a] for a in self._axes), initializer="ones", name="scale")

    def call(self, x, training=False):
        return ops.rms_normalization(x, self.scale, self._axes, self.epsilon)

    def compute_output_shape(self, input_shape):
        resolve_axes("RMSNormalization", self.name, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
