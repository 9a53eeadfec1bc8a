"""SimpleRNN, LSTM, GRU, their cells, RNN, Bidirectional and TimeDistributed.

Compared with PyTorch's nn.LSTM / nn.GRU / nn.RNN from the same weights (forward, final
states, gradients of weights and inputs; float64 at 1e-10: a few dozen operations per
step over six steps) and with the committed golden values (tests/data/rnn_golden.json,
written by tests/make_rnn_golden.py) where torch is absent. Masks against the cell run step
by step; float64 central differences through the layers; config, saving and fit.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import Tensor, layers
from tests.layers import checks
from tests.layers.rnn_torch import B, D, T, U, case_arrays, torch_bidirectional_lstm, torch_run

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "rnn_golden.json").read_text())
KINDS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}
rng = np.random.default_rng(3)


def _run_myelin(kind: str, arrays: dict, go_backwards: bool = False) -> dict:
    layer = KINDS[kind](U, return_sequences=True, return_state=True, go_backwards=go_backwards)
    layer(np.zeros((1, T, D)))
    layer.set_weights([arrays["kernel"], arrays["recurrent_kernel"], arrays["bias"]])
    x = Tensor(arrays["x"], requires_grad=True)
    out = layer(x)
    seq, h = out[0], out[1]
    loss = (seq * Tensor(arrays["r_seq"])).sum() + (h * Tensor(arrays["r_h"])).sum()
    result = {"sequence": seq.data, "h": h.data}
    if kind == "lstm":
        loss = loss + (out[2] * Tensor(arrays["r_c"])).sum()
        result["c"] = out[2].data
    loss.backward()
    cell = layer.cell
    result.update(
        grad_kernel=cell.kernel.grad, grad_recurrent_kernel=cell.recurrent_kernel.grad, grad_bias=cell.bias.grad, grad_x=x.grad
    )
    return result


def _compare(got: dict, want: dict, what: str) -> None:
    assert set(got) == set(want)
    for key in want:
        checks.close(got[key], np.asarray(want[key]), rtol=1e-10, atol=1e-12, what=f"{what} {key}")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_committed_golden_values_and_torch(float64, torch_if_installed, kind, go_backwards):
    """The committed values everywhere; torch itself from the same weights where it is installed."""
    arrays = case_arrays(kind)
    got = _run_myelin(kind, arrays, go_backwards)
    _compare(got, GOLDEN[f"{kind}{'_backwards' if go_backwards else ''}"], f"{kind} vs golden")
    if torch_if_installed is not None:
        _compare(got, torch_run(torch_if_installed, kind, arrays, go_backwards), f"{kind} vs torch")


def _cells():
    return {
        "lstm": lambda **kw: layers.LSTMCell(U, **kw),
        "gru": lambda **kw: layers.GRUCell(U, **kw),
        "gru_reset_before": lambda **kw: layers.GRUCell(U, reset_after=False, **kw),
        "simple_rnn": lambda **kw: layers.SimpleRNNCell(U, **kw),
    }


class _Unfused(layers.Layer):
    """A cell wrapper without the fused loop: RNN runs it step by step (the reference)."""

    def __init__(self, cell):
        super().__init__()
        self.inner = cell
        self.state_size = cell.state_size
        self.output_size = cell.output_size

    def build(self, input_shape):
        self.inner.build(input_shape)
        self.inner.built = True

    def get_initial_state(self, batch_size):
        return self.inner.get_initial_state(batch_size)

    def call(self, inputs, states, training=False):
        return self.inner.call(inputs, states, training=training)


MASK = np.array([[True, True, False, True, False, True], [False, True, True, True, True, False], [True] * 6])


@pytest.mark.parametrize("name", list(_cells()))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_fused_loop_equals_the_cell_step_by_step_with_masks(float64, name, go_backwards, zero_output):
    x = rng.standard_normal((B, T, D))
    fused_cell = _cells()[name]()
    fused = layers.RNN(
        fused_cell, return_sequences=True, return_state=True, go_backwards=go_backwards, zero_output_for_mask=zero_output
    )
    fused(x[:1])
    ref_cell = _cells()[name]()
    ref = layers.RNN(
        _Unfused(ref_cell),
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        zero_output_for_mask=zero_output,
    )
    ref(x[:1])
    ref_cell.set_weights(fused_cell.get_weights())
    a, b = fused(x, mask=MASK), ref(x, mask=MASK)
    for got, want in zip(a, b):
        np.testing.assert_allclose(got.data, want.data, rtol=1e-12, atol=1e-13)
    # Gradients of both paths agree too.
    r = rng.standard_normal(a[0].shape)
    for out, _cell in ((a, fused_cell), (b, ref_cell)):
        (out[0] * Tensor(r)).sum().backward()
    for w1, w2 in zip(fused_cell.weights, ref_cell.weights):
        np.testing.assert_allclose(w1.grad, w2.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", list(KINDS))
def test_masked_steps_leave_the_state_unchanged(kind):
    layer = KINDS[kind](U, return_sequences=True, return_state=True)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    seq, h, *_ = layer(x, mask=MASK)
    seq = seq.data
    # Row 0: step 2 masked repeats step 1 (Keras outputs the previous output); step 4 masked repeats 3.
    np.testing.assert_array_equal(seq[0, 2], seq[0, 1])
    np.testing.assert_array_equal(seq[0, 4], seq[0, 3])
    # Row 1: the first step masked gives the zero initial state; the last masked keeps step 4's state.
    np.testing.assert_array_equal(seq[1, 0], 0.0)
    np.testing.assert_array_equal(h.data[1], seq[1, 4])
    # The same result as running only the real steps.
    real = np.flatnonzero(MASK[0])
    alone = layer(x[:1, real])[1].data
    np.testing.assert_allclose(h.data[0], alone[0], rtol=1e-6, atol=1e-7)


def test_embedding_mask_reaches_the_lstm_and_return_sequences_passes_it(tmp_path):
    ids = np.array([[3, 4, 0, 0], [5, 0, 0, 0]])
    inputs = myelin.Input(shape=(4,))
    emb = layers.Embedding(10, 3, mask_zero=True)
    lstm = layers.LSTM(2, return_sequences=True)
    model = myelin.Model(inputs, layers.LSTM(2)(lstm(emb(inputs))))
    out = emb(ids)
    seq = lstm(out)
    np.testing.assert_array_equal(seq._keras_mask.data, ids != 0)
    np.testing.assert_array_equal(seq.data[0, 2], seq.data[0, 1])  # padded steps repeat the last real output
    # predict sees the mask: trailing padding does not change the prediction.
    longer = np.array([[3, 4, 0, 0]])
    shorter_model_in = np.array([[3, 4, 0, 0]])
    np.testing.assert_array_equal(model.predict(longer, verbose=0), model.predict(shorter_model_in, verbose=0))
    no_pad = model.predict(np.array([[3, 4, 7, 7]]), verbose=0)
    assert not np.allclose(no_pad, model.predict(longer, verbose=0))
    checks.saving(model, ids, tmp_path)


def test_dense_dropout_activation_pass_masks_and_an_unsupporting_layer_warns():
    x = layers.Embedding(10, 3, mask_zero=True)(np.array([[1, 0]]))
    for layer in (layers.Dense(2), layers.Dropout(0.5), layers.Activation("relu"), layers.ReLU()):
        y = layer(x)
        np.testing.assert_array_equal(y._keras_mask.data, [[True, False]])
    with pytest.warns(UserWarning, match="does not support masking"):
        layers.Flatten()(x)


@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_gradients_by_central_differences(float64, kind):
    layer = KINDS[kind](3, return_sequences=True)
    checks.gradients(layer, rng.standard_normal((2, 4, 3)), mask=MASK[:2, :4])


def test_rnn_wrapper_with_a_custom_cell_and_stacked_cells(float64):
    class MinimalCell(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units, self.state_size = units, units

        def build(self, input_shape):
            self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
            self.recurrent = self.add_weight("recurrent", (self.units, self.units))

        def call(self, inputs, states):
            out = inputs @ self.kernel + states[0] @ self.recurrent
            return out, [out]

    x = rng.standard_normal((2, 5, 3))
    layer = layers.RNN(MinimalCell(4))
    out = layer(x)
    cell = layer.cell
    h = np.zeros((2, 4))
    for t in range(5):
        h = x[:, t] @ cell.kernel.data + h @ cell.recurrent.data
    np.testing.assert_allclose(out.data, h, rtol=1e-12)
    checks.gradients(layer, x)
    stacked = layers.RNN([layers.SimpleRNNCell(3), layers.LSTMCell(2)], return_state=True)
    out, *states = stacked(x)
    assert out.shape == (2, 2) and [s.shape for s in states] == [(2, 3), (2, 2), (2, 2)]
    np.testing.assert_array_equal(out.data, states[1].data)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional_every_merge_mode(float64, merge_mode):
    x = rng.standard_normal((B, T, D))
    bi = layers.Bidirectional(layers.GRU(U, return_sequences=True), merge_mode=merge_mode)
    out = bi(x, mask=MASK)
    fw, bw = bi.forward_layer, bi.backward_layer
    assert fw.name.startswith("forward_") and bw.name.startswith("backward_") and bw.go_backwards
    y = fw(x, mask=MASK).data
    y_rev = bw(x, mask=MASK).data[:, ::-1]
    # Masked steps are zero in both directions (Keras forces zero_output_for_mask under Bidirectional).
    assert np.all(y[~MASK] == 0) and np.all(y_rev[~MASK] == 0)
    want = {
        "concat": lambda: np.concatenate([y, y_rev], -1),
        "sum": lambda: y + y_rev,
        "ave": lambda: (y + y_rev) / 2,
        "mul": lambda: y * y_rev,
        None: lambda: [y, y_rev],
    }[merge_mode]()
    got = [o.data for o in out] if merge_mode is None else out.data
    np.testing.assert_allclose(got, want, rtol=1e-12)
    if merge_mode is not None:
        np.testing.assert_array_equal(out._keras_mask.data if hasattr(out._keras_mask, "data") else out._keras_mask, MASK)
        checks.gradients(bi, x[:2, :4], mask=MASK[:2, :4], max_checks=20)


def _bidirectional_myelin() -> np.ndarray:
    arrays = case_arrays("lstm")
    bi = layers.Bidirectional(layers.LSTM(U, return_sequences=True))
    bi(arrays["x"])
    bi.forward_layer.set_weights([arrays["kernel"], arrays["recurrent_kernel"], arrays["bias"]])
    bi.backward_layer.set_weights([arrays["kernel"] * 0.5, arrays["recurrent_kernel"], arrays["bias"]])
    return bi(arrays["x"]).data


def test_bidirectional_matches_committed_golden_values_and_torch_bidirectional(float64, torch_if_installed):
    """The backward half against torch's bidirectional LSTM: the committed values, and torch where installed."""
    got = _bidirectional_myelin()
    checks.close(got, np.asarray(GOLDEN["bidirectional_lstm"]), rtol=1e-10, atol=1e-12)
    if torch_if_installed is not None:
        checks.close(got, torch_bidirectional_lstm(torch_if_installed, case_arrays("lstm")), rtol=1e-10, atol=1e-12)


def test_time_distributed_applies_the_layer_to_every_step(float64):
    x = rng.standard_normal((2, 5, 3))
    td = layers.TimeDistributed(layers.Dense(4))
    out = td(x)
    np.testing.assert_allclose(out.data, x @ td.layer.kernel.data + td.layer.bias.data, rtol=1e-12)
    assert td.compute_output_shape((None, 5, 3)) == (None, 5, 4)
    checks.gradients(td, x)
    masked = td(layers.Masking()(x * MASK[:2, :5, None]))
    np.testing.assert_array_equal(masked._keras_mask.data, MASK[:2, :5])


def test_stateful_carries_states_between_batches_and_resets():
    layer = layers.LSTM(3, stateful=True, return_state=True)
    inputs = myelin.Input(shape=(4, 2), batch_size=2)
    layer.build(inputs.shape)
    x = rng.standard_normal((2, 8, 2)).astype(np.float32)
    whole = layers.LSTM(3, return_state=True)
    whole(x)
    whole.set_weights(layer.get_weights())
    layer(x[:, :4])
    _, h, _c = layer(x[:, 4:])
    _, h_all, _c_all = whole(x)
    np.testing.assert_allclose(h.data, h_all.data, rtol=1e-6, atol=1e-7)
    layer.reset_states()
    np.testing.assert_array_equal(layer.states[0], 0.0)
    later = layers.LSTM(3, stateful=True)
    later.build((None, 4, 2))  # no batch size yet: the first call fixes it
    later(x[:, :4])
    assert later.states[0].shape == (2, 3)
    with pytest.raises(ValueError, match="stateful with batch size 2, got a batch of 1"):
        later(x[:1, :4])
    with pytest.raises(ValueError, match="stateful with batch size 2, got a batch of 3"):
        layer(np.zeros((3, 4, 2)))


def test_initial_state_and_dropout_drawn_once_per_sequence():
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    layer = layers.GRU(4, return_state=True)
    h0 = rng.standard_normal((2, 4)).astype(np.float32)
    out, _h = layer(x, initial_state=[h0])
    assert not np.allclose(out.data, layer(x)[0].data)
    with pytest.raises(ValueError, match=r"initial state must have shape \(batch, 4\)"):
        layer(x, initial_state=[np.zeros((2, 3))])
    drop = layers.SimpleRNN(6, dropout=0.5, recurrent_dropout=0.5, seed=1, return_sequences=True)
    a = drop(x, training=True).data
    b = drop(x, training=False).data
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(drop(x, training=False).data, b)  # inference: no dropout
    # Zeroing one input feature for the whole sequence is what a per-sequence mask does: check via the cell.
    zeros = layers.SimpleRNN(6, dropout=0.999, seed=0, return_sequences=True)
    zeros.build((None, 5, 3))
    zeros.cell.bias.data[...] = 0.0
    np.testing.assert_allclose(zeros(x, training=True).data, 0.0, atol=1e-6)


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"LSTM layer 'lstm' expects sequences of rank 3.*\(2, 5\)"):
        layers.LSTM(2, name="lstm")(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"GRU layer 'g'.*mask must have shape \(batch, timesteps\) = \(2, 5\), got \(2, 4\)"):
        layers.GRU(2, name="g")(np.zeros((2, 5, 3)), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"Embedding layer 'emb'.*\[0, 10\).*got id 10"):
        layers.Embedding(10, 2, name="emb")(np.array([[1, 10]]))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="dropout must be in"):
        layers.GRU(2, dropout=1.5)
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="return_state=True gives several outputs"):
        layers.LSTM(2, return_state=True)(myelin.Input(shape=(3, 2)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.LSTM(3, return_sequences=True, dropout=0.1, recurrent_dropout=0.2, unit_forget_bias=False),
        lambda: layers.GRU(3, reset_after=False, go_backwards=True, return_sequences=True),
        lambda: layers.SimpleRNN(3, activation="relu", return_sequences=True),
        lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum"),
        lambda: layers.TimeDistributed(layers.Dense(3)),
        lambda: layers.RNN(layers.GRUCell(3), return_sequences=True),
    ],
)
def test_config_round_trip_and_saving(make, tmp_path):
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    checks.config_round_trip(make(), x)
    model = checks.model_of(make(), (5, 4))
    checks.saving(model, x, tmp_path)
    model.summary(print_fn=lambda *a, **k: None)


def test_keras_weight_layouts_and_forget_bias():
    lstm = layers.LSTM(3)
    lstm.build((None, 4, 2))
    assert [w.shape for w in lstm.weights] == [(2, 12), (3, 12), (12,)]
    np.testing.assert_array_equal(lstm.cell.bias.data, [0] * 3 + [1] * 3 + [0] * 6)
    gru = layers.GRU(3)
    gru.build((None, 4, 2))
    assert [w.shape for w in gru.weights] == [(2, 9), (3, 9), (2, 9)]
    q = lstm.cell.recurrent_kernel.data
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-5)  # orthogonal rows (3 x 12)
    assert lstm.units == 3 and lstm.get_config()["units"] == 3


def test_fit_replays_the_recorded_step_with_the_same_numbers():
    """Embedding(mask_zero) -> LSTM (recurrent dropout) -> GRU: the replayed step equals the ordinary one bit for bit."""
    gen = np.random.default_rng(0)
    x = gen.integers(1, 20, size=(64, 7)).astype(np.float32)
    x[:, 5:] = 0
    x[::3, 3:] = 0
    y = (x[:, 0] > 10).astype(np.float32)

    def train(jit):
        myelin.utils.set_random_seed(5)
        model = myelin.Sequential(
            [
                myelin.Input(shape=(7,)),
                layers.Embedding(20, 8, mask_zero=True),
                layers.LSTM(6, return_sequences=True, recurrent_dropout=0.1, dropout=0.1),
                layers.SimpleRNN(5, return_sequences=True, go_backwards=True),
                layers.GRU(5),
                layers.Dropout(0.1),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile("adam", "binary_crossentropy", jit_compile=jit)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False, validation_split=0.25)
        return model, history.history, model.predict(x, verbose=0)

    plain, h_plain, p_plain = train(False)
    fast, h_fast, p_fast = train("auto")
    assert fast.compile_status.startswith("compiled"), fast.compile_status
    assert h_plain == h_fast
    np.testing.assert_array_equal(p_plain, p_fast)
    for a, b in zip(plain.get_weights(), fast.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: [layers.LSTM(5, return_sequences=True), layers.LSTM(3, go_backwards=True)],
        lambda: [layers.GRU(5, return_sequences=True, go_backwards=True), layers.GRU(3, reset_after=False)],
        lambda: [layers.SimpleRNN(4, return_sequences=True), layers.SimpleRNN(3, activation="relu")],
        lambda: [layers.Bidirectional(layers.LSTM(4, return_sequences=True)), layers.Bidirectional(layers.GRU(3))],
        lambda: [layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="sum")],
        lambda: [layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="ave")],
        lambda: [layers.Bidirectional(layers.SimpleRNN(3), merge_mode="mul")],
        lambda: [layers.LSTM(4), layers.RepeatVector(3), layers.LSTM(4, return_sequences=True), layers.Dense(2)],
    ],
)
def test_onnx_export_matches_predict_in_onnxruntime(make, tmp_path):
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    model = myelin.Sequential([myelin.Input(shape=(6, 4)), *make()])
    # Non-zero biases, so that a bias in the wrong slot shows.
    for w in model.weights:
        if w.name.endswith("bias"):
            w.data[...] = rng.standard_normal(w.shape).astype(np.float32) * 0.5
    checks.onnx_export(model, x, tmp_path)


def test_onnx_export_of_an_embedding_and_refusals(tmp_path):
    ids = np.array([[1, 2, 3, 4], [5, 6, 7, 0]])
    model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Embedding(8, 3), layers.GRU(2)])
    checks.onnx_export(model, ids, tmp_path)
    from myelin.onnx import ExportError

    masked = myelin.Sequential([myelin.Input(shape=(4,)), layers.Embedding(8, 3, mask_zero=True), layers.LSTM(2)])
    with pytest.raises(ExportError, match="mask_zero=True"):
        masked.export(tmp_path / "m.onnx", format="onnx")
    odd = myelin.Sequential([myelin.Input(shape=(4, 2)), layers.LSTM(2, activation="relu")])
    with pytest.raises(ExportError, match="default activations"):
        odd.export(tmp_path / "o.onnx", format="onnx")


def test_constraints_hold_after_every_training_step():
    """Embedding and the recurrent layers take Keras's constraints; the optimizer applies them after each update."""
    rng = np.random.default_rng(0)
    tokens, targets = rng.integers(0, 20, (32, 6)), rng.standard_normal((32, 1))
    model = myelin.Sequential(
        [
            myelin.Input(shape=(6,)),
            layers.Embedding(20, 4, embeddings_constraint="non_neg", embeddings_initializer="random_normal"),
            layers.LSTM(3, kernel_constraint="non_neg", recurrent_constraint=myelin.constraints.MaxNorm(0.5, axis=0)),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer=myelin.optimizers.SGD(0.5), loss="mse")
    model.fit(tokens, targets, batch_size=8, epochs=2, verbose=0)
    emb, lstm = model.layers[0], model.layers[1]
    assert emb.embeddings.data.min() >= 0 and lstm.cell.kernel.data.min() >= 0
    norms = np.sqrt((lstm.cell.recurrent_kernel.data**2).sum(axis=0))
    assert norms.max() <= 0.5 + 1e-6
    assert lstm.get_config()["kernel_constraint"]["class_name"] == "NonNeg"


def test_unroll_is_an_implementation_hint_with_the_same_numbers():
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    rolled, unrolled = layers.LSTM(4, return_sequences=True), layers.LSTM(4, return_sequences=True, unroll=True)
    rolled(x)
    unrolled(x)
    unrolled.set_weights(rolled.get_weights())
    np.testing.assert_array_equal(unrolled(x).data, rolled(x).data)
    assert unrolled.get_config()["unroll"] is True
    with pytest.raises(ValueError, match="unroll=True needs a known number of time steps"):
        layers.GRU(2, unroll=True)(myelin.Input(shape=(None, 3)))


def test_dropout_reaches_stacked_and_unfused_cells():
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    for layer in (
        layers.RNN([layers.SimpleRNNCell(3, dropout=0.5, seed=1), layers.LSTMCell(2, recurrent_dropout=0.5, seed=2)]),
        layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, recurrent_activation="hard_sigmoid", seed=3),
    ):
        inference = layer(x, training=False).data
        assert not np.allclose(layer(x, training=True).data, inference)
        np.testing.assert_array_equal(layer(x, training=False).data, inference)
