"""Pooling layers under Keras 3's names: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the global poolings.

Windows of ``pool_size`` taken every ``strides`` (default: ``pool_size``); ``padding="same"``
pads with -inf for the maximum and does not count the padding in the average. Max pooling
sends each gradient to the first maximum of its window (PyTorch's rule). The global
poolings reduce every spatial axis (``keepdims`` keeps them as size 1);
``GlobalAveragePooling1D`` averages only the unmasked steps when a mask arrives.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.MaxPooling2D()(np.ones((2, 28, 28, 3))).shape
    (2, 14, 14, 3)
    >>> layers.GlobalAveragePooling2D(keepdims=True)(np.ones((2, 7, 7, 3))).shape
    (2, 1, 1, 3)
"""

from __future__ import annotations

from .. import ops
from ..ops.convolution import _data_format, _padding, _tuple, padding_amounts
from ..tensor import Tensor
from .base import REGISTRY, _shape_str
from .convolutional import _SpatialLayer


class _Pooling(_SpatialLayer):
    """Keras's BasePooling: max or average over windows."""

    _mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = _tuple(pool_size, self._rank, "pool_size", kind)
        self.strides = self.pool_size if strides is None else _tuple(strides, self._rank, "strides", kind)
        self.padding = _padding(padding, kind)
        self.data_format = _data_format(data_format, kind)

    def build(self, input_shape):
        self._check_layout(input_shape)
        self.compute_output_shape(input_shape)  # a window larger than the input fails here, naming the layer

    def call(self, x, training=False):
        self._check_layout(x.shape)
        fn = ops.max_pool if self._mode == "max" else ops.average_pool
        return fn(x, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        spatial = []
        for n, p, s in zip(self._spatial(input_shape), self.pool_size, self.strides):
            if n is None:
                spatial.append(None)
                continue
            lo, hi = padding_amounts(n, p, s, self.padding)
            if n + lo + hi < p:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r}: pool_size {self.pool_size} is larger than the input: "
                    f"expected spatial sizes of at least {p} with padding={self.padding!r}, "
                    f"got input shape {_shape_str(input_shape)}"
                )
            spatial.append((n + lo + hi - p) // s + 1)
        return self._with_spatial(input_shape, tuple(spatial), input_shape[self._channel_axis()])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


@REGISTRY.register("MaxPooling1D")
class MaxPooling1D(_Pooling):
    """The maximum over windows of ``pool_size`` steps of (batch, steps, channels).

    Example:
        >>> import numpy as np
        >>> MaxPooling1D()(np.arange(4.0).reshape(1, 4, 1)).data.ravel()
        array([1., 3.], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 1, "max"


@REGISTRY.register("MaxPooling2D")
class MaxPooling2D(_Pooling):
    """The maximum over ``pool_size`` windows of images (default 2x2, stride 2).

    Example:
        >>> import numpy as np
        >>> MaxPooling2D((2, 2))(np.arange(16.0).reshape(1, 4, 4, 1)).data[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@REGISTRY.register("MaxPooling3D")
class MaxPooling3D(_Pooling):
    """The maximum over ``pool_size`` windows of volumes (default 2x2x2).

    Example:
        >>> import numpy as np
        >>> MaxPooling3D()(np.ones((1, 4, 4, 4, 2))).shape
        (1, 2, 2, 2, 2)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@REGISTRY.register("AveragePooling1D")
class AveragePooling1D(_Pooling):
    """The mean over windows of ``pool_size`` steps.

    Example:
        >>> import numpy as np
        >>> AveragePooling1D()(np.arange(4.0).reshape(1, 4, 1)).data.ravel()
        array([0.5, 2.5], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 1, "average"


@REGISTRY.register("AveragePooling2D")
class AveragePooling2D(_Pooling):
    """The mean over ``pool_size`` windows of images; with ``padding="same"`` the padding is not counted.

    Example:
        >>> import numpy as np
        >>> AveragePooling2D()(np.arange(16.0).reshape(1, 4, 4, 1)).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@REGISTRY.register("AveragePooling3D")
class AveragePooling3D(_Pooling):
    """The mean over ``pool_size`` windows of volumes.

    Example:
        >>> import numpy as np
        >>> AveragePooling3D()(np.ones((1, 4, 4, 4, 2))).shape
        (1, 2, 2, 2, 2)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 3, "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(_SpatialLayer):
    """Keras's BaseGlobalPooling: a reduction over every spatial axis."""

    _mode = "max"

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def _axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self._rank))

    def build(self, input_shape):
        self._check_layout(input_shape)

    def call(self, x, training=False):
        self._check_layout(x.shape)
        if self._mode == "max":
            return ops.max(x, axis=self._axes(), keepdims=self.keepdims)
        return ops.mean(x, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        channels = input_shape[self._channel_axis()]
        if self.keepdims:
            return self._with_spatial(input_shape, (1,) * self._rank, channels)
        return (input_shape[0], channels)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


@REGISTRY.register("GlobalMaxPooling1D")
class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over all steps: (batch, steps, channels) -> (batch, channels).

    Example:
        >>> import numpy as np
        >>> GlobalMaxPooling1D()(np.arange(6.0).reshape(1, 3, 2)).data
        array([[4., 5.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 1, "max"


@REGISTRY.register("GlobalMaxPooling2D")
class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over height and width: (batch, h, w, channels) -> (batch, channels).

    Example:
        >>> import numpy as np
        >>> GlobalMaxPooling2D()(np.arange(8.0).reshape(1, 2, 2, 2)).data
        array([[6., 7.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 2, "max"


@REGISTRY.register("GlobalMaxPooling3D")
class GlobalMaxPooling3D(_GlobalPooling):
    """The maximum over the three spatial axes.

    Example:
        >>> import numpy as np
        >>> GlobalMaxPooling3D()(np.ones((2, 3, 3, 3, 4))).shape
        (2, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 3, "max"


@REGISTRY.register("GlobalAveragePooling1D")
class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over all steps; with a mask (e.g. from ``Embedding(mask_zero=True)``) only over the unmasked ones.

    Example:
        >>> import numpy as np
        >>> GlobalAveragePooling1D()(np.arange(6.0).reshape(1, 3, 2), mask=np.array([[True, True, False]])).data
        array([[1., 2.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 1, "average"
    supports_masking = True

    def call(self, x, training=False, mask=None):
        if mask is None:
            return super().call(x, training=training)
        self._check_layout(x.shape)
        mask = mask if isinstance(mask, Tensor) else Tensor(mask)  # a recorded mask stays recorded (replayed steps)
        keep = ops.cast(ops.expand_dims(mask, 2 if self.data_format == "channels_last" else 1), x.dtype)
        axis = 1 if self.data_format == "channels_last" else 2
        return ops.sum(x * keep, axis=axis, keepdims=self.keepdims) / ops.sum(keep, axis=axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask):
        return None


@REGISTRY.register("GlobalAveragePooling2D")
class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width: (batch, h, w, channels) -> (batch, channels).

    Example:
        >>> import numpy as np
        >>> GlobalAveragePooling2D()(np.arange(8.0).reshape(1, 2, 2, 2)).data
        array([[3., 4.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 2, "average"


@REGISTRY.register("GlobalAveragePooling3D")
class GlobalAveragePooling3D(_GlobalPooling):
    """The mean over the three spatial axes.

    Example:
        >>> import numpy as np
        >>> GlobalAveragePooling3D(keepdims=True)(np.ones((2, 3, 3, 3, 4))).shape
        (2, 1, 1, 1, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank, _mode = 3, "average"


__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
]
