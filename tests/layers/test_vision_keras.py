"""The vision layers against Keras 3's own results (tests/data/vision_keras_golden.json, made by
tests/make_vision_keras_golden.py in an environment with Keras)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myelin import layers

GOLDEN = json.loads((Path(__file__).resolve().parent.parent / "data" / "vision_keras_golden.json").read_text())
INPUTS = {k: np.array(v, dtype=bool if k == "mask" else np.float32) for k, v in GOLDEN["inputs"].items()}
# float32 on both sides, different summation orders: a few units in the last place
TOL = {"rtol": 1e-5, "atol": 2e-6}


def _close(got, key):
    np.testing.assert_allclose(np.asarray(got), np.array(GOLDEN[key], dtype=np.float32), err_msg=key, **TOL)


def test_batch_normalization_moving_statistics_and_inference_follow_keras():
    bn = layers.BatchNormalization(axis=1, momentum=0.8)
    for _ in range(3):
        y = bn(INPUTS["x"], training=True)
    _close(y.data, "bn_y")
    _close(bn.moving_mean.data, "bn_moving_mean")
    _close(bn.moving_variance.data, "bn_moving_variance")
    _close(bn(INPUTS["x"]).data, "bn_inference")


def test_masked_batch_normalization_follows_keras():
    bn = layers.BatchNormalization(momentum=0.5)
    _close(bn(INPUTS["seq"], training=True, mask=INPUTS["mask"]).data, "bn_masked_y")
    _close(bn.moving_mean.data, "bn_masked_moving_mean")
    _close(bn.moving_variance.data, "bn_masked_moving_variance")


@pytest.mark.parametrize(
    ("key", "run"),
    [
        ("group_norm", lambda i: layers.GroupNormalization(groups=2, axis=1)(i["x"].reshape(6, 4, 3))),
        ("dot", lambda i: layers.Dot(axes=(-1, 1))([i["a"], i["b"]])),
        ("dot_normalized", lambda i: layers.Dot(axes=(1, 2), normalize=True)([i["a"], i["b"]])),
        ("up_bilinear", lambda i: layers.UpSampling2D((2, 3), interpolation="bilinear")(i["img"])),
        ("crop", lambda i: layers.Cropping2D(((1, 0), (1, 2)))(i["img"])),
        ("pad_channels_first", lambda i: layers.ZeroPadding2D(((1, 0), (1, 2)), data_format="channels_first")(i["img"])),
    ],
)
def test_layer_follows_keras(key, run):
    _close(run(INPUTS).data, key)
