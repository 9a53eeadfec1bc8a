"""Plots inside convolutional and sequence networks: plot.feature_maps, plot.attention, plot.hidden_states."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import myelin.plot  # noqa: E402

rng = np.random.default_rng(3)


def _convnet():
    return myelin.Sequential(
        [
            layers.Input((10, 10, 2)),
            layers.Conv2D(6, 3, activation="relu", name="c1"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax", name="out"),
        ],
        name="convnet",
    )


def test_feature_maps_draws_each_layers_channels_strongest_first(tmp_path):
    model = _convnet()
    x = rng.standard_normal((2, 10, 10, 2)).astype("float32")
    path = tmp_path / "maps.png"
    fig = myelin.plot.feature_maps(model, x, sample=1, max_channels=4, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    e = model.explain(x)
    axes = fig.axes
    assert len(axes) == 2 + 4 + 4  # the input's 2 channels, then the 4 strongest of 6 per layer
    np.testing.assert_allclose(axes[0].images[0].get_array(), x[1, :, :, 0])
    np.testing.assert_allclose(axes[1].images[0].get_array(), x[1, :, :, 1])
    for row, name in enumerate(("c1", "pool")):
        order = e[name]["channel_order"][1][:4]
        for j, channel in enumerate(order):
            ax = axes[2 + 4 * row + j]
            np.testing.assert_allclose(ax.images[0].get_array(), e[name]["feature_maps"][1, channel], rtol=1e-6)
            assert ax.get_title().startswith(f"ch {channel}: ")
    texts = [t.get_text() for ax in axes for t in ax.texts]
    assert "c1 (Conv2D, relu): 6 channels, 2 weaker not shown" in texts
    # one layer by name, from an Explanation
    fig = myelin.plot.feature_maps(e, layers="pool", max_channels=10)
    assert len(fig.axes) == 2 + 6


def test_feature_maps_errors_name_the_argument():
    model = _convnet()
    x = rng.standard_normal((1, 10, 10, 2)).astype("float32")
    with pytest.raises(ValueError, match="layer 'out' is a Dense, not convolution or pooling layer"):
        myelin.plot.feature_maps(model, x, layers=["out"])
    with pytest.raises(ValueError, match="no layer 'nope'; the layers walked are"):
        myelin.plot.feature_maps(model, x, layers="nope")
    with pytest.raises(ValueError, match=r"sample must be an integer in \[0, 1\), got 1"):
        myelin.plot.feature_maps(model, x, sample=1)
    with pytest.raises(ValueError, match="max_channels must be a positive integer, got 0"):
        myelin.plot.feature_maps(model, x, max_channels=0)
    dense = myelin.Sequential([layers.Input((3,)), layers.Dense(2)], name="flat")
    with pytest.raises(ValueError, match="model 'flat' has no convolution or pooling layer"):
        myelin.plot.feature_maps(dense, np.ones((1, 3)))
    with pytest.raises(ValueError, match="x is given with an Explanation"):
        myelin.plot.feature_maps(model.explain(x), x)


def _sequence_model():
    inputs = myelin.Input((5, 4))
    a = layers.MultiHeadAttention(3, 2, name="mha")(inputs, inputs)
    h = layers.GRU(6, return_sequences=True, name="gru")(a)
    out = layers.Dense(2, activation="softmax", name="out")(layers.GlobalAveragePooling1D()(h))
    return myelin.Model(inputs, out, name="seq")


def test_attention_draws_one_heatmap_per_head_and_hidden_states_over_time(tmp_path):
    model = _sequence_model()
    x = rng.standard_normal((2, 5, 4)).astype("float32")
    e = model.explain(x)
    words = ["the", "cat", "sat", "on", "it"]
    fig = myelin.plot.attention(e, sample=1, query_labels=words, key_labels=words, path=tmp_path / "att.svg")
    heads = [ax for ax in fig.axes if ax.images]
    assert len(heads) == 3 and [ax.get_title() for ax in heads] == ["head 0", "head 1", "head 2"]
    for h, ax in enumerate(heads):
        np.testing.assert_allclose(ax.images[0].get_array(), e["mha"]["attention_scores"][1, h], rtol=1e-6)
        assert [t.get_text() for t in ax.get_xticklabels()] == words
    cell = e["mha"]["attention_scores"][1, 0, 2, 3]
    assert f"{cell:.2f}" in [t.get_text() for t in heads[0].texts]
    with pytest.raises(ValueError, match="key_labels has 2 labels for 5 positions"):
        myelin.plot.attention(e, key_labels=["a", "b"])
    with pytest.raises(ValueError, match="model 'convnet' has no attention layer"):
        myelin.plot.attention(_convnet(), np.zeros((1, 10, 10, 2), np.float32))

    fig = myelin.plot.hidden_states(model, x, sample=0, path=tmp_path / "states.pdf")
    image = fig.axes[0].images[0]
    np.testing.assert_allclose(image.get_array(), e["gru"]["hidden_states"][0].T, rtol=1e-6)
    top = np.abs(e["gru"]["hidden_states"][0]).max()
    np.testing.assert_allclose(image.get_clim(), (-top, top), rtol=1e-6)


def test_plot_explain_draws_a_conv_layers_strongest_map():
    model = _convnet()
    x = rng.standard_normal((10, 10, 2)).astype("float32")
    e = model.explain(x)
    fig = myelin.plot.explain(e)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    best = int(e["c1"]["channel_order"][0][0])
    assert f"c1: Conv2D, its strongest channel: {best} (of 6)" in titles
    ax = fig.axes[titles.index(f"c1: Conv2D, its strongest channel: {best} (of 6)")]
    np.testing.assert_allclose(ax.images[0].get_array(), e["c1"]["feature_maps"][0, best], rtol=1e-6)
