"""The network as the seed texts draw it: neurons as circles in columns, weights as lines.

:func:`draw_network` draws onto any matplotlib ``Axes``: one column per layer of neurons
(input, hidden, output), a line for every weight coloured by its sign (blue positive, red
negative) and drawn thicker and darker the larger it is. Neurons can be coloured by values
(activations, attributions) through ``node_values``, which is how other plots reuse it.
:func:`network_layers` says whether a model can be drawn this way.

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    >>> [c.size for c in network_layers(model)]
    [4, 3, 2]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layers import core
from ..layers.base import InputLayer
from ..models import Model, Sequential

POSITIVE, NEGATIVE = "#1f5fbf", "#c8322d"  # blue and red, readable for the common colour-vision deficiencies
NEURON_EDGE = "#333333"
_PASSIVE = (core.Dropout, InputLayer)  # no neurons of their own, nothing to draw
_ACTIVATION_LAYERS = (core.Activation, core.ReLU, core.LeakyReLU, core.Softmax)


@dataclass
class Column:
    """One column of neurons: its size, the weights that feed it and its label."""

    size: int
    kernel: np.ndarray | None = None  # (previous size, size), None for the input column
    bias: np.ndarray | None = None
    label: str = ""
    activation: str = ""
    names: list = field(default_factory=list)


def _chain(model: Model) -> list | None:
    """The model's layers in order when it is a plain chain (Sequential or a one-path functional model)."""
    if isinstance(model, Sequential):
        return model.layers
    if model._functional and model._is_chain():
        return [layer for layer, _, _ in model._nodes]
    return None


def network_layers(model: Model) -> list[Column] | None:
    """The columns of neurons of a model built from Dense layers, or None when it is not one.

    Dropout adds no column; an activation layer names the activation of the column before
    it; a leading Flatten turns the input into one column. Any other layer (preprocessing,
    merging, custom) means the model is drawn as a block diagram instead.

    Example:
        >>> from myelin import layers
        >>> import myelin
        >>> m = myelin.Sequential([myelin.Input(shape=(2,)), layers.Dense(2, activation="softmax")])
        >>> [(c.size, c.activation) for c in network_layers(m)]
        [(2, ''), (2, 'softmax')]
    """
    chain = _chain(model)
    if chain is None or not model.built:
        return None
    shape = model.input_shape
    if isinstance(shape, list) or shape is None:
        return None
    dims = list(shape[1:])
    columns: list[Column] = []
    for i, layer in enumerate(chain):
        if isinstance(layer, _PASSIVE):
            continue
        if isinstance(layer, core.Flatten) and not columns and i <= 1:
            dims = [int(np.prod(dims))]
            continue
        if isinstance(layer, core.Dense) and layer.kernel is not None:
            if not columns:
                if len(dims) != 1 or dims[0] is None:
                    return None
                columns.append(Column(size=int(dims[0]), label="input"))
            kernel = layer.kernel.numpy()
            bias = layer.bias.numpy() if layer.bias is not None else None
            act = _activation_name(layer.activation)
            columns.append(Column(size=kernel.shape[1], kernel=kernel, bias=bias, label=layer.name, activation=act))
            continue
        if isinstance(layer, _ACTIVATION_LAYERS) and columns:
            columns[-1].activation = _activation_label(layer)
            continue
        return None
    if len(columns) < 2:
        return None
    return columns


def _activation_name(fn) -> str:
    from .. import activations  # noqa: PLC0415

    name = activations.REGISTRY.name_of(fn) or getattr(fn, "__name__", "")
    return "" if name == "linear" else name


def _activation_label(layer) -> str:
    if isinstance(layer, core.Activation):
        return _activation_name(layer.activation)
    return type(layer).__name__.lower().replace("leakyrelu", "leaky_relu")


def draw_network(
    ax,
    model: Model,
    node_values=None,
    cmap: str = "viridis",
    input_names=None,
    output_names=None,
    show_weights: bool = True,
    max_line_width: float = 3.0,
) -> dict:
    """Draw ``model``'s neurons and weights on ``ax``; returns the drawing's geometry.

    Arguments:
        ax: a matplotlib Axes.
        model: a model of Dense layers (see :func:`network_layers`).
        node_values: optional list with one array per column (input first), whose values
            colour the neurons through ``cmap``; a column given as None stays white.
        input_names, output_names: labels for the input and output neurons.
        show_weights: draw the connections.
        max_line_width: the width of the largest weight's line.

    Returns a dict with ``positions`` (a list per column of (x, y) neuron centres),
    ``columns`` (the :class:`Column` list) and ``radius``, so that callers can annotate.

    Example:
        >>> import matplotlib  # doctest: +SKIP
        >>> from matplotlib.figure import Figure  # doctest: +SKIP
        >>> ax = Figure().add_subplot()  # doctest: +SKIP
        >>> geometry = draw_network(ax, model)  # doctest: +SKIP
    """
    from matplotlib import colormaps  # noqa: PLC0415  (optional extra)
    from matplotlib.collections import LineCollection  # noqa: PLC0415
    from matplotlib.colors import Normalize  # noqa: PLC0415
    from matplotlib.patches import Circle  # noqa: PLC0415

    columns = network_layers(model)
    if columns is None:
        raise ValueError(
            f"model {model.name!r} is not a chain of Dense layers; myelin.plot.model draws it as a block diagram instead"
        )
    tallest = max(c.size for c in columns)
    spacing = 1.0
    radius = 0.32 * spacing
    gap_x = _gap_x(tallest)
    positions = []
    for i, col in enumerate(columns):
        top = (col.size - 1) * spacing / 2
        positions.append([(i * gap_x, top - j * spacing) for j in range(col.size)])

    if show_weights:
        scale = (
            max((np.abs(c.kernel).max() for c in columns[1:] if c.kernel is not None and c.kernel.size), default=1.0) or 1.0
        )
        segments, colours, widths = [], [], []
        for i in range(1, len(columns)):
            kernel = columns[i].kernel
            for a, (x0, y0) in enumerate(positions[i - 1]):
                for b, (x1, y1) in enumerate(positions[i]):
                    w = float(kernel[a, b])
                    strength = abs(w) / scale
                    segments.append([(x0 + radius, y0), (x1 - radius, y1)])
                    base = POSITIVE if w >= 0 else NEGATIVE
                    colours.append((*_rgb(base), 0.15 + 0.8 * strength))
                    widths.append(0.3 + (max_line_width - 0.3) * strength)
        ax.add_collection(LineCollection(segments, colors=colours, linewidths=widths, zorder=1))

    mapper = None
    if node_values is not None:
        if len(node_values) != len(columns):
            raise ValueError(f"node_values needs one entry per column ({len(columns)}: input first), got {len(node_values)}")
        finite = [np.asarray(v, dtype=float).ravel() for v in node_values if v is not None]
        lo = min((v.min() for v in finite), default=0.0)
        hi = max((v.max() for v in finite), default=1.0)
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
        mapper = (colormaps[cmap], norm)

    for i, col in enumerate(columns):
        values = None if node_values is None or node_values[i] is None else np.asarray(node_values[i], dtype=float).ravel()
        if values is not None and values.size != col.size:
            raise ValueError(f"node_values[{i}] has {values.size} values for a column of {col.size} neurons")
        for j, (x, y) in enumerate(positions[i]):
            face = "white" if values is None else mapper[0](mapper[1](values[j]))
            ax.add_patch(Circle((x, y), radius, facecolor=face, edgecolor=NEURON_EDGE, linewidth=1.2, zorder=2))
        bottom = positions[i][-1][1] - radius - 0.35
        title = "input" if i == 0 else ("output" if i == len(columns) - 1 else "hidden")
        sub = f"{col.size} neurons" if i == 0 else f"{col.label}\n{col.size} · {col.activation or 'linear'}"
        ax.text(positions[i][0][0], positions[i][0][1] + radius + 0.45, title, ha="center", va="bottom", fontsize=10)
        ax.text(positions[i][0][0], bottom, sub, ha="center", va="top", fontsize=8, color="#444444")

    for names, i, side in ((input_names, 0, "right"), (output_names, len(columns) - 1, "left")):
        if names is None:
            continue
        names = list(names)
        if len(names) != columns[i].size:
            raise ValueError(f"{'input' if i == 0 else 'output'}_names has {len(names)} names for {columns[i].size} neurons")
        for (x, y), name in zip(positions[i], names):
            dx = -radius - 0.15 if side == "right" else radius + 0.15
            ax.text(x + dx, y, str(name), ha=side, va="center", fontsize=8)

    xs = [p[0] for col in positions for p in col]
    ys = [p[1] for col in positions for p in col]
    pad_x = _pad_x(input_names is not None or output_names is not None)
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    ax.set_ylim(min(ys) - _PAD_BELOW, max(ys) + _PAD_ABOVE)
    ax.set_aspect("equal")
    ax.axis("off")
    return {"positions": positions, "columns": columns, "radius": radius, "mapper": mapper}


_PAD_BELOW, _PAD_ABOVE = 1.6, 1.2


def _gap_x(tallest: int) -> float:
    return max(2.2, tallest * 0.35)


def _pad_x(labelled: bool) -> float:
    return 1.2 + (1.6 if labelled else 0.0)


def network_extent(columns: list[Column], labelled: bool = False) -> tuple[float, float]:
    """(width, height) of :func:`draw_network`'s drawing in data units (one unit between neurons).

    Example:
        >>> network_extent([Column(size=4), Column(size=2)])
        (4.6, 5.8)
    """
    tallest = max(c.size for c in columns)
    width = (len(columns) - 1) * _gap_x(tallest) + 2 * _pad_x(labelled)
    return round(width, 6), round(tallest - 1 + _PAD_BELOW + _PAD_ABOVE, 6)


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))


__all__ = ["Column", "draw_network", "network_extent", "network_layers"]
