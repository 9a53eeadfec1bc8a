"""SpatialDropout1D/2D: whole channels dropped in training, identity at inference, seeded runs reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
import myelin.tape
from myelin import layers

from . import checks


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout_2d_drops_whole_maps(data_format):
    x = np.ones((64, 8, 4, 4), dtype="float32") if data_format == "channels_first" else np.ones((64, 4, 4, 8), "float32")
    y = layers.SpatialDropout2D(0.25, data_format=data_format, seed=3)(x, training=True).data
    per_map = y.reshape(64, 8, 16) if data_format == "channels_first" else y.transpose(0, 3, 1, 2).reshape(64, 8, 16)
    assert (per_map == per_map[:, :, :1]).all()  # one value per (sample, channel)
    assert set(np.unique(per_map).tolist()) == {0.0, np.float32(1 / 0.75)}
    kept = (per_map[:, :, 0] > 0).mean()
    assert abs(kept - 0.75) < 0.06  # 512 Bernoulli(0.75) draws: std 0.019, so 3 sigma
    again = layers.SpatialDropout2D(0.25, data_format=data_format, seed=3)(x, training=True).data
    np.testing.assert_array_equal(y, again)
    np.testing.assert_array_equal(layers.SpatialDropout2D(0.25, data_format=data_format)(x).data, x)


def test_spatial_dropout_1d_and_config():
    x = np.ones((32, 5, 6), "float32")
    y = layers.SpatialDropout1D(0.5, seed=1)(x, training=True).data
    assert (y == y[:, :1, :]).all() and 0 < (y == 0).mean() < 1
    checks.config_round_trip(layers.SpatialDropout1D(0.5, seed=1), x)
    assert layers.SpatialDropout2D(0.3, data_format="channels_first").get_config()["data_format"] == "channels_first"


def test_bad_input_names_the_layer():
    with pytest.raises(ValueError, match=r"SpatialDropout2D .*rank 4.*\(2, 3\)"):
        layers.SpatialDropout2D(0.5)(np.ones((2, 3)), training=True)
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout1D(0.5, data_format="nhwc")


# ---------------------------------------------------------------------------- Gaussian noise layers
def test_gaussian_noise_statistics_and_identity_at_inference():
    x = np.full((400, 250), 3.0, np.float32)
    y = layers.GaussianNoise(0.2, seed=1)(x, training=True).data
    noise = y - 3.0
    assert abs(noise.mean()) < 0.002 and abs(noise.std() - 0.2) < 0.002  # 1e5 draws: 3 sigma ~ 0.0019 / 0.0013
    np.testing.assert_array_equal(layers.GaussianNoise(0.2, seed=1)(x, training=True).data, y)  # seeded: same draw
    np.testing.assert_array_equal(layers.GaussianNoise(0.2)(x).data, x)
    np.testing.assert_array_equal(layers.GaussianNoise(0.0)(x, training=True).data, x)


def test_gaussian_dropout_statistics_gradient_and_identity_at_inference():
    x = np.full((400, 250), 2.0, np.float32)
    rate = 0.3
    layer = layers.GaussianDropout(rate, seed=2)
    t = myelin.Tensor(x, requires_grad=True)
    y = layer(t, training=True)
    factor = y.data / 2.0
    assert abs(factor.mean() - 1.0) < 0.005 and abs(factor.std() - np.sqrt(rate / (1 - rate))) < 0.005
    y.sum().backward()
    np.testing.assert_allclose(t.grad, factor, rtol=1e-6)  # d(x * noise)/dx = noise
    np.testing.assert_array_equal(layers.GaussianDropout(rate)(x).data, x)


def test_noise_layers_draw_fresh_noise_in_replayed_steps_and_match_the_ordinary_path():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 5)).astype(np.float32), rng.standard_normal((40, 1)).astype(np.float32)

    def run(jit):
        myelin.utils.set_random_seed(3)
        model = myelin.Sequential(
            [
                layers.Input(shape=(5,)),
                layers.GaussianNoise(0.5),
                layers.Dense(4),
                layers.GaussianDropout(0.4),
                layers.Dense(1),
            ]
        )
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        return model, history.history["loss"]

    plain, loss_plain = run(False)
    fast, loss_fast = run("auto")
    assert fast.compile_status.startswith("compiled"), fast.compile_status
    assert loss_plain == loss_fast
    for a, b in zip(plain.get_weights(), fast.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the replayed steps drew new noise: the same batch twice gives two outputs
    noise = layers.GaussianNoise(0.5, seed=4)
    with myelin.tape.Tape([x]) as tape:
        out = noise(myelin.Tensor(x), training=True)
    plan = myelin.tape.Plan(tape, None, [out])
    first, second = plan.run([x], backward=False)[1][0].copy(), plan.run([x], backward=False)[1][0]
    assert not np.array_equal(first, second)


def test_noise_layers_config_and_bad_arguments():
    x = np.ones((2, 3), np.float32)
    checks.config_round_trip(layers.GaussianNoise(0.1, seed=5), x)
    checks.config_round_trip(layers.GaussianDropout(0.1, seed=5), x)
    assert layers.GaussianDropout(0.25, seed=1).get_config()["rate"] == 0.25
    with pytest.raises(ValueError, match=r"GaussianNoise .*stddev must be a number in \[0, 1\]"):
        layers.GaussianNoise(1.5)
    with pytest.raises(ValueError, match=r"GaussianDropout .*rate=1"):
        layers.GaussianDropout(1.0)
    with pytest.raises(ValueError, match="rate must be a number"):
        layers.GaussianDropout(-0.1)


def test_noise_layers_export_to_onnx_as_identity(tmp_path):
    model = myelin.Sequential(
        [layers.Input(shape=(4,)), layers.GaussianNoise(0.3), layers.GaussianDropout(0.2), layers.Dense(2)]
    )
    checks.onnx_export(model, np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32), tmp_path)


@pytest.mark.parametrize("which", ["noise", "dropout"])
def test_noise_primitives_gradients_by_central_differences(float64, which):
    from myelin.ops.resampling import gaussian_dropout, gaussian_noise

    x = np.random.default_rng(3).standard_normal((4, 5))
    r = np.random.default_rng(4).standard_normal((4, 5))

    def apply(t):  # the same draw every time: a generator seeded afresh
        gen = np.random.default_rng(11)
        return gaussian_noise(t, 0.3, gen) if which == "noise" else gaussian_dropout(t, 0.3, gen)

    t = myelin.Tensor(x, requires_grad=True)
    (apply(t) * myelin.Tensor(r)).sum().backward()
    eps = 1e-6
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric = ((apply(myelin.Tensor(plus)).data - apply(myelin.Tensor(minus)).data) * r).sum() / (2 * eps)
        assert abs(t.grad[i] - numeric) <= 1e-8 + 1e-6 * abs(numeric), (i, t.grad[i], numeric)
