"""The model as a picture: ``myelin.plot.model(model)``.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> myelin.plot.model(model, path="network.png")  # doctest: +SKIP
"""

from __future__ import annotations

from ..layers.base import InputLayer, _shape_str
from ..models import Model, Sequential
from ._figure import new_figure, save
from .network import draw_network, network_extent, network_layers

MAX_NEURONS = 24  # the tallest column drawn as circles; wider networks become a block diagram


def model(
    model: Model,
    path=None,
    style: str = "auto",
    max_neurons: int = MAX_NEURONS,
    node_values=None,
    input_names=None,
    output_names=None,
    show_shapes: bool = True,
    dpi: int = 100,
):
    """Draw ``model``: neurons and weights for a small network of Dense layers, else its layers as blocks.

    ``style`` is ``"auto"`` (neurons when every column has at most ``max_neurons``),
    ``"network"`` or ``"blocks"``. With neurons, each weight is a line coloured by its sign
    (blue positive, red negative) and drawn wider and darker the larger it is;
    ``node_values`` (one array per column) colours the neurons, and ``input_names`` /
    ``output_names`` label them. The block diagram shows each layer's name, type, output
    shape and parameter count, with arrows along the data flow (branches side by side).

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
        >>> fig = model(m, path="model.svg")  # doctest: +SKIP
    """
    if not isinstance(model, Model):
        raise TypeError(f"plot.model: expected a myelin Model, got {type(model).__name__}")
    if style not in ("auto", "network", "blocks"):
        raise ValueError(f"plot.model: style must be 'auto', 'network' or 'blocks', got {style!r}")
    columns = network_layers(model)
    small = columns is not None and max(c.size for c in columns) <= max_neurons
    if style == "network" and columns is None:
        raise ValueError(
            f"plot.model: model {model.name!r} is not a chain of Dense layers (or is not built), so it cannot be drawn "
            "as neurons; use style='blocks'"
        )
    if style == "network" or (style == "auto" and small):
        w, h = network_extent(columns, input_names is not None or output_names is not None)
        scale = min(0.5, 16 / w, 14 / h)  # inches per unit: neurons stay round and the figure stays on a screen
        fig = new_figure((max(w * scale + 0.6 + (1.0 if node_values is not None else 0), 5.0), h * scale + 0.9))
        ax = fig.add_axes([0.02, 0.04, 0.96 - (0.08 if node_values is not None else 0), 0.88])
        geometry = draw_network(ax, model, node_values, input_names=input_names, output_names=output_names)
        if geometry["mapper"] is not None:
            from matplotlib.cm import ScalarMappable  # noqa: PLC0415

            cmap, norm = geometry["mapper"]
            fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.03, pad=0.01)
        params = model.count_params()
        ax.set_title(f"{model.name}: {' → '.join(str(c.size) for c in columns)} ({params:,} parameters)", fontsize=11)
        _legend(ax)
    else:
        fig = _blocks(model, show_shapes)
    save(fig, path, dpi)
    return fig


def _legend(ax) -> None:
    from matplotlib.lines import Line2D  # noqa: PLC0415

    from .network import NEGATIVE, POSITIVE  # noqa: PLC0415

    handles = [
        Line2D([], [], color=POSITIVE, linewidth=2.5, label="positive weight"),
        Line2D([], [], color=NEGATIVE, linewidth=2.5, label="negative weight"),
    ]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False, fontsize=8)


def _graph(model: Model) -> tuple[list, list]:
    """(layers in order, edges as (from index, to index)) of a Sequential or functional model."""
    if isinstance(model, Sequential) or not model._functional:
        layers = ([model._input_layer] if getattr(model, "_input_layer", None) is not None else []) + model.layers
        return layers, [(i, i + 1) for i in range(len(layers) - 1)]
    layers = model.layers
    index = {id(layer): i for i, layer in enumerate(layers)}
    producer = {id(t): index[id(t.layer)] for t in model.inputs}
    edges = []
    for layer, input_ids, out_id in model._nodes:
        for i in input_ids:
            edges.append((producer[i], index[id(layer)]))
        producer[out_id] = index[id(layer)]
    return layers, sorted(set(edges))


def _shape_text(layer) -> str:
    shape = layer.output_shape
    if shape is None:
        return "?"
    return ", ".join(_shape_str(s) for s in shape) if isinstance(shape, list) else _shape_str(shape)


def _default_label(show_shapes: bool):
    """plot.model's text for a block: "name (Class)", then the output shape and parameter count."""

    def label(layer) -> tuple[str, list[str]]:
        lines = []
        if show_shapes:
            params = "" if isinstance(layer, InputLayer) else f" · {layer.count_params():,} params"
            lines.append(f"out {_shape_text(layer)}{params}")
        return f"{layer.name} ({type(layer).__name__})", lines

    return label


def _blocks(model: Model, show_shapes: bool, label=None):
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: PLC0415

    layers, edges = _graph(model)
    if not layers:
        raise ValueError(f"plot.model: model {model.name!r} has no layers to draw")
    level = [0] * len(layers)
    for a, b in edges:  # edges are in graph order, so one pass gives the longest path from an input
        level[b] = max(level[b], level[a] + 1)
    by_level: dict[int, list[int]] = {}
    for i, lv in enumerate(level):
        by_level.setdefault(lv, []).append(i)
    widest = max(len(v) for v in by_level.values())
    label = label or _default_label(show_shapes)
    texts = [label(layer) for layer in layers]  # (title, detail lines) of each block
    n_lines = max(len(lines) for _, lines in texts)
    box_w, box_h, gap_x, gap_y = 3.6, 0.6 + 0.45 * n_lines, 0.5, 0.65
    pos = {}
    for lv, members in by_level.items():
        row_width = len(members) * box_w + (len(members) - 1) * gap_x
        for k, i in enumerate(members):
            pos[i] = (-row_width / 2 + k * (box_w + gap_x) + box_w / 2, -lv * (box_h + gap_y))
    levels = len(by_level)
    fig_w = max(4.5, widest * (box_w + gap_x) * 0.95 + 0.6)
    fig_h = max(2.5, levels * (box_h + gap_y) * 0.78 + 0.9)
    fig = new_figure((min(fig_w, 24), min(fig_h, 40)))
    ax = fig.add_axes([0.01, 0.01, 0.98, 0.94])
    for i, layer in enumerate(layers):
        x, y = pos[i]
        is_input = isinstance(layer, InputLayer)
        face = "#e8eef8" if is_input else ("#fdf1e0" if layer.weights else "#f2f2f2")
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2), box_w, box_h, boxstyle="round,pad=0.02,rounding_size=0.12",
                facecolor=face, edgecolor="#555555", linewidth=1.0, zorder=2,
            )
        )  # fmt: skip
        title, lines = texts[i]
        top = y + 0.22 * n_lines
        ax.text(x, top, title, ha="center", va="center", fontsize=8.5, weight="bold", zorder=3)
        for k, line in enumerate(lines):
            ax.text(x, top - 0.46 * (k + 1), line, ha="center", va="center", fontsize=7.5, color="#333333", zorder=3)
    for a, b in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.add_patch(
            FancyArrowPatch((x0, y0 - box_h / 2), (x1, y1 + box_h / 2), arrowstyle="-|>", mutation_scale=10,
                            color="#555555", linewidth=1.0, zorder=1, shrinkA=1, shrinkB=1)
        )  # fmt: skip
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - box_w / 2 - 0.2, max(xs) + box_w / 2 + 0.2)
    ax.set_ylim(min(ys) - box_h / 2 - 0.2, max(ys) + box_h / 2 + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{model.name} ({type(model).__name__}): {model.count_params():,} parameters", fontsize=10)
    return fig


_GRAPHVIZ = "a Graphviz layout option; myelin draws with matplotlib (top to bottom, straight arrows)"


def plot_model(
    model: Model,
    to_file="model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    **kwargs,
):
    """Keras's ``keras.utils.plot_model``: the model's layers as a block diagram, written to ``to_file``.

    Drawn with matplotlib (``myelin.plot.model``'s block diagram), not Graphviz: each block
    shows the layer's class (and name with ``show_layer_names``), its activation
    (``show_layer_activations``), output shape and parameter count (``show_shapes``), dtype
    (``show_dtype``) and whether it trains (``show_trainable``), with arrows along the data
    flow. ``to_file`` ends in .png, .svg or .pdf. Graphviz's layout options are refused
    rather than ignored: ``rankdir`` other than "TB", ``expand_nested=True``, ``splines``
    other than "ortho" or "line" (the arrows are straight; between stacked blocks that is
    both). Returns the matplotlib Figure.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(3, activation="relu")])
        >>> fig = plot_model(m, to_file="model.png", show_shapes=True)  # doctest: +SKIP
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model: layer_range is no longer supported (as in Keras 3)")
    if kwargs:
        raise TypeError(f"plot_model: unexpected argument(s) {', '.join(sorted(kwargs))}")
    if not isinstance(model, Model):
        raise TypeError(f"plot_model: expected a myelin Model, got {type(model).__name__}")
    if rankdir != "TB":
        raise ValueError(f"plot_model: rankdir={rankdir!r} is {_GRAPHVIZ}; only 'TB' is drawn")
    if expand_nested:
        raise ValueError(f"plot_model: expand_nested=True is {_GRAPHVIZ}; nested models are drawn as one block")
    if splines not in ("ortho", "line"):
        raise ValueError(f"plot_model: splines={splines!r} is {_GRAPHVIZ}; only 'ortho' or 'line' is drawn")
    if not model.built:
        raise ValueError(f"plot_model: model {model.name!r} is not built yet; call it on data or give it an Input first")
    if to_file is None:
        raise ValueError("plot_model: to_file must be a path ending in .png, .svg or .pdf, got None")

    def label(layer) -> tuple[str, list[str]]:
        kind = type(layer).__name__
        title = f"{layer.name} ({kind})" if show_layer_names else kind
        lines = []
        activation = getattr(layer, "activation", None)
        if show_layer_activations and activation is not None:
            lines.append(f"activation: {getattr(activation, '__name__', type(activation).__name__)}")
        if show_shapes:
            params = "" if isinstance(layer, InputLayer) else f" · {layer.count_params():,} params"
            lines.append(f"out {_shape_text(layer)}{params}")
        if show_dtype:
            lines.append(f"dtype: {getattr(layer, 'dtype', None) or layer.compute_dtype}")
        if show_trainable:
            lines.append(f"trainable: {bool(layer.trainable)}")
        return title, lines

    fig = _blocks(model, show_shapes, label)
    save(fig, to_file, dpi)
    return fig


__all__ = ["model", "plot_model"]
