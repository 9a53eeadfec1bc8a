"""Saving and loading: round trips, exact continuation of training, weights files, custom objects."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import myelin
from myelin import Model, Sequential, backend, layers, ops, optimizers, saving

RNG = np.random.default_rng(5)
X = RNG.normal(size=(96, 4)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)


def mlp(dropout: float = 0.2) -> Sequential:
    return Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(3, activation="softmax"),
        ]
    )


def same_weights(a: Model, b: Model) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(p, q) for p, q in zip(wa, wb))


def continue_both(original: Model, loaded: Model, x, y, **fit_args) -> None:
    """Train both models from the same generator state, as if the save had never happened."""
    state = backend.rng_state()
    original.fit(x, y, verbose=0, **fit_args)
    backend.set_rng_state(state)
    loaded.fit(x, y, verbose=0, **fit_args)


def test_sequential_round_trip_predicts_identically_and_continues_exactly(tmp_path):
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "mlp.myelin"
    model.save(path)

    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "model.safetensors"]
        config = json.loads(zf.read("config.json"))
    assert config["format"] == "myelin" and config["format_version"] == saving.FORMAT_VERSION
    assert config["kind"] == "model" and config["model"]["class_name"] == "Sequential"
    assert config["optimizer_state"]["iterations"] == 12
    assert set(config["tensors"]) == {
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
        *(f"optimizer/{w}/{slot}" for w in ("dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias") for slot in "mv"),
    }

    loaded = myelin.models.load_model(path)
    assert isinstance(loaded, Sequential) and loaded is not model
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "Dropout", "Dense"]
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert loaded.optimizer.iterations == 12 and type(loaded.optimizer) is optimizers.Adam
    assert loaded.get_compile_config() == model.get_compile_config()

    continue_both(model, loaded, X, Y, epochs=3, batch_size=16)
    assert same_weights(model, loaded)
    assert model.evaluate(X, Y, verbose=0) == loaded.evaluate(X, Y, verbose=0)


@pytest.mark.parametrize(
    "optimizer",
    [
        optimizers.SGD(0.05),
        optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        optimizers.Adam(0.01, amsgrad=True, clipnorm=1.0),
        optimizers.AdamW(0.01, weight_decay=0.05),
        optimizers.RMSprop(0.01, momentum=0.5, centered=True, global_clipnorm=2.0),
        optimizers.Adagrad(0.05),
        optimizers.Adam(optimizers.schedules.ExponentialDecay(0.01, 5, 0.5), use_ema=True, ema_overwrite_frequency=4),
    ],
    ids=["sgd", "nesterov", "amsgrad", "adamw", "rmsprop", "adagrad", "schedule-ema"],
)
def test_every_optimizer_continues_exactly_after_a_reload(tmp_path, optimizer):
    model = mlp()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    if isinstance(optimizer, optimizers.AdamW):
        optimizer.exclude_from_weight_decay(var_names=["bias"])
    model.fit(X, Y, epochs=1, batch_size=32, verbose=0)
    model.save(tmp_path / "m.myelin")
    loaded = myelin.models.load_model(tmp_path / "m.myelin")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    continue_both(model, loaded, X, Y, epochs=2, batch_size=32)
    assert same_weights(model, loaded)


def test_functional_two_outputs_and_a_shared_layer_round_trip(tmp_path):
    inputs = myelin.Input(shape=(4,), name="features")
    shared = layers.Dense(8, activation="tanh", name="shared")
    hidden = shared(inputs)
    again = shared(layers.Dense(4, name="back")(hidden))  # the same layer called a second time
    species = layers.Dense(3, activation="softmax", name="species")(again)
    size = layers.Dense(1, name="size")(hidden)
    model = Model(inputs, [species, size], name="two_heads")
    model.compile(
        optimizer=optimizers.SGD(0.05, momentum=0.9),
        loss={"species": "sparse_categorical_crossentropy", "size": myelin.losses.Huber(delta=2.0)},
        loss_weights={"species": 1.0, "size": 0.5},
        metrics={"species": ["accuracy"], "size": ["mae"]},
    )
    target = X.sum(axis=1, keepdims=True)
    model.fit(X, [Y, target], epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "heads.myelin")

    loaded = myelin.models.load_model(tmp_path / "heads.myelin")
    assert type(loaded) is Model and loaded.name == "two_heads"
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.get_config()["nodes"] == model.get_config()["nodes"]
    for a, b in zip(model.predict(X, verbose=0), loaded.predict(X, verbose=0)):
        np.testing.assert_array_equal(a, b)
    continue_both(model, loaded, X, [Y, target], epochs=2, batch_size=16)
    assert same_weights(model, loaded)
    assert model.evaluate(X, [Y, target], verbose=0, return_dict=True) == loaded.evaluate(
        X, [Y, target], verbose=0, return_dict=True
    )


@saving.register_serializable(package="Tests")
class Scale(layers.Layer):
    """y = x * w * factor, one weight per feature."""

    def __init__(self, factor: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")

    def call(self, x, training=False):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@saving.register_serializable(package="Tests")
def cube_activation(x):
    return x * x * x


@saving.register_serializable(package="Tests")
def squared_log_error(y_true, y_pred):
    diff = ops.log(ops.add(ops.abs(y_pred), 1.0)) - ops.log(ops.as_tensor(np.abs(y_true) + 1.0, y_pred))
    return ops.mean(diff * diff, axis=-1)


@saving.register_serializable(package="Tests")
class Residual(Model):
    def __init__(self, units: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units, activation="relu")
        self.scale = Scale(0.5)
        self.head = layers.Dense(1, activation=cube_activation)

    def call(self, x, training=False):
        return self.head(self.scale(self.inner(x)))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_registered_custom_layer_activation_loss_and_subclassed_model_round_trip(tmp_path):
    model = Residual(units=6, name="residual")
    model.compile(optimizer="adam", loss=squared_log_error)
    target = X[:, :1] * 0.1
    model.fit(X, target, epochs=2, batch_size=32, verbose=0)
    model.save(tmp_path / "custom.myelin")
    config = saving.read_file(tmp_path / "custom.myelin")[0]
    assert config["model"]["class_name"] == "Tests>Residual"
    assert config["compile"]["loss"] == "Tests>squared_log_error"

    loaded = myelin.models.load_model(tmp_path / "custom.myelin")
    assert type(loaded) is Residual and loaded.units == 6 and loaded.name == "residual"
    assert loaded.head.activation is cube_activation and loaded.scale.factor == 0.5
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    continue_both(model, loaded, X, target, epochs=1, batch_size=32)
    assert same_weights(model, loaded)

    custom_in_sequential = Sequential([layers.Input(shape=(4,)), Scale(2.0), layers.Dense(2, activation=cube_activation)])
    custom_in_sequential.save(tmp_path / "seq.myelin")
    again = myelin.models.load_model(tmp_path / "seq.myelin")
    assert again.layers[0].factor == 2.0
    np.testing.assert_array_equal(again.predict(X, verbose=0), custom_in_sequential.predict(X, verbose=0))


@saving.register_serializable(package="Tests")
class TwoInputs(Model):
    """A subclassed model whose call takes a list of two inputs of different widths."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left = layers.Dense(4, activation="relu")
        self.right = layers.Dense(3, activation="tanh")
        self.head = layers.Dense(1)

    def call(self, inputs, training=False):
        a, b = inputs
        return self.head(ops.concatenate([self.left(a), self.right(b)], axis=-1))


def test_subclassed_model_with_two_inputs_trains_checks_saves_and_rebuilds(tmp_path):
    rng = np.random.default_rng(5)
    a, b = rng.random((40, 3), dtype=np.float32), rng.random((40, 5), dtype=np.float32)
    target = a[:, :1] - b[:, :1]
    model = TwoInputs(name="two")
    model.compile(optimizer="adam", loss="mse")
    model.fit([a, b], target, epochs=2, batch_size=8, verbose=0)
    assert model.input_shape == [(None, 3), (None, 5)]
    assert model.layers[0].kernel.shape == (3, 4) and model.layers[1].kernel.shape == (5, 3)
    with pytest.raises(ValueError, match=r"expects 2 input array\(s\), got 1"):
        model.predict(a, verbose=0)
    with pytest.raises(ValueError, match=r"x\[1\] has shape \(40, 4\)"):
        model.predict([a, b[:, :4]], verbose=0)
    model.save(tmp_path / "two.myelin")
    config = saving.read_file(tmp_path / "two.myelin")[0]
    assert config["model"]["build_config"]["input_shape"] == [[None, 3], [None, 5]]
    loaded = myelin.models.load_model(tmp_path / "two.myelin")
    assert loaded.input_shape == [(None, 3), (None, 5)]
    np.testing.assert_array_equal(loaded.predict([a, b], verbose=0), model.predict([a, b], verbose=0))
    # called directly on tensors before any fit, the model builds from both inputs too
    fresh = TwoInputs()
    out = fresh([ops.as_tensor(a), ops.as_tensor(b)])
    assert out.shape == (40, 1) and fresh.input_shape == [(None, 3), (None, 5)]
    with pytest.raises(ValueError, match="expects 2 inputs, got 1"):
        fresh(ops.as_tensor(a))


@pytest.mark.parametrize(
    "shape, message",
    [
        ([[None, 3], [None, 0]], r"input_shape\[1\] must be a list of positive integers"),
        ([[None, 3]] * 1025, r"lists 1,025 inputs, more than the limit of 1024"),
        ([[None, 2**26], [None, 2**26], [None, 2]], r"values per sample, more than the limit"),
        ([[None, 3], 5], r"must be a list of positive integers"),
    ],
)
def test_a_bad_list_of_build_shapes_is_a_model_file_error(shape, message):
    entry = {"class_name": "Tests>TwoInputs", "config": {"name": "t"}, "build_config": {"input_shape": shape}}
    with pytest.raises(saving.ModelFileError, match=message):
        saving.deserialize_layer(entry)


def test_unregistered_objects_are_refused_at_save_time_with_the_fix(tmp_path):
    class Plain(layers.Layer):
        def call(self, x, training=False):
            return x

    model = Sequential([layers.Input(shape=(4,)), Plain(), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"class Plain, which is not registered.*register_serializable"):
        model.save(tmp_path / "plain.myelin")

    def my_loss(y_true, y_pred):
        return ops.mean(ops.abs(y_pred - y_true), axis=-1)

    model = mlp()
    model.compile(optimizer="sgd", loss=my_loss)
    with pytest.raises(ValueError, match=r"loss 'my_loss' is not registered.*register_serializable"):
        model.save(tmp_path / "loss.myelin")

    @saving.register_serializable(package="Tests")
    class Forgetful(layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x, training=False):
            return x * self.factor

    model = Sequential([layers.Input(shape=(4,)), Forgetful(3.0)])
    with pytest.raises(ValueError, match=r"takes 'factor' but get_config\(\) does not return it"):
        model.save(tmp_path / "forgetful.myelin")
    assert not (tmp_path / "plain.myelin").exists() and list(tmp_path.iterdir()) == []


def test_custom_objects_resolve_names_before_the_registries(tmp_path):
    model = Sequential([layers.Input(shape=(4,)), Scale(3.0, name="scale")])
    model.save(tmp_path / "m.myelin")

    class Louder(Scale):
        def call(self, x, training=False):
            return x * self.w * self.factor * 2

    loaded = myelin.models.load_model(tmp_path / "m.myelin", custom_objects={"Tests>Scale": Louder})
    assert type(loaded.layers[0]) is Louder
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), 2 * model.predict(X, verbose=0))


def test_save_weights_and_load_weights_match_layers_by_order_and_shape(tmp_path):
    source = mlp()
    source.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    source.fit(X, Y, epochs=1, verbose=0)
    source.save_weights(tmp_path / "w.myelin")
    config = saving.read_file(tmp_path / "w.myelin")[0]
    assert config["kind"] == "weights" and "optimizer_state" not in config and "model" not in config

    # Different layer names, same structure: matched by order.
    target = Sequential(
        [layers.Input(shape=(4,)), layers.Dense(16, activation="relu", name="a"), layers.Dense(3, activation="softmax")]
    )
    target.load_weights(tmp_path / "w.myelin")
    np.testing.assert_array_equal(target.predict(X, verbose=0), source.predict(X, verbose=0))

    # A whole-model file holds weights too.
    source.save(tmp_path / "full.myelin")
    again = mlp()
    again.load_weights(tmp_path / "full.myelin")
    assert same_weights(again, source)

    wrong = Sequential([layers.Input(shape=(4,)), layers.Dense(16, name="a"), layers.Dense(4, name="b")])
    before = wrong.get_weights()
    shapes = r"\[\(16, 4\), \(4,\)\]"
    with pytest.raises(ValueError, match=rf"layer #1 of the model, 'b' \(Dense\), has weights of shapes {shapes}, "):
        wrong.load_weights(tmp_path / "w.myelin")
    assert all(np.array_equal(a, b) for a, b in zip(before, wrong.get_weights()))
    with pytest.warns(UserWarning, match="skipping"):
        wrong.load_weights(tmp_path / "w.myelin", skip_mismatch=True)
    np.testing.assert_array_equal(wrong.layers[0].kernel.data, source.layers[0].kernel.data)

    deeper = Sequential([layers.Input(shape=(4,)), layers.Dense(16), layers.Dense(16), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"weights for 2 layer\(s\) \('dense', 'dense_1'\) but model .* has 3 layer"):
        deeper.load_weights(tmp_path / "w.myelin")
    with pytest.raises(saving.ModelFileError, match=r"holds weights only, not a model.*load_weights"):
        myelin.models.load_model(tmp_path / "w.myelin")
    with pytest.raises(ValueError, match="has no weights yet"):
        Sequential([layers.Dense(3)]).load_weights(tmp_path / "w.myelin")


def test_a_model_built_on_data_and_an_uncompiled_model_round_trip(tmp_path):
    model = Sequential([layers.Dense(5, activation="tanh"), layers.Dense(2)])
    model.predict(X, verbose=0)  # built from the data's shape
    model.save(tmp_path / "m.myelin")
    loaded = myelin.models.load_model(tmp_path / "m.myelin")
    assert loaded.built and not loaded.compiled and loaded.input_shape == (None, 4)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))

    compiled = mlp()
    compiled.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    compiled.save(tmp_path / "c.myelin")
    assert not myelin.models.load_model(tmp_path / "c.myelin", compile=False).compiled
    with pytest.raises(ValueError, match="has no weights yet"):
        Sequential([layers.Dense(2)]).save(tmp_path / "unbuilt.myelin")
    with pytest.raises(FileExistsError):
        compiled.save(tmp_path / "c.myelin", overwrite=False)
    with pytest.raises(FileNotFoundError, match="no such file"):
        myelin.models.load_model(tmp_path / "missing.myelin")


def test_loading_neither_runs_initializers_nor_moves_the_random_generator(tmp_path):
    model = mlp()
    model.save(tmp_path / "m.myelin")
    state = backend.rng_state()
    myelin.models.load_model(tmp_path / "m.myelin")
    assert backend.rng_state() == state


def test_checkpoints_restore_weights_optimizer_and_state(tmp_path):
    model = mlp()
    model.compile(optimizer=optimizers.RMSprop(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)
    saving.save_checkpoint(model, tmp_path / "ckpt.myelin", {"epoch": 1, "note": "after one"})
    fresh = mlp()
    fresh.compile(optimizer=optimizers.RMSprop(0.01, momentum=0.9), loss="sparse_categorical_crossentropy")
    state = saving.load_checkpoint(fresh, tmp_path / "ckpt.myelin")
    assert state == {"epoch": 1, "note": "after one"}
    assert fresh.optimizer.iterations == model.optimizer.iterations
    continue_both(model, fresh, X, Y, epochs=1)
    assert same_weights(model, fresh)
    with pytest.raises(saving.ModelFileError, match="not a training checkpoint"):
        model.save_weights(tmp_path / "w.myelin") or saving.load_checkpoint(fresh, tmp_path / "w.myelin")
    wrong_optimizer = mlp()
    wrong_optimizer.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = wrong_optimizer.get_weights()
    with pytest.raises(ValueError, match="does not fit Adam"):
        saving.load_checkpoint(wrong_optimizer, tmp_path / "ckpt.myelin")
    assert all(np.array_equal(a, b) for a, b in zip(before, wrong_optimizer.get_weights()))


def test_configs_of_models_and_clone_model():
    inputs = myelin.Input(shape=(3,), name="x")
    outputs = layers.Dense(2, name="y", kernel_regularizer=myelin.regularizers.L2(0.1))(inputs)
    functional = Model(inputs, outputs)
    config = functional.get_config()
    assert config["inputs"] == [["x", 0]] and config["outputs"] == [["y", 0]]
    rebuilt = Model.from_config(config)
    assert rebuilt.layers[1].kernel_regularizer.l2 == pytest.approx(0.1)
    clone = myelin.models.clone_model(functional)
    assert clone.count_params() == functional.count_params()
    assert not np.array_equal(clone.layers[1].kernel.data, functional.layers[1].kernel.data)
    seq = mlp()
    assert Sequential.from_config(seq.get_config()).count_params() == seq.count_params()
    assert [type(lyr).__name__ for lyr in myelin.models.clone_model(seq).layers] == ["Dense", "Dropout", "Dense"]


def test_register_serializable_puts_each_kind_in_its_registry():
    @saving.register_serializable(package="Reg", name="Halve")
    class Halve(myelin.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.5**step

    assert myelin.optimizers.schedules.REGISTRY.lookup("Reg>Halve") is Halve

    @saving.register_serializable(package="Reg")
    def twice(x):
        return x * 2.0

    for registry in (myelin.activations.REGISTRY, myelin.losses.REGISTRY, myelin.metrics.REGISTRY):
        assert registry.lookup("Reg>twice") is twice
    with pytest.raises(TypeError, match="is not a Layer, Model, Loss"):
        saving.register_serializable()(dict)
    with pytest.raises(ValueError, match="without '>'"):
        saving.register_serializable(package="a>b")


def test_the_tensor_member_is_byte_for_byte_what_safetensors_writes(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.myelin")
    with zipfile.ZipFile(tmp_path / "m.myelin") as zf:
        raw = zf.read("model.safetensors")
    _, tensors = saving.read_file(tmp_path / "m.myelin")
    assert raw == st.save(tensors, metadata={"format": "myelin"})
    rng = np.random.default_rng(0)
    mixed = {
        "b/x": rng.random((3, 4)).astype(np.float32),
        "a": rng.random(5),
        "z": rng.random(2).astype(np.float16),
        "é/k": np.zeros((0, 3), np.float32),
    }
    header, order = saving._safetensors_layout(mixed)
    assert header + b"".join(mixed[k].tobytes() for k in order) == st.save(mixed, metadata={"format": "myelin"})
