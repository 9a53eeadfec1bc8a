"""Regularization layers: ``SpatialDropout1D/2D`` drop whole channels during training.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.SpatialDropout2D(0.5)(np.ones((1, 2, 2, 3)), training=False).shape
    (1, 2, 2, 3)
"""

from __future__ import annotations

from .base import REGISTRY, _shape_str
from .core import Dropout


def _data_format(value: str | None, name: str) -> str:
    value = "channels_last" if value is None else value
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value


class _SpatialDropout(Dropout):
    _rank = 3

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs):
        kwargs.pop("noise_shape", None)
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _data_format(data_format, type(self).__name__)

    def call(self, x, training=False):
        if len(x.shape) != self._rank:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of rank {self._rank}, got shape {_shape_str(x.shape)}"
            )
        ones = (1,) * (self._rank - 2)
        self.noise_shape = (
            (x.shape[0],) + ones + (x.shape[-1],) if self.data_format == "channels_last" else (x.shape[0], x.shape[1]) + ones
        )
        return super().call(x, training=training)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("noise_shape", None)
        return {**config, "data_format": self.data_format}


@REGISTRY.register("SpatialDropout1D")
class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of (batch, steps, channels) inputs, only in training.

    Example:
        >>> import numpy as np
        >>> y = SpatialDropout1D(0.5, seed=0)(np.ones((4, 5, 3)), training=True).data
        >>> bool((y == y[:, :1, :]).all())
        True
    """

    _rank = 3


@REGISTRY.register("SpatialDropout2D")
class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of 4-D inputs (``data_format`` channels_last or channels_first), only in training.

    Example:
        >>> import numpy as np
        >>> y = SpatialDropout2D(0.5, seed=0)(np.ones((4, 3, 3, 2)), training=True).data
        >>> bool((y == y[:, :1, :1, :]).all())
        True
    """

    _rank = 4


__all__ = ["SpatialDropout1D", "SpatialDropout2D"]
