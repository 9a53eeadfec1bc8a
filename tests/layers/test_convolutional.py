"""Convolution layers against PyTorch from the same weights (forward, input and weight gradients), live where torch
is installed and from the committed golden values (tests/data/conv_golden.json, tests/make_conv_golden.py) everywhere;
float64 finite differences, config round trips, saving, and errors that name the layer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import Tensor, layers

from . import checks
from .conv_torch import CASES, case_arrays, make_layer, myelin_run, torch_run

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "conv_golden.json").read_text())
CONV = sorted(n for n, (cls, _, _) in CASES.items() if "Pool" not in cls)
rng = np.random.default_rng(3)


def _compare(got: dict, want: dict, what: str) -> None:
    assert sorted(got) == sorted(want), what
    for key in want:
        checks.close(got[key], np.asarray(want[key]), rtol=1e-9, atol=1e-11, what=f"{what} {key}")


@pytest.mark.parametrize("name", CONV)
def test_matches_committed_torch_golden_values_and_torch(float64, torch_if_installed, name):
    """The committed values everywhere; torch itself from the same arrays where it is installed."""
    arrays = case_arrays(name)
    got = myelin_run(name, arrays)
    _compare(got, GOLDEN[name], f"{name} vs golden")
    if torch_if_installed is not None:
        _compare(got, torch_run(torch_if_installed, name, arrays), f"{name} vs torch")


@pytest.mark.parametrize(
    "name",
    [
        "conv1d_causal_d2",
        "conv2d_same_s2",
        "conv2d_groups_tanh",
        "conv2d_transpose_outpad_cf",
        "separable2d_m2",
        "depthwise1d_cf",
    ],
)
def test_gradients_by_central_differences(float64, name):
    arrays = case_arrays(name)
    layer = make_layer(name)
    layer(arrays["x"])
    layer.set_weights(arrays["weights"])
    checks.gradients(layer, arrays["x"], max_checks=25)


@pytest.mark.parametrize(
    "name", ["conv1d_groups_cf", "conv2d_valid_relu", "conv3d_same", "conv2d_transpose_valid", "separable1d_same"]
)
def test_config_round_trip_and_saving(name, tmp_path):
    x = case_arrays(name)["x"].astype("float32")
    checks.config_round_trip(make_layer(name), x)
    model = checks.model_of(make_layer(name), x.shape[1:])
    checks.saving(model, x, tmp_path)


@pytest.mark.parametrize("name", CONV)
def test_symbolic_output_shape_is_the_computed_one(name):
    x = case_arrays(name)["x"].astype("float32")
    layer = make_layer(name)
    symbolic = layer(myelin.Input(shape=x.shape[1:]))
    assert tuple(symbolic.shape[1:]) == layer(x).shape[1:]


def test_keras_kernel_layouts_and_defaults():
    conv = layers.Conv2D(6, 3, groups=2)
    conv.build((None, 8, 8, 4))
    assert conv.kernel.shape == (3, 3, 2, 6) and conv.bias.shape == (6,)
    t = layers.Conv2DTranspose(5, (2, 3))
    t.build((None, 4, 4, 3))
    assert t.kernel.shape == (2, 3, 5, 3)
    d = layers.DepthwiseConv2D(3, depth_multiplier=2)
    d.build((None, 8, 8, 4))
    assert d.kernel.shape == (3, 3, 4, 2) and d.bias.shape == (8,)
    s = layers.SeparableConv2D(7, 3)
    s.build((None, 8, 8, 4))
    assert s.depthwise_kernel.shape == (3, 3, 4, 1) and s.pointwise_kernel.shape == (1, 1, 4, 7)
    config = layers.Conv2D(32, 3).get_config()
    assert config["kernel_size"] == (3, 3) and config["strides"] == (1, 1) and config["padding"] == "valid"
    assert config["data_format"] == "channels_last" and config["dilation_rate"] == (1, 1) and config["groups"] == 1


def test_spatial_size_may_change_between_calls():
    conv = layers.Conv2D(2, 3, padding="same")
    assert conv(np.ones((1, 8, 8, 3))).shape == (1, 8, 8, 2)
    assert conv(np.ones((2, 5, 7, 3))).shape == (2, 5, 7, 2)


def test_known_values():
    conv = layers.Conv1D(1, 2, kernel_initializer="ones", bias_initializer="ones")
    assert conv(np.arange(4.0).reshape(1, 4, 1)).data.ravel().tolist() == [2.0, 4.0, 6.0]
    up = layers.Conv1DTranspose(1, 2, strides=2, kernel_initializer="ones", use_bias=False)
    assert up(np.array([[[1.0], [2.0]]])).data.ravel().tolist() == [1.0, 1.0, 2.0, 2.0]


def test_activity_and_kernel_regularizers_add_losses():
    conv = layers.Conv2D(2, 3, kernel_regularizer="l2", activity_regularizer="l1")
    conv(np.ones((1, 5, 5, 1)))
    assert len(conv.losses) == 2 and all(float(loss.data) > 0 for loss in conv.losses)


def test_kernel_constraint_is_applied_by_fit():
    model = myelin.Sequential([myelin.Input((6, 6, 1)), layers.Conv2D(2, 3, kernel_constraint="non_neg"), layers.Flatten()])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rng.standard_normal((8, 6, 6, 1)), rng.standard_normal((8, 32)) - 5.0, epochs=2, verbose=0)
    assert (model.layers[0].kernel.data >= 0).all()


@pytest.mark.parametrize(
    "make,x,message",
    [
        (
            lambda: layers.Conv2D(2, 5),
            np.ones((1, 3, 3, 1)),
            "Conv2D layer 'c'.*larger than the padded input.*got input spatial shape \\(3, 3\\)",
        ),
        (
            lambda: layers.Conv2D(2, 3),
            np.ones((1, 8, 8)),
            "Conv2D layer 'c' expects inputs of rank 4.*got shape \\(1, 8, 8\\)",
        ),
        (lambda: layers.Conv1D(2, 3, groups=2), np.ones((1, 8, 3)), "Conv1D layer 'c'.*divisible by groups=2"),
        (lambda: layers.Conv3D(2, 2), np.ones((1, 4, 4, 4)), "Conv3D layer 'c' expects inputs of rank 5"),
        (lambda: layers.MaxPooling2D(3), np.ones((1, 2, 2, 1)), "MaxPooling2D layer 'c'.*pool_size \\(3, 3\\) is larger"),
    ],
)
def test_bad_input_names_the_layer_expected_and_got(make, x, message):
    layer = make()
    layer.name = "c"
    with pytest.raises(ValueError, match=message):
        layer(x)


def test_wrong_channel_count_and_channels_first_data_to_a_channels_last_model():
    model = myelin.Sequential([myelin.Input((28, 28, 1)), layers.Conv2D(4, 3, name="conv")])
    conv = model.layers[0]
    with pytest.raises(
        ValueError,
        match=r"Conv2D layer 'conv' expects 1 channels on axis -1 \(channels_last\), got input shape \(2, 28, 28, 3\)",
    ):
        conv(np.ones((2, 28, 28, 3)))
    with pytest.raises(ValueError, match=r"expects 1 channels on axis -1.*\(2, 1, 28, 28\); the data looks channels_first"):
        conv(np.ones((2, 1, 28, 28)))


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: layers.Conv2D(0, 3), "filters must be a positive integer"),
        (lambda: layers.Conv2D(3, 3, groups=2), "filters must be divisible by groups"),
        (lambda: layers.Conv2D(3, 3, strides=2, dilation_rate=2), "strides > 1 cannot be combined with dilation_rate > 1"),
        (lambda: layers.Conv2D(3, 3, padding="causal"), "padding must be one of \\('valid', 'same'\\)"),
        (lambda: layers.Conv2D(3, (3, 3, 3)), "kernel_size must be a positive integer or 2 of them"),
        (lambda: layers.Conv2D(3, 3, data_format="nhwc"), "data_format must be"),
        (lambda: layers.Conv2D(3, 3, lora_rank=4), "lora_rank is not supported"),
        (lambda: layers.Conv2DTranspose(3, 3, strides=2, output_padding=2), "output_padding must be smaller than the strides"),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier must be a positive integer"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_inside_a_model_trains_and_the_compiled_step_replays_the_same(tmp_path):
    x = rng.standard_normal((16, 8, 8, 2)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]

    def build(seed):
        myelin.utils.set_random_seed(seed)
        return myelin.Sequential(
            [
                myelin.Input((8, 8, 2)),
                layers.Conv2D(4, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(),
                layers.SeparableConv2D(4, 3, padding="same", activation="relu"),
                layers.Conv2DTranspose(2, 2, strides=2),
                layers.GlobalAveragePooling2D(),
                layers.Dense(3, activation="softmax"),
            ]
        )

    histories = []
    for compiled in (False, True):
        model = build(1)
        model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=compiled)
        histories.append(model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-6)
    assert histories[0][1] < histories[0][0]


def test_tensor_input_keeps_grad():
    x = Tensor(rng.standard_normal((1, 5, 5, 2)), requires_grad=True)
    layers.Conv2D(3, 3)(x).sum().backward()
    assert x.grad.shape == (1, 5, 5, 2) and np.abs(x.grad).sum() > 0


ONNX_CASES = [
    "conv1d_same_s2",
    "conv1d_causal_d2",
    "conv1d_groups_cf",
    "conv2d_valid_relu",
    "conv2d_same_s2",
    "conv2d_dilated_cf",
    "conv2d_groups_tanh",
    "conv3d_same",
    "conv1d_transpose_same",
    "conv2d_transpose_valid",
    "conv2d_transpose_outpad_cf",
    "conv3d_transpose_same",
    "depthwise2d_same_m2",
    "depthwise1d_cf",
    "separable2d_m2",
    "separable1d_same",
]


@pytest.mark.parametrize("name", ONNX_CASES)
def test_onnx_export_runs_in_onnxruntime(name, tmp_path):
    arrays = case_arrays(name)
    x = arrays["x"].astype("float32")
    layer = make_layer(name)
    model = checks.model_of(layer, x.shape[1:])
    layer.set_weights([w.astype("float32") for w in arrays["weights"]])
    checks.onnx_export(model, x, tmp_path)


def test_onnx_export_of_the_mnist_convnet_and_its_summary(tmp_path, capsys):
    model = myelin.Sequential(
        [
            myelin.Input((28, 28, 1)),
            layers.Conv2D(8, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(16, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    checks.onnx_export(model, rng.random((3, 28, 28, 1)).astype("float32"), tmp_path)
    model.summary()
    text = capsys.readouterr().out
    assert "conv2d (Conv2D)" in text and "(None, 26, 26, 8)" in text and "max_pooling2d (MaxPooling2D)" in text
    assert "(None, 5, 5, 16)" in text and "1,168" in text  # 3 * 3 * 8 * 16 + 16 parameters
