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
    labels = _rng(12).integers(0, 4, (6,))
    add("CategoricalGeneralizedCrossEntropy", labels, pc)
    add("CategoricalGeneralizedCrossEntropy", labels, pc, {"q": 0.2, "reduction": "sum"}, sw)
    add("categorical_generalized_cross_entropy", labels, pc, {"q": 0.7})
    return out


def metric_cases() -> list[dict]:
    out = []

    def add(name, batches, config=None):
        out.append({"kind": "metric", "name": name, "config": config or {}, "inputs": batches})

    yb1, pb1, yb2, pb2 = _binary(21, (8, 2)), _unit(22, (8, 2)), _binary(23, (8, 2)), _unit(24, (8, 2))
    w1, w2 = _unit(25, (8,)), _unit(26, (8,))
    binary = [[yb1, pb1], [yb2, pb2, w2]]
    for name in ("TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives"):
        add(name, binary)
        add(name, [[yb1, pb1, w1]], {"thresholds": [0.2, 0.5, 0.7]})
    yv, pv = _binary(27, (40,)), _unit(28, (40,))
    pv = np.clip(pv * 0.5 + yv * 0.4, 0.0, 1.0)
    for name, value in (
        ("PrecisionAtRecall", "recall"),
        ("RecallAtPrecision", "precision"),
        ("SensitivityAtSpecificity", "specificity"),
        ("SpecificityAtSensitivity", "sensitivity"),
    ):
        add(name, [[yv, pv]], {value: 0.6})
        add(name, [[yv[:20], pv[:20], w1.repeat(5)[:20]], [yv[20:], pv[20:]]], {value: 0.8, "num_thresholds": 50})
    ymc, pmc = _onehot(31, (10, 3)), _probs(32, (10, 3))
    ymc2, pmc2 = _onehot(33, (10, 3)), _probs(34, (10, 3))
    for average in (None, "micro", "macro", "weighted"):
        add("F1Score", [[ymc, pmc], [ymc2, pmc2]], {"average": average})
        add("FBetaScore", [[ymc, pmc, _unit(35, (10,))]], {"average": average, "beta": 2.0, "threshold": 0.3})
    ids_t, ids_p = _rng(36).integers(0, 3, (12,)), _rng(37).integers(0, 3, (12,))
    add("IoU", [[ids_t, ids_p]], {"num_classes": 3, "target_class_ids": [0, 2]})
    add("MeanIoU", [[ids_t, ids_p], [ids_p, ids_t, _rng(38).integers(1, 3, (12,)).astype(float)]], {"num_classes": 3})
    add("MeanIoU", [[ids_t, ids_p]], {"num_classes": 3, "ignore_class": 1})
    add("BinaryIoU", [[yb1, pb1]], {"target_class_ids": [0, 1], "threshold": 0.4})
    add("BinaryIoU", [[yb1, pb1]], {"target_class_ids": [1]})
    add("OneHotIoU", [[ymc, pmc]], {"num_classes": 3, "target_class_ids": [0, 1]})
    add("OneHotMeanIoU", [[ymc, pmc], [ymc2, pmc2]], {"num_classes": 3})
    yr1, pr1, yr2, pr2 = _normal(41, (9, 3)), _normal(42, (9, 3)), _normal(43, (9, 3)), _normal(44, (9, 3))
    regression = [[yr1, yr1 + 0.5 * pr1], [yr2, yr2 + 0.3 * pr2, _unit(45, (9,))]]
    for aggregation in ("uniform_average", "variance_weighted_average", None):
        add("R2Score", regression, {"class_aggregation": aggregation})
    add("R2Score", regression, {"num_regressors": 2})
    for name in ("CosineSimilarity", "PearsonCorrelation", "ConcordanceCorrelation", "LogCoshError"):
        add(name, regression)
    add("MeanAbsolutePercentageError", regression)
    add("MeanSquaredLogarithmicError", [[_unit(46) * 2, _unit(47) * 2]])
    add("Sum", [[_normal(48, (5,))], [_normal(49, (5,)), _unit(50, (5,))]])
    add("Hinge", [[yb1, _normal(51, (8, 2))]])
    add("SquaredHinge", [[yb1, _normal(51, (8, 2)), w1]])
    add("CategoricalHinge", [[ymc, _normal(52, (10, 3))]])
    add("KLDivergence", [[ymc * 0.9 + 0.03, pmc], [ymc2 * 0.9 + 0.03, pmc2, _unit(53, (10,))]])
    add("Poisson", [[_unit(54) * 3, _unit(55) * 3]])
    add("BinaryCrossentropy", binary)
    add("BinaryCrossentropy", [[yb1, _normal(56, (8, 2))]], {"from_logits": True, "label_smoothing": 0.1})
    add("CategoricalCrossentropy", [[ymc, pmc], [ymc2, pmc2]])
    add("CategoricalCrossentropy", [[ymc, _normal(57, (10, 3))]], {"from_logits": True, "label_smoothing": 0.2})
    labels = _rng(58).integers(0, 3, (10,))
    add("SparseCategoricalCrossentropy", [[labels, pmc]])
    add("SparseCategoricalCrossentropy", [[labels, _normal(59, (10, 3)), _unit(60, (10,))]], {"from_logits": True})
    add("SparseCategoricalCrossentropy", [[labels, pmc]], {"ignore_class": 1})
    return out


def optimizer_cases() -> list[dict]:
    out = []

    def add(name, shape, config=None, seed=0):
        weight = _normal(60 + seed, shape)
        grads = [_normal(70 + seed + k, shape) * (1.0 + 0.3 * k) for k in range(10)]
        out.append({"kind": "optimizer", "name": name, "config": config or {}, "inputs": [weight, grads]})

    for name in ("Adamax", "Nadam", "Adadelta", "Lion", "Lamb", "Ftrl", "Adafactor"):
        add(name, (3, 4), {"learning_rate": 0.05})
        add(name, (5,), {"learning_rate": 0.01}, seed=1)
    add("Adamax", (3, 4), {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-5, "weight_decay": 0.1})
    add("Nadam", (3, 4), {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.95, "clipnorm": 1.0})
    add("Adadelta", (3, 4), {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6})
    add("Lion", (3, 4), {"learning_rate": 0.01, "beta_1": 0.95, "beta_2": 0.98, "weight_decay": 0.5})
    add("Lamb", (2, 3, 4), {"learning_rate": 0.1, "beta_1": 0.8, "epsilon": 1e-6})
    add(
        "Ftrl",
        (3, 4),
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.7,
            "initial_accumulator_value": 0.5,
            "l1_regularization_strength": 0.05,
            "l2_regularization_strength": 0.1,
            "l2_shrinkage_regularization_strength": 0.02,
            "beta": 0.3,
        },
    )
    add("Adafactor", (2, 3, 4), {"learning_rate": 0.3, "beta_2_decay": -0.6, "clip_threshold": 0.5})
    add("Adafactor", (3, 4), {"learning_rate": 0.05, "relative_step": False, "epsilon_2": 0.1})
    return out


def schedule_cases() -> list[dict]:
    steps = [0, 1, 2, 3, 5, 7, 10, 13, 20, 31, 50, 99]
    out = []
    for name, config in (
        ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
        (
            "PolynomialDecay",
            {"initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.01, "power": 0.5, "cycle": True},
        ),
        ("PolynomialDecay", {"initial_learning_rate": 1.0, "decay_steps": 7, "power": 2.0}),
        ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.5}),
        ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.5, "staircase": True}),
        ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5}),
        (
            "CosineDecayRestarts",
            {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 1.0, "m_mul": 0.7, "alpha": 0.1},
        ),
        ("CosineDecayRestarts", {"initial_learning_rate": 1.0, "first_decay_steps": 3, "t_mul": 1.5, "m_mul": 0.9}),
    ):
        out.append({"kind": "schedule", "name": name, "config": config, "inputs": [steps]})
    return out


def activation_cases() -> list[dict]:
    x = np.concatenate([np.linspace(-7.0, 7.0, 29), [-0.5, 0.5, 1e-3]]).reshape(4, 8)
    out = []
    for name, config in (
        ("relu6", {}),
        ("mish", {}),
        ("hard_silu", {}),
        ("hard_swish", {}),
        ("log_sigmoid", {}),
        ("glu", {}),
        ("celu", {}),
        ("celu", {"alpha": 0.5}),
        ("hard_tanh", {}),
        ("soft_shrink", {}),
        ("soft_shrink", {"threshold": 1.5}),
        ("hard_shrink", {}),
        ("hard_shrink", {"threshold": 2.0}),
        ("exponential", {}),
        ("softsign", {}),
        ("sparse_plus", {}),
        ("sparse_sigmoid", {}),
        # sparsemax is left out: Keras 3.15 on torch leaves the simplex for negative inputs (tests/test_activations_more.py)
        ("squareplus", {}),
        ("squareplus", {"b": 2.0}),
        ("tanh_shrink", {}),
        ("threshold", {"threshold": 0.5, "default_value": -2.0}),
    ):
        out.append({"kind": "activation", "name": name, "config": config, "inputs": [x]})
    return out


CASES = {
    "loss": loss_cases,
    "metric": metric_cases,
    "optimizer": optimizer_cases,
    "schedule": schedule_cases,
    "activation": activation_cases,
}


def all_cases() -> list[dict]:
    """Every case, each with a unique ``id``."""
    cases = []
    for kind, make in CASES.items():
        for i, case in enumerate(make()):
            cases.append({**case, "id": f"{kind}-{i:03d}-{case['name']}"})
    return cases
