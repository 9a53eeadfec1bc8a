"""Attention and normalization primitives: layer and RMS normalization, a masked softmax.

Each is one ``Function`` whose forward and backward are whole-array NumPy (or CuPy)
expressions: ``LayerNorm`` normalizes over any set of axes and applies ``gamma`` and
``beta`` in the same pass (its backward is the closed form, not a chain of mean, variance
and division nodes); ``RMSNorm`` does the same without the mean; ``MaskedSoftmax`` is the
softmax of attention scores over the last axis with a boolean mask, a causal (lower
triangular) mask and a sliding window applied inside the op, so that a masked position gets
probability exactly 0 and no mask array is ever built outside it. A row whose positions are
all masked gives zeros (``empty="zeros"``, Keras's ``Softmax(mask=...)`` and
``MultiHeadAttention``) or the plain softmax of the row (``empty="softmax"``, what Keras's
``Attention`` layer computes in exact arithmetic: it subtracts 1e9 from every masked score).

Example:
    >>> import numpy as np
    >>> from myelin import Tensor, ops
    >>> p = ops.masked_softmax(Tensor(np.zeros((1, 2, 2))), causal=True)
    >>> p.data.tolist()
    [[[1.0, 0.0], [0.5, 0.5]]]
    >>> ops.layer_normalization(Tensor([[1.0, 3.0]]), epsilon=0.0).data.tolist()
    [[-1.0, 1.0]]
"""

from __future__ import annotations

import math
import numbers

from .. import backend, native
from ..backend import array_module
from ..backend import is_float_dtype as _is_float
from ..tensor import Function, Tensor
from .primitives import _col_sum, _row_sum, as_tensor

# ---------------------------------------------------------------------------- helpers


def _norm_axes(axis, ndim: int, what: str) -> tuple:
    """``axis`` (an int or a sequence) as sorted non-negative axes of an ``ndim``-D input; errors name ``what``."""
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if not axes:
        raise ValueError(f"{what}: axis must name at least one axis, got {axis!r}")
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
            raise ValueError(f"{what}: axis {a!r} is out of range for an input of rank {ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: axis {axis!r} names an axis twice")
    return tuple(sorted(out))


def _trailing(axes: tuple, ndim: int) -> bool:
    """Whether ``axes`` are the last ``len(axes)`` axes (then the op works on a 2-D view)."""
    return axes == tuple(range(ndim - len(axes), ndim))


class _Rows:
    """An input seen as (rows, features) when the normalized axes are trailing, else with keepdims reductions."""

    def __init__(self, x, axes: tuple):
        self.shape, self.axes = x.shape, axes
        self.flat = _trailing(axes, x.ndim)
        if self.flat:
            width = math.prod(x.shape[a] for a in axes)
            self.x = x.reshape(-1, width)
            self.red, self.param_shape = (1,), (width,)
        else:
            self.x = x
            self.red = axes
            self.param_shape = tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim))
        self.count = math.prod(x.shape[a] for a in axes)

    def mean(self, a):
        if self.flat:
            return (_row_sum(a) * (1.0 / self.count))[:, None]
        return a.mean(axis=self.red, keepdims=True)

    def mean_of_product(self, a, b):
        """mean(a * b) over the normalized axes, without the product array on the fast path."""
        if self.flat:
            return (array_module(a).einsum("ij,ij->i", a, b) * (1.0 / self.count))[:, None]
        return (a * b).mean(axis=self.red, keepdims=True)

    def param(self, p):
        return None if p is None else p.reshape(self.param_shape)

    def param_grad(self, a, shape):
        """Sum of ``a`` over every axis but the normalized ones, in a parameter's own shape."""
        if self.flat:
            return _col_sum(a).reshape(shape)
        others = tuple(i for i in range(a.ndim) if i not in self.axes)
        return a.sum(axis=others).reshape(shape)

    def out(self, y):
        return y.reshape(self.shape)


# ---------------------------------------------------------------------------- normalization
def _in_parts(part, x2) -> None:
    """``part(lo, hi)`` over the rows of the 2-D ``x2``: split over the native threads for a NumPy array, whole on CuPy."""
    if type(x2).__module__ == "numpy":
        native.parallel(part, x2.shape[0], 4 * x2.size)
    else:
        part(0, x2.shape[0])


class LayerNorm(Function):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axes``; gamma and beta are optional inputs.

    ``has_gamma`` / ``has_beta`` say which of the optional inputs were given (in that order).
    The backward is the closed form ``rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``.
    """

    def forward(self, x, *params, axes=(-1,), epsilon=1e-3, has_gamma=True, has_beta=True):
        xp = array_module(x)
        it = iter(params)
        gamma = next(it) if has_gamma else None
        beta = next(it) if has_beta else None
        rows = _Rows(x, axes)
        if rows.flat:
            xhat, rstd, out = self._rows_forward(rows, gamma, beta, epsilon)
        else:
            xc = rows.x - rows.mean(rows.x)
            rstd = 1.0 / xp.sqrt(rows.mean_of_product(xc, xc) + epsilon)
            xhat = xc * rstd
            out = xhat * rows.param(gamma) if gamma is not None else xhat.copy()
            if beta is not None:
                out += rows.param(beta)
        self.rows, self.xhat, self.rstd, self.gamma = rows, xhat, rstd, gamma
        self.shapes = (None if gamma is None else gamma.shape, None if beta is None else beta.shape)
        self.has = (has_gamma, has_beta)
        return rows.out(out)

    @staticmethod
    def _rows_forward(rows, gamma, beta, epsilon):
        """The normalization of a 2-D view's rows, in parts of rows over the native threads (each row on its own:
        the same numbers whatever the split)."""
        x2, gamma, beta = rows.x, rows.param(gamma), rows.param(beta)
        xp = array_module(x2)
        xhat, rstd = xp.empty_like(x2), xp.empty((x2.shape[0], 1), dtype=x2.dtype)
        out = xp.empty(x2.shape, dtype=xp.result_type(x2, *(p for p in (gamma, beta) if p is not None)))

        def part(lo, hi):
            x = x2[lo:hi]
            xc = x - rows.mean(x)
            r = 1.0 / xp.sqrt(rows.mean_of_product(xc, xc) + epsilon)
            xh = xp.multiply(xc, r, out=xhat[lo:hi])
            if gamma is not None:
                xp.multiply(xh, gamma, out=out[lo:hi])
            else:
                out[lo:hi] = xh
            if beta is not None:
                out[lo:hi] += beta
            rstd[lo:hi] = r

        _in_parts(part, x2)
        return xhat, rstd, out

    def backward(self, g):
        rows, xhat = self.rows, self.xhat
        g2 = g.reshape(xhat.shape)
        needs = self.needs_input_grad
        grads = [None]
        if needs[0] and rows.flat:
            grads[0] = rows.out(self._rows_dx(g2))
        elif needs[0]:
            dxhat = g2 * rows.param(self.gamma) if self.gamma is not None else g2
            dx = dxhat - rows.mean(dxhat)
            dx -= xhat * rows.mean_of_product(dxhat, xhat)
            dx *= self.rstd
            grads[0] = rows.out(dx)
        k = 1
        if self.has[0]:
            grads.append(rows.param_grad(g2 * xhat, self.shapes[0]) if needs[k] else None)
            k += 1
        if self.has[1]:
            grads.append(rows.param_grad(g2, self.shapes[1]) if needs[k] else None)
        return tuple(grads)

    def _rows_dx(self, g2):
        """The input's gradient on a 2-D view, in parts of rows as the forward (the parameters' sums stay whole)."""
        xhat, rstd, gamma = self.xhat, self.rstd, self.rows.param(self.gamma)
        xp = array_module(g2)
        dx = xp.empty(xhat.shape, dtype=xp.result_type(g2, xhat, *(() if gamma is None else (gamma,))))
        rows = self.rows

        def part(lo, hi):
            xh = xhat[lo:hi]
            dxhat = g2[lo:hi] * gamma if gamma is not None else g2[lo:hi]
            d = xp.subtract(dxhat, rows.mean(dxhat), out=dx[lo:hi])
            d -= xh * rows.mean_of_product(dxhat, xh)
            d *= rstd[lo:hi]

        _in_parts(part, xhat)
        return dx


class RMSNorm(Function):
    """``x / sqrt(mean(x ** 2) + epsilon) * scale`` over ``axes`` (``scale`` optional)."""

    def forward(self, x, *params, axes=(-1,), epsilon=1e-6):
        xp = array_module(x)
        scale = params[0] if params else None
        rows = _Rows(x, axes)
        r = 1.0 / xp.sqrt(rows.mean_of_product(rows.x, rows.x) + epsilon)
        xh = rows.x * r
        out = xh * rows.param(scale) if scale is not None else xh
        self.rows, self.xh, self.r, self.scale = rows, xh, r, scale
        return rows.out(out)

    def backward(self, g):
        rows, xh = self.rows, self.xh
        g2 = g.reshape(xh.shape)
        needs = self.needs_input_grad
        gx = None
        if needs[0]:
            dxh = g2 * rows.param(self.scale) if self.scale is not None else g2
            gx = dxh - xh * rows.mean_of_product(dxh, xh)
            gx *= self.r
            gx = rows.out(gx)
        if self.scale is None:
            return (gx,)
        return gx, (rows.param_grad(g2 * xh, self.scale.shape) if needs[1] else None)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling: bool = False) -> Tensor:
    """Keras's ``ops.layer_normalization``: normalize ``x`` over ``axis`` to mean 0 and variance 1, then scale and shift.

    ``gamma`` and ``beta`` have the shape of the normalized axes; ``epsilon`` defaults to
    1e-7 (Keras's ``backend.epsilon()``). ``rms_scaling=True`` is Keras's deprecated form: it
    divides by ``sqrt(var + epsilon)`` without subtracting the mean and ignores ``beta``.

    Example:
        >>> layer_normalization(Tensor([[0.0, 2.0, 4.0]]), epsilon=0.0).data.astype(float).round(4).tolist()
        [[-1.2247, 0.0, 1.2247]]
    """
    x = as_tensor(x)
    if not _is_float(x.data.dtype):
        x = Tensor(x.data.astype("float32"))
    eps = 1e-7 if epsilon is None else float(epsilon)
    axes = _norm_axes(axis, x.ndim, "layer_normalization")
    if rms_scaling:
        from . import numpy as knp  # noqa: PLC0415

        inv = knp.power(knp.add(knp.var(x, axis=axes, keepdims=True), eps), -0.5)
        out = knp.multiply(x, inv)
        if gamma is not None:
            shape = tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim))
            out = knp.multiply(out, knp.reshape(as_tensor(gamma, x), shape))
        return out
    params = [as_tensor(p, x) for p in (gamma, beta) if p is not None]
    return LayerNorm.apply(x, *params, axes=axes, epsilon=eps, has_gamma=gamma is not None, has_beta=beta is not None)


def rms_normalization(x, scale=None, axis=-1, epsilon=None) -> Tensor:
    """Keras's ``ops.rms_normalization``: ``x * rsqrt(mean(x ** 2) + epsilon) * scale`` over ``axis``.

    ``epsilon`` defaults to 1e-7 (Keras's ``backend.epsilon()``).

    Example:
        >>> rms_normalization(Tensor([[3.0, 4.0]]), epsilon=0.0).data.astype(float).round(4).tolist()
        [[0.8485, 1.1314]]
    """
    x = as_tensor(x)
    if not _is_float(x.data.dtype):
        x = Tensor(x.data.astype("float32"))
    eps = 1e-7 if epsilon is None else float(epsilon)
    axes = _norm_axes(axis, x.ndim, "rms_normalization")
    params = [as_tensor(scale, x)] if scale is not None else []
    return RMSNorm.apply(x, *params, axes=axes, epsilon=eps)


# ---------------------------------------------------------------------------- masked softmax
_EMPTY = ("zeros", "softmax", "uniform")


def _band(xp, rows: int, cols: int, causal: bool, window):
    """The (rows, cols) boolean mask of allowed (query, key) pairs: j <= i when causal, |i - j| < window."""
    i = xp.arange(rows)[:, None]
    j = xp.arange(cols)[None, :]
    keep = None
    if causal:
        keep = j <= i
    if window is not None:
        near = xp.abs(i - j) < window
        keep = near if keep is None else keep & near
    return keep


class MaskedSoftmax(Function):
    """softmax over the last axis where ``mask`` (broadcastable boolean, optional input) and the causal/window band allow.

    Masked positions get probability 0. A row with nothing allowed gives zeros
    (``empty="zeros"``), the row's plain softmax (``empty="softmax"``) or 1 / width
    everywhere (``empty="uniform"``, a constant: no gradient). The backward is
    ``p * (g - sum(g * p))``, which is 0 at every masked position.
    """

    def forward(self, x, *mask, causal=False, window=None, empty="zeros"):
        xp = array_module(x)
        keep = mask[0] if mask else None
        if causal or window is not None:
            band = _band(xp, x.shape[-2], x.shape[-1], causal, window)
            keep = band if keep is None else keep & band
        width = x.shape[-1]
        x2 = x.reshape(-1, width)
        keep2 = None if keep is None else xp.broadcast_to(keep, x.shape).reshape(-1, width)
        # One shift for the whole array (its maximum): exp never overflows and softmax is shift-invariant. A row
        # far below that maximum (or with nothing allowed) would underflow; such rows are recomputed with their own.
        e = (x2 - x2.max() if x2.size else x2.copy()) if keep2 is None else xp.where(keep2, x2, -xp.inf)
        if keep2 is not None:
            top = e.max() if e.size else 0.0
            e -= top if bool(xp.isfinite(top)) else 0.0
        xp.exp(e, out=e)
        sums = _row_sum(e)
        low = sums < (1e-20 if e.dtype.itemsize <= 4 else 1e-200)
        has_low = bool(low.any())
        if has_low:
            sums[low] = 1.0
        e *= (1.0 / sums)[:, None]
        if has_low:
            rows = xp.nonzero(low)[0]
            sub = x2[rows] if keep2 is None else xp.where(keep2[rows], x2[rows], -xp.inf)
            top = sub.max(axis=1, keepdims=True)
            empty_rows = ~xp.isfinite(top[:, 0])
            top[empty_rows] = 0.0
            sub = xp.exp(sub - top)
            total = sub.sum(axis=1, keepdims=True)
            total[empty_rows] = 1.0
            sub /= total
            if empty_rows.any():
                if empty == "uniform":
                    sub[empty_rows] = 1.0 / width
                elif empty == "softmax":
                    plain = x2[rows[empty_rows]]
                    plain = xp.exp(plain - plain.max(axis=1, keepdims=True))
                    sub[empty_rows] = plain / plain.sum(axis=1, keepdims=True)
            e[rows] = sub
        self.out = e
        self.n_mask = len(mask)
        return e.reshape(x.shape)

    def backward(self, g):
        xp = array_module(g)
        p = self.out
        g2 = g.reshape(p.shape)
        dot = xp.einsum("ij,ij->i", g2, p)
        gx = g2 - dot[:, None]
        gx *= p
        return (gx.reshape(g.shape),) + (None,) * self.n_mask


def masked_softmax(x, mask=None, causal: bool = False, sliding_window=None, empty: str = "zeros") -> Tensor:
    """softmax of ``x`` over its last axis, with masked positions at probability 0.

    ``mask``: a boolean array or tensor broadcastable to ``x`` (True: attend). ``causal``:
    position j of the last axis is allowed for row i of the second-to-last only when j <= i.
    ``sliding_window``: only |i - j| < sliding_window. ``empty``: what a row with nothing
    allowed gives, "zeros" (Keras's ``Softmax`` with a mask), "softmax" (the row's plain
    softmax) or "uniform" (Keras's ``ops.dot_product_attention``). Differentiable in ``x``.

    Example:
        >>> import numpy as np
        >>> p = masked_softmax(Tensor([[1.0, 2.0, 3.0]]), mask=np.array([[True, False, True]]))
        >>> p.data.astype(float).round(4).tolist()
        [[0.1192, 0.0, 0.8808]]
    """
    x = as_tensor(x)
    if empty not in _EMPTY:
        raise ValueError(f"masked_softmax: empty must be one of {_EMPTY}, got {empty!r}")
    if sliding_window is not None and (
        isinstance(sliding_window, bool) or not isinstance(sliding_window, numbers.Integral) or sliding_window <= 0
    ):
        raise ValueError(f"masked_softmax: sliding_window must be None or a positive integer, got {sliding_window!r}")
    if (causal or sliding_window is not None) and x.ndim < 2:
        raise ValueError(f"masked_softmax: a causal or windowed mask needs scores of rank >= 2, got shape {x.shape}")
    if mask is None:
        return MaskedSoftmax.apply(x, causal=bool(causal), window=sliding_window, empty=empty)
    mask = mask if isinstance(mask, Tensor) else Tensor(mask)
    if mask.data.dtype.kind != "b":
        mask = Tensor(mask.data > 0.5) if _is_float(mask.data.dtype) else Tensor(mask.data != 0)
    try:
        array_module(x.data).broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"masked_softmax: the mask of shape {mask.shape} does not broadcast to the scores' shape {x.shape}"
        ) from None
    return MaskedSoftmax.apply(x, mask, causal=bool(causal), window=sliding_window, empty=empty)


# Scores of about this many bytes per chunk of batch items: a chunk's scores, probabilities and their gradients
# stay in the core's cache between the products and the softmax.
_CHUNK_BYTES = 1 << 19


class AttentionCore(Function):
    """``softmax(mask(q k^T * scale)) v`` per head, a few batch items at a time, in one node.

    ``q`` (batch, target, heads, dim), ``k`` (batch, source, heads, dim), ``v`` (batch,
    source, heads, dim_v): the projections' layout, read through transposed views; the
    output is (batch, target, heads, dim_v). An optional boolean ``mask`` broadcastable to
    (batch, heads, target, source), the ``causal`` band and the sliding ``window`` say which pairs attend; a row
    with nothing allowed gives zeros, as ``MaskedSoftmax(empty="zeros")``. Each chunk of
    batch items runs its scores, the stable softmax (shifted by the chunk's maximum; a row
    that would underflow recomputed with its own) and the product with ``v`` while they are
    in cache, instead of three
    whole-batch passes through memory; the chunks are split over the native threads
    (``myelin.native.parallel``), and no number depends on the split. Only the
    probabilities are kept for the backward, which runs chunk by chunk the same way.
    """

    def forward(self, q, k, v, *mask, scale=1.0, causal=False, window=None):
        xp = array_module(q)
        B, T, H, _ = q.shape
        S = k.shape[1]
        dtype = xp.result_type(q, k, v)
        keep = xp.broadcast_to(mask[0], (B, H, T, S)) if mask else None
        band = _band(xp, T, S, causal, window) if causal or window is not None else None
        probs = xp.empty((B, H, T, S), dtype=dtype)
        out = xp.empty((B, T, H, v.shape[-1]), dtype=dtype)
        qh, kt, vh = q.transpose(0, 2, 1, 3), k.transpose(0, 2, 3, 1), v.transpose(0, 2, 1, 3)  # (B, H, ...) views
        out_h = out.transpose(0, 2, 1, 3)
        chunk = max(1, _CHUNK_BYTES // max(1, H * T * S * probs.itemsize))
        tiny = 1e-20 if probs.itemsize <= 4 else 1e-200

        def run(lo: int, hi: int) -> None:  # chunks lo to hi: fixed bounds, so no number depends on the thread count
            for a in range(lo * chunk, min(hi * chunk, B), chunk):
                c = slice(a, min(a + chunk, B))
                p, qs = probs[c], qh[c] * scale
                xp.matmul(qs, kt[c], out=p)
                allowed = band if keep is None else (keep[c] if band is None else keep[c] & band)
                if allowed is not None:
                    xp.copyto(p, -xp.inf, where=~allowed)
                # One shift for the chunk (its maximum, one fast reduction) keeps exp below 1; a row far below it
                # (or with nothing allowed) would underflow: those rows are recomputed with their own maximum.
                top = p.max()
                p -= top if bool(xp.isfinite(top)) else 0.0
                xp.exp(p, out=p)
                sums = p.sum(axis=-1, keepdims=True)
                low = sums[..., 0] < tiny
                fix = bool(low.any())
                if fix:
                    sums[low] = 1.0
                p /= sums
                if fix:
                    where = xp.nonzero(low)  # (item, head, query) of each such row
                    keys = kt[c].swapaxes(-1, -2)[where[0], where[1]]  # (rows, source, dim)
                    rows = (keys @ qs[where][..., None])[..., 0]  # their scores again
                    if allowed is not None:
                        rows = xp.where(xp.broadcast_to(allowed, p.shape)[where], rows, -xp.inf)
                    row_top = rows.max(axis=-1, keepdims=True)
                    row_top[~xp.isfinite(row_top)] = 0.0  # nothing allowed: exp gives zeros
                    rows = xp.exp(rows - row_top)
                    total = rows.sum(axis=-1, keepdims=True)
                    total[total == 0] = 1.0
                    p[where] = rows / total
                out_h[c] = p @ vh[c]

        backend.blas_threads_for(2.0 * T * S * q.shape[-1])  # one small product per head: one BLAS thread each
        native.parallel(run, -(-B // chunk), probs.size)
        self.saved = (q, k, v, probs, out, scale)
        self.n_mask = len(mask)
        return out

    def backward(self, g):
        q, k, v, probs, out, scale = self.saved
        xp = array_module(g)
        B = q.shape[0]
        dq, dk, dv = xp.empty_like(q), xp.empty_like(k), xp.empty_like(v)
        qh, kh, vt, gh = q.transpose(0, 2, 1, 3), k.transpose(0, 2, 1, 3), v.transpose(0, 2, 3, 1), g.transpose(0, 2, 1, 3)
        # sum over a row of (d probs * probs) is d out . out for that query (out = probs v): a sum over dim_v, not source
        delta = (g * out).sum(axis=-1).transpose(0, 2, 1)[..., None]  # (B, H, T, 1)
        dqh, dkh, dvh = dq.transpose(0, 2, 1, 3), dk.transpose(0, 2, 1, 3), dv.transpose(0, 2, 1, 3)
        chunk = max(1, _CHUNK_BYTES // max(1, probs[0].nbytes))

        def run(lo: int, hi: int) -> None:
            for a in range(lo, hi, chunk):
                c = slice(a, min(a + chunk, hi))
                p, go = probs[c], gh[c]
                dvh[c] = p.swapaxes(-1, -2) @ go
                ds = go @ vt[c]  # d probs, then d scores: p * (d probs - sum(d probs * p)); 0 where masked
                ds -= delta[c]
                ds *= p
                dqh[c] = (ds @ kh[c]) * scale
                dkh[c] = ds.swapaxes(-1, -2) @ (qh[c] * scale)

        backend.blas_threads_for(2.0 * probs[0, 0].size * q.shape[-1])
        native.parallel(run, B, 3 * probs.size)
        return (dq, dk, dv) + (None,) * self.n_mask


def attention_core(q, k, v, mask=None, scale: float = 1.0, causal: bool = False, sliding_window=None) -> Tensor:
    """Multi-head dot-product attention, ``softmax(q k^T * scale) v`` per head, as one fused node.

    ``q`` is (batch, target, heads, dim), ``k`` and ``v`` (batch, source, heads, dim(_v));
    ``mask`` a boolean array or tensor broadcastable to (batch, heads, target, source), True
    where a pair attends (``combine_attention_masks`` gives one); ``causal`` adds the lower
    triangular band, ``sliding_window`` only pairs with |i - j| < sliding_window. Rows with nothing allowed give
    zeros. Differentiable in q, k and v.

    Example:
        >>> import numpy as np
        >>> q = k = Tensor(np.zeros((1, 2, 1, 1)))
        >>> v = Tensor(np.array([1.0, 3.0]).reshape(1, 2, 1, 1))
        >>> attention_core(q, k, v, causal=True).data.ravel().tolist()
        [1.0, 2.0]
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4 or k.shape[:3] != v.shape[:3] or q.shape[0] != k.shape[0]:
        raise ValueError(
            f"attention_core: q, k, v must be (batch, target, heads, dim), (batch, source, heads, dim), (batch, source, "
            f"heads, dim_v), got {q.shape}, {k.shape}, {v.shape}"
        )
    if q.shape[2:] != k.shape[2:]:
        raise ValueError(f"attention_core: q's heads and dim {q.shape[2:]} must equal k's {k.shape[2:]}")
    if sliding_window is not None and (
        isinstance(sliding_window, bool) or not isinstance(sliding_window, numbers.Integral) or sliding_window <= 0
    ):
        raise ValueError(f"attention_core: sliding_window must be None or a positive integer, got {sliding_window!r}")
    if mask is None:
        return AttentionCore.apply(q, k, v, scale=float(scale), causal=bool(causal), window=sliding_window)
    mask = mask if isinstance(mask, Tensor) else Tensor(mask)
    shape = (q.shape[0], q.shape[2], q.shape[1], k.shape[1])
    try:
        if array_module(q.data).broadcast_shapes(mask.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"attention_core: the mask of shape {mask.shape} does not broadcast to the scores' {shape}") from None
    keep = mask if mask.data.dtype.kind == "b" else Tensor(mask.data != 0)
    return AttentionCore.apply(q, k, v, keep, scale=float(scale), causal=bool(causal), window=sliding_window)


class CombineMasks(Function):
    """The (batch, 1, target, source) boolean mask of attention from the masks given (not differentiable).

    ``kinds`` names each input: "query" (batch, target), "value" or "key" (batch, source),
    "attention" ((batch,) target, source, or (batch, heads, target, source)). Any nonzero value
    counts as True. Their logical AND is returned, broadcastable to the scores.
    """

    def forward(self, *masks, kinds=()):
        self.n = len(masks)
        out = None
        for m, kind in zip(masks, kinds):
            m = m if m.dtype.kind == "b" else m != 0
            if kind == "query":
                m = m[:, None, :, None]
            elif kind in ("value", "key"):
                m = m[:, None, None, :]
            elif m.ndim < 4:
                m = m.reshape((1,) * (3 - m.ndim) + m.shape)[:, None]
            out = m if out is None else out & m
        return out

    def backward(self, g):
        return (None,) * self.n


def combine_attention_masks(query_mask=None, value_mask=None, key_mask=None, attention_mask=None):
    """The logical AND of the masks given, shaped (batch, 1, target, source) to broadcast over heads; None if none.

    Example:
        >>> import numpy as np
        >>> m = combine_attention_masks(query_mask=np.array([[True, False]]), value_mask=np.array([[True, True, False]]))
        >>> m.shape, m.data[0, 0].tolist()
        ((1, 1, 2, 3), [[True, True, False], [False, False, False]])
    """
    named = ((query_mask, "query"), (value_mask, "value"), (key_mask, "key"), (attention_mask, "attention"))
    given = [(m, k) for m, k in named if m is not None]
    if not given:
        return None
    tensors = [m if isinstance(m, Tensor) else Tensor(array_module(m).asarray(m)) for m, _ in given]
    return CombineMasks.apply(*tensors, kinds=tuple(k for _, k in given))


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal: bool = False,
    flash_attention=None,
    attn_logits_soft_cap=None,
) -> Tensor:
    """Keras's ``ops.dot_product_attention``: softmax(q k^T * scale + bias) v over (batch, steps, heads, head_dim) inputs.

    ``query`` (B, T, N, H), ``key`` and ``value`` (B, S, N, H); ``scale`` defaults to
    1 / sqrt(H); ``mask`` is boolean, broadcastable to (B, N, T, S), True where attention is
    allowed; ``is_causal`` adds the lower-triangular mask; ``attn_logits_soft_cap`` caps the
    logits as ``cap * tanh(logits / cap)``. A row with nothing allowed is uniform (Keras's
    NumPy backend). Returns (B, T, N, H). ``flash_attention=True`` is refused (no flash
    kernel); key/value with fewer heads than the query are refused (use
    ``layers.GroupedQueryAttention``).

    Example:
        >>> import numpy as np
        >>> q = np.ones((1, 2, 1, 4), np.float32)
        >>> dot_product_attention(q, q, np.arange(8.0, dtype=np.float32).reshape(1, 2, 1, 4), is_causal=True).data[0, :, 0, 0]
        array([0., 2.], dtype=float32)
    """
    from . import primitives as prim  # noqa: PLC0415

    if flash_attention:
        raise ValueError("dot_product_attention: flash_attention=True is not available in myelin (no flash kernel)")
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    for what, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim != 4:
            raise ValueError(
                f"dot_product_attention: {what} must have rank 4 (batch, steps, heads, head_dim), got shape {t.shape}"
            )
    if k.shape[2] != q.shape[2] or v.shape[2] != q.shape[2]:
        raise ValueError(
            f"dot_product_attention: query, key and value must have the same number of heads, got {q.shape[2]}, "
            f"{k.shape[2]} and {v.shape[2]} (layers.GroupedQueryAttention shares key/value heads)"
        )
    scale = 1.0 / math.sqrt(k.shape[-1]) if scale is None else float(scale)
    logits = prim.matmul(prim.transpose(q, (0, 2, 1, 3)), prim.transpose(k, (0, 2, 3, 1)))
    logits = prim.mul(logits, scale)
    if bias is not None:
        logits = prim.add(logits, as_tensor(bias, logits))
    if attn_logits_soft_cap is not None:
        cap = float(attn_logits_soft_cap)
        logits = prim.mul(prim.tanh(prim.mul(logits, 1.0 / cap)), cap)
    probs = masked_softmax(logits, mask, causal=bool(is_causal), empty="uniform")
    return prim.transpose(prim.matmul(probs, prim.transpose(v, (0, 2, 1, 3))), (0, 2, 1, 3))


__all__ = [
    "AttentionCore",
    "CombineMasks",
    "LayerNorm",
    "MaskedSoftmax",
    "RMSNorm",
    "attention_core",
    "combine_attention_masks",
    "dot_product_attention",
    "layer_normalization",
    "masked_softmax",
    "rms_normalization",
]
