"""explain, diagnostics, gradcheck and the CLI's summary on convolutional, attention and recurrent networks."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest

import myelin
from myelin import Tensor, cli, layers
from myelin.callbacks import Diagnostics, TrainingWarning
from myelin.diagnostics import activation_statistic, dead_units

rng = np.random.default_rng(0)


def _model_gradients(model, x, y):
    """The whole model's own loss gradients (one forward in inference mode, compiled loss, backward)."""
    model._clear_call_losses()
    out = model(Tensor(x), training=False)
    model._loss([y], [out], None).backward()
    grads = {w.name: np.array(w.grad, copy=True) for w in model.trainable_weights}
    for w in model.weights:
        w.grad = None
    model._clear_call_losses()
    return grads


def _conv_model(data_format="channels_last"):
    shape = (9, 9, 2) if data_format == "channels_last" else (2, 9, 9)
    return myelin.Sequential(
        [
            layers.Input(shape),
            layers.Conv2D(5, 3, activation="relu", data_format=data_format, name="c1"),
            layers.BatchNormalization(axis=-1 if data_format == "channels_last" else 1, name="bn"),
            layers.MaxPooling2D(2, data_format=data_format, name="pool"),
            layers.Conv2D(3, 2, padding="same", data_format=data_format, name="c2"),
            layers.GlobalAveragePooling2D(data_format=data_format, name="gap"),
            layers.Dense(3, activation="softmax", name="out"),
        ],
        name="convnet",
    )


# ---------------------------------------------------------------------------- explain: feature maps
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_feature_maps_are_the_layers_own_outputs_strongest_channels_first(data_format):
    model = _conv_model(data_format)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = rng.standard_normal((3, *model.input_shape[1:])).astype("float32")
    y = np.array([0, 2, 1])
    e = model.explain(x, y=y)
    c1 = model.get_layer("c1")(Tensor(x)).data  # the layer's output, computed directly
    pooled = model.get_layer("pool")(model.get_layer("bn")(Tensor(c1), training=False)).data
    for name, direct in (("c1", c1), ("pool", pooled)):
        entry = e[name]
        maps = direct if data_format == "channels_first" else np.moveaxis(direct, -1, 1)
        np.testing.assert_array_equal(entry["feature_maps"], maps)
        assert entry["kind"] == ("conv" if name == "c1" else "pooling") and entry["data_format"] == data_format
        strength = np.abs(maps.astype(np.float64)).mean(axis=(2, 3))
        np.testing.assert_allclose(entry["channel_strength"], strength, rtol=1e-12)
        for i in range(3):
            assert entry["channel_strength"][i][entry["channel_order"][i]].tolist() == sorted(strength[i], reverse=True)
    np.testing.assert_allclose(e["out"]["output"], model.predict(x, verbose=0), rtol=1e-6)
    assert e["c1"]["activation"] == "relu"
    # the gradients are those of the whole model's backward
    grads = _model_gradients(model, x, y)
    for layer_name in ("c1", "bn", "c2", "out"):
        for w in model.get_layer(layer_name).trainable_weights:
            np.testing.assert_allclose(e[layer_name]["grad_weights"][w.name], grads[w.name], rtol=1e-5, atol=1e-7)
    report = e.report(max_samples=2)
    assert f"feature maps   a1: 5 channels of 7×7 ({data_format}), strongest first" in report
    order = e["c1"]["channel_order"][0]
    assert f"sample 0: ch {order[0]} " in report and f"ch {order[1]} " in report
    assert "MaxPooling2D, 2×2 windows: the largest value of each window" in report
    fired = int((np.moveaxis(c1, 1 if data_format == "channels_first" else -1, -1) > 0).any(axis=(0, 1, 2)).sum())
    assert f"({fired} of 5 channels fire at some position for at least one sample)" in report


def test_one_sample_prints_its_strongest_map():
    model = myelin.Sequential([layers.Input((6, 1)), layers.Conv1D(2, 3, activation="relu", name="c")])
    x = np.array([0.0, 1.0, 2.0, 3.0, 2.0, 1.0], np.float32)[:, None]
    layer = model.get_layer("c")
    model(Tensor(x[None]))
    layer.set_weights([np.stack([np.ones(3), -np.ones(3)], axis=-1).astype(np.float32)[:, None], np.zeros(2, np.float32)])
    e = model.explain(x)
    np.testing.assert_array_equal(e["c"]["feature_maps"][0], [[3.0, 6.0, 7.0, 6.0], [0.0, 0.0, 0.0, 0.0]])
    report = e.report()
    assert "feature maps   a1: 2 channels of 4 (channels_last)" in report
    assert "ch 0 5.500 (max 7.000), ch 1 0.000 (max 0.000)" in report
    assert "the strongest map of sample 0, channel 0:\n         3.000    6.000    7.000    6.000" in report
    assert "(1 of 2 channels fire at some position: relu passes" in report


@pytest.mark.parametrize(
    ("make", "shape", "described"),
    [
        (lambda: layers.Conv3D(2, 2, activation="relu"), (4, 4, 4, 1), "Conv3D, 2 filters of 2×2×2, relu"),
        (lambda: layers.DepthwiseConv2D(2, depth_multiplier=2), (5, 5, 3), "2×2 windows, 2 filters per input channel"),
        (lambda: layers.SeparableConv2D(4, 2), (5, 5, 3), "SeparableConv2D, 4 filters of 2×2, linear"),
        (lambda: layers.Conv2DTranspose(3, 2, strides=2), (3, 3, 2), "Conv2DTranspose, 3 filters of 2×2"),
        (lambda: layers.Conv1DTranspose(3, 2), (5, 2), "Conv1DTranspose, 3 filters of 2"),
        (lambda: layers.AveragePooling3D(2), (4, 4, 4, 2), "2×2×2 windows: the mean of each window"),
        (lambda: layers.SeparableConv1D(2, 2, data_format="channels_first"), (3, 6), "SeparableConv1D, 2 filters of 2"),
    ],
)
def test_every_convolution_and_pooling_shows_its_own_maps(make, shape, described):
    layer = make()
    model = myelin.Sequential([layers.Input(shape), layer, layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = rng.standard_normal((2, *shape)).astype("float32")
    e = model.explain(x, y=[0, 1])
    direct = layer(Tensor(x)).data
    np.testing.assert_array_equal(
        e[layer.name]["feature_maps"], direct if layer.data_format == "channels_first" else np.moveaxis(direct, -1, 1)
    )
    assert described in e.report(parts=("forward",))
    grads = _model_gradients(model, x, np.array([0, 1]))
    for w in layer.trainable_weights:
        np.testing.assert_allclose(e[layer.name]["grad_weights"][w.name], grads[w.name], rtol=1e-5, atol=1e-7)
    if not layer.trainable_weights:
        return
    # channel 1 of the layer's output feeds nothing (the Dense above reads none of it and is frozen): its own
    # gradient (the kernel slice and bias entry of output channel 1, whatever the kernel layout) is 0
    dense = model.layers[-1]
    kernel, bias = dense.get_weights()
    reads_channel_1 = np.moveaxis(
        np.zeros((1, *direct.shape[1:]), bool), 1 if layer.data_format == "channels_first" else -1, 0
    )
    reads_channel_1[1] = True
    kernel[np.moveaxis(reads_channel_1, 0, 1 if layer.data_format == "channels_first" else -1).reshape(-1)] = 0.0
    dense.set_weights([kernel, bias])
    dense.trainable = False
    records, _ = _fit(model, x, np.array([0, 1]), epochs=1, diagnostics=True)
    assert records["layers"][layer.name]["vanishing_units"] == [[1]]


def test_grouped_query_and_additive_attention_scores():
    q, v = myelin.Input((3, 4)), myelin.Input((5, 4))
    gqa = layers.GroupedQueryAttention(4, 4, 2, name="gqa")
    additive = layers.AdditiveAttention(name="add")
    model = myelin.Model([q, v], additive([gqa(q, v), v]))
    xq, xv = rng.standard_normal((1, 3, 4)).astype("float32"), rng.standard_normal((1, 5, 4)).astype("float32")
    e = model.explain([xq, xv])
    out, scores = gqa(Tensor(xq), Tensor(xv), return_attention_scores=True)
    np.testing.assert_array_equal(e["gqa"]["attention_scores"], scores.data)
    assert scores.shape == (1, 4, 3, 5)
    _, add_scores = additive([out, Tensor(xv)], return_attention_scores=True)
    np.testing.assert_allclose(e["add"]["attention_scores"], add_scores.data, rtol=1e-6)
    report = e.report()
    assert "GroupedQueryAttention, 4 heads" in report and "head 3:" in report
    assert "attention scores p2 (3 queries × 5 keys" in report


# ---------------------------------------------------------------------------- explain: attention and recurrent
def test_attention_scores_per_head_are_those_the_layer_returns():
    q_in, v_in = myelin.Input((3, 4)), myelin.Input((5, 6))
    mha = layers.MultiHeadAttention(2, 3, name="mha")
    a = mha(q_in, v_in)
    plain = layers.Attention(name="att")([a, a])
    out = layers.Dense(2, activation="softmax", name="out")(layers.Flatten()(plain))
    model = myelin.Model([q_in, v_in], out)
    model.compile("adam", "sparse_categorical_crossentropy")
    xq, xv = rng.standard_normal((2, 3, 4)).astype("float32"), rng.standard_normal((2, 5, 6)).astype("float32")
    e = model.explain([xq, xv], y=[0, 1])
    direct, scores = mha(Tensor(xq), Tensor(xv), return_attention_scores=True)
    np.testing.assert_array_equal(e["mha"]["attention_scores"], scores.data)
    assert e["mha"]["attention_scores"].shape == (2, 2, 3, 5)
    _, plain_scores = model.get_layer("att")([direct, direct], return_attention_scores=True)
    np.testing.assert_allclose(e["att"]["attention_scores"], plain_scores.data, rtol=1e-6)
    np.testing.assert_allclose(e["mha"]["attention_scores"].sum(axis=-1), 1.0, rtol=1e-6)
    report = e.report()
    assert "attention scores p1 (2 heads, 3 queries × 5 keys" in report
    assert "attention scores p2 (3 queries × 3 keys" in report
    row = report.split("sample 1, head 1:")[1].splitlines()[3]  # the third query of the second head
    assert row.strip().startswith("query 2: [") and row.endswith(f"-> key {int(np.argmax(scores.data[1, 1, 2]))}")
    grads = _model_gradients_two(model, [xq, xv], np.array([0, 1]))
    # explain asks the layer for its scores, so it runs the composed graph; the model alone runs the fused core
    # (ops.attention_core): the same gradients up to float32 rounding (these are about 1e-9, against O(1) activations).
    for w in mha.trainable_weights:
        np.testing.assert_allclose(e["mha"]["grad_weights"][w.name], grads[w.name], rtol=1e-5, atol=1e-7)


def _model_gradients_two(model, xs, y):
    model._clear_call_losses()
    out = model([Tensor(a) for a in xs], training=False)
    model._loss([y], [out], None).backward()
    grads = {w.name: np.array(w.grad, copy=True) for w in model.trainable_weights}
    for w in model.weights:
        w.grad = None
    return grads


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_hidden_states_over_time_are_the_layers_own(kind, go_backwards):
    rnn = getattr(layers, kind)(4, go_backwards=go_backwards, name="rnn")
    model = myelin.Sequential([layers.Input((6, 3)), rnn, layers.Dense(2, activation="softmax", name="out")])
    x = rng.standard_normal((2, 6, 3)).astype("float32")
    e = model.explain(x)
    h = e["rnn"]["hidden_states"]
    twin = getattr(layers, kind)(4, go_backwards=go_backwards, return_sequences=True)
    twin(Tensor(x))
    twin.set_weights(rnn.get_weights())
    sequence = twin(Tensor(x)).data  # every step's hidden state, from a layer with the same weights
    np.testing.assert_allclose(h, sequence[:, ::-1] if go_backwards else sequence, rtol=1e-6, atol=1e-7)
    last = h[:, 0] if go_backwards else h[:, -1]
    np.testing.assert_allclose(last, e["rnn"]["output"], rtol=1e-6, atol=1e-7)
    assert rnn.return_sequences is False  # left as it was
    report = e.report()
    assert "hidden state h1 over time (6 steps × 4 units; h1[t] is the state after step t):" in report
    assert f"{kind}, 4 units: reads the sequence step by step" in report


def test_bidirectional_stateful_and_masked_sequences():
    inputs = myelin.Input((5,), dtype="int32")
    emb = layers.Embedding(10, 3, mask_zero=True, name="emb")(inputs)
    bi = layers.Bidirectional(layers.LSTM(2, return_sequences=True), name="bi")(emb)
    out = layers.Dense(2, activation="softmax", name="out")(layers.GlobalAveragePooling1D()(bi))
    model = myelin.Model(inputs, out)
    tokens = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]], np.int32)
    e = model.explain(tokens)
    np.testing.assert_allclose(e.output, model.predict(tokens, verbose=0), rtol=1e-6)  # the mask is used, as in predict
    h = e["bi"]["hidden_states"]
    assert h.shape == (2, 5, 4)
    np.testing.assert_allclose(h[1], e["bi"]["output"][1], rtol=1e-6)  # no masked step: the states are the output
    # stateful: the hidden states start from the layer's states, which explain leaves as they were
    stateful = layers.SimpleRNN(3, stateful=True, name="s")
    m = myelin.Sequential([layers.Input((4, 2), batch_size=1), stateful])
    x = rng.standard_normal((1, 4, 2)).astype("float32")
    m.predict(x, verbose=0)
    e = m.explain(x)
    np.testing.assert_allclose(stateful.states[0], e["s"]["output"], rtol=1e-6)  # moved on once: by the call itself
    np.testing.assert_allclose(e["s"]["hidden_states"][0, -1], e["s"]["output"][0], rtol=1e-6)
    assert not np.allclose(e["s"]["hidden_states"][0, 0], np.tanh(x[0, 0] @ stateful.cell.kernel.data))  # not from zeros


# ---------------------------------------------------------------------------- diagnostics
def _fit(model, x, y, epochs=2, **kwargs):
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, **kwargs)
    return history.diagnostics, [str(w.message) for w in caught if issubclass(w.category, TrainingWarning)]


def _images(data_format="channels_last", n=48):
    x = rng.standard_normal((n, 8, 8, 1) if data_format == "channels_last" else (n, 1, 8, 8)).astype("float32")
    return x, (x.reshape(n, -1)[:, :32].sum(axis=1) > 0).astype("int64")


def _diag_convnet(data_format="channels_last", dead_channel=None, all_dead=False):
    shape = (8, 8, 1) if data_format == "channels_last" else (1, 8, 8)
    model = myelin.Sequential(
        [
            layers.Input(shape),
            layers.Conv2D(4, 3, activation="relu", data_format=data_format, name="c1"),
            layers.Conv2D(4, 3, activation="relu", data_format=data_format, name="c2"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    c1 = model.get_layer("c1")
    kernel, bias = c1.get_weights()
    if dead_channel is not None:
        bias[dead_channel] = -50.0  # this filter's map is 0 everywhere, for every input
    if all_dead:
        bias[:] = -50.0
    c1.set_weights([kernel, bias])
    return model


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_a_dead_conv_channel_is_reported_and_a_healthy_one_is_not(data_format):
    x, y = _images(data_format)
    records, warned = _fit(_diag_convnet(data_format, dead_channel=2), x, y, diagnostics=True)
    c1 = records["layers"]["c1"]
    assert c1["dead_fraction"] == [0.25, 0.25] and c1["dead_units"] == [[2], [2]]
    assert c1["vanishing_units"] == [[2], [2]]  # a dead channel gets no gradient either
    assert not any("'c1' is" in w for w in warned)  # one channel of four: below dead=0.5
    records, warned = _fit(_diag_convnet(data_format, dead_channel=2), x, y, callbacks=[Diagnostics(dead=0.25)])
    assert any(
        "layer 'c1' is dying: 25% of its relu channels (2) output 0 at every position for every one of 48 samples" in w
        for w in warned
    )
    records, warned = _fit(_diag_convnet(data_format), x, y, diagnostics=True)
    assert records["layers"]["c1"]["dead_fraction"] == [0.0, 0.0] and records["layers"]["c1"]["dead_units"] == [[], []]
    assert records["layers"]["c1"]["vanishing_units"] == [[], []] and records["layers"]["c2"]["vanishing_units"] == [[], []]
    assert warned == []


def test_a_live_channel_the_layer_above_ignores_gets_no_gradient_and_is_named():
    x, y = _images()
    model = _diag_convnet()
    c2 = model.get_layer("c2")
    kernel, bias = c2.get_weights()
    kernel[:, :, 1, :] = 0.0  # c2 reads nothing from c1's channel 1, and is frozen: channel 1 learns nothing
    c2.set_weights([kernel, bias])
    c2.trainable = False
    records, warned = _fit(model, x, y, diagnostics=True)
    c1 = records["layers"]["c1"]
    assert c1["dead_units"] == [[], []] and c1["vanishing_units"] == [[1], [1]]
    grads = _model_gradients(model, x[:16], y[:16])
    per_channel = np.sqrt((grads["c1/kernel"] ** 2).sum(axis=(0, 1, 2)) + grads["c1/bias"] ** 2)
    assert per_channel[1] == 0 and (np.delete(per_channel, 1) > 0).all()
    assert any(
        w.startswith("epoch 1: 1 channel of layer 'c1' (1) receives almost no gradient (a norm below 1e-05 times the")
        for w in warned
    )


def test_a_dead_conv_layer_blocks_the_gradient_of_the_layers_below():
    x, y = _images()
    records, warned = _fit(_diag_convnet(all_dead=True), x, y, diagnostics=True)
    assert records["layers"]["c1"]["dead_fraction"] == [1.0, 1.0]
    assert records["layers"]["c1"]["grad_norm"] == [0.0, 0.0]
    assert any("layer 'c1' is dead: all of its relu channels output 0 at every position" in w for w in warned)
    assert any("the gradient of layer 'c1' is vanishing (it is 0" in w for w in warned)
    assert records["layers"]["c2"]["dead_fraction"] == [1.0, 1.0]  # zeros in, zero biases: relu(0) = 0 everywhere


def test_units_are_channels_along_positions_for_any_rank():
    maps = np.ones((3, 4, 5, 6))  # channels_last: 6 channels
    maps[..., 4] = 0.0
    maps[1, 2, 3, 1] = 0.0  # a single zero does not kill channel 1
    assert dead_units(maps) == [4] and activation_statistic("relu", maps) == ("dead_fraction", 1 / 6)
    assert dead_units(np.moveaxis(maps, -1, 1), channel_axis=1) == [4]
    sequence = np.zeros((2, 7, 3))
    sequence[1, 6, 0] = 1.0  # unit 0 fires once, at the last step of one sample
    assert activation_statistic("relu", sequence) == ("dead_fraction", 2 / 3)
    assert activation_statistic("tanh", np.full((2, 3, 4), 0.999)) == ("saturation", 1.0)


def test_diagnostics_on_attention_recurrent_and_batch_normalization_layers():
    inputs = myelin.Input((6, 4))
    a = layers.MultiHeadAttention(2, 4, name="mha")(inputs, inputs)
    a = layers.LayerNormalization(name="ln")(layers.Add()([inputs, a]))
    d = layers.Dense(8, activation="relu", name="ff")(a)
    s = layers.LSTM(5, return_sequences=True, name="lstm")(d)
    s = layers.BatchNormalization(name="bn")(s)
    g = layers.GRU(3, name="gru")(s)
    out = layers.Dense(2, activation="softmax", name="out")(g)
    model = myelin.Model(inputs, out)
    x = rng.standard_normal((48, 6, 4)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int64")
    records, warned = _fit(model, x, y, diagnostics=True)
    assert warned == []
    layers_ = records["layers"]
    for name in ("mha", "ln", "ff", "lstm", "bn", "gru", "out"):
        assert len(layers_[name]["grad_norm"]) == 2 and layers_[name]["grad_norm"][0] > 0
    assert set(records["activations"]) == {"ff"}  # recurrent and attention layers have no relu/sigmoid output
    # the Dense relu units along the sequence: a unit is dead only when 0 at every step of every sample
    steps, _ = myelin.explain.walk(model, x, hidden_states=False)  # the walk the diagnostics make: no second LSTM run
    assert next(step for step in steps if step.name == "lstm").hidden is None
    ff = next(step for step in steps if step.name == "ff").value.data
    assert layers_["ff"]["dead_units"][-1] == [int(i) for i in np.flatnonzero((ff <= 0).all(axis=(0, 1)))]
    bn_weights = [w.name for w in model.get_layer("bn").trainable_weights]
    assert bn_weights == ["bn/gamma", "bn/beta"]  # the moving statistics are not in the gradient norms


# ---------------------------------------------------------------------------- gradcheck and the CLI
def test_gradcheck_on_a_small_conv_model_and_a_small_attention_model():
    conv = myelin.Sequential(
        [
            layers.Input((5, 5, 2)),
            layers.Conv2D(3, 2, activation="tanh", name="c"),
            layers.BatchNormalization(name="bn"),
            layers.DepthwiseConv2D(2, name="dw"),
            layers.AveragePooling2D(2, name="pool"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    conv.compile("adam", "sparse_categorical_crossentropy")
    conv.fit(rng.standard_normal((8, 5, 5, 2)), rng.integers(0, 2, 8), epochs=1, verbose=0)  # moving statistics move
    result = myelin.gradcheck(conv, rng.standard_normal((2, 5, 5, 2)), np.array([0, 1]))
    assert result.passed
    checked = [row["weight"] for row in result.per_input]
    assert checked == ["c/kernel", "c/bias", "bn/gamma", "bn/beta", "dw/kernel", "dw/bias", "out/kernel", "out/bias"]
    assert result.max_rel_error < 1e-4

    inputs = myelin.Input((4, 3))
    a = layers.MultiHeadAttention(2, 2, name="mha")(inputs, inputs)
    h = layers.LSTM(3, name="lstm")(layers.LayerNormalization(name="ln")(a))
    attention = myelin.Model(inputs, layers.Dense(2, activation="softmax", name="out")(h))
    attention.compile("adam", "sparse_categorical_crossentropy")
    result = myelin.gradcheck(attention, rng.standard_normal((2, 4, 3)), np.array([1, 0]))
    assert result.passed and sorted(result.per_layer) == ["ln", "lstm", "mha", "out"]
    assert len(result.per_input) == 8 + 2 + 3 + 2


def _cli_summary(path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["summary", str(path)]) == 0
    return out.getvalue()


def test_cli_summary_of_saved_conv_and_sequence_models(tmp_path):
    conv = _conv_model()
    inputs = myelin.Input((5, 4))
    a = layers.MultiHeadAttention(2, 2, name="mha")(inputs, inputs)
    lstm = layers.LSTM(3, name="lstm")(a)
    sequence = myelin.Model(inputs, layers.Dense(2, activation="softmax", name="out")(lstm), name="seq")
    expected = {
        # the parameter counts, by hand: kernel + bias, BatchNormalization 4 per channel
        "convnet": [
            ("c1 (Conv2D)", "(None, 7, 7, 5)", 3 * 3 * 2 * 5 + 5),
            ("bn (BatchNormalization)", "(None, 7, 7, 5)", 4 * 5),
            ("pool (MaxPooling2D)", "(None, 3, 3, 5)", 0),
            ("c2 (Conv2D)", "(None, 3, 3, 3)", 2 * 2 * 5 * 3 + 3),
            ("gap (GlobalAveragePooling2D)", "(None, 3)", 0),
            ("out (Dense)", "(None, 3)", 3 * 3 + 3),
        ],
        "seq": [
            ("mha (MultiHeadAttention)", "(None, 5, 4)", 3 * (4 * 2 * 2 + 2 * 2) + 2 * 2 * 4 + 4),
            ("lstm (LSTM)", "(None, 3)", 4 * (3 * (4 + 3) + 3)),
            ("out (Dense)", "(None, 2)", 3 * 2 + 2),
        ],
    }
    for model in (conv, sequence):
        path = tmp_path / f"{model.name}.myelin"
        model.save(path)
        printed = _cli_summary(path)
        lines = []
        model.summary(print_fn=lines.append)
        assert printed == "\n".join(lines) + "\n"  # the saved model's table is the model's own
        for name, shape, params in expected[model.name]:
            row = next(line for line in printed.splitlines() if line.startswith(f"│ {name} "))
            cells = [c.strip() for c in row.strip("│").split("│")]
            assert cells[1:3] == [shape, f"{params:,}"]
        total = sum(p for _, _, p in expected[model.name])
        assert f" Total params: {total:,} " in printed
