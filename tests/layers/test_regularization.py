"""SpatialDropout1D/2D: whole channels dropped in training, identity at inference, seeded runs reproducible."""

from __future__ import annotations

import numpy as np
import pytest

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
