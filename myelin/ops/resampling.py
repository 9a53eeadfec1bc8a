"""Primitives of the reshaping and noise layers: zero padding, nearest and bilinear upsampling, Gaussian noise.

Each works on whole arrays (no loop over pixels or samples) and builds whatever it needs
(index tables, interpolation matrices, random draws) inside its forward, so that a training
step recorded by ``myelin.tape`` and replayed computes the same and draws fresh noise.

- ``ZeroPad``: zeros around ``x``; the backward slices the gradient back.
- ``UpsampleNearest``: each entry repeated ``factor`` times along each axis; the backward
  sums each block.
- ``UpsampleBilinear``: linear interpolation along two axes at half-pixel centres (PyTorch's
  ``F.interpolate(mode="bilinear", align_corners=False)``, what Keras's ``ops.image.resize``
  computes when enlarging), as two matrix products; the backward multiplies by the transposes.
- ``GaussianNoise`` (``x + stddev * N(0, 1)``) and ``GaussianDropout`` (``x * N(1, stddev)``):
  the draw comes from ``generator`` or the library generator at call time, as ``Dropout``.

Example:
    >>> import numpy as np
    >>> from myelin import Tensor
    >>> zero_pad(Tensor(np.ones((1, 2), np.float32)), ((0, 0), (1, 2))).data
    array([[0., 1., 1., 0., 0.]], dtype=float32)
    >>> upsample_nearest(Tensor(np.array([[1.0, 2.0]], np.float32)), (1,), (2,)).data
    array([[1., 1., 2., 2.]], dtype=float32)
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import array_module
from ..tensor import Function, Tensor
from .primitives import as_tensor


class ZeroPad(Function):
    """``x`` inside zeros: ``pads`` is one (before, after) pair per axis."""

    def forward(self, x, pads=()):
        xp = array_module(x)
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, pads))
        out = xp.zeros(shape, dtype=x.dtype)
        self.index = tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, pads))
        out[self.index] = x
        return out

    def backward(self, g):
        return (g[self.index],)


class UpsampleNearest(Function):
    """Each entry of ``x`` repeated ``factors[k]`` times along ``axes[k]``."""

    def forward(self, x, axes=(), factors=()):
        xp = array_module(x)
        self.in_shape, self.axes, self.factors = x.shape, axes, factors
        out = x
        for a, f in zip(axes, factors):
            if f != 1:
                out = xp.repeat(out, f, axis=a)
        return out

    def backward(self, g):
        shape = []
        sums = []
        for i, n in enumerate(self.in_shape):
            if i in self.axes and self.factors[self.axes.index(i)] != 1:
                shape += [n, self.factors[self.axes.index(i)]]
                sums.append(len(shape) - 1)
            else:
                shape.append(n)
        return (g.reshape(shape).sum(axis=tuple(sums)) if sums else g,)


def interpolation_matrix(xp, size_in: int, size_out: int, dtype):
    """The (size_out, size_in) matrix of linear interpolation at half-pixel centres (align_corners=False).

    Output position j samples the input at ``(j + 0.5) * size_in / size_out - 0.5``, clamped
    at 0 below and at the last entry above, as PyTorch's bilinear mode does.

    Example:
        >>> import numpy as np
        >>> interpolation_matrix(np, 2, 4, "float64")
        array([[1.  , 0.  ],
               [0.75, 0.25],
               [0.25, 0.75],
               [0.  , 1.  ]])
    """
    j = xp.arange(size_out, dtype="float64")
    src = xp.maximum((j + 0.5) * (size_in / size_out) - 0.5, 0.0)
    lo = xp.minimum(xp.floor(src).astype("int64"), size_in - 1)
    hi = xp.minimum(lo + 1, size_in - 1)
    frac = src - lo
    m = xp.zeros((size_out, size_in), dtype="float64")
    rows = xp.arange(size_out)
    m[rows, lo] += 1.0 - frac
    m[rows, hi] += frac
    return m.astype(dtype)


class UpsampleBilinear(Function):
    """Bilinear enlargement of axes ``axes`` (two of them, in order) by integer ``factors``."""

    def forward(self, x, axes=(1, 2), factors=(2, 2)):
        xp = array_module(x)
        (ah, aw), (fh, fw) = axes, factors
        h, w = x.shape[ah], x.shape[aw]
        self.mh = interpolation_matrix(xp, h, h * fh, x.dtype)
        self.mw = interpolation_matrix(xp, w, w * fw, x.dtype)
        # move the two axes last: (..., H, W)
        rest = [i for i in range(x.ndim) if i not in (ah, aw)]
        self.perm = tuple(rest) + (ah, aw)
        self.inverse = tuple(sorted(range(x.ndim), key=lambda i: self.perm[i]))
        xt = x.transpose(self.perm)
        backend.blas_threads_for(2.0 * xt.size * (h * fh + w * fw))
        out = (self.mh @ xt) @ self.mw.T
        return xp.ascontiguousarray(out.transpose(self.inverse))

    def backward(self, g):
        gt = g.transpose(self.perm)
        gx = (self.mh.T @ gt) @ self.mw
        return (array_module(g).ascontiguousarray(gx.transpose(self.inverse)),)


class GaussianNoise(Function):
    """``x + stddev * N(0, 1)``, the noise drawn in ``forward`` (from ``generator``, else the library's)."""

    def forward(self, x, stddev=1.0, generator=None):
        noise = (generator or backend.rng()).standard_normal(x.shape, dtype="float64")
        return x + array_module(x).asarray(noise * stddev, dtype=x.dtype)

    def backward(self, g):
        return (g,)


class GaussianDropout(Function):
    """``x * N(1, stddev)`` (multiplicative noise of mean 1), drawn in ``forward`` as ``GaussianNoise``."""

    def forward(self, x, stddev=1.0, generator=None):
        noise = (generator or backend.rng()).standard_normal(x.shape, dtype="float64") * stddev + 1.0
        self.noise = array_module(x).asarray(noise, dtype=x.dtype)
        return x * self.noise

    def backward(self, g):
        return (g * self.noise,)


def _int_tuple(values, name: str) -> tuple:
    return tuple(int(v) for v in values)


def zero_pad(x, pads) -> Tensor:
    """``x`` with zeros around it, ``pads`` one (before, after) pair per axis.

    Example:
        >>> import numpy as np
        >>> zero_pad(np.ones((1, 1), np.float32), ((1, 0), (0, 1))).data.tolist()
        [[0.0, 0.0], [1.0, 0.0]]
    """
    x = as_tensor(x)
    pads = tuple((int(a), int(b)) for a, b in pads)
    if len(pads) != x.ndim or any(a < 0 or b < 0 for a, b in pads):
        raise ValueError(f"zero_pad: give one non-negative (before, after) pair per axis of {x.shape}, got {pads}")
    return ZeroPad.apply(x, pads=pads)


def upsample_nearest(x, axes, factors) -> Tensor:
    """Repeat each entry ``factors[k]`` times along ``axes[k]``.

    Example:
        >>> import numpy as np
        >>> upsample_nearest(np.array([[1.0], [2.0]], np.float32), (0,), (2,)).data.ravel().tolist()
        [1.0, 1.0, 2.0, 2.0]
    """
    x = as_tensor(x)
    return UpsampleNearest.apply(x, axes=_int_tuple(axes, "axes"), factors=_int_tuple(factors, "factors"))


def upsample_bilinear(x, axes, factors) -> Tensor:
    """Bilinear enlargement of two axes by integer factors (half-pixel centres, as PyTorch's align_corners=False).

    Example:
        >>> import numpy as np
        >>> upsample_bilinear(np.array([[[0.0, 4.0]]], np.float32), (1, 2), (1, 2)).data.tolist()
        [[[0.0, 1.0, 3.0, 4.0]]]
    """
    x = as_tensor(x)
    axes, factors = _int_tuple(axes, "axes"), _int_tuple(factors, "factors")
    if len(axes) != 2 or len(factors) != 2:
        raise ValueError(f"upsample_bilinear: give two axes and two factors, got {axes} and {factors}")
    axes = tuple(a % x.ndim for a in axes)
    return UpsampleBilinear.apply(x, axes=axes, factors=factors)


def gaussian_noise(x, stddev: float, generator=None) -> Tensor:
    """``x`` plus zero-mean Gaussian noise of standard deviation ``stddev``.

    Example:
        >>> import numpy as np
        >>> y = gaussian_noise(np.zeros(20000, np.float32), 0.5, np.random.default_rng(0)).data
        >>> round(float(y.std()), 2)
        0.5
    """
    return GaussianNoise.apply(as_tensor(x), stddev=float(stddev), generator=generator)


def gaussian_dropout(x, rate: float, generator=None) -> Tensor:
    """``x`` times Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))``.

    Example:
        >>> import numpy as np
        >>> y = gaussian_dropout(np.ones(20000, np.float32), 0.5, np.random.default_rng(0)).data
        >>> round(float(y.mean()), 1), round(float(y.std()), 1)
        (1.0, 1.0)
    """
    return GaussianDropout.apply(as_tensor(x), stddev=math.sqrt(rate / (1.0 - rate)), generator=generator)


__all__ = [
    "GaussianDropout",
    "GaussianNoise",
    "UpsampleBilinear",
    "UpsampleNearest",
    "ZeroPad",
    "gaussian_dropout",
    "gaussian_noise",
    "interpolation_matrix",
    "upsample_bilinear",
    "upsample_nearest",
    "zero_pad",
]
