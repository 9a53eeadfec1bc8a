"""ops.linalg against NumPy and central differences."""

import numpy as np
import pytest

from myelin import Tensor, ops

from .checks import assert_grads

RNG = np.random.default_rng(2)
A = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
SPD = A @ A.T + np.eye(3)
B = RNG.normal(size=(3, 2))


def test_forward_against_numpy():
    np.testing.assert_allclose(ops.linalg.inv(A).data, np.linalg.inv(A), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.solve(A, B).data, np.linalg.solve(A, B), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.solve(A, B[:, 0]).data, np.linalg.solve(A, B[:, 0]), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.det(A).data, np.linalg.det(A), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.cholesky(SPD).data, np.linalg.cholesky(SPD), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.cholesky(SPD, upper=True).data, np.linalg.cholesky(SPD).T, rtol=1e-12)
    q, r = ops.linalg.qr(B)
    nq, nr = np.linalg.qr(B)
    np.testing.assert_allclose(q.data, nq, atol=1e-12)
    np.testing.assert_allclose(r.data, nr, atol=1e-12)
    sign, logabs = ops.slogdet(-A)
    ns, nl = np.linalg.slogdet(-A)
    assert float(sign.data) == ns
    np.testing.assert_allclose(logabs.data, nl, rtol=1e-12)
    batch = np.stack([A, 2 * A])
    np.testing.assert_allclose(ops.inv(batch).data, np.linalg.inv(batch), rtol=1e-12)


@pytest.mark.parametrize(
    "ord_, axis",
    [
        (None, None),
        (None, -1),
        (1, 0),
        (np.inf, 1),
        (-np.inf, 1),
        (3, -1),
        (0, -1),
        ("fro", None),
        (1, None),
        (np.inf, None),
        (-1, None),
        (2, None),
    ],
)
def test_norms_against_numpy(ord_, axis):
    x = RNG.normal(size=(3, 4))
    expected = np.linalg.norm(x, ord=ord_, axis=axis)
    np.testing.assert_allclose(ops.linalg.norm(x, ord=ord_, axis=axis).data, expected, rtol=1e-12)
    keep = ops.linalg.norm(x, ord=ord_, axis=axis, keepdims=True)
    np.testing.assert_allclose(keep.data, np.linalg.norm(x, ord=ord_, axis=axis, keepdims=True), rtol=1e-12)
    if ord_ not in (0, 2):
        assert_grads(lambda t: ops.linalg.norm(t, ord=ord_, axis=axis), x, tol=1e-5)


def test_norm_gradient_at_zero_is_zero():
    x = Tensor(np.zeros(3), requires_grad=True)
    ops.linalg.norm(x).backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_gradients():
    assert_grads(ops.linalg.inv, A)
    assert_grads(ops.linalg.solve, A, B)
    assert_grads(lambda a, b: ops.linalg.solve(a, b), A, B[:, 0])
    assert_grads(ops.linalg.det, A)
    assert_grads(lambda a: ops.slogdet(a)[1], A)
    sym = lambda m: ops.multiply(ops.add(m, ops.transpose(m)), 0.5)
    assert_grads(lambda m: ops.linalg.cholesky(sym(m)), SPD, tol=1e-5)
    assert_grads(lambda m: ops.linalg.qr(m)[0], B, tol=1e-5)
    assert_grads(lambda m: ops.linalg.qr(m)[1], B, tol=1e-5)


def test_refusals():
    with pytest.raises(ValueError, match="square"):
        ops.linalg.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive definite"):
        ops.linalg.cholesky(-np.eye(2))
    with pytest.raises(ValueError, match="no gradient"):
        ops.linalg.svd(Tensor(np.eye(2), requires_grad=True))
    with pytest.raises(ValueError, match="reduced"):
        ops.linalg.qr(Tensor(np.ones((2, 3)), requires_grad=True))
