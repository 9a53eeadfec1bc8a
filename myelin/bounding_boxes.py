"""Level 6: Keras's ``keras.utils.bounding_boxes`` (``myelin.utils.bounding_boxes``): box formats, IoU, deltas.

Boxes are arrays whose last axis holds 4 coordinates, in one of Keras's formats:
``"xyxy"`` [left, top, right, bottom], ``"yxyx"``, ``"xywh"`` [left, top, width, height],
``"center_xywh"``, ``"center_yxhw"``, and the relative ``"rel_xyxy"``, ``"rel_yxyx"``,
``"rel_xywh"``, ``"rel_center_xywh"`` (divided by the image ``width`` and ``height``).
Keras's formulas and epsilon (1e-7); NumPy in, NumPy out (float32 unless told otherwise).

Example:
    >>> import numpy as np
    >>> convert_format(np.array([[10, 20, 30, 40]]), source="xyxy", target="xywh").tolist()
    [[10.0, 20.0, 20.0, 20.0]]
"""

from __future__ import annotations

import math

import numpy as np

from .tensor import Tensor

FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)
_EPSILON = 1e-7  # Keras's backend.epsilon()


def _array(x, dtype=None) -> np.ndarray:
    data = x.data if isinstance(x, Tensor) else x
    return np.asarray(data, dtype=dtype)


def _to_xyxy(b: np.ndarray, fmt: str, h, w) -> np.ndarray:
    p, q, r, s = (b[..., i] for i in range(4))
    if fmt == "xyxy":
        out = (p, q, r, s)
    elif fmt == "yxyx":
        out = (q, p, s, r)
    elif fmt == "xywh":
        out = (p, q, p + r, q + s)
    elif fmt == "center_xywh":
        out = (p - r / 2.0, q - s / 2.0, p + r / 2.0, q + s / 2.0)
    elif fmt == "center_yxhw":
        out = (q - s / 2.0, p - r / 2.0, q + s / 2.0, p + r / 2.0)
    elif fmt == "rel_xyxy":
        out = (p * w, q * h, r * w, s * h)
    elif fmt == "rel_yxyx":
        out = (q * w, p * h, s * w, r * h)
    elif fmt == "rel_xywh":
        out = (p * w, q * h, (p + r) * w, (q + s) * h)
    else:  # rel_center_xywh
        out = ((p - r / 2.0) * w, (q - s / 2.0) * h, (p + r / 2.0) * w, (q + s / 2.0) * h)
    return np.stack(out, axis=-1)


def _from_xyxy(b: np.ndarray, fmt: str, h, w) -> np.ndarray:
    x1, y1, x2, y2 = (b[..., i] for i in range(4))
    cx, cy, bw, bh = x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0, x2 - x1, y2 - y1
    table = {
        "xyxy": lambda: (x1, y1, x2, y2),
        "yxyx": lambda: (y1, x1, y2, x2),
        "xywh": lambda: (x1, y1, bw, bh),
        "center_xywh": lambda: (cx, cy, bw, bh),
        "center_yxhw": lambda: (cy, cx, bh, bw),
        "rel_xyxy": lambda: (x1 / w, y1 / h, x2 / w, y2 / h),
        "rel_yxyx": lambda: (y1 / h, x1 / w, y2 / h, x2 / w),
        "rel_xywh": lambda: (x1 / w, y1 / h, bw / w, bh / h),
        "rel_center_xywh": lambda: (cx / w, cy / h, bw / w, bh / h),
    }
    return np.stack(table[fmt](), axis=-1)


def convert_format(boxes, source: str, target: str, height=None, width=None, dtype="float32"):
    """Boxes converted from format ``source`` to ``target`` (a dict's ``"boxes"`` entry, in place, as Keras).

    ``height`` and ``width`` (the image's) are needed when either format is relative.

    Example:
        >>> import numpy as np
        >>> convert_format(np.array([[10, 20, 30, 40]]), "xyxy", "rel_xyxy", height=200, width=100).tolist()
        [[0.10000000149011612, 0.10000000149011612, 0.30000001192092896, 0.20000000298023224]]
    """
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    b = _array(boxes)
    if b.ndim == 0 or b.shape[-1] != 4:
        raise ValueError(f"convert_format: boxes must have a last axis of 4 coordinates, got shape {b.shape}")
    if not isinstance(source, str) or not isinstance(target, str):
        raise ValueError(f"convert_format: source and target must be format names {FORMATS}, got {source!r}, {target!r}")
    source, target = source.lower(), target.lower()
    if source not in FORMATS or target not in FORMATS:
        raise ValueError(f"convert_format: source and target must be one of {FORMATS}, got {source!r} and {target!r}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (height is None or width is None):
        raise ValueError(
            f"convert_format: from {source!r} to {target!r} needs the image height and width, got {height} and {width}"
        )
    b = b.astype(dtype)
    if source == target:
        return b
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    h = None if height is None else np.asarray(height, dtype=dtype)
    w = None if width is None else np.asarray(width, dtype=dtype)
    return _from_xyxy(_to_xyxy(b, source, h, w), target, h, w).astype(dtype, copy=False)


def _check_xyxy(fmt: str, what: str, allowed=("xyxy",)) -> None:
    if fmt not in allowed:
        raise ValueError(f"{what}: bounding_box_format must be one of {allowed} (as Keras), got {fmt!r}")


def clip_to_image_size(bounding_boxes: dict, height=None, width=None, bounding_box_format: str = "xyxy") -> dict:
    """A copy of ``{"boxes", "labels"}`` with the boxes clipped to the image; boxes left with no area get label -1.

    Example:
        >>> import numpy as np
        >>> out = clip_to_image_size({"boxes": np.array([[-5.0, 2, 8, 9], [12, 0, 14, 3]]), "labels": np.array([1, 2])},
        ...                          height=10, width=10)
        >>> out["boxes"].tolist(), out["labels"].tolist()
        ([[0.0, 2.0, 8.0, 9.0], [10.0, 0.0, 10.0, 3.0]], [1, -1])
    """
    _check_xyxy(bounding_box_format, "clip_to_image_size", ("xyxy", "rel_xyxy"))
    if not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes:
        raise TypeError("clip_to_image_size: bounding_boxes must be a dict with 'boxes' (and optionally 'labels')")
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("clip_to_image_size: height and width must be set for bounding_box_format='xyxy'")
    boxes = _array(bounding_boxes["boxes"])
    hi_x, hi_y = (width, height) if bounding_box_format == "xyxy" else (1.0, 1.0)
    hi_x, hi_y = np.asarray(hi_x, boxes.dtype), np.asarray(hi_y, boxes.dtype)
    clipped = np.stack(
        [
            np.clip(boxes[..., 0], 0, hi_x),
            np.clip(boxes[..., 1], 0, hi_y),
            np.clip(boxes[..., 2], 0, hi_x),
            np.clip(boxes[..., 3], 0, hi_y),
        ],
        axis=-1,
    ).astype(boxes.dtype, copy=False)
    result = dict(bounding_boxes)
    result["boxes"] = clipped
    labels = bounding_boxes.get("labels")
    if labels is not None:
        areas = (clipped[..., 2] - clipped[..., 0]) * (clipped[..., 3] - clipped[..., 1])
        result["labels"] = np.where(areas > 0, _array(labels), -1)
    return result


def _inverse_affine(center_x, center_y, angle, translate_x, translate_y, scale, shear_x, shear_y, height, width):
    angle = _array(angle)
    dtype = angle.dtype if angle.dtype.kind == "f" else np.float32
    angle = -angle.astype(dtype)
    shear_x, shear_y = -_array(shear_x, dtype), -_array(shear_y, dtype)
    cx, cy = center_x * (width - 1), center_y * (height - 1)
    rot = angle * (math.pi / 180.0)
    tx, ty = -_array(translate_x, dtype) * (width - 1), -_array(translate_y, dtype) * (height - 1)
    sx, sy = shear_x * (math.pi / 180.0), shear_y * (math.pi / 180.0)
    cos_sy, tan_sx = np.cos(sy), np.tan(sx)
    a = np.cos(rot - sy) / cos_sy
    b = a * tan_sx + np.sin(rot)
    c = -np.sin(rot - sy) / cos_sy
    d = np.cos(rot) - c * tan_sx
    scale = _array(scale, dtype)
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    n = angle.shape[0]
    rows = [a0, a1, a2, b0, b1, b2, np.zeros(n, dtype), np.zeros(n, dtype), np.ones(n, dtype)]
    return np.stack([np.broadcast_to(np.asarray(r, dtype), (n,)) for r in rows], axis=-1).reshape(n, 3, 3)


def affine_transform(
    boxes,
    angle,
    translate_x,
    translate_y,
    scale,
    shear_x,
    shear_y,
    height,
    width,
    center_x=None,
    center_y=None,
    bounding_box_format: str = "xyxy",
) -> np.ndarray:
    """Boxes (batch, n, 4) moved by the affine transform of each image, as Keras's image layers move them.

    ``angle``, ``shear_x``, ``shear_y`` in degrees, ``translate_x``/``translate_y`` as
    fractions of the image, ``scale``: one value per image (shape (batch,)). The result is the
    axis-aligned box around the four transformed corners, in "xyxy".

    Example:
        >>> import numpy as np
        >>> z = np.zeros(1)
        >>> affine_transform(np.array([[[2.0, 2, 4, 4]]]), z, z + 0.5, z, z + 1, z, z, 11, 11).tolist()
        [[[7.0, 2.0, 9.0, 4.0]]]
    """
    _check_xyxy(bounding_box_format, "affine_transform")
    b = _array(boxes)
    if b.ndim != 3 or b.shape[-1] != 4:
        raise ValueError(f"affine_transform: boxes must have shape (batch, boxes, 4), got {b.shape}")
    matrix = _inverse_affine(
        0.5 if center_x is None else center_x,
        0.5 if center_y is None else center_y,
        angle,
        translate_x,
        translate_y,
        scale,
        shear_x,
        shear_y,
        height,
        width,
    )
    b = b.astype(matrix.dtype)
    corners = np.stack([b[..., [0, 1]], b[..., [2, 1]], b[..., [2, 3]], b[..., [0, 3]]], axis=2)  # (batch, n, 4, 2)
    corners = np.concatenate([corners, np.ones(corners.shape[:-1] + (1,), corners.dtype)], axis=-1)
    moved = np.einsum("bnxy,byz->bnxz", corners, np.transpose(matrix[:, :2, :], (0, 2, 1)))
    return np.concatenate([moved.min(axis=2), moved.max(axis=2)], axis=-1)


def crop(boxes, top, left, height, width, bounding_box_format: str = "xyxy") -> np.ndarray:
    """Boxes in the frame of the crop at (``top``, ``left``) of size (``height``, ``width``), clipped to it.

    Example:
        >>> import numpy as np
        >>> crop(np.array([[2.0, 3, 9, 9]]), top=2, left=4, height=5, width=4).tolist()
        [[0.0, 1.0, 4.0, 5.0]]
    """
    _check_xyxy(bounding_box_format, "crop")
    b = _array(boxes)
    x1, y1, x2, y2 = b[..., 0] - left, b[..., 1] - top, b[..., 2] - left, b[..., 3] - top
    return np.stack(
        [np.clip(x1, 0, width), np.clip(y1, 0, height), np.clip(x2, 0, width), np.clip(y2, 0, height)], axis=-1
    ).astype(np.result_type(b.dtype, np.float32) if b.dtype.kind != "f" else b.dtype, copy=False)


def pad(boxes, top, left, height=None, width=None, bounding_box_format: str = "xyxy") -> np.ndarray:
    """Boxes in the frame of the image padded by ``top`` rows and ``left`` columns (Keras ignores height/width too).

    ``height`` and ``width`` are Keras's arguments for the padded size, which the shift does
    not need; they are checked to be non-negative when given.

    Example:
        >>> import numpy as np
        >>> pad(np.array([[1.0, 1, 2, 2]]), top=3, left=1).tolist()
        [[2.0, 4.0, 3.0, 5.0]]
    """
    _check_xyxy(bounding_box_format, "pad")
    for name, value in (("height", height), ("width", width)):
        if value is not None and not np.all(np.asarray(value) >= 0):
            raise ValueError(f"pad: {name} must be a non-negative size or None, got {value!r}")
    b = _array(boxes)
    shift = np.stack([np.asarray(left), np.asarray(top), np.asarray(left), np.asarray(top)], axis=-1)
    return b + shift.astype(b.dtype if b.dtype.kind == "f" else np.float32)


def _variance(variance):
    if variance is None:
        return None
    v = _array(variance, np.float32)
    if v.shape[-1:] != (4,):
        raise ValueError(f"variance must have 4 values, got {variance!r}")
    return v


def _image_hw(image_shape):
    if image_shape is None:
        return None, None
    height, width, _ = image_shape
    return height, width


def encode_box_to_deltas(
    anchors,
    boxes,
    anchor_format: str,
    box_format: str,
    encoding_format: str = "center_yxhw",
    variance=None,
    image_shape=None,
) -> np.ndarray:
    """The regression targets of ``boxes`` against ``anchors``: centre offsets over the anchor size, log size ratios.

    Example:
        >>> import numpy as np
        >>> deltas = encode_box_to_deltas(np.array([[0.0, 0, 10, 10]]), np.array([[5.0, 5, 15, 25]]), "xyxy", "xyxy")
        >>> deltas.astype(float).round(4).tolist()
        [[1.0, 0.5, 0.6931, 0.0]]
    """
    variance = _variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(
            f"encode_box_to_deltas: encoding_format must be 'center_xywh' or 'center_yxhw', got {encoding_format!r}"
        )
    height, width = _image_hw(image_shape)
    a = convert_format(anchors, anchor_format, encoding_format, height, width)
    b = convert_format(boxes, box_format, encoding_format, height, width)
    a_size = np.maximum(a[..., 2:], np.float32(_EPSILON))
    b_size = np.maximum(b[..., 2:], np.float32(_EPSILON))
    delta = np.concatenate([(b[..., :2] - a[..., :2]) / a_size, np.log(b_size / a_size)], axis=-1)
    return delta / variance if variance is not None else delta


def decode_deltas_to_boxes(
    anchors,
    boxes_delta,
    anchor_format: str,
    box_format: str,
    encoded_format: str = "center_yxhw",
    variance=None,
    image_shape=None,
):
    """Boxes from ``encode_box_to_deltas``'s targets (the inverse); dicts of levels give dicts.

    Example:
        >>> import numpy as np
        >>> boxes = decode_deltas_to_boxes(np.array([[0.0, 0, 10, 10]]), np.array([[1.0, 0.5, 0.6931472, 0]]), "xyxy", "xyxy")
        >>> boxes.astype(float).round(3).tolist()
        [[5.0, 5.0, 15.0, 25.0]]
    """
    variance = _variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError(
            f"decode_deltas_to_boxes: encoded_format must be 'center_xywh' or 'center_yxhw', got {encoded_format!r}"
        )
    height, width = _image_hw(image_shape)

    def one(anchor, delta):
        a = convert_format(anchor, anchor_format, encoded_format, height, width)
        d = _array(delta, np.float32)
        if variance is not None:
            d = d * variance
        box = np.concatenate([d[..., :2] * a[..., 2:] + a[..., :2], np.exp(d[..., 2:]) * a[..., 2:]], axis=-1)
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: one(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return one(anchors, boxes_delta)


def compute_iou(
    boxes1, boxes2, bounding_box_format: str, use_masking: bool = False, mask_val=-1, image_shape=None
) -> np.ndarray:
    """The IoU of every box of ``boxes1`` (n, 4) or (batch, n, 4) with every box of ``boxes2``: (n, m) or (batch, n, m).

    With ``use_masking``, pairs where either box is padding (all coordinates negative) get
    ``mask_val``.

    Example:
        >>> import numpy as np
        >>> iou = compute_iou(np.array([[0.0, 0, 2, 2]]), np.array([[1.0, 1, 3, 3], [0, 0, 2, 2]]), "xyxy")
        >>> iou.astype(float).round(4).tolist()
        [[0.1429, 1.0]]
    """
    b1, b2 = _array(boxes1), _array(boxes2)
    for name, b in (("boxes1", b1), ("boxes2", b2)):
        if b.ndim not in (2, 3):
            raise ValueError(f"compute_iou: {name} must have shape (n, 4) or (batch, n, 4), got {b.shape}")
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(f"compute_iou: the relative format {bounding_box_format!r} needs image_shape")
    height, width = _image_hw(image_shape)
    b1 = convert_format(b1, bounding_box_format, "yxyx", height, width)
    b2 = convert_format(b2, bounding_box_format, "yxyx", height, width)
    swap = (1, 0) if b2.ndim == 2 else (0, 2, 1)

    def col(b, i):
        return b[..., i : i + 1]

    def row(b, i):
        return np.transpose(b[..., i : i + 1], swap)

    ih = np.maximum(0.0, np.minimum(col(b1, 2), row(b2, 2)) - np.maximum(col(b1, 0), row(b2, 0)))
    iw = np.maximum(0.0, np.minimum(col(b1, 3), row(b2, 3)) - np.maximum(col(b1, 1), row(b2, 1)))
    inter = (ih * iw).astype(b1.dtype, copy=False)
    area1 = ((b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1]))[..., None]
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    area2 = np.expand_dims(area2, axis=1 if area2.ndim == 2 else 0)
    iou = inter / (area1 + area2 - inter + np.float32(_EPSILON))
    if not use_masking:
        return iou
    pad1 = b1.max(axis=-1, keepdims=True) < 0
    pad2 = b2.max(axis=-1, keepdims=True) < 0
    return np.where(pad1 | np.transpose(pad2, (1, 0) if b1.ndim == 2 else (0, 2, 1)), np.asarray(mask_val, iou.dtype), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format: str, image_shape=None) -> np.ndarray:
    """Complete IoU (Zheng et al.) of matching boxes (elementwise, broadcast over the leading axes).

    IoU minus the squared centre distance over the squared enclosing diagonal, minus the
    aspect-ratio term v * alpha. A relative format needs ``image_shape``.

    Example:
        >>> import numpy as np
        >>> compute_ciou(np.array([[0.0, 0, 2, 2]]), np.array([[0.0, 0, 2, 2]]), "xyxy").round(4).tolist()
        [1.0]
    """
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(f"compute_ciou: the relative format {bounding_box_format!r} needs image_shape")
    height, width = _image_hw(image_shape)
    b1 = convert_format(boxes1, bounding_box_format, "xyxy", height, width)
    b2 = convert_format(boxes2, bounding_box_format, "xyxy", height, width)
    eps = np.float32(_EPSILON)
    x1a, y1a, x2a, y2a = (b1[..., i] for i in range(4))
    x1b, y1b, x2b, y2b = (b2[..., i] for i in range(4))
    w1, h1 = x2a - x1a, y2a - y1a + eps
    w2, h2 = x2b - x1b, y2b - y1b + eps
    inter = np.maximum(np.minimum(x2a, x2b) - np.maximum(x1a, x1b), 0) * np.maximum(
        np.minimum(y2a, y2b) - np.maximum(y1a, y1b), 0
    )
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / (union + eps)
    diagonal = (np.maximum(x2a, x2b) - np.minimum(x1a, x1b)) ** 2 + (np.maximum(y2a, y2b) - np.minimum(y1a, y1b)) ** 2 + eps
    distance = ((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2 + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2
    v = np.float32(4 / math.pi**2) * (np.arctan(w2 / h2) - np.arctan(w1 / h1)) ** 2
    alpha = v / (v - iou + (1 + eps))
    return (iou - (distance / diagonal + v * alpha)).astype(b1.dtype, copy=False)


__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "compute_ciou",
    "compute_iou",
    "convert_format",
    "crop",
    "decode_deltas_to_boxes",
    "encode_box_to_deltas",
    "pad",
]
