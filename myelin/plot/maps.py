"""Inside convolutional and sequence networks: feature maps, attention scores, hidden states over time.

Each function takes a model with an input ``x`` (it calls ``model.explain(x)``) or an
``Explanation`` already made, draws one sample, and returns the matplotlib ``Figure``
(saved when given ``path=``):

- :func:`feature_maps`: for each convolution and pooling layer, the maps of its channels,
  strongest first, beside the input;
- :func:`attention`: for each attention layer (or the one named), one heatmap per head of
  the scores, queries down and keys across;
- :func:`hidden_states`: for each recurrent layer, its hidden state at every time step as a
  heatmap, units down and time across.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> myelin.plot.feature_maps(model, x_test[0], path="maps.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np

from ..explain import Explanation
from ._figure import new_figure, save


def _explanation(model, x, caller: str) -> Explanation:
    if isinstance(model, Explanation):
        if x is not None:
            raise ValueError(f"plot.{caller}: x is given with an Explanation, which already holds its input; pass one of them")
        return model
    if x is None:
        raise ValueError(f"plot.{caller}: give the model's input x (one sample or a batch), or an Explanation")
    return model.explain(x)


def _steps(e: Explanation, kinds: tuple, layers, caller: str, what: str) -> list:
    found = [s for s in e.steps if s.kind in kinds]
    if layers is not None:
        wanted = [layers] if isinstance(layers, str) else list(layers)
        names = {s.name: s for s in e.steps}
        missing = [n for n in wanted if n not in names]
        if missing:
            raise ValueError(f"plot.{caller}: no layer {missing[0]!r}; the layers walked are {list(names)}")
        wrong = [n for n in wanted if names[n].kind not in kinds]
        if wrong:
            step = names[wrong[0]]
            raise ValueError(f"plot.{caller}: layer {wrong[0]!r} is a {type(step.layer).__name__}, not {what}")
        found = [names[n] for n in wanted]
    if not found:
        raise ValueError(f"plot.{caller}: model {e.model_name!r} has no {what}")
    return found


def _check_sample(e: Explanation, sample: int, caller: str) -> None:
    n = len(e.inputs[0])
    if not isinstance(sample, (int, np.integer)) or not 0 <= sample < n:
        raise ValueError(f"plot.{caller}: sample must be an integer in [0, {n}), got {sample!r}")


def _as_image(m: np.ndarray) -> tuple[np.ndarray, str]:
    """A map as a 2-D image: 1-D maps as one row, 3-D maps as their middle depth slice."""
    if m.ndim == 1:
        return m[None, :], ""
    if m.ndim == 2:
        return m, ""
    middle = m.shape[0] // 2
    return m[middle], f" (depth {middle} of {m.shape[0]})"


def feature_maps(
    model,
    x=None,
    layers=None,
    sample: int = 0,
    max_channels: int = 8,
    cmap: str = "viridis",
    path=None,
    dpi: int = 100,
):
    """Draw the feature maps of each convolution and pooling layer for one sample, strongest channels first.

    ``model`` is a model (with ``x``, one sample or a batch) or an ``Explanation``. Row by
    row: the input of the model's first convolution or pooling layer (each of its channels
    as an image, at most ``max_channels``), then each convolution or pooling
    layer (or those named in ``layers``), its ``max_channels`` strongest channels (by mean
    absolute activation, as ``explain`` ranks them), each titled with its index and mean.
    Each map has its own colour scale (its minimum to its maximum). A 1-D convolution's maps
    are drawn as one row of positions; a 3-D one's as its middle depth slice.

    Example:
        >>> fig = feature_maps(model, x_test[0], max_channels=6, path="maps.png")  # doctest: +SKIP
    """
    if not isinstance(max_channels, int) or max_channels < 1:
        raise ValueError(f"plot.feature_maps: max_channels must be a positive integer, got {max_channels!r}")
    e = _explanation(model, x, "feature_maps")
    _check_sample(e, sample, "feature_maps")
    steps = _steps(e, ("conv", "pooling"), layers, "feature_maps", "convolution or pooling layer")
    first = next(s for s in e.steps if s.kind in ("conv", "pooling"))  # the input of the model's first map layer
    first_input = e.layers[first.name]["input"]  # the input of the first map layer, in its layout
    image = np.asarray((first_input[0] if isinstance(first_input, list) else first_input)[sample], dtype=float)
    channels_first = first.layer.data_format == "channels_first"
    inputs = image if channels_first else np.moveaxis(image, -1, 0)
    inputs = inputs[:max_channels] if inputs.ndim >= 2 else inputs[None]
    rows = [(f"input of {first.name}", [(f"channel {c}", inputs[c]) for c in range(len(inputs))])]
    for step in steps:
        entry = e.layers[step.name]
        maps, order = entry["feature_maps"][sample], entry["channel_order"][sample]
        strength = entry["channel_strength"][sample]
        shown = [(f"ch {int(c)}: {strength[c]:.3g}", maps[c]) for c in order[:max_channels]]
        more = f", {len(order) - max_channels} weaker not shown" if len(order) > max_channels else ""
        activation = f", {step.activation}" if step.activation else ""
        title = f"{step.name} ({type(step.layer).__name__}{activation}): {len(order)} channels{more}"
        rows.append((title, shown))
    columns = max(len(r[1]) for r in rows)
    fig = new_figure((1.6 * columns + 0.6, 1.95 * len(rows) + 0.4))
    grid = fig.add_gridspec(len(rows), columns, hspace=0.75, wspace=0.25)
    for r, (title, maps) in enumerate(rows):
        for c, (label, m) in enumerate(maps):
            ax = fig.add_subplot(grid[r, c])
            img, note = _as_image(np.asarray(m, dtype=float))
            ax.imshow(img, cmap="gray_r" if r == 0 else cmap, aspect="equal" if img.shape[0] > 1 else "auto")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label + note, fontsize=7)
            if c == 0:
                ax.text(0.0, 1.32, title, transform=ax.transAxes, fontsize=9, ha="left", va="bottom")
    fig.suptitle(f"feature maps of model {e.model_name!r}, sample {sample} (strongest channels first)", fontsize=11)
    save(fig, path, dpi)
    return fig


def attention(
    model,
    x=None,
    layers=None,
    sample: int = 0,
    query_labels=None,
    key_labels=None,
    cmap: str = "Blues",
    path=None,
    dpi: int = 100,
):
    """Draw the attention scores of one sample as heatmaps: one per head, queries down, keys across.

    ``model`` is a model (with ``x``) or an ``Explanation``; ``layers`` picks attention layers
    by name (default: all of them, one row each). The scores are those the layer computes
    (``return_attention_scores=True``): each row, a query position's weights over the key
    positions, summing to 1 (0 to 1 on the colour scale, the value written in each cell when
    there are at most 12 keys). ``query_labels`` and ``key_labels`` name the positions (tokens,
    for instance).

    Example:
        >>> fig = attention(model, tokens, key_labels=words, query_labels=words)  # doctest: +SKIP
    """
    e = _explanation(model, x, "attention")
    _check_sample(e, sample, "attention")
    steps = _steps(e, ("attention",), layers, "attention", "attention layer")
    grids = []
    for step in steps:
        scores = np.asarray(e.layers[step.name]["attention_scores"][sample], dtype=float)
        grids.append((step, scores if scores.ndim == 3 else scores[None]))
    heads = max(len(g) for _, g in grids)
    queries, keys = grids[0][1].shape[1:]
    for labels, count, arg in ((query_labels, queries, "query_labels"), (key_labels, keys, "key_labels")):
        if labels is not None and len(labels) != count:
            raise ValueError(f"plot.attention: {arg} has {len(labels)} labels for {count} positions")
    side = min(4.0, max(2.2, 0.32 * max(queries, keys)))
    height = side * len(grids) + 1.3
    fig = new_figure((side * heads + 1.2, height))
    fig.subplots_adjust(top=1 - 0.7 / height, bottom=0.55 / height, hspace=0.55)
    image = None
    for r, (step, per_head) in enumerate(grids):
        for h, m in enumerate(per_head):
            ax = fig.add_subplot(len(grids), heads, r * heads + h + 1)
            image = ax.imshow(m, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
            nq, nk = m.shape
            ax.set_xticks(range(nk), key_labels if key_labels is not None and nk == keys else range(nk), fontsize=7)
            ax.set_yticks(range(nq), query_labels if query_labels is not None and nq == queries else range(nq), fontsize=7)
            if nk <= 12 and nq <= 12:
                for (i, j), v in np.ndenumerate(m):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6, color="white" if v > 0.6 else "black")
            ax.set_xlabel("key", fontsize=8)
            if h == 0:
                ax.set_ylabel(f"{step.name}\nquery", fontsize=8)
            ax.set_title(f"head {h}" if len(per_head) > 1 else type(step.layer).__name__, fontsize=9)
    fig.colorbar(image, ax=fig.axes, fraction=0.025, pad=0.02).set_label("attention weight", fontsize=8)
    fig.suptitle(f"attention scores of model {e.model_name!r}, sample {sample}", fontsize=11)
    save(fig, path, dpi)
    return fig


def hidden_states(model, x=None, layers=None, sample: int = 0, cmap: str = "RdBu_r", path=None, dpi: int = 100):
    """Draw each recurrent layer's hidden state over time for one sample: units down, time steps across.

    ``model`` is a model (with ``x``) or an ``Explanation``; ``layers`` picks recurrent layers
    by name. Column ``t`` is the hidden state after the layer read step ``t`` (what
    ``explain`` gives as ``hidden_states``); the colour scale is symmetric around 0.

    Example:
        >>> fig = hidden_states(model, x_test[:1], path="states.png")  # doctest: +SKIP
    """
    e = _explanation(model, x, "hidden_states")
    _check_sample(e, sample, "hidden_states")
    steps = _steps(e, ("recurrent",), layers, "hidden_states", "recurrent layer")
    heights = [e.layers[s.name]["hidden_states"].shape[2] for s in steps]
    height = 1.3 + sum(max(1.4, 0.22 * h) + 0.7 for h in heights)
    fig = new_figure((8.0, height))
    grid = fig.add_gridspec(
        len(steps), 1, height_ratios=[max(h, 6) for h in heights], hspace=0.9, top=1 - 0.8 / height, bottom=0.6 / height
    )
    for r, step in enumerate(steps):
        h = np.asarray(e.layers[step.name]["hidden_states"][sample], dtype=float)
        top = float(np.abs(h).max()) or 1.0
        ax = fig.add_subplot(grid[r, 0])
        image = ax.imshow(h.T, cmap=cmap, vmin=-top, vmax=top, aspect="auto", interpolation="nearest")
        ax.set_ylabel("unit", fontsize=8)
        ax.set_xlabel("time step", fontsize=8)
        ax.set_title(f"{step.name} ({type(step.layer).__name__}, {h.shape[1]} units)", fontsize=9, loc="left")
        ticks = range(0, h.shape[0], max(1, math.ceil(h.shape[0] / 16)))
        ax.set_xticks(list(ticks))
        ax.set_yticks(list(range(0, h.shape[1], max(1, math.ceil(h.shape[1] / 12)))))
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    fig.suptitle(f"hidden states of model {e.model_name!r}, sample {sample}", fontsize=11)
    save(fig, path, dpi)
    return fig


__all__ = ["attention", "feature_maps", "hidden_states"]
