"""Reshaping layers: ``Permute`` reorders a sample's axes (``RepeatVector`` lives in ``core.py``);
``ZeroPadding1D/2D/3D`` pad, ``Cropping1D/2D/3D`` crop and ``UpSampling1D/2D`` enlarge the
spatial axes (``data_format`` "channels_last", the default, or "channels_first", as Keras).

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.Permute((2, 1))(np.zeros((4, 2, 3))).shape
    (4, 3, 2)
    >>> layers.ZeroPadding2D(1)(np.zeros((1, 2, 2, 3))).shape
    (1, 4, 4, 3)
"""

from __future__ import annotations

import numbers

from .. import ops
from ..ops.resampling import upsample_bilinear, upsample_nearest, zero_pad
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


def _data_format(value, name: str) -> str:
    value = "channels_last" if value is None else str(value).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value


def _pair(value, what: str, layer: str, allow_zero: bool = True) -> tuple:
    """An int n -> (n, n); a pair of ints -> itself; anything else is refused, naming ``what``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value), int(value))
    try:
        pair = tuple(value)
    except TypeError:
        pair = ()
    low = 0 if allow_zero else 1
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= low for v in pair):
        raise ValueError(f"{layer}: {what} must be an int or a pair of ints >= {low}, got {value!r}")
    return (int(pair[0]), int(pair[1]))


def _per_axis(value, rank: int, what: str, layer: str) -> tuple:
    """Keras's forms: an int (the same on every side), ``rank`` ints (symmetric) or ``rank`` pairs."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return tuple(_pair(value, what, layer) for _ in range(rank))
    try:
        parts = tuple(value)
    except TypeError:
        parts = ()
    if len(parts) != rank:
        raise ValueError(f"{layer}: {what} must be an int, {rank} ints or {rank} pairs of ints, got {value!r}")
    return tuple(_pair(p, f"entry {i + 1} of {what}", layer) for i, p in enumerate(parts))


def _spatial_axes(data_format: str, rank: int) -> tuple:
    return tuple(range(2, 2 + rank)) if data_format == "channels_first" else tuple(range(1, 1 + rank))


def _check_rank(layer, shape, rank: int) -> None:
    if len(shape) != rank + 2:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects inputs of rank {rank + 2} (batch, {rank} spatial axes and "
            f"channels), got shape {_shape_str(shape)}"
        )


class _ZeroPadding(Layer):
    _rank = 1

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.data_format = _data_format(data_format, name)
        if self._rank == 1:
            self.padding = _pair(padding, "padding", name)
        else:
            self.padding = _per_axis(padding, self._rank, "padding", name)

    def _pads(self):
        return (self.padding,) if self._rank == 1 else self.padding

    def call(self, x):
        _check_rank(self, x.shape, self._rank)
        pads = [(0, 0)] * x.ndim
        for a, p in zip(_spatial_axes(self.data_format, self._rank), self._pads()):
            pads[a] = p
        return zero_pad(x, pads)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self._rank)
        out = list(input_shape)
        for a, (lo, hi) in zip(_spatial_axes(self.data_format, self._rank), self._pads()):
            out[a] = None if out[a] is None else out[a] + lo + hi
        return tuple(out)

    def get_config(self) -> dict:
        padding = list(self.padding) if self._rank == 1 else [list(p) for p in self.padding]
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


@REGISTRY.register("ZeroPadding1D")
class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps axis of (batch, steps, channels) inputs: ``padding`` an int or (before, after).

    Example:
        >>> import numpy as np
        >>> ZeroPadding1D((1, 2))(np.ones((1, 2, 1))).data[0, :, 0].tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


@REGISTRY.register("ZeroPadding2D")
class ZeroPadding2D(_ZeroPadding):
    """Zeros around images: ``padding`` an int, (rows, cols) or ((top, bottom), (left, right)).

    Example:
        >>> import numpy as np
        >>> ZeroPadding2D(((1, 0), (0, 2)))(np.ones((1, 2, 2, 3))).shape
        (1, 3, 4, 3)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


@REGISTRY.register("ZeroPadding3D")
class ZeroPadding3D(_ZeroPadding):
    """Zeros around volumes: ``padding`` an int, three ints or three (before, after) pairs.

    Example:
        >>> import numpy as np
        >>> ZeroPadding3D(1)(np.ones((1, 2, 2, 2, 1))).shape
        (1, 4, 4, 4, 1)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    _rank = 1

    def __init__(self, cropping, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.data_format = "channels_last"  # the rank-2 and rank-3 layers set theirs
        if self._rank == 1:
            self.cropping = _pair(cropping, "cropping", name)
        else:
            self.cropping = _per_axis(cropping, self._rank, "cropping", name)

    def _crops(self):
        return (self.cropping,) if self._rank == 1 else self.cropping

    def _check(self, shape) -> None:
        _check_rank(self, shape, self._rank)
        for a, (lo, hi) in zip(_spatial_axes(self.data_format, self._rank), self._crops()):
            if shape[a] is not None and lo + hi >= shape[a]:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: cropping {self.cropping} must leave something of each "
                    f"spatial axis, but axis {a} of inputs of shape {_shape_str(shape)} has only {shape[a]} entries"
                )

    def call(self, x):
        self._check(x.shape)
        index = [slice(None)] * x.ndim
        for a, (lo, hi) in zip(_spatial_axes(self.data_format, self._rank), self._crops()):
            index[a] = slice(lo, x.shape[a] - hi)
        return ops.getitem(x, tuple(index))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        out = list(input_shape)
        for a, (lo, hi) in zip(_spatial_axes(self.data_format, self._rank), self._crops()):
            out[a] = None if out[a] is None else out[a] - lo - hi
        return tuple(out)

    def get_config(self) -> dict:
        cropping = list(self.cropping) if self._rank == 1 else [list(p) for p in self.cropping]
        config = {**super().get_config(), "cropping": cropping}
        if self._rank > 1:
            config["data_format"] = self.data_format
        return config


@REGISTRY.register("Cropping1D")
class Cropping1D(_Cropping):
    """Drop entries at the start and end of the steps axis of (batch, steps, channels) inputs.

    Example:
        >>> import numpy as np
        >>> Cropping1D((1, 2))(np.arange(5.0).reshape(1, 5, 1)).data[0, :, 0].tolist()
        [1.0, 2.0]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


@REGISTRY.register("Cropping2D")
class Cropping2D(_Cropping):
    """Crop images: ``cropping`` an int, (rows, cols) or ((top, bottom), (left, right)).

    Example:
        >>> import numpy as np
        >>> Cropping2D(((1, 0), (0, 2)))(np.ones((1, 4, 4, 3))).shape
        (1, 3, 2, 3)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, **kwargs)
        self.data_format = _data_format(data_format, "Cropping2D")


@REGISTRY.register("Cropping3D")
class Cropping3D(_Cropping):
    """Crop volumes: ``cropping`` an int, three ints or three (before, after) pairs.

    Example:
        >>> import numpy as np
        >>> Cropping3D(1)(np.ones((1, 4, 4, 4, 1))).shape
        (1, 2, 2, 2, 1)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, **kwargs)
        self.data_format = _data_format(data_format, "Cropping3D")


@REGISTRY.register("UpSampling1D")
class UpSampling1D(Layer):
    """Repeat each step of (batch, steps, features) inputs ``size`` times.

    Example:
        >>> import numpy as np
        >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]])).data[0, :, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size <= 0:
            raise ValueError(f"UpSampling1D {self.name!r}: size must be a positive int, got {size!r}")
        self.size = int(size)

    def call(self, x):
        _check_rank(self, x.shape, 1)
        return upsample_nearest(x, (1,), (self.size,))

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 1)
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}


_INTERPOLATIONS = ("nearest", "bilinear")
_KERAS_ONLY_INTERPOLATIONS = ("bicubic", "lanczos3", "lanczos5")


@REGISTRY.register("UpSampling2D")
class UpSampling2D(Layer):
    """Enlarge images by integer factors ``size`` (rows, cols): ``interpolation`` "nearest" or "bilinear".

    Bilinear samples at half-pixel centres, as Keras's ``ops.image.resize`` and PyTorch's
    ``F.interpolate(mode="bilinear", align_corners=False)``. Keras's "bicubic", "lanczos3" and
    "lanczos5" are refused with an error.

    Example:
        >>> import numpy as np
        >>> UpSampling2D((1, 2), interpolation="bilinear")(np.array([[[[0.0], [4.0]]]])).data[0, 0, :, 0].tolist()
        [0.0, 1.0, 3.0, 4.0]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "UpSampling2D")
        self.size = _pair(size, "size", f"UpSampling2D {self.name!r}", allow_zero=False)
        interpolation = str(interpolation).lower()
        if interpolation not in _INTERPOLATIONS:
            extra = (
                " (Keras's bicubic and lanczos kernels are not available in myelin)"
                if interpolation in (_KERAS_ONLY_INTERPOLATIONS)
                else ""
            )
            raise ValueError(
                f"UpSampling2D {self.name!r}: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}{extra}"
            )
        self.interpolation = interpolation

    def call(self, x):
        _check_rank(self, x.shape, 2)
        axes = _spatial_axes(self.data_format, 2)
        if self.interpolation == "nearest":
            return upsample_nearest(x, axes, self.size)
        return upsample_bilinear(x, axes, self.size)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 2)
        out = list(input_shape)
        for a, f in zip(_spatial_axes(self.data_format, 2), self.size):
            out[a] = None if out[a] is None else out[a] * f
        return tuple(out)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "size": list(self.size),
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


__all__ = [
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "Permute",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]
