"""Regenerate tests/data/image_preprocessing_golden.json from Keras 3 on its PyTorch backend.

Usage: ``KERAS_BACKEND=torch /work/peers/bin/python tests/make_image_golden.py`` (any Python
with Keras 3 and torch). Every case is deterministic: the resizing and cropping layers, and the
random layers either with a factor whose range is one value (``factor=(0.1, 0.1)``) or through
``transform_images`` with a transformation chosen here. tests/layers/test_image_preprocessing.py
replays each case in myelin (without Keras) and compares. Outputs are rounded to 4 decimals.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SHAPE = (2, 5, 7, 3)  # batch, height, width, channels


def images() -> np.ndarray:
    """The input every case uses: values in [0, 255), float32 (also made by the test, from the same seed)."""
    return np.random.default_rng(0).uniform(0, 255, SHAPE).astype("float32")


# (name, layer class, constructor arguments, how to call: "train", "infer" or a transformation to apply)
CASES = [
    *[
        (
            f"Resizing-{interp}-{h}x{w}{'-aa' if aa else ''}",
            "Resizing",
            {"height": h, "width": w, "interpolation": interp, "antialias": aa},
            "infer",
        )
        for interp in ("bilinear", "nearest", "bicubic")
        for (h, w) in ((3, 4), (8, 11), (4, 10))
        for aa in ((False, True) if interp != "nearest" else (False,))
    ],
    ("Resizing-crop", "Resizing", {"height": 4, "width": 4, "crop_to_aspect_ratio": True}, "infer"),
    ("Resizing-pad", "Resizing", {"height": 4, "width": 4, "pad_to_aspect_ratio": True, "fill_value": 9.5}, "infer"),
    ("Resizing-pad-wide", "Resizing", {"height": 3, "width": 9, "pad_to_aspect_ratio": True, "fill_value": 1.0}, "infer"),
    ("Resizing-first", "Resizing", {"height": 3, "width": 5, "data_format": "channels_first"}, "infer"),
    ("CenterCrop", "CenterCrop", {"height": 3, "width": 4}, "infer"),
    ("CenterCrop-even", "CenterCrop", {"height": 2, "width": 6}, "infer"),
    ("CenterCrop-small", "CenterCrop", {"height": 6, "width": 4}, "infer"),
    ("CenterCrop-first", "CenterCrop", {"height": 3, "width": 2, "data_format": "channels_first"}, "infer"),
    ("RandomCrop-at", "RandomCrop", {"height": 3, "width": 4}, {"crop": [1, 2]}),
    ("RandomCrop-equal-height", "RandomCrop", {"height": 5, "width": 4}, "train"),
    ("RandomCrop-larger", "RandomCrop", {"height": 6, "width": 6}, "train"),
    *[
        (f"RandomFlip-{mode}", "RandomFlip", {"mode": mode}, {"flips": [True, False]})
        for mode in ("horizontal", "vertical", "horizontal_and_vertical")
    ],
    ("RandomFlip-first", "RandomFlip", {"mode": "horizontal", "data_format": "channels_first"}, {"flips": [False, True]}),
    *[
        (
            f"RandomRotation-{fill}-{interp}-{factor}",
            "RandomRotation",
            {"factor": (factor, factor), "fill_mode": fill, "interpolation": interp, "fill_value": 7.0},
            "train",
        )
        for fill in ("reflect", "wrap", "constant", "nearest")
        for interp in ("bilinear", "nearest")
        for factor in (0.1, -0.3)
    ],
    ("RandomRotation-first", "RandomRotation", {"factor": (0.2, 0.2), "data_format": "channels_first"}, "train"),
    *[
        (
            f"RandomZoom-{fill}-{interp}",
            "RandomZoom",
            {"height_factor": (0.3, 0.3), "width_factor": (-0.2, -0.2), "fill_mode": fill, "interpolation": interp},
            "train",
        )
        for fill in ("reflect", "wrap", "constant", "nearest")
        for interp in ("bilinear", "nearest")
    ],
    ("RandomZoom-aspect", "RandomZoom", {"height_factor": (-0.4, -0.4), "fill_mode": "constant", "fill_value": 3.0}, "train"),
    *[
        (
            f"RandomTranslation-{fill}-{interp}",
            "RandomTranslation",
            {"height_factor": (0.2, 0.2), "width_factor": (-0.3, -0.3), "fill_mode": fill, "interpolation": interp},
            "train",
        )
        for fill in ("reflect", "wrap", "constant", "nearest")
        for interp in ("bilinear", "nearest")
    ],
    ("RandomContrast", "RandomContrast", {"factor": 0.5}, {"contrast_factor": [1.3, 0.6]}),
    (
        "RandomContrast-first",
        "RandomContrast",
        {"factor": 0.5, "data_format": "channels_first"},
        {"contrast_factor": [1.45, 0.8]},
    ),
    ("RandomContrast-clip", "RandomContrast", {"factor": 0.9, "value_range": (50, 200)}, {"contrast_factor": [1.9, 0.2]}),
    ("RandomBrightness", "RandomBrightness", {"factor": (0.2, 0.2)}, "train"),
    ("RandomBrightness-down", "RandomBrightness", {"factor": (-0.5, -0.5), "value_range": (0, 300)}, "train"),
]


def _keras_transformation(name: str, given: dict, n: int):
    if "crop" in given:
        return tuple(given["crop"])
    if "flips" in given:
        return {"flips": np.array(given["flips"]).reshape(n, 1, 1, 1)}
    return {"contrast_factor": np.array(given["contrast_factor"], dtype="float32").reshape(n, 1, 1, 1)}


def main() -> None:
    import keras  # only this script needs it (pytest imports the file for doctests)

    x = images()
    out = {"shape": list(SHAPE), "cases": {}}
    for name, cls, kwargs, how in CASES:
        layer = getattr(keras.layers, cls)(**kwargs)
        first = kwargs.get("data_format") == "channels_first"
        data = np.transpose(x, (0, 3, 1, 2)) if first else x
        if how == "infer":
            y = layer(data, training=False)
        elif how == "train":
            y = layer(data, training=True)
        else:
            y = layer.transform_images(
                keras.ops.convert_to_tensor(data), _keras_transformation(name, how, len(x)), training=True
            )
        y = np.asarray(keras.ops.convert_to_numpy(y), dtype="float64")
        out["cases"][name] = {"layer": cls, "kwargs": kwargs, "how": how, "output": np.round(y, 4).tolist()}
    path = Path(__file__).with_name("data") / "image_preprocessing_golden.json"
    path.write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
