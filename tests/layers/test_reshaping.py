"""Permute and RepeatVector against NumPy's transpose/repeat, with gradients, config, saving and ONNX where exported."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Input, Model, Tensor, layers

from .. import golden
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


def _upsampling_arrays():
    case_rng = np.random.default_rng(74)
    return case_rng.standard_normal((2, 2, 4, 3)), case_rng.standard_normal((2, 2, 12, 6))  # channels first


def _upsampling_ours(interpolation, data_format):
    x, r = _upsampling_arrays()
    to_last = (lambda a: a) if data_format == "channels_first" else (lambda a: np.moveaxis(a, 1, -1))
    to_first = (lambda a: a) if data_format == "channels_first" else (lambda a: np.moveaxis(a, -1, 1))
    t = Tensor(to_last(x), requires_grad=True)
    y = layers.UpSampling2D((3, 2), data_format=data_format, interpolation=interpolation)(t)
    (y * Tensor(to_last(r))).sum().backward()
    return {"y": to_first(y.data), "grad": to_first(t.grad)}


def _upsampling_torch(torch, interpolation):
    x, r = _upsampling_arrays()
    mode = {"mode": "bilinear", "align_corners": False} if interpolation == "bilinear" else {"mode": "nearest"}
    tt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.interpolate(tt, scale_factor=(3, 2), **mode)
    (yt * torch.tensor(r)).sum().backward()
    return {"y": yt.detach().numpy(), "grad": tt.grad.numpy()}


# UpSampling2D (bilinear, align_corners=False; nearest) against torch's F.interpolate in both layouts:
# tests/golden.py checks the committed tests/data/reshaping_golden.json everywhere, torch where installed
GOLDEN_FILE = "reshaping_golden.json"
TORCH_CASES = {
    f"upsampling2d_{interpolation}_{data_format}": (
        lambda i=interpolation, f=data_format: _upsampling_ours(i, f),
        lambda torch, i=interpolation: _upsampling_torch(torch, i),
        1e-10,
        1e-12,
    )
    for interpolation in ("bilinear", "nearest")
    for data_format in FORMATS
}


def test_the_golden_file_holds_every_case():
    golden.holds_every_case(TORCH_CASES, GOLDEN_FILE)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_bilinear_and_nearest_match_torch(float64, torch_if_installed, name):
    golden.check(TORCH_CASES, GOLDEN_FILE, name, torch_if_installed)


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
