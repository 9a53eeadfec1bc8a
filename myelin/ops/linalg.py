"""Keras 3's ``keras.ops.linalg``: norms, inverse, solve, determinant, Cholesky, QR, and more.

``inv``, ``solve``, ``det``/``slogdet``, ``cholesky`` and ``qr`` are primitives with their
own backward (the textbook matrix-calculus formulas); ``norm`` and the rest are written
from them. ``eig``, ``eigh``, ``svd``, ``lu_factor`` and ``matrix_rank`` return values
without a gradient (they refuse an input that requires one, rather than return a silent
constant).

Example:
    >>> from myelin import ops
    >>> float(ops.linalg.norm([3.0, 4.0]).data)
    5.0
    >>> ops.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [4.0]]).data
    array([[1.],
           [1.]], dtype=float32)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..backend import array_module
from ..tensor import Function, Tensor
from . import numpy as knp

_f = knp._float


def _square(name: str, x: Tensor) -> Tensor:
    x = _f(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {x.shape}")
    return x


def _mT(a):
    return array_module(a).swapaxes(a, -1, -2)


class _Inv(Function):
    def forward(self, a):
        self.out = array_module(a).linalg.inv(a)
        return self.out

    def backward(self, g):
        t = _mT(self.out)
        return (-(t @ g @ t),)


def inv(x) -> Tensor:
    """The inverse of square matrices (batched).

    Example:
        >>> inv([[2.0, 0.0], [0.0, 4.0]]).data
        array([[0.5 , 0.  ],
               [0.  , 0.25]], dtype=float32)
    """
    return _Inv.apply(_square("inv", x))


class _Solve(Function):
    def forward(self, a, b, vector):
        xp = array_module(a)
        self.a, self.vector = a, vector
        b2 = b[..., None] if vector else b
        self.x = xp.linalg.solve(a, b2)
        return self.x[..., 0] if vector else self.x

    def backward(self, g):
        xp = array_module(g)
        g2 = g[..., None] if self.vector else g
        gb = xp.linalg.solve(_mT(self.a), g2)
        na, nb = self.needs_input_grad
        ga = -(gb @ _mT(self.x)) if na else None
        return ga, ((gb[..., 0] if self.vector else gb) if nb else None)


def solve(a, b) -> Tensor:
    """The solution x of a @ x = b (b a matrix (..., n, k) or a vector (n,)).

    Example:
        >>> solve([[2.0, 0.0], [0.0, 4.0]], [2.0, 4.0]).data
        array([1., 1.], dtype=float32)
    """
    a, b = knp._pair(_square("solve", a), _f(b))
    return _Solve.apply(a, b, vector=b.ndim == 1)


def solve_triangular(a, b, lower=False) -> Tensor:
    """The solution of a triangular system (the triangle not named by ``lower`` is ignored).

    Example:
        >>> solve_triangular([[2.0, 0.0], [1.0, 1.0]], [2.0, 2.0], lower=True).data
        array([1., 1.], dtype=float32)
    """
    a = _square("solve_triangular", a)
    tri = knp.tril(a) if lower else knp.triu(a)
    return solve(tri, b)


class _Det(Function):
    def forward(self, a):
        xp = array_module(a)
        self.a = a
        self.out = xp.linalg.det(a)
        return self.out

    def backward(self, g):
        xp = array_module(g)
        return ((g * self.out)[..., None, None] * _mT(xp.linalg.inv(self.a)),)


def det(x) -> Tensor:
    """The determinant of square matrices.

    Example:
        >>> det([[2.0, 1.0], [1.0, 2.0]]).data.round(5)
        np.float32(3.0)
    """
    return _Det.apply(_square("det", x))


class _LogAbsDet(Function):
    def forward(self, a):
        xp = array_module(a)
        self.a = a
        self.sign, out = xp.linalg.slogdet(a)
        return out

    def backward(self, g):
        return (g[..., None, None] * _mT(array_module(g).linalg.inv(self.a)),)


def slogdet(x) -> tuple:
    """(sign, log|det|) of square matrices; the log is differentiable.

    Example:
        >>> sign, logabs = slogdet([[-2.0, 0.0], [0.0, 1.0]])
        >>> float(sign.data), round(float(logabs.data), 6)
        (-1.0, 0.693147)
    """
    x = _square("slogdet", x)
    out = _LogAbsDet.apply(x)
    return Tensor._wrap(out._ctx.sign if out._ctx is not None else array_module(x.data).linalg.slogdet(x.data)[0], False), out


def logdet(x) -> Tensor:
    """log(det(x)) for positive-definite (or positive-determinant) matrices; NaN where the determinant is negative.

    Example:
        >>> round(float(logdet([[2.0, 0.0], [0.0, 2.0]]).data), 6)
        1.386294
    """
    sign, logabs = slogdet(x)
    return knp.where(knp.greater(sign, 0), logabs, math.nan)


class _Cholesky(Function):
    def forward(self, a):
        xp = array_module(a)
        self.L = xp.linalg.cholesky(a)
        return self.L

    def backward(self, g):
        xp = array_module(g)
        L = self.L
        phi = _mT(L) @ g
        phi = xp.tril(phi) - 0.5 * xp.tril(xp.triu(phi))  # lower triangle, diagonal halved
        linv = xp.linalg.inv(L)
        s = _mT(linv) @ phi @ linv
        return (0.5 * (s + _mT(s)),)


def cholesky(x, upper=False) -> Tensor:
    """The lower (or ``upper``) Cholesky factor of symmetric positive-definite matrices.

    Example:
        >>> cholesky([[4.0, 2.0], [2.0, 2.0]]).data
        array([[2., 0.],
               [1., 1.]], dtype=float32)
    """
    x = _square("cholesky", x)
    if not np.all(np.linalg.eigvalsh(x.numpy().astype("float64")) > 0):
        raise ValueError("cholesky: the matrix is not positive definite")
    L = _Cholesky.apply(x)
    return knp.swapaxes(L, -1, -2) if upper else L


def cholesky_inverse(x, upper=False) -> Tensor:
    """The inverse of A from its Cholesky factor (x = L, or U with ``upper``).

    Example:
        >>> cholesky_inverse([[2.0, 0.0], [1.0, 1.0]]).data
        array([[ 0.5, -0.5],
               [-0.5,  1. ]], dtype=float32)
    """
    x = _square("cholesky_inverse", x)
    a = knp.matmul(knp.swapaxes(x, -1, -2), x) if upper else knp.matmul(x, knp.swapaxes(x, -1, -2))
    return inv(a)


class _QR(Function):
    """Reduced QR of (..., m, n) with m >= n, output [Q; R] stacked on axis -2 (m + n rows)."""

    def forward(self, a):
        xp = array_module(a)
        self.q, self.r = xp.linalg.qr(a, mode="reduced")
        return xp.concatenate([self.q, self.r], axis=-2)

    def backward(self, g):
        xp = array_module(g)
        m = self.q.shape[-2]
        gq, gr = g[..., :m, :], g[..., m:, :]
        q, r = self.q, self.r
        mm = r @ _mT(gr) - _mT(gq) @ q
        copyltu = xp.tril(mm) + _mT(xp.tril(mm, -1))
        rhs = gq + q @ copyltu
        # (rhs) @ R^-T, by a solve with R^T... R is upper triangular and invertible for full rank
        return (_mT(xp.linalg.solve(r, _mT(rhs))),)


def qr(x, mode="reduced") -> tuple:
    """(Q, R) with x = Q @ R; ``mode`` "reduced" or "complete". Gradients: reduced mode with m >= n.

    Example:
        >>> q, r = qr([[3.0, 0.0], [4.0, 5.0]])
        >>> bool(np.allclose((q @ r).data, [[3.0, 0.0], [4.0, 5.0]], atol=1e-5))
        True
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    x = _f(x)
    if x.ndim < 2:
        raise ValueError(f"qr: expected matrices (..., m, n), got shape {x.shape}")
    m, n = x.shape[-2:]
    if mode == "reduced" and m >= n:
        both = _QR.apply(x)
        return both[..., :m, :], both[..., m:, :]
    if x.requires_grad:
        raise ValueError(f"qr: gradients are supported for mode='reduced' with m >= n; got mode={mode!r}, shape {x.shape}")
    q, r = array_module(x.data).linalg.qr(x.data, mode=mode)
    return Tensor._wrap(q, False), Tensor._wrap(r, False)


def _no_grad(name: str, x: Tensor) -> Tensor:
    if x.requires_grad:
        raise ValueError(f"{name}: myelin computes no gradient for this op; stop_gradient the input first")
    return x


def eigh(x) -> tuple:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices (no gradient).

    Example:
        >>> w, v = eigh([[2.0, 0.0], [0.0, 1.0]])
        >>> w.data
        array([1., 2.], dtype=float32)
    """
    x = _no_grad("eigh", _square("eigh", x))
    w, v = np.linalg.eigh(x.numpy())
    return Tensor._wrap(w, False), Tensor._wrap(v, False)


def eig(x) -> tuple:
    """Eigenvalues and eigenvectors of square matrices with real spectra (no gradient).

    Example:
        >>> w, v = eig([[2.0, 0.0], [0.0, 1.0]])
        >>> w.data
        array([2., 1.], dtype=float32)
    """
    x = _no_grad("eig", _square("eig", x))
    w, v = np.linalg.eig(x.numpy())
    if np.iscomplexobj(w) and np.any(np.imag(w) != 0):
        raise ValueError("eig: the eigenvalues are complex, and myelin's tensors are real")
    return Tensor._wrap(np.real(w).astype(x.dtype), False), Tensor._wrap(np.real(v).astype(x.dtype), False)


def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition (u, s, vh), or s alone without ``compute_uv`` (no gradient).

    Example:
        >>> svd([[3.0, 0.0], [0.0, 4.0]], compute_uv=False).data
        array([4., 3.], dtype=float32)
    """
    x = _no_grad("svd", _f(x))
    out = np.linalg.svd(x.numpy(), full_matrices=full_matrices, compute_uv=compute_uv)
    if not compute_uv:
        return Tensor._wrap(out, False)
    return tuple(Tensor._wrap(o, False) for o in out)


def matrix_rank(x, tol=None) -> Tensor:
    """The rank of matrices (int32).

    Example:
        >>> int(matrix_rank([[1.0, 2.0], [2.0, 4.0]]).data)
        1
    """
    return Tensor._wrap(np.asarray(np.linalg.matrix_rank(_f(x).numpy(), tol=tol), dtype="int32"), False)


def pinv(x, rcond=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse (differentiable for full-rank input: solve of the normal equations).

    Example:
        >>> pinv([[2.0, 0.0], [0.0, 4.0]]).data
        array([[0.5 , 0.  ],
               [0.  , 0.25]], dtype=float32)
    """
    x = _f(x)
    if not x.requires_grad:
        out = np.linalg.pinv(x.numpy()) if rcond is None else np.linalg.pinv(x.numpy(), rcond=rcond)
        return Tensor._wrap(out.astype(x.dtype), False)
    if rcond is not None:
        raise ValueError("pinv: rcond is not supported on an input that requires a gradient (full-rank path)")
    xt = knp.swapaxes(x, -1, -2)
    m, n = x.shape[-2:]
    if m >= n:
        return solve(knp.matmul(xt, x), xt)
    return knp.swapaxes(solve(knp.matmul(x, xt), x), -1, -2)


def lstsq(a, b, rcond=None) -> Tensor:
    """The least-squares solution x of a @ x = b (a of full column rank for the gradient).

    Example:
        >>> lstsq([[1.0], [1.0]], [1.0, 3.0]).data
        array([2.], dtype=float32)
    """
    a, b = knp._pair(_f(a), _f(b))
    if not (a.requires_grad or b.requires_grad):
        out = np.linalg.lstsq(a.numpy(), b.numpy(), rcond=rcond)[0]
        return Tensor._wrap(out.astype(a.dtype), False)
    at = knp.swapaxes(a, -1, -2)
    return solve(knp.matmul(at, a), knp.matmul(at, b))


def lu_factor(x) -> tuple:
    """LU factorisation with partial pivoting: (LU combined, pivots) as LAPACK's getrf (no gradient).

    Example:
        >>> lu, piv = lu_factor([[1.0, 2.0], [3.0, 4.0]])
        >>> piv.data
        array([1, 1], dtype=int32)
    """
    a = _no_grad("lu_factor", _square("lu_factor", x)).numpy().astype("float64").copy()
    if a.ndim != 2:
        raise ValueError("lu_factor: myelin supports one matrix (n, n)")
    n = a.shape[0]
    piv = np.zeros(n, dtype="int32")
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        piv[k] = p
        if p != k:
            a[[k, p]] = a[[p, k]]
        if a[k, k] != 0:
            a[k + 1 :, k] /= a[k, k]
            a[k + 1 :, k + 1 :] -= np.outer(a[k + 1 :, k], a[k, k + 1 :])
    return Tensor._wrap(a.astype(x.dtype if hasattr(x, "dtype") else "float32"), False), Tensor._wrap(piv, False)


def _vector_norm(x: Tensor, ord, axis, keepdims: bool) -> Tensor:  # noqa: A002
    if ord is None or ord == 2:
        s = knp.sum(knp.square(x), axis=axis, keepdims=keepdims)
        zero = s.data == 0
        safe = knp.where(zero, 1.0, s)
        return knp.where(zero, 0.0, knp.sqrt(safe))
    a = knp.absolute(x)
    if ord == math.inf:
        return knp.max(a, axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return knp.min(a, axis=axis, keepdims=keepdims)
    if ord == 0:
        return (
            knp.cast(knp.count_nonzero(x, axis=axis), x.dtype)
            if not keepdims
            else knp.cast(knp.sum(knp.not_equal(x, 0), axis=axis, keepdims=True), x.dtype)
        )
    if ord == 1:
        return knp.sum(a, axis=axis, keepdims=keepdims)
    if not isinstance(ord, numbers.Real) or isinstance(ord, bool):
        raise ValueError(f"norm: invalid ord {ord!r} for a vector norm")
    return knp.power(knp.sum(knp.power(a, ord), axis=axis, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x: Tensor, ord, axis, keepdims: bool) -> Tensor:  # noqa: A002
    r, c = axis
    if ord in (None, "fro"):
        return _vector_norm(x, None, axis, keepdims)
    if ord in (1, -1, math.inf, -math.inf):
        summed_axis, other = (r, c) if ord in (1, -1) else (c, r)
        sums = knp.sum(knp.absolute(x), axis=summed_axis, keepdims=True)
        red = knp.max if ord in (1, math.inf) else knp.min
        out = red(sums, axis=other, keepdims=True)
        return out if keepdims else knp.squeeze(out, (r, c))
    if ord in (2, -2, "nuc"):
        moved = knp.moveaxis(x, (r, c), (-2, -1))
        s = svd(moved, compute_uv=False)
        out = knp.max(s, -1) if ord == 2 else knp.min(s, -1) if ord == -2 else knp.sum(s, -1)
        if keepdims:
            out = knp.expand_dims(knp.expand_dims(out, r if r < c else c), r if r > c else c)
        return out
    raise ValueError(f"norm: invalid ord {ord!r} for a matrix norm")


def norm(x, ord=None, axis=None, keepdims=False) -> Tensor:  # noqa: A002
    """Vector or matrix norm, NumPy's ``ord`` values (matrix 2, -2 and "nuc" have no gradient).

    With ``axis=None`` and ``ord=None`` it is the 2-norm of the flattened tensor; its gradient
    at zero is 0 (the subgradient PyTorch and Keras use).

    Example:
        >>> float(norm([[1.0, 2.0], [3.0, 4.0]], ord=1).data)
        6.0
    """
    x = _f(x)
    if axis is None:
        if ord is None:
            out = _vector_norm(knp.reshape(x, (-1,)), None, 0, False)
            return knp.reshape(out, (1,) * x.ndim) if keepdims else out
        if x.ndim == 1:
            return _vector_norm(x, ord, 0, keepdims)
        if x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError(f"norm: give axis for a tensor of rank {x.ndim} with ord={ord!r}")
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    axes = tuple(a % x.ndim for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must name one or two axes, got {axis!r}")


__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "logdet",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
]
