"""Float64 central-difference checks of the sequence primitives (myelin/ops/recurrent.py).

Every fused time loop is checked through its backward pass in time, with and without masks,
initial states, recurrent dropout, reversed order and zeroed masked outputs.
"""

import numpy as np
import pytest

from myelin import Tensor, gradcheck, ops

rng = np.random.default_rng(7)
B, T, U = 3, 5, 4
# Masks with a masked step first, in the middle and last, and one full row.
MASK = np.array([[True, True, False, True, True], [False, True, True, True, False], [True] * 5])
RDROP = np.where(rng.random((B, U)) < 0.3, 0.0, 1 / 0.7)
TOL = {"atol": 1e-8, "rtol": 1e-6}  # central differences with eps 1e-6 on float64: ~1e-9 relative


def _variants():
    for mask in (None, MASK):
        for reverse in (False, True):
            for zero_output in (False, True) if mask is not None else (False,):
                yield mask, reverse, zero_output


@pytest.mark.parametrize("mask,reverse,zero_output", list(_variants()))
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("with_rdrop", [False, True])
def test_lstm_scan_gradients(mask, reverse, zero_output, with_state, with_rdrop):
    xz, rk = rng.standard_normal((B, T, 4 * U)), rng.standard_normal((U, 4 * U)) * 0.5
    inputs = [xz, rk] + ([rng.standard_normal((B, U)), rng.standard_normal((B, U))] if with_state else [])

    def fn(xz, rk, *state):
        h0, c0 = state if state else (None, None)
        return ops.lstm_scan(
            xz, rk, h0, c0, mask=mask, rdrop=RDROP if with_rdrop else None, reverse=reverse, zero_output=zero_output
        )

    assert gradcheck(fn, inputs, **TOL).passed


@pytest.mark.parametrize("mask,reverse,zero_output", list(_variants()))
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("with_rdrop", [False, True])
def test_gru_scan_gradients(mask, reverse, zero_output, reset_after, with_rdrop):
    xz, rk = rng.standard_normal((B, T, 3 * U)), rng.standard_normal((U, 3 * U)) * 0.5
    inputs = [xz, rk, rng.standard_normal((B, U))] + ([rng.standard_normal(3 * U)] if reset_after else [])

    def fn(xz, rk, h0, rb=None):
        return ops.gru_scan(
            xz,
            rk,
            rb,
            h0,
            mask=mask,
            rdrop=RDROP if with_rdrop else None,
            reverse=reverse,
            zero_output=zero_output,
            reset_after=reset_after,
        )

    assert gradcheck(fn, inputs, **TOL).passed


@pytest.mark.parametrize("mask,reverse,zero_output", list(_variants()))
@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_simple_rnn_scan_gradients(mask, reverse, zero_output, activation):
    xz, rk = rng.standard_normal((B, T, U)), rng.standard_normal((U, U)) * 0.5

    def fn(xz, rk, h0):
        return ops.simple_rnn_scan(
            xz, rk, h0, mask=mask, rdrop=RDROP, reverse=reverse, zero_output=zero_output, activation=activation
        )

    assert gradcheck(fn, [xz, rk, rng.standard_normal((B, U))], **TOL).passed


def _lstm_reference(xz, rk, mask=None):
    """A plain step-by-step LSTM in NumPy (Keras's equations), outputs of every step and final h, c."""
    b, n, four = xz.shape
    u = four // 4
    h, c, outs = np.zeros((b, u)), np.zeros((b, u)), []
    sig = lambda v: 1 / (1 + np.exp(-v))
    for t in range(n):
        z = xz[:, t] + h @ rk
        i, f, g, o = sig(z[:, :u]), sig(z[:, u : 2 * u]), np.tanh(z[:, 2 * u : 3 * u]), sig(z[:, 3 * u :])
        c2 = f * c + i * g
        h2 = o * np.tanh(c2)
        if mask is not None:
            m = mask[:, t, None]
            h2, c2 = np.where(m, h2, h), np.where(m, c2, c)
        h, c = h2, c2
        outs.append(h)
    return np.stack(outs, 1), h, c


def test_lstm_scan_values_and_masked_steps_keep_the_state():
    xz, rk = rng.standard_normal((B, T, 4 * U)), rng.standard_normal((U, 4 * U))
    packed = ops.lstm_scan(Tensor(xz), Tensor(rk), mask=MASK).data
    outs, h, c = _lstm_reference(xz, rk, MASK)
    np.testing.assert_allclose(packed[:, :T], outs, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(packed[:, T], h, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(packed[:, T + 1], c, rtol=1e-12, atol=1e-13)
    # Row 1's first step is masked: its output is the (zero) initial state; step 3 repeats step 2.
    np.testing.assert_array_equal(packed[1, 0], 0.0)
    np.testing.assert_array_equal(packed[0, 2], packed[0, 1])


def test_embedding_lookup_gradient_adds_repeated_ids():
    table = rng.standard_normal((5, 3))
    ids = np.array([[1, 1, 4], [0, 1, 2]])
    t = Tensor(table, requires_grad=True)
    out = ops.embedding_lookup(ids.astype(np.float64), t)
    np.testing.assert_array_equal(out.data, table[ids])
    out.sum().backward()
    np.testing.assert_array_equal(t.grad[:, 0], [1.0, 3.0, 1.0, 0.0, 1.0])
    assert gradcheck(lambda tab: ops.embedding_lookup(ids, tab), [table], atol=1e-8, rtol=1e-6).passed


def test_embedding_lookup_refuses_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"Embedding layer 'emb'.*\[0, 5\).*got id 5"):
        ops.embedding_lookup(np.array([[1, 5]]), Tensor(np.zeros((5, 2))), layer="emb")
    with pytest.raises(ValueError, match="got id -1"):
        ops.embedding_lookup(np.array([[-1]]), Tensor(np.zeros((5, 2))), layer="emb")
    with pytest.raises(ValueError, match="whole numbers"):
        ops.embedding_lookup(np.array([[1.5]]), Tensor(np.zeros((5, 2))), layer="emb")


def test_masks_and_masked_select():
    x = np.array([[[0.0, 0.0], [1.0, 0.0]]])
    np.testing.assert_array_equal(ops.any_not_equal_mask(x).data, [[False, True]])
    np.testing.assert_array_equal(ops.apply_mask(Tensor(x + 1), ops.any_not_equal_mask(x)).data, [[[0, 0], [2, 1]]])
    np.testing.assert_array_equal(ops.not_equal_mask(np.array([[0, 3]])).data, [[False, True]])
    keep = np.array([True, False, True])
    assert gradcheck(
        lambda a, b: ops.masked_select(a, b, keep), [rng.standard_normal((3, 2)), rng.standard_normal((3, 2))]
    ).passed
    assert gradcheck(lambda a: ops.apply_mask(a, MASK), [rng.standard_normal((B, T, 2))]).passed


def test_dropout_mask_is_drawn_once_per_call_with_keras_scaling():
    m = ops.dropout_mask(Tensor(np.zeros((2000, 1))), 8, 0.25, np.random.default_rng(0)).data
    assert set(np.unique(m).tolist()) == {0.0, 1 / 0.75}
    assert abs((m == 0).mean() - 0.25) < 0.02
