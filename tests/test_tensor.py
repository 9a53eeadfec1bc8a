"""Tensor, Function and the backward pass."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, enable_grad, is_grad_enabled, no_grad, ops
from myelin.tensor import Function


def test_float32_by_default_and_dtype_kept_for_arrays():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(3.0).dtype == np.float32
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert Tensor(np.arange(3)).dtype == np.int64  # integer data (labels) stays integer
    assert Tensor(np.arange(3), requires_grad=True).dtype == np.float32


def test_python_scalars_do_not_promote_to_float64():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = (x * 2.5 + 1.0) / 3.0 - 0.5
    y = y**2.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_backward_values_match_hand_derivation():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = ops.sum(ops.exp(x * w))
    loss.backward()
    e = np.exp(np.array([0.5, -2.0, 6.0]))
    np.testing.assert_allclose(x.grad, e * w.data, rtol=1e-6)
    np.testing.assert_allclose(w.grad, e * x.data, rtol=1e-6)


def test_gradients_accumulate_across_uses_and_calls():
    x = Tensor([2.0], requires_grad=True)
    y = x * x + x * 3.0  # x used three times
    y.backward()
    assert x.grad.tolist() == [7.0]
    (x * 1.0).backward()
    assert x.grad.tolist() == [8.0]


def test_deep_graph_has_no_recursion_limit():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    y.backward()
    assert x.grad.tolist() == [1.0]
    assert y.data.tolist() == [20_001.0]


def test_diamond_graph_visits_each_node_once():
    x = Tensor([3.0], requires_grad=True)
    a = x * 2.0
    b = a + a  # a feeds b twice
    c = b * a
    c.backward()
    # c = 2a * a = 2 (2x)^2 = 8 x^2 -> dc/dx = 16 x
    assert x.grad.tolist() == [48.0]


def test_no_grad_records_nothing():
    w = Tensor([1.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = w * 2.0
        with enable_grad():
            z = w * 2.0
    assert is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    assert z.requires_grad and z._ctx is not None


def test_no_graph_when_nothing_requires_grad():
    a, b = Tensor([1.0]), Tensor([2.0])
    c = a * b + a
    assert not c.requires_grad and c._ctx is None


def test_no_grad_as_decorator():
    @no_grad()
    def f(t):
        return t * 2.0

    assert not f(Tensor([1.0], requires_grad=True)).requires_grad


def test_gradient_not_computed_for_inputs_that_need_none():
    calls = []

    class Spy(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, g):
            calls.append(self.needs_input_grad)
            na, nb = self.needs_input_grad
            return (g * 2 if na else None, g * 3 if nb else None)

    data = Tensor(np.ones(3))  # the data batch: no gradient wanted
    w = Tensor(np.ones(3), requires_grad=True)
    Spy.apply(data, w).sum().backward()
    assert calls == [(False, True)]
    assert data.grad is None


def test_dense_skips_input_gradient_for_the_data_batch(monkeypatch):
    x = Tensor(np.random.rand(8, 5).astype(np.float32))
    k = Tensor(np.random.rand(5, 3).astype(np.float32), requires_grad=True)
    out = ops.dense(x, k, activation="relu")
    fn = out._ctx
    assert fn.needs_input_grad == (False, True)
    gx, gk = fn.backward(np.ones((8, 3), np.float32))
    assert gx is None and gk.shape == (5, 3)


def test_backward_needs_scalar_or_explicit_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad must be given"):
        (x * 2.0).backward()
    (x * 2.0).backward(np.ones(2))
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="grad has shape"):
        (x * 2.0).backward(np.ones(3))


def test_backward_on_constant_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        Tensor([1.0]).sum().backward()


def test_numpy_interop():
    t = Tensor([1.0, 2.0])
    assert np.asarray(t).tolist() == [1.0, 2.0]
    r = np.float32(2.0) * t  # numpy defers to Tensor.__rmul__
    assert isinstance(r, Tensor)
    assert (t > 1.5).tolist() == [False, True]
    assert t.detach().requires_grad is False
    assert Tensor([5.0]).item() == 5.0
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))


def test_array_protocol_honours_numpy_copy_semantics():
    t = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    copied = np.array(t, copy=True)
    copied[0] = 9.0
    assert t.data.tolist() == [1.0, 2.0]  # the copy is a copy
    shared = np.asarray(t)  # copy=None: no copy needed, none made
    assert np.shares_memory(shared, t.data)
    assert np.shares_memory(np.array(t, copy=False), t.data)
    as64 = np.asarray(t, dtype=np.float64)  # a copy is needed for the dtype: made
    assert as64.dtype == np.float64 and not np.shares_memory(as64, t.data)
    with pytest.raises(ValueError, match="copy=False"):
        np.array(t, dtype=np.float64, copy=False)
    assert not np.shares_memory(np.array(t, dtype=np.float32, copy=True), t.data)


def test_methods_and_properties():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.T.shape == (3, 2)
    assert t.reshape(3, 2).shape == (3, 2) and t.reshape((6,)).shape == (6,)
    assert t.transpose(1, 0).shape == (3, 2)
    np.testing.assert_allclose(t.sum(axis=0).data, [3.0, 5.0, 7.0], rtol=1e-12)
    np.testing.assert_allclose(t.mean(axis=1).data, [1.0, 4.0], rtol=1e-12)
    np.testing.assert_allclose(t.max().data, 5.0, rtol=1e-12)
    np.testing.assert_allclose(t.min(axis=1).data, [0.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(t.clip(1.0, 4.0).data, np.clip(t.data, 1, 4), rtol=1e-12)
    signed = Tensor(np.array([[-4.0, -0.25, 0.0], [0.5, 2.25, -9.0]]))
    np.testing.assert_array_equal(signed.abs().sqrt().data, [[2.0, 0.5, 0.0], [np.sqrt(0.5), 1.5, 3.0]])
    np.testing.assert_array_equal(signed.relu().data, [[0.0, 0.0, 0.0], [0.5, 2.25, 0.0]])
    np.testing.assert_allclose((2.0**t).data, 2.0**t.data, rtol=1e-12)
    np.testing.assert_allclose((1.0 - t).data, 1.0 - t.data, rtol=1e-12)
    np.testing.assert_allclose((1.0 / (t + 1.0)).data, 1.0 / (t.data + 1.0), rtol=1e-12)
    np.testing.assert_allclose((np.ones((3, 1)) @ Tensor(np.ones((1, 2)))).data, np.ones((3, 2)), rtol=1e-12)
    assert t.is_leaf and not (t * 1.0).is_leaf


def test_relu_gradient_mask_is_its_forward_mask():
    """The gradient passes exactly where the output is the input (x > 0; 0 at the kink, as PyTorch and Keras)."""
    x = Tensor(np.array([[-2.0, -1e-12, 0.0], [1e-12, 0.5, 3.0]]), requires_grad=True)
    y = x.relu()
    upstream = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y.backward(upstream)
    passed = y.data > 0
    np.testing.assert_array_equal(passed, [[False, False, False], [True, True, True]])
    np.testing.assert_array_equal(y.data, np.where(passed, x.data, 0.0))
    np.testing.assert_array_equal(x.grad, np.where(passed, upstream, 0.0))
