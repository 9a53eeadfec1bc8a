"""Level 2: the differentiable primitives, each forward beside its backward.

Every op is a ``Function`` subclass working on raw arrays through ``xp`` (NumPy or CuPy),
plus a lowercase function that accepts tensors or numbers. A backward returns one gradient
per input (``None`` where the input needs none) and undoes broadcasting with
:func:`unbroadcast`. A backward never writes into the gradient it receives: that array may
be shared with other consumers.

Example:
    >>> from myelin import Tensor, ops
    >>> x = Tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    >>> ops.sum(ops.relu(x) * 2.0).backward()
    >>> x.grad
    array([[2., 0., 2.]], dtype=float32)
"""

# Over 800 lines because each primitive's forward sits beside its backward; new op families get their own files.
from __future__ import annotations

import math
import numbers

from .. import backend, native
from ..backend import array_module
from ..backend import is_float_dtype as _is_float
from ..tensor import Function, Tensor

_SMALL = 4096  # gradients up to this many elements are materialised rather than broadcast


# ---------------------------------------------------------------------------- helpers


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``.

    Example:
        >>> import numpy as np
        >>> unbroadcast(np.ones((4, 3)), (1, 3))
        array([[4., 4., 4.]])
    """
    if grad.shape == shape:
        return grad
    if grad.ndim == 2 and shape == grad.shape[1:]:
        return _col_sum(grad)  # a bias's gradient: the same sum the fused Dense takes
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; numbers and arrays take ``like``'s floating dtype (no float64 creep).

    Example:
        >>> import numpy as np
        >>> as_tensor(2.0, Tensor(np.zeros(1, np.float64))).dtype
        dtype('float64')
    """
    if isinstance(value, Tensor):
        return value
    if like is not None and _is_float(like.data.dtype):
        xp = array_module(like.data)
        return Tensor._wrap(xp.asarray(value, dtype=like.data.dtype), False)
    return Tensor(value)


def _pair(a, b) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


def _axes(axis, ndim: int):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    return tuple(a % ndim for a in axes) if ndim else axes


def _rows_last(x, axis) -> bool:
    """True when a reduction along ``axis`` is along the rows of a 2-D array (the fast path)."""
    return x.ndim == 2 and axis in (-1, 1) and x.shape[1] > 0


def _row_max(x):
    """max along the last axis of a 2-D array, shape (n, 1).

    Read off ``argmax`` (a vectorised scan) instead of a ``max`` reduction, which is several
    times slower along a short last axis; the value is the same, NaN included.
    """
    xp = array_module(x)
    return x[xp.arange(x.shape[0]), x.argmax(axis=1)][:, None]


def _row_sum(x):
    """sum along the last axis of a 2-D array, shape (n,).

    ``einsum`` sums each row on its own, in the same order whatever the other rows are (a
    matrix-vector product does not: its kernel blocks rows), so a sample's result never
    depends on the batch it came in, and it is faster than ``sum(axis=1)`` on short rows.
    """
    return array_module(x).einsum("ij->i", x)


def _col_sum(x):
    """sum along the first axis of a 2-D array, shape (m,): one vector-matrix product."""
    return _ones(x, x.shape[0]) @ x


_ONES: dict = {}


def _ones(like, n: int):
    """A read-only vector of ``n`` ones in ``like``'s array module, device and dtype, kept for reuse."""
    key = (type(like), getattr(like, "device", None), like.dtype, n)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = array_module(like).ones(n, dtype=like.dtype)
    return ones


def _expand_reduced(grad, in_shape: tuple, axis, keepdims: bool):
    """Give a reduction's output gradient back the reduced axes, ready to broadcast."""
    if keepdims or axis is None:
        return grad.reshape((1,) * len(in_shape)) if axis is None else grad
    shape = list(in_shape)
    for a in axis:
        shape[a] = 1
    return grad.reshape(shape)


# ---------------------------------------------------------------------------- arithmetic
class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(g, sb) if nb else None)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (unbroadcast(g, sa) if na else None, unbroadcast(-g, sb) if nb else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (
            unbroadcast(g * self.b, self.a.shape) if na else None,
            unbroadcast(g * self.a, self.b.shape) if nb else None,
        )


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = g / self.b
        return (
            unbroadcast(ga, self.a.shape) if na else None,
            unbroadcast(-ga * self.a / self.b, self.b.shape) if nb else None,
        )


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class PowScalar(Function):
    """x ** p for a constant exponent p."""

    def forward(self, x, exponent):
        self.x, self.p = x, exponent
        return x**exponent

    def backward(self, g):
        return (g * self.p * self.x ** (self.p - 1),)


class Pow(Function):
    """a ** b where the exponent is itself a tensor: d/db = a**b * log(a)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, g):
        xp = array_module(g)
        na, nb = self.needs_input_grad
        ga = unbroadcast(g * self.b * self.a ** (self.b - 1), self.a.shape) if na else None
        gb = unbroadcast(g * self.out * xp.log(self.a), self.b.shape) if nb else None
        return ga, gb


class Exp(Function):
    def forward(self, x):
        self.out = array_module(x).exp(x)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).log(x)

    def backward(self, g):
        return (g / self.x,)


class Sqrt(Function):
    def forward(self, x):
        self.out = array_module(x).sqrt(x)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)


class Abs(Function):
    def forward(self, x):
        self.x = x
        return array_module(x).abs(x)

    def backward(self, g):
        return (g * array_module(g).sign(self.x),)


class Maximum(Function):
    """Elementwise max; at ties the gradient is split in half between the inputs (as PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return array_module(a).maximum(a, b)

    def backward(self, g):
        return _split_extremum(self, g, self.a > self.b)


class Minimum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return array_module(a).minimum(a, b)

    def backward(self, g):
        return _split_extremum(self, g, self.a < self.b)


def _split_extremum(fn, g, a_wins):
    xp = array_module(g)
    share_a = xp.where(a_wins, 1.0, xp.where(fn.a == fn.b, 0.5, 0.0)).astype(g.dtype, copy=False)
    na, nb = fn.needs_input_grad
    return (
        unbroadcast(g * share_a, fn.a.shape) if na else None,
        unbroadcast(g * (1 - share_a), fn.b.shape) if nb else None,
    )


def _product(a, b):
    """``a @ b``; a stack of small products (same leading shape) split over the native threads by its first axis.

    Each matrix of a stack is its own BLAS call either way, so the split changes no number;
    with two threads free, two halves of a stack of small products (attention's scores)
    run at once where one BLAS call at a time on two threads would wait on each other.
    """
    xp = array_module(a)
    if a.ndim == 2 and b.ndim == 2:
        return native.matmul(a, b)
    if xp.__name__ != "numpy" or a.ndim < 3 or a.shape[:-2] != b.shape[:-2] or array_module(b) is not xp:
        backend.blas_threads_for(2.0 * a.size * (b.shape[-1] if b.ndim > 1 else 1))
        return a @ b
    each = 2.0 * a.shape[-2] * a.shape[-1] * b.shape[-1]
    backend.blas_threads_for(each)  # small matrices: one BLAS thread per call
    large = each >= backend.THREAD_CROSSOVER_FLOPS and not backend.pool_products()  # (pooled: OpenBLAS has one thread)
    if large or backend.native_threads() < 2 or a.shape[0] < 2:
        return a @ b
    out = xp.empty((*a.shape[:-1], b.shape[-1]), dtype=xp.result_type(a, b))
    native.parallel(lambda lo, hi: xp.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi]), a.shape[0], a.size + b.size + out.size)
    return out


class MatMul(Function):
    """Matrix product with NumPy's rules for 1-D and batched operands."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return _product(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the hot path of every dense layer
            return (native.matmul(g, b.T) if na else None, native.matmul(a.T, g) if nb else None)
        xp = array_module(g)
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if na else None, g * a if nb else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = xp.expand_dims(g, -2) if a.ndim == 1 else g
        g2 = xp.expand_dims(g2, -1) if b.ndim == 1 else g2
        ga = unbroadcast(_product(g2, xp.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape) if na else None
        gb = unbroadcast(_product(xp.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape) if nb else None
        return ga, gb


# ---------------------------------------------------------------------------- reductions
class Sum(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, _axes(axis, x.ndim), keepdims
        return x.sum(axis=self.axis, keepdims=keepdims)

    def backward(self, g):
        xp = array_module(g)
        if self.axis is None and math.prod(self.shape) <= _SMALL:
            return (xp.full(self.shape, g, dtype=g.dtype),)  # cheaper than setting up a broadcast view
        g = _expand_reduced(g, self.shape, self.axis, self.keepdims)
        return (xp.broadcast_to(g, self.shape),)


class Max(Function):
    """max (or min, with ``smallest=True``) over axes; ties share the gradient equally."""

    def forward(self, x, axis=None, keepdims=False, smallest=False):
        self.x, self.axis, self.keepdims = x, _axes(axis, x.ndim), keepdims
        reduce = x.min if smallest else x.max
        self.out = reduce(axis=self.axis, keepdims=keepdims)
        return self.out

    def backward(self, g):
        out = _expand_reduced(self.out, self.x.shape, self.axis, self.keepdims)
        g = _expand_reduced(g, self.x.shape, self.axis, self.keepdims)
        mask = (self.x == out).astype(g.dtype)
        return (mask * (g / mask.sum(axis=self.axis, keepdims=True)),)


# ---------------------------------------------------------------------------- shape
class Reshape(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.in_shape),)


class Transpose(Function):
    def forward(self, x, axes=None):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g):
        if self.axes is None:
            return (g.transpose(),)
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return (g.transpose(inverse),)


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (numbers.Integral, slice)) or p is None or p is Ellipsis for p in parts)


class GetItem(Function):
    """``x[index]``; the backward scatters (adds) the gradient back, so repeated indices sum."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, g):
        xp = array_module(g)
        grad = xp.zeros(self.shape, dtype=g.dtype)
        if _is_basic_index(self.index):
            grad[self.index] = g  # a basic index names each element at most once
        elif hasattr(xp, "add") and hasattr(xp.add, "at"):
            xp.add.at(grad, self.index, g)
        else:  # older CuPy
            import cupyx  # noqa: PLC0415

            cupyx.scatter_add(grad, self.index, g)
        return (grad,)


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return array_module(*arrays).concatenate(arrays, axis=axis)

    def backward(self, g):
        xp = array_module(g)
        splits = list(_cumulative(self.sizes))[:-1]
        return tuple(xp.split(g, splits, axis=self.axis))


def _cumulative(sizes):
    total = 0
    for s in sizes:
        total += s
        yield total


class Stack(Function):
    def forward(self, *arrays, axis=0):
        self.axis, self.count = axis, len(arrays)
        return array_module(*arrays).stack(arrays, axis=axis)

    def backward(self, g):
        return tuple(g.take(i, axis=self.axis) for i in range(self.count))


class Where(Function):
    def forward(self, a, b, condition):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return array_module(a).where(condition, a, b)

    def backward(self, g):
        xp = array_module(g)
        na, nb = self.needs_input_grad
        zero = g.dtype.type(0)
        return (
            unbroadcast(xp.where(self.condition, g, zero), self.shapes[0]) if na else None,
            unbroadcast(xp.where(self.condition, zero, g), self.shapes[1]) if nb else None,
        )


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes where lo <= x <= hi (bounds included)."""

    def forward(self, x, lo=None, hi=None):
        self.x, self.lo, self.hi = x, lo, hi
        return array_module(x).clip(x, lo, hi)

    def backward(self, g):
        inside = True
        if self.lo is not None:
            inside = self.x >= self.lo
        if self.hi is not None:
            inside = inside & (self.x <= self.hi)
        return (g * inside,)


# ---------------------------------------------------------------------------- activations
class ReLU(Function):
    def forward(self, x):
        self.out = array_module(x).maximum(x, 0)
        return self.out

    def backward(self, g):
        return (g * (self.out > 0),)


class LeakyReLU(Function):
    def forward(self, x, slope=0.2):
        self.x, self.slope = x, slope
        return array_module(x).where(x > 0, x, x * slope)

    def backward(self, g):
        return (array_module(g).where(self.x > 0, g, g * self.slope),)


class ELU(Function):
    """scale * (x if x > 0 else alpha * (exp(x) - 1)); SELU is ELU with Keras's constants."""

    def forward(self, x, alpha=1.0, scale=1.0):
        xp = array_module(x)
        self.positive, self.alpha, self.scale = x > 0, alpha, scale
        self.neg_part = alpha * xp.expm1(xp.minimum(x, 0))  # alpha*(e^x - 1) for x <= 0
        out = xp.where(self.positive, x, self.neg_part)
        return out * scale if scale != 1.0 else out

    def backward(self, g):
        # d/dx: 1 where x > 0, alpha * e^x = neg_part + alpha elsewhere
        slope = array_module(g).where(self.positive, 1.0, self.neg_part + self.alpha).astype(g.dtype, copy=False)
        return (g * (slope * self.scale if self.scale != 1.0 else slope),)


def _stable_sigmoid(x):
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    d = 1 + e
    return xp.where(x >= 0, 1 / d, e / d)


class Sigmoid(Function):
    def forward(self, x):
        self.out = _stable_sigmoid(x)
        return self.out

    def backward(self, g):
        return (g * self.out * (1 - self.out),)


class Tanh(Function):
    def forward(self, x):
        self.out = array_module(x).tanh(x)
        return self.out

    def backward(self, g):
        return (g * (1 - self.out * self.out),)


class Softplus(Function):
    """log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so that it never overflows."""

    def forward(self, x):
        xp = array_module(x)
        self.x = x
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        return (g * _stable_sigmoid(self.x),)


class SiLU(Function):
    """swish / silu: x * sigmoid(x)."""

    def forward(self, x):
        self.x, self.s = x, _stable_sigmoid(x)
        return x * self.s

    def backward(self, g):
        s = self.s
        return (g * (s + self.x * s * (1 - s)),)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def erf(x):
    """The error function, elementwise (NumPy has none and SciPy is not a dependency).

    float64 arrays on the CPU: ``math.erf`` on each element (correct to the last bit, so
    float64 GELU agrees with PyTorch to 1e-15). Otherwise Numerical Recipes' Chebyshev fit
    of erfc: fractional error below 1.2e-7 everywhere, below float32's resolution.

    Example:
        >>> import numpy as np
        >>> float(erf(np.array(0.5)))
        0.5204998778130465
    """
    xp = array_module(x)
    if xp.__name__ == "numpy" and getattr(x, "dtype", None) == xp.float64:
        return xp.asarray(xp.frompyfunc(math.erf, 1, 1)(x), dtype=xp.float64)
    z = xp.abs(x)
    t = 1 / (1 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                    )
                )
            )
        )
    )
    erfc = t * xp.exp(poly)
    return xp.where(x >= 0, 1 - erfc, erfc - 1)


class GELU(Function):
    """x * Phi(x), exactly (``approximate=False``, Keras's default) or with the tanh formula."""

    def forward(self, x, approximate=False):
        xp = array_module(x)
        self.x, self.approximate = x, approximate
        if approximate:
            self.t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2.0))))
        return x * self.cdf

    def backward(self, g):
        x = self.x
        if self.approximate:
            t = self.t
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner),)
        pdf = _INV_SQRT_2PI * array_module(x).exp(-0.5 * x * x)
        return (g * (self.cdf + x * pdf),)


class Softmax(Function):
    def forward(self, x, axis=-1):
        xp = array_module(x)
        self.axis, self.rows, self.x = axis, _rows_last(x, axis), x
        if self.rows:
            # shifted and sums stay for a cross-entropy on the same logits (SoftmaxCrossEntropy's softmax=)
            self.shifted = x - _row_max(x)
            e = xp.exp(self.shifted)
            self.sums = _row_sum(e)
            e /= self.sums[:, None]
        else:
            e = xp.exp(x - x.max(axis=axis, keepdims=True))
            e /= e.sum(axis=axis, keepdims=True)
        self.out = e
        return e

    def backward(self, g):
        out = self.out
        gout = g * out
        total = _row_sum(gout)[:, None] if self.rows else gout.sum(axis=self.axis, keepdims=True)
        return (out * (g - total),)


class LogSoftmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        self.out = _log_softmax(x, axis)
        return self.out

    def backward(self, g):
        xp = array_module(g)
        total = _row_sum(g)[:, None] if _rows_last(g, self.axis) else g.sum(axis=self.axis, keepdims=True)
        return (g - xp.exp(self.out) * total,)


def _log_softmax(x, axis):
    xp = array_module(x)
    if _rows_last(x, axis):
        shifted = x - _row_max(x)
        shifted -= xp.log(_row_sum(xp.exp(shifted)))[:, None]
        return shifted
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


class Dropout(Function):
    """Inverted dropout: x * keep / (1 - rate), the keep-mask drawn in ``forward``.

    The mask comes from ``generator`` or, when None, the library generator at call time, so
    that a replayed step draws exactly what the ordinary step would have drawn.
    ``noise_shape`` (None entries follow x) shares one mask value along axes of size 1.
    """

    def forward(self, x, rate=0.5, noise_shape=None, generator=None):
        shape = x.shape if noise_shape is None else tuple(s if n is None else n for s, n in zip(x.shape, noise_shape))
        keep = (generator or backend.rng()).random(shape, dtype="float32") >= rate
        mask = keep.astype(x.dtype)
        mask *= 1.0 / (1.0 - rate)
        self.mask = array_module(x).asarray(mask)
        return x * self.mask

    def backward(self, g):
        return (g * self.mask,)


# ---------------------------------------------------------------------------- fused ops
_FUSED_ACTIVATIONS = ("linear", "relu", "tanh")
_NATIVE_PASS = 4096  # from this many elements a native bias/ReLU pass beats NumPy's (below, its call costs more)


def _bias_activation(out, bias, activation: str, native_from: int = 0) -> None:
    """``out += bias`` then the activation, in place: one native pass (split over the threads when large) from
    ``native_from`` elements on for linear and ReLU, else NumPy's operations, the same numbers either way."""
    if (
        bias is not None
        and activation != "tanh"
        and out.size >= native_from
        and native.bias_relu(out, bias, activation == "relu")
    ):
        return
    xp = array_module(out)
    if bias is not None:
        out += bias
    if activation == "relu":
        xp.maximum(out, 0, out=out)
    elif activation == "tanh":
        xp.tanh(out, out=out)


def _scratch(buffers: dict, key: str, shape, dtype, xp):
    """An uninitialised array kept in ``buffers`` under ``key``: the last call's when it has this shape and dtype.

    Only for arrays a Function uses inside one call: one a later call overwrites must never be returned.
    """
    out = buffers.get(key)
    if out is None or out.shape != tuple(shape) or out.dtype != dtype:
        out = xp.empty(shape, dtype=dtype)
        buffers[key] = out
    return out


def _activation_grad(g, out, activation: str, buffers: dict, native_from: int = 0):
    """``g`` times the derivative of the fused activation, read off its output, into a kept buffer.

    The ReLU's from ``native_from`` elements on in one native pass (split over the threads when
    large), else NumPy's operations: the same numbers either way.
    """
    xp = array_module(g)
    res = _scratch(buffers, "g_act", g.shape, g.dtype, xp)
    if activation == "relu" and g.size >= native_from and native.relu_grad(g, out, res):
        return res
    if activation == "relu":
        xp.multiply(g, xp.greater(out, 0, out=_scratch(buffers, "mask", out.shape, bool, xp)), out=res)
    else:  # tanh: g * (1 - out^2)
        xp.multiply(out, out, out=res)
        xp.subtract(1, res, out=res)
        xp.multiply(g, res, out=res)
    return res


class Dense(Function):
    """activation(x @ kernel + bias) in one node: one output buffer, bias and activation in place.

    Inputs may have leading batch axes (..., in); the activation is one of
    ``_FUSED_ACTIVATIONS``, whose derivative is read off the output. The data batch usually
    needs no gradient, and then ``x @ kernel.T`` is never computed.
    """

    def forward(self, x, kernel, bias=None, activation="linear"):
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        out = native.matmul(x2, kernel)
        _bias_activation(out, bias, activation, _NATIVE_PASS)
        self.x2, self.kernel, self.activation, self.out = x2, kernel, activation, out
        self.in_shape, self.has_bias = x.shape, bias is not None
        return out.reshape(*x.shape[:-1], kernel.shape[1]) if x.ndim != 2 else out

    def backward(self, g):
        g = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        if self.activation != "linear":
            g = _activation_grad(g, self.out, self.activation, self.__dict__.setdefault("buffers", {}), _NATIVE_PASS)
        need_x, need_k = self.needs_input_grad[:2]
        gx = native.matmul(g, self.kernel.T).reshape(self.in_shape) if need_x else None
        gk = native.matmul(self.x2.T, g) if need_k else None
        if not self.has_bias:
            return gx, gk
        return gx, gk, (_col_sum(g) if self.needs_input_grad[2] else None)


def _log_softmax_of(logits, axis, softmax):
    """log_softmax(logits), reusing a Softmax node's work when it can.

    ``softmax`` is the ``Softmax`` function that made the model's probabilities this step;
    when it ran over these very logits (the same array) along the last axis, its shifted
    logits and row sums give the log-probabilities in two passes, bit for bit the values
    ``_log_softmax`` computes.
    """
    if softmax is not None and softmax.x is logits and softmax.rows and _rows_last(logits, axis):
        return softmax.shifted - array_module(logits).log(softmax.sums)[:, None]
    return _log_softmax(logits, axis)


class SoftmaxCrossEntropy(Function):
    """Per-sample -sum(target * log_softmax(logits)) along ``axis``, in one stable pass.

    ``label_smoothing`` mixes the target with the uniform distribution. The backward is
    ``softmax(logits) - target``, scaled by the incoming gradient. ``mean=True`` returns the
    mean over samples instead (the usual loss, without separate sum and scale nodes);
    ``softmax`` is the ``Softmax`` function that computed the probabilities of these logits,
    whose intermediate results are then reused.
    """

    def forward(self, logits, target, axis=-1, label_smoothing=0.0, mean=False, softmax=None):
        xp = array_module(logits)
        if label_smoothing:
            k = logits.shape[axis]
            target = target * (1 - label_smoothing) + label_smoothing / k
        self.log_p = _log_softmax_of(logits, axis, softmax)
        self.target, self.axis, self.smoothing, self.mean = target, axis, label_smoothing, mean
        picked = target * self.log_p
        if mean:
            count = picked.size // picked.shape[axis] if picked.shape[axis] else 0
            self.scale = 1.0 / count if count else 1.0
            return xp.asarray(-float(picked.sum()) * self.scale, dtype=self.log_p.dtype)
        if _rows_last(picked, axis):
            total = _row_sum(picked)
            return xp.negative(total, out=total)
        return -picked.sum(axis=axis)

    def backward(self, g):
        xp = array_module(g)
        g = g * self.scale if self.mean else xp.expand_dims(g, self.axis)
        need_logits, need_target = self.needs_input_grad
        g_logits = g * (xp.exp(self.log_p) - self.target) if need_logits else None
        g_target = -g * self.log_p * (1 - self.smoothing) if need_target else None
        return g_logits, g_target


class SparseSoftmaxCrossEntropy(Function):
    """Per-sample -log_softmax(logits)[label] over the last axis; labels are integers.

    ``mean`` and ``softmax`` as for ``SoftmaxCrossEntropy``.
    """

    def forward(self, logits, labels=None, mean=False, softmax=None):
        xp = array_module(logits)
        self.log_p = _log_softmax_of(logits, -1, softmax)
        flat = self.log_p.reshape(-1, logits.shape[-1])
        self.rows = xp.arange(flat.shape[0])
        self.labels, self.mean = labels.reshape(-1), mean
        picked = flat[self.rows, self.labels]
        if mean:
            self.scale = 1.0 / picked.size if picked.size else 1.0
            return xp.asarray(-float(picked.sum()) * self.scale, dtype=self.log_p.dtype)
        return xp.negative(picked, out=picked).reshape(labels.shape)

    def backward(self, g):
        xp = array_module(g)
        grad = xp.exp(self.log_p).reshape(-1, self.log_p.shape[-1])
        grad[self.rows, self.labels] -= 1
        if self.mean:
            grad *= g * self.scale
            return (grad.reshape(self.log_p.shape),)
        return (grad.reshape(self.log_p.shape) * xp.expand_dims(g, -1),)


class SigmoidBinaryCrossEntropy(Function):
    """Elementwise -(y log sigmoid(x) + (1-y) log(1 - sigmoid(x))) from logits, stably:
    max(x, 0) - x*y + log1p(e^-|x|)."""

    def forward(self, logits, target):
        xp = array_module(logits)
        self.x, self.y = logits, target
        return xp.maximum(logits, 0) - logits * target + xp.log1p(xp.exp(-xp.abs(logits)))

    def backward(self, g):
        need_x, need_y = self.needs_input_grad
        return (
            g * (_stable_sigmoid(self.x) - self.y) if need_x else None,
            -g * self.x if need_y else None,
        )


# ---------------------------------------------------------------------------- functions
def add(a, b) -> Tensor:
    """a + b with broadcasting."""
    return Add.apply(*_pair(a, b))


def sub(a, b) -> Tensor:
    """a - b with broadcasting."""
    return Sub.apply(*_pair(a, b))


def mul(a, b) -> Tensor:
    """a * b with broadcasting."""
    return Mul.apply(*_pair(a, b))


def div(a, b) -> Tensor:
    """a / b with broadcasting."""
    return Div.apply(*_pair(a, b))


def neg(x) -> Tensor:
    """-x."""
    return Neg.apply(as_tensor(x))


def pow(base, exponent) -> Tensor:  # noqa: A001  (Tensor.__pow__'s op, as torch.pow)
    """base ** exponent; a constant exponent takes the cheaper path."""
    if isinstance(exponent, numbers.Real) and not isinstance(exponent, bool):
        return PowScalar.apply(as_tensor(base), exponent=exponent)
    return Pow.apply(*_pair(base, exponent))


def square(x) -> Tensor:
    """x * x."""
    x = as_tensor(x)
    return Mul.apply(x, x)


def exp(x) -> Tensor:
    """e ** x."""
    return Exp.apply(as_tensor(x))


def log(x) -> Tensor:
    """Natural logarithm."""
    return Log.apply(as_tensor(x))


def sqrt(x) -> Tensor:
    """Square root."""
    return Sqrt.apply(as_tensor(x))


def abs(x) -> Tensor:  # noqa: A001
    """|x| (gradient sign(x), 0 at 0)."""
    return Abs.apply(as_tensor(x))


def maximum(a, b) -> Tensor:
    """Elementwise maximum."""
    return Maximum.apply(*_pair(a, b))


def minimum(a, b) -> Tensor:
    """Elementwise minimum."""
    return Minimum.apply(*_pair(a, b))


def matmul(a, b) -> Tensor:
    """Matrix product (``a @ b``) with NumPy's broadcasting rules."""
    return MatMul.apply(*_pair(a, b))


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes when None)."""
    return Sum.apply(as_tensor(x), axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: the sum times 1/count."""
    x = as_tensor(x)
    axes = _axes(axis, x.ndim)
    count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    return mul(sum(x, axis=axis, keepdims=keepdims), 1.0 / count)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``."""
    return Max.apply(as_tensor(x), axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``."""
    return Max.apply(as_tensor(x), axis=axis, keepdims=keepdims, smallest=True)


def reshape(x, shape) -> Tensor:
    """The same values in a new shape (one axis may be -1)."""
    return Reshape.apply(as_tensor(x), shape=tuple(shape))


def transpose(x, axes=None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None)."""
    return Transpose.apply(as_tensor(x), axes=None if axes is None else tuple(axes))


def getitem(x, index) -> Tensor:
    """``x[index]``: ints, slices, None, Ellipsis, integer or boolean arrays, or Tensors of them."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    xp = array_module(x.data)
    if hasattr(index, "dtype") and index.dtype == bool:
        index = xp.nonzero(index)
    elif isinstance(index, list):
        index = xp.asarray(index)
    return GetItem.apply(x, index=index)


def dropout(x, rate: float, noise_shape=None, generator=None) -> Tensor:
    """Zero a fraction ``rate`` of ``x`` at random and scale the rest by 1 / (1 - rate).

    Example:
        >>> import numpy as np
        >>> out = dropout(Tensor(np.ones((1000,))), 0.5, generator=np.random.default_rng(0)).data
        >>> sorted(set(out.tolist()))
        [0.0, 2.0]
    """
    return Dropout.apply(as_tensor(x), rate=rate, noise_shape=noise_shape, generator=generator)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = [as_tensor(t) for t in tensors]
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    return Stack.apply(*tensors, axis=axis)


def where(condition, a, b) -> Tensor:
    """Elementwise ``a`` where ``condition`` holds, else ``b``; the condition is not differentiated."""
    if isinstance(condition, Tensor):
        condition = condition.data
    a, b = _pair(a, b)
    return Where.apply(a, b, condition=condition)


def clip(x, min_value=None, max_value=None) -> Tensor:
    """Clamp to [min_value, max_value]."""
    return Clip.apply(as_tensor(x), lo=min_value, hi=max_value)


def relu(x) -> Tensor:
    """max(x, 0)."""
    return ReLU.apply(as_tensor(x))


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyReLU.apply(as_tensor(x), slope=negative_slope)


def elu(x, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (e^x - 1) otherwise."""
    return ELU.apply(as_tensor(x), alpha=alpha)


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalising constants (Klambauer et al., 2017)."""
    return ELU.apply(as_tensor(x), alpha=1.6732632423543772, scale=1.0507009873554805)


def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x); the result remembers its logits for a stable binary cross-entropy."""
    x = as_tensor(x)
    out = Sigmoid.apply(x)
    out._logits = ("sigmoid", x)
    return out


def hard_sigmoid(x) -> Tensor:
    """relu6(x + 3) / 6, Keras 3's definition: clip(x / 6 + 0.5, 0, 1)."""
    return clip(add(mul(x, 1.0 / 6.0), 0.5), 0.0, 1.0)


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(as_tensor(x))


def softplus(x) -> Tensor:
    """log(1 + e^x), stable for large |x|."""
    return Softplus.apply(as_tensor(x))


def silu(x) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return SiLU.apply(as_tensor(x))


def gelu(x, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit, x * Phi(x)."""
    return GELU.apply(as_tensor(x), approximate=approximate)


def softmax(x, axis: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``axis``; over the last axis the result remembers its logits."""
    x = as_tensor(x)
    out = Softmax.apply(x, axis=axis)
    if axis in (-1, x.ndim - 1):
        out._logits = ("softmax", x)
    return out


def log_softmax(x, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``."""
    return LogSoftmax.apply(as_tensor(x), axis=axis)


def dense(x, kernel, bias=None, activation: str = "linear") -> Tensor:
    """Fused ``activation(x @ kernel + bias)`` for activation in linear, relu, tanh.

    Example:
        >>> import numpy as np
        >>> dense(Tensor(np.ones((2, 3))), Tensor(np.ones((3, 1))), activation="relu").data.ravel()
        array([3., 3.])
    """
    if activation not in _FUSED_ACTIVATIONS:
        raise ValueError(f"dense: activation must be one of {_FUSED_ACTIVATIONS}, got {activation!r}")
    x = as_tensor(x)
    if bias is None:
        return Dense.apply(x, as_tensor(kernel, x), activation=activation)
    return Dense.apply(x, as_tensor(kernel, x), as_tensor(bias, x), activation=activation)


def softmax_cross_entropy(
    logits, target, axis: int = -1, label_smoothing: float = 0.0, mean: bool = False, probabilities=None
) -> Tensor:
    """Per-sample cross-entropy of ``softmax(logits)`` against probability targets.

    ``mean=True`` gives the mean over samples. ``probabilities`` may be the tensor that
    ``softmax(logits)`` returned: its work is then reused (the result is the same).
    """
    logits = as_tensor(logits)
    options = {"axis": axis, "label_smoothing": label_smoothing}
    if mean:
        options.update(mean=True, softmax=_softmax_fn(probabilities, logits))
    return SoftmaxCrossEntropy.apply(logits, as_tensor(target, logits), **options)


def sparse_softmax_cross_entropy(logits, labels, mean: bool = False, probabilities=None) -> Tensor:
    """Per-sample cross-entropy of ``softmax(logits)`` against integer class labels (``mean`` as above)."""
    labels = labels.data if isinstance(labels, Tensor) else labels
    xp = array_module(labels)
    logits = as_tensor(logits)
    labels = xp.asarray(labels).astype("int64", copy=False)
    if mean:
        return SparseSoftmaxCrossEntropy.apply(logits, labels=labels, mean=True, softmax=_softmax_fn(probabilities, logits))
    return SparseSoftmaxCrossEntropy.apply(logits, labels=labels)


def _softmax_fn(probabilities, logits: Tensor):
    """The Softmax function that made ``probabilities`` from ``logits``, if that is what happened."""
    fn = getattr(probabilities, "_ctx", None)
    if isinstance(fn, Softmax) and getattr(fn, "x", None) is logits.data:
        return fn
    return None


def sigmoid_binary_cross_entropy(logits, target) -> Tensor:
    """Elementwise binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1]."""
    logits = as_tensor(logits)
    return SigmoidBinaryCrossEntropy.apply(logits, as_tensor(target, logits))


# What ``myelin.ops`` re-exports: every public class and function defined in this module.
__all__ = [
    name
    for name, value in list(globals().items())
    if not name.startswith("_") and getattr(value, "__module__", None) == __name__
]
