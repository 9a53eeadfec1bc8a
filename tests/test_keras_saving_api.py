"""Keras's saving/serialization names, the top-level base classes, InputSpec and model_from_json."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers, losses, saving, utils


def test_top_level_names_are_the_base_classes():
    assert myelin.Layer is layers.Layer
    assert myelin.Loss is losses.Loss
    assert myelin.Metric is myelin.metrics.Metric
    assert myelin.Optimizer is myelin.optimizers.Optimizer
    assert myelin.Initializer is myelin.initializers.Initializer
    assert myelin.Regularizer is myelin.regularizers.Regularizer
    assert issubclass(myelin.Variable, myelin.Tensor)
    assert myelin.version() == myelin.__version__


def test_register_keras_serializable_and_the_global_custom_objects():
    @saving.register_keras_serializable(package="KerasApi")
    class Scale(myelin.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    assert saving.get_custom_objects()["KerasApi>Scale"] is Scale
    assert saving.get_registered_name(Scale) == "KerasApi>Scale"
    assert saving.get_registered_object("KerasApi>Scale") is Scale
    spec = saving.serialize_keras_object(Scale(3.0, name="s"))
    assert spec["class_name"] == spec["registered_name"] == "KerasApi>Scale"
    again = saving.deserialize_keras_object(spec)
    assert type(again) is Scale and again.factor == 3.0 and again.name == "s"
    # a whole model that uses it saves and loads by name
    model = myelin.Sequential([myelin.Input(shape=(2,)), Scale(4.0)])
    loaded = myelin.models.model_from_json(model.to_json())
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2)), verbose=0), [[4.0, 4.0]])


def test_global_custom_objects_added_by_hand_resolve_when_loading(tmp_path):
    class Half(layers.Dense):
        def call(self, x):
            return super().call(x) * 0.5

    model = myelin.Sequential([myelin.Input(shape=(2,)), layers.Dense(2)])
    text = model.to_json().replace('"Dense"', '"Halfway"')
    with pytest.raises(saving.ModelFileError, match="Unknown layer 'Halfway'"):
        myelin.models.model_from_json(text)
    saving.get_custom_objects()["Halfway"] = Half
    try:
        assert type(myelin.models.model_from_json(text).layers[-1]) is Half
    finally:
        del saving.get_custom_objects()["Halfway"]


def test_custom_object_scope_is_a_class_and_nests():
    assert saving.custom_object_scope is saving.CustomObjectScope
    with saving.CustomObjectScope({"a": 1}, {"b": 2}) as scope:
        assert scope.custom_objects == {"a": 1, "b": 2}
        with saving.custom_object_scope({"a": 3}):
            assert saving.get_registered_object("a") == 3
        assert saving.get_registered_object("a") == 1
    assert saving.get_registered_object("a") is None
    assert saving.get_registered_object("a", custom_objects={"a": 5}) == 5
    with pytest.raises(TypeError, match="CustomObjectScope: expected dicts"):
        saving.CustomObjectScope(["a"])


def test_serialize_keras_object_for_each_family():
    cases = [
        losses.Huber(delta=2.0),
        myelin.metrics.F1Score(average="macro"),
        myelin.optimizers.Lion(learning_rate=0.01),
        myelin.optimizers.schedules.PolynomialDecay(0.1, 5),
        myelin.initializers.HeNormal(seed=3),
        myelin.regularizers.L2(0.5),
        myelin.constraints.MaxNorm(2.0),
        layers.Dense(3, name="d"),
    ]
    for obj in cases:
        spec = saving.serialize_keras_object(obj)
        assert set(spec) == {"module", "class_name", "config", "registered_name"}
        again = saving.deserialize_keras_object(spec)
        assert type(again) is type(obj)
        assert again.get_config() == obj.get_config()
    fn = saving.serialize_keras_object(myelin.activations.mish)
    assert fn["class_name"] == "function" and saving.deserialize_keras_object(fn) is myelin.activations.mish
    assert saving.serialize_keras_object([1, "relu", None]) == [1, "relu", None]


def test_deserialize_never_imports_what_a_config_names():
    with pytest.raises(ValueError, match=r"unknown object 'os\.system'"):
        saving.deserialize_keras_object({"module": "os", "class_name": "os.system", "config": {}})
    with pytest.raises(ValueError, match="safe_mode=False is not supported"):
        saving.deserialize_keras_object("relu", safe_mode=False)
    with pytest.raises(ValueError, match="is not registered"):
        saving.serialize_keras_object(lambda x: x)


def test_utils_has_the_same_names():
    for name in ("CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
                 "get_registered_object", "register_keras_serializable", "serialize_keras_object",
                 "deserialize_keras_object"):  # fmt: skip
        assert getattr(utils, name) is getattr(saving, name)


def test_save_model_and_model_from_json(tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(2, activation="mish")])
    model.compile(optimizer="nadam", loss="log_cosh")
    path = tmp_path / "m.myelin"
    myelin.models.save_model(model, path)
    loaded = myelin.models.load_model(path)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    fresh = myelin.models.model_from_json(model.to_json(indent=2))
    assert [type(la) for la in fresh.layers] == [type(la) for la in model.layers]
    assert fresh.layers[-1].get_config() == model.layers[-1].get_config()
    with pytest.raises(ValueError, match="model_from_json: not a JSON string"):
        myelin.models.model_from_json("{not json")


def test_input_spec_is_checked_on_every_call():
    class Pairs(myelin.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.input_spec = myelin.InputSpec(ndim=2, axes={-1: 2})

        def call(self, x):
            return x

    layer = Pairs(name="pairs")
    assert layer(np.zeros((3, 2), np.float32)).shape == (3, 2)
    with pytest.raises(
        ValueError, match=r"Input 0 of layer 'pairs' is incompatible with the layer: expected ndim=2, found ndim=3"
    ):
        layer(np.zeros((3, 2, 1), np.float32))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        Pairs(name="p2")(np.zeros((3, 5), np.float32))
    spec = myelin.InputSpec(min_ndim=2, max_ndim=4, dtype="float32")
    assert myelin.InputSpec.from_config(spec.get_config()).get_config() == spec.get_config()
    from myelin.input_spec import assert_input_compatibility

    with pytest.raises(ValueError, match="expected dtype=float32, found dtype=float64"):
        assert_input_compatibility(spec, np.zeros((2, 2)), "cast")
    with pytest.raises(ValueError, match="expects 2 input"):
        assert_input_compatibility([spec, spec], [np.zeros((2, 2), np.float32)], "merge")
