"""Image ops: Keras's ``keras.ops.image.resize`` and ``affine_transform``, and the primitives of the image layers.

Every primitive works on the whole batch at once: resizing is two batched matrix products (one
per spatial axis, the interpolation weights as a matrix), an affine transform one gather per
interpolation corner over the whole batch (its backward one ``bincount``), flips and crops are
views. Random draws happen inside a primitive's forward (``RandomDraw``), so that a recorded
training step draws new values each time it is replayed, as ``Dropout`` does. The semantics are
those of Keras 3 on its PyTorch backend (``torch.nn.functional.interpolate`` for resizing,
scipy-style ``map_coordinates`` for affine transforms).

Example:
    >>> import numpy as np
    >>> from myelin.ops import image
    >>> image.resize(np.arange(4.0).reshape(1, 2, 2, 1), (4, 4))[0, :, :, 0].data[0].tolist()
    [0.0, 0.25, 0.75, 1.0]
"""

from __future__ import annotations

import functools

import numpy as np

from .. import backend
from ..backend import array_module
from ..tensor import Function, Tensor
from .primitives import as_tensor

__all__ = [
    "AffineTransform",
    "ComputeNoGrad",
    "CropAt",
    "FlipWhere",
    "RandomDraw",
    "Resample",
    "affine_transform",
    "resize",
    "resize_geometry",
    "resize_matrix",
]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")
REFUSED_RESIZE_INTERPOLATIONS = ("lanczos3", "lanczos5")  # Keras's PyTorch backend refuses them too
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


# ---------------------------------------------------------------------------- resizing weights
def _cubic_taps(t, a: float):
    """Weights of the taps at -1, 0, 1, 2 around a point at fraction ``t`` (cubic convolution, parameter ``a``)."""

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _aa_filter(x, interpolation: str):
    x = np.abs(x)
    if interpolation == "bilinear":
        return np.maximum(1.0 - x, 0.0)
    a = -0.5  # the antialiased bicubic filter's parameter (PIL's), as torch uses
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1, np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))


@functools.lru_cache(maxsize=128)
def resize_matrix(in_size: int, out_size: int, interpolation: str = "bilinear", antialias: bool = False) -> np.ndarray:
    """The (out_size, in_size) matrix that resizes one axis, with PyTorch's ``interpolate`` rules (half-pixel centres).

    ``nearest`` is PyTorch's ``nearest-exact``; ``bilinear`` and ``bicubic`` (a = -0.75) use
    ``align_corners=False``; ``antialias`` (bilinear and bicubic) widens the filter by the
    downscaling factor and normalises it, as PyTorch (and PIL) do. The result is read-only.

    Example:
        >>> resize_matrix(2, 4).tolist()
        [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    n, m = int(in_size), int(out_size)
    out = np.arange(m)
    w = np.zeros((m, n))
    scale = n / m
    if interpolation == "nearest":
        s32 = np.float32(n) / np.float32(m)
        idx = np.minimum(np.floor((out.astype(np.float32) + np.float32(0.5)) * s32).astype(np.int64), n - 1)
        w[out, idx] = 1.0
    elif antialias and interpolation in ("bilinear", "bicubic"):
        size = 2 if interpolation == "bilinear" else 4
        support = size / 2 * scale if scale >= 1.0 else size / 2
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        center = scale * (out + 0.5)
        lo = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
        hi = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n)
        width = int((hi - lo).max())
        j = lo[:, None] + np.arange(width)[None, :]
        inside = j < hi[:, None]
        weights = _aa_filter((j - center[:, None] + 0.5) * invscale, interpolation) * inside
        total = weights.sum(axis=1, keepdims=True)
        weights = np.divide(weights, total, out=np.zeros_like(weights), where=total != 0)
        rows = np.broadcast_to(out[:, None], j.shape)
        np.add.at(w, (rows[inside], j[inside]), weights[inside])
    elif interpolation == "bilinear":
        src = np.maximum((out + 0.5) * scale - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
        i1 = np.minimum(i0 + 1, n - 1)
        frac = np.clip(src - i0, 0.0, 1.0)
        np.add.at(w, (out, i0), 1.0 - frac)
        np.add.at(w, (out, i1), frac)
    elif interpolation == "bicubic":
        src = (out + 0.5) * scale - 0.5
        i0 = np.floor(src).astype(np.int64)
        taps = _cubic_taps(src - i0, -0.75)
        for k, weight in zip(range(-1, 3), taps):
            np.add.at(w, (out, np.clip(i0 + k, 0, n - 1)), weight)
    else:
        raise ValueError(f"resize_matrix: interpolation must be one of {RESIZE_INTERPOLATIONS}, got {interpolation!r}")
    w.flags.writeable = False
    return w


class Resample(Function):
    """Resize the spatial axes of a 4-D batch: an optional crop, constant padding, then one matrix per axis.

    ``crop`` is (top, height, left, width) of the window kept, ``pad`` (rows, columns) of
    ``fill_value`` added on both sides of it; ``channels_last`` says where the spatial axes are.
    The backward applies the transposed matrices and undoes the padding and the crop.
    """

    def forward(
        self,
        x,
        height=1,
        width=1,
        interpolation="bilinear",
        antialias=False,
        crop=None,
        pad=(0, 0),
        fill_value=0.0,
        channels_last=True,
    ):
        xp = array_module(x)
        hx = 1 if channels_last else 2
        self.in_shape, self.hx, self.crop, self.pad, self.channels_last = x.shape, hx, crop, pad, channels_last
        if crop is not None:
            index = [slice(None)] * 4
            index[hx] = slice(crop[0], crop[0] + crop[1])
            index[hx + 1] = slice(crop[2], crop[2] + crop[3])
            x = x[tuple(index)]
        if pad[0] or pad[1]:
            widths = [(0, 0)] * 4
            widths[hx], widths[hx + 1] = (pad[0], pad[0]), (pad[1], pad[1])
            x = xp.pad(x, widths, mode="constant", constant_values=fill_value)
        self.mid_shape = x.shape
        h, w = x.shape[hx], x.shape[hx + 1]
        self.wh = xp.asarray(resize_matrix(h, height, interpolation, antialias), dtype=x.dtype)
        self.ww = xp.asarray(resize_matrix(w, width, interpolation, antialias), dtype=x.dtype)
        if interpolation == "nearest":  # a gather: exact, infinities included
            return xp.take(xp.take(x, self.wh.argmax(axis=1), axis=hx), self.ww.argmax(axis=1), axis=hx + 1)
        if channels_last:
            n, _, _, c = x.shape
            y = xp.matmul(self.wh, x.reshape(n, h, w * c))
            y = xp.matmul(self.ww, y.reshape(n * height, w, c))
            return y.reshape(n, height, width, c)
        return xp.matmul(xp.matmul(self.wh, x), self.ww.T)

    def backward(self, g):
        xp = array_module(g)
        hx = self.hx
        if self.channels_last:
            n, oh, ow, c = g.shape
            h, w = self.mid_shape[1], self.mid_shape[2]
            t = xp.matmul(self.ww.T, g.reshape(n * oh, ow, c))
            gx = xp.matmul(self.wh.T, t.reshape(n, oh, w * c)).reshape(n, h, w, c)
        else:
            gx = xp.matmul(xp.matmul(self.wh.T, g), self.ww)
        ph, pw = self.pad
        if ph or pw:
            index = [slice(None)] * 4
            index[hx] = slice(ph, gx.shape[hx] - ph)
            index[hx + 1] = slice(pw, gx.shape[hx + 1] - pw)
            gx = gx[tuple(index)]
        if self.crop is not None:
            full = xp.zeros(self.in_shape, dtype=g.dtype)
            index = [slice(None)] * 4
            index[hx] = slice(self.crop[0], self.crop[0] + self.crop[1])
            index[hx + 1] = slice(self.crop[2], self.crop[2] + self.crop[3])
            full[tuple(index)] = gx
            gx = full
        return (gx,)


# ---------------------------------------------------------------------------- affine transforms
def _fix_index(index, size: int, fill_mode: str):
    """Map out-of-range integer indices back into [0, size) by ``fill_mode`` (constant is masked separately).

    Example:
        >>> import numpy as np
        >>> i = np.arange(-4, 8)
        >>> _fix_index(i, 4, "reflect").tolist(), _fix_index(i, 4, "mirror").tolist()
        ([3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0], [2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1])
    """
    xp = array_module(index)
    if fill_mode in ("constant", "nearest"):
        return xp.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return index % size
    if fill_mode == "mirror":  # (d c b | a b c d | c b a): period 2 (size - 1)
        if size == 1:
            return xp.zeros_like(index)
        m = index % (2 * size - 2)
        return xp.where(m < size, m, 2 * size - 2 - m)
    m = index % (2 * size)  # reflect: (d c b a | a b c d | d c b a), period 2 size
    return xp.where(m < size, m, 2 * size - 1 - m)


class AffineTransform(Function):
    """Each output pixel (x, y) of image ``i`` read at ``transform[i]`` applied to (x, y), interpolated.

    ``transform`` is (batch, 8) or (1, 8): [a0, a1, a2, b0, b1, b2, c0, c1] maps the output
    point (x, y) to the input point ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k) with
    k = c0 x + c1 y + 1. Points outside the image follow ``fill_mode`` (constant: ``fill_value``
    for each interpolation corner outside). The gradient flows to the images only.
    """

    def forward(self, x, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0, channels_last=True):
        xp = array_module(x)
        self.channels_last = channels_last
        if not channels_last:
            x = x.transpose(0, 2, 3, 1)
        n, h, w, c = x.shape
        self.shape = (n, h, w, c)
        t = xp.broadcast_to(transform.astype(x.dtype, copy=False), (n, 8))
        a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, k, None, None] for k in range(8))
        ys = xp.arange(h, dtype=x.dtype)[None, :, None]
        xs = xp.arange(w, dtype=x.dtype)[None, None, :]
        k = c0 * xs + c1 * ys + 1
        sx = (a0 * xs + a1 * ys + a2) / k
        sy = (b0 * xs + b1 * ys + b2) / k
        constant = fill_mode == "constant"

        def axis_nodes(coord, size, weighted):
            """(fixed index, validity or None, weight or None) of each interpolation node along one axis."""
            if not weighted:
                nodes = [(xp.round(coord).astype(np.int64), None)]
            else:
                low = xp.floor(coord)
                frac = coord - low
                low = low.astype(np.int64)
                nodes = [(low, 1 - frac), (low + 1, frac)]
            return [(_fix_index(i, size, fill_mode), ((i >= 0) & (i < size)) if constant else None, wt) for i, wt in nodes]

        bilinear = interpolation != "nearest"
        rows, cols = axis_nodes(sy, h, bilinear), axis_nodes(sx, w, bilinear)
        flat = x.reshape(n * h * w, c)
        base = (xp.arange(n) * (h * w))[:, None, None]
        fill = xp.asarray(fill_value, dtype=x.dtype)
        out = None
        self.indices, self.weights = [], []
        for fy, vy, wy in rows:
            row_index = base + fy * w
            for fx, vx, wx in cols:
                idx = row_index + fx
                values = xp.take(flat, idx, axis=0)
                weight = None if wy is None else wy * wx
                valid = None if vy is None else vy & vx
                if valid is not None:
                    values = xp.where(valid[..., None], values, fill)
                term = values if weight is None else weight[..., None] * values
                out = term if out is None else out + term
                effective = xp.ones(idx.shape, dtype=x.dtype) if weight is None else weight
                if valid is not None:
                    effective = effective * valid
                self.indices.append(idx)
                self.weights.append(effective)
        return out if channels_last else out.transpose(0, 3, 1, 2)

    def backward(self, g):
        xp = array_module(g)
        if not self.channels_last:
            g = g.transpose(0, 2, 3, 1)
        n, h, w, c = self.shape
        index = xp.concatenate([i.reshape(-1) for i in self.indices])
        weights = xp.concatenate([wt.reshape(-1) for wt in self.weights])
        g = g.reshape(-1, c)
        # one scatter-add (bincount) per channel over every corner of every pixel of the batch
        columns = [
            xp.bincount(index, weights=weights * xp.tile(g[:, k], len(self.indices)), minlength=n * h * w) for k in range(c)
        ]
        gx = xp.stack(columns, axis=-1).astype(g.dtype).reshape(n, h, w, c)
        return (gx if self.channels_last else gx.transpose(0, 3, 1, 2)), None


# ---------------------------------------------------------------------------- flips, crops, draws
class FlipWhere(Function):
    """Reverse ``axes`` of the samples whose entry of ``flips`` (batch, ...) is true; the others pass unchanged."""

    def forward(self, x, flips, axes=(2,)):
        xp = array_module(x)
        self.keep = xp.asarray(flips).reshape(-1, *([1] * (x.ndim - 1))).astype(bool)
        self.axes = tuple(axes)
        return xp.where(self.keep, xp.flip(x, axis=self.axes), x)

    def backward(self, g):
        xp = array_module(g)
        return xp.where(self.keep, xp.flip(g, axis=self.axes), g), None


class CropAt(Function):
    """The window of ``height`` x ``width`` starting at ``starts`` (top, left), read from an array input.

    The start comes from an input (a ``RandomDraw``'s output) rather than an option, so a
    replayed step crops where that step's draw says.
    """

    def forward(self, x, starts, height=1, width=1, h_axis=1):
        top, left = (int(v) for v in starts.reshape(-1)[:2])
        index = [slice(None)] * x.ndim
        index[h_axis] = slice(top, top + height)
        index[h_axis + 1] = slice(left, left + width)
        self.index, self.in_shape = tuple(index), x.shape
        return x[self.index]

    def backward(self, g):
        gx = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        gx[self.index] = g
        return gx, None


class RandomDraw(Function):
    """``sampler(generator, like.shape)`` drawn in the forward (not differentiable), as a new array each call.

    ``generator`` is a ``myelin.random.SeedGenerator`` (its next draw), a NumPy generator, or
    None for myelin's generator (``myelin.utils.set_random_seed`` makes it repeatable).
    """

    def forward(self, like, sampler=None, generator=None):
        if generator is None:
            gen = backend.rng()
        elif hasattr(generator, "next"):
            gen = generator.next()
        else:
            gen = generator
        return array_module(like).asarray(sampler(gen, like.shape))

    def backward(self, g):
        return (None,)


class ComputeNoGrad(Function):
    """``fn(xp, *arrays)`` recorded as one step (no gradient): derived values, e.g. a transform from drawn angles."""

    def forward(self, *arrays, fn=None):
        self.count = len(arrays)
        return fn(array_module(*arrays), *arrays)

    def backward(self, g):
        return (None,) * self.count


# ---------------------------------------------------------------------------- Keras's ops.image
def _data_format(data_format) -> str:
    value = "channels_last" if data_format is None else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return value


def _images(images, what: str) -> tuple[Tensor, bool]:
    x = images if isinstance(images, Tensor) else Tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{what}: images must have rank 3 (one image) or 4 (a batch), got shape {tuple(x.shape)}")
    if x.data.dtype.kind != "f":
        x = Tensor(x.data.astype(backend.floatx()))
    if x.ndim == 3:
        return x.reshape(1, *x.shape), True
    return x, False


def resize_geometry(h: int, w: int, th: int, tw: int, crop_to_aspect_ratio: bool, pad_to_aspect_ratio: bool):
    """(crop, pad) for ``Resample`` resizing (h, w) to (th, tw): Keras's centred aspect-ratio window or even padding.

    ``crop`` is (top, height, left, width) or None; ``pad`` the (rows, columns) added on each side.

    Example:
        >>> resize_geometry(4, 8, 2, 2, True, False)
        ((0, 4, 2, 4), (0, 0))
        >>> resize_geometry(4, 8, 2, 2, False, True)
        (None, (2, 0))
    """
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        return (int(float(h - ch) / 2), ch, int(float(w - cw) / 2), cw), (0, 0)
    if pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        return None, (int(float(ph - h) / 2), int(float(pw - w) / 2))
    return None, (0, 0)


def resize(
    images,
    size,
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> Tensor:
    """Resize images to ``size`` (height, width), as Keras's ``ops.image.resize`` on PyTorch (differentiable).

    ``crop_to_aspect_ratio`` first takes the largest centred window of the target's aspect
    ratio; ``pad_to_aspect_ratio`` pads the short side evenly with ``fill_value`` instead.
    ``lanczos3``/``lanczos5`` are refused (as on Keras's PyTorch backend).

    Example:
        >>> import numpy as np
        >>> resize(np.ones((1, 4, 4, 2)), (2, 3), interpolation="nearest").shape
        (1, 2, 3, 2)
    """
    if interpolation in REFUSED_RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"resize: interpolation={interpolation!r} (Lanczos) is not supported, as on Keras's PyTorch backend; "
            f"use one of {RESIZE_INTERPOLATIONS}"
        )
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(f"resize: interpolation must be one of {RESIZE_INTERPOLATIONS}, got {interpolation!r}")
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant' (the only mode for padding), got {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    if len(size) != 2 or any(isinstance(s, bool) or int(s) != s or s <= 0 for s in size):
        raise ValueError(f"resize: size must be two positive integers (height, width), got {size!r}")
    fmt = _data_format(data_format)
    x, unbatched = _images(images, "resize")
    hx = 1 if fmt == "channels_last" else 2
    th, tw = int(size[0]), int(size[1])
    crop, pad = resize_geometry(x.shape[hx], x.shape[hx + 1], th, tw, crop_to_aspect_ratio, pad_to_aspect_ratio)
    out = Resample.apply(
        x,
        height=th,
        width=tw,
        interpolation=interpolation,
        antialias=bool(antialias) and interpolation in ("bilinear", "bicubic"),
        crop=crop,
        pad=pad,
        fill_value=float(fill_value),
        channels_last=fmt == "channels_last",
    )
    return out.reshape(*out.shape[1:]) if unbatched else out


def affine_transform(
    images,
    transform,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> Tensor:
    """Apply a projective transform per image, as Keras's ``ops.image.affine_transform`` (differentiable in ``images``).

    ``transform`` is (8,) or (batch, 8): [a0, a1, a2, b0, b1, b2, c0, c1] maps each output point
    (x, y) to the input point read; ``fill_mode`` is constant, nearest, wrap, mirror or reflect.

    Example:
        >>> import numpy as np
        >>> img = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> shift = [1, 0, 1, 0, 1, 0, 0, 0]  # read one pixel to the right
        >>> affine_transform(img, shift)[0, :, :, 0].data.tolist()[0]
        [1.0, 2.0, 0.0]
    """
    if interpolation not in AFFINE_INTERPOLATIONS:
        raise ValueError(f"affine_transform: interpolation must be one of {AFFINE_INTERPOLATIONS}, got {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"affine_transform: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    fmt = _data_format(data_format)
    x, unbatched = _images(images, "affine_transform")
    t = transform if isinstance(transform, Tensor) else as_tensor(np.asarray(transform, dtype=x.data.dtype))
    if t.ndim not in (1, 2) or t.shape[-1] != 8 or (t.ndim == 2 and t.shape[0] not in (1, x.shape[0])):
        raise ValueError(
            f"affine_transform: transform must have shape (8,) or (batch, 8) for {x.shape[0]} images, got {tuple(t.shape)}"
        )
    if t.ndim == 1:
        t = t.reshape(1, 8)
    out = AffineTransform.apply(
        x,
        t,
        interpolation=interpolation,
        fill_mode=fill_mode,
        fill_value=float(fill_value),
        channels_last=fmt == "channels_last",
    )
    return out.reshape(*out.shape[1:]) if unbatched else out
