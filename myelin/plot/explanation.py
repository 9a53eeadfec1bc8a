"""What one prediction looks like inside: ``myelin.plot.explain(model, x)``.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> myelin.plot.explain(model, [37.3, 16.8, 19.2, 30.0], class_names=["Adelie", "Gentoo", "Chinstrap"])  # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np

from ..explain import Explanation
from ._figure import new_figure, save
from .architecture import MAX_NEURONS
from .network import draw_network, network_extent, network_layers

BAR, CHOSEN, TRUE = "#9aa5b1", "#1f5fbf", "#e07b00"


def explain(
    model,
    x=None,
    y=None,
    class_names=None,
    input_names=None,
    sample: int = 0,
    path=None,
    max_neurons: int = MAX_NEURONS,
    dpi: int = 100,
):
    """Draw one sample's way through the network: neurons coloured by their activation, and the output.

    ``model`` is a model (with ``x`` and optionally ``y`` and ``class_names``, passed to
    ``model.explain``) or an ``Explanation`` it returned; ``sample`` picks the sample of a
    batch. When every layer has at most ``max_neurons`` neurons the network is drawn as in
    :func:`myelin.plot.model`, each neuron filled by its activation divided by the largest
    absolute activation of its layer (so that every layer uses the whole colour scale), the
    inputs labelled with their values; otherwise each layer's activations are drawn as bars
    (a square input, such as an image, as an image). Beside it, the output: the probability
    of each class (the predicted class, and the true one when ``y`` is known, highlighted),
    or the output values of a regression model.

    Example:
        >>> fig = explain(model, [37.3, 16.8, 19.2, 30.0], y=1)  # doctest: +SKIP
    """
    e = model if isinstance(model, Explanation) else model.explain(x, y=y, class_names=class_names)
    if e.model is None:
        raise ValueError("plot.explain: this Explanation does not know its model; pass the model and x instead")
    n = len(e.inputs[0])
    if not 0 <= sample < n:
        raise ValueError(f"plot.explain: sample must be in [0, {n}), got {sample}")
    if len(e.inputs) != 1 or len(e.outputs) != 1:
        raise ValueError("plot.explain: draws models with one input and one output; explain(...) reports the others")
    values = _column_values(e, sample)
    columns = network_layers(e.model)
    drawable = columns is not None and values is not None and len(columns) == len(values)
    small = drawable and max(c.size for c in columns) <= max_neurons
    fig = _network_figure(e, columns, values, sample, input_names) if small else _bars_figure(e, sample)
    save(fig, path, dpi)
    return fig


def _column_values(e: Explanation, sample: int) -> list | None:
    """The input and each Dense column's final activations (after an Activation layer that follows it)."""
    columns = [np.asarray(e.inputs[0][sample], dtype=float).ravel()]
    dense_seen = False
    for step in e.steps:
        out = np.asarray(e.layers[step.name]["output"][sample], dtype=float).ravel()
        if step.kind == "dense":
            columns.append(out)
            dense_seen = True
        elif step.kind == "activation" and dense_seen:
            columns[-1] = out
        elif step.kind == "reshape" and not dense_seen:
            columns[0] = out
        elif step.kind not in ("dropout", "reshape", "activation"):
            return None
    return columns


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(np.abs(values).max()) if values.size else 0.0
    return values / top if top > 0 else values


def _title(e: Explanation, sample: int) -> str:
    out = e.outputs[0]
    if out["predicted"] is None or out["predicted"].dtype == bool:
        return f"model {e.model_name!r}, sample {sample}"
    k = int(out["predicted"][sample])
    p = out["probabilities"].reshape(len(out["probabilities"]), -1)[sample]
    prob = p[k] if p.size > 1 else (p[0] if k == 1 else 1 - p[0])
    name = f" ({out['class_names'][k]})" if out["class_names"] else ""
    return f"model {e.model_name!r}: predicted {k}{name}, probability {prob:.3f}"


def _network_figure(e: Explanation, columns, values, sample: int, input_names):
    from matplotlib.cm import ScalarMappable  # noqa: PLC0415  (optional extra)

    names = input_names if input_names is not None else [f"x{i + 1}" for i in range(columns[0].size)]
    if len(names) != columns[0].size:
        raise ValueError(f"plot.explain: input_names has {len(names)} names for {columns[0].size} inputs")
    labels = [f"{name} = {v:.3g}" for name, v in zip(names, values[0])]
    out = e.outputs[0]
    output_names = list(out["class_names"]) if out["class_names"] and len(out["class_names"]) == columns[-1].size else None
    node_values = [None] + [_scaled(v) for v in values[1:]]  # the inputs are labelled with their values instead
    w, h = network_extent(columns, labelled=True)
    scale = min(0.5, 14 / w, 12 / h)
    width_in = w * scale + 0.8
    fig = new_figure((width_in + 4.2, max(h * scale + 1.0, 3.6)))
    share = width_in / (width_in + 4.2)
    ax = fig.add_axes([0.01, 0.05, share - 0.02, 0.85])
    geometry = draw_network(ax, e.model, node_values, input_names=labels, output_names=output_names)
    cmap, norm = geometry["mapper"]
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.03, pad=0.0)
    bar.set_label("activation / largest |activation| in its layer", fontsize=8)
    _output_axes(fig.add_axes([share + 0.07, 0.15, 0.93 - share - 0.07, 0.7]), e, sample)
    fig.suptitle(_title(e, sample), fontsize=11)
    return fig


def _output_axes(ax, e: Explanation, sample: int) -> None:
    out = e.outputs[0]
    target = None
    if e.targets is not None and out["kind"] != "values":
        t = np.asarray(e.targets[0][sample]).ravel()
        target = int(t.argmax()) if t.size > 1 else round(float(t[0]))  # one-hot, or a class label
    if out["probabilities"] is None:
        v = np.asarray(out["values"][sample], dtype=float).ravel()
        ax.barh(range(len(v)), v, color=BAR)
        ax.set_yticks(range(len(v)), [f"output {i}" for i in range(len(v))])
        ax.set_title("output values", fontsize=10)
        return
    p = np.asarray(out["probabilities"][sample], dtype=float).ravel()
    if out["kind"].startswith("sigmoid") and p.size == 1:
        p = np.array([1 - p[0], p[0]])
    predicted = out["predicted"][sample]
    chosen = set(np.flatnonzero(predicted)) if out["predicted"].dtype == bool else {int(predicted)}
    colours = [CHOSEN if i in chosen else BAR for i in range(p.size)]
    bars = ax.barh(range(p.size), p, color=colours)
    if target is not None and 0 <= target < p.size:
        bars[target].set_edgecolor(TRUE)
        bars[target].set_linewidth(2.5)
    names = out["class_names"] or [str(i) for i in range(p.size)]
    ax.set_yticks(range(p.size), [f"{i} {n}" if out["class_names"] else n for i, n in enumerate(names)])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    for i, v in enumerate(p):
        ax.text(min(v + 0.02, 0.98), i, f"{v:.3f}", va="center", ha="left" if v < 0.8 else "right", fontsize=8)
    ax.set_title("probability of each class" + (" (orange edge: the true class)" if target is not None else ""), fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)


def _bars_figure(e: Explanation, sample: int):
    shown = [(f"input ({np.asarray(e.inputs[0][sample]).size} values)", np.asarray(e.inputs[0][sample], dtype=float), False)]
    for step in e.steps:
        if step.is_output and e.outputs[0]["probabilities"] is not None:
            continue  # drawn below as the probability of each class
        entry = e.layers[step.name]
        if step.kind in ("conv", "pooling") and entry["feature_maps"][sample][0].ndim == 2:
            best = int(entry["channel_order"][sample][0])  # the strongest map; plot.feature_maps draws them all
            count = len(entry["channel_order"][sample])
            label = f"{step.name}: {type(step.layer).__name__}, its strongest channel: {best} (of {count})"
            shown.append((label, np.asarray(entry["feature_maps"][sample][best], dtype=float), True))
        elif step.kind not in ("dropout", "reshape"):
            label = f"{step.name}: {step.activation or type(step.layer).__name__}"
            shown.append((label, np.asarray(entry["output"][sample], dtype=float), False))
    rows = len(shown) + 1
    fig = new_figure((8.0, 1.9 * rows))
    for i, (label, v, is_map) in enumerate(shown):
        ax = fig.add_subplot(rows, 1, i + 1)
        flat = v.ravel()
        side = math.isqrt(flat.size)
        if is_map:  # a feature map
            ax.imshow(v, cmap="viridis", aspect="equal")
            ax.set_xticks([])
            ax.set_yticks([])
        elif i == 0 and side * side == flat.size and flat.size >= 16:
            ax.imshow(flat.reshape(side, side), cmap="gray_r", aspect="equal")
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.bar(range(flat.size), flat, color=[CHOSEN if a > 0 else BAR for a in flat], width=1.0)
            ax.set_xlim(-0.5, flat.size - 0.5)
            ax.axhline(0, color="#333333", linewidth=0.6)
        ax.set_title(label, fontsize=9, loc="left")
    _output_axes(fig.add_subplot(rows, 1, rows), e, sample)
    fig.suptitle(_title(e, sample), fontsize=11)
    fig.tight_layout()
    return fig


__all__ = ["explain"]
