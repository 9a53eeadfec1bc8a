"""Lambda: functions as layers in memory, in Sequential and functional models; saved only by a registered name."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
import myelin.onnx
from myelin import Input, Model, Sequential, ops
from myelin.layers import Dense, Lambda, Masking
from myelin.saving import register_serializable

from . import checks

rng = np.random.default_rng(2)


@register_serializable(package="LambdaTest")
def shifted_square(x, shift=0.0):
    """x**2 + shift (registered: a Lambda of it can be saved)."""
    return ops.add(ops.square(x), shift)


@register_serializable(package="LambdaTest")
def halve_shape(input_shape):
    """The output shape of ``take_half``."""
    return (input_shape[0], input_shape[1] // 2)


@register_serializable(package="LambdaTest")
def take_half(x):
    """The first half of the features."""
    return x[:, : x.shape[1] // 2]


def test_in_memory_arguments_training_and_mask():
    x = np.array([[1.0, -2.0]], np.float32)
    np.testing.assert_array_equal(Lambda(shifted_square, arguments={"shift": 1.0})(x).data, [[2.0, 5.0]])
    seen = {}

    def spy(x, training=False, mask=None):
        seen.update(training=training, mask=mask)
        return x

    Lambda(spy)(x, training=True)
    assert seen == {"training": True, "mask": None}
    layer = Lambda(lambda x: x, mask=lambda inputs, previous: previous)
    seq = np.zeros((1, 3, 2), np.float32)
    seq[0, 0] = 1.0
    out = layer(Masking()(seq))
    np.testing.assert_array_equal(out._keras_mask, [[True, False, False]])
    with pytest.warns(UserWarning, match="does not support masking"):  # no mask argument: as Keras, none passed on
        assert Lambda(lambda x: x * 1.0)(Masking()(seq))._keras_mask is None


def test_gradients_flow_through_the_function(float64):
    checks.gradients(Lambda(shifted_square, arguments={"shift": 0.5}), rng.standard_normal((3, 4)))


def test_sequential_and_functional_models_train_and_predict():
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = (x[:, :3] ** 2).sum(1, keepdims=True)
    seq = Sequential([Input(shape=(6,)), Lambda(take_half, output_shape=halve_shape), Lambda(shifted_square), Dense(1)])
    assert seq.output_shape == (None, 1)
    seq.compile(optimizer="adam", loss="mse")
    first = seq.evaluate(x, y, verbose=0)
    seq.fit(x, y, epochs=30, verbose=0)
    assert seq.evaluate(x, y, verbose=0) < first
    assert seq.compile_status.startswith("not compiled")  # a Lambda's code is not replayed from a recording
    inputs = Input(shape=(6,))
    half = Lambda(lambda t: t[:, :2] * 2.0, output_shape=(2,))(inputs)
    model = Model(inputs, Dense(1)(half))
    assert half.shape == (None, 2) and model.predict(x, verbose=0).shape == (32, 1)
    inferred = Lambda(lambda t: ops.concatenate([t, t], axis=-1))(Input(shape=(3,)))
    assert inferred.shape == (None, 6)


def test_registered_functions_are_saved_by_name_and_loaded_back(tmp_path):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    model = Sequential(
        [Input(shape=(6,)), Lambda(take_half, output_shape=halve_shape), Lambda(shifted_square, arguments={"shift": 2.0})]
    )
    config = model.layers[1].get_config()
    assert config["function"] == "LambdaTest>shifted_square" and config["arguments"] == {"shift": 2.0}
    assert model.layers[0].get_config()["output_shape"] == "LambdaTest>halve_shape"
    loaded = checks.saving(model, x, tmp_path)
    assert loaded.layers[1].function is shifted_square
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x[:, :3] ** 2 + 2.0, rtol=1e-6)
    checks.config_round_trip(Lambda(shifted_square, output_shape=(6,), arguments={"shift": 1.0}), x)


def test_unregistered_functions_are_refused_by_save_naming_the_layer(tmp_path):
    model = Sequential([Input(shape=(3,)), Lambda(lambda t: t * 2.0, name="doubler")])
    with pytest.raises(ValueError, match=r"Lambda layer 'doubler' .*<lambda> is not registered.*register_serializable"):
        model.save(tmp_path / "m.myelin")
    assert not list(tmp_path.iterdir())  # nothing written

    def local(t):
        return t

    with pytest.raises(ValueError, match=r"Lambda layer 'loc' .*output_shape function"):
        Lambda(shifted_square, output_shape=lambda s: s, name="loc").get_config()
    with pytest.raises(ValueError, match="local"):
        Lambda(local).get_config()


def test_a_file_naming_an_unknown_function_is_refused():
    entry = {"class_name": "Lambda", "config": {"name": "l", "function": "Nobody>nothing", "arguments": {}}}
    with pytest.raises(myelin.saving.ModelFileError, match="Nobody>nothing"):
        myelin.saving.deserialize_layer(entry)
    with pytest.raises(TypeError, match="function must be a function or a registered"):
        Lambda(3)


def test_onnx_export_refuses_a_lambda_naming_it(tmp_path):
    pytest.importorskip("onnx")
    model = Sequential([Input(shape=(3,)), Lambda(shifted_square, name="sq")])
    with pytest.raises(myelin.onnx.ExportError, match=r"layer 'sq' \(Lambda\) cannot be exported"):
        model.export(tmp_path / "m.onnx", format="onnx")
