"""Metrics against scikit-learn and hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import metrics

RNG = np.random.default_rng(3)


def test_accuracies():
    y = np.array([0, 1, 2, 1])
    p = np.eye(3)[[0, 2, 2, 1]] * 0.8 + 0.05
    assert metrics.SparseCategoricalAccuracy()(y, p) == 0.75
    assert metrics.CategoricalAccuracy()(np.eye(3)[y], p) == 0.75
    assert metrics.BinaryAccuracy()(np.array([[1], [0], [1]]), np.array([[0.7], [0.2], [0.4]])) == pytest.approx(2 / 3)
    assert metrics.BinaryAccuracy(threshold=0.3)(np.array([[1]]), np.array([[0.4]])) == 1.0
    assert metrics.Accuracy()(np.array([1, 2, 3]), np.array([1, 2, 4])) == pytest.approx(2 / 3)


def test_top_k():
    y = np.array([2, 0, 1])
    # the true class ranks 3rd, 2nd and 1st of 4: k < classes, so each k gives another value
    p = np.array([[0.5, 0.3, 0.15, 0.05], [0.3, 0.6, 0.05, 0.05], [0.1, 0.7, 0.1, 0.1]])
    for k, expected in [(1, [0.0, 0.0, 1.0]), (2, [0.0, 1.0, 1.0]), (3, [1.0, 1.0, 1.0])]:
        assert metrics.sparse_top_k_categorical_accuracy(y, p, k=k).tolist() == expected
        assert metrics.top_k_categorical_accuracy(np.eye(4)[y], p, k=k).tolist() == expected
        assert metrics.SparseTopKCategoricalAccuracy(k=k)(y, p) == pytest.approx(np.mean(expected))
        assert metrics.TopKCategoricalAccuracy(k=k)(np.eye(4)[y], p) == pytest.approx(np.mean(expected))


def test_running_mean_over_batches_and_reset():
    m = metrics.CategoricalAccuracy()
    m.update_state(np.eye(2), np.eye(2))
    m.update_state(np.eye(2)[[0, 0]], np.eye(2)[[1, 1]])
    assert m.result() == 0.5
    m.reset_state()
    assert m.result() == 0.0


def test_sample_weight():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(np.array([0, 1]), np.eye(2)[[0, 0]], sample_weight=np.array([3.0, 1.0]))
    assert m.result() == 0.75


def test_regression_metrics():
    y, p = RNG.normal(size=(20, 1)), RNG.normal(size=(20, 1))
    assert metrics.MeanAbsoluteError()(y, p) == pytest.approx(np.abs(y - p).mean())
    assert metrics.MeanSquaredError()(y, p) == pytest.approx(((y - p) ** 2).mean())
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(y[:10], p[:10])
    rmse.update_state(y[10:], p[10:])
    assert rmse.result() == pytest.approx(np.sqrt(((y - p) ** 2).mean()))


def test_precision_recall_against_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    y = RNG.integers(0, 2, 200)
    p = np.clip(y * 0.3 + RNG.random(200) * 0.7, 0, 1)
    prec, rec = metrics.Precision(), metrics.Recall()
    for chunk in np.array_split(np.arange(200), 7):
        prec.update_state(y[chunk], p[chunk])
        rec.update_state(y[chunk], p[chunk])
    assert prec.result() == pytest.approx(sk.precision_score(y, p > 0.5))
    assert rec.result() == pytest.approx(sk.recall_score(y, p > 0.5))
    assert metrics.Precision(thresholds=[0.3, 0.7])(y, p) == pytest.approx(
        [sk.precision_score(y, p > 0.3), sk.precision_score(y, p > 0.7)]
    )


def test_precision_top_k_and_class_id():
    y = np.eye(3)[[0, 1, 2]]
    p = np.array([[0.9, 0.8, 0.1], [0.2, 0.9, 0.7], [0.6, 0.1, 0.55]])
    assert metrics.Precision(top_k=1)(y, p) == pytest.approx(2 / 3)
    assert metrics.Recall(class_id=2)(y, p) == pytest.approx(1.0)


def test_auc_against_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    y = RNG.integers(0, 2, 500)
    p = np.clip(y * 0.25 + RNG.random(500) * 0.75, 0, 1)
    auc = metrics.AUC(num_thresholds=1000)
    for chunk in np.array_split(np.arange(500), 4):
        auc.update_state(y[chunk], p[chunk])
    assert auc.result() == pytest.approx(sk.roc_auc_score(y, p), abs=2e-3)
    pr = metrics.AUC(curve="PR", num_thresholds=1000)
    pr.update_state(y, p)
    assert pr.result() == pytest.approx(sk.average_precision_score(y, p), abs=0.02)  # a sanity check; exact: below
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XY")


def test_get_and_accuracy_choice():
    assert metrics.get("mae").name == "mae"
    assert isinstance(metrics.get("rmse"), metrics.RootMeanSquaredError)
    assert isinstance(metrics.get("auc"), metrics.AUC)
    assert type(metrics.accuracy_for("binary_crossentropy", (4, 1), (4, 1))).__name__ == "BinaryAccuracy"
    assert type(metrics.accuracy_for("categorical_crossentropy", (4, 3), (4, 3))).__name__ == "CategoricalAccuracy"
    assert type(metrics.accuracy_for(None, (4,), (4, 3))).__name__ == "SparseCategoricalAccuracy"
    assert type(metrics.accuracy_for(None, (4, 1), (4, 1))).__name__ == "BinaryAccuracy"
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.get("acuracy")
    m = metrics.get(lambda t, p: np.abs(t - p).mean(axis=-1), name="custom")
    assert m(np.zeros((2, 1)), np.ones((2, 1))) == 1.0 and m.name == "custom"


def test_accuracy_counts_hits_without_weights_and_averages_values_with_them():
    rng = np.random.default_rng(3)
    p = rng.random((50, 4))
    labels = rng.integers(0, 4, 50)
    for metric, fn, y in (
        (metrics.CategoricalAccuracy(), metrics.categorical_accuracy, np.eye(4)[labels]),
        (metrics.SparseCategoricalAccuracy(), metrics.sparse_categorical_accuracy, labels[:, None]),
    ):
        metric.update_state(y[:30], p[:30])
        metric.update_state(y[30:], p[30:])
        assert metric.count == 50 and metric.result() == fn(y, p).mean()
        weights = rng.random(50)
        metric.reset_state()
        metric.update_state(y, p, sample_weight=weights)
        assert metric.result() == pytest.approx((fn(y, p) * weights).sum() / weights.sum(), rel=1e-12)


def _keras_auc(y, p, num_thresholds, curve, summation_method):
    """Keras's AUC from its definition: counts by brute force at each cut point, then its Riemann sum.

    Thresholds: ``i / (num_thresholds - 1)`` inside, ``-1e-7`` and ``1 + 1e-7`` at the ends; a
    score counts as positive above a threshold. PR with interpolation is Davis & Goadrich's
    (precision interpolated along the true positives between cut points), as in Keras.
    """
    eps = 1e-7
    t = np.array([-eps] + [i / (num_thresholds - 1) for i in range(1, num_thresholds - 1)] + [1 + eps])
    above = p[None, :] > t[:, None]
    pos = y[None, :] == 1
    tp, fp = (above & pos).sum(1).astype(float), (above & ~pos).sum(1).astype(float)
    fn, tn = (~above & pos).sum(1).astype(float), (~above & ~pos).sum(1).astype(float)
    total = 0.0
    for i in range(num_thresholds - 1):
        if curve == "PR" and summation_method == "interpolation":
            dtp, p0, p1 = tp[i] - tp[i + 1], tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            slope = dtp / (p0 - p1) if p0 - p1 > 0 else 0.0
            intercept = tp[i + 1] - slope * p1
            ratio = p0 / p1 if p0 > 0 and p1 > 0 else 1.0
            if tp[i + 1] + fn[i + 1] > 0:
                total += slope * (dtp + intercept * np.log(ratio)) / (tp[i + 1] + fn[i + 1])
            continue
        recall = [tp[j] / (tp[j] + fn[j]) if tp[j] + fn[j] else 0.0 for j in (i, i + 1)]
        if curve == "ROC":
            x = [fp[j] / (fp[j] + tn[j]) if fp[j] + tn[j] else 0.0 for j in (i, i + 1)]
            h = recall
        else:
            x = recall
            h = [tp[j] / (tp[j] + fp[j]) if tp[j] + fp[j] else 0.0 for j in (i, i + 1)]
        height = {"interpolation": (h[0] + h[1]) / 2, "minoring": min(h), "majoring": max(h)}[summation_method]
        total += (x[0] - x[1]) * height
    return total


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("summation_method", ["interpolation", "minoring", "majoring"])
def test_auc_equals_keras_formula_for_every_curve_and_summation_method(curve, summation_method):
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 300)
    p = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    for num_thresholds in (7, 200):  # few cut points: the methods differ by a lot
        auc = metrics.AUC(num_thresholds=num_thresholds, curve=curve, summation_method=summation_method)
        for chunk in np.array_split(np.arange(300), 3):
            auc.update_state(y[chunk], p[chunk])
        # counts are whole numbers, the sums a few hundred float64 operations
        assert auc.result() == pytest.approx(_keras_auc(y, p, num_thresholds, curve, summation_method), rel=1e-12, abs=1e-15)


def test_auc_summation_methods_give_their_own_values():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 300)
    p = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    for curve in ("ROC", "PR"):
        low, mid, high = (
            metrics.AUC(num_thresholds=7, curve=curve, summation_method=s)(y, p)
            for s in ("minoring", "interpolation", "majoring")
        )
        assert low < mid < high and high - low > 0.01
