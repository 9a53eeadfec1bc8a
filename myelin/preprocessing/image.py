"""Keras's ``keras.preprocessing.image``: load, save and convert images (Pillow), and ``smart_resize``.

Example:
    >>> import numpy as np
    >>> from myelin.preprocessing.image import smart_resize
    >>> smart_resize(np.ones((4, 8, 3), np.float32), (2, 2)).shape
    (2, 2, 3)
"""

from __future__ import annotations

import numpy as np

from ..image_utils import array_to_img, img_to_array, load_img, save_img
from ..tensor import Tensor

_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")


def smart_resize(x, size, interpolation: str = "bilinear", data_format: str = "channels_last") -> np.ndarray:
    """Resize an image (h, w, c) or a batch (n, h, w, c) to ``size`` without distorting it (Keras's).

    The largest centred window of the target's aspect ratio is cut out, then resized with
    ``interpolation`` ("bilinear", "nearest" or "bicubic"; PyTorch's rules, as Keras's torch
    backend). ``data_format="channels_first"`` reads (c, h, w) and (n, c, h, w). Returns a
    float NumPy array.

    Example:
        >>> x = np.arange(12.0, dtype=np.float32).reshape(2, 6, 1)
        >>> smart_resize(x, (1, 1), interpolation="nearest")[..., 0].tolist()
        [[9.0]]
    """
    from ..ops import image as image_ops  # noqa: PLC0415  (the ops load the layers' resampling code)

    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size)
    ):
        raise ValueError(f"smart_resize: size must be a tuple of 2 positive integers, got {size!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"smart_resize: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"smart_resize: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.ndim not in (3, 4):
        raise ValueError(
            f"smart_resize: expected an image (height, width, channels) or a batch (batch, height, width, channels), "
            f"got shape {data.shape}"
        )
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    out = image_ops.resize(
        Tensor(data),
        tuple(int(s) for s in size),
        interpolation=interpolation,
        crop_to_aspect_ratio=True,
        data_format=data_format,
    )
    return np.asarray(out.data)


__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
