"""The one gradient check every op test uses: float64 central differences of a weighted sum of the output."""

from __future__ import annotations

import numpy as np

from myelin import Tensor


def numeric_grads(fn, arrays, eps=1e-6, seed=0):
    """(analytic, numeric) gradients of sum(fn(*arrays) * w) for fixed random w, per float input."""
    arrays = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in arrays]
    leaves = [Tensor(a.copy(), requires_grad=True) if a.dtype.kind == "f" else a for a in arrays]
    out = fn(*leaves)
    w = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    loss = (out * Tensor(w)).sum()
    loss.backward()
    analytic, numeric = [], []
    for i, a in enumerate(arrays):
        if a.dtype.kind != "f":
            continue
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = [x.copy() for x in arrays], [x.copy() for x in arrays]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            fp = float((fn(*[Tensor(x) if x.dtype.kind == "f" else x for x in plus]).data * w).sum())
            fm = float((fn(*[Tensor(x) if x.dtype.kind == "f" else x for x in minus]).data * w).sum())
            num[idx] = (fp - fm) / (2 * eps)
        g = leaves[i].grad
        analytic.append(np.zeros_like(a) if g is None else np.asarray(g))
        numeric.append(num)
    return analytic, numeric


def assert_grads(fn, *arrays, tol=1e-6, eps=1e-6):
    """Central differences in float64 agree with backward() to ``tol`` (relative to the gradient's size)."""
    analytic, numeric = numeric_grads(fn, arrays, eps=eps)
    assert analytic, "no floating input to differentiate"
    for a, n in zip(analytic, numeric):
        scale = max(1.0, float(np.abs(n).max(initial=0.0)))
        # central differences: truncation eps^2 and rounding 1e-16/eps leave about 1e-8; tol keeps a margin
        np.testing.assert_allclose(a, n, atol=tol * scale, rtol=0)
