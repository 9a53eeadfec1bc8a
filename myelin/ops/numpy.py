"""Keras 3's numpy family (``keras.ops.matmul``, ``mean``, ``expand_dims``, ``take``, ...).

Written from the primitives, so every op is differentiable wherever its primitives are.
Dtypes follow Keras: Python numbers take the tensor's dtype (a float32 tensor never becomes
float64 by meeting ``2.0``), int meets float as that float, maths of integers (``sqrt``,
``mean``) gives ``floatx()``, comparisons and logic give bool and indices int32, and those
never require a gradient.

Example:
    >>> from myelin import ops
    >>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ops.mean(x, axis=-1, keepdims=True).data
    array([[1.5],
           [3.5]], dtype=float32)
    >>> ops.argmax(x, axis=0).data
    array([1, 1], dtype=int32)
"""

# Over 800 lines because it is Keras's whole numpy family (about 250 names, most a few lines over the primitives), kept
# in one file as Keras keeps it (keras/src/ops/numpy.py), so that a name is found where a Keras reader looks for it.
from __future__ import annotations

import builtins
import itertools
import math
import numbers

import numpy as np

from .. import backend
from ..backend import array_module
from ..backend import is_float_dtype as _is_float
from ..tensor import Function, Tensor
from . import primitives as prim
from .core import _standard_dtype, cast, convert_to_tensor

_t = convert_to_tensor
_SMALL_INTS = ("bool", "int8", "int16", "uint8", "uint16")


def _const(data) -> Tensor:
    """A result that never requires a gradient (integer, boolean or piecewise-constant values)."""
    return Tensor._wrap(data, False)


def _floatx() -> np.dtype:
    return np.dtype(backend.floatx())


def _result_dtype(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    if a.kind == "b":
        return b
    if b.kind == "b":
        return a
    if _is_float(a) and not _is_float(b):
        return a
    if _is_float(b) and not _is_float(a):
        return b
    return np.promote_types(a, b)


def _is_scalar(x) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, np.generic)


def _scalar_for(value, like: Tensor) -> Tensor:
    kind = like.data.dtype.kind
    xp = array_module(like.data)
    if isinstance(value, bool):
        dtype = like.data.dtype
    elif isinstance(value, numbers.Integral):
        dtype = like.data.dtype if kind != "b" else np.dtype("int32")
    elif isinstance(value, numbers.Real):
        dtype = like.data.dtype if _is_float(like.data.dtype) else _floatx()
    else:
        raise TypeError(f"myelin.ops: complex numbers are not supported, got {value!r}")
    return Tensor._wrap(xp.asarray(value, dtype=dtype), False)


def _pair(a, b) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of one dtype, by Keras's promotion (Python numbers are weak)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype == b.data.dtype:
        return a, b
    if _is_scalar(b) and not _is_scalar(a):
        a = _t(a)
        b = _scalar_for(b, a)
    elif _is_scalar(a) and not _is_scalar(b):
        b = _t(b)
        a = _scalar_for(a, b)
    else:
        a, b = _t(a), _t(b)
    dtype = _result_dtype(a.data.dtype, b.data.dtype)
    return cast(a, dtype), cast(b, dtype)


def _float(x) -> Tensor:
    """``x`` as a floating tensor (integers and bools become floatx, as Keras's float maths)."""
    x = _t(x)
    return x if _is_float(x.data.dtype) else cast(x, _floatx())


def _axis_tuple(axis, ndim: int):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"myelin.ops: axis {a} is out of bounds for a tensor of rank {ndim}")
        out.append(a % ndim if ndim else 0)
    return tuple(out)


def _doc(summary: str, example: str, result: str) -> str:
    """A docstring with one example, for the ops generated from a table."""
    return f"{summary}\n\n    Example:\n        >>> {example}\n        {result}\n    "


# ---------------------------------------------------------------------------- elementwise, two operands
def add(x1, x2) -> Tensor:
    """x1 + x2 with broadcasting.

    Example:
        >>> add([1, 2], 3).data
        array([4, 5], dtype=int32)
    """
    return prim.Add.apply(*_pair(x1, x2))


def subtract(x1, x2) -> Tensor:
    """x1 - x2 with broadcasting.

    Example:
        >>> subtract([1.0], [3.0]).data
        array([-2.], dtype=float32)
    """
    return prim.Sub.apply(*_pair(x1, x2))


def multiply(x1, x2) -> Tensor:
    """x1 * x2 with broadcasting.

    Example:
        >>> multiply([2.0], 3).data
        array([6.], dtype=float32)
    """
    return prim.Mul.apply(*_pair(x1, x2))


def divide(x1, x2) -> Tensor:
    """x1 / x2 (true division: integers give floatx).

    Example:
        >>> divide([1, 2], 2).data
        array([0.5, 1. ], dtype=float32)
    """
    a, b = _pair(x1, x2)
    if not _is_float(a.data.dtype):
        a, b = _float(a), _float(b)
    return prim.Div.apply(a, b)


true_divide = divide


def divide_no_nan(x1, x2) -> Tensor:
    """x1 / x2, with 0 wherever x2 is 0.

    Example:
        >>> divide_no_nan([1.0, 1.0], [2.0, 0.0]).data
        array([0.5, 0. ], dtype=float32)
    """
    a, b = _pair(x1, x2)
    a, b = _float(a), _float(b)
    zero = b.data == 0
    safe = prim.Where.apply(_scalar_for(1.0, b), b, condition=zero) if zero.any() else b
    return where(zero, 0.0, prim.Div.apply(a, safe))


def floor_divide(x1, x2) -> Tensor:
    """floor(x1 / x2); piecewise constant, so it carries no gradient.

    Example:
        >>> floor_divide([7, -7], 2).data
        array([ 3, -4], dtype=int32)
    """
    a, b = _pair(x1, x2)
    return _const(array_module(a.data).floor_divide(a.data, b.data))


def mod(x1, x2) -> Tensor:
    """x1 mod x2 with the sign of x2 (NumPy's ``mod``); gradient 1 for x1, -floor(x1/x2) for x2.

    Example:
        >>> mod([5.0, -5.0], 3.0).data
        array([2., 1.], dtype=float32)
    """
    a, b = _pair(x1, x2)
    if not _is_float(a.data.dtype):
        return _const(array_module(a.data).mod(a.data, b.data))
    q = _const(array_module(a.data).floor(a.data / b.data))
    return subtract(a, multiply(q, b))


def fmod(x1, x2) -> Tensor:
    """x1 - trunc(x1 / x2) * x2 (C's remainder: the sign of x1).

    Example:
        >>> fmod([5.0, -5.0], 3.0).data
        array([ 2., -2.], dtype=float32)
    """
    a, b = _pair(x1, x2)
    if not _is_float(a.data.dtype):
        return _const(array_module(a.data).fmod(a.data, b.data))
    q = _const(array_module(a.data).trunc(a.data / b.data))
    return subtract(a, multiply(q, b))


def power(x1, x2) -> Tensor:
    """x1 ** x2 (a Python-number exponent takes the cheaper path).

    Example:
        >>> power([2.0, 3.0], 2).data
        array([4., 9.], dtype=float32)
    """
    if _is_scalar(x2) and not isinstance(x2, bool):
        x = _t(x1)
        if not _is_float(x.data.dtype):
            if isinstance(x2, numbers.Integral) and x2 >= 0:
                return _const(x.data**x2)
            x = _float(x)
        return prim.PowScalar.apply(x, exponent=x2)
    a, b = _pair(x1, x2)
    if not _is_float(a.data.dtype):
        return _const(a.data**b.data)
    return prim.Pow.apply(a, b)


def maximum(x1, x2) -> Tensor:
    """Elementwise maximum (ties share the gradient).

    Example:
        >>> maximum([1.0, 5.0], 2.0).data
        array([2., 5.], dtype=float32)
    """
    return prim.Maximum.apply(*_pair(x1, x2))


def minimum(x1, x2) -> Tensor:
    """Elementwise minimum (ties share the gradient).

    Example:
        >>> minimum([1.0, 5.0], 2.0).data
        array([1., 2.], dtype=float32)
    """
    return prim.Minimum.apply(*_pair(x1, x2))


fmax = maximum
fmin = minimum


def arctan2(x1, x2) -> Tensor:
    """The angle of the point (x2, x1), in (-pi, pi].

    Example:
        >>> print(f"{float(arctan2(1.0, 1.0).data):.6f}")
        0.785398
    """
    a, b = _pair(x1, x2)
    return _Arctan2.apply(_float(a), _float(b))


class _Arctan2(Function):
    def forward(self, y, x):
        self.y, self.x = y, x
        return array_module(y).arctan2(y, x)

    def backward(self, g):
        r = self.x * self.x + self.y * self.y
        ny, nx = self.needs_input_grad
        return (
            prim.unbroadcast(g * self.x / r, self.y.shape) if ny else None,
            prim.unbroadcast(-g * self.y / r, self.x.shape) if nx else None,
        )


def hypot(x1, x2) -> Tensor:
    """sqrt(x1**2 + x2**2).

    Example:
        >>> float(hypot(3.0, 4.0).data)
        5.0
    """
    a, b = _pair(x1, x2)
    a, b = _float(a), _float(b)
    return sqrt(add(square(a), square(b)))


def logaddexp(x1, x2) -> Tensor:
    """log(exp(x1) + exp(x2)), stably.

    Example:
        >>> print(f"{float(logaddexp(0.0, 0.0).data):.6f}")
        0.693147
    """
    a, b = _pair(x1, x2)
    a, b = _float(a), _float(b)
    m = _const(array_module(a.data).maximum(a.data, b.data))
    m = where(isfinite(m), m, 0.0)
    return add(m, log(add(exp(subtract(a, m)), exp(subtract(b, m)))))


def logaddexp2(x1, x2) -> Tensor:
    """log2(2**x1 + 2**x2).

    Example:
        >>> float(logaddexp2(1.0, 1.0).data)
        2.0
    """
    ln2 = math.log(2.0)
    a, b = _pair(x1, x2)
    return multiply(logaddexp(multiply(_float(a), ln2), multiply(_float(b), ln2)), 1 / ln2)


# ---------------------------------------------------------------------------- elementwise, one operand
class _Unary(Function):
    """One elementwise function from the table below: its forward and its derivative."""

    def forward(self, x, name):
        xp = array_module(x)
        self.x, self.name = x, name
        self.out = _UNARY[name][0](xp, x)
        return self.out

    def backward(self, g):
        return (g * _UNARY[self.name][1](array_module(g), self.x, self.out),)


_UNARY = {
    "sin": (lambda xp, x: xp.sin(x), lambda xp, x, y: xp.cos(x)),
    "cos": (lambda xp, x: xp.cos(x), lambda xp, x, y: -xp.sin(x)),
    "tan": (lambda xp, x: xp.tan(x), lambda xp, x, y: 1 + y * y),
    "arcsin": (lambda xp, x: xp.arcsin(x), lambda xp, x, y: 1 / xp.sqrt(1 - x * x)),
    "arccos": (lambda xp, x: xp.arccos(x), lambda xp, x, y: -1 / xp.sqrt(1 - x * x)),
    "arctan": (lambda xp, x: xp.arctan(x), lambda xp, x, y: 1 / (1 + x * x)),
    "sinh": (lambda xp, x: xp.sinh(x), lambda xp, x, y: xp.cosh(x)),
    "cosh": (lambda xp, x: xp.cosh(x), lambda xp, x, y: xp.sinh(x)),
    "arcsinh": (lambda xp, x: xp.arcsinh(x), lambda xp, x, y: 1 / xp.sqrt(x * x + 1)),
    "arccosh": (lambda xp, x: xp.arccosh(x), lambda xp, x, y: 1 / xp.sqrt(x * x - 1)),
    "arctanh": (lambda xp, x: xp.arctanh(x), lambda xp, x, y: 1 / (1 - x * x)),
    "expm1": (lambda xp, x: xp.expm1(x), lambda xp, x, y: y + 1),
    "log1p": (lambda xp, x: xp.log1p(x), lambda xp, x, y: 1 / (1 + x)),
    "log2": (lambda xp, x: xp.log2(x), lambda xp, x, y: 1 / (x * math.log(2.0))),
    "log10": (lambda xp, x: xp.log10(x), lambda xp, x, y: 1 / (x * math.log(10.0))),
    "exp2": (lambda xp, x: xp.exp2(x), lambda xp, x, y: y * math.log(2.0)),
    "cbrt": (lambda xp, x: xp.cbrt(x), lambda xp, x, y: 1 / (3 * y * y)),
    "erf": (lambda xp, x: prim.erf(x).astype(x.dtype, copy=False), lambda xp, x, y: (2 / math.sqrt(math.pi)) * xp.exp(-x * x)),
    "reciprocal": (lambda xp, x: 1 / x, lambda xp, x, y: -y * y),
    "rsqrt": (lambda xp, x: 1 / xp.sqrt(x), lambda xp, x, y: -0.5 * y * y * y),
}


def _unary_op(name: str, doc: str):
    def op(x) -> Tensor:
        return _Unary.apply(_float(x), name=name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


sin = _unary_op(
    "sin",
    _doc(
        "Sine.",
        "float(sin(0.0).data)",
        "0.0",
    ),
)
cos = _unary_op(
    "cos",
    _doc(
        "Cosine.",
        "float(cos(0.0).data)",
        "1.0",
    ),
)
tan = _unary_op(
    "tan",
    _doc(
        "Tangent.",
        "float(tan(0.0).data)",
        "0.0",
    ),
)
arcsin = _unary_op(
    "arcsin",
    _doc(
        "Inverse sine.",
        "float(arcsin(0.0).data)",
        "0.0",
    ),
)
arccos = _unary_op(
    "arccos",
    _doc(
        "Inverse cosine.",
        "float(arccos(1.0).data)",
        "0.0",
    ),
)
arctan = _unary_op(
    "arctan",
    _doc(
        "Inverse tangent.",
        "float(arctan(0.0).data)",
        "0.0",
    ),
)
sinh = _unary_op(
    "sinh",
    _doc(
        "Hyperbolic sine.",
        "float(sinh(0.0).data)",
        "0.0",
    ),
)
cosh = _unary_op(
    "cosh",
    _doc(
        "Hyperbolic cosine.",
        "float(cosh(0.0).data)",
        "1.0",
    ),
)
arcsinh = _unary_op(
    "arcsinh",
    _doc(
        "Inverse hyperbolic sine.",
        "float(arcsinh(0.0).data)",
        "0.0",
    ),
)
arccosh = _unary_op(
    "arccosh",
    _doc(
        "Inverse hyperbolic cosine.",
        "float(arccosh(1.0).data)",
        "0.0",
    ),
)
arctanh = _unary_op(
    "arctanh",
    _doc(
        "Inverse hyperbolic tangent.",
        "float(arctanh(0.0).data)",
        "0.0",
    ),
)
expm1 = _unary_op(
    "expm1",
    _doc(
        "exp(x) - 1, accurate near 0.",
        "float(expm1(0.0).data)",
        "0.0",
    ),
)
log1p = _unary_op(
    "log1p",
    _doc(
        "log(1 + x), accurate near 0.",
        "float(log1p(0.0).data)",
        "0.0",
    ),
)
log2 = _unary_op(
    "log2",
    _doc(
        "Base-2 logarithm.",
        "float(log2(8.0).data)",
        "3.0",
    ),
)
log10 = _unary_op(
    "log10",
    _doc(
        "Base-10 logarithm.",
        'print(f"{float(log10(100.0).data):.5f}")',
        "2.00000",
    ),
)
exp2 = _unary_op(
    "exp2",
    _doc(
        "2 ** x.",
        "float(exp2(3.0).data)",
        "8.0",
    ),
)
cbrt = _unary_op(
    "cbrt",
    _doc(
        "Cube root.",
        'print(f"{float(cbrt(27.0).data):.5f}")',
        "3.00000",
    ),
)
erf = _unary_op(
    "erf",
    _doc(
        "The error function.",
        "float(erf(0.0).data)",
        "0.0",
    ),
)
reciprocal = _unary_op(
    "reciprocal",
    _doc(
        "1 / x.",
        "float(reciprocal(4.0).data)",
        "0.25",
    ),
)
rsqrt = _unary_op(
    "rsqrt",
    _doc(
        "1 / sqrt(x).",
        "float(rsqrt(4.0).data)",
        "0.5",
    ),
)


def erfc(x) -> Tensor:
    """1 - erf(x).

    Example:
        >>> float(erfc(0.0).data)
        1.0
    """
    return subtract(1.0, erf(x))


def exp(x) -> Tensor:
    """e ** x.

    Example:
        >>> float(exp(0.0).data)
        1.0
    """
    return prim.Exp.apply(_float(x))


def log(x) -> Tensor:
    """Natural logarithm.

    Example:
        >>> float(log(1.0).data)
        0.0
    """
    return prim.Log.apply(_float(x))


def sqrt(x) -> Tensor:
    """Square root.

    Example:
        >>> sqrt([4, 9]).data
        array([2., 3.], dtype=float32)
    """
    return prim.Sqrt.apply(_float(x))


def square(x) -> Tensor:
    """x * x (integers stay integers).

    Example:
        >>> square([3]).data
        array([9], dtype=int32)
    """
    x = _t(x)
    if x.data.dtype.kind == "b":
        x = cast(x, "int32")
    return prim.Mul.apply(x, x)


def negative(x) -> Tensor:
    """-x.

    Example:
        >>> negative([1.0]).data
        array([-1.], dtype=float32)
    """
    return prim.Neg.apply(_t(x))


def absolute(x) -> Tensor:
    """|x| (gradient sign(x), 0 at 0).

    Example:
        >>> absolute([-2, 3]).data
        array([2, 3], dtype=int32)
    """
    x = _t(x)
    if x.data.dtype.kind == "b":
        return x
    return prim.Abs.apply(x)


abs = absolute  # noqa: A001
fabs = absolute


def _piecewise(name: str, doc: str):
    def op(x) -> Tensor:
        x = _t(x)
        return _const(getattr(array_module(x.data), name)(x.data))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


sign = _piecewise(
    "sign",
    _doc(
        "-1, 0 or 1 by the sign of x (no gradient: it is piecewise constant).",
        "sign([-2.0, 0.0, 3.0]).data",
        "array([-1.,  0.,  1.], dtype=float32)",
    ),
)
floor = _piecewise(
    "floor",
    _doc(
        "The largest integer <= x (no gradient).",
        "floor([1.5, -1.5]).data",
        "array([ 1., -2.], dtype=float32)",
    ),
)
ceil = _piecewise(
    "ceil",
    _doc(
        "The smallest integer >= x (no gradient).",
        "ceil([1.5, -1.5]).data",
        "array([ 2., -1.], dtype=float32)",
    ),
)
trunc = _piecewise(
    "trunc",
    _doc(
        "x rounded towards zero (no gradient).",
        "trunc([1.5, -1.5]).data",
        "array([ 1., -1.], dtype=float32)",
    ),
)
signbit = _piecewise(
    "signbit",
    _doc(
        "Whether the sign bit is set (True for -0.0).",
        "signbit([-1.0, 1.0]).data",
        "array([ True, False])",
    ),
)
isfinite = _piecewise(
    "isfinite",
    _doc(
        "Whether each value is finite.",
        "isfinite([1.0, np.inf]).data",
        "array([ True, False])",
    ),
)
isinf = _piecewise(
    "isinf",
    _doc(
        "Whether each value is infinite.",
        "isinf([1.0, np.inf]).data",
        "array([False,  True])",
    ),
)
isnan = _piecewise(
    "isnan",
    _doc(
        "Whether each value is NaN.",
        "isnan([1.0, np.nan]).data",
        "array([False,  True])",
    ),
)
isneginf = _piecewise(
    "isneginf",
    _doc(
        "Whether each value is -inf.",
        "isneginf([-np.inf, np.inf]).data",
        "array([ True, False])",
    ),
)
isposinf = _piecewise(
    "isposinf",
    _doc(
        "Whether each value is +inf.",
        "isposinf([-np.inf, np.inf]).data",
        "array([False,  True])",
    ),
)
logical_not = _piecewise(
    "logical_not",
    _doc(
        "Elementwise not.",
        "logical_not([True, False]).data",
        "array([False,  True])",
    ),
)


def round(x, decimals=0) -> Tensor:  # noqa: A001
    """x rounded to ``decimals`` places, halves to even (no gradient).

    Example:
        >>> round([0.5, 1.5, 2.26], 0).data
        array([0., 2., 2.], dtype=float32)
    """
    x = _t(x)
    return _const(array_module(x.data).round(x.data, decimals))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None) -> Tensor:
    """NaN and infinities replaced by finite numbers; the gradient passes where x was finite.

    Example:
        >>> nan_to_num([np.nan, 1.0, np.inf], posinf=9.0).data
        array([0., 1., 9.], dtype=float32)
    """
    x = _t(x)
    if not _is_float(x.data.dtype):
        return x
    info = np.finfo(x.data.dtype)
    xp = array_module(x.data)
    out = where(xp.isnan(x.data), nan, x)
    out = where(xp.isposinf(x.data), info.max if posinf is None else posinf, out)
    return where(xp.isneginf(x.data), info.min if neginf is None else neginf, out)


def clip(x, x_min=None, x_max=None) -> Tensor:
    """Clamp to [x_min, x_max]; the gradient passes inside (bounds included).

    Example:
        >>> clip([-1.0, 0.5, 2.0], 0.0, 1.0).data
        array([0. , 0.5, 1. ], dtype=float32)
    """
    x = _t(x)
    lo = x_min.data if isinstance(x_min, Tensor) else x_min
    hi = x_max.data if isinstance(x_max, Tensor) else x_max
    if x.data.dtype.kind == "b":
        x = cast(x, "int32")
    if not _is_float(x.data.dtype):
        return _const(array_module(x.data).clip(x.data, lo, hi).astype(x.data.dtype))
    return prim.Clip.apply(x, lo=lo, hi=hi)


def sinc(x) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0.

    Example:
        >>> sinc([0.0, 0.5]).data.round(6)
        array([1.      , 0.63662], dtype=float32)
    """
    x = _float(x)
    zero = x.data == 0
    safe = where(zero, 1.0, x)
    px = multiply(safe, math.pi)
    return where(zero, 1.0, divide(sin(px), px))


def deg2rad(x) -> Tensor:
    """Degrees to radians.

    Example:
        >>> deg2rad(180.0).data.round(5)
        np.float32(3.14159)
    """
    return multiply(_float(x), math.pi / 180)


def rad2deg(x) -> Tensor:
    """Radians to degrees.

    Example:
        >>> float(rad2deg(math.pi).data)
        180.0
    """
    return multiply(_float(x), 180 / math.pi)


def real(x) -> Tensor:
    """The real part: ``x`` itself (myelin's tensors are real).

    Example:
        >>> real([1.0]).data
        array([1.], dtype=float32)
    """
    return _t(x)


def imag(x) -> Tensor:
    """The imaginary part: zeros (myelin's tensors are real).

    Example:
        >>> imag([1.0]).data
        array([0.], dtype=float32)
    """
    return zeros_like(x)


def conjugate(x) -> Tensor:
    """The complex conjugate: ``x`` itself (myelin's tensors are real).

    Example:
        >>> conjugate([1.0]).data
        array([1.], dtype=float32)
    """
    return _t(x)


conj = conjugate


def angle(x) -> Tensor:
    """The argument of x as a complex number: pi for negative reals, 0 otherwise (no gradient).

    Example:
        >>> angle([-1.0, 1.0]).data.round(5)
        array([3.14159, 0.     ], dtype=float32)
    """
    x = _float(x)
    xp = array_module(x.data)
    return _const(xp.where(x.data < 0, xp.asarray(math.pi, x.data.dtype), xp.asarray(0, x.data.dtype)).astype(x.data.dtype))


def isreal(x) -> Tensor:
    """True everywhere (myelin's tensors are real).

    Example:
        >>> isreal([1.0]).data
        array([ True])
    """
    x = _t(x)
    return _const(array_module(x.data).ones(x.shape, dtype=bool))


# ---------------------------------------------------------------------------- comparisons and logic
def _compare(name: str, doc: str):
    def op(x1, x2) -> Tensor:
        a, b = _pair(x1, x2)
        return _const(getattr(array_module(a.data), name)(a.data, b.data))

    if name in ("bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"):

        def op(x, y) -> Tensor:  # Keras names these arguments x and y
            a, b = _pair(x, y)
            return _const(getattr(array_module(a.data), name)(a.data, b.data))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


equal = _compare(
    "equal",
    _doc(
        "x1 == x2 (bool, no gradient).",
        "equal([1, 2], 2).data",
        "array([False,  True])",
    ),
)
not_equal = _compare(
    "not_equal",
    _doc(
        "x1 != x2.",
        "not_equal([1, 2], 2).data",
        "array([ True, False])",
    ),
)
less = _compare(
    "less",
    _doc(
        "x1 < x2.",
        "less([1, 2], 2).data",
        "array([ True, False])",
    ),
)
less_equal = _compare(
    "less_equal",
    _doc(
        "x1 <= x2.",
        "less_equal([1, 2], 2).data",
        "array([ True,  True])",
    ),
)
greater = _compare(
    "greater",
    _doc(
        "x1 > x2.",
        "greater([1, 2], 1).data",
        "array([False,  True])",
    ),
)
greater_equal = _compare(
    "greater_equal",
    _doc(
        "x1 >= x2.",
        "greater_equal([1, 2], 2).data",
        "array([False,  True])",
    ),
)
logical_and = _compare(
    "logical_and",
    _doc(
        "Elementwise and.",
        "logical_and([True, True], [True, False]).data",
        "array([ True, False])",
    ),
)
logical_or = _compare(
    "logical_or",
    _doc(
        "Elementwise or.",
        "logical_or([True, False], [False, False]).data",
        "array([ True, False])",
    ),
)
logical_xor = _compare(
    "logical_xor",
    _doc(
        "Elementwise exclusive or.",
        "logical_xor([True, True], [True, False]).data",
        "array([False,  True])",
    ),
)
bitwise_and = _compare(
    "bitwise_and",
    _doc(
        "Bitwise and of integers.",
        "bitwise_and([12], [10]).data",
        "array([8], dtype=int32)",
    ),
)
bitwise_or = _compare(
    "bitwise_or",
    _doc(
        "Bitwise or of integers.",
        "bitwise_or([12], [10]).data",
        "array([14], dtype=int32)",
    ),
)
bitwise_xor = _compare(
    "bitwise_xor",
    _doc(
        "Bitwise exclusive or of integers.",
        "bitwise_xor([12], [10]).data",
        "array([6], dtype=int32)",
    ),
)
bitwise_left_shift = _compare(
    "left_shift",
    _doc(
        "x1 << x2.",
        "bitwise_left_shift([1], [3]).data",
        "array([8], dtype=int32)",
    ),
)
bitwise_right_shift = _compare(
    "right_shift",
    _doc(
        "x1 >> x2.",
        "bitwise_right_shift([8], [3]).data",
        "array([1], dtype=int32)",
    ),
)
left_shift = bitwise_left_shift
right_shift = bitwise_right_shift
gcd = _compare(
    "gcd",
    _doc(
        "Greatest common divisor.",
        "gcd([12], [18]).data",
        "array([6], dtype=int32)",
    ),
)
lcm = _compare(
    "lcm",
    _doc(
        "Least common multiple.",
        "lcm([4], [6]).data",
        "array([12], dtype=int32)",
    ),
)
nextafter = _compare(
    "nextafter",
    _doc(
        "The next representable value after x1 towards x2.",
        "bool(nextafter(1.0, 2.0).data > 1.0)",
        "True",
    ),
)
heaviside = _compare(
    "heaviside",
    _doc(
        "0 for x1 < 0, x2 at 0, 1 for x1 > 0 (no gradient).",
        "heaviside([-1.0, 0.0, 2.0], 0.5).data",
        "array([0. , 0.5, 1. ], dtype=float32)",
    ),
)


def bitwise_invert(x) -> Tensor:
    """Bitwise not of integers (logical not of bools).

    Example:
        >>> bitwise_invert([0]).data
        array([-1], dtype=int32)
    """
    x = _t(x)
    return _const(array_module(x.data).invert(x.data))


bitwise_not = bitwise_invert


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    """|x1 - x2| <= atol + rtol * |x2|.

    Example:
        >>> isclose([1.0, 1.1], 1.0).data
        array([ True, False])
    """
    a, b = _pair(x1, x2)
    return _const(array_module(a.data).isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    """Whether every element is close (a bool scalar tensor).

    Example:
        >>> bool(allclose([1.0], [1.0 + 1e-9]).data)
        True
    """
    return all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isin(x1, x2, assume_unique=False, invert=False) -> Tensor:
    """Whether each element of x1 is in x2.

    Example:
        >>> isin([1, 2, 3], [2, 3]).data
        array([False,  True,  True])
    """
    a, b = _t(x1), _t(x2)
    return _const(np.isin(a.numpy(), b.numpy(), assume_unique=assume_unique, invert=invert))


# ---------------------------------------------------------------------------- reductions
def sum(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes when None); bool and small ints sum as int32.

    Example:
        >>> sum([[1.0, 2.0], [3.0, 4.0]], axis=0).data
        array([4., 6.], dtype=float32)
    """
    x = _t(x)
    axes = _axis_tuple(axis, x.ndim)
    if x.data.dtype.name in _SMALL_INTS:
        return _const(x.data.sum(axis=axes, keepdims=keepdims, dtype="int32"))
    if not _is_float(x.data.dtype):
        return _const(x.data.sum(axis=axes, keepdims=keepdims, dtype=x.data.dtype))
    return prim.Sum.apply(x, axis=axes, keepdims=keepdims)


def mean(x, axis=None, keepdims=False) -> Tensor:
    """Mean over ``axis``; integers average as floatx.

    Example:
        >>> float(mean([1, 2]).data)
        1.5
    """
    x = _float(x)
    axes = _axis_tuple(axis, x.ndim)
    count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    total = prim.Sum.apply(x, axis=axes, keepdims=keepdims)
    return prim.Mul.apply(total, _scalar_for(1.0 / count if count else math.nan, x))


def _reduce_extreme(x, axis, keepdims, initial, smallest: bool) -> Tensor:
    x = _t(x)
    axes = _axis_tuple(axis, x.ndim)
    if initial is not None:
        bound = full((), initial, dtype=x.dtype)
        out = _reduce_extreme(x, axis, keepdims, None, smallest) if x.size else None
        if out is None:
            shape = [1 if (axes is None or i in axes) else n for i, n in enumerate(x.shape)]
            if not keepdims:
                shape = [n for i, n in enumerate(x.shape) if not (axes is None or i in axes)]
            return broadcast_to(bound, shape)
        return minimum(out, bound) if smallest else maximum(out, bound)
    if x.size == 0:
        raise ValueError(f"{'min' if smallest else 'max'}: the tensor is empty; give initial=")
    if not _is_float(x.data.dtype):
        reduce = x.data.min if smallest else x.data.max
        return _const(reduce(axis=axes, keepdims=keepdims))
    return prim.Max.apply(x, axis=axes, keepdims=keepdims, smallest=smallest)


def max(x, axis=None, keepdims=False, initial=None) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; ``initial`` is a lower bound (and the result for an empty tensor).

    Example:
        >>> max([[1.0, 5.0], [3.0, 2.0]], axis=1).data
        array([5., 3.], dtype=float32)
    """
    return _reduce_extreme(x, axis, keepdims, initial, smallest=False)


def min(x, axis=None, keepdims=False, initial=None) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; ``initial`` is an upper bound.

    Example:
        >>> min([[1.0, 5.0], [3.0, 2.0]], axis=1).data
        array([1., 2.], dtype=float32)
    """
    return _reduce_extreme(x, axis, keepdims, initial, smallest=True)


amax = max
amin = min


class _Prod(Function):
    """Product along one axis; the gradient is the product of the others (exact with zeros)."""

    def forward(self, x, axis, keepdims):
        xp = array_module(x)
        self.x, self.axis, self.keepdims = x, axis, keepdims
        return xp.prod(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        xp = array_module(g)
        x = xp.moveaxis(self.x, self.axis, -1)
        ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
        left = xp.concatenate([ones, xp.cumprod(x[..., :-1], axis=-1)], axis=-1)
        right = xp.flip(xp.concatenate([ones, xp.cumprod(xp.flip(x[..., 1:], -1), axis=-1)], axis=-1), -1)
        others = xp.moveaxis(left * right, -1, self.axis)
        g = g if self.keepdims else xp.expand_dims(g, self.axis)
        return (g * others,)


def prod(x, axis=None, keepdims=False, dtype=None) -> Tensor:
    """Product over ``axis`` (all axes when None).

    Example:
        >>> prod([[1.0, 2.0], [3.0, 4.0]], axis=1).data
        array([ 2., 12.], dtype=float32)
    """
    x = _t(x) if dtype is None else cast(x, dtype)
    if x.data.dtype.name in _SMALL_INTS:
        x = cast(x, "int32")
    axes = _axis_tuple(axis, x.ndim)
    if not _is_float(x.data.dtype):
        return _const(x.data.prod(axis=axes, keepdims=keepdims, dtype=x.data.dtype))
    if axes is None:
        out = _Prod.apply(reshape(x, (-1,)), axis=0, keepdims=False)
        return reshape(out, (1,) * x.ndim) if keepdims else out
    for a in sorted(axes, reverse=True):
        x = _Prod.apply(x, axis=a, keepdims=keepdims)
    return x


def var(x, axis=None, keepdims=False) -> Tensor:
    """Population variance over ``axis``.

    Example:
        >>> float(var([1.0, 2.0, 3.0, 4.0]).data)
        1.25
    """
    x = _float(x)
    centred = subtract(x, stop_mean(x, axis))
    return mean(square(centred), axis=axis, keepdims=keepdims)


def stop_mean(x: Tensor, axis) -> Tensor:
    """The mean with keepdims (differentiable; a helper of ``var`` kept public for ``moments``).

    Example:
        >>> stop_mean(convert_to_tensor([1.0, 3.0]), None).data
        array([2.], dtype=float32)
    """
    return mean(x, axis=axis, keepdims=True)


def std(x, axis=None, keepdims=False) -> Tensor:
    """Population standard deviation over ``axis``.

    Example:
        >>> float(std([1.0, 3.0]).data)
        1.0
    """
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, stably.

    Example:
        >>> print(f"{float(logsumexp([0.0, 0.0]).data):.6f}")
        0.693147
    """
    x = _float(x)
    axes = _axis_tuple(axis, x.ndim)
    m = x.data.max(axis=axes, keepdims=True) if x.size else x.data.sum(axis=axes, keepdims=True)
    m = _const(array_module(m).where(array_module(m).isfinite(m), m, 0).astype(x.data.dtype))
    out = add(log(prim.Sum.apply(exp(subtract(x, m)), axis=axes, keepdims=True)), m)
    return out if keepdims else squeeze(out, axes) if axes is not None else reshape(out, ())


def any(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Whether any element along ``axis`` is nonzero.

    Example:
        >>> any([[0, 1], [0, 0]], axis=1).data
        array([ True, False])
    """
    x = _t(x)
    return _const(x.data.astype(bool).any(axis=_axis_tuple(axis, x.ndim), keepdims=keepdims))


def all(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Whether every element along ``axis`` is nonzero.

    Example:
        >>> all([[1, 1], [0, 1]], axis=1).data
        array([ True, False])
    """
    x = _t(x)
    return _const(x.data.astype(bool).all(axis=_axis_tuple(axis, x.ndim), keepdims=keepdims))


def count_nonzero(x, axis=None) -> Tensor:
    """The number of nonzero elements along ``axis`` (int32).

    Example:
        >>> count_nonzero([[0, 1], [2, 3]], axis=1).data
        array([1, 2], dtype=int32)
    """
    x = _t(x)
    return _const(x.data.astype(bool).sum(axis=_axis_tuple(axis, x.ndim), dtype="int32"))


def argmax(x, axis=None, keepdims=False) -> Tensor:
    """The index of the maximum along ``axis`` (of the flattened tensor when None), int32.

    Example:
        >>> argmax([[1.0, 5.0], [3.0, 2.0]], axis=1).data
        array([1, 0], dtype=int32)
    """
    x = _t(x)
    return _const(x.data.argmax(axis=axis, keepdims=keepdims).astype("int32"))


def argmin(x, axis=None, keepdims=False) -> Tensor:
    """The index of the minimum along ``axis``, int32.

    Example:
        >>> argmin([[1.0, 5.0], [3.0, 2.0]], axis=1).data
        array([0, 1], dtype=int32)
    """
    x = _t(x)
    return _const(x.data.argmin(axis=axis, keepdims=keepdims).astype("int32"))


def ptp(x, axis=None, keepdims=False) -> Tensor:
    """max - min along ``axis``.

    Example:
        >>> float(ptp([1.0, 4.0, 2.0]).data)
        3.0
    """
    return subtract(max(x, axis=axis, keepdims=keepdims), min(x, axis=axis, keepdims=keepdims))


def average(x, axis=None, weights=None) -> Tensor:
    """The mean along ``axis``, weighted by ``weights`` (shaped like x, or 1-D along ``axis``).

    Example:
        >>> float(average([1.0, 3.0], weights=[3.0, 1.0]).data)
        1.5
    """
    x = _float(x)
    if weights is None:
        return mean(x, axis=axis)
    w = _t(weights)
    if w.ndim == 1 and x.ndim > 1:
        if axis is None:
            raise ValueError("average: 1-D weights need an axis")
        shape = [1] * x.ndim
        shape[axis % x.ndim] = w.shape[0]
        w = reshape(w, shape)
    x, w = _pair(x, w)
    return divide(sum(multiply(x, w), axis=axis), sum(multiply(ones_like(x), w), axis=axis))


def _cum(x, axis, dtype):
    x = _t(x) if dtype is None else cast(x, dtype)
    if x.data.dtype.name in _SMALL_INTS:
        x = cast(x, "int32")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return x, axis % builtins.max(x.ndim, 1)


class _Cumsum(Function):
    def forward(self, x, axis):
        self.axis = axis
        return array_module(x).cumsum(x, axis=axis)

    def backward(self, g):
        xp = array_module(g)
        return (xp.flip(xp.cumsum(xp.flip(g, self.axis), axis=self.axis), self.axis),)


def cumsum(x, axis=None, dtype=None) -> Tensor:
    """Running sum along ``axis`` (of the flattened tensor when None).

    Example:
        >>> cumsum([1.0, 2.0, 3.0]).data
        array([1., 3., 6.], dtype=float32)
    """
    x, axis = _cum(x, axis, dtype)
    if not _is_float(x.data.dtype):
        return _const(array_module(x.data).cumsum(x.data, axis=axis, dtype=x.data.dtype))
    return _Cumsum.apply(x, axis=axis)


def cumprod(x, axis=None, dtype=None) -> Tensor:
    """Running product along ``axis`` (of the flattened tensor when None); exact gradients with zeros.

    Example:
        >>> cumprod([1.0, 2.0, 3.0]).data
        array([1., 2., 6.], dtype=float32)
    """
    x, axis = _cum(x, axis, dtype)
    if not _is_float(x.data.dtype):
        return _const(array_module(x.data).cumprod(x.data, axis=axis, dtype=x.data.dtype))
    n = x.shape[axis]
    # out[j] = prod(x[:j+1]): one product per prefix, so each gradient is exact (zeros included)
    parts = [prod(take(x, list(range(j + 1)), axis=axis), axis=axis, keepdims=True) for j in range(n)]
    return concatenate(parts, axis=axis) if parts else x


# ---------------------------------------------------------------------------- creation
def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """Evenly spaced values in [start, stop); int32 for integer arguments, floatx otherwise.

    Example:
        >>> arange(3).data, arange(0, 1, 0.5).data
        (array([0, 1, 2], dtype=int32), array([0. , 0.5], dtype=float32))
    """
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    values = [start, stop, step]
    if dtype is None:
        dtype = "int32" if builtins.all(isinstance(v, numbers.Integral) for v in values) else backend.floatx()
    return _const(np.arange(start, stop, step, dtype=_standard_dtype(dtype)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from start to stop (floatx unless ``dtype``).

    Example:
        >>> linspace(0, 1, 3).data
        array([0. , 0.5, 1. ], dtype=float32)
    """
    dt = _standard_dtype(dtype or backend.floatx())
    out = np.linspace(np.asarray(start), np.asarray(stop), int(num), endpoint=endpoint, retstep=retstep, axis=axis)
    if retstep:
        return _const(out[0].astype(dt)), _const(np.asarray(out[1], dtype=dt))
    return _const(out.astype(dt))


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0) -> Tensor:
    """base ** linspace(start, stop, num).

    Example:
        >>> logspace(0, 2, 3).data
        array([  1.,  10., 100.], dtype=float32)
    """
    dt = _standard_dtype(dtype or backend.floatx())
    return _const(np.logspace(start, stop, int(num), endpoint=endpoint, base=base, axis=axis).astype(dt))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0) -> Tensor:
    """A geometric progression from start to stop.

    Example:
        >>> geomspace(1, 100, 3).data
        array([  1.,  10., 100.], dtype=float32)
    """
    dt = _standard_dtype(dtype or backend.floatx())
    return _const(np.geomspace(start, stop, int(num), endpoint=endpoint, axis=axis).astype(dt))


def _shape_of(shape) -> tuple:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def zeros(shape, dtype=None) -> Tensor:
    """A tensor of zeros (floatx unless ``dtype``).

    Example:
        >>> zeros((2,)).data
        array([0., 0.], dtype=float32)
    """
    return _const(np.zeros(_shape_of(shape), dtype=_standard_dtype(dtype or backend.floatx())))


def ones(shape, dtype=None) -> Tensor:
    """A tensor of ones (floatx unless ``dtype``).

    Example:
        >>> ones((2,), dtype="int32").data
        array([1, 1], dtype=int32)
    """
    return _const(np.ones(_shape_of(shape), dtype=_standard_dtype(dtype or backend.floatx())))


empty = zeros


def full(shape, fill_value, dtype=None) -> Tensor:
    """A tensor filled with ``fill_value`` (floatx unless ``dtype``).

    Example:
        >>> full((2,), 7).data
        array([7., 7.], dtype=float32)
    """
    value = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    return _const(np.full(_shape_of(shape), value, dtype=_standard_dtype(dtype or backend.floatx())))


def _like(x, dtype):
    x = _t(x)
    return x, _standard_dtype(dtype) if dtype is not None else x.data.dtype


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros of x's shape and dtype.

    Example:
        >>> zeros_like([1, 2]).data
        array([0, 0], dtype=int32)
    """
    x, dt = _like(x, dtype)
    return _const(array_module(x.data).zeros(x.shape, dtype=dt))


def ones_like(x, dtype=None) -> Tensor:
    """Ones of x's shape and dtype.

    Example:
        >>> ones_like([1.0]).data
        array([1.], dtype=float32)
    """
    x, dt = _like(x, dtype)
    return _const(array_module(x.data).ones(x.shape, dtype=dt))


empty_like = zeros_like


def full_like(x, fill_value, dtype=None) -> Tensor:
    """``fill_value`` in x's shape and dtype.

    Example:
        >>> full_like([1.0, 2.0], 3).data
        array([3., 3.], dtype=float32)
    """
    x, dt = _like(x, dtype)
    value = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    return _const(array_module(x.data).full(x.shape, value, dtype=dt))


def eye(N, M=None, k=0, dtype=None) -> Tensor:
    """An N x M matrix with ones on the k-th diagonal.

    Example:
        >>> eye(2).data
        array([[1., 0.],
               [0., 1.]], dtype=float32)
    """
    return _const(np.eye(int(N), None if M is None else int(M), k=k, dtype=_standard_dtype(dtype or backend.floatx())))


def identity(n, dtype=None) -> Tensor:
    """The n x n identity matrix.

    Example:
        >>> identity(1).data
        array([[1.]], dtype=float32)
    """
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None) -> Tensor:
    """Ones at and below the k-th diagonal.

    Example:
        >>> tri(2).data
        array([[1., 0.],
               [1., 1.]], dtype=float32)
    """
    return _const(np.tri(int(N), None if M is None else int(M), k=k, dtype=_standard_dtype(dtype or backend.floatx())))


def array(x, dtype=None) -> Tensor:
    """``x`` as a tensor (``convert_to_tensor``).

    Example:
        >>> array([1, 2], dtype="float32").data
        array([1., 2.], dtype=float32)
    """
    return convert_to_tensor(x, dtype=dtype)


def copy(x) -> Tensor:
    """A tensor with its own copy of the data (the gradient flows through).

    Example:
        >>> copy([1.0]).data
        array([1.], dtype=float32)
    """
    x = _t(x)
    return add(x, zeros_like(x)) if _is_float(x.data.dtype) else _const(x.data.copy())


# ---------------------------------------------------------------------------- shape
def shape_of(x) -> tuple:
    """The shape of ``x`` (also ``ops.shape``).

    Example:
        >>> shape_of([[1, 2]])
        (1, 2)
    """
    return tuple(_t(x).shape)


def ndim(x) -> int:
    """The number of axes.

    Example:
        >>> ndim([[1, 2]])
        2
    """
    return _t(x).ndim


def size(x) -> int:
    """The number of elements.

    Example:
        >>> size([[1, 2]])
        2
    """
    return int(_t(x).size)


def reshape(x, newshape) -> Tensor:
    """The same values in ``newshape`` (one entry may be -1).

    Example:
        >>> reshape([1, 2, 3, 4], (2, -1)).shape
        (2, 2)
    """
    return prim.Reshape.apply(_t(x), shape=_shape_of(newshape))


def ravel(x) -> Tensor:
    """The values as one axis.

    Example:
        >>> ravel([[1, 2], [3, 4]]).data
        array([1, 2, 3, 4], dtype=int32)
    """
    return reshape(x, (-1,))


def transpose(x, axes=None) -> Tensor:
    """Permute the axes (reverse them when None).

    Example:
        >>> transpose(zeros((2, 3, 4)), (2, 0, 1)).shape
        (4, 2, 3)
    """
    x = _t(x)
    return prim.Transpose.apply(x, axes=None if axes is None else tuple(a % x.ndim for a in axes))


def swapaxes(x, axis1, axis2) -> Tensor:
    """Exchange two axes.

    Example:
        >>> swapaxes(zeros((2, 3)), 0, 1).shape
        (3, 2)
    """
    x = _t(x)
    perm = list(range(x.ndim))
    a, b = axis1 % x.ndim, axis2 % x.ndim
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def moveaxis(x, source, destination) -> Tensor:
    """Move axes to new positions.

    Example:
        >>> moveaxis(zeros((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    x = _t(x)
    src = (source,) if isinstance(source, numbers.Integral) else tuple(source)
    dst = (destination,) if isinstance(destination, numbers.Integral) else tuple(destination)
    src = [a % x.ndim for a in src]
    dst = [a % x.ndim for a in dst]
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: {len(src)} source axes for {len(dst)} destinations")
    perm = [i for i in range(x.ndim) if i not in src]
    for d, sx in sorted(zip(dst, src)):
        perm.insert(d, sx)
    return transpose(x, perm)


def expand_dims(x, axis) -> Tensor:
    """Insert axes of size 1 at ``axis`` (an int or a tuple).

    Example:
        >>> expand_dims(zeros((2, 3)), -1).shape
        (2, 3, 1)
    """
    x = _t(x)
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=bool), axis).shape)


def squeeze(x, axis=None) -> Tensor:
    """Remove axes of size 1 (only ``axis`` when given; it must have size 1).

    Example:
        >>> squeeze(zeros((1, 3, 1)), axis=0).shape
        (3, 1)
    """
    x = _t(x)
    axes = _axis_tuple(axis, x.ndim)
    if axes is not None:
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1")
    return reshape(x, np.squeeze(np.empty(x.shape, dtype=bool), axes).shape)


def broadcast_to(x, shape) -> Tensor:
    """``x`` broadcast to ``shape`` (the gradient sums back).

    Example:
        >>> broadcast_to([1.0, 2.0], (2, 2)).data
        array([[1., 2.],
               [1., 2.]], dtype=float32)
    """
    x = _t(x)
    shape = _shape_of(shape)
    if not _is_float(x.data.dtype):
        return _const(array_module(x.data).broadcast_to(x.data, shape).copy())
    return prim.Add.apply(x, _const(array_module(x.data).zeros(shape, dtype=x.data.dtype)))


def concatenate(xs, axis=0) -> Tensor:
    """Join tensors along an existing axis (flattened first when ``axis`` is None).

    Example:
        >>> concatenate([[1, 2], [3]]).data
        array([1, 2, 3], dtype=int32)
    """
    ts = [_t(x) for x in xs]
    if not ts:
        raise ValueError("concatenate: give at least one tensor")
    if axis is None:
        ts, axis = [reshape(t, (-1,)) for t in ts], 0
    dt = ts[0].data.dtype
    for t in ts[1:]:
        dt = _result_dtype(dt, t.data.dtype)
    ts = [cast(t, dt) for t in ts]
    return prim.Concatenate.apply(*ts, axis=axis % ts[0].ndim)


def append(x1, x2, axis=None) -> Tensor:
    """x2's values after x1's along ``axis`` (both flattened when None).

    Example:
        >>> append([1, 2], [[3]]).data
        array([1, 2, 3], dtype=int32)
    """
    return concatenate([x1, x2], axis=axis)


def stack(x, axis=0) -> Tensor:
    """Join tensors along a new axis.

    Example:
        >>> stack([[1, 2], [3, 4]], axis=1).data
        array([[1, 3],
               [2, 4]], dtype=int32)
    """
    ts = [_t(v) for v in x]
    if not ts:
        raise ValueError("stack: give at least one tensor")
    dt = ts[0].data.dtype
    for t in ts[1:]:
        dt = _result_dtype(dt, t.data.dtype)
    ts = [cast(t, dt) for t in ts]
    return prim.Stack.apply(*ts, axis=axis % (ts[0].ndim + 1))


def hstack(xs) -> Tensor:
    """Concatenate along axis 1 (axis 0 for 1-D tensors).

    Example:
        >>> hstack([[1], [2]]).data
        array([1, 2], dtype=int32)
    """
    ts = [_t(x) for x in xs]
    return concatenate(ts, axis=0 if ts[0].ndim == 1 else 1)


def vstack(xs) -> Tensor:
    """Stack rows (1-D tensors become rows).

    Example:
        >>> vstack([[1, 2], [3, 4]]).shape
        (2, 2)
    """
    ts = [_t(x) for x in xs]
    return concatenate([reshape(t, (1, -1)) if t.ndim == 1 else t for t in ts], axis=0)


def dstack(xs) -> Tensor:
    """Concatenate along the third axis.

    Example:
        >>> dstack([[1, 2], [3, 4]]).shape
        (1, 2, 2)
    """
    ts = []
    for x in xs:
        t = _t(x)
        if t.ndim == 1:
            t = reshape(t, (1, -1, 1))
        elif t.ndim == 2:
            t = expand_dims(t, -1)
        ts.append(t)
    return concatenate(ts, axis=2)


def _split_points(n: int, indices_or_sections, exact: bool) -> list:
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if exact and n % k:
            raise ValueError(f"split: an axis of size {n} cannot be split into {k} equal parts")
        base, extra = divmod(n, k)
        sizes = [base + (1 if i < extra else 0) for i in range(k)]
        return list(np.cumsum(sizes)[:-1])
    return [int(i) for i in indices_or_sections]


def _split(x, indices_or_sections, axis, exact) -> list:
    x = _t(x)
    axis = axis % x.ndim
    points = [0] + _split_points(x.shape[axis], indices_or_sections, exact) + [x.shape[axis]]
    lead = (builtins.slice(None),) * axis
    return [prim.getitem(x, lead + (builtins.slice(a, builtins.max(a, b)),)) for a, b in itertools.pairwise(points)]


def split(x, indices_or_sections, axis=0) -> list:
    """Pieces of ``x`` along ``axis``: n equal parts, or cut before each given index.

    Example:
        >>> [p.data.tolist() for p in split([1, 2, 3, 4], 2)]
        [[1, 2], [3, 4]]
    """
    return _split(x, indices_or_sections, axis, exact=True)


def array_split(x, indices_or_sections, axis=0) -> list:
    """As ``split``, but n parts need not divide the axis (the first parts are one longer).

    Example:
        >>> [p.data.tolist() for p in array_split([1, 2, 3], 2)]
        [[1, 2], [3]]
    """
    return _split(x, indices_or_sections, axis, exact=False)


def hsplit(x, indices_or_sections) -> list:
    """``split`` along axis 1 (axis 0 for 1-D).

    Example:
        >>> len(hsplit(zeros((2, 4)), 2))
        2
    """
    x = _t(x)
    return split(x, indices_or_sections, axis=0 if x.ndim == 1 else 1)


def vsplit(x, indices_or_sections) -> list:
    """``split`` along axis 0.

    Example:
        >>> len(vsplit(zeros((4, 2)), 2))
        2
    """
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections) -> list:
    """``split`` along axis 2.

    Example:
        >>> len(dsplit(zeros((1, 1, 4)), 4))
        4
    """
    return split(x, indices_or_sections, axis=2)


def _along(x: Tensor, axis: int, index) -> Tensor:
    return prim.getitem(x, (builtins.slice(None),) * axis + (index,))


def take(x, indices, axis=None) -> Tensor:
    """Elements (or slices along ``axis``) at ``indices``; negative indices count from the end.

    Example:
        >>> take([[1, 2], [3, 4]], [1, 0], axis=1).data
        array([[2, 1],
               [4, 3]], dtype=int32)
    """
    x = _t(x)
    idx = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got dtype {idx.dtype}")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = axis % x.ndim
    n = x.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take: an index is out of range for axis {axis} of size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    if idx.ndim == 0:
        return _along(x, axis, int(idx))
    return _along(x, axis, array_module(x.data).asarray(idx))


def take_along_axis(x, indices, axis=None) -> Tensor:
    """``x``'s values picked along ``axis`` by ``indices`` (same rank, broadcast in other axes).

    Example:
        >>> take_along_axis([[10, 30, 20]], [[1, 2]], axis=1).data
        array([[30, 20]], dtype=int32)
    """
    x = _t(x)
    idx = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices).astype("int64")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
        idx = idx.reshape(-1)
    axis = axis % x.ndim
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices has rank {idx.ndim}, x has rank {x.ndim}")
    n = x.shape[axis]
    idx = np.where(idx < 0, idx + n, idx)
    shape = np.broadcast_shapes(
        tuple(1 if i == axis else s for i, s in enumerate(x.shape)),
        tuple(1 if i == axis else s for i, s in enumerate(idx.shape)),
    )
    full_shape = tuple(idx.shape[i] if i == axis else shape[i] for i in range(x.ndim))
    idx = np.broadcast_to(idx, full_shape)
    x = broadcast_to(x, tuple(n if i == axis else shape[i] for i in range(x.ndim)))
    grids = list(np.ix_(*[np.arange(s) for s in full_shape]))
    grids[axis] = idx
    return prim.getitem(x, tuple(grids))


def get_item(x, key) -> Tensor:
    """``x[key]``.

    Example:
        >>> get_item([[1, 2], [3, 4]], 1).data
        array([3, 4], dtype=int32)
    """
    return prim.getitem(_t(x), key)


def where(condition, x1=None, x2=None):
    """x1 where ``condition`` holds, else x2; with neither, the indices of the nonzero elements.

    Example:
        >>> where([True, False], 1.0, 0.0).data
        array([1., 0.], dtype=float32)
    """
    c = _t(condition).data
    if x1 is None and x2 is None:
        return nonzero(c)
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither")
    a, b = _pair(x1, x2)
    cond = c.astype(bool)
    if not _is_float(a.data.dtype):
        return _const(array_module(a.data).where(cond, a.data, b.data))
    return prim.Where.apply(a, b, condition=cond)


def nonzero(x) -> tuple:
    """The indices of the nonzero elements, one int32 tensor per axis.

    Example:
        >>> [t.data.tolist() for t in nonzero([[0, 1], [1, 0]])]
        [[0, 1], [1, 0]]
    """
    data = _t(x).data
    return tuple(_const(i.astype("int32")) for i in array_module(data).nonzero(data))


def select(condlist, choicelist, default=0) -> Tensor:
    """The first choice whose condition holds, elementwise; ``default`` where none does.

    Example:
        >>> x = arange(4)
        >>> select([less(x, 1), greater(x, 2)], [x, multiply(x, 10)], 5).data
        array([ 0,  5,  5, 30], dtype=int32)
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices")
    out = _t(default) if not _is_scalar(default) else None
    result = None
    for c, v in zip(reversed(condlist), reversed(choicelist)):
        if result is None:
            v = _t(v)
            base = out if out is not None else _scalar_for(default, v)
            result = where(c, v, base)
        else:
            result = where(c, v, result)
    return result if result is not None else _t(default)


def tile(x, repeats) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis.

    Example:
        >>> tile([1, 2], 2).data
        array([1, 2, 1, 2], dtype=int32)
    """
    x = _t(x)
    reps = _shape_of(repeats)
    nd = builtins.max(x.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    x = reshape(x, (1,) * (nd - x.ndim) + x.shape)
    index = tuple(np.ix_(*[np.tile(np.arange(s), r) for s, r in zip(x.shape, reps)]))
    return prim.getitem(x, index)


def repeat(x, repeats, axis=None) -> Tensor:
    """Each element (or slice along ``axis``) repeated ``repeats`` times.

    Example:
        >>> repeat([1, 2], 2).data
        array([1, 1, 2, 2], dtype=int32)
    """
    x = _t(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = axis % x.ndim
    r = np.asarray(repeats.numpy() if isinstance(repeats, Tensor) else repeats)
    return _along(x, axis, np.repeat(np.arange(x.shape[axis]), r))


def flip(x, axis=None) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes when None).

    Example:
        >>> flip([1, 2, 3]).data
        array([3, 2, 1], dtype=int32)
    """
    x = _t(x)
    axes = _axis_tuple(axis, x.ndim)
    axes = range(x.ndim) if axes is None else axes
    index = tuple(builtins.slice(None, None, -1) if i in axes else builtins.slice(None) for i in range(x.ndim))
    return prim.getitem(x, index)


def fliplr(x) -> Tensor:
    """Reverse axis 1.

    Example:
        >>> fliplr([[1, 2]]).data
        array([[2, 1]], dtype=int32)
    """
    return flip(x, 1)


def flipud(x) -> Tensor:
    """Reverse axis 0.

    Example:
        >>> flipud([[1], [2]]).data
        array([[2],
               [1]], dtype=int32)
    """
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of ``axes``.

    Example:
        >>> rot90([[1, 2], [3, 4]]).data
        array([[2, 4],
               [1, 3]], dtype=int32)
    """
    x = _t(array)
    k = k % 4
    a, b = axes
    for _ in range(k):
        x = swapaxes(flip(x, b), a, b)
    return x


def roll(x, shift, axis=None) -> Tensor:
    """Shift elements cyclically along ``axis`` (of the flattened tensor when None).

    Example:
        >>> roll([1, 2, 3], 1).data
        array([3, 1, 2], dtype=int32)
    """
    x = _t(x)
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, 0), x.shape)
    shifts = (shift,) if isinstance(shift, numbers.Integral) else tuple(shift)
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    for s, a in zip(shifts, axes):
        a = a % x.ndim
        n = x.shape[a]
        if n:
            x = _along(x, a, (np.arange(n) - int(s)) % n)
    return x


def pad(x, pad_width, mode="constant", constant_values=None) -> Tensor:
    """Pad ``x``: ``pad_width`` per axis (before, after); modes constant, edge, reflect, symmetric, wrap.

    Example:
        >>> pad([1.0, 2.0], (1, 2)).data
        array([0., 1., 2., 0., 0.], dtype=float32)
        >>> pad([1, 2, 3], (2, 0), mode="reflect").data
        array([3, 2, 1, 2, 3], dtype=int32)
    """
    x = _t(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype="int64"), (x.ndim, 2))
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise ValueError(f"pad: mode must be constant, edge, reflect, symmetric or wrap, got {mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values is only for mode='constant', got mode={mode!r}")
    for axis, (before, after) in enumerate(widths):
        if before < 0 or after < 0:
            raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
        if not before and not after:
            continue
        if mode == "constant":
            value = 0 if constant_values is None else constant_values
            parts = []
            for w in (before, after):
                shape = list(x.shape)
                shape[axis] = int(w)
                parts.append(full(shape, value, dtype=x.dtype))
            x = concatenate([parts[0], x, parts[1]], axis=axis)
        else:
            index = np.pad(np.arange(x.shape[axis]), (int(before), int(after)), mode=mode)
            x = _along(x, axis, index)
    return x


def diagonal(x, offset=0, axis1=0, axis2=1) -> Tensor:
    """The diagonal of the (axis1, axis2) planes, as the last axis.

    Example:
        >>> diagonal([[1, 2], [3, 4]]).data
        array([1, 4], dtype=int32)
    """
    x = _t(x)
    x = moveaxis(x, (axis1 % x.ndim, axis2 % x.ndim), (-2, -1))
    n, m = x.shape[-2:]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset))
    return prim.getitem(x, (Ellipsis, rows, rows + offset))


def diag(x, k=0) -> Tensor:
    """The k-th diagonal of a matrix, or a matrix with a vector on its k-th diagonal.

    Example:
        >>> diag([1.0, 2.0]).data
        array([[1., 0.],
               [0., 2.]], dtype=float32)
    """
    x = _t(x)
    if x.ndim == 2:
        return diagonal(x, offset=k)
    if x.ndim != 1:
        raise ValueError(f"diag: x must be 1-D or 2-D, got rank {x.ndim}")
    n = x.shape[0] + builtins.abs(k)
    idx = np.arange(x.shape[0])
    rows, cols = (idx, idx + k) if k >= 0 else (idx - k, idx)
    from .core import scatter  # noqa: PLC0415

    if not _is_float(x.data.dtype):
        out = np.zeros((n, n), dtype=x.data.dtype)
        out[rows, cols] = x.numpy()
        return _const(out)
    return scatter(np.stack([rows, cols], axis=1), x, (n, n))


def diagflat(x, k=0) -> Tensor:
    """``diag`` of the flattened input.

    Example:
        >>> diagflat([[1.0, 2.0]]).shape
        (2, 2)
    """
    return diag(ravel(x), k)


def trace(x, offset=0, axis1=0, axis2=1) -> Tensor:
    """Sum of the diagonal.

    Example:
        >>> float(trace([[1.0, 2.0], [3.0, 4.0]]).data)
        5.0
    """
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def _tri_mask(x: Tensor, k: int, upper: bool):
    n, m = x.shape[-2:]
    mask = np.tri(n, m, k - 1 if upper else k, dtype=bool)
    return ~mask if upper else mask


def triu(x, k=0) -> Tensor:
    """Zeros below the k-th diagonal of the last two axes.

    Example:
        >>> triu([[1, 2], [3, 4]]).data
        array([[1, 2],
               [0, 4]], dtype=int32)
    """
    x = _t(x)
    return where(_tri_mask(x, k, True), x, zeros_like(x))


def tril(x, k=0) -> Tensor:
    """Zeros above the k-th diagonal of the last two axes.

    Example:
        >>> tril([[1, 2], [3, 4]]).data
        array([[1, 0],
               [3, 4]], dtype=int32)
    """
    x = _t(x)
    return where(_tri_mask(x, k, False), x, zeros_like(x))


def diff(a, n=1, axis=-1) -> Tensor:
    """The n-th discrete difference along ``axis``.

    Example:
        >>> diff([1.0, 4.0, 9.0]).data
        array([3., 5.], dtype=float32)
    """
    x = _t(a)
    axis = axis % x.ndim
    for _ in range(n):
        m = x.shape[axis]
        lead = (builtins.slice(None),) * axis
        x = subtract(prim.getitem(x, lead + (builtins.slice(1, m),)), prim.getitem(x, lead + (builtins.slice(0, m - 1),)))
    return x


def meshgrid(*x, indexing="xy") -> list:
    """Coordinate grids from 1-D tensors (``indexing`` "xy" or "ij").

    Example:
        >>> [g.shape for g in meshgrid([1, 2, 3], [4, 5])]
        [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [ravel(v) for v in x]
    k = len(ts)
    sizes = [t.shape[0] for t in ts]
    out_shape = list(sizes)
    if indexing == "xy" and k >= 2:
        out_shape[0], out_shape[1] = out_shape[1], out_shape[0]
    grids = []
    for i, t in enumerate(ts):
        pos = i
        if indexing == "xy" and k >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * k
        shape[pos] = sizes[i]
        grids.append(broadcast_to(reshape(t, shape), out_shape))
    return grids


# ---------------------------------------------------------------------------- sorting and searching
def argsort(x, axis=-1) -> Tensor:
    """Indices that sort ``x`` along ``axis`` (stable), int32.

    Example:
        >>> argsort([3.0, 1.0, 2.0]).data
        array([1, 2, 0], dtype=int32)
    """
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    return _const(array_module(x.data).argsort(x.data, axis=axis, kind="stable").astype("int32"))


def sort(x, axis=-1) -> Tensor:
    """``x`` sorted along ``axis``; the gradient follows each value to where it came from.

    Example:
        >>> sort([3.0, 1.0, 2.0]).data
        array([1., 2., 3.], dtype=float32)
    """
    x = _t(x)
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, argsort(x, axis), axis=axis)


def argpartition(x, kth, axis=-1) -> Tensor:
    """Indices that put the kth element in its sorted place, smaller ones before it (int32).

    Example:
        >>> int(take(convert_to_tensor([3, 1, 2]), argpartition([3, 1, 2], 1))[1].data)
        2
    """
    x = _t(x)
    return _const(np.argpartition(x.numpy(), kth, axis=axis).astype("int32"))


def searchsorted(sorted_sequence, values, side="left") -> Tensor:
    """Where ``values`` would be inserted into the 1-D ``sorted_sequence`` to keep it sorted (int32).

    Example:
        >>> searchsorted([1, 3, 5], [2, 5]).data
        array([1, 2], dtype=int32)
    """
    s, v = _t(sorted_sequence), _t(values)
    if s.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got rank {s.ndim}")
    return _const(np.searchsorted(s.numpy(), v.numpy(), side=side).astype("int32"))


def digitize(x, bins) -> Tensor:
    """The index of the bin each value falls in (int32).

    Example:
        >>> digitize([0.5, 1.5, 2.5], [1.0, 2.0]).data
        array([0, 1, 2], dtype=int32)
    """
    return _const(np.digitize(_t(x).numpy(), _t(bins).numpy()).astype("int32"))


def bincount(x, weights=None, minlength=0, sparse=False) -> Tensor:
    """Counts (or summed weights) of each non-negative integer in the 1-D ``x``.

    Example:
        >>> bincount([0, 1, 1, 3]).data
        array([1, 2, 0, 1], dtype=int32)
    """
    if sparse:
        raise ValueError("bincount: sparse=True is not supported (myelin has no sparse tensors)")
    xs = _t(x).numpy()
    if xs.ndim != 1:
        raise ValueError(f"bincount: x must be 1-D, got rank {xs.ndim}")
    if weights is None:
        return _const(np.bincount(xs, minlength=minlength).astype("int32"))
    w = _t(weights)
    n = builtins.max(int(xs.max()) + 1 if xs.size else 0, minlength)
    from .core import scatter  # noqa: PLC0415

    return scatter(xs.reshape(-1, 1), w, (n,))


def unique(
    x,
    sorted=True,  # noqa: A002  (Keras's name)
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    """The distinct values of ``x`` (sorted), optionally with inverse indices and counts; no gradient.

    ``size`` pads (with ``fill_value``, default the smallest value) or truncates to a fixed length.

    Example:
        >>> unique([3, 1, 3, 2]).data
        array([1, 2, 3], dtype=int32)
    """
    if not sorted:
        raise ValueError("unique: only sorted=True is supported")
    data = _t(x).numpy()
    out = np.unique(data, return_index=return_index, return_inverse=return_inverse, return_counts=return_counts, axis=axis)
    parts = list(out) if isinstance(out, tuple) else [out]
    if size is not None:
        values = parts[0]
        fill = values.min() if fill_value is None and values.size else (fill_value or 0)
        padded = np.full((size,) + values.shape[1:], fill, dtype=values.dtype)
        padded[: builtins.min(size, len(values))] = values[:size]
        parts[0] = padded
        if return_counts:
            counts = np.zeros(size, dtype=parts[-1].dtype)
            counts[: builtins.min(size, len(parts[-1]))] = parts[-1][:size]
            parts[-1] = counts
    parts = [_const(p.astype("int32") if i and p.dtype.kind in "iu" else p) for i, p in enumerate(parts)]
    return parts[0] if len(parts) == 1 else tuple(parts)


def _sorted_quantile(x: Tensor, q, axis, method: str, keepdims: bool) -> Tensor:
    x = _float(x)
    qs = _t(q).numpy().astype("float64")
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"quantile: q must be in [0, 1], got {qs}")
    if axis is None:
        flat, ax = ravel(x), 0
    else:
        axes = _axis_tuple(axis, x.ndim)
        rest = [i for i in range(x.ndim) if i not in axes]
        flat = reshape(transpose(x, rest + list(axes)), [x.shape[i] for i in rest] + [-1])
        ax = flat.ndim - 1
    s = sort(flat, axis=ax)
    n = s.shape[ax]
    pos = qs.reshape(-1) * (n - 1)
    lo, hi = np.floor(pos).astype(int), np.ceil(pos).astype(int)
    if method == "linear":
        frac = (pos - lo).astype(x.data.dtype)
        shape = [1] * s.ndim
        shape[ax] = len(pos)
        w = _const(array_module(x.data).asarray(frac.reshape(shape)))
        out = add(take(s, lo, axis=ax), multiply(subtract(take(s, hi, axis=ax), take(s, lo, axis=ax)), w))
    elif method == "lower":
        out = take(s, lo, axis=ax)
    elif method == "higher":
        out = take(s, hi, axis=ax)
    elif method == "midpoint":
        out = multiply(add(take(s, lo, axis=ax), take(s, hi, axis=ax)), 0.5)
    elif method == "nearest":
        out = take(s, np.round(pos).astype(int), axis=ax)
    else:
        raise ValueError(f"quantile: method must be linear, lower, higher, midpoint or nearest, got {method!r}")
    out = moveaxis(out, ax, 0)  # q first, as NumPy
    if keepdims:
        keep = [1 if (axis is None or i in _axis_tuple(axis, x.ndim)) else n_ for i, n_ in enumerate(x.shape)]
        out = reshape(out, (len(pos),) + tuple(keep))
    if np.ndim(qs) == 0:
        out = reshape(out, out.shape[1:])
    return out


def quantile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """The q-th quantiles (q in [0, 1]) along ``axis``, NumPy's methods; q's axis comes first.

    Example:
        >>> float(quantile([1.0, 2.0, 3.0, 4.0], 0.5).data)
        2.5
    """
    return _sorted_quantile(_t(x), q, axis, method, keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """``quantile`` with q in percent.

    Example:
        >>> float(percentile([1.0, 2.0, 3.0], 50).data)
        2.0
    """
    qs = _t(q).numpy().astype("float64") / 100
    return _sorted_quantile(_t(x), qs, axis, method, keepdims)


def median(x, axis=None, keepdims=False) -> Tensor:
    """The median along ``axis``.

    Example:
        >>> float(median([3.0, 1.0, 2.0]).data)
        2.0
    """
    return _sorted_quantile(_t(x), 0.5, axis, "linear", keepdims)


def histogram(x, bins=10, range=None) -> tuple:  # noqa: A002
    """Counts of the 1-D ``x`` in ``bins`` equal bins over ``range`` (default: min to max), and the edges.

    Example:
        >>> counts, edges = histogram([0.0, 1.0, 1.0, 2.0], bins=2)
        >>> counts.data, edges.data
        (array([1, 3], dtype=int32), array([0., 1., 2.], dtype=float32))
    """
    data = _float(x).numpy()
    counts, edges = np.histogram(data, bins=bins, range=range)
    return _const(counts.astype("int32")), _const(edges.astype(data.dtype))


# ---------------------------------------------------------------------------- products
def matmul(x1, x2) -> Tensor:
    """Matrix product with NumPy's rules for 1-D and batched operands.

    Example:
        >>> matmul([[1.0, 2.0]], [[3.0], [4.0]]).data
        array([[11.]], dtype=float32)
    """
    a, b = _pair(x1, x2)
    if a.data.dtype.kind == "b":
        a, b = cast(a, "int32"), cast(b, "int32")
    return prim.MatMul.apply(a, b)


def dot(x1, x2) -> Tensor:
    """NumPy's dot: a product for scalars, matmul for matrices, a sum over x1's last and x2's second-last axis.

    Example:
        >>> float(dot([1.0, 2.0], [3.0, 4.0]).data)
        11.0
    """
    a, b = _pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def vdot(x1, x2) -> Tensor:
    """The dot product of the flattened inputs.

    Example:
        >>> float(vdot([[1.0, 2.0]], [[3.0, 4.0]]).data)
        11.0
    """
    return matmul(ravel(x1), ravel(x2))


def inner(x1, x2) -> Tensor:
    """Sum over the last axes of both inputs.

    Example:
        >>> float(inner([1.0, 2.0], [3.0, 4.0]).data)
        11.0
    """
    a, b = _pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(x1, x2) -> Tensor:
    """The outer product of the flattened inputs.

    Example:
        >>> outer([1.0, 2.0], [3.0, 4.0]).data
        array([[3., 4.],
               [6., 8.]], dtype=float32)
    """
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def tensordot(x1, x2, axes=2) -> Tensor:
    """Sum of products over the given axes (an int: the last ``axes`` of x1 with the first of x2).

    Example:
        >>> tensordot(ones((2, 3, 4)), ones((3, 4, 5)), axes=2).shape
        (2, 5)
    """
    a, b = _pair(x1, x2)
    if isinstance(axes, numbers.Integral):
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, numbers.Integral) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, numbers.Integral) else list(ax_b)
    ax_a = [x % a.ndim for x in ax_a]
    ax_b = [x % b.ndim for x in ax_b]
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    k = math.prod(a.shape[i] for i in ax_a)
    a2 = reshape(transpose(a, free_a + ax_a), (-1, k))
    b2 = reshape(transpose(b, ax_b + free_b), (k, -1))
    return reshape(matmul(a2, b2), [a.shape[i] for i in free_a] + [b.shape[i] for i in free_b])


class _Einsum(Function):
    """einsum of any number of operands; each gradient is itself an einsum."""

    def forward(self, *arrays, spec):
        self.arrays, self.spec = arrays, spec
        return array_module(*arrays).einsum(spec, *arrays)

    def backward(self, g):
        xp = array_module(g)
        ins, out = self.spec.split("->")
        subs = ins.split(",")
        grads = []
        for i, (s, need) in enumerate(zip(subs, self.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            others = [subs[j] for j in range(len(subs)) if j != i]
            available = set(out) | set("".join(others))
            target = "".join(c for c in dict.fromkeys(s) if c in available)
            spec = ",".join([out] + others) + "->" + target
            gi = xp.einsum(spec, g, *[self.arrays[j] for j in range(len(subs)) if j != i])
            # letters only in this operand were summed away: broadcast back; repeated letters are diagonals
            shape = self.arrays[i].shape
            sizes = dict(zip(s, shape))
            full_letters = "".join(dict.fromkeys(s))
            expand = [sizes[c] if c in target else 1 for c in full_letters]
            gi = xp.broadcast_to(
                gi.reshape([sizes[c] if c in target else 1 for c in full_letters]), [sizes[c] for c in full_letters]
            )
            del expand
            if len(full_letters) != len(s):  # a diagonal: put the values on it
                res = xp.zeros(shape, dtype=g.dtype)
                xp.einsum(f"{s}->{full_letters}", res)[...] = gi
                gi = res
            else:
                gi = xp.transpose(gi, [full_letters.index(c) for c in s])
            grads.append(xp.ascontiguousarray(gi))
        return tuple(grads)


def _explicit_spec(subscripts: str, shapes) -> str:
    """The einsum spec with '...' replaced by letters and the output written out."""
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    parts = ins.split(",")
    used = set(spec) - set(".,->")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
    longest = 0
    for p, shp in zip(parts, shapes):
        if "..." in p:
            longest = builtins.max(longest, len(shp) - (len(p) - 3))
    ell = "".join(spare[:longest])
    new_parts = []
    for p, shp in zip(parts, shapes):
        if "..." in p:
            k = len(shp) - (len(p) - 3)
            p = p.replace("...", ell[longest - k :])
        new_parts.append(p)
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(new_parts)
        out = ell + "".join(sorted(c for c in set(letters) - set(ell) if letters.count(c) == 1))
    return ",".join(new_parts) + "->" + out


def einsum(subscripts, *operands) -> Tensor:
    """Einstein summation, differentiable in every operand (ellipses and diagonals included).

    Example:
        >>> einsum("ij,jk->ik", ones((2, 3)), ones((3, 4))).shape
        (2, 4)
        >>> float(einsum("ii", eye(3)).data)
        3.0
    """
    ts = [_t(o) for o in operands]
    dt = ts[0].data.dtype
    for t in ts[1:]:
        dt = _result_dtype(dt, t.data.dtype)
    ts = [cast(t, dt) for t in ts]
    spec = _explicit_spec(subscripts, [t.shape for t in ts])
    if not _is_float(dt):
        return _const(array_module(ts[0].data).einsum(spec, *[t.data for t in ts]))
    return _Einsum.apply(*ts, spec=spec)


def cdist(x, y) -> Tensor:
    """Pairwise Euclidean distances between the rows of x (..., m, d) and y (..., n, d).

    Example:
        >>> cdist([[0.0, 0.0]], [[3.0, 4.0], [0.0, 1.0]]).data
        array([[5., 1.]], dtype=float32)
    """
    from .linalg import norm  # noqa: PLC0415

    a, b = _pair(_float(x), _float(y))
    diff_ = subtract(expand_dims(a, -2), expand_dims(b, -3))
    return norm(diff_, axis=-1)


def kron(x1, x2) -> Tensor:
    """The Kronecker product.

    Example:
        >>> kron([1.0, 2.0], [1.0, 10.0]).data
        array([ 1., 10.,  2., 20.], dtype=float32)
    """
    a, b = _pair(x1, x2)
    nd = builtins.max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = reshape(b, (1,) * (nd - b.ndim) + b.shape)
    sa = [s for n in a.shape for s in (n, 1)]
    sb = [s for n in b.shape for s in (1, n)]
    return reshape(multiply(reshape(a, sa), reshape(b, sb)), [m * n for m, n in zip(a.shape, b.shape)])


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None) -> Tensor:
    """The cross product of 3-vectors (or 2-vectors) along the given axes.

    Example:
        >>> cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]).data
        array([0., 0., 1.], dtype=float32)
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _pair(x1, x2)
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"cross: the vector axes must have size 2 or 3, got {a.shape[-1]} and {b.shape[-1]}")

    def comp(t, i):
        return take(t, i, axis=-1) if i < t.shape[-1] else zeros_like(take(t, 0, axis=-1))

    a0, a1, a2 = (comp(a, i) for i in range(3))
    b0, b1, b2 = (comp(b, i) for i in range(3))
    z = subtract(multiply(a0, b1), multiply(a1, b0))
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return z
    c = stack([subtract(multiply(a1, b2), multiply(a2, b1)), subtract(multiply(a2, b0), multiply(a0, b2)), z], axis=-1)
    return moveaxis(c, -1, axisc)


def vander(x, N=None, increasing=False) -> Tensor:
    """The Vandermonde matrix of the 1-D ``x``.

    Example:
        >>> vander([2.0, 3.0], 3).data
        array([[4., 2., 1.],
               [9., 3., 1.]], dtype=float32)
    """
    x = _t(x)
    n = x.shape[0] if N is None else int(N)
    powers = range(n) if increasing else range(n - 1, -1, -1)
    return stack([power(x, p) if p else ones_like(x) for p in powers], axis=1)


def correlate(x1, x2, mode="valid") -> Tensor:
    """Cross-correlation of two 1-D sequences (modes valid, same, full).

    Example:
        >>> correlate([1.0, 2.0, 3.0], [0.0, 1.0]).data
        array([2., 3.], dtype=float32)
    """
    a, b = _pair(x1, x2)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError("correlate: both inputs must be 1-D")
    m = b.shape[0]
    if mode == "full":
        a = pad(a, (m - 1, m - 1))
    elif mode == "same":
        a = pad(a, ((m - 1) // 2, m - 1 - (m - 1) // 2))
    elif mode != "valid":
        raise ValueError(f"correlate: mode must be valid, same or full, got {mode!r}")
    if a.shape[0] < m:
        a, b = b, a
    length = a.shape[0] - b.shape[0] + 1
    windows = prim.getitem(a, np.arange(length)[:, None] + np.arange(b.shape[0])[None, :])
    return matmul(windows, b)


def corrcoef(x) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x``.

    Example:
        >>> corrcoef([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]).data.round(5)
        array([[1., 1.],
               [1., 1.]], dtype=float32)
    """
    x = _float(x)
    if x.ndim == 1:
        x = reshape(x, (1, -1))
    c = subtract(x, mean(x, axis=1, keepdims=True))
    cov = matmul(c, transpose(c))
    d = sqrt(diagonal(cov))
    return clip(divide(cov, outer(d, d)), -1.0, 1.0)


def trapezoid(y, x=None, dx=1.0, axis=-1) -> Tensor:
    """The trapezoidal-rule integral of ``y`` along ``axis``.

    Example:
        >>> float(trapezoid([1.0, 2.0, 3.0]).data)
        4.0
    """
    y = _float(y)
    axis = axis % y.ndim
    n = y.shape[axis]
    lead = (builtins.slice(None),) * axis
    mids = multiply(
        add(prim.getitem(y, lead + (builtins.slice(1, n),)), prim.getitem(y, lead + (builtins.slice(0, n - 1),))), 0.5
    )
    if x is None:
        return multiply(sum(mids, axis=axis), dx)
    d = diff(_float(x), axis=-1 if _t(x).ndim == 1 else axis)
    if d.ndim == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[axis] = d.shape[0]
        d = reshape(d, shape)
    return sum(multiply(mids, d), axis=axis)


def ldexp(x1, x2) -> Tensor:
    """x1 * 2 ** x2 (x2 integer).

    Example:
        >>> float(ldexp(3.0, 2).data)
        12.0
    """
    x = _float(x1)
    e = _t(x2)
    if e.data.dtype.kind not in "iu":
        raise TypeError(f"ldexp: x2 must be integers, got dtype {e.data.dtype}")
    return multiply(x, _const(array_module(x.data).exp2(e.data).astype(x.data.dtype)))


def i0(x) -> Tensor:
    """The modified Bessel function of the first kind, order 0 (no gradient in myelin).

    Example:
        >>> float(i0(0.0).data)
        1.0
    """
    x = _float(x)
    # in float64, then rounded: NumPy's float32 series is off by an ulp (i0(0) = 0.99999994)
    return _const(np.i0(x.numpy().astype(np.float64)).astype(x.data.dtype))


def _window(name: str, doc: str):
    def op(x) -> Tensor:
        return _const(getattr(np, name)(int(convert_to_tensor(x).numpy())).astype(backend.floatx()))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


bartlett = _window(
    "bartlett",
    _doc(
        "The Bartlett window of x points.",
        "bartlett(3).data",
        "array([0., 1., 0.], dtype=float32)",
    ),
)
blackman = _window(
    "blackman",
    _doc(
        "The Blackman window of x points.",
        "blackman(3).data.round(4)",
        "array([-0.,  1., -0.], dtype=float32)",
    ),
)
hamming = _window(
    "hamming",
    _doc(
        "The Hamming window of x points.",
        "hamming(3).data",
        "array([0.08, 1.  , 0.08], dtype=float32)",
    ),
)
hanning = _window(
    "hanning",
    _doc(
        "The Hann window of x points.",
        "hanning(3).data",
        "array([0., 1., 0.], dtype=float32)",
    ),
)


def kaiser(x, beta) -> Tensor:
    """The Kaiser window of x points with shape ``beta``.

    Example:
        >>> kaiser(3, 0.0).data
        array([1., 1., 1.], dtype=float32)
    """
    return _const(np.kaiser(int(convert_to_tensor(x).numpy()), beta).astype(backend.floatx()))


def _nan_reduce(fn, fill):
    def op(x, axis=None, keepdims=False) -> Tensor:
        x = _float(x)
        nan = array_module(x.data).isnan(x.data)
        return fn(where(nan, fill(x), x), axis=axis, keepdims=keepdims)

    return op


def nansum(x, axis=None, keepdims=False) -> Tensor:
    """``sum`` ignoring NaN.

    Example:
        >>> float(nansum([1.0, np.nan, 2.0]).data)
        3.0
    """
    return _nan_reduce(sum, lambda t: 0.0)(x, axis, keepdims)


def nanprod(x, axis=None, keepdims=False) -> Tensor:
    """``prod`` ignoring NaN.

    Example:
        >>> float(nanprod([2.0, np.nan, 3.0]).data)
        6.0
    """
    return _nan_reduce(prod, lambda t: 1.0)(x, axis, keepdims)


def nanmax(x, axis=None, keepdims=False) -> Tensor:
    """``max`` ignoring NaN (NaN where a slice is all NaN).

    Example:
        >>> float(nanmax([1.0, np.nan, 2.0]).data)
        2.0
    """
    x = _float(x)
    out = _nan_reduce(max, lambda t: -np.inf)(x, axis, keepdims)
    return where(all(isnan(x), axis=axis, keepdims=keepdims), np.nan, out)


def nanmin(x, axis=None, keepdims=False) -> Tensor:
    """``min`` ignoring NaN.

    Example:
        >>> float(nanmin([1.0, np.nan, 2.0]).data)
        1.0
    """
    x = _float(x)
    out = _nan_reduce(min, lambda t: np.inf)(x, axis, keepdims)
    return where(all(isnan(x), axis=axis, keepdims=keepdims), np.nan, out)


def nanmean(x, axis=None, keepdims=False) -> Tensor:
    """``mean`` ignoring NaN.

    Example:
        >>> float(nanmean([1.0, np.nan, 3.0]).data)
        2.0
    """
    x = _float(x)
    n = sum(cast(logical_not(isnan(x)), x.dtype), axis=axis, keepdims=keepdims)
    return divide(nansum(x, axis, keepdims), n)


def nanvar(x, axis=None, keepdims=False) -> Tensor:
    """``var`` ignoring NaN.

    Example:
        >>> float(nanvar([1.0, np.nan, 3.0]).data)
        1.0
    """
    x = _float(x)
    m = nanmean(x, axis=axis, keepdims=True)
    return nanmean(square(subtract(x, m)), axis=axis, keepdims=keepdims)


def nanstd(x, axis=None, keepdims=False) -> Tensor:
    """``std`` ignoring NaN.

    Example:
        >>> float(nanstd([1.0, np.nan, 3.0]).data)
        1.0
    """
    return sqrt(nanvar(x, axis, keepdims))


def nanargmax(x, axis=None, keepdims=False) -> Tensor:
    """``argmax`` ignoring NaN.

    Example:
        >>> int(nanargmax([1.0, np.nan, 2.0]).data)
        2
    """
    return _const(np.nanargmax(_t(x).numpy(), axis=axis, keepdims=keepdims).astype("int32"))


def nanargmin(x, axis=None, keepdims=False) -> Tensor:
    """``argmin`` ignoring NaN.

    Example:
        >>> int(nanargmin([1.0, np.nan, 0.5]).data)
        2
    """
    return _const(np.nanargmin(_t(x).numpy(), axis=axis, keepdims=keepdims).astype("int32"))


def nancumsum(x, axis=None, dtype=None) -> Tensor:
    """``cumsum`` with NaN counted as 0.

    Example:
        >>> nancumsum([1.0, np.nan, 2.0]).data
        array([1., 1., 3.], dtype=float32)
    """
    x = _float(x)
    return cumsum(where(isnan(x), 0.0, x), axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None) -> Tensor:
    """``cumprod`` with NaN counted as 1.

    Example:
        >>> nancumprod([2.0, np.nan, 2.0]).data
        array([2., 2., 4.], dtype=float32)
    """
    x = _float(x)
    return cumprod(where(isnan(x), 1.0, x), axis=axis, dtype=dtype)


def nanquantile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """``quantile`` ignoring NaN (1-D or ``axis=None`` only).

    Example:
        >>> float(nanquantile([1.0, np.nan, 3.0], 0.5).data)
        2.0
    """
    x = ravel(_float(x)) if axis is None else _float(x)
    if x.ndim != 1:
        raise ValueError("nanquantile: myelin supports axis=None or 1-D input")
    keep = np.nonzero(~np.isnan(x.numpy()))[0]
    return quantile(take(x, keep), q, method=method, keepdims=keepdims)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False) -> Tensor:
    """``percentile`` ignoring NaN (1-D or ``axis=None`` only).

    Example:
        >>> float(nanpercentile([1.0, np.nan, 3.0], 50).data)
        2.0
    """
    return nanquantile(x, _t(q).numpy().astype("float64") / 100, axis=axis, method=method, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False) -> Tensor:
    """``median`` ignoring NaN (1-D or ``axis=None`` only).

    Example:
        >>> float(nanmedian([1.0, np.nan, 3.0]).data)
        2.0
    """
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def unravel_index(indices, shape) -> tuple:
    """Flat indices as a tuple of coordinate tensors (int32).

    Example:
        >>> [t.data.tolist() for t in unravel_index([5], (2, 3))]
        [[1], [2]]
    """
    return tuple(_const(c.astype("int32")) for c in np.unravel_index(_t(indices).numpy(), _shape_of(shape)))


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` applied to each element (NumPy's ``vectorize``, results as tensors; no gradient).

    Example:
        >>> vectorize(lambda a: a * 2)([1.0, 2.0]).data
        array([2., 4.], dtype=float32)
    """
    fn = np.vectorize(pyfunc, excluded=excluded, signature=signature)

    def wrapped(*args, **kwargs):
        out = fn(*[convert_to_tensor(a).numpy() if not _is_scalar(a) else a for a in args], **kwargs)
        if isinstance(out, tuple):
            return tuple(convert_to_tensor(o) for o in out)
        return convert_to_tensor(out)

    return wrapped


def view(x, dtype=None) -> Tensor:
    """The same bytes read as ``dtype`` (no gradient).

    Example:
        >>> view(convert_to_tensor(np.array([1.0], np.float32)), "int32").data
        array([1065353216], dtype=int32)
    """
    x = _t(x)
    return x if dtype is None else _const(x.data.view(_standard_dtype(dtype)))


__all__ = [
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and callable(value)
    and getattr(value, "__module__", None) == __name__
    and name not in ("stop_mean", "shape_of")
]
