"""ops' core family: conversion, casting, slices and scatters (with gradients), control flow."""

import numpy as np
import pytest

from myelin import Tensor, ops

from .checks import assert_grads


def test_convert_to_tensor_follows_keras_defaults():
    assert ops.convert_to_tensor(1).dtype == np.int32
    assert ops.convert_to_tensor(1.5).dtype == np.float32
    assert ops.convert_to_tensor([True]).dtype == np.bool_
    assert ops.convert_to_tensor(np.zeros(2, np.int64)).dtype == np.int64
    assert ops.convert_to_tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert ops.convert_to_tensor([1, 2], dtype="float64").dtype == np.float64
    t = Tensor([1.0])
    assert ops.convert_to_tensor(t) is t
    assert ops.is_tensor(t) and not ops.is_tensor(np.ones(1))
    np.testing.assert_array_equal(ops.convert_to_numpy(t), [1.0])
    assert ops.shape(np.zeros((2, 3))) == (2, 3) and ops.dtype(np.zeros(1, np.float64)) == "float64"
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor([1.0], sparse=True)


def test_cast_is_differentiable_between_floats_and_constant_into_ints():
    x = Tensor(np.array([1.5, -2.5]), requires_grad=True)
    y = ops.cast(x, "float32")
    assert y.dtype == np.float32 and y.requires_grad
    ops.sum(y * 2.0).backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    z = ops.cast(x, "int32")
    assert z.dtype == np.int32 and not z.requires_grad
    np.testing.assert_array_equal(z.data, [1, -2])
    np.testing.assert_array_equal(ops.saturate_cast([-3.0, 1e6], "int8").data, [-3, 127])


def test_stop_gradient():
    x = Tensor(np.array([2.0]), requires_grad=True)
    ops.sum(x * ops.stop_gradient(x)).backward()
    np.testing.assert_array_equal(x.grad, [2.0])


def test_slice_and_slice_update_forward_and_gradients():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(ops.slice(x, (1, 1), (2, 2)).data, x[1:3, 1:3])
    u = np.array([[-1.0, -2.0]])
    out = ops.slice_update(x, (2, 1), u).data
    expected = x.copy()
    expected[2, 1:3] = u
    np.testing.assert_array_equal(out, expected)
    assert_grads(lambda t: ops.slice(t, (1, 0), (2, 3)), x)
    assert_grads(lambda t, v: ops.slice_update(t, (0, 2), v), x, u)


def test_scatter_and_scatter_update():
    out = ops.scatter([[0, 1], [2, 0], [0, 1]], np.array([1.0, 2.0, 3.0]), (3, 2))
    np.testing.assert_array_equal(out.data, [[0, 4], [0, 0], [2, 0]])  # repeated indices add up
    assert_grads(lambda v: ops.scatter([[0, 1], [2, 0], [0, 1]], v, (3, 2)), np.array([1.0, 2.0, 3.0]))
    x = np.zeros((2, 3))
    out = ops.scatter_update(x, [[0, 0], [1, 2]], np.array([5.0, 6.0]))
    np.testing.assert_array_equal(out.data, [[5, 0, 0], [0, 0, 6]])
    assert_grads(lambda t, v: ops.scatter_update(t, [[0, 0], [1, 2]], v), np.ones((2, 3)), np.array([5.0, 6.0]))
    rows = ops.scatter_update(np.zeros((3, 2)), [[1]], np.array([[7.0, 8.0]]))
    np.testing.assert_array_equal(rows.data, [[0, 0], [7, 8], [0, 0]])


def test_segment_sum_and_max():
    data = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(ops.segment_sum(data, [0, 0, 2]).data, [[4, 6], [0, 0], [5, 6]])
    np.testing.assert_array_equal(ops.segment_sum(data, [0, 1, 1], num_segments=2).data, [[1, 2], [8, 10]])
    np.testing.assert_array_equal(ops.segment_max(data, [1, 1, 0]).data, [[5, 6], [3, 4]])
    assert_grads(lambda d: ops.segment_sum(d, [0, 0, 1]), data)
    assert_grads(lambda d: ops.segment_max(d, [0, 0, 1]), data)


def test_control_flow():
    assert ops.cond(ops.greater(2, 1), lambda: "a", lambda: "b") == "a"
    assert ops.fori_loop(0, 5, lambda i, v: v * 2, 1) == 32
    assert ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0)) == (4, 6)
    assert ops.while_loop(lambda x: True, lambda x: x + 1, 0, maximum_iterations=3) == 3
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    out = ops.vectorized_map(lambda row: ops.sum(row * row), x)
    np.testing.assert_array_equal(out.data, [5.0, 25.0])
    ops.sum(out).backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)
    carry, ys = ops.scan(lambda c, v: (c + v, c), np.float64(0.0), np.array([1.0, 2.0, 3.0]))
    assert float(carry.data) == 6.0
    np.testing.assert_array_equal(ys.data, [0.0, 1.0, 3.0])
    np.testing.assert_array_equal(ops.associative_scan(ops.add, np.array([1.0, 2.0, 3.0]), reverse=True).data, [6.0, 5.0, 3.0])
    assert ops.switch(1, [lambda: 0, lambda: 1]) == 1
    assert [t.data.tolist() for t in ops.unstack(np.array([[1, 2], [3, 4]]), axis=1)] == [[1, 3], [2, 4]]


def test_custom_gradient():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(upstream):
            return ops.multiply(upstream, 1.0 - 1.0 / (1.0 + e))

        return ops.log(1.0 + e), grad

    x = Tensor(np.array([0.0, 100.0]), requires_grad=True)
    y = log1pexp(x)
    ops.sum(y).backward()
    np.testing.assert_allclose(x.grad, [0.5, 1.0], rtol=1e-12)


def test_scatter_update_reductions():
    x = np.array([1.0, 5.0, 2.0])
    idx = [[0], [0], [2]]
    u = np.array([3.0, 4.0, 1.0])
    np.testing.assert_array_equal(ops.scatter_update(x, idx, u, reduction="add").data, [8.0, 5.0, 3.0])
    np.testing.assert_array_equal(ops.scatter_update(x, idx, u, reduction="max").data, [4.0, 5.0, 2.0])
    np.testing.assert_array_equal(ops.scatter_update(x, idx, u, reduction="min").data, [1.0, 5.0, 1.0])
    np.testing.assert_array_equal(ops.scatter_update(x, idx, u, reduction="mul").data, [12.0, 5.0, 2.0])
    assert_grads(lambda t, v: ops.scatter_update(t, idx, v, reduction="add"), x, u)
    with pytest.raises(ValueError, match="no gradient"):
        ops.scatter_update(Tensor(x, requires_grad=True), idx, u, reduction="max")
    with pytest.raises(ValueError, match="reduction"):
        ops.scatter_update(x, idx, u, reduction="mean")
