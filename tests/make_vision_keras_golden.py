"""Regenerate tests/data/vision_keras_golden.json from Keras 3 (run in an environment with Keras, torch backend).

Usage: ``KERAS_BACKEND=torch python tests/make_vision_keras_golden.py`` from the repository root
(the peer environment has Keras). It runs Keras's own BatchNormalization (moving statistics
over three steps, inference, masked statistics), GroupNormalization, Dot (negative axes and
normalize), UpSampling2D bilinear, Cropping2D and ZeroPadding2D on seeded inputs, and writes
the inputs and Keras's float32 results; tests/layers/test_vision_keras.py checks myelin
against them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras  # only this script needs it (pytest imports the file for doctests)
    import torch

    torch.set_grad_enabled(False)
    to_list = lambda t: keras.ops.convert_to_numpy(t).tolist()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4)).astype("float32") * 2 + 1
    a, b = rng.standard_normal((2, 3, 5)).astype("float32"), rng.standard_normal((2, 5, 3)).astype("float32")
    img = rng.standard_normal((2, 3, 4, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0], [0, 1, 1, 1], [1, 1, 1, 1]], bool)
    seq = rng.standard_normal((6, 4, 3)).astype("float32")
    out = {"inputs": {"x": x.tolist(), "a": a.tolist(), "b": b.tolist(), "img": img.tolist(), "seq": seq.tolist()}}
    out["inputs"]["mask"] = mask.tolist()
    bn = keras.layers.BatchNormalization(axis=1, momentum=0.8)
    for _ in range(3):
        y = bn(x, training=True)
    out.update(bn_y=to_list(y), bn_moving_mean=to_list(bn.moving_mean), bn_moving_variance=to_list(bn.moving_variance))
    out["bn_inference"] = to_list(bn(x, training=False))
    masked = keras.layers.BatchNormalization(momentum=0.5)
    out["bn_masked_y"] = to_list(masked(seq, training=True, mask=mask))
    out["bn_masked_moving_mean"] = to_list(masked.moving_mean)
    out["bn_masked_moving_variance"] = to_list(masked.moving_variance)
    out["group_norm"] = to_list(keras.layers.GroupNormalization(groups=2, axis=1)(x.reshape(6, 4, 3)))
    out["dot"] = to_list(keras.layers.Dot(axes=(-1, 1))([a, b]))
    out["dot_normalized"] = to_list(keras.layers.Dot(axes=(1, 2), normalize=True)([a, b]))
    out["up_bilinear"] = to_list(keras.layers.UpSampling2D((2, 3), interpolation="bilinear")(img))
    out["crop"] = to_list(keras.layers.Cropping2D(((1, 0), (1, 2)))(img))
    out["pad_channels_first"] = to_list(keras.layers.ZeroPadding2D(((1, 0), (1, 2)), data_format="channels_first")(img))
    out["keras_version"] = keras.__version__
    Path(__file__).with_name("data").joinpath("vision_keras_golden.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main()
