"""Image preprocessing and augmentation layers: Keras 3's outputs (golden values), gradients, statistics, seeds, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import Input, Model, Tensor, layers
from myelin.ops import image as image_ops

from . import checks

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "image_preprocessing_golden.json").read_text())
IMAGES = np.random.default_rng(0).uniform(0, 255, GOLDEN["shape"]).astype("float32")  # as tests/make_image_golden.py

RANDOM_LAYERS = {
    "RandomFlip": lambda **kw: layers.RandomFlip(**kw),
    "RandomRotation": lambda **kw: layers.RandomRotation(0.2, **kw),
    "RandomZoom": lambda **kw: layers.RandomZoom(0.3, 0.2, **kw),
    "RandomTranslation": lambda **kw: layers.RandomTranslation(0.2, 0.3, **kw),
    "RandomContrast": lambda **kw: layers.RandomContrast(0.5, **kw),
    "RandomBrightness": lambda **kw: layers.RandomBrightness(0.3, **kw),
    "RandomCrop": lambda **kw: layers.RandomCrop(3, 4, **kw),
}


def _tuples(kwargs: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def _transformation(how: dict):
    if "crop" in how:
        return tuple(how["crop"])
    if "flips" in how:
        return {"flips": np.array(how["flips"])}
    return {"contrast_factor": np.array(how["contrast_factor"]).reshape(-1, 1, 1, 1)}


# ---------------------------------------------------------------------------- Keras's numbers
@pytest.mark.parametrize("name", sorted(GOLDEN["cases"]))
def test_matches_keras_golden(name):
    case = GOLDEN["cases"][name]
    kwargs = _tuples(case["kwargs"])
    layer = getattr(layers, case["layer"])(**kwargs)
    data = np.transpose(IMAGES, (0, 3, 1, 2)) if kwargs.get("data_format") == "channels_first" else IMAGES
    how = case["how"]
    if how == "infer":
        out = layer(data, training=False)
    elif how == "train":
        out = layer(data, training=True)
    else:
        out = layer.transform_images(Tensor(data), _transformation(how))
    want = np.array(case["output"])
    assert out.shape == want.shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, want, rtol=0, atol=5e-4, err_msg=name)


# resize (bilinear, bicubic, with and without antialiasing, nearest) against torch's F.interpolate, forward and
# backward: tests/torch_cases.py's "op/resize_" cases, run by tests/test_torch_golden.py (committed values
# everywhere, torch itself where installed).


# ---------------------------------------------------------------------------- gradients
class _SameDraw(layers.Layer):
    """Calls ``inner`` with its seed generator rewound first, so every call draws the same transformation."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x, training=False):
        self.inner._seed_generator.state.data[1] = 0
        return self.inner(x, training=training)


X64 = np.random.default_rng(3).standard_normal((2, 6, 7, 2))

GRADIENT_CASES = {
    "Resizing-bilinear": (lambda: layers.Resizing(4, 9), False),
    "Resizing-nearest": (lambda: layers.Resizing(9, 3, interpolation="nearest"), False),
    "Resizing-bicubic-aa": (lambda: layers.Resizing(3, 5, interpolation="bicubic", antialias=True), False),
    "Resizing-crop": (lambda: layers.Resizing(4, 4, crop_to_aspect_ratio=True), False),
    "Resizing-pad-first": (
        lambda: layers.Resizing(4, 8, pad_to_aspect_ratio=True, fill_value=0.5, data_format="channels_first"),
        False,
    ),
    "CenterCrop": (lambda: layers.CenterCrop(3, 4), False),
    "CenterCrop-small": (lambda: layers.CenterCrop(8, 4), False),
    "RandomCrop-train": (lambda: _SameDraw(layers.RandomCrop(3, 4, seed=1)), True),
    "RandomCrop-infer": (lambda: layers.RandomCrop(3, 4, seed=1), False),
    "RandomFlip": (lambda: _SameDraw(layers.RandomFlip(seed=2)), True),
    "RandomFlip-first": (lambda: _SameDraw(layers.RandomFlip("vertical", seed=2, data_format="channels_first")), True),
    **{
        f"RandomRotation-{fill}": (lambda fill=fill: _SameDraw(layers.RandomRotation(0.3, fill_mode=fill, seed=3)), True)
        for fill in ("reflect", "wrap", "constant", "nearest")
    },
    "RandomRotation-nearest-interp": (
        lambda: _SameDraw(layers.RandomRotation(0.3, interpolation="nearest", seed=3)),
        True,
    ),
    "RandomZoom": (lambda: _SameDraw(layers.RandomZoom(0.4, (-0.3, 0.2), fill_mode="constant", fill_value=2.0, seed=4)), True),
    "RandomTranslation": (lambda: _SameDraw(layers.RandomTranslation(0.3, 0.3, fill_mode="wrap", seed=5)), True),
    "RandomContrast": (lambda: _SameDraw(layers.RandomContrast(0.6, value_range=(-100, 100), seed=6)), True),
    "RandomBrightness": (lambda: _SameDraw(layers.RandomBrightness(0.3, value_range=(-100, 100), seed=7)), True),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients_by_finite_differences(name, float64):
    make, training = GRADIENT_CASES[name]
    x = np.ascontiguousarray(np.transpose(X64, (0, 3, 1, 2))) if "first" in name else X64
    checks.gradients(make(), x, training=training)


def test_clipped_values_get_no_gradient(float64):
    x = Tensor(np.array([-5.0, 0.5, 5.0]).reshape(1, 1, 3, 1), requires_grad=True)
    layer = layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))
    layer(x, training=True).sum().backward()
    assert x.grad.ravel().tolist() == [0.0, 1.0, 0.0]


def test_affine_transform_gradient_of_every_fill_mode(float64):
    # shear + scale + shift, several fill modes (mirror included), bilinear: a finite-difference check of the primitive
    transform = np.array([[1.1, 0.3, -1.2, -0.2, 0.9, 1.7, 0.0, 0.0], [0.8, -0.4, 2.0, 0.5, 1.2, -1.0, 0.0, 0.0]])
    for fill in image_ops.FILL_MODES:
        gradcheck = _FixedAffine(transform, fill)
        checks.gradients(gradcheck, X64)


class _FixedAffine(layers.Layer):
    def __init__(self, transform, fill_mode, **kwargs):
        super().__init__(**kwargs)
        self.transform, self.fill_mode = transform, fill_mode

    def call(self, x, training=False):
        return image_ops.affine_transform(x, self.transform, fill_mode=self.fill_mode, fill_value=0.5)


def test_affine_fill_modes_by_hand():
    row = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 4, 1)
    shift = [1, 0, -2, 0, 1, 0, 0, 0]  # output x reads input x - 2
    expected = {
        "constant": [9.0, 9.0, 1.0, 2.0],
        "nearest": [1.0, 1.0, 1.0, 2.0],
        "wrap": [3.0, 4.0, 1.0, 2.0],
        "reflect": [2.0, 1.0, 1.0, 2.0],
        "mirror": [3.0, 2.0, 1.0, 2.0],
    }
    for fill, want in expected.items():
        out = image_ops.affine_transform(row, shift, interpolation="nearest", fill_mode=fill, fill_value=9.0)
        assert out.data.ravel().tolist() == want, fill


# ---------------------------------------------------------------------------- randomness
def test_random_flip_flips_about_half_and_only_whole_images():
    x = np.tile(np.arange(6, dtype="float32").reshape(1, 2, 3, 1), (4000, 1, 1, 1))
    y = layers.RandomFlip("horizontal", seed=11)(x, training=True).data
    flipped = (y == x[:, :, ::-1]).all(axis=(1, 2, 3))
    same = (y == x).all(axis=(1, 2, 3))
    assert (flipped ^ same).all()
    assert 0.46 < flipped.mean() < 0.54
    both = layers.RandomFlip("horizontal_and_vertical", seed=12)(x, training=True).data
    rotated = (both == x[:, ::-1, ::-1]).all(axis=(1, 2, 3))
    assert (rotated ^ (both == x).all(axis=(1, 2, 3))).all()  # one draw flips both axes (Keras's rule)
    assert 0.46 < rotated.mean() < 0.54


def test_random_contrast_factor_range(float64):
    x = np.random.default_rng(4).uniform(0, 1, (3000, 3, 3, 2)).astype("float64")
    mean = x.mean(axis=(1, 2), keepdims=True)
    layer = layers.RandomContrast((0.2, 0.4), value_range=(-50, 50), seed=1)
    y = layer(x, training=True).data
    factor = ((y - mean) / (x - mean)).reshape(len(x), -1)
    assert np.allclose(factor, factor[:, :1], rtol=1e-4)  # one factor per image, for every channel
    f = factor[:, 0]
    assert f.min() >= 0.8 - 1e-5 and f.max() <= 1.4 + 1e-5
    assert f.min() < 0.82 and f.max() > 1.38
    # one number f: Keras 3 draws in [1, 1 + f]
    g = layers.RandomContrast(0.5, value_range=(-50, 50), seed=2)(x, training=True).data
    gf = ((g - mean) / (x - mean)).reshape(len(x), -1)[:, 0]
    assert gf.min() >= 1.0 - 1e-5 and gf.max() <= 1.5 + 1e-5 and gf.min() < 1.02


def test_random_brightness_range_and_clipping():
    x = np.full((2000, 2, 2, 1), 100.0, dtype="float32")
    y = layers.RandomBrightness(0.2, seed=3)(x, training=True).data  # value_range (0, 255): +-51
    delta = y[:, 0, 0, 0] - 100.0
    assert (y == y[:, :1, :1, :1]).all()
    assert delta.min() >= -51.0 - 1e-3 and delta.max() <= 51.0 + 1e-3
    assert delta.min() < -48 and delta.max() > 48
    z = layers.RandomBrightness((0.9, 0.9), seed=3)(x, training=True).data
    assert (z == 255.0).all()


def _spot_angle(image: np.ndarray, centre: float) -> float:
    """The direction of the image's centre of mass from ``centre``, in degrees (x right, y up)."""
    rows, cols = np.indices(image.shape)
    r, c = (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()
    return math.degrees(math.atan2(-(r - centre), c - centre))


def test_random_rotation_angles_within_range():
    size, centre = 41, 20.0
    x = np.zeros((300, size, size, 1), dtype="float32")
    x[:, 19:22, 36:39, 0] = 1.0  # a spot 17 pixels right of the centre: angle 0
    layer = layers.RandomRotation(0.25, fill_mode="constant", seed=5)
    transformation = layer.get_random_transformation(Tensor(x))
    drawn = transformation["angle"].data
    assert drawn.min() >= -90 and drawn.max() <= 90 and drawn.min() < -80 and drawn.max() > 80
    y = layer.transform_images(Tensor(x), transformation).data
    measured = np.array([_spot_angle(img[:, :, 0], centre) for img in y])
    # positive angles turn counter-clockwise (x right, y up), as Keras documents
    np.testing.assert_allclose(measured, drawn, atol=1.0)
    assert np.abs(measured).max() <= 91.0


def test_random_zoom_and_translation_draw_within_range():
    x = Tensor(np.zeros((500, 10, 20, 1), dtype="float32"))
    zoom = layers.RandomZoom((-0.5, 0.2), (0.1, 0.3), seed=1).get_random_transformation(x)
    hz, wz = zoom["height_zoom"].data, zoom["width_zoom"].data
    assert 0.5 <= hz.min() < 0.55 and 1.15 < hz.max() <= 1.2
    assert 1.1 <= wz.min() < 1.12 and 1.28 < wz.max() <= 1.3
    same = layers.RandomZoom(0.3, seed=1).get_random_transformation(x)  # width_factor None: the aspect ratio kept
    np.testing.assert_array_equal(same["height_zoom"].data, same["width_zoom"].data)
    shifts = layers.RandomTranslation(0.5, (-0.2, 0.1), seed=2).get_random_transformation(x)["translations"].data
    dx, dy = shifts[:, 0], shifts[:, 1]
    assert -4.0 <= dx.min() < -3.7 and 1.7 < dx.max() <= 2.0  # width 20
    assert -5.0 <= dy.min() < -4.7 and 4.7 < dy.max() <= 5.0  # height 10


def test_random_crop_location_is_random_and_shared_by_the_batch():
    x = np.arange(10 * 12, dtype="float32").reshape(1, 10, 12, 1).repeat(3, axis=0)
    layer = layers.RandomCrop(4, 5, seed=8)
    corners = set()
    for _ in range(60):
        y = layer(x, training=True).data
        assert (y == y[:1]).all()
        top, left = divmod(int(y[0, 0, 0, 0]), 12)
        np.testing.assert_array_equal(y[0, :, :, 0], x[0, top : top + 4, left : left + 5, 0])
        corners.add((top, left))
    assert {t for t, _ in corners} == set(range(7)) and {c for _, c in corners} == set(range(8))


@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS))
def test_seeds_repeat_and_differ(name):
    x = IMAGES
    a, b, c = (RANDOM_LAYERS[name](seed=s) for s in (3, 3, 4))
    first = [a(x, training=True).data for _ in range(3)]
    np.testing.assert_array_equal(first[0], b(x, training=True).data)
    np.testing.assert_array_equal(first[1], b(x, training=True).data)  # the same sequence
    assert not np.array_equal(first[0], first[1]) or not np.array_equal(first[1], first[2])  # each call draws anew
    draws = [c(x, training=True).data for _ in range(3)]
    assert any(not np.array_equal(u, v) for u, v in zip(first, draws))


def test_unseeded_layers_follow_set_random_seed():
    x = IMAGES
    myelin.utils.set_random_seed(1)
    one = layers.RandomRotation(0.3)(x, training=True).data
    myelin.utils.set_random_seed(1)
    np.testing.assert_array_equal(one, layers.RandomRotation(0.3)(x, training=True).data)


@pytest.mark.parametrize("name", sorted(set(RANDOM_LAYERS) - {"RandomCrop"}))
def test_inference_is_identity_and_a_direct_call_augments(name):
    layer = RANDOM_LAYERS[name](seed=1)
    x = np.concatenate([IMAGES] * 4)
    out = layer(x, training=False)
    np.testing.assert_array_equal(out.data, x)
    assert not np.array_equal(layer(x).data, x)  # Keras's default for a direct call: training=True


def test_random_crop_inference_takes_the_centred_aspect_window():
    out = layers.RandomCrop(3, 4, seed=1)(IMAGES, training=False)
    want = image_ops.resize(IMAGES, (3, 4), crop_to_aspect_ratio=True).data
    np.testing.assert_array_equal(out.data, want)


def test_unbatched_images_and_integer_inputs():
    layer = layers.RandomRotation(0.2, seed=9)
    single = layer(IMAGES[0], training=True)
    assert single.shape == IMAGES.shape[1:]
    twin = layers.RandomRotation(0.2, seed=9)
    np.testing.assert_allclose(single.data, twin(IMAGES[:1], training=True).data[0])
    ints = layers.Resizing(2, 3)(np.arange(2 * 4 * 6 * 1).reshape(2, 4, 6, 1))
    assert ints.dtype == np.float32 and ints.shape == (2, 2, 3, 1)


# ---------------------------------------------------------------------------- models, saving, compiled steps
def _augmenting_model():
    inputs = Input(shape=(8, 10, 3))
    x = layers.RandomFlip(seed=1)(inputs)
    x = layers.RandomRotation(0.1, seed=2)(x)
    x = layers.RandomZoom(0.2, seed=3)(x)
    x = layers.RandomTranslation(0.1, 0.1, seed=4)(x)
    x = layers.RandomContrast(0.3, value_range=(0, 1), seed=5)(x)
    x = layers.RandomBrightness(0.1, value_range=(0, 1), seed=6)(x)
    x = layers.RandomCrop(6, 8, seed=7)(x)
    x = layers.CenterCrop(6, 6)(x)
    x = layers.Resizing(4, 4)(x)
    x = layers.Flatten()(x)
    return Model(inputs, layers.Dense(2)(x))


def test_model_with_augmentation_saves_and_loads(tmp_path):
    model = _augmenting_model()
    x = np.random.default_rng(5).uniform(0, 1, (4, 8, 10, 3)).astype("float32")
    loaded = checks.saving(model, x, tmp_path)
    assert [type(layer).__name__ for layer in loaded.layers][1:4] == ["RandomFlip", "RandomRotation", "RandomZoom"]
    assert loaded.layers[2].get_config() == model.layers[2].get_config()


def test_compiled_training_step_draws_new_values_every_step():
    model = _augmenting_model()
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).uniform(0, 1, (40, 8, 10, 3)).astype("float32")
    y = np.zeros((40, 2), dtype="float32")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert model.compile_status.startswith("compiled")
    flip = model.layers[1]
    assert int(flip._seed_generator.state.data[1]) == 10  # one draw per step, replayed steps included
    # the replayed steps drew different flips: the same batch gives another loss each step
    losses = [model.train_on_batch(x[:8], y[:8]) for _ in range(4)]
    assert len({round(float(np.ravel(v)[0]), 6) for v in losses}) > 1


def test_symbolic_shapes():
    inputs = Input(shape=(None, None, 3))
    assert layers.Resizing(5, 6)(inputs).shape == (None, 5, 6, 3)
    assert layers.CenterCrop(2, 3)(Input(shape=(8, 9, 3))).shape == (None, 2, 3, 3)
    assert layers.RandomCrop(2, 3, data_format="channels_first")(Input(shape=(3, 8, 9))).shape == (None, 3, 2, 3)
    assert layers.RandomRotation(0.1)(inputs).shape == (None, None, None, 3)
    model = Model(inputs, layers.Resizing(4, 4)(inputs))
    assert model.predict(IMAGES, verbose=0).shape == (2, 4, 4, 3)
    assert model.predict(IMAGES[:, :4, :6], verbose=0).shape == (2, 4, 4, 3)  # any image size


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.Resizing(3, 4, interpolation="nearest", crop_to_aspect_ratio=True, name="r"),
        lambda: layers.Resizing(3, 4, pad_to_aspect_ratio=True, fill_value=2.0, antialias=True, data_format="channels_first"),
        lambda: layers.CenterCrop(2, 3),
        *[lambda name=name: RANDOM_LAYERS[name](seed=5) for name in sorted(RANDOM_LAYERS)],
        lambda: layers.RandomZoom((-0.2, 0.3), fill_mode="constant", fill_value=1.5, interpolation="nearest"),
        lambda: layers.RandomContrast((0.1, 0.3), value_range=(0, 1)),
    ],
)
def test_config_round_trip(make):
    layer = make()
    checks.config_round_trip(layer, IMAGES, training=False)
    twin = type(layer).from_config(json.loads(json.dumps(layer.get_config())))  # as saved: tuples become lists
    assert twin.get_config() == type(layer).from_config(layer.get_config()).get_config()


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS) + ["Resizing", "CenterCrop"])
def test_wrong_rank_names_the_layer(name):
    layer = RANDOM_LAYERS[name]() if name in RANDOM_LAYERS else getattr(layers, name)(2, 2)
    with pytest.raises(ValueError, match=f"{name} .*rank 4.*got shape \\(2, 5\\)"):
        layer(np.zeros((2, 5)), training=True)
    with pytest.raises(ValueError, match=f"{name} .*rank 4"):
        layer(np.zeros((1, 2, 3, 4, 5)), training=True)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: layers.RandomRotation(1.5), r"RandomRotation: factor must be .* in \[-1, 1\], got 1.5"),
        (lambda: layers.RandomRotation((0.1, 0.2, 0.3)), "RandomRotation: factor"),
        (lambda: layers.RandomContrast(1.2), r"RandomContrast: factor .* in \[0, 1\]"),
        (lambda: layers.RandomContrast((-0.1, 0.5)), "RandomContrast: factor"),
        (lambda: layers.RandomBrightness(-2), "RandomBrightness: factor"),
        (lambda: layers.RandomBrightness("bright"), "RandomBrightness: factor"),
        (lambda: layers.RandomZoom(-1.0), r"RandomZoom: height_factor .* \(-1, 1\]"),
        (lambda: layers.RandomZoom(0.2, 1.5), "RandomZoom: width_factor"),
        (lambda: layers.RandomTranslation(0.1, -1.5), "RandomTranslation: width_factor"),
        (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), "RandomRotation: fill_mode must be one of"),
        (lambda: layers.RandomZoom(0.1, interpolation="bicubic"), "RandomZoom: interpolation must be one of"),
        (lambda: layers.RandomFlip("diagonal"), "RandomFlip: mode must be one of"),
        (lambda: layers.RandomFlip(seed=1.5), "RandomFlip: seed must be an integer"),
        (lambda: layers.RandomBrightness(0.1, value_range=(1,)), "RandomBrightness: value_range"),
        (lambda: layers.RandomContrast(0.1, value_range=(5, 1)), "RandomContrast: value_range"),
        (lambda: layers.Resizing(2, 2, interpolation="lanczos3"), "Resizing: interpolation='lanczos3' .* not supported"),
        (lambda: layers.Resizing(2, 2, interpolation="area"), "Resizing: interpolation must be one of"),
        (lambda: layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "Resizing: only one of"),
        (lambda: layers.Resizing(2, 2, fill_mode="reflect"), "Resizing: fill_mode"),
        (lambda: layers.Resizing(0, 2), "Resizing: height must be a positive integer"),
        (lambda: layers.CenterCrop(2, 2.5), "CenterCrop: width must be a positive integer"),
        (lambda: layers.RandomCrop(2, 2, data_format="nhwc"), "RandomCrop: data_format"),
        (lambda: layers.RandomFlip(bounding_box_format="xyxy"), "RandomFlip: bounding_box_format is not supported"),
    ],
)
def test_bad_arguments_name_the_layer_and_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_dictionary_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match="RandomFlip 'flip' takes a batch of images; dictionaries"):
        layers.RandomFlip(name="flip")({"images": IMAGES, "labels": np.zeros(2)})


def test_ops_image_bad_input():
    with pytest.raises(ValueError, match=r"affine_transform: transform must have shape \(8,\) or \(batch, 8\)"):
        image_ops.affine_transform(IMAGES, np.zeros((3, 8)))
    with pytest.raises(ValueError, match="affine_transform: fill_mode"):
        image_ops.affine_transform(IMAGES, np.zeros(8), fill_mode="edge")
    with pytest.raises(ValueError, match="resize: images must have rank 3"):
        image_ops.resize(np.zeros((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="resize: size must be two positive integers"):
        image_ops.resize(IMAGES, (2,))


# ---------------------------------------------------------------------------- ONNX (inference)
@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.Resizing(4, 5),
        lambda: layers.Resizing(11, 6, interpolation="nearest"),
        lambda: layers.Resizing(3, 4, interpolation="bicubic", antialias=True),
        lambda: layers.Resizing(6, 6, crop_to_aspect_ratio=True),
        lambda: layers.Resizing(4, 9, pad_to_aspect_ratio=True, fill_value=0.25, data_format="channels_first"),
        lambda: layers.CenterCrop(3, 4),
        lambda: layers.CenterCrop(9, 4, data_format="channels_first"),
        lambda: layers.RandomCrop(5, 3, seed=1),
        *[lambda name=name: RANDOM_LAYERS[name](seed=2) for name in sorted(set(RANDOM_LAYERS) - {"RandomCrop"})],
    ],
)
def test_onnx_export_matches_predict(make, tmp_path):
    x = np.random.default_rng(6).uniform(0, 1, (3, 8, 10, 3)).astype("float32")
    layer = make()
    checks.onnx_export(checks.model_of(layer, x.shape[1:]), x, tmp_path)


def test_onnx_export_needs_a_known_image_size(tmp_path):
    pytest.importorskip("onnx")
    inputs = Input(shape=(None, None, 3))
    model = Model(inputs, layers.Resizing(4, 4)(inputs))
    with pytest.raises(myelin.onnx.ExportError, match="needs a known image height and width"):
        model.export(tmp_path / "m.onnx", format="onnx")
