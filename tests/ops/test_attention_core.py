"""ops.attention_core, the fused multi-head attention node: the composed ops' numbers, float64 gradients, any split."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, backend, ops
from myelin.ops import attention as attn_ops
from tests.ops.checks import assert_grads

rng = np.random.default_rng(5)


def _composed(q, k, v, mask=None, scale=1.0, causal=False, window=None):
    """The unfused graph MultiHeadAttention runs when its scores are asked for."""
    qh = ops.transpose(ops.multiply(q, scale), (0, 2, 1, 3))
    scores = ops.matmul(qh, ops.transpose(k, (0, 2, 3, 1)))
    probs = ops.masked_softmax(scores, mask, causal=causal, sliding_window=window, empty="zeros")
    return ops.transpose(ops.matmul(probs, ops.transpose(v, (0, 2, 1, 3))), (0, 2, 1, 3))


def _qkv(dtype, b=3, t=5, s=6, h=2, d=3, dv=4):
    return (
        rng.standard_normal((b, t, h, d)).astype(dtype),
        rng.standard_normal((b, s, h, d)).astype(dtype),
        rng.standard_normal((b, s, h, dv)).astype(dtype),
    )


MASKS = {
    "none": None,
    "padding": np.array([[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]], bool)[:, None, None, :],
    "per-head": rng.random((3, 2, 5, 6)) > 0.3,
    "empty rows": np.array([True, False, True, False, True])[None, None, :, None] & np.ones((1, 1, 1, 6), bool),
}


@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("causal,window", [(False, None), (True, None), (False, 2), (True, 3)])
def test_equals_the_composed_ops_and_their_gradients(mask, causal, window):
    q, k, v = _qkv(np.float32)
    r = rng.standard_normal((3, 5, 2, 4)).astype(np.float32)
    results = []
    for fn in (ops.attention_core, _composed):
        leaves = [Tensor(a, requires_grad=True) for a in (q, k, v)]
        out = fn(
            *leaves,
            mask=MASKS[mask],
            scale=0.6,
            causal=causal,
            **({"sliding_window": window} if fn is ops.attention_core else {"window": window}),
        )
        (out * Tensor(r)).sum().backward()
        results.append([out.data] + [t.grad for t in leaves])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_rows_with_nothing_allowed_give_zeros_and_no_gradient():
    q, k, v = (Tensor(a, requires_grad=True) for a in _qkv(np.float64))
    out = ops.attention_core(q, k, v, mask=MASKS["empty rows"])
    np.testing.assert_array_equal(out.data[:, 1], 0.0)
    np.testing.assert_array_equal(out.data[:, 3], 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(q.grad[:, 1], 0.0)
    assert np.abs(out.data[:, 0]).min() > 0


@pytest.mark.parametrize("mask,causal,window", [(None, False, None), ("padding", True, None), ("per-head", False, 3)])
def test_gradients_by_central_differences(float64, mask, causal, window):
    q, k, v = _qkv(np.float64, b=3, t=4, s=6, h=2, d=2, dv=2)
    m = None if mask is None else MASKS[mask][..., :4, :] if mask == "per-head" else MASKS[mask]
    assert_grads(lambda a, b, c: ops.attention_core(a, b, c, mask=m, scale=0.7, causal=causal, sliding_window=window), q, k, v)


def test_numbers_do_not_depend_on_the_thread_count(monkeypatch):
    q, k, v = _qkv(np.float32, b=7, t=9, s=9)
    g = rng.standard_normal((7, 9, 2, 4)).astype(np.float32)
    keep = rng.random((7, 1, 9, 9)) > 0.2

    def run():
        leaves = [Tensor(a, requires_grad=True) for a in (q, k, v)]
        out = ops.attention_core(*leaves, mask=keep, causal=True)
        out.backward(g)
        return [out.data.copy()] + [t.grad.copy() for t in leaves]

    monkeypatch.setattr(attn_ops, "_CHUNK_BYTES", 2 * 2 * 9 * 9 * 4)  # two batch items per chunk: four chunks
    one = run()
    with monkeypatch.context() as m:
        m.setattr(backend, "native_threads", lambda: 2)
        split = run()
        m.setattr(attn_ops, "_CHUNK_BYTES", 1)  # one item per chunk: other shifts, the same softmax
        other = run()
    for a, b, c in zip(one, split, other):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def test_a_row_far_below_the_chunk_maximum_is_exact(float64):
    q, k, v = _qkv(np.float64, b=1, t=3, s=4, h=1, d=2, dv=2)
    q[0, 0] *= 1e3  # row 0's scores in the thousands: the others underflow against its maximum
    q[0, 1] *= 1e-3
    out = ops.attention_core(Tensor(q), Tensor(k), Tensor(v), scale=1.0)
    want = _composed(Tensor(q), Tensor(k), Tensor(v)).data
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-14)


def test_multi_head_attention_uses_the_fused_core_only_when_it_may(monkeypatch):
    calls = []
    real = attn_ops.attention_core
    monkeypatch.setattr(attn_ops, "attention_core", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    from myelin import layers

    layer = layers.MultiHeadAttention(2, 3, dropout=0.5)
    x = rng.standard_normal((2, 4, 5)).astype(np.float32)
    layer(x, x)
    assert len(calls) == 1  # inference: dropout does nothing
    layer(x, x, return_attention_scores=True)
    layer(x, x, training=True)  # dropout on the probabilities: the composed graph
    assert len(calls) == 1
    out, _ = layer(x, x, return_attention_scores=True)
    np.testing.assert_allclose(layer(x, x).data, out.data, rtol=1e-5, atol=1e-6)


def test_bad_inputs_are_named():
    q, k, v = _qkv(np.float32)
    with pytest.raises(ValueError, match=r"attention_core: q, k, v must be"):
        ops.attention_core(q[0], k, v)
    with pytest.raises(ValueError, match=r"heads and dim"):
        ops.attention_core(q[..., :2], k, v)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 1, 1, 5\) does not broadcast"):
        ops.attention_core(q, k, v, mask=np.ones((3, 1, 1, 5), bool))
    with pytest.raises(ValueError, match=r"sliding_window must be None or a positive integer, got 0"):
        ops.attention_core(q, k, v, sliding_window=0)
