"""Image preprocessing and augmentation layers, as Keras 3's: they run inside the model.

``Resizing`` and ``CenterCrop`` always apply; the random layers (``RandomCrop``, ``RandomFlip``,
``RandomRotation``, ``RandomZoom``, ``RandomTranslation``, ``RandomContrast``,
``RandomBrightness``) augment only in training (``fit``) and pass images unchanged in
inference (``predict``, ``evaluate``), except ``RandomCrop``, which then takes the largest
centred window of the target's aspect ratio and resizes it. Called directly, a layer
augments (Keras's default, ``training=True``); pass ``training=False`` to get the inference
behaviour. Inputs are (batch, height, width, channels) or one image (height, width,
channels); ``data_format="channels_first"`` puts channels before height.

Each layer draws its random values inside an op's forward (``myelin.ops.image.RandomDraw``),
from a ``myelin.random.SeedGenerator`` made from ``seed`` (or myelin's generator when
``seed`` is None), so that the compiled training step draws new values every step and a
seeded layer repeats its sequence. ``get_random_transformation`` and ``transform_images``
are public, as in Keras, to apply a chosen transformation.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> images = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    >>> layers.RandomFlip("horizontal", seed=1)(images, training=False).shape
    (2, 4, 4, 1)
    >>> layers.CenterCrop(2, 2)(images)[0, :, :, 0].data.tolist()
    [[5.0, 6.0], [9.0, 10.0]]
"""

# Over 800 lines because the nine Keras image layers share their base classes and argument checks here.
from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ...ops import image as image_ops
from ...ops import numpy as knp
from ...random import SeedGenerator
from ...tensor import Tensor
from ..base import REGISTRY, Layer, _shape_str

__all__ = [
    "CenterCrop",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
]

_AFFINE_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_AFFINE_INTERPOLATIONS = ("nearest", "bilinear")


# ---------------------------------------------------------------------------- argument checks
def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _positive_int(value, arg: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{layer}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def _choice(value, allowed: tuple, arg: str, layer: str) -> str:
    if value not in allowed:
        raise ValueError(f"{layer}: {arg} must be one of {allowed}, got {value!r}")
    return value


def _factor(factor, bounds: tuple, layer: str, arg: str = "factor", open_low: bool = False) -> tuple:
    """Keras's factor rule: a number f gives (max(-|f|, low), |f|); a pair is sorted; both within ``bounds``."""
    lo, hi = bounds
    span = f"({lo}, {hi}]" if open_low else f"[{lo}, {hi}]"

    def inside(v) -> bool:
        return _is_number(v) and (lo < v if open_low else lo <= v) and v <= hi

    message = f"{layer}: {arg} must be a number or a pair of numbers in {span}, got {factor!r}"
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(inside(v) for v in factor):
            raise ValueError(message)
        low, high = sorted(float(v) for v in factor)
        return low, high
    if not inside(factor):
        raise ValueError(message)
    f = abs(float(factor))
    return max(-f, float(lo)), f


def _value_range(value_range, layer: str) -> tuple:
    if (
        not isinstance(value_range, (tuple, list))
        or len(value_range) != 2
        or not all(_is_number(v) for v in value_range)
        or value_range[0] >= value_range[1]
    ):
        raise ValueError(f"{layer}: value_range must be two numbers [low, high] with low < high, got {value_range!r}")
    return value_range


def _seed(seed, layer: str):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"{layer}: seed must be an integer or None, got {seed!r}")
    return seed


# ---------------------------------------------------------------------------- samplers (run inside RandomDraw)
def _uniform(gen, shape, low=0.0, high=1.0, tail=(1, 1, 1), scale=1.0, dtype="float32"):
    return (gen.uniform(low, high, size=(shape[0], *tail)) * scale).astype(dtype)


def _flips(gen, shape):
    return gen.uniform(0.0, 1.0, size=(shape[0], 1, 1, 1)) <= 0.5


def _pairs(gen, shape, first=(0.0, 0.0), second=None, scales=(1.0, 1.0), dtype="float32"):
    """(batch, 2): a first uniform draw per image, then a second (or the first again when ``second`` is None)."""
    a = gen.uniform(first[0], first[1], size=(shape[0], 1))
    b = a if second is None else gen.uniform(second[0], second[1], size=(shape[0], 1))
    return np.concatenate([a * scales[0], b * scales[1]], axis=1).astype(dtype)


def _shifts(gen, shape, height=(0.0, 0.0, 1.0), width=(0.0, 0.0, 1.0), dtype="float32"):
    """(batch, 2) shifts in pixels, (width, height); drawn height first, as Keras."""
    dy = gen.uniform(height[0], height[1], size=(shape[0], 1)) * height[2]
    dx = gen.uniform(width[0], width[1], size=(shape[0], 1)) * width[2]
    return np.concatenate([dx, dy], axis=1).astype(dtype)


def _crop_start(gen, shape, room=(1, 1)):
    return np.array([int(gen.uniform(0, room[0])), int(gen.uniform(0, room[1]))], dtype="int64")


# ---------------------------------------------------------------------------- transform matrices (ComputeNoGrad)
def _rotation_matrix(xp, angle, height=1, width=1):
    theta = angle * (math.pi / 180.0)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = xp.cos(theta), xp.sin(theta)
    zeros = xp.zeros_like(theta)
    rows = [cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos, zeros, zeros]
    return xp.stack(rows, axis=1)


def _zoom_matrix(xp, zooms, height=1, width=1):
    zy, zx = zooms[:, 0], zooms[:, 1]  # (height zoom, width zoom)
    zeros = xp.zeros_like(zy)
    rows = [zx, zeros, (width - 1) / 2.0 * (1 - zx), zeros, zy, (height - 1) / 2.0 * (1 - zy), zeros, zeros]
    return xp.stack(rows, axis=1)


def _translation_matrix(xp, translations):
    dx, dy = translations[:, 0], translations[:, 1]  # (width shift, height shift) in pixels
    ones, zeros = xp.ones_like(dx), xp.zeros_like(dx)
    return xp.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)


# ---------------------------------------------------------------------------- the base class
class _ImageLayer(Layer):
    """Shared by the image layers: data_format, rank checks, unbatched images, Keras's default ``training=True``."""

    def __init__(self, data_format: str | None = None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        if bounding_box_format is not None:
            raise ValueError(
                f"{name}: bounding_box_format is not supported (myelin's image layers transform image batches, "
                f"not dictionaries of images and boxes); got {bounding_box_format!r}"
            )
        value = "channels_last" if data_format is None else data_format
        self.data_format = _choice(value, ("channels_last", "channels_first"), "data_format", name)

    def __call__(self, inputs, training: bool | None = None, **kwargs):
        if isinstance(inputs, dict):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} takes a batch of images; dictionaries of images, boxes, labels "
                f"and segmentation masks (Keras's other input form) are not supported, got keys {sorted(inputs)}"
            )
        return super().__call__(inputs, training=True if training is None else bool(training), **kwargs)

    def _rank_check(self, shape) -> None:
        if len(shape) not in (3, 4):
            layout = "height, width, channels" if self.data_format == "channels_last" else "channels, height, width"
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects images of rank 4 (batch, {layout}) or rank 3 ({layout}), "
                f"got shape {_shape_str(shape)}"
            )

    def _maybe_build(self, shape: tuple) -> None:
        self._rank_check(shape)
        super()._maybe_build(shape)
        self._build_input_shape = (None,) * len(shape)  # any image size: the layers work on each batch's
        h, w = self._axes(len(shape))
        self._input_size = (shape[h], shape[w])  # as first built (None where unknown): for ONNX export

    def _check_input(self, shape: tuple) -> None:
        self._rank_check(shape)

    def _axes(self, rank: int = 4) -> tuple[int, int]:
        first = rank - 3 + (1 if self.data_format == "channels_first" else 0)
        return first, first + 1

    def _batched(self, x) -> tuple[Tensor, bool]:
        x = x if isinstance(x, Tensor) else Tensor(x, dtype=self.compute_dtype)
        self._rank_check(x.shape)
        if x.data.dtype.kind != "f":
            x = knp.cast(x, self.compute_dtype)
        if x.ndim == 3:
            return x.reshape(1, *x.shape), True
        return x, False

    @staticmethod
    def _unbatched(x: Tensor, unbatched: bool) -> Tensor:
        return x.reshape(*x.shape[1:]) if unbatched else x

    def _generator(self, seed):
        if seed is None:
            return self._seed_generator
        if isinstance(seed, SeedGenerator):
            return seed
        return np.random.default_rng(int(seed))

    def _resized_shape(self, input_shape, height: int, width: int) -> tuple:
        shape = list(input_shape)
        h, w = self._axes(len(shape))
        shape[h], shape[w] = height, width
        return tuple(shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class _RandomLayer(_ImageLayer):
    """A random image layer: ``seed``, and the training/inference switch."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = _seed(seed, type(self).__name__)
        self._seed_generator = SeedGenerator(seed) if seed is not None else None

    def _draw(self, x: Tensor, sampler, seed=None) -> Tensor:
        return image_ops.RandomDraw.apply(x, sampler=sampler, generator=self._generator(seed))

    def call(self, x, training=False):
        """Each subclass's ``get_random_transformation`` then ``transform_images`` in training; identity otherwise."""
        if not training:
            x = x if isinstance(x, Tensor) else Tensor(x, dtype=self.compute_dtype)
            return x if x.data.dtype.kind == "f" else knp.cast(x, self.compute_dtype)  # floats, as Keras casts
        images, unbatched = self._batched(x)
        out = self.transform_images(images, self.get_random_transformation(images, training=True), training=True)
        return self._unbatched(out, unbatched)

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def _tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a floating array takes ``like``'s dtype (a transformation given as NumPy arrays)."""
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    if like is not None and array.dtype.kind == "f":
        array = array.astype(like.data.dtype)
    return Tensor(array)


# ---------------------------------------------------------------------------- deterministic layers
@REGISTRY.register("Resizing")
class Resizing(_ImageLayer):
    """Resizes images to (``height``, ``width``), in training and inference alike (differentiable).

    ``interpolation`` is ``"bilinear"``, ``"nearest"`` or ``"bicubic"`` (PyTorch's rules, as
    Keras's PyTorch backend; ``"lanczos3"``/``"lanczos5"`` are refused, as there).
    ``crop_to_aspect_ratio`` keeps the largest centred window of the target's aspect ratio;
    ``pad_to_aspect_ratio`` pads the short side evenly with ``fill_value`` (``fill_mode`` must
    be ``"constant"``). ``antialias`` widens the filter when downscaling (bilinear, bicubic).

    Example:
        >>> import numpy as np
        >>> Resizing(2, 2, interpolation="nearest")(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].data.tolist()
        [[5.0, 7.0], [13.0, 15.0]]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        name = type(self).__name__
        self.height = _positive_int(height, "height", name)
        self.width = _positive_int(width, "width", name)
        if interpolation in image_ops.REFUSED_RESIZE_INTERPOLATIONS:
            raise ValueError(
                f"{name}: interpolation={interpolation!r} (Lanczos) is not supported, as on Keras's PyTorch backend; "
                f"use one of {image_ops.RESIZE_INTERPOLATIONS}"
            )
        self.interpolation = _choice(interpolation, image_ops.RESIZE_INTERPOLATIONS, "interpolation", name)
        self.fill_mode = _choice(fill_mode, ("constant",), "fill_mode", name)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{name}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
        if not _is_number(fill_value):
            raise ValueError(f"{name}: fill_value must be a number, got {fill_value!r}")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def call(self, x, training=False):
        images, unbatched = self._batched(x)
        return self._unbatched(self.transform_images(images), unbatched)

    def transform_images(self, images, transformation=None, training: bool = True) -> Tensor:
        """The resized batch (Keras's method; there is nothing random to pass)."""
        return image_ops.resize(
            images,
            (self.height, self.width),
            interpolation=self.interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )

    def compute_output_shape(self, input_shape):
        return self._resized_shape(input_shape, self.height, self.width)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        }


def _smart_resize(layer: _ImageLayer, images: Tensor, height: int, width: int) -> Tensor:
    """Keras's ``smart_resize``: the largest centred window of the target's aspect ratio, resized (bilinear)."""
    return image_ops.resize(images, (height, width), crop_to_aspect_ratio=True, data_format=layer.data_format)


def _window(images: Tensor, axes: tuple, top: int, left: int, height: int, width: int) -> Tensor:
    index = [slice(None)] * images.ndim
    index[axes[0]] = slice(top, top + height)
    index[axes[1]] = slice(left, left + width)
    return images[tuple(index)]


@REGISTRY.register("CenterCrop")
class CenterCrop(_ImageLayer):
    """Crops the central (``height``, ``width``) window; a smaller image is first cropped to the aspect ratio and resized.

    Example:
        >>> import numpy as np
        >>> CenterCrop(1, 2)(np.arange(9.0).reshape(1, 3, 3, 1))[0, :, :, 0].data.tolist()
        [[3.0, 4.0]]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = _positive_int(height, "height", type(self).__name__)
        self.width = _positive_int(width, "width", type(self).__name__)

    def call(self, x, training=False):
        images, unbatched = self._batched(x)
        return self._unbatched(self.transform_images(images), unbatched)

    def transform_images(self, images, transformation=None, training: bool = True) -> Tensor:
        """The cropped batch (Keras's method; there is nothing random to pass)."""
        axes = self._axes()
        h, w = images.shape[axes[0]], images.shape[axes[1]]
        if h >= self.height and w >= self.width:
            return _window(images, axes, (h - self.height) // 2, (w - self.width) // 2, self.height, self.width)
        return _smart_resize(self, images, self.height, self.width)

    def compute_output_shape(self, input_shape):
        return self._resized_shape(input_shape, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}


# ---------------------------------------------------------------------------- random layers
@REGISTRY.register("RandomCrop")
class RandomCrop(_RandomLayer):
    """In training, crops a random (``height``, ``width``) window, one location for the whole batch.

    When the image is not larger than the target in both axes, training takes Keras's centred
    window instead (resized to the target if it falls short). In inference the layer takes the
    largest centred window of the target's aspect ratio and resizes it to the target, so the
    output has the target's shape in both modes (Keras's documented behaviour; Keras 3 itself
    returns the input unchanged there, which breaks the layers after it).

    Example:
        >>> import numpy as np
        >>> RandomCrop(2, 3, seed=0)(np.zeros((4, 5, 6, 3)), training=True).shape
        (4, 2, 3, 3)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, height: int, width: int, seed=None, data_format: str | None = None, name=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = _positive_int(height, "height", type(self).__name__)
        self.width = _positive_int(width, "width", type(self).__name__)

    def call(self, x, training=False):
        images, unbatched = self._batched(x)
        if training:
            out = self.transform_images(images, self.get_random_transformation(images, training=True), training=True)
        else:
            out = _smart_resize(self, images, self.height, self.width)
        return self._unbatched(out, unbatched)

    def get_random_transformation(self, images, training: bool = True, seed=None):
        """The window's (top, left): a drawn (2,) tensor if the image is larger than the target, else Keras's centred ints."""
        images = _tensor(images)
        axes = self._axes(images.ndim)
        h, w = images.shape[axes[0]], images.shape[axes[1]]
        if training and h > self.height and w > self.width:
            sampler = functools.partial(_crop_start, room=(float(h - self.height + 1), float(w - self.width + 1)))
            return self._draw(images, sampler, seed)
        crop_h = max(min(h, int(float(w * self.height) / self.width)), 1)
        crop_w = max(min(w, int(float(h * self.width) / self.height)), 1)
        return int(float(h - crop_h) / 2), int(float(w - crop_w) / 2)

    def transform_images(self, images, transformation, training: bool = True) -> Tensor:
        """Crop ``images`` at ``transformation`` (top, left); identity when ``training`` is False."""
        images = _tensor(images)
        if not training:
            return images
        axes = self._axes(images.ndim)
        if isinstance(transformation, (Tensor, np.ndarray)):
            return image_ops.CropAt.apply(
                images, _tensor(transformation), height=self.height, width=self.width, h_axis=axes[0]
            )
        top, left = (int(v) for v in transformation)
        out = _window(images, axes, top, left, self.height, self.width)
        if (out.shape[axes[0]], out.shape[axes[1]]) != (self.height, self.width):
            out = image_ops.resize(out, (self.height, self.width), data_format=self.data_format)
        return out

    def compute_output_shape(self, input_shape):
        return self._resized_shape(input_shape, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}


@REGISTRY.register("RandomFlip")
class RandomFlip(_RandomLayer):
    """In training, flips each image with probability 1/2: ``"horizontal"``, ``"vertical"`` or both (one draw for both).

    Example:
        >>> import numpy as np
        >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
        >>> layer = RandomFlip("horizontal")
        >>> layer.transform_images(x, {"flips": np.array([True])})[0, :, :, 0].data.tolist()
        [[1.0, 0.0], [3.0, 2.0]]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, mode: str = "horizontal_and_vertical", seed=None, data_format: str | None = None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = _choice(mode, ("horizontal", "vertical", "horizontal_and_vertical"), "mode", type(self).__name__)

    def get_random_transformation(self, images, training: bool = True, seed=None):
        """``{"flips": (batch, 1, 1, 1) booleans}`` (True: flip), or None when not training."""
        if not training:
            return None
        return {"flips": self._draw(_tensor(images), _flips, seed)}

    def transform_images(self, images, transformation, training: bool = True) -> Tensor:
        """Flip the images whose ``transformation["flips"]`` entry is True."""
        images = _tensor(images)
        if not training or transformation is None:
            return images
        h, w = self._axes(images.ndim)
        axes = {"horizontal": (w,), "vertical": (h,), "horizontal_and_vertical": (h, w)}[self.mode]
        return image_ops.FlipWhere.apply(images, _tensor(transformation["flips"]), axes=axes)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


class _AffineLayer(_RandomLayer):
    """Random affine transforms: fill_mode, fill_value and interpolation, checked as Keras does."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = type(self).__name__
        self.fill_mode = _choice(fill_mode, _AFFINE_FILL_MODES, "fill_mode", name)
        self.interpolation = _choice(interpolation, _AFFINE_INTERPOLATIONS, "interpolation", name)
        if not _is_number(fill_value):
            raise ValueError(f"{name}: fill_value must be a number, got {fill_value!r}")
        self.fill_value = fill_value

    def _size(self, images: Tensor) -> tuple[int, int]:
        h, w = self._axes(images.ndim)
        return images.shape[h], images.shape[w]

    def _affine(self, images, matrix) -> Tensor:
        images = _tensor(images)
        return image_ops.AffineTransform.apply(
            images,
            _tensor(matrix, images),
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=float(self.fill_value),
            channels_last=self.data_format == "channels_last",
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
        }


@REGISTRY.register("RandomRotation")
class RandomRotation(_AffineLayer):
    """In training, rotates each image about its centre by a random angle in ``factor`` x 360 degrees.

    ``factor`` f gives angles in [-f, f] x 360 (positive: counter-clockwise); a pair (lo, hi)
    gives [lo, hi] x 360. ``fill_mode`` (reflect, wrap, constant, nearest) fills what comes
    from outside the image; ``interpolation`` is bilinear or nearest.

    Example:
        >>> import numpy as np
        >>> layer = RandomRotation((0.5, 0.5), fill_mode="constant")  # always 180 degrees
        >>> layer(np.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0].data.round(5).tolist()
        [[3.0, 2.0], [1.0, 0.0]]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        factor,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed=None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor(factor, (-1, 1), type(self).__name__)

    def get_random_transformation(self, images, training: bool = True, seed=None):
        """``{"angle": (batch,) degrees, "rotation_matrix": (batch, 8)}``, or None when not training."""
        if not training:
            return None
        images = _tensor(images)
        h, w = self._size(images)
        lo, hi = self.factor[0] * 360.0, self.factor[1] * 360.0
        sampler = functools.partial(_uniform, low=lo, high=hi, tail=(), dtype=images.data.dtype)
        angle = self._draw(images, sampler, seed)
        matrix = image_ops.ComputeNoGrad.apply(angle, fn=functools.partial(_rotation_matrix, height=h, width=w))
        return {"angle": angle, "rotation_matrix": matrix}

    def transform_images(self, images, transformation, training: bool = True) -> Tensor:
        """Apply ``transformation["rotation_matrix"]``."""
        if not training or transformation is None:
            return _tensor(images)
        return self._affine(images, transformation["rotation_matrix"])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


@REGISTRY.register("RandomZoom")
class RandomZoom(_AffineLayer):
    """In training, zooms each image about its centre by random factors: positive values zoom out, negative in.

    ``height_factor`` f draws the vertical scale in [1 - f, 1 + f] (a pair (lo, hi): [1 + lo,
    1 + hi]), each bound in (-1, 1]; ``width_factor`` likewise, or None to keep the aspect ratio.

    Example:
        >>> import numpy as np
        >>> RandomZoom(0.5, seed=0)(np.ones((2, 8, 8, 3)), training=True).shape
        (2, 8, 8, 3)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed=None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        name = type(self).__name__
        self.height_factor = tuple(height_factor) if isinstance(height_factor, list) else height_factor
        self.height_lower, self.height_upper = _factor(height_factor, (-1, 1), name, "height_factor", open_low=True)
        self.width_factor = tuple(width_factor) if isinstance(width_factor, list) else width_factor
        self._width = None
        if width_factor is not None:
            self._width = _factor(width_factor, (-1, 1), name, "width_factor", open_low=True)

    def get_random_transformation(self, images, training: bool = True, seed=None):
        """``{"height_zoom": (batch, 1), "width_zoom": (batch, 1), "zoom_matrix": (batch, 8)}``, or None when not training."""
        if not training:
            return None
        images = _tensor(images)
        h, w = self._size(images)
        second = None if self._width is None else (1.0 + self._width[0], 1.0 + self._width[1])
        sampler = functools.partial(
            _pairs, first=(1.0 + self.height_lower, 1.0 + self.height_upper), second=second, dtype=images.data.dtype
        )
        zooms = self._draw(images, sampler, seed)
        matrix = image_ops.ComputeNoGrad.apply(zooms, fn=functools.partial(_zoom_matrix, height=h, width=w))
        return {"height_zoom": zooms[:, 0:1], "width_zoom": zooms[:, 1:2], "zoom_matrix": matrix}

    def transform_images(self, images, transformation, training: bool = True) -> Tensor:
        """Zoom by ``transformation["height_zoom"]`` and ``["width_zoom"]`` (each (batch, 1))."""
        if not training or transformation is None:
            return _tensor(images)
        matrix = transformation.get("zoom_matrix")
        if matrix is None:
            h, w = self._size(_tensor(images))
            images = _tensor(images)
            parts = [_tensor(transformation[k], images) for k in ("height_zoom", "width_zoom")]
            zooms = knp.concatenate(parts, axis=1)
            matrix = image_ops.ComputeNoGrad.apply(zooms, fn=functools.partial(_zoom_matrix, height=h, width=w))
        return self._affine(images, matrix)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


@REGISTRY.register("RandomTranslation")
class RandomTranslation(_AffineLayer):
    """In training, shifts each image by random fractions of its height and width.

    ``height_factor`` f shifts vertically by a fraction in [-f, f] of the height (a pair (lo,
    hi): [lo, hi], negative is up), each bound in [-1, 1]; ``width_factor`` likewise
    horizontally (negative is left).

    Example:
        >>> import numpy as np
        >>> layer = RandomTranslation((0.5, 0.5), (0.0, 0.0), fill_mode="constant")  # always 1 of 2 rows down
        >>> layer(np.array([[[1.0], [2.0]], [[3.0], [4.0]]])[None])[0, :, :, 0].data.tolist()
        [[0.0, 0.0], [1.0, 2.0]]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed=None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        name = type(self).__name__
        self.height_factor = tuple(height_factor) if isinstance(height_factor, list) else height_factor
        self.height_lower, self.height_upper = _factor(height_factor, (-1, 1), name, "height_factor")
        self.width_factor = tuple(width_factor) if isinstance(width_factor, list) else width_factor
        self.width_lower, self.width_upper = _factor(width_factor, (-1, 1), name, "width_factor")

    def get_random_transformation(self, images, training: bool = True, seed=None):
        """``{"translations": (batch, 2)}``: (width shift, height shift) in pixels, or None when not training."""
        if not training:
            return None
        images = _tensor(images)
        h, w = self._size(images)
        sampler = functools.partial(
            _shifts,
            height=(self.height_lower, self.height_upper, float(h)),
            width=(self.width_lower, self.width_upper, float(w)),
            dtype=images.data.dtype,
        )
        return {"translations": self._draw(images, sampler, seed)}

    def transform_images(self, images, transformation, training: bool = True) -> Tensor:
        """Shift by ``transformation["translations"]`` (batch, 2): (x, y) pixels."""
        if not training or transformation is None:
            return _tensor(images)
        shifts = _tensor(transformation["translations"], _tensor(images))
        matrix = image_ops.ComputeNoGrad.apply(shifts, fn=_translation_matrix)
        return self._affine(images, matrix)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


@REGISTRY.register("RandomContrast")
class RandomContrast(_RandomLayer):
    """In training, scales each image's deviation from its per-channel mean by a random factor, clipped to ``value_range``.

    The factor is drawn in [1 - lower, 1 + upper], where ``factor`` f gives (lower, upper) =
    (0, f) (Keras 3's rule) and a pair gives itself, each in [0, 1].

    Example:
        >>> import numpy as np
        >>> layer = RandomContrast(0.5, value_range=(0, 10))
        >>> x = np.array([2.0, 4.0, 6.0]).reshape(1, 1, 3, 1)
        >>> layer.transform_images(x, {"contrast_factor": np.full((1, 1, 1, 1), 1.5)})[0, 0, :, 0].data.tolist()
        [1.0, 4.0, 7.0]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor(factor, (0, 1), type(self).__name__)
        self.value_range = tuple(_value_range(value_range, type(self).__name__))

    def get_random_transformation(self, images, training: bool = True, seed=None):
        """``{"contrast_factor": (batch, 1, 1, 1)}``, or None when not training."""
        if not training:
            return None
        images = _tensor(images)
        sampler = functools.partial(_uniform, low=1.0 - self.factor[0], high=1.0 + self.factor[1], dtype=images.data.dtype)
        return {"contrast_factor": self._draw(images, sampler, seed)}

    def transform_images(self, images, transformation, training: bool = True) -> Tensor:
        """``(x - mean) * contrast_factor + mean`` per image and channel, clipped to ``value_range``."""
        images = _tensor(images)
        if not training or transformation is None:
            return images
        factor = _tensor(transformation["contrast_factor"], images)
        mean = knp.mean(images, axis=self._axes(images.ndim), keepdims=True)
        out = (images - mean) * factor + mean
        return knp.clip(out, float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


@REGISTRY.register("RandomBrightness")
class RandomBrightness(_RandomLayer):
    """In training, adds to each image a random offset of ``factor`` x (the width of ``value_range``), then clips.

    ``factor`` f draws the fraction in [-f, f], a pair (lo, hi) in [lo, hi], each in [-1, 1].

    Example:
        >>> import numpy as np
        >>> layer = RandomBrightness((0.1, 0.1), value_range=(0, 1))  # always +0.1
        >>> layer(np.array([0.2, 0.95]).reshape(1, 1, 2, 1))[0, 0, :, 0].data.astype("float64").round(6).tolist()
        [0.3, 1.0]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.factor = _factor(factor, (-1, 1), name)
        self.value_range = sorted(_value_range(value_range, name))

    def get_random_transformation(self, images, training: bool = True, seed=None):
        """``{"rgb_delta": (batch, 1, 1, 1)}`` in the images' units, or None when not training."""
        if not training:
            return None
        images = _tensor(images)
        span = float(self.value_range[1] - self.value_range[0])
        sampler = functools.partial(_uniform, low=self.factor[0], high=self.factor[1], scale=span, dtype=images.data.dtype)
        return {"rgb_delta": self._draw(images, sampler, seed)}

    def transform_images(self, images, transformation, training: bool = True) -> Tensor:
        """``x + rgb_delta``, clipped to ``value_range``."""
        images = _tensor(images)
        if not training or transformation is None:
            return images
        out = images + _tensor(transformation["rgb_delta"], images)
        return knp.clip(out, float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
