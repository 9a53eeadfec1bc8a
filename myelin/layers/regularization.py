"""Regularization layers: ``SpatialDropout1D/2D`` drop whole channels during training;
``GaussianNoise`` adds and ``GaussianDropout`` multiplies by Gaussian noise during training.
All of them pass inputs unchanged at inference; their random draws happen inside a
primitive's forward, so a replayed training step draws fresh noise.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.SpatialDropout2D(0.5)(np.ones((1, 2, 2, 3)), training=False).shape
    (1, 2, 2, 3)
"""

from __future__ import annotations

import numbers

import numpy as np

from ..ops.resampling import gaussian_dropout, gaussian_noise
from .base import REGISTRY, Layer, _shape_str
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


def _unit_interval(value, what: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{layer}: {what} must be a number in [0, 1], got {value!r}")
    return float(value)


@REGISTRY.register("GaussianNoise")
class GaussianNoise(Layer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` (in [0, 1]) during training only.

    Example:
        >>> import numpy as np
        >>> y = GaussianNoise(0.5, seed=0)(np.zeros((100, 100), np.float32), training=True).data
        >>> round(float(y.std()), 1), GaussianNoise(0.5)(np.ones((1, 2))).data.tolist()
        (0.5, [[1.0, 1.0]])
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    supports_masking = True

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _unit_interval(stddev, "stddev", f"GaussianNoise {self.name!r}")
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else None

    def call(self, x, training=False):
        if not training or self.stddev == 0:
            return x
        return gaussian_noise(x, self.stddev, self._generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


@REGISTRY.register("GaussianDropout")
class GaussianDropout(Layer):
    """Multiply by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))``, in training only.

    ``rate`` in [0, 1) (Keras accepts 1, whose standard deviation is infinite; myelin refuses it).

    Example:
        >>> import numpy as np
        >>> y = GaussianDropout(0.2, seed=0)(np.ones((100, 100), np.float32), training=True).data
        >>> round(float(y.mean()), 1), round(float(y.std()), 1)
        (1.0, 0.5)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    supports_masking = True

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _unit_interval(rate, "rate", f"GaussianDropout {self.name!r}")
        if self.rate == 1:
            raise ValueError(
                f"GaussianDropout {self.name!r}: rate=1 gives noise of infinite standard deviation; use a rate in [0, 1)"
            )
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else None

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        return gaussian_dropout(x, self.rate, self._generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


__all__ = ["GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D"]
