"""The rest of Keras's metrics against scikit-learn (where it has them) and NumPy formulas.
Keras's own values: tests/test_keras_api_golden.py."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import metrics

sk = pytest.importorskip("sklearn.metrics")
RNG = np.random.default_rng(3)
Y = RNG.integers(0, 2, 50)
P = np.clip(RNG.random(50) * 0.6 + Y * 0.3, 0, 1)
W = RNG.random(50)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_counts_match_sklearn_confusion_matrix(threshold):
    tn, fp, fn, tp = sk.confusion_matrix(Y, threshold < P, sample_weight=W).ravel()
    for cls, expected in (
        (metrics.TruePositives, tp),
        (metrics.FalsePositives, fp),
        (metrics.TrueNegatives, tn),
        (metrics.FalseNegatives, fn),
    ):
        m = cls(thresholds=threshold)
        m.update_state(Y[:20], P[:20], W[:20])
        m.update_state(Y[20:], P[20:], W[20:])
        assert m.result() == pytest.approx(expected, rel=1e-12)


def test_several_thresholds_give_a_list():
    m = metrics.TruePositives(thresholds=[0.3, 0.7])
    m.update_state(Y, P)
    assert m.result() == [float(((P > 0.3) & (Y == 1)).sum()), float(((P > 0.7) & (Y == 1)).sum())]


def _curve_points(m):
    thresholds = m.thresholds
    predicted = P[None, :] > thresholds[:, None]
    tp = (predicted & (Y == 1)).sum(1)
    fp = (predicted & (Y == 0)).sum(1)
    fn = (~predicted & (Y == 1)).sum(1)
    tn = (~predicted & (Y == 0)).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "recall": np.nan_to_num(tp / (tp + fn)),
            "precision": np.nan_to_num(tp / (tp + fp)),
            "specificity": np.nan_to_num(tn / (tn + fp)),
        }


@pytest.mark.parametrize(
    ("cls", "constrained", "dependent"),
    [
        (metrics.PrecisionAtRecall, "recall", "precision"),
        (metrics.RecallAtPrecision, "precision", "recall"),
        (metrics.SensitivityAtSpecificity, "specificity", "recall"),
        (metrics.SpecificityAtSensitivity, "recall", "specificity"),
    ],
)
def test_at_metrics_pick_the_best_feasible_threshold(cls, constrained, dependent):
    m = cls(0.7, num_thresholds=100)
    m.update_state(Y, P)
    points = _curve_points(m)
    feasible = points[constrained] >= 0.7
    assert m.result() == pytest.approx(points[dependent][feasible].max())
    # sklearn's precision-recall curve has the same best precision at recall >= 0.7 over its own cut points
    if cls is metrics.PrecisionAtRecall:
        precision, recall, _ = sk.precision_recall_curve(Y, P)
        assert m.result() <= precision[recall >= 0.7].max() + 1e-12


Y3 = np.eye(3)[RNG.integers(0, 3, 40)]
P3 = RNG.dirichlet(np.ones(3), size=40)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_matches_sklearn(average):
    m = metrics.F1Score(average=average)
    m.update_state(Y3[:15], P3[:15])
    m.update_state(Y3[15:], P3[15:])
    expected = sk.f1_score(Y3.argmax(1), P3.argmax(1), average=average)
    np.testing.assert_allclose(m.result(), expected, rtol=1e-5)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_fbeta_with_threshold_matches_sklearn_multilabel(average):
    m = metrics.FBetaScore(average=average, beta=2.0, threshold=0.3)
    m.update_state(Y3, P3)
    expected = sk.fbeta_score(Y3.astype(int), (P3 > 0.3).astype(int), beta=2.0, average=average)
    np.testing.assert_allclose(m.result(), expected, rtol=1e-5)


def test_iou_matches_sklearn_jaccard():
    t, p = RNG.integers(0, 4, 60), RNG.integers(0, 4, 60)
    per_class = sk.jaccard_score(t, p, average=None)
    m = metrics.IoU(num_classes=4, target_class_ids=[1, 3])
    m.update_state(t, p)
    assert m.result() == pytest.approx(per_class[[1, 3]].mean(), rel=1e-6)
    mean = metrics.MeanIoU(num_classes=4)
    mean.update_state(t[:30], p[:30])
    mean.update_state(t[30:], p[30:])
    assert mean.result() == pytest.approx(sk.jaccard_score(t, p, average="macro"), rel=1e-6)
    onehot = metrics.OneHotMeanIoU(num_classes=4)
    onehot.update_state(np.eye(4)[t], np.eye(4)[p] + 0.01)
    assert onehot.result() == pytest.approx(mean.result())
    binary = metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
    binary.update_state(Y, P)
    assert binary.result() == pytest.approx(sk.jaccard_score(Y, P >= 0.5), rel=1e-6)


def test_iou_skips_classes_out_of_range_and_the_ignored_one():
    m = metrics.MeanIoU(num_classes=2, ignore_class=1)
    m.update_state(np.array([0, 0, 1, 5]), np.array([0, 1, 0, 0]))
    # only the two samples labelled 0 count: class 0 has tp 1, fp 0, fn 1 -> 1/2; class 1: tp 0, fp 1 -> 0
    assert m.result() == pytest.approx(0.25, rel=1e-6)


@pytest.mark.parametrize(
    ("aggregation", "multioutput"),
    [("uniform_average", "uniform_average"), ("variance_weighted_average", "variance_weighted"), (None, "raw_values")],
)
def test_r2_matches_sklearn(aggregation, multioutput):
    yt = RNG.normal(size=(30, 3))
    yp = yt + RNG.normal(size=(30, 3)) * 0.5
    w = RNG.random(30)
    m = metrics.R2Score(class_aggregation=aggregation)
    m.update_state(yt[:10], yp[:10], w[:10])
    m.update_state(yt[10:], yp[10:], w[10:])
    np.testing.assert_allclose(m.result(), sk.r2_score(yt, yp, sample_weight=w, multioutput=multioutput), rtol=1e-10)


def test_adjusted_r2():
    yt = RNG.normal(size=(30, 1))
    yp = yt + RNG.normal(size=(30, 1)) * 0.5
    plain = sk.r2_score(yt, yp)
    m = metrics.R2Score(num_regressors=3)
    m.update_state(yt, yp)
    assert m.result() == pytest.approx(1 - (1 - plain) * 29 / 26)
    with pytest.warns(UserWarning, match="too few samples"):
        few = metrics.R2Score(num_regressors=40)
        few.update_state(yt, yp)
        assert few.result() == pytest.approx(plain)


def test_pearson_is_numpy_corrcoef_per_sample():
    yt, yp = RNG.normal(size=(6, 8)), RNG.normal(size=(6, 8))
    expected = np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(yt, yp)])
    assert metrics.PearsonCorrelation()(yt, yp) == pytest.approx(expected)


def test_cosine_similarity_is_positive_for_agreement():
    yt = RNG.normal(size=(5, 3))
    assert metrics.CosineSimilarity()(yt, 2 * yt) == pytest.approx(1.0)
    assert metrics.CosineSimilarity()(yt, -yt) == pytest.approx(-1.0)


def test_sum_and_wrapper():
    s = metrics.Sum()
    s.update_state(np.array([1.0, 2.0]), sample_weight=np.array([2.0, 0.5]))
    s.update_state(np.array([[1.0, 1.0]]))
    assert s.result() == 5.0
    m = metrics.MeanMetricWrapper(metrics.mean_squared_error, name="mse_fn")
    m.update_state(np.array([[0.0, 0.0]]), np.array([[1.0, 3.0]]))
    assert (m.name, m.result()) == ("mse_fn", 5.0)


def test_keras_string_names_resolve():
    for name, cls in {
        "mape": metrics.MeanAbsolutePercentageError,
        "msle": metrics.MeanSquaredLogarithmicError,
        "kld": metrics.KLDivergence,
        "logcosh": metrics.LogCoshError,
        "binary_crossentropy": metrics.BinaryCrossentropy,
        "r2_score": metrics.R2Score,
        "F1Score": metrics.F1Score,
        "TruePositives": metrics.TruePositives,
    }.items():
        assert type(metrics.get(name)) is cls


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="F1Score: average must be"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="FBetaScore: beta must be a Python float"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="IoU: target_class_ids"):
        metrics.IoU(num_classes=2, target_class_ids=[3])
    with pytest.raises(ValueError, match="PrecisionAtRecall: recall must be in"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="R2Score expects 2-D"):
        metrics.R2Score().update_state(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="TruePositives: thresholds"):
        metrics.TruePositives(thresholds=[2.0])


def test_fit_reports_the_new_metrics():
    import myelin
    from myelin import layers

    x = RNG.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=myelin.optimizers.Adam(0.05), loss="mse", metrics=[metrics.R2Score(), "mape", "logcosh"])
    history = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    assert history.history["r2_score"][-1] > 0.95
    assert set(history.history) >= {"loss", "r2_score", "mape", "logcosh"}
