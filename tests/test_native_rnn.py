"""The native sequence kernels (the LSTM loop's cell update, gate factors and reverse step; the embedding gradient)
equal the NumPy forms bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, native, ops
from tests.test_native_conv import _bits, _turn_off, needs_native


def _run(dtype, reverse, state, rdrop, mask, zero_output, seed=0):
    rng = np.random.default_rng(seed)
    b, n, u = 5, 7, 3
    xz = Tensor(rng.standard_normal((b, n, 4 * u)).astype(dtype), requires_grad=True)
    rk = Tensor(rng.standard_normal((u, 4 * u)).astype(dtype) * 0.7, requires_grad=True)
    h0 = Tensor(rng.standard_normal((b, u)).astype(dtype), requires_grad=True) if state else None
    c0 = Tensor(rng.standard_normal((b, u)).astype(dtype), requires_grad=True) if state else None
    keep = rng.random((b, n)) > 0.3 if mask else None
    drop = (rng.random((b, u)) > 0.5).astype(dtype) * 2 if rdrop else None
    out = ops.lstm_scan(xz, rk, h0, c0, mask=keep, rdrop=drop, reverse=reverse, zero_output=zero_output)
    out.backward(rng.standard_normal(out.shape).astype(dtype))
    found = [out.data, xz.grad, rk.grad]
    if state:
        found += [h0.grad, c0.grad]
    return [np.array(a, copy=True) for a in found]


@needs_native
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "reverse,state,rdrop,mask,zero_output",
    [
        (False, False, False, False, False),
        (True, True, False, False, False),
        (False, True, True, False, False),
        (True, False, True, True, False),
        (False, True, False, True, True),
    ],
)
def test_lstm_kernels_equal_numpy_form(dtype, reverse, state, rdrop, mask, zero_output, monkeypatch):
    calls = []
    for name in ("lstm_factors", "lstm_step_kernels"):
        real = getattr(native, name)
        monkeypatch.setattr(native, name, lambda *a, real=real, name=name: calls.append(name) or real(*a))
    fast = _run(dtype, reverse, state, rdrop, mask, zero_output)
    assert "lstm_factors" in calls and "lstm_step_kernels" in calls  # the kernels were asked for, not bypassed
    with monkeypatch.context() as m:
        _turn_off(m)
        slow = _run(dtype, reverse, state, rdrop, mask, zero_output)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(_bits(a), _bits(b))


@needs_native
def test_lstm_kernels_decline_what_they_cannot_do():
    gates, cells = np.zeros((2, 8), np.float32), np.zeros((2, 2), np.float32)
    assert not native.lstm_factors(gates, cells.astype(np.float64), cells, np.empty_like(gates), np.empty_like(cells))
    assert not native.lstm_factors(gates, np.zeros((2, 3), np.float32), cells, np.empty_like(gates), np.empty_like(cells))
    assert not native.lstm_factors(gates[:, ::2], cells, cells, np.empty((2, 4), np.float32), np.empty_like(cells))
    assert native.lstm_step_kernels(gates, cells.astype(np.float64)) is None
    assert native.lstm_step_kernels(np.zeros((4, 4), np.float32)[:, ::2]) is None
    assert native.lstm_step_kernels(gates, cells) is not None


@needs_native
def test_lstm_factors_values():
    gates = np.array([[0.5, 0.25, -0.5, 0.75]], np.float32)  # i, f, g, o with one unit
    cells, tanh_c = np.array([[2.0]], np.float32), np.array([[0.5]], np.float32)
    factors, to_cell = np.empty_like(gates), np.empty_like(cells)
    assert native.lstm_factors(gates, cells, tanh_c, factors, to_cell)
    # g i (1 - i), c f (1 - f), i (1 - g^2), tanh(c) o (1 - o); o (1 - tanh(c)^2)
    np.testing.assert_array_equal(factors, [[-0.125, 0.375, 0.375, 0.09375]])
    np.testing.assert_array_equal(to_cell, [[0.5625]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_gradient_is_add_at_bit_for_bit_with_and_without_kernels(dtype, monkeypatch):
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 40, size=(6, 50))  # many repeats, several ids never seen
    g = rng.standard_normal((6, 50, 4)).astype(dtype)
    g[rng.random(g.shape) < 0.2] = -0.0  # a total of -0 comes out as add.at's +0
    g[0, :, 1] = -0.0
    expected = np.zeros((45, 4), dtype)
    np.add.at(expected, ids.ravel(), g.reshape(-1, 4))

    def run():
        table = Tensor(np.zeros((45, 4), dtype), requires_grad=True)
        ops.embedding_lookup(ids.astype(np.int32), table).backward(g)
        return table.grad

    fast = run()
    with monkeypatch.context() as m:
        _turn_off(m)
        slow = run()
    np.testing.assert_array_equal(_bits(fast), _bits(expected))
    np.testing.assert_array_equal(_bits(slow), _bits(expected))


@needs_native
def test_index_add_declines_what_it_cannot_do():
    grad, rows = np.zeros((3, 2), np.float32), np.ones((2, 2), np.float32)
    assert not native.index_add(grad, np.array([0, 1], np.int32), rows)  # int64 ids only
    assert not native.index_add(grad, np.array([0, 1]), rows.astype(np.float64))
    assert not native.index_add(grad, np.array([0, 1, 2]), rows)  # one row per id
    assert native.index_add(grad, np.array([2, 2]), rows) and grad.tolist() == [[0, 0], [0, 0], [2, 2]]
