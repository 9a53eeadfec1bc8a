"""Regenerate tests/data/apirest_golden.json: Keras 3's values for CTC, Circle, Muon, ScheduleFreeAdamW, name_scope.

Usage, from the repository root where Keras 3 (torch backend) is installed::

    KERAS_BACKEND=torch python -m tests.make_apirest_golden

The inputs are made here from fixed seeds (NumPy only) and stored beside Keras's outputs, so
tests/test_apirest.py checks myelin against them without Keras or torch. The CTC gradient
comes from PyTorch (``torch.nn.functional.ctc_loss`` on the log-softmax, as Keras's torch
backend computes it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("data") / "apirest_golden.json"


def ctc_inputs() -> dict:
    rng = np.random.default_rng(17)
    logits = rng.standard_normal((4, 8, 5)).astype("float32")
    target = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 1], [2, 0, 0, 0]], dtype="int32")
    return {
        "logits": logits,
        "target": target,
        "target_length": np.array([3, 2, 4, 1], dtype="int32"),
        "output_length": np.array([8, 6, 8, 3], dtype="int32"),
        "weights": rng.standard_normal(4).astype("float32"),
    }


def circle_inputs() -> dict:
    rng = np.random.default_rng(18)
    x = rng.standard_normal((6, 4)).astype("float32")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ref = rng.standard_normal((5, 4)).astype("float32")
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    return {
        "labels": np.array([0, 1, 0, 2, 1, 3], dtype="int32"),  # label 3 has no other sample: masked
        "embeddings": x,
        "ref_labels": np.array([0, 1, 2, 2, 0], dtype="int32"),
        "ref_embeddings": ref,
        "sample_weight": np.array([1.0, 0.5, 2.0, 0.0, 1.5, 1.0], dtype="float32"),
    }


def optimizer_inputs() -> dict:
    rng = np.random.default_rng(19)
    shapes = {"dense/kernel": (4, 3), "dense/bias": (3,), "embedding/embeddings": (5, 2), "head/kernel": (3, 6)}
    values = {k: rng.standard_normal(s).astype("float32") for k, s in shapes.items()}
    grads = [{k: rng.standard_normal(s).astype("float32") for k, s in shapes.items()} for _ in range(4)]
    return {"values": values, "grads": grads}


OPTIMIZER_CASES = {
    "muon_default": ("Muon", {}),
    "muon_options": (
        "Muon",
        {
            "learning_rate": 0.01,
            "exclude_layers": ["head"],
            "exclude_embeddings": False,
            "nesterov": False,
            "rms_rate": None,
            "momentum": 0.8,
            "ns_steps": 3,
            "adam_lr_ratio": 0.5,
            "weight_decay": 0.1,
            "adam_weight_decay": 0.05,
        },
    ),
    "schedule_free": ("ScheduleFreeAdamW", {"learning_rate": 0.01}),
    "schedule_free_warmup": (
        "ScheduleFreeAdamW",
        {"learning_rate": 0.02, "warmup_steps": 3, "weight_decay": 0.1, "beta_1": 0.8},
    ),
}


def _lists(d: dict) -> dict:
    return {k: np.asarray(v).tolist() for k, v in d.items()}


def main() -> None:
    import keras
    import torch

    out = {"keras_version": keras.__version__}
    # ---- CTC
    c = ctc_inputs()
    loss = keras.ops.ctc_loss(c["target"], c["logits"], c["target_length"], c["output_length"], mask_index=0)
    x = torch.tensor(c["logits"].astype("float64"), requires_grad=True)
    t_loss = torch.nn.functional.ctc_loss(
        torch.log_softmax(x, -1).transpose(0, 1),
        torch.tensor(c["target"], dtype=torch.long),
        torch.tensor(c["output_length"], dtype=torch.long),
        torch.tensor(c["target_length"], dtype=torch.long),
        blank=0,
        reduction="none",
    )
    (t_loss * torch.tensor(c["weights"].astype("float64"))).sum().backward()
    ctc = {**_lists(c), "keras_loss": np.asarray(loss).tolist(), "torch_grad": x.grad.numpy().tolist()}
    ctc["keras_loss_blank4"] = np.asarray(
        keras.ops.ctc_loss(
            np.where(c["target"] == 4, 0, c["target"]), c["logits"], c["target_length"], c["output_length"], mask_index=4
        )
    ).tolist()
    y_true = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 1], [2, 0, 0, 0]], dtype="int32")
    ctc["CTC_default"] = float(keras.losses.CTC()(y_true, c["logits"]))
    ctc["CTC_sum"] = float(keras.losses.CTC(reduction="sum")(y_true, c["logits"]))
    ctc["ctc_fn"] = np.asarray(keras.losses.ctc(y_true, c["logits"])).tolist()
    decodes = {}
    lengths = c["output_length"]
    for name, kwargs in {
        "greedy": {},
        "greedy_nomerge": {"merge_repeated": False},
        "greedy_blank_last": {"mask_index": None},
        "beam": {"strategy": "beam_search"},
        "beam_w3_top3": {"strategy": "beam_search", "beam_width": 3, "top_paths": 3},
        "beam_w10_top2_blank4": {"strategy": "beam_search", "beam_width": 10, "top_paths": 2, "mask_index": 4},
    }.items():
        paths, scores = keras.ops.ctc_decode(c["logits"], lengths, **kwargs)
        decodes[name] = {"kwargs": kwargs, "paths": np.asarray(paths).tolist(), "scores": np.asarray(scores).tolist()}
    ctc["decode"] = decodes
    out["ctc"] = ctc
    # ---- Circle
    ci = circle_inputs()
    circle = {**_lists(ci)}
    lab, emb = ci["labels"], ci["embeddings"]
    circle["fn_default"] = np.asarray(keras.losses.circle(lab, emb)).tolist()
    circle["fn_ref"] = np.asarray(
        keras.losses.circle(lab, emb, ref_labels=ci["ref_labels"], ref_embeddings=ci["ref_embeddings"], gamma=10, margin=0.25)
    ).tolist()
    circle["fn_keep_diagonal"] = np.asarray(keras.losses.circle(lab, emb, remove_diagonal=False, gamma=5)).tolist()
    classes = {}
    for name, kwargs in {
        "default": {},
        "gamma10": {"gamma": 10.0, "margin": 0.3},
        "sum": {"gamma": 10.0, "reduction": "sum"},
        "none": {"gamma": 10.0, "reduction": "none"},
        "keep_diagonal": {"gamma": 2.0, "remove_diagonal": False},
    }.items():
        classes[name] = {"kwargs": kwargs, "value": np.asarray(keras.losses.Circle(**kwargs)(lab, emb)).tolist()}
        classes[name]["weighted"] = np.asarray(
            keras.losses.Circle(**kwargs)(lab, emb, sample_weight=ci["sample_weight"])
        ).tolist()
    classes["mean_with_sample_weight"] = {
        "kwargs": {"gamma": 10.0, "reduction": "mean_with_sample_weight"},
        "value": float(keras.losses.Circle(gamma=10.0, reduction="mean_with_sample_weight")(lab, emb)),
        "weighted": float(
            keras.losses.Circle(gamma=10.0, reduction="mean_with_sample_weight")(lab, emb, sample_weight=ci["sample_weight"])
        ),
    }
    circle["classes"] = classes
    out["circle"] = circle
    # ---- optimizers (variables named by name scopes, as myelin's layers name theirs)
    o = optimizer_inputs()
    optim = {"values": _lists(o["values"]), "grads": [_lists(g) for g in o["grads"]], "cases": {}}
    for case, (class_name, kwargs) in OPTIMIZER_CASES.items():
        variables = []
        for key, value in o["values"].items():
            scope, name = key.split("/")
            with keras.name_scope(scope):
                variables.append(keras.Variable(value, name=name))
        opt = getattr(keras.optimizers, class_name)(**kwargs)
        for step in o["grads"]:
            opt.apply([step[v.path] for v in variables], variables)
        optim["cases"][case] = {
            "class_name": class_name,
            "kwargs": kwargs,
            "final": {v.path: np.asarray(v).tolist() for v in variables},
            "config": {k: v for k, v in opt.get_config().items() if isinstance(v, (int, float, str, bool, list, type(None)))},
        }
    out["optimizers"] = optim
    # ---- name_scope: variable paths of layers built inside scopes
    paths = {}
    with keras.name_scope("outer"):
        d = keras.layers.Dense(2, name="d")
        d.build((None, 3))
        with keras.name_scope("inner"):
            e = keras.layers.Dense(2, name="e")
            e.build((None, 3))
    paths["outer_d"] = [w.path for w in d.weights]
    paths["outer_inner_e"] = [w.path for w in e.weights]
    out["name_scope"] = paths
    # ---- keras.preprocessing.image.smart_resize
    rng = np.random.default_rng(20)
    images = {"single": rng.random((5, 7, 3)).astype("float32"), "batch": rng.random((2, 6, 4, 1)).astype("float32")}
    resized = {}
    for name, image, size, interpolation, data_format in (
        ("single_bilinear", images["single"], (4, 4), "bilinear", "channels_last"),
        ("single_nearest_wide", images["single"], (2, 6), "nearest", "channels_last"),
        ("batch_bicubic", images["batch"], (3, 5), "bicubic", "channels_last"),
        ("batch_channels_first", images["batch"].transpose(0, 3, 1, 2), (4, 2), "bilinear", "channels_first"),
    ):
        result = keras.preprocessing.image.smart_resize(image, size, interpolation=interpolation, data_format=data_format)
        resized[name] = {
            "image": image.tolist(),
            "size": list(size),
            "interpolation": interpolation,
            "data_format": data_format,
            "keras": np.asarray(result).tolist(),
        }
    out["smart_resize"] = resized
    # ---- keras.utils.bounding_boxes
    bb = keras.utils.bounding_boxes
    rng = np.random.default_rng(21)
    corner = rng.uniform(0, 40, size=(2, 3, 2)).astype("float32")
    size = rng.uniform(2, 30, size=(2, 3, 2)).astype("float32")
    xyxy = np.concatenate([corner, corner + size], axis=-1)  # (2, 3, 4), inside a 64 x 80 image
    boxes = {"xyxy": xyxy.tolist(), "formats": {}}
    for fmt in ("yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh"):
        boxes["formats"][fmt] = np.asarray(bb.convert_format(xyxy, "xyxy", fmt, height=64, width=80)).tolist()
    boxes["rel_to_rel"] = np.asarray(
        bb.convert_format(np.asarray(boxes["formats"]["rel_xywh"]), "rel_xywh", "rel_center_xywh", height=64, width=80)
    ).tolist()
    wide = xyxy * np.array([2.0, 1.0, 2.0, 1.5], "float32") - 10
    labels = np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")
    clipped = bb.clip_to_image_size({"boxes": wide, "labels": labels}, height=50, width=60)
    boxes["clip"] = {
        "boxes_in": wide.tolist(),
        "labels_in": labels.tolist(),
        "boxes": np.asarray(clipped["boxes"]).tolist(),
        "labels": np.asarray(clipped["labels"]).tolist(),
    }
    affine_args = {
        "angle": np.array([15.0, -30.0], "float32"),
        "translate_x": np.array([0.1, -0.2], "float32"),
        "translate_y": np.array([0.05, 0.0], "float32"),
        "scale": np.array([1.2, 0.8], "float32"),
        "shear_x": np.array([5.0, 0.0], "float32"),
        "shear_y": np.array([0.0, -10.0], "float32"),
    }
    boxes["affine"] = {
        "args": {k: v.tolist() for k, v in affine_args.items()},
        "default": np.asarray(bb.affine_transform(xyxy, height=64, width=80, **affine_args)).tolist(),
        "centered": np.asarray(
            bb.affine_transform(xyxy, height=64, width=80, center_x=0.25, center_y=0.75, **affine_args)
        ).tolist(),
    }
    boxes["crop"] = np.asarray(bb.crop(xyxy, top=5, left=10, height=30, width=35)).tolist()
    boxes["pad"] = np.asarray(bb.pad(xyxy, top=4, left=7)).tolist()
    anchors = np.concatenate([corner[0] + 1, corner[0] + size[0] * 0.9], axis=-1)
    boxes["anchors"] = anchors.tolist()
    deltas = bb.encode_box_to_deltas(anchors, xyxy[0], "xyxy", "xyxy")
    deltas_var = bb.encode_box_to_deltas(
        anchors, xyxy[0], "xyxy", "xywh", encoding_format="center_xywh", variance=[0.1, 0.1, 0.2, 0.2]
    )
    boxes["deltas"] = np.asarray(deltas).tolist()
    boxes["deltas_var"] = np.asarray(deltas_var).tolist()
    boxes["decoded_var"] = np.asarray(
        bb.decode_deltas_to_boxes(
            anchors,
            keras.ops.convert_to_tensor(np.asarray(deltas_var)),
            "xyxy",
            "xyxy",
            encoded_format="center_xywh",
            variance=[0.1, 0.1, 0.2, 0.2],
        )
    ).tolist()
    boxes["iou"] = np.asarray(bb.compute_iou(xyxy[0], xyxy[1], "xyxy")).tolist()
    boxes["iou_batched"] = np.asarray(bb.compute_iou(xyxy, xyxy[:, ::-1], "xyxy")).tolist()
    padded = xyxy.copy()
    padded[1, 2] = -1.0
    boxes["iou_masked"] = np.asarray(bb.compute_iou(padded, xyxy, "xyxy", use_masking=True, mask_val=-2)).tolist()
    boxes["iou_rel"] = np.asarray(
        bb.compute_iou(
            np.asarray(boxes["formats"]["rel_yxyx"])[0],
            np.asarray(boxes["formats"]["rel_yxyx"])[1],
            "rel_yxyx",
            image_shape=(64, 80, 3),
        )
    ).tolist()
    boxes["ciou"] = np.asarray(bb.compute_ciou(xyxy[0], xyxy[1], "xyxy")).tolist()
    boxes["ciou_yxyx"] = np.asarray(
        bb.compute_ciou(np.asarray(boxes["formats"]["yxyx"]), np.asarray(boxes["formats"]["yxyx"])[:, ::-1], "yxyx")
    ).tolist()
    out["bounding_boxes"] = boxes
    # ---- keras.initializers.STFT (named windows need SciPy, which this environment may lack: see scipy_windows)
    stft = {}
    for name, kwargs, shape in (
        ("no_window", {"window": None}, (4, 1, 3)),
        ("no_window_imag", {"window": None, "side": "imag"}, (6, 1, 5)),
        ("array_density", {"window": [0.5, 1.0, 1.0, 0.5], "side": "imag"}, (4, 1, 3)),
        ("array_spectrum", {"window": [0.1, 0.7, 1.0, 0.7, 0.1], "scaling": "spectrum"}, (5, 1, 4)),
        ("array_unscaled", {"window": [1.0, 2.0, 3.0], "scaling": None}, (3, 1, 2)),
    ):
        kernel = keras.initializers.STFT(**kwargs)(shape, dtype="float32")
        stft[name] = {"kwargs": kwargs, "shape": list(shape), "kernel": np.asarray(kernel).tolist()}
    out["stft"] = stft
    PATH.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


WINDOWS_PATH = Path(__file__).with_name("data") / "scipy_windows_golden.json"


def scipy_windows() -> None:
    """tests/data/scipy_windows_golden.json: SciPy's get_window for the windows myelin's STFT computes itself.

    Run where SciPy is installed: ``python -m tests.make_apirest_golden --windows``.
    """
    from scipy.signal import get_window

    out = {}
    for name in ("hann", "hamming", "blackman", "bartlett", "boxcar"):
        for length in (1, 2, 5, 8):
            for periodic in (False, True):
                out[f"{name}/{length}/{int(periodic)}"] = get_window(name, length, periodic).tolist()
    WINDOWS_PATH.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    import sys

    scipy_windows() if "--windows" in sys.argv else main()
