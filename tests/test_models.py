"""Models: Sequential, functional and subclassed; compile, fit, evaluate, predict, summary."""

from __future__ import annotations

import io

import numpy as np
import pytest

import myelin
from myelin import Model, Sequential, layers, losses, ops

RNG = np.random.default_rng(11)


def blobs(n=300, classes=3, features=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(classes, features)) * 4
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(size=(n, features))).astype(np.float32)
    return x, y


def small_model(units=(16,), outputs=3, activation="softmax"):
    return Sequential(
        [layers.Input(shape=(4,))]
        + [layers.Dense(u, activation="relu") for u in units]
        + [layers.Dense(outputs, activation=activation)]
    )


def test_sequential_construction_styles():
    a = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(3)])
    assert a.built and a.output_shape == (None, 3) and a.input_shape == (None, 4)
    b = Sequential()
    b.add(myelin.Input(shape=(4,)))
    b.add(layers.Dense(8))
    b.add(layers.Dense(3))
    assert b.output_shape == (None, 3) and len(b.layers) == 2
    c = Sequential([layers.Dense(3)])  # no input shape: built on the first data
    assert not c.built
    assert c.predict(np.zeros((2, 5)), verbose=0).shape == (2, 3)
    assert c.built and c.layers[0].kernel.shape == (5, 3)
    popped = b.pop()
    assert popped.units == 3 and b.output_shape == (None, 8)
    with pytest.raises(TypeError, match="expects a Layer"):
        Sequential([np.zeros(3)])
    with pytest.raises(ValueError, match="unique names"):
        Sequential([layers.Dense(2, name="d"), layers.Dense(2, name="d")])


def test_fit_learns_and_returns_history():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 15 and history.epoch == list(range(15))
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    assert history.history["val_accuracy"][-1] > 0.9
    assert model.history is history
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9 and loss < 0.5
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"loss": pytest.approx(loss), "accuracy": pytest.approx(acc)}
    proba = model.predict(x, verbose=0)
    assert proba.shape == (300, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (proba.argmax(1) == y).mean() == pytest.approx(acc)


def test_reported_loss_is_the_batch_size_weighted_mean():
    x, y = blobs(n=50)
    model = small_model()
    model.compile(optimizer=myelin.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    expected = model.evaluate(x, y, batch_size=50, verbose=0)  # lr 0: the weights never moved
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = blobs(n=100)
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(model.evaluate(x[75:], y[75:], verbose=0), rel=1e-5)
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\)"):
        model.fit(x, y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match="leaves no training samples"):
        model.fit(x[:2], y[:2], validation_split=0.6, verbose=0)


def test_validation_data_and_freq():
    x, y = blobs(n=80)
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=4, validation_data=(x[:20], y[:20]), validation_freq=2, verbose=0)
    assert len(h.history["val_loss"]) == 2 and len(h.history["loss"]) == 4


def test_same_seed_gives_identical_weights():
    def train():
        myelin.utils.set_random_seed(42)
        x, y = blobs()
        m = Sequential(
            [
                layers.Input(shape=(4,)),
                layers.Dense(16, activation="relu"),
                layers.Dropout(0.3),
                layers.Dense(3, activation="softmax"),
            ]
        )
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        m.fit(x, y, epochs=3, batch_size=16, verbose=0)
        return m.get_weights()

    first, second = train(), train()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_one_hot_targets_and_categorical_accuracy():
    x, y = blobs()
    model = small_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, myelin.utils.to_categorical(y), epochs=15, verbose=0)
    assert isinstance(model._compiled_metrics.all()[0], myelin.metrics.CategoricalAccuracy)
    assert h.history["accuracy"][-1] > 0.9  # top-k accuracy: tests/test_model_arguments.py (k < classes)


def test_binary_classification_and_regression():
    x, y = blobs(classes=2)
    model = small_model(outputs=1, activation="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "auc", "precision", "recall"])
    h = model.fit(x, y, epochs=10, verbose=0)
    assert h.history["accuracy"][-1] > 0.9 and h.history["auc"][-1] > 0.95
    target = x @ np.array([1.0, -2.0, 0.5, 3.0], np.float32) + 1.0
    reg = Sequential([layers.Input(shape=(4,)), layers.Dense(1)])
    reg.compile(optimizer=myelin.optimizers.Adam(0.05), loss="mse", metrics=["mae", "rmse"])
    h = reg.fit(x, target, epochs=60, verbose=0)
    assert h.history["loss"][-1] < 0.05 * h.history["loss"][0]
    np.testing.assert_allclose(reg.layers[0].kernel.data.ravel(), [1.0, -2.0, 0.5, 3.0], atol=0.05)
    assert h.history["root_mean_squared_error" if "root_mean_squared_error" in h.history else "rmse"][-1] > 0


def test_class_weight_and_sample_weight():
    x, y = blobs(n=60)
    model = small_model()
    model.compile(optimizer=myelin.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    base = model.evaluate(x, y, verbose=0)
    weighted = model.evaluate(x, y, sample_weight=np.where(y == 0, 2.0, 0.0), verbose=0)
    per_sample = losses.sparse_categorical_crossentropy(y, myelin.Tensor(model.predict(x, verbose=0))).data
    assert weighted == pytest.approx((per_sample * np.where(y == 0, 2.0, 0.0)).mean(), rel=1e-5)
    assert base == pytest.approx(per_sample.mean(), rel=1e-5)
    h = model.fit(x, y, class_weight={0: 2.0, 1: 0.0, 2: 0.0}, batch_size=60, epochs=1, verbose=0)
    assert h.history["loss"][0] == pytest.approx(weighted, rel=1e-5)
    with pytest.raises(ValueError, match="class_weight has no entry"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_initial_epoch_and_steps_per_epoch():
    x, y = blobs(n=64)
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert h.epoch == [3, 4]
    seen = []
    cb = myelin.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    model.fit(x, y, epochs=1, batch_size=8, steps_per_epoch=3, callbacks=[cb], verbose=0)
    assert seen == [0, 1, 2]


def test_batch_size_larger_than_data_trains_one_partial_batch():
    x, y = blobs(n=10)
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = []
    cb = myelin.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    model.fit(x, y, batch_size=1000, epochs=2, callbacks=[cb], verbose=0)
    assert seen == [0, 0]


def test_train_test_predict_on_batch():
    x, y = blobs(n=32)
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    for _ in range(30):
        model.train_on_batch(x, y)
    after = model.test_on_batch(x, y, return_dict=True)
    assert after["loss"] < before[0] and set(after) == {"loss", "accuracy"}
    assert model.predict_on_batch(x).shape == (32, 3)


def test_inputs_lists_pandas_and_dtypes():
    pd = pytest.importorskip("pandas")
    x, y = blobs(n=40)
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x.tolist(), y.tolist(), epochs=1, verbose=0)
    frame = pd.DataFrame(x, columns=list("abcd"))
    model.fit(frame, pd.Series(y), epochs=1, verbose=0)
    assert model.predict(frame, verbose=0).shape == (40, 3)
    model.fit(x.astype(np.float64), y.astype(np.int32), epochs=1, verbose=0)
    model.fit((x * 10).astype(np.uint8), y, epochs=1, verbose=0)
    assert model.layers[0].kernel.dtype == np.float32


def test_errors_name_what_is_wrong():
    x, y = blobs(n=40)
    model = small_model()
    with pytest.raises(RuntimeError, match="call compile"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="x has 40 samples but y has 39"):
        model.fit(x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 4\).*x has shape \(40, 5\)"):
        model.fit(np.zeros((40, 5)), y, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.zeros((0, 4)), np.zeros(0), verbose=0)
    with pytest.raises(TypeError, match="strings or Python objects"):
        model.fit(np.array([["a", "b", "c", "d"]] * 40), y, verbose=0)
    with pytest.raises(ValueError, match="needs a loss"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="y is required"):
        model.fit(x, verbose=0)


def test_functional_model_with_two_outputs_and_loss_weights():
    inputs = myelin.Input(shape=(4,), name="features")
    hidden = layers.Dense(16, activation="relu", name="shared")(inputs)
    species = layers.Dense(3, activation="softmax", name="species")(hidden)
    size = layers.Dense(1, name="size")(hidden)
    model = Model(inputs, [species, size])
    assert [layer.name for layer in model.layers] == ["features", "shared", "species", "size"]
    assert model.output_shape == [(None, 3), (None, 1)]
    x, y = blobs()
    target = x.sum(axis=1, keepdims=True)
    model.compile(
        optimizer="adam",
        loss={"species": "sparse_categorical_crossentropy", "size": "mse"},
        loss_weights={"species": 1.0, "size": 0.1},
        metrics={"species": ["accuracy"]},
    )
    h = model.fit(x, [y, target], epochs=10, verbose=0)
    assert {"loss", "species_loss", "size_loss", "species_accuracy"} <= set(h.history)
    last = {k: v[-1] for k, v in h.history.items()}
    assert last["loss"] == pytest.approx(last["species_loss"] + 0.1 * last["size_loss"], rel=1e-4)
    probs, sizes = model.predict(x, verbose=0)
    assert probs.shape == (300, 3) and sizes.shape == (300, 1)


def test_functional_model_with_two_inputs():
    a, b = myelin.Input(shape=(2,)), myelin.Input(shape=(3,))
    ha = layers.Dense(4, name="ha")(a)
    hb = layers.Dense(4, name="hb")(b)

    class Add(layers.Layer):
        def call(self, xs, training=False):
            return ops.add(xs[0], xs[1])

    model = Model([a, b], layers.Dense(1)(Add()([ha, hb])))
    model.compile(optimizer="adam", loss="mse")
    xa, xb = RNG.normal(size=(20, 2)), RNG.normal(size=(20, 3))
    model.fit([xa, xb], np.ones(20), epochs=2, verbose=0)
    assert model.predict([xa, xb], verbose=0).shape == (20, 1)
    text = io.StringIO()
    model.summary(print_fn=lambda line: text.write(line + "\n"))
    assert "Connected to" in text.getvalue() and "ha, hb" in text.getvalue()


def test_subclassed_model():
    class TwoLayer(Model):
        def __init__(self):
            super().__init__(name="two_layer")
            self.hidden = layers.Dense(16, activation="relu")
            self.out = layers.Dense(3, activation="softmax")

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    model = TwoLayer()
    x, y = blobs()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=10, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    assert len(model.trainable_weights) == 4 and len(model.layers) == 2
    with pytest.raises(NotImplementedError, match="must define call"):
        Model().predict(x, verbose=0)


def test_regularization_adds_to_the_loss():
    x, _ = blobs(n=32)
    plain = Sequential([layers.Input(shape=(4,)), layers.Dense(3, kernel_initializer="ones")])
    reg = Sequential(
        [layers.Input(shape=(4,)), layers.Dense(3, kernel_initializer="ones", kernel_regularizer=myelin.regularizers.L2(0.1))]
    )
    for m in (plain, reg):
        m.compile(optimizer="sgd", loss="mse")
    target = np.zeros((32, 3))
    assert reg.evaluate(x, target, verbose=0) == pytest.approx(plain.evaluate(x, target, verbose=0) + 0.1 * 12, rel=1e-5)


def test_frozen_layer_is_not_updated():
    x, y = blobs(n=32)
    model = small_model()
    model.layers[0].trainable = False
    frozen = model.layers[0].kernel.data.copy()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.data, frozen)
    assert model.layers[0].kernel.grad is None


def test_summary_matches_keras_layout():
    model = Sequential(
        [
            layers.Dense(64, activation="relu", input_shape=(784,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "sequential"'
    assert "dense (Dense)" in text and "(None, 64)" in text and "50,240" in text and "650" in text
    assert " Total params: 55,050 (215.04 KB)" in lines and " Trainable params: 55,050 (215.04 KB)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines
    assert all(len(line) == len(lines[1]) for line in lines[1:-3])  # a rectangular table
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(np.zeros((4, 784)), np.eye(10)[[0, 1, 2, 3]], verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[-1] == " Optimizer params: 110,102 (430.09 KB)"
    unbuilt = Sequential([layers.Dense(3)])
    lines = []
    unbuilt.summary(print_fn=lines.append)
    assert any("?" in line and "unbuilt" in line for line in lines)
    assert "<b>Model: sequential</b>" in model._repr_html_()


def test_get_layer_and_weights_api():
    model = small_model(units=(8,))
    assert model.get_layer("dense").units == 8 and model.get_layer(index=1).units == 3
    with pytest.raises(ValueError, match="no layer named"):
        model.get_layer("nope")
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 3), (3,)]
    model.set_weights([np.zeros_like(w) for w in weights])
    assert all(np.all(w == 0) for w in model.get_weights())
    assert len(model.weights) == len(model.trainable_weights) == 4


def test_clone_model():
    model = small_model()
    clone = myelin.models.clone_model(model)
    assert clone.count_params() == model.count_params()
    assert not np.array_equal(clone.layers[0].kernel.data, model.layers[0].kernel.data)


# A whole Sequential network's loss and gradients against PyTorch from the same weights: tests/torch_cases.py's
# "network/sequential_dense_layers", run by tests/test_torch_golden.py (committed values everywhere, torch where installed).
