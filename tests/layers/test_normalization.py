"""BatchNormalization and GroupNormalization: PyTorch's numbers (golden file and live), gradients, masks,
Keras's trainable=False rule, and fit's replayed steps updating the moving statistics bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Sequential, Tensor, layers
from myelin.ops.batchnorm import batch_norm

from .. import golden as torch_golden
from . import checks
from .vision_torch import INPUTS, MOMENTUM, PAIRS, STEPS, check_golden, golden, myelin_results, torch_results

rng = np.random.default_rng(3)


@pytest.fixture(scope="module")
def mine():
    myelin.backend.set_floatx("float64")
    try:
        return myelin_results()
    finally:
        myelin.backend.set_floatx("float32")


def test_normalization_matches_the_torch_golden_file(mine):
    assert set(PAIRS) <= set(mine)
    # outputs, input and weight gradients, moving statistics over 3 steps, inference; both layouts
    assert check_golden(("bn1d", "bn2d", "gn"), mine, checks.close) == 3 * (6 * STEPS + 4) + 8


def test_golden_file_is_what_torch_computes(torch):
    numbers = golden()
    fresh = torch_results(torch)
    assert set(fresh) == set(numbers)
    for key, value in fresh.items():
        checks.close(value, numbers[key], rtol=1e-12, atol=1e-14, what=key)


def test_moving_variance_mapping_to_torch_running_var(mine):
    """torch's running_var uses the unbiased batch variance: from the biased one times n / (n - 1), same momentum."""
    numbers = golden()
    n = INPUTS["bn1d_x"][0].shape[0]
    ours, theirs = np.ones(4), np.ones(4)
    for k, x in enumerate(INPUTS["bn1d_x"]):
        ours = MOMENTUM * ours + (1 - MOMENTUM) * x.var(axis=0)
        theirs = MOMENTUM * theirs + (1 - MOMENTUM) * x.var(axis=0) * n / (n - 1)
        checks.close(mine[f"bn1d_train{k}_moving_variance"], ours, what="biased")
        checks.close(numbers[f"bn1d_train{k}_running_var_unbiased"], theirs, what="torch unbiased")
    assert not np.allclose(ours, theirs)


def _bn_arrays():
    return np.random.default_rng(55).standard_normal((5, 3, 4)) * 3 + 2


def _bn_ours():
    x = _bn_arrays()
    layer = layers.BatchNormalization(axis=1, momentum=0.8, epsilon=1e-5)
    layer(x, training=False)
    out = {}
    for k in range(STEPS):
        out[f"train{k}"] = layer(x, training=True).data
        out[f"moving_mean{k}"] = layer.moving_mean.data.copy()
    out["inference"] = layer(x).data
    return out


def _bn_torch(torch):
    """torch's BatchNorm1d (momentum 1 - Keras's); for inference, the biased moving variance Keras keeps
    (torch's running_var is unbiased, n / (n - 1)) handed to the module."""
    x = torch.tensor(_bn_arrays())
    module = torch.nn.BatchNorm1d(3, eps=1e-5, momentum=0.2, dtype=torch.float64)
    biased = torch.ones(3, dtype=torch.float64)
    out = {}
    for k in range(STEPS):
        out[f"train{k}"] = module(x).detach().numpy()
        out[f"moving_mean{k}"] = module.running_mean.numpy().copy()
        biased = 0.8 * biased + 0.2 * x.var(dim=(0, 2), unbiased=False)
    module.eval()
    with torch.no_grad():
        module.running_var.copy_(biased)
        out["inference"] = module(x).numpy()
    return out


def _gn_ours():
    x = np.random.default_rng(265).standard_normal((2, 8, 3, 3))
    return {"y": layers.GroupNormalization(groups=4, axis=1, epsilon=1e-5)(x).data}


def _gn_torch(torch):
    x = np.random.default_rng(265).standard_normal((2, 8, 3, 3))
    module = torch.nn.GroupNorm(4, 8, eps=1e-5, dtype=torch.float64)
    return {"y": module(torch.tensor(x)).detach().numpy()}


# BatchNormalization(axis=1, momentum=0.8, epsilon=1e-5) over three training steps and inference, and
# GroupNormalization(4 groups of 8 channels), against torch's modules: tests/golden.py checks the
# committed tests/data/normalization_golden.json everywhere and torch itself where installed
GOLDEN_FILE = "normalization_golden.json"
TORCH_CASES = {"batch_norm": (_bn_ours, _bn_torch, 1e-10, 1e-12), "group_norm": (_gn_ours, _gn_torch, 1e-10, 1e-12)}


def test_the_golden_file_holds_every_case():
    torch_golden.holds_every_case(TORCH_CASES, GOLDEN_FILE)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_batch_and_group_norm_match_torch(float64, torch_if_installed, name):
    torch_golden.check(TORCH_CASES, GOLDEN_FILE, name, torch_if_installed)


@pytest.mark.parametrize(("axis", "shape"), [(-1, (6, 4)), (1, (3, 4, 5)), (-1, (2, 3, 3, 4)), (2, (2, 3, 4, 2))])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients(float64, axis, shape, training):
    layer = layers.BatchNormalization(axis=axis, gamma_initializer="random_normal", beta_initializer="random_normal")
    x = rng.standard_normal(shape) * 2 + 1
    layer(x)
    layer.moving_mean.data[...] = rng.standard_normal(layer.moving_mean.shape)
    layer.moving_variance.data[...] = rng.uniform(0.5, 2, layer.moving_variance.shape)
    if training:  # the moving statistics change at every call: check them apart, the gradient with momentum 1
        layer.momentum = 1.0
    checks.gradients(layer, x, training=training)


@pytest.mark.parametrize(("center", "scale"), [(False, True), (True, False), (False, False)])
def test_batch_norm_without_center_or_scale(float64, center, scale):
    layer = layers.BatchNormalization(center=center, scale=scale, momentum=1.0)
    x = rng.standard_normal((7, 3))
    y = layer(x, training=True)
    assert len(layer.trainable_weights) == center + scale
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    if scale:
        expected = expected * layer.gamma.data
    checks.close(y.data, expected)
    checks.gradients(layer, x, training=True)


def test_masked_statistics_follow_keras(float64):
    x = rng.standard_normal((3, 5, 2)) * 2
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    layer = layers.BatchNormalization(momentum=0.5)
    layer(x)
    y = layer(x, training=True, mask=mask)
    kept = x[mask]
    count = mask.sum() + 1e-7  # Keras adds backend.epsilon() to the count
    mean = kept.sum(0) / count
    var = ((kept - mean) ** 2).sum(0) / count
    checks.close(layer.moving_mean.data, 0.5 * mean)
    checks.close(layer.moving_variance.data, 0.5 + 0.5 * var)
    checks.close(y.data, (x - mean) / np.sqrt(var + 1e-3))
    layer.momentum = 1.0
    checks.gradients(layer, x, training=True, mask=mask)
    with pytest.raises(ValueError, match="one axis less"):
        layer(x, training=True, mask=np.ones((3, 5, 2), bool))


def test_mask_from_masking_layer_reaches_batch_norm():
    x = np.zeros((2, 4, 3), np.float32)
    x[:, :2] = np.random.default_rng(0).standard_normal((2, 2, 3))
    model = Sequential([layers.Input(shape=(4, 3)), layers.Masking(0.0), layers.BatchNormalization(momentum=0.0)])
    model(x, training=True)
    bn = model.layers[-1]
    np.testing.assert_allclose(bn.moving_mean.data, x[:, :2].reshape(-1, 3).mean(0), rtol=1e-5, atol=1e-6)


def test_trainable_false_freezes_and_runs_in_inference_mode():
    x = rng.standard_normal((8, 3)).astype(np.float32) * 4 + 5
    layer = layers.BatchNormalization()
    layer(x)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    before = [w.copy() for w in layer.get_weights()]
    y = layer(x, training=True).data
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)  # moving mean 0, variance 1


def test_weights_names_and_config_round_trip(tmp_path):
    layer = layers.BatchNormalization(axis=1, momentum=0.5, epsilon=0.01, beta_regularizer="l2", gamma_constraint="non_neg")
    x = rng.standard_normal((4, 3, 2)).astype(np.float32)
    layer(x)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    config = layer.get_config()
    for key in (
        "axis",
        "momentum",
        "epsilon",
        "center",
        "scale",
        "beta_initializer",
        "gamma_initializer",
        "moving_mean_initializer",
        "moving_variance_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
        "synchronized",
        "renorm",
        "renorm_clipping",
        "renorm_momentum",
    ):
        assert key in config, key
    checks.config_round_trip(layer, x)
    model = checks.model_of(layers.BatchNormalization(), (5,))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rng.standard_normal((16, 5)) + 3, rng.standard_normal((16, 5)), verbose=0)
    loaded = checks.saving(model, rng.standard_normal((4, 5)), tmp_path)
    np.testing.assert_array_equal(loaded.layers[-1].moving_mean.data, model.layers[-1].moving_mean.data)
    assert float(np.abs(model.layers[-1].moving_mean.data).max()) > 0


def test_bad_arguments_are_refused_with_names():
    with pytest.raises(ValueError, match="renorm"):
        layers.BatchNormalization(renorm=True)
    with pytest.raises(TypeError, match="synchronized must be True or False"):
        layers.BatchNormalization(synchronized="yes")
    with pytest.raises(ValueError, match="momentum"):
        layers.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match=r"BatchNormalization .*axis 3"):
        layers.BatchNormalization(axis=3)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"4 channels .* 3 equal groups"):
        layers.GroupNormalization(groups=3)(np.ones((2, 4)))


def _bn_model():
    return Sequential(
        [
            layers.Input(shape=(6,)),
            layers.Dense(8),
            layers.BatchNormalization(momentum=0.9),
            layers.Activation("relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _fit(jit, build, x, y):
    myelin.utils.set_random_seed(4)
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)  # 50 samples: a partial last batch too
    return model


@pytest.mark.parametrize(
    "build",
    [
        _bn_model,
        lambda: Sequential(
            [
                layers.Input(shape=(4, 4, 2)),
                layers.ZeroPadding2D(1),
                layers.BatchNormalization(axis=-1),
                layers.GroupNormalization(groups=2, axis=-1),
                layers.UpSampling2D(interpolation="bilinear"),
                layers.Cropping2D(((1, 2), (0, 1))),
                layers.GaussianNoise(0.1),
                layers.GaussianDropout(0.2),
                layers.Flatten(),
                layers.Dense(3, activation="softmax"),
            ]
        ),
    ],
    ids=["dense-bn", "image-stack"],
)
def test_compiled_fit_gives_bit_identical_weights_and_moving_statistics(build):
    data = np.random.default_rng(9)
    shape = build().input_shape[1:]
    x = data.standard_normal((50, *shape)).astype(np.float32) * 2 + 1
    y = data.integers(0, 3, 50)
    plain, fast = _fit(False, build, x, y), _fit("auto", build, x, y)
    assert fast.compile_status == "compiled: 2 training step shape(s) recorded", fast.compile_status
    assert plain.compile_status.startswith("not compiled")
    names = [w.name for w in plain.weights]
    assert any(n.endswith("moving_mean") for n in names)
    for name, a, b in zip(names, plain.get_weights(), fast.get_weights()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    bn = next(layer for layer in fast.layers if isinstance(layer, layers.BatchNormalization))
    assert not np.allclose(bn.moving_mean.data, 0)  # the replayed steps did update them
    np.testing.assert_array_equal(plain.predict(x, verbose=0), fast.predict(x, verbose=0))


def test_batch_norm_primitive_updates_in_place_and_refuses_nothing_silently():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32))
    m, v = Tensor(np.zeros(2, np.float32)), Tensor(np.ones(2, np.float32))
    held = m.data
    batch_norm(x, m, v, training=True, momentum=0.0, epsilon=0.0)
    assert m.data is held
    np.testing.assert_array_equal(m.data, [2.0, 4.0])
    np.testing.assert_array_equal(v.data, [1.0, 4.0])


@pytest.mark.parametrize(("groups", "axis", "shape"), [(2, -1, (3, 5, 4)), (3, 1, (2, 6, 3)), (-1, -1, (2, 3, 4))])
def test_group_norm_gradients_and_config(float64, groups, axis, shape):
    layer = layers.GroupNormalization(groups=groups, axis=axis, gamma_initializer="random_normal")
    x = rng.standard_normal(shape)
    checks.gradients(layer, x)
    checks.config_round_trip(layers.GroupNormalization(groups=groups, axis=axis, epsilon=0.01), x)


def test_normalization_onnx_export(tmp_path):
    x = rng.standard_normal((4, 5, 5, 3)).astype(np.float32) * 2 + 1
    model = Sequential([layers.Input(shape=(5, 5, 3)), layers.BatchNormalization(), layers.GroupNormalization(groups=3)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x, verbose=0, epochs=2)
    checks.onnx_export(model, x, tmp_path)
    cf = Sequential([layers.Input(shape=(3, 4)), layers.BatchNormalization(axis=1), layers.GroupNormalization(3, axis=1)])
    cf.layers[0].moving_mean.data[...] = [0.5, -1.0, 2.0]
    checks.onnx_export(cf, rng.standard_normal((2, 3, 4)).astype(np.float32), tmp_path)
    flat = Sequential([layers.Input(shape=(6,)), layers.Dense(4), layers.BatchNormalization(center=False, scale=False)])
    flat.layers[-1].moving_variance.data[...] = [0.5, 2.0, 1.0, 3.0]
    checks.onnx_export(flat, rng.standard_normal((5, 6)).astype(np.float32), tmp_path)


def test_synchronized_on_one_process_is_exactly_the_unsynchronized_layer():
    # without a data-parallel run of several processes there is nothing to synchronize with: same values, bit for bit
    # (tests/distribution/test_data_parallel.py checks two processes against one on the global batch)
    from myelin import distribution

    x = np.random.default_rng(5).standard_normal((32, 6)) * 2 + 1
    y = np.random.default_rng(6).integers(0, 3, 32)
    results = []
    for synchronized, dp in ((False, None), (True, None), (True, distribution.DataParallel())):
        distribution.set_distribution(dp)
        try:
            myelin.utils.set_random_seed(2)
            m = Sequential(
                [
                    layers.Input(shape=(6,)),
                    layers.Dense(8),
                    layers.BatchNormalization(momentum=0.8, synchronized=synchronized),
                    layers.Dense(3, activation="softmax"),
                ]
            )
            m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            m.fit(x, y, batch_size=8, epochs=2, verbose=0)
            assert m.layers[1].get_config()["synchronized"] is synchronized
            results.append([w.numpy() for w in m.weights])
        finally:
            distribution.set_distribution(None)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
