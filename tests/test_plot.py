"""Plots: files are written, are valid images of the expected size, and show the right data."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import myelin  # noqa: E402
import myelin.plot  # noqa: E402
from myelin import layers  # noqa: E402
from myelin.plot import network  # noqa: E402
from myelin.plot.evaluation import confusion_matrix_counts  # noqa: E402


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_files(fig, tmp_path, stem: str, dpi: int = 100):
    """Save as PNG, SVG and PDF and check each is a valid file of the figure's size."""
    width, height = fig.get_size_inches()
    for suffix in ("png", "svg", "pdf"):
        path = tmp_path / f"{stem}.{suffix}"
        myelin.plot._figure.save(fig, path, dpi)
        assert path.stat().st_size > 1000
    assert png_size(tmp_path / f"{stem}.png") == (round(width * dpi), round(height * dpi))
    svg = ET.parse(tmp_path / f"{stem}.svg").getroot()
    assert svg.tag.endswith("svg")
    assert float(svg.get("width").rstrip("pt")) == pytest.approx(width * 72, abs=1)
    pdf = (tmp_path / f"{stem}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


def small_model():
    model = myelin.Sequential(
        [myelin.Input(shape=(4,)), layers.Dense(5, activation="relu"), layers.Dense(3, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_history_plot(tmp_path):
    model = small_model()
    rng = np.random.default_rng(0)
    history = model.fit(rng.random((60, 4)), rng.integers(0, 3, 60), epochs=6, validation_split=0.25, verbose=0)
    fig = myelin.plot.history(history, path=tmp_path / "history.png")
    assert (tmp_path / "history.png").is_file()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]
    loss_ax = fig.axes[0]
    train, val = loss_ax.lines[0], loss_ax.lines[1]
    assert train.get_xdata().tolist() == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(train.get_ydata(), history.history["loss"])
    np.testing.assert_allclose(val.get_ydata(), history.history["val_loss"])
    best = loss_ax.lines[2]  # the best validation epoch is marked
    assert best.get_ydata()[0] == min(history.history["val_loss"])
    check_files(fig, tmp_path, "history")


def test_history_from_a_dict_and_errors():
    fig = myelin.plot.history({"loss": [3.0, 2.0, 1.0], "learning_rate": [0.1, 0.01, 0.001]})
    assert [ax.get_title() for ax in fig.axes] == ["loss", "learning_rate"]
    assert fig.axes[1].get_yscale() == "log"
    with pytest.raises(ValueError, match="no metric named"):
        myelin.plot.history({"loss": [1.0]}, metrics=["accuracy"])
    with pytest.raises(ValueError, match="History that fit"):
        myelin.plot.history({})


def test_network_plot_draws_every_neuron_and_weight(tmp_path):
    model = small_model()
    fig = myelin.plot.model(model, input_names=["a", "b", "c", "d"], output_names=["x", "y", "z"])
    ax = fig.axes[0]
    circles = [p for p in ax.patches if isinstance(p, matplotlib.patches.Circle)]
    assert len(circles) == 4 + 5 + 3
    (lines,) = ax.collections
    assert len(lines.get_segments()) == 4 * 5 + 5 * 3
    widths = lines.get_linewidths()
    colours = lines.get_colors()
    weights = np.concatenate([model.layers[0].kernel.data.ravel(), model.layers[1].kernel.data.ravel()])
    strongest = int(np.argmax(np.abs(weights)))
    assert widths[strongest] == pytest.approx(3.0)  # the largest weight gets the widest line
    blue = np.array(matplotlib.colors.to_rgb(network.POSITIVE))
    red = np.array(matplotlib.colors.to_rgb(network.NEGATIVE))
    for w, c in zip(weights, colours):
        np.testing.assert_allclose(c[:3], blue if w >= 0 else red)
    texts = {t.get_text() for t in ax.texts}
    assert {"a", "d", "x", "z", "input", "hidden", "output"} <= texts
    check_files(fig, tmp_path, "network")


def test_network_node_values_colour_the_neurons():
    model = small_model()
    values = [np.arange(4.0), np.zeros(5), np.array([0.0, 0.5, 1.0])]
    fig = myelin.plot.model(model, node_values=values)
    circles = [p for p in fig.axes[0].patches if isinstance(p, matplotlib.patches.Circle)]
    assert circles[0].get_facecolor() != circles[3].get_facecolor()  # 0 and 3 map to different colours
    assert len(fig.axes) == 2  # the colour bar
    with pytest.raises(ValueError, match="one entry per column"):
        myelin.plot.model(model, node_values=values[:2])


def test_draw_network_is_reusable_on_any_axes():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    geometry = network.draw_network(ax, small_model(), show_weights=False)
    assert [len(p) for p in geometry["positions"]] == [4, 5, 3]
    assert not ax.collections


def test_large_and_branching_models_are_drawn_as_blocks(tmp_path):
    big = myelin.Sequential(
        [myelin.Input(shape=(784,)), layers.Dense(64, activation="relu"), layers.Dropout(0.2), layers.Dense(10)]
    )
    fig = myelin.plot.model(big, path=tmp_path / "blocks.svg")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("dense" in t and "(Dense)" in t for t in texts)
    assert any("(None, 64)" in t and "50,240 params" in t for t in texts)
    a, b = myelin.Input(shape=(3,), name="numbers"), myelin.Input(shape=(1,), name="colour", dtype="string")
    merged = layers.Concatenate()([a, layers.StringLookup(vocabulary=["r"], output_mode="one_hot")(b)])
    functional = myelin.Model([a, b], layers.Dense(1)(merged))
    fig = myelin.plot.model(functional)
    boxes = [p for p in fig.axes[0].patches if isinstance(p, matplotlib.patches.FancyBboxPatch)]
    arrows = [p for p in fig.axes[0].patches if isinstance(p, matplotlib.patches.FancyArrowPatch)]
    assert len(boxes) == 5 and len(arrows) == 4
    check_files(fig, tmp_path, "functional")
    with pytest.raises(ValueError, match="style='blocks'"):
        myelin.plot.model(functional, style="network")


def test_confusion_matrix(tmp_path):
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    proba = np.eye(3)[[0, 1, 1, 1, 2, 2, 0]]
    fig = myelin.plot.confusion_matrix(y_true, proba, labels=["Adelie", "Gentoo", "Chinstrap"], path=tmp_path / "cm.pdf")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Adelie", "Gentoo", "Chinstrap"]
    assert "accuracy 71.4%" in ax.get_title()
    check_files(fig, tmp_path, "confusion")
    fig = myelin.plot.confusion_matrix(y_true, proba.argmax(1), normalize="true")
    np.testing.assert_allclose(fig.axes[0].images[0].get_array()[2], [1 / 3, 0, 2 / 3])


def test_confusion_matrix_counts_with_string_labels_and_errors():
    counts, names = confusion_matrix_counts(["b", "a", "a"], ["a", "a", "c"])
    assert names == ["a", "b", "c"] and counts.tolist() == [[1, 0, 1], [1, 0, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="not in labels"):
        confusion_matrix_counts(["a", "z"], ["a", "a"], labels=["a", "b"])
    with pytest.raises(ValueError, match="3 samples but y_pred has 2"):
        confusion_matrix_counts([0, 1, 1], [0, 1])


def test_bad_path_suffix():
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf"):
        myelin.plot.history({"loss": [1.0]}, path="curves.jpg")


def test_import_myelin_plot_does_not_import_matplotlib():
    code = "import sys, myelin.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_figures_go_through_pyplot_when_the_program_uses_it():
    code = (
        "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt; import myelin.plot; "
        "fig = myelin.plot.history({'loss': [2.0, 1.0]}); print(plt.fignum_exists(fig.number))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
