"""Recorded and replayed training steps: results equal the ordinary path's bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Model, Sequential, Tensor, layers, losses, ops, regularizers
from myelin.tape import Plan, Tape

RNG = np.random.default_rng(5)
X = RNG.normal(size=(203, 6)).astype(np.float32)  # 203: the last batch is partial
LABELS = RNG.integers(0, 3, 203)


def train(build, jit, compile_kwargs, fit_kwargs, y, epochs=3, x=X):
    myelin.utils.set_random_seed(7)
    model = build()
    model.compile(jit_compile=jit, **compile_kwargs)
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, **fit_kwargs)
    predictions = model.predict(x, verbose=0)
    return model, history.history, predictions


def assert_same(build, compile_kwargs, y, fit_kwargs=None, replayed=True, x=X):
    fit_kwargs = fit_kwargs or {}
    plain, h_plain, p_plain = train(build, False, compile_kwargs, fit_kwargs, y, x=x)
    fast, h_fast, p_fast = train(build, "auto", compile_kwargs, fit_kwargs, y, x=x)
    assert fast.compile_status.startswith("compiled") == replayed, fast.compile_status
    for a, b in zip(plain.get_weights(), fast.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h_plain == h_fast
    for a, b in zip(p_plain if isinstance(p_plain, list) else [p_plain], p_fast if isinstance(p_fast, list) else [p_fast]):
        np.testing.assert_array_equal(a, b)
    return fast


def mlp(dropout=0.0, reg=None, act="relu", out=3, out_act="softmax"):
    def build():
        stack = [layers.Input(shape=(6,)), layers.Dense(16, activation=act, kernel_regularizer=reg)]
        if dropout:
            stack.append(layers.Dropout(dropout))
        stack += [layers.Dense(8, activation="tanh", bias_regularizer=reg), layers.Dense(out, activation=out_act)]
        return Sequential(stack)

    return build


def test_sequential_with_dropout_regularizers_partial_batches_and_validation():
    model = assert_same(
        mlp(dropout=0.3, reg=regularizers.L1L2(1e-3, 1e-3)),
        {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        LABELS,
        {"validation_split": 0.2},
    )
    assert model.compile_status == "compiled: 2 training step shape(s) recorded"


@pytest.mark.parametrize(
    ("loss", "out", "out_act", "target", "metric"),
    [
        ("categorical_crossentropy", 3, "softmax", np.eye(3, dtype=np.float32)[LABELS], "accuracy"),
        (losses.CategoricalCrossentropy(label_smoothing=0.1), 3, "softmax", np.eye(3, dtype=np.float32)[LABELS], "auc"),
        (losses.SparseCategoricalCrossentropy(from_logits=True), 3, None, LABELS, "accuracy"),
        ("binary_crossentropy", 1, "sigmoid", (LABELS == 1).astype(np.float32), "accuracy"),  # (n,) targets, (n, 1) output
        ("mse", 1, None, X[:, 0] * 2.0, "mae"),
        ("mae", 2, None, X[:, :2], "rmse"),
        ("huber", 1, "linear", X[:, 1], "mse"),
    ],
)
def test_every_builtin_loss_replays_exactly(loss, out, out_act, target, metric):
    assert_same(mlp(out=out, out_act=out_act), {"optimizer": "rmsprop", "loss": loss, "metrics": [metric]}, target)


@pytest.mark.parametrize("act", ["elu", "selu", "gelu", "sigmoid", "softplus", "swish", "leaky_relu", "hard_sigmoid"])
def test_activations_replay_exactly(act):
    assert_same(mlp(act=act), {"optimizer": "sgd", "loss": "sparse_categorical_crossentropy"}, LABELS)


def test_sample_and_class_weights_replay_exactly():
    compile_kwargs = {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "weighted_metrics": ["accuracy"]}
    assert_same(mlp(), compile_kwargs, LABELS, {"sample_weight": RNG.uniform(0, 2, 203)})
    assert_same(mlp(), compile_kwargs, LABELS, {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}})


def test_functional_two_outputs_replay_exactly():
    def build():
        inputs = myelin.Input(shape=(6,))
        hidden = layers.Dense(12, activation="relu")(inputs)
        a = layers.Dense(3, activation="softmax", name="a")(hidden)
        b = layers.Dense(1, name="b")(layers.Dropout(0.2)(hidden))
        return Model(inputs, [a, b])

    compile_kwargs = {
        "optimizer": "adam",
        "loss": ["sparse_categorical_crossentropy", "mse"],
        "loss_weights": [1.0, 0.3],
        "metrics": [["accuracy"], ["mae"]],
    }
    assert_same(build, compile_kwargs, [LABELS, X[:, 0]])


def test_two_inputs_joined_by_concatenate_replay_exactly():
    def build():
        a, b = myelin.Input(shape=(4,)), myelin.Input(shape=(2,))
        joined = layers.Concatenate()([layers.Dense(5, activation="relu")(a), b])
        return Model([a, b], layers.Dense(3, activation="softmax")(joined))

    model = assert_same(
        build, {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"}, LABELS, x=[X[:, :4], X[:, 4:]]
    )
    assert model.compile_status.startswith("compiled")


def test_custom_layer_or_loss_is_not_replayed():
    class Doubler(layers.Layer):
        def call(self, x, training=False):
            return x * 2.0

    def build():
        return Sequential([layers.Input(shape=(6,)), Doubler(), layers.Dense(3, activation="softmax")])

    model = assert_same(build, {"optimizer": "sgd", "loss": "sparse_categorical_crossentropy"}, LABELS, replayed=False)
    assert "Doubler" in model.compile_status
    custom = assert_same(
        mlp(), {"optimizer": "sgd", "loss": lambda t, p: ops.mean(ops.square(p), axis=-1)}, LABELS, replayed=False
    )
    assert "loss" in custom.compile_status


def test_jit_compile_true_refuses_loudly_and_false_turns_it_off():
    class Custom(layers.Layer):
        def call(self, x, training=False):
            return x

    model = Sequential([layers.Input(shape=(6,)), Custom(), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    with pytest.raises(ValueError, match=r"jit_compile=True.*Custom"):
        model.fit(X, np.zeros((203, 3)), verbose=0)
    plain = mlp()()
    plain.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    plain.fit(X, np.zeros((203, 3)), verbose=0)
    assert plain.compile_status.startswith("not compiled: run_eagerly")
    with pytest.raises(ValueError, match="jit_compile"):
        plain.compile(optimizer="sgd", loss="mse", jit_compile="always")


def test_anomaly_hook_disables_recording(monkeypatch):
    from myelin import tensor

    calls = []
    monkeypatch.setattr(tensor, "_anomaly_hook", lambda *args: calls.append(args[0]))
    model = mlp()()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(X, LABELS, epochs=2, verbose=0)
    assert model.compile_status == "compiled: 0 training step shape(s) recorded"
    assert calls.count("forward") > 2 * 7 * 3  # every step ran the ordinary, hooked path


def test_tape_refuses_constants_that_may_come_from_data():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    data = np.arange(3, dtype=np.float32)
    with Tape([data]) as tape:
        mask = data > 1  # computed outside the graph from the data
        loss = ops.sum(ops.where(mask, ops.mul(w, Tensor(data)), w))
    with pytest.raises(ValueError, match="option 'condition' holds an array"):
        Plan(tape, loss, [])
    with Tape([data]) as tape:
        loss = ops.sum(ops.mul(w, Tensor(data.copy())))
    with pytest.raises(ValueError, match="constant input of shape"):
        Plan(tape, loss, [])


def test_replay_matches_ordinary_backward_with_shared_nodes():
    w = Tensor(RNG.normal(size=(4, 4)).astype(np.float32), requires_grad=True)
    x = RNG.normal(size=(5, 4)).astype(np.float32)

    def step():
        h = ops.tanh(ops.matmul(Tensor(x), w))
        return ops.sum(ops.mul(ops.add(h, h), ops.matmul(h, w)))  # h and w used several times

    with Tape([x]) as tape:
        loss = step()
    plan = Plan(tape, loss, [])
    loss.backward()
    value, _, grads = plan.run([x])
    assert value == loss.data
    np.testing.assert_array_equal(grads[0], w.grad)


def test_predict_replays_and_forgets_recordings_when_the_stack_changes():
    model = mlp()()
    first = model.predict(X, batch_size=16, verbose=0)  # 12 full batches and a partial one
    assert len(model._infer_plans) == 2
    np.testing.assert_array_equal(first, model.predict(X, batch_size=16, verbose=0))
    np.testing.assert_array_equal(first[:16], model.predict_on_batch(X[:16]))
    with myelin.no_grad():
        direct = model(X).data
    np.testing.assert_allclose(first, direct, rtol=1e-6)
    model.add(layers.Dense(2))
    assert model.predict(X, batch_size=16, verbose=0).shape == (203, 2)


def test_predict_of_a_custom_layer_model_is_not_replayed():
    class Noisy(layers.Layer):
        def call(self, x, training=False):
            return x + float(x.data.mean())  # reads the data: must run every time

    model = Sequential([layers.Input(shape=(6,)), Noisy()])
    a = model.predict(X[:8], verbose=0)
    b = model.predict(X[8:16], verbose=0)
    np.testing.assert_allclose(b, X[8:16] + X[8:16].mean(), rtol=1e-6)
    assert model._infer_plans is None and a.shape == (8, 6)


def test_normalization_and_rescaling_replay_exactly_and_read_the_statistics_when_they_run():
    stats = X * 3.0 + 5.0

    def build():
        norm = layers.Normalization()
        norm.adapt(stats)
        return Sequential(
            [
                layers.Input(shape=(6,)),
                layers.Rescaling(3.0, offset=5.0),
                norm,
                layers.Dense(8, activation="relu"),
                layers.Dense(3),
            ]
        )

    compile_kwargs = {"optimizer": "adam", "loss": losses.SparseCategoricalCrossentropy(from_logits=True)}
    model = assert_same(build, compile_kwargs, LABELS, {"validation_split": 0.2})
    assert model.compile_status.startswith("compiled")
    assert model._infer_plans  # predict was replayed too
    # new statistics after recording: the replayed predict uses them, as the ordinary path does
    before = model.predict(X, verbose=0)
    model.layers[1].adapt(stats * 2.0)
    replayed = model.predict(X, verbose=0)
    with myelin.no_grad():
        direct = model(X).data
    np.testing.assert_allclose(replayed, direct, rtol=1e-6)
    assert not np.allclose(replayed, before)


def test_a_per_feature_rescaling_is_not_replayed():
    def build():
        return Sequential([layers.Input(shape=(6,)), layers.Rescaling([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), layers.Dense(3)])

    model = assert_same(
        build, {"optimizer": "sgd", "loss": "mse"}, RNG.normal(size=(203, 3)).astype(np.float32), replayed=False
    )
    assert "constant input" in model.compile_status
