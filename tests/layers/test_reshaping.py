"""Permute and RepeatVector against NumPy's transpose/repeat, with gradients, config, saving and ONNX where exported."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Input, Model, Tensor, layers

from . import checks, vision_torch

rng = np.random.default_rng(1)


def test_permute_forward_gradients_config(float64):
    x = rng.standard_normal((2, 3, 4, 5))
    layer = layers.Permute((3, 1, 2))
    checks.close(layer(x).data, np.transpose(x, (0, 3, 1, 2)), what="Permute")
    checks.gradients(layers.Permute((3, 1, 2)), x)
    checks.config_round_trip(layers.Permute((2, 3, 1)), x)
    assert Model(*(lambda i: (i, layers.Permute((2, 1))(i)))(Input(shape=(3, 4)))).output_shape == (None, 4, 3)


def test_repeat_vector_forward_gradients_config(float64):
    x = rng.standard_normal((2, 3))
    t = Tensor(x, requires_grad=True)
    y = layers.RepeatVector(4)(t)
    checks.close(y.data, np.repeat(x[:, None, :], 4, axis=1), what="RepeatVector")
    y.sum().backward()
    checks.close(t.grad, np.full_like(x, 4.0), what="RepeatVector grad")
    checks.gradients(layers.RepeatVector(2), x)
    checks.config_round_trip(layers.RepeatVector(3), x)


def test_bad_input_names_the_layer():
    with pytest.raises(ValueError, match=r"Permute .*permutation of 1..2.*\(1, 1\)"):
        layers.Permute((1, 1))
    with pytest.raises(ValueError, match=r"Permute 'p'.*rank 3.*\(2, 3\)"):
        layers.Permute((2, 1), name="p")(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"RepeatVector .*rank 2.*\(2, 3, 4\)"):
        layers.RepeatVector(2)(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        layers.RepeatVector(0)


def test_identity_passes_values_and_gradients(float64):
    x = rng.standard_normal((2, 3))
    checks.close(layers.Identity()(x).data, x, what="Identity")
    checks.gradients(layers.Identity(), x)
    checks.config_round_trip(layers.Identity(name="same"), x)


# ---------------------------------------------------------------------------- padding, cropping, upsampling
FORMATS = ["channels_last", "channels_first"]


@pytest.fixture(scope="module")
def mine():
    import myelin

    myelin.backend.set_floatx("float64")
    try:
        return vision_torch.myelin_results()
    finally:
        myelin.backend.set_floatx("float32")


def test_padding_cropping_upsampling_match_the_torch_golden_file(mine):
    # F.pad, slicing, F.interpolate (nearest; bilinear, align_corners=False), repeat_interleave: forward and gradient
    keys = ("zeropad", "crop", "up")
    assert vision_torch.check_golden(keys, mine, checks.close) == 2 * (5 * 2 + 2)


@pytest.mark.parametrize("data_format", FORMATS)
def test_bilinear_and_nearest_match_torch_live(float64, torch, data_format):
    x = rng.standard_normal((2, 3, 5, 4))  # channels first
    for interpolation, mode in (("bilinear", {"mode": "bilinear", "align_corners": False}), ("nearest", {"mode": "nearest"})):
        layer = layers.UpSampling2D((3, 2), data_format=data_format, interpolation=interpolation)
        xin = x if data_format == "channels_first" else np.moveaxis(x, 1, -1)
        t = Tensor(xin, requires_grad=True)
        y = layer(t)
        r = rng.standard_normal(y.shape)
        (y * Tensor(r)).sum().backward()
        tt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.interpolate(tt, scale_factor=(3, 2), **mode)
        rt = r if data_format == "channels_first" else np.moveaxis(r, -1, 1)
        (yt * torch.tensor(rt)).sum().backward()
        to_first = (lambda a: a) if data_format == "channels_first" else (lambda a: np.moveaxis(a, -1, 1))
        checks.close(to_first(y.data), yt.detach().numpy(), what=interpolation)
        checks.close(to_first(t.grad), tt.grad.numpy(), what=f"{interpolation} grad")


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize(
    "make",
    [
        lambda f: layers.ZeroPadding1D((2, 1), data_format=f),
        lambda f: layers.ZeroPadding2D(((1, 2), (0, 3)), data_format=f),
        lambda f: layers.ZeroPadding3D((1, 0, 2), data_format=f),
        lambda f: layers.Cropping2D(((1, 0), (1, 2)), data_format=f),
        lambda f: layers.Cropping3D(((1, 0), (0, 1), (1, 1)), data_format=f),
        lambda f: layers.UpSampling2D((2, 3), data_format=f),
        lambda f: layers.UpSampling2D((2, 2), data_format=f, interpolation="bilinear"),
    ],
    ids=["zp1", "zp2", "zp3", "crop2", "crop3", "up2-nearest", "up2-bilinear"],
)
def test_gradients_config_and_shapes(float64, make, data_format):
    layer = make(data_format)
    rank = {"ZeroPadding1D": 3, "ZeroPadding3D": 5, "Cropping3D": 5}.get(type(layer).__name__, 4)
    x = rng.standard_normal((2, 3, 4, 5, 3)[:rank])
    checks.gradients(layer, x)
    checks.config_round_trip(make(data_format), x)
    y = layer(x)
    assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + y.shape[1:]


def test_values_of_the_one_axis_layers_and_channels_first_padding():
    x = np.arange(12.0).reshape(1, 4, 3)
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(x).data, x[:, 1:2])
    np.testing.assert_array_equal(layers.UpSampling1D(3)(x).data, np.repeat(x, 3, axis=1))
    np.testing.assert_array_equal(layers.ZeroPadding1D(1)(x).data, np.pad(x, ((0, 0), (1, 1), (0, 0))))
    np.testing.assert_array_equal(
        layers.ZeroPadding1D((0, 2), data_format="channels_first")(x).data, np.pad(x, ((0, 0), (0, 0), (0, 2)))
    )
    np.testing.assert_array_equal(layers.Cropping3D(1)(np.ones((1, 3, 4, 5, 2))).data, np.ones((1, 1, 2, 3, 2)))
    # Keras's forms: an int for every side, one int per axis (symmetric), one pair per axis
    assert layers.ZeroPadding2D(2).padding == ((2, 2), (2, 2))
    assert layers.ZeroPadding2D((1, 3)).padding == ((1, 1), (3, 3))
    assert layers.Cropping2D(1).get_config()["cropping"] == [[1, 1], [1, 1]]
    assert layers.UpSampling2D(3).size == (3, 3)


def test_symbolic_shapes_and_unknown_sizes():
    inputs = Input(shape=(None, 6, 2))
    y = layers.ZeroPadding2D(((1, 1), (2, 0)))(inputs)
    y = layers.UpSampling2D((2, 2))(y)
    y = layers.Cropping2D(((0, 1), (1, 1)))(y)
    model = Model(inputs, y)
    assert model.output_shape == (None, None, 14, 2)
    assert model.predict(np.ones((1, 3, 6, 2)), verbose=0).shape == (1, 9, 14, 2)


def test_reshaping_save_and_onnx(tmp_path):
    for data_format in FORMATS:
        model = __import__("myelin").Sequential(
            [
                Input(shape=(4, 5, 3)),
                layers.ZeroPadding2D(((1, 0), (2, 1)), data_format=data_format),
                layers.Cropping2D(((0, 1), (1, 0)), data_format=data_format),
                layers.UpSampling2D((2, 3), data_format=data_format),
                layers.UpSampling2D((2, 1), data_format=data_format, interpolation="bilinear"),
            ]
        )
        x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
        checks.saving(model, x, tmp_path)
        checks.onnx_export(model, x, tmp_path)
    seq = Model(
        *(lambda i: (i, layers.Cropping1D((1, 0))(layers.UpSampling1D(2)(layers.ZeroPadding1D((0, 2))(i)))))(
            Input(shape=(3, 2))
        )
    )
    checks.onnx_export(seq, rng.standard_normal((2, 3, 2)).astype(np.float32), tmp_path)
    vol = Model(
        *(lambda i: (i, layers.Cropping3D(1)(layers.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))(i))))(Input(shape=(3, 4, 3, 2)))
    )
    checks.onnx_export(vol, rng.standard_normal((1, 3, 4, 3, 2)).astype(np.float32), tmp_path)


def test_bad_reshaping_arguments_name_the_layer():
    with pytest.raises(ValueError, match="ZeroPadding2D: entry 1 of padding must be an int or a pair"):
        layers.ZeroPadding2D(((1, 2, 3), (0, 0)))
    with pytest.raises(ValueError, match=r"Cropping2D .*cropping .* axis 1 .* only 2 entries"):
        layers.Cropping2D(((1, 1), (0, 0)))(np.ones((1, 2, 3, 1)))
    with pytest.raises(ValueError, match=r"UpSampling2D .* rank 4 .*\(2, 3\)"):
        layers.UpSampling2D()(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"bicubic.*not available"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=r"UpSampling1D .*size must be a positive int"):
        layers.UpSampling1D(0)
    with pytest.raises(ValueError, match="data_format"):
        layers.ZeroPadding3D(data_format="NDHWC")
