"""Cases that tests/make_keras_api_golden.py runs through Keras 3 and tests/test_keras_api_golden.py through myelin.

Each case names a Keras object (a loss, metric, optimizer, schedule, activation), its
arguments and its inputs (NumPy arrays made here from fixed seeds), so both libraries see the
same numbers. Kinds:

- ``loss``: ``name(**config)(y_true, y_pred[, sample_weight])`` for a class, or
  ``name(y_true, y_pred, **config)`` for a function;
- ``metric``: a metric class updated with each batch in turn, then ``result()``;
- ``optimizer``: ten steps of a fixed gradient sequence on one weight;
- ``schedule``: the learning rate at a list of steps;
- ``activation``: ``name(x, **config)``.
"""

from __future__ import annotations

import numpy as np


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _probs(seed: int, shape=(6, 4)) -> np.ndarray:
    x = _rng(seed).random(shape) + 0.05
    return x / x.sum(-1, keepdims=True)


def _onehot(seed: int, shape=(6, 4)) -> np.ndarray:
    labels = _rng(seed).integers(0, shape[-1], shape[:-1])
    return np.eye(shape[-1])[labels]


def _binary(seed: int, shape=(6, 3)) -> np.ndarray:
    return _rng(seed).integers(0, 2, shape).astype(np.float64)


def _unit(seed: int, shape=(6, 3)) -> np.ndarray:
    return _rng(seed).uniform(0.02, 0.98, shape)


def _normal(seed: int, shape=(6, 3)) -> np.ndarray:
    return _rng(seed).normal(size=shape)


def loss_cases() -> list[dict]:
    yb, pb, logits = _binary(1), _unit(2), _normal(3)
    yc, pc, zc = _onehot(4), _probs(5), _normal(6, (6, 4))
    yr, pr = _normal(7), _normal(8)
    pos_t, pos_p = _unit(9) * 3, _unit(10) * 3
    sw = _unit(11, (6,))
    pm1 = 2 * yb - 1
    out = []

    def add(name, y_true, y_pred, config=None, sample_weight=None):
        case = {"kind": "loss", "name": name, "config": config or {}, "inputs": [y_true, y_pred]}
        if sample_weight is not None:
            case["inputs"].append(sample_weight)
        out.append(case)

    for cls, fn in (("BinaryFocalCrossentropy", "binary_focal_crossentropy"),):
        add(cls, yb, pb)
        add(cls, yb, logits, {"from_logits": True, "gamma": 1.5})
        add(cls, yb, pb, {"apply_class_balancing": True, "alpha": 0.4, "label_smoothing": 0.1}, sw)
        add(fn, yb, pb, {"gamma": 3.0})
    add("CategoricalFocalCrossentropy", yc, pc)
    add("CategoricalFocalCrossentropy", yc, zc, {"from_logits": True, "alpha": 0.5, "gamma": 1.0, "label_smoothing": 0.2})
    add("CategoricalFocalCrossentropy", yc, pc, {"reduction": "sum"}, sw)
    add("categorical_focal_crossentropy", yc, pc, {"gamma": 0.5})
    for cls, fn, y_true, y_pred in (
        ("KLDivergence", "kl_divergence", yc * 0.9 + 0.025, pc),
        ("Poisson", "poisson", pos_t, pos_p),
        ("LogCosh", "log_cosh", yr, pr),
        ("MeanAbsolutePercentageError", "mean_absolute_percentage_error", yr, pr),
        ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", pos_t, pos_p),
        ("Hinge", "hinge", yb, pr),
        ("SquaredHinge", "squared_hinge", yb, pr),
        ("CategoricalHinge", "categorical_hinge", yc, zc),
        ("CosineSimilarity", "cosine_similarity", yr, pr),
        ("Dice", "dice", yb, pb),
        ("Tversky", "tversky", yb, pb),
    ):
        add(cls, y_true, y_pred)
        add(cls, y_true, y_pred, {"reduction": "sum"}, sw)
        add(fn, y_true, y_pred)
    add("hinge", pm1, pr)
    add("squared_hinge", pm1, pr)
    add("CosineSimilarity", yr, pr, {"axis": 0})
    add("Dice", yb, pb, {"axis": 1})
    add("Tversky", yb, pb, {"alpha": 0.3, "beta": 0.7})
    add("Tversky", yb, pb, {"alpha": 0.2, "beta": 0.6, "axis": 1})
    add("tversky", yb, pb, {"alpha": 0.1, "beta": 0.9})
    return out


CASES = {"loss": loss_cases}


def all_cases() -> list[dict]:
    """Every case, each with a unique ``id``."""
    cases = []
    for kind, make in CASES.items():
        for i, case in enumerate(make()):
            cases.append({**case, "id": f"{kind}-{i:03d}-{case['name']}"})
    return cases
