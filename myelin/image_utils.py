"""Keras's image helpers: ``array_to_img``, ``img_to_array``, ``load_img``, ``save_img`` (Pillow).

Pillow is needed only by these functions (``pip install pillow``); the error says so when
it is missing. Arrays are (height, width, channels) for ``"channels_last"`` (the default) or
(channels, height, width) for ``"channels_first"``, in ``floatx()``.

Example:
    >>> import numpy as np
    >>> img = array_to_img(np.zeros((4, 6, 3)))  # doctest: +SKIP
    >>> img.size, img_to_array(img).shape  # doctest: +SKIP
    ((6, 4), (4, 6, 3))
"""

from __future__ import annotations

import os

import numpy as np

from . import backend

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil():
    try:
        from PIL import Image  # noqa: PLC0415
    except ImportError:
        raise ImportError("the image functions of myelin.utils need Pillow: pip install pillow") from None
    return Image


def _data_format(data_format) -> str:
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


def array_to_img(x, data_format: str | None = None, scale: bool = True, dtype=None):
    """A PIL image from a 3-D array (1, 3 or 4 channels); ``scale`` maps its range to 0-255.

    Example:
        >>> array_to_img(np.ones((2, 3, 1))).size
        (3, 2)
    """
    image = _pil()
    x = np.asarray(x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected an image array of rank 3 (one image), got shape {x.shape}")
    if _data_format(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: the image must have 1, 3 or 4 channels, got {channels}")


def img_to_array(img, data_format: str | None = None, dtype=None) -> np.ndarray:
    """A 3-D array from a PIL image (grayscale gets one channel).

    Example:
        >>> img_to_array(array_to_img(np.ones((2, 3, 3)), scale=False)).shape
        (2, 3, 3)
    """
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}")
    if _data_format(data_format) == "channels_first":
        x = x.transpose(2, 0, 1)
    return x


def save_img(path, x, data_format: str | None = None, file_format: str | None = None, scale: bool = True, **kwargs) -> None:
    """Write an image array to a file (format from ``file_format`` or the extension); kwargs go to PIL.

    Example:
        >>> save_img("picture.png", np.zeros((8, 8, 3)))  # doctest: +SKIP
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpeg" or str(path).lower().endswith((".jpg", ".jpeg"))):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode: str = "rgb", target_size=None, interpolation: str = "nearest", keep_aspect_ratio: bool = False):
    """Read an image file as a PIL image in ``color_mode`` ("grayscale", "rgb", "rgba"), resized to
    ``target_size`` (height, width); ``keep_aspect_ratio`` crops the centre to the target's ratio first.

    Example:
        >>> img = load_img("picture.png", target_size=(4, 4))  # doctest: +SKIP
    """
    image = _pil()
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError(f"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba', got {color_mode!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"load_img: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    if isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as f:
            img = image.open(f)
            img.load()
    else:  # a file-like object
        img = image.open(path)
        img.load()
    mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[color_mode]
    if img.mode != mode:
        img = img.convert(mode)
    if target_size is not None:
        height, width = target_size
        if img.size != (width, height):
            resample = getattr(image, "Resampling", image).__dict__[interpolation.upper()]
            if keep_aspect_ratio:
                w, h = img.size
                crop_w, crop_h = min(w, int(h * width / height)), min(h, int(w * height / width))
                left, top = (w - crop_w) // 2, (h - crop_h) // 2
                img = img.crop((left, top, left + crop_w, top + crop_h))
            img = img.resize((width, height), resample)
    return img
