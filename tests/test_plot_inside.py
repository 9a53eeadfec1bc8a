"""Plots of what happens inside: plot.explain, plot.diagnostics and plot.lr_finder."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers, tune

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.patches import Circle, Rectangle  # noqa: E402

import myelin.plot  # noqa: E402

SPECIES = ["Adelie", "Gentoo", "Chinstrap"]


def _penguin_like():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 4)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)
    model = myelin.Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(6, activation="relu", name="h1"),
            layers.Dense(3, activation="softmax", name="out"),
        ],
        name="small",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model, x, y


def test_explain_colours_each_neuron_by_its_activation(tmp_path):
    model, x, y = _penguin_like()
    model.fit(x, y, epochs=3, verbose=0)
    path = tmp_path / "explain.svg"
    fig = myelin.plot.explain(model, x[0], y=y[0], class_names=SPECIES, input_names=list("abcd"), path=path)
    assert path.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
    network = fig.axes[0]
    circles = [p for p in network.patches if isinstance(p, Circle)]
    assert len(circles) == 4 + 6 + 3
    e = model.explain(x[0], y=y[0], class_names=SPECIES)
    hidden = e["h1"]["output"][0]
    brightest = circles[4 + int(np.argmax(hidden))]
    viridis = matplotlib.colormaps["viridis"]
    np.testing.assert_allclose(brightest.get_facecolor(), viridis(1.0))  # the layer's largest activation: the top colour
    for value, circle in zip(hidden, circles[4:10]):
        if value == 0:
            np.testing.assert_allclose(circle.get_facecolor(), viridis(0.0))  # a neuron that does not fire
    texts = [t.get_text() for t in network.texts]
    assert f"a = {x[0, 0]:.3g}" in texts and "Chinstrap" in texts
    bars = fig.axes[-1]
    widths = [p.get_width() for p in bars.patches if isinstance(p, Rectangle)][:3]
    np.testing.assert_allclose(widths, e.probabilities[0], rtol=1e-6)
    predicted = int(e.predicted[0])
    assert fig._suptitle.get_text().startswith(f"model 'small': predicted {predicted} ({SPECIES[predicted]})")


def test_explain_draws_a_large_network_as_bars():
    rng = np.random.default_rng(1)
    model = myelin.Sequential(
        [layers.Input(shape=(64,)), layers.Dense(40, activation="relu", name="wide"), layers.Dense(10, activation="softmax")]
    )
    e = model.explain(rng.random(64))
    fig = myelin.plot.explain(e)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[:2] == ["input (64 values)", "wide: relu"]
    assert fig.axes[0].images  # a square input is drawn as an image
    heights = [p.get_height() for p in fig.axes[1].patches]
    np.testing.assert_allclose(heights, e["wide"]["output"][0], rtol=1e-6)
    with pytest.raises(ValueError, match="sample must be in"):
        myelin.plot.explain(e, sample=3)


def test_diagnostics_draws_every_record(tmp_path):
    model, x, y = _penguin_like()
    history = model.fit(x, y, epochs=4, verbose=0, diagnostics=True)
    fig = myelin.plot.diagnostics(history, path=tmp_path / "diagnostics.png")
    assert (tmp_path / "diagnostics.png").read_bytes()[:4] == b"\x89PNG"
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "gradient norm (mean over the epoch's batches)",
        "weight norm",
        "update / weight per step",
        "dead relu units (fraction)",
    ]
    grad = fig.axes[0]
    lines = {line.get_label(): line for line in grad.get_lines()}
    assert set(lines) == {"h1", "out"}
    np.testing.assert_allclose(lines["out"].get_ydata(), history.diagnostics["layers"]["out"]["grad_norm"])
    np.testing.assert_array_equal(lines["out"].get_xdata(), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="has no diagnostics"):
        myelin.plot.diagnostics(model.fit(x, y, epochs=1, verbose=0))


def test_the_dead_units_panel_draws_a_dead_layer_at_one_and_a_live_one_below(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 4)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)
    model = myelin.Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(6, activation="relu", name="live"),
            layers.Dense(6, activation="relu", name="dead", bias_initializer=myelin.initializers.Constant(-50.0)),
            layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, verbose=0, diagnostics=True)
    fig = myelin.plot.diagnostics(history)
    (panel,) = [ax for ax in fig.axes if ax.get_title() == "dead relu units (fraction)"]
    lines = {line.get_label(): line.get_ydata() for line in panel.get_lines()}
    records = history.diagnostics["layers"]
    np.testing.assert_array_equal(lines["dead"], [1.0, 1.0, 1.0])  # every unit of the layer is dead
    np.testing.assert_array_equal(lines["live"], records["live"]["dead_fraction"])
    assert max(lines["live"]) < 1.0


def test_lr_finder_curve_and_its_suggestion():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    model = myelin.Sequential([layers.Input(shape=(8,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    result = tune.find_learning_rate(model, x, x @ rng.normal(size=8), num_steps=80)
    fig = result.plot()
    ax = fig.axes[0]
    raw, smooth = ax.get_lines()[:2]
    np.testing.assert_array_equal(raw.get_xdata(), result.learning_rates)
    np.testing.assert_array_equal(smooth.get_ydata(), result.smoothed)
    assert ax.get_xscale() == "log"
    marker = next(line for line in ax.get_lines() if line.get_label().startswith("suggestion (steepest)"))
    assert marker.get_xdata()[0] == result.suggestion
    figure = matplotlib.figure.Figure()
    own = figure.add_subplot()
    assert myelin.plot.lr_finder(result, ax=own) is figure and own.get_lines()


def test_find_learning_rate_can_draw_its_curve():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype("float32")
    model = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    result = tune.find_learning_rate(model, x, x.sum(axis=1), num_steps=40, plot=True)
    assert result.figure is not None and result.figure.axes[0].get_xscale() == "log"
