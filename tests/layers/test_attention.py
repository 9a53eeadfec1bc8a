"""MultiHeadAttention, GroupedQueryAttention, Attention, AdditiveAttention and the masked softmax.

MultiHeadAttention is compared with PyTorch's nn.MultiheadAttention from the same weights
(tests/layers/attention_torch.py maps the layouts) with key padding masks, a causal mask and
cross-attention: outputs, per-head probabilities and the gradients of every weight and input,
float64 at 1e-10; the committed golden values (tests/data/attention_golden.json) run the same
comparison without torch. The other layers are checked against explicit NumPy formulas;
every primitive and layer by float64 central differences.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import Tensor, layers, ops
from tests.layers import checks
from tests.layers.attention_torch import D, H, mha_arrays, mha_torch, weights_in_keras_order

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "attention_golden.json").read_text())
rng = np.random.default_rng(11)


def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------- MultiHeadAttention vs PyTorch
def _run_mha(case: str, a: dict, fused: bool = False) -> dict:
    """With ``fused``, no scores asked for: the layer runs the fused core (ops.attention_core)."""
    layer = layers.MultiHeadAttention(H, D)
    q = Tensor(a["query"], requires_grad=True)
    v = Tensor(a["value"], requires_grad=True) if case == "cross" else q
    k = Tensor(a["key"], requires_grad=True) if case == "cross" else None
    layer(q, v, k)
    layer.set_weights(weights_in_keras_order(a))
    kwargs = {"value_mask": a["value_mask"], "use_causal_mask": case == "causal"}
    out, scores = (layer(q, v, k, **kwargs), None) if fused else layer(q, v, k, **kwargs, return_attention_scores=True)
    (out * Tensor(a["r"])).sum().backward()
    w = layer.weights
    names = ["query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias"]
    result = {"output": out.data} if fused else {"output": out.data, "scores": scores.data}
    result.update({f"grad_{n}": t.grad for n, t in zip(names + ["output_kernel", "output_bias"], w)})
    result["grad_query"] = q.grad
    if case == "cross":
        result["grad_value"], result["grad_key"] = v.grad, k.grad
    return result


def _compare(got: dict, want: dict, what: str) -> None:
    assert set(got) == set(want), (set(got), set(want))
    for key in want:
        checks.close(got[key], np.asarray(want[key]), rtol=1e-10, atol=1e-12, what=f"{what} {key}")


@pytest.mark.parametrize("fused", [False, True], ids=["with-scores", "fused-core"])
@pytest.mark.parametrize("case", ["self", "causal", "cross"])
def test_multi_head_attention_matches_committed_golden_values_and_torch(float64, torch_if_installed, case, fused):
    """The committed values everywhere; torch itself from the same weights where it is installed."""
    a = mha_arrays(case)
    got = _run_mha(case, a, fused)
    want = {k: v for k, v in GOLDEN[f"mha_{case}"].items() if not (fused and k == "scores")}
    _compare(got, want, f"mha {case} vs golden")
    if torch_if_installed is not None:
        want = {k: v for k, v in mha_torch(torch_if_installed, case, a).items() if not (fused and k == "scores")}
        _compare(got, want, f"mha {case} vs torch")


def test_padding_mask_from_embedding_flows_through_a_functional_model():
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]])
    inp = myelin.Input((5,), dtype="int32")
    x = layers.Embedding(8, 6, mask_zero=True)(inp)
    y = layers.MultiHeadAttention(2, 3)(x, x)
    model = myelin.Model(inp, y)
    out = model.predict(ids, verbose=0)
    # padded key positions take no part: changing their embedding rows changes nothing at real positions
    emb = model.layers[1]
    table = emb.embeddings.data.copy()
    emb.embeddings.data[0] += 5.0
    out2 = model.predict(ids, verbose=0)
    emb.embeddings.data[...] = table
    real = ids != 0
    np.testing.assert_allclose(out[real], out2[real], rtol=1e-5, atol=1e-6)
    # a padded query position attends nowhere: its output is the output bias alone (zeros here)
    np.testing.assert_array_equal(out[~real], 0.0)


def test_query_mask_zeroes_probabilities_and_output_keeps_the_mask(float64):
    layer = layers.MultiHeadAttention(2, 3, bias_initializer="ones")
    x = Tensor(rng.standard_normal((2, 4, 6)))
    qm = np.array([[True, True, False, True], [True, False, True, True]])
    out, scores = layer(x, x, query_mask=qm, return_attention_scores=True)
    np.testing.assert_array_equal(scores.data[~qm[:, None, :].repeat(2, 1)], 0.0)
    np.testing.assert_allclose(scores.data.sum(-1)[qm[:, None, :].repeat(2, 1)], 1.0, rtol=1e-12)
    np.testing.assert_allclose(out.data[~qm], np.broadcast_to(layer.weights[-1].data, (2, 6)), rtol=1e-12)
    np.testing.assert_array_equal(out._keras_mask.data, qm)


def test_attention_mask_is_anded_with_causal_and_padding(float64):
    layer = layers.MultiHeadAttention(1, 4)
    x = Tensor(rng.standard_normal((2, 4, 4)))
    am = rng.random((2, 4, 4)) > 0.3
    am[:, :, 0] = True
    vm = np.array([[True] * 4, [True, True, True, False]])
    _, s = layer(x, x, attention_mask=am, value_mask=vm, use_causal_mask=True, return_attention_scores=True)
    allowed = am & vm[:, None, :] & np.tril(np.ones((4, 4), bool))
    np.testing.assert_array_equal(s.data[:, 0] > 0, allowed)


def test_output_shape_value_dim_and_weight_layout():
    layer = layers.MultiHeadAttention(3, 4, value_dim=5, output_shape=(2, 7))
    q, v = np.zeros((2, 6, 8), np.float32), np.zeros((2, 9, 10), np.float32)
    out = layer(q, v)
    assert out.shape == (2, 6, 2, 7)
    assert [w.shape for w in layer.weights] == [
        (8, 3, 4),
        (3, 4),
        (10, 3, 4),
        (3, 4),
        (10, 3, 5),
        (3, 5),
        (3, 5, 2, 7),
        (2, 7),
    ]
    assert [w.name.split("/", 1)[1] for w in layer.weights][::2] == [
        "query/kernel",
        "key/kernel",
        "value/kernel",
        "attention_output/kernel",
    ]


def test_multi_head_attention_gradients(float64):
    for kwargs in ({}, {"use_gate": True, "sliding_window": 2}, {"use_bias": False, "value_dim": 3}):
        layer = layers.MultiHeadAttention(2, 3, **kwargs)
        x = rng.standard_normal((2, 4, 5))
        checks.gradients(layer, [x, x * 0.5 + 0.1], use_causal_mask=True, max_checks=15)


def test_grouped_query_attention_equals_repeated_heads(float64):
    gqa = layers.GroupedQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    q, v = rng.standard_normal((2, 5, 6)), rng.standard_normal((2, 7, 6))
    vm = np.ones((2, 7), bool)
    vm[0, 5:] = False
    out, scores = gqa(q, v, value_mask=vm, return_attention_scores=True)
    wq, bq, wk, bk, wv, bv, wo, bo = [w.data for w in gqa.weights]
    qp = np.einsum("btm,mhd->bthd", q, wq) + bq
    kp = np.repeat(np.einsum("bsm,mhd->bshd", v, wk) + bk, 2, axis=2)
    vp = np.repeat(np.einsum("bsm,mhd->bshd", v, wv) + bv, 2, axis=2)
    z = np.einsum("bthd,bshd->bhts", qp / np.sqrt(3), kp)
    z = np.where(vm[:, None, None, :], z, -np.inf)
    p = _softmax(z)
    want = np.einsum("bhts,bshd->bthd", p, vp)
    want = np.einsum("bthd,hdm->btm", want, wo) + bo
    np.testing.assert_allclose(scores.data, p, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-13)
    checks.gradients(gqa, [q, v], use_causal_mask=True, max_checks=15)


# ---------------------------------------------------------------------------- Attention and AdditiveAttention
def _luong(q, v, k, vm=None, qm=None, causal=False, scale=1.0, concat=None):
    if concat is None:
        z = scale * q @ np.swapaxes(k, -1, -2)
    else:
        z = concat * np.tanh(scale * (q[:, :, None, :] + k[:, None, :, :])).sum(-1)
    allowed = np.ones(z.shape, bool)
    if vm is not None:
        allowed &= vm[:, None, :]
    if causal:
        allowed &= np.tril(np.ones(z.shape[-2:], bool))
    p = _softmax(np.where(allowed, z, z - 1e9))  # Keras's formula, exact in float64 for partly masked rows
    out = p @ v
    if qm is not None:
        out = out * qm[..., None]
    return out, p


@pytest.mark.parametrize("mode", ["dot", "concat"])
def test_attention_matches_the_explicit_formula(float64, mode):
    layer = layers.Attention(use_scale=True, score_mode=mode)
    q, v, k = (rng.standard_normal((2, n, 4)) for n in (3, 5, 5))
    vm = np.array([[True] * 5, [True, True, False, True, False]])
    qm = np.array([[True, False, True], [True, True, True]])
    layer([q, v, k])
    layer.scale.data[...] = 0.7
    if mode == "concat":
        layer.concat_score_weight.data[...] = 1.3
    out, p = layer([q, v, k], mask=[qm, vm], return_attention_scores=True, use_causal_mask=True)
    want, wp = _luong(q, v, k, vm, qm, causal=True, scale=0.7, concat=1.3 if mode == "concat" else None)
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(p.data, wp, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(out._keras_mask.data, qm)
    checks.gradients(layer, [q, v, k], mask=[qm, vm], use_causal_mask=True, max_checks=15)


def test_attention_fully_masked_row_gets_the_plain_softmax(float64):
    q, v = rng.standard_normal((1, 2, 3)), rng.standard_normal((1, 4, 3))
    vm = np.zeros((1, 4), bool)
    _, p = layers.Attention()([q, v], mask=[None, vm], return_attention_scores=True)
    np.testing.assert_allclose(p.data, _softmax(q @ v.transpose(0, 2, 1)), rtol=1e-12)


def test_additive_attention_matches_the_explicit_formula(float64):
    layer = layers.AdditiveAttention()
    q, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    out = layer([q, v])
    scale = layer.scale.data
    z = (scale * np.tanh(q[:, :, None, :] + v[:, None, :, :])).sum(-1)
    np.testing.assert_allclose(out.data, _softmax(z) @ v, rtol=1e-12)
    assert "score_mode" not in layer.get_config()
    checks.gradients(layer, [q, v], max_checks=15)


def test_attention_layers_in_a_functional_model_save_and_export(tmp_path):
    q = myelin.Input((4, 6))
    y = layers.Attention()([q, q])
    z = layers.AdditiveAttention()([y, q])
    m = layers.MultiHeadAttention(2, 3)(z, q)
    out = layers.GroupedQueryAttention(3, 2, 1)(m, m)
    model = myelin.Model(q, out)
    x = rng.standard_normal((3, 4, 6)).astype("float32")
    checks.saving(model, x, tmp_path)
    checks.onnx_export(model, x, tmp_path)


def test_onnx_export_of_every_variant(tmp_path):
    q = myelin.Input((5, 6))
    kv = myelin.Input((5, 4))
    a = layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=(2, 3), use_gate=True, sliding_window=2)(q, kv)
    a = layers.Reshape((5, 6))(a)
    b = layers.MultiHeadAttention(3, 2, use_bias=False)(a, kv, q)
    c = layers.GroupedQueryAttention(2, 4, 2, sliding_window=3)(b, b)
    d = layers.Attention(use_scale=True, score_mode="concat")([c, q])
    e = layers.AdditiveAttention(use_scale=False)([d, q, q])
    model = myelin.Model([q, kv], e)
    for w in model.weights:
        w.data[...] = rng.standard_normal(w.shape) * 0.5
    xs = [rng.standard_normal((3, 5, 6)).astype("float32"), rng.standard_normal((3, 5, 4)).astype("float32")]
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "attention.onnx"
    model.export(path, format="onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})[0]
    np.testing.assert_allclose(got, model.predict(xs, verbose=0), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- the primitives
def test_masked_softmax_values_and_fully_masked_rows():
    x = rng.standard_normal((2, 3, 4))
    mask = rng.random((2, 3, 4)) > 0.4
    mask[0, 1] = False
    p = ops.masked_softmax(Tensor(x), mask).data
    with np.errstate(invalid="ignore"):
        want = _softmax(np.where(mask, x, -np.inf))
    want[0, 1] = 0.0
    np.testing.assert_allclose(p, want, rtol=1e-6)
    np.testing.assert_array_equal(p[~mask], 0.0)
    soft = ops.masked_softmax(Tensor(x), mask, empty="softmax").data
    np.testing.assert_allclose(soft[0, 1], _softmax(x[0, 1]), rtol=1e-6)
    band = ops.masked_softmax(Tensor(np.zeros((1, 4, 4))), causal=True, sliding_window=2).data[0]
    np.testing.assert_allclose(band, [[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 0.5, 0.5]])


def test_masked_softmax_gradient_by_central_differences(float64):
    x = rng.standard_normal((2, 3, 5))
    mask = rng.random((2, 1, 5)) > 0.3
    mask[1] = False  # a fully masked row: zero output, zero gradient
    r = rng.standard_normal(x.shape)
    for kwargs in ({"mask": mask}, {"mask": mask, "causal": True}, {"sliding_window": 2}, {"mask": mask, "empty": "softmax"}):
        t = Tensor(x, requires_grad=True)
        (ops.masked_softmax(t, **kwargs) * Tensor(r)).sum().backward()
        eps = 1e-6
        for i in rng.choice(x.size, 12, replace=False):
            xp_, xm_ = x.copy().reshape(-1), x.copy().reshape(-1)
            xp_[i] += eps
            xm_[i] -= eps
            f = [float((ops.masked_softmax(Tensor(z.reshape(x.shape)), **kwargs).data * r).sum()) for z in (xp_, xm_)]
            assert abs(t.grad.reshape(-1)[i] - (f[0] - f[1]) / (2 * eps)) < 1e-8, kwargs


def test_masked_softmax_replays_in_a_compiled_fit():
    inp = myelin.Input((6,), dtype="int32")
    x = layers.Embedding(10, 8, mask_zero=True)(inp)
    x = layers.MultiHeadAttention(2, 4, dropout=0.1, seed=1)(x, x)
    out = layers.Dense(10, activation="softmax")(x)
    model = myelin.Model(inp, out)
    model.compile("adam", "sparse_categorical_crossentropy")
    ids = rng.integers(0, 10, (16, 6))
    hist = model.fit(ids, ids, epochs=3, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert model.compile_status.startswith("compiled"), model.compile_status


# ---------------------------------------------------------------------------- errors, config
def test_bad_inputs_name_the_layer():
    mha = layers.MultiHeadAttention(2, 3, name="mha")
    x = np.zeros((2, 4, 6), np.float32)
    with pytest.raises(ValueError, match=r"'mha'.*query must have rank 3"):
        mha(np.zeros((2, 6), np.float32), x)
    with pytest.raises(ValueError, match=r"'mha'.*value must have rank 3"):
        mha(x, np.zeros((2, 4, 6, 1), np.float32))
    with pytest.raises(ValueError, match=r"'mha'.*value_mask must have shape \(batch, sequence\) = \(2, 4\), got \(2, 5\)"):
        mha(x, x, value_mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"'mha'.*attention_mask must broadcast to .* \(2, 4, 4\), got shape \(2, 3, 4\)"):
        mha(x, x, attention_mask=np.ones((2, 3, 4), bool))
    with pytest.raises(ValueError, match=r"'mha'.*needs a query and a value"):
        mha(x)
    with pytest.raises(ValueError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    with pytest.raises(ValueError, match="flash_attention"):
        layers.MultiHeadAttention(2, 3, flash_attention=True)
    with pytest.raises(ValueError, match="divisible"):
        layers.GroupedQueryAttention(4, 3, 2)
    att = layers.Attention(name="att")
    with pytest.raises(ValueError, match=r"'att' must be called on a list"):
        att(x)
    with pytest.raises(ValueError, match=r"'att'.*value mask must have shape \(2, 4\)"):
        att([x, x], mask=[None, np.ones((2, 3), bool)])
    sym = myelin.Input((4, 6))
    with pytest.raises(ValueError, match="use_causal_mask cannot be recorded in a functional graph"):
        layers.MultiHeadAttention(2, 3)(sym, sym, use_causal_mask=True)


def test_config_round_trip():
    x = rng.standard_normal((2, 4, 6)).astype("float32")
    for layer in (
        layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=5, use_gate=True, sliding_window=3),
        layers.GroupedQueryAttention(3, 4, 2, use_bias=False),
    ):
        checks.config_round_trip(layer, [x, x])
    checks.config_round_trip(layers.Attention(use_scale=True, score_mode="concat"), [x, x])


def test_dot_product_attention_op_matches_the_formula(float64):
    q, k, v = (rng.standard_normal((2, n, 3, 4)) for n in (4, 5, 5))
    bias = rng.standard_normal((1, 3, 4, 5)) * 0.1
    mask = rng.random((2, 1, 4, 5)) > 0.3
    mask[0, 0, 1] = False  # nothing allowed: uniform, as Keras's NumPy backend
    got = ops.dot_product_attention(q, k, v, bias=bias, mask=mask, attn_logits_soft_cap=2.0).data
    z = np.einsum("btnh,bsnh->bnts", q, k) / 2.0 + bias
    z = 2.0 * np.tanh(z / 2.0)
    p = _softmax(np.where(mask, z, -1e30))
    np.testing.assert_allclose(got, np.einsum("bnts,bsnh->btnh", p, v), rtol=1e-12, atol=1e-14)
    assert ops.nn.dot_product_attention is ops.dot_product_attention
    with pytest.raises(ValueError, match="same number of heads"):
        ops.dot_product_attention(q, k[:, :, :1], v)


def test_explain_shows_the_attention_probabilities():
    q = myelin.Input((3, 4))
    y = layers.MultiHeadAttention(2, 2, name="mha")(q, q)
    out = layers.Dense(2, activation="softmax", name="out")(layers.Flatten()(y))
    model = myelin.Model(q, out)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = rng.standard_normal((1, 3, 4)).astype("float32")
    e = model.explain(x, y=[1])
    _, want = model.get_layer("mha")(Tensor(x), Tensor(x), return_attention_scores=True)
    np.testing.assert_allclose(e["mha"]["attention_scores"], want.data, rtol=1e-6)
    assert e["mha"]["kind"] == "attention" and "attention scores p1 (2 heads, 3 queries × 3 keys" in e.report()
    np.testing.assert_allclose(e["out"]["output"], model.predict(x, verbose=0), rtol=1e-6)


def test_masked_softmax_rows_far_below_the_maximum_are_exact():
    # one global shift would underflow the second row (its scores are 200 below the first's): it is recomputed
    x = np.array([[[100.0, 99.0, 98.0], [-100.0, -101.0, -102.0]]], np.float32)
    p = ops.masked_softmax(Tensor(x)).data
    np.testing.assert_allclose(p[0, 1], _softmax(x[0, 1].astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(p[0, 0], p[0, 1], rtol=1e-6)
    m = np.array([[[True, True, False], [False, True, True]]])
    pm = ops.masked_softmax(Tensor(x), m).data
    np.testing.assert_allclose(pm[0, 1], [0.0, *_softmax(x[0, 1, 1:].astype(np.float64))], rtol=1e-6)
