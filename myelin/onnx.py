# Over 800 lines because every layer family's ONNX converters live here, each in its own section (merge-friendly).
"""Level 6: ONNX export, ``model.export("model.onnx", format="onnx")``.

The graph is built with the ``onnx`` package (``pip install 'myelin[onnx]'``), layer by
layer, from the same weights and the same formulas ``model.predict`` uses, and checked with
``onnx.checker`` before it is written (atomically: a temporary file, fsync, rename).

- Opset: the default ONNX domain at opset 17 (:data:`OPSET`) and, for the lookup layers,
  ``ai.onnx.ml`` at opset 3 (``LabelEncoder``). ONNX Runtime 1.13 and later run it.
- Inputs and outputs are named after the model's input and output layers; their first
  axis is the named dynamic dimension ``"batch"``. String inputs (``Input(dtype="string")``)
  become ONNX string tensors, so a model that takes raw tabular columns exports whole.
- Every layer and activation myelin has is exported (see ``docs/onnx.md`` for the table);
  a layer without a converter (a custom layer) raises :class:`ExportError` naming it, and
  :func:`register_converter` adds one.

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    >>> model.export("model.onnx", format="onnx")  # doctest: +SKIP
"""

# Over 800 lines because every layer family adds its converters in its own section, beside the shared graph builder.
from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable

import numpy as np

from . import activations
from .layers import core, merging, rnn
from .layers.preprocessing import tabular as preprocessing
from .models import Model, Sequential
from .models.model import _EXPORTERS

OPSET = 17
ML_OPSET = 3
BATCH = "batch"


class ExportError(ValueError):
    """A model (or one of its layers) that cannot be written as ONNX; the message names it.

    Example:
        >>> raise ExportError("layer 'x' (Custom) has no ONNX converter")
        Traceback (most recent call last):
        myelin.onnx.ExportError: layer 'x' (Custom) has no ONNX converter
    """


def _refuse_mixed_precision(model) -> None:
    """An ExportError naming the first layer whose policy computes in another dtype than it stores."""
    stack = [model]
    while stack:
        layer = stack.pop()
        policy = layer._dtype_policy
        if policy is not None and policy.compute_dtype != policy.variable_dtype:
            raise ExportError(
                f"layer {layer.name!r} ({type(layer).__name__}) has the mixed-precision policy {policy.name!r}: the ONNX "
                "export writes one float type; rebuild the model under the 'float32' policy, copy the weights "
                "(set_weights(get_weights())) and export that (docs/mixed_precision.md)"
            )
        stack.extend(getattr(layer, "layers", None) or layer._sublayers)


def _onnx():
    try:
        import onnx  # noqa: PLC0415  (optional extra, imported when exporting)
    except ModuleNotFoundError:
        raise ModuleNotFoundError("ONNX export needs the 'onnx' package: pip install 'myelin[onnx]'") from None
    return onnx


class GraphBuilder:
    """Collects ONNX nodes, initializers, inputs and outputs; hands out unique value names.

    A converter receives the builder, the layer and the names of the layer's input values,
    and returns the name of its output value (see :func:`register_converter`).

    Example:
        >>> g = GraphBuilder("float32")  # doctest: +SKIP
        >>> y = g.op("Relu", ["x"])  # doctest: +SKIP
    """

    def __init__(self, float_dtype: str):
        self.onnx = _onnx()
        self.float_dtype = np.dtype(float_dtype)
        self.nodes: list = []
        self.initializers: list = []
        self.inputs: list = []
        self.outputs: list = []
        self.uses_ml = False
        self._names: set[str] = set()
        self.info: dict[str, tuple[str, int]] = {}  # value name -> (myelin dtype, rank)

    def dtype_of(self, value: str) -> str:
        """The myelin dtype name (``"float32"``, ``"int64"``, ``"string"``) of a value."""
        return self.info[value][0]

    def rank_of(self, value: str) -> int:
        """The number of axes of a value, batch included."""
        return self.info[value][1]

    def fresh(self, base_name: str) -> str:
        """A value name not used yet, from ``base_name``."""
        name, i = base_name, 1
        while name in self._names:
            name, i = f"{base_name}_{i}", i + 1
        self._names.add(name)
        return name

    def const(self, value, name: str, dtype=None) -> str:
        """Add a constant tensor (weights, shapes, axes); returns its name."""
        arr = np.asarray(value, dtype=dtype if dtype is not None else self.float_dtype)
        name = self.fresh(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str | None = None, domain: str = "", **attrs) -> str:
        """Add one node with one output; returns the output's name."""
        out = self.fresh(name or op_type.lower())
        if domain == "ai.onnx.ml":
            self.uses_ml = True
        self.nodes.append(
            self.onnx.helper.make_node(op_type, inputs, [out], name=self.fresh(f"{out}/{op_type}"), domain=domain, **attrs)
        )
        return out

    def tensor_type(self, dtype: str) -> int:
        """The ONNX element type of a myelin dtype name (``"string"`` included)."""
        if dtype == "string":
            return self.onnx.TensorProto.STRING
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def value_info(self, name: str, dtype: str, shape) -> object:
        dims = [BATCH if i == 0 else d for i, d in enumerate(shape)]
        return self.onnx.helper.make_tensor_value_info(name, self.tensor_type(dtype), dims)


# ---------------------------------------------------------------------------- converters
CONVERTERS: dict[type, Callable] = {}


def register_converter(layer_class: type):
    """Decorator: ``fn(graph, layer, input_names) -> output_name`` converts ``layer_class`` to ONNX.

    The function adds nodes with ``graph.op(...)`` and constants with ``graph.const(...)``.
    Subclasses of ``layer_class`` use it too unless they have their own.

    Example:
        >>> from myelin import layers
        >>> class Double(layers.Layer):
        ...     def call(self, x, training=False):
        ...         return x * 2.0
        >>> @register_converter(Double)
        ... def _double(graph, layer, inputs):
        ...     return graph.op("Mul", [inputs[0], graph.const(2.0, "two")])
    """

    def wrap(fn):
        CONVERTERS[layer_class] = fn
        return fn

    return wrap


def _converter_for(layer) -> Callable | None:
    for cls in type(layer).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def activation(graph: GraphBuilder, fn, x: str, where: str) -> str:
    """Nodes computing the activation ``fn`` (a function of ``myelin.activations``) of value ``x``.

    Example:
        >>> activation(None, activations.linear, "x", "dense")
        'x'
    """
    name = activations.REGISTRY.name_of(fn)
    if fn is activations.linear:
        return x
    simple = {
        "relu": "Relu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "softplus": "Softplus",
        "elu": "Elu",
        "softmax": "Softmax",
        "log_softmax": "LogSoftmax",
    }
    if name in simple:
        attrs = {"axis": -1} if name in ("softmax", "log_softmax") else {}
        return graph.op(simple[name], [x], **attrs)
    if name == "leaky_relu":
        return graph.op("LeakyRelu", [x], alpha=0.2)  # activations.leaky_relu's default slope
    if name == "selu":
        return graph.op("Selu", [x], alpha=1.6732632423543772, gamma=1.0507009873554805)
    if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1)
        return graph.op("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
    if name == "swish":
        return graph.op("Mul", [x, graph.op("Sigmoid", [x])], name="swish")
    if name == "gelu":  # exact: x * (1 + erf(x / sqrt(2))) / 2
        scaled = graph.op("Mul", [x, graph.const(1 / math.sqrt(2.0), "inv_sqrt2")])
        cdf = graph.op("Add", [graph.op("Erf", [scaled]), graph.const(1.0, "one")])
        return graph.op("Mul", [graph.op("Mul", [x, cdf]), graph.const(0.5, "half")], name="gelu")
    if name in _MORE_ACTIVATIONS:  # issue 17's activations (section at the end of this module)
        return _MORE_ACTIVATIONS[name](graph, x)
    raise ExportError(
        f"{where}: activation {getattr(fn, '__name__', fn)!r} has no ONNX form; use one of myelin.activations "
        "by name, or wrap it in a layer and register a converter with myelin.onnx.register_converter"
    )


def _relu_general(graph: GraphBuilder, x: str, negative_slope: float, max_value, threshold: float) -> str:
    """Keras's relu(x, negative_slope, max_value, threshold), as activations.relu computes it."""
    if negative_slope == 0.0 and threshold == 0.0:
        out = graph.op("Relu", [x])
    else:
        above = graph.op("Greater", [x, graph.const(threshold, "threshold")])
        below = graph.op(
            "Mul", [graph.op("Sub", [x, graph.const(threshold, "threshold")]), graph.const(negative_slope, "slope")]
        )
        out = graph.op("Where", [above, x, below])
    if max_value is not None:
        out = graph.op("Min", [out, graph.const(max_value, "max_value")])
    return out


@register_converter(core.Dense)
def _dense(graph, layer, inputs):
    out = graph.op("MatMul", [inputs[0], graph.const(layer.kernel.numpy(), f"{layer.name}/kernel")])
    if layer.use_bias:
        out = graph.op("Add", [out, graph.const(layer.bias.numpy(), f"{layer.name}/bias")], name=layer.name)
    return activation(graph, layer.activation, out, f"Dense layer {layer.name!r}")


@register_converter(core.Activation)
def _activation_layer(graph, layer, inputs):
    return activation(graph, layer.activation, inputs[0], f"Activation layer {layer.name!r}")


@register_converter(core.Dropout)
def _dropout(graph, layer, inputs):
    return graph.op("Identity", [inputs[0]], name=layer.name)  # inference: dropout passes inputs unchanged


@register_converter(core.Flatten)
def _flatten(graph, layer, inputs):
    return graph.op("Flatten", [inputs[0]], name=layer.name, axis=1)


@register_converter(core.Reshape)
def _reshape(graph, layer, inputs):
    shape = graph.const([0, *layer.target_shape], f"{layer.name}/shape", dtype=np.int64)  # 0: keep the batch size
    return graph.op("Reshape", [inputs[0], shape], name=layer.name)


@register_converter(core.ReLU)
def _relu_layer(graph, layer, inputs):
    return _relu_general(graph, inputs[0], layer.negative_slope, layer.max_value, layer.threshold)


@register_converter(core.LeakyReLU)
def _leaky_relu_layer(graph, layer, inputs):
    return graph.op("LeakyRelu", [inputs[0]], name=layer.name, alpha=layer.negative_slope)


@register_converter(core.Softmax)
def _softmax_layer(graph, layer, inputs):
    return graph.op("Softmax", [inputs[0]], name=layer.name, axis=layer.axis)


@register_converter(merging.Concatenate)
def _concatenate(graph, layer, inputs):
    return graph.op("Concat", list(inputs), name=layer.name, axis=layer.axis)


def _as_float(graph: GraphBuilder, x: str) -> str:
    if np.dtype(graph.dtype_of(x)) != graph.float_dtype:
        return graph.op("Cast", [x], to=graph.tensor_type(graph.float_dtype.name))
    return x


def _as_int64(graph: GraphBuilder, x: str) -> str:
    return x if graph.dtype_of(x) == "int64" else graph.op("Cast", [x], to=graph.onnx.TensorProto.INT64)


@register_converter(preprocessing.Normalization)
def _normalization(graph, layer, inputs):
    x = _as_float(graph, inputs[0])
    mean, std = layer.statistics()
    mean, std = graph.const(mean, f"{layer.name}/mean"), graph.const(std, f"{layer.name}/std")
    if layer.invert:
        return graph.op("Add", [graph.op("Mul", [x, std]), mean], name=layer.name)
    return graph.op("Div", [graph.op("Sub", [x, mean]), std], name=layer.name)


@register_converter(preprocessing.Rescaling)
def _rescaling(graph, layer, inputs):
    x = _as_float(graph, inputs[0])
    out = graph.op("Mul", [x, graph.const(layer.scale, f"{layer.name}/scale")])
    if np.any(np.asarray(layer.offset) != 0):
        out = graph.op("Add", [out, graph.const(layer.offset, f"{layer.name}/offset")])
    return out


def _encode(graph: GraphBuilder, indices: str, depth: int, mode: str, rank: int, name: str) -> str:
    """OneHot of int64 ``indices`` then, for multi_hot and count, a reduction over the token axis.

    An index outside [0, depth) (the lookups' mask token is sent to ``depth``) gives a row of
    zeros, as ONNX's OneHot defines it.
    """
    values = graph.const([0.0, 1.0], f"{name}/off_on")
    depth_c = graph.const(depth, f"{name}/depth", dtype=np.int64)
    if mode == "one_hot":
        hot = graph.op("OneHot", [indices, depth_c, values], axis=-1)
        if rank >= 2:  # (batch, 1) -> (batch, depth), as the layer does
            return graph.op("Squeeze", [hot, graph.const([-2], f"{name}/axis", dtype=np.int64)], name=name)
        return hot
    if rank == 1:
        indices = graph.op("Unsqueeze", [indices, graph.const([-1], f"{name}/axis", dtype=np.int64)])
    hot = graph.op("OneHot", [indices, depth_c, values], axis=-1)  # (batch, tokens, depth)
    counts = graph.op("ReduceSum", [hot, graph.const([1], f"{name}/tokens_axis", dtype=np.int64)], name=name, keepdims=0)
    if mode == "count":
        return counts
    return graph.op("Min", [counts, graph.const(1.0, f"{name}/one")], name=name)  # multi_hot


@register_converter(preprocessing.CategoryEncoding)
def _category_encoding(graph, layer, inputs):
    x = _as_int64(graph, inputs[0])
    return _encode(graph, x, layer.num_tokens, layer.output_mode, graph.rank_of(inputs[0]), layer.name)


@register_converter(preprocessing._IndexLookup)
def _lookup(graph, layer, inputs):
    kind = type(layer).__name__
    if layer.num_oov_indices > 1:
        raise ExportError(
            f"{kind} layer {layer.name!r}: num_oov_indices={layer.num_oov_indices} spreads unknown tokens over "
            "several indices by a hash that ONNX cannot compute; export needs num_oov_indices of 0 or 1"
        )
    strings = isinstance(layer, preprocessing.StringLookup)
    x = inputs[0]
    if layer.invert:
        vocab = layer.get_vocabulary()
        key = {"keys_int64s": list(range(len(vocab)))}
        if strings:
            value = {"values_strings": [str(t) for t in vocab], "default_string": str(layer.oov_token)}
        else:
            value = {"values_int64s": [int(t) for t in vocab], "default_int64": int(layer.oov_token)}
        x = _as_int64(graph, x)
        return graph.op("LabelEncoder", [x], name=layer.name, domain="ai.onnx.ml", **key, **value)
    encoding = layer.output_mode != "int"
    depth = layer._depth() if encoding else None
    table = dict(layer._table)
    if layer.mask_token is not None:
        table[layer.mask_token] = depth if encoding else 0  # dropped (a zero row) or index 0
    # an unknown token: the OOV index; with num_oov_indices=0 (an error in myelin) a zero row / -1
    default = int(layer._uses_mask_index) if layer.num_oov_indices == 1 else (depth if encoding else -1)
    keys = list(table)
    if strings:
        key = {"keys_strings": [str(k) for k in keys]}
    else:
        key = {"keys_int64s": [int(k) for k in keys]}
        x = _as_int64(graph, x)
    indices = graph.op(
        "LabelEncoder",
        [x],
        name=f"{layer.name}/indices" if encoding else layer.name,
        domain="ai.onnx.ml",
        values_int64s=[int(table[k]) for k in keys],
        default_int64=int(default),
        **key,
    )
    if not encoding:
        return indices
    return _encode(graph, indices, depth, layer.output_mode, graph.rank_of(inputs[0]), layer.name)


# ---------------------------------------------------------------------------- sequences
@register_converter(core.Embedding)
def _embedding(graph, layer, inputs):
    if layer.mask_zero:
        raise ExportError(
            f"Embedding layer {layer.name!r} has mask_zero=True: ONNX's recurrent operators take no per-step mask, so the "
            "exported model would not skip padding; export a model without mask_zero (or with right-padding removed)"
        )
    ids = _as_int64(graph, inputs[0])
    table = graph.const(layer.embeddings.numpy(), f"{layer.name}/embeddings")
    return graph.op("Gather", [table, ids], name=layer.name, axis=0)


@register_converter(core.Masking)
def _masking(graph, layer, inputs):
    raise ExportError(
        f"Masking layer {layer.name!r}: ONNX's recurrent operators take no per-step mask, so the exported model would not "
        "skip the masked steps; it cannot be exported"
    )


@register_converter(core.RepeatVector)
def _repeat_vector(graph, layer, inputs):
    expanded = graph.op("Unsqueeze", [inputs[0], graph.const([1], f"{layer.name}/axes", dtype=np.int64)])
    repeats = graph.const([1, layer.n, 1], f"{layer.name}/repeats", dtype=np.int64)
    return graph.op("Tile", [expanded, repeats], name=layer.name)


# Keras's gate blocks in ONNX's order: LSTM i, f, c, o -> i, o, f, c; GRU z, r, h is ONNX's own order.
_ONNX_GATES = {rnn.LSTMCell: [0, 3, 1, 2], rnn.GRUCell: [0, 1, 2], rnn.SimpleRNNCell: [0]}


def _rnn_weights(layer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ONNX's W (gates * units, features), R (gates * units, units) and B (2 * gates * units) of one RNN layer."""
    cell = layer.cell
    u = cell.units
    order = _ONNX_GATES[type(cell)]

    def blocks(matrix):  # (rows, gates * u) in Keras's order -> (gates * u, rows) in ONNX's
        return np.concatenate([matrix[..., g * u : (g + 1) * u] for g in order], axis=-1).T

    w, r = blocks(cell.kernel.numpy()), blocks(cell.recurrent_kernel.numpy())
    width = len(order) * u
    if cell.bias is None:
        b = np.zeros(2 * width)
    elif isinstance(cell, rnn.GRUCell) and cell.reset_after:
        bias = cell.bias.numpy()
        b = np.concatenate([blocks(bias[0][None])[:, 0], blocks(bias[1][None])[:, 0]])
    else:
        b = np.concatenate([blocks(cell.bias.numpy()[None])[:, 0], np.zeros(width)])
    return w, r, b


def _check_exportable(layer, where: str) -> None:
    cell = layer.cell
    if type(cell) not in _ONNX_GATES:
        raise ExportError(f"{where}: an RNN over a {type(cell).__name__} cell has no ONNX converter")
    if layer.stateful:
        raise ExportError(f"{where}: stateful=True carries states between calls, which an ONNX graph cannot")
    if isinstance(cell, rnn.SimpleRNNCell):
        if cell.activation not in (activations.tanh, activations.relu):
            raise ExportError(
                f"{where}: ONNX's RNN operator takes tanh or relu here, not {activations.serialize(cell.activation)!r}"
            )
    elif cell.activation is not activations.tanh or cell.recurrent_activation is not activations.sigmoid:
        raise ExportError(f"{where}: ONNX export needs Keras's default activations (tanh, sigmoid)")


def _recurrent_node(graph, layers_: list, x: str, name: str, return_sequences: bool) -> str:
    """One ONNX LSTM/GRU/RNN node over ``x`` (batch, steps, features), one or two directions; Y or Y_h."""
    first = layers_[0]
    cell = first.cell
    weights = [_rnn_weights(layer) for layer in layers_]
    op = {rnn.LSTMCell: "LSTM", rnn.GRUCell: "GRU", rnn.SimpleRNNCell: "RNN"}[type(cell)]
    w = graph.const(np.stack([wt[0] for wt in weights]), f"{name}/W")
    r = graph.const(np.stack([wt[1] for wt in weights]), f"{name}/R")
    b = graph.const(np.stack([wt[2] for wt in weights]), f"{name}/B")
    attrs = {"hidden_size": cell.units}  # layout 0 (time first): what onnxruntime runs
    if len(layers_) == 2:
        attrs["direction"] = "bidirectional"
    if op == "GRU":
        attrs["linear_before_reset"] = int(cell.reset_after)
    if op == "RNN":
        attrs["activations"] = ["Tanh" if cell.activation is activations.tanh else "Relu"] * len(layers_)
    time_first = graph.op("Transpose", [x], perm=[1, 0, 2])
    y = graph.fresh(f"{name}/Y")
    node_name = graph.fresh(f"{name}/{op}")
    outputs = [y] if return_sequences else ["", y]
    graph.nodes.append(graph.onnx.helper.make_node(op, [time_first, w, r, b], outputs, name=node_name, **attrs))
    # Y (steps, directions, batch, units) or Y_h (directions, batch, units), batch first again:
    perm = [2, 0, 1, 3] if return_sequences else [1, 0, 2]
    return graph.op("Transpose", [y], perm=perm)  # (batch, steps, directions, units) or (batch, directions, units)


def _reversed_in_time(graph, x: str, name: str) -> str:
    starts = graph.const([-1], f"{name}/starts", dtype=np.int64)
    ends = graph.const([-(2**63)], f"{name}/ends", dtype=np.int64)
    axes = graph.const([1], f"{name}/axes", dtype=np.int64)
    steps = graph.const([-1], f"{name}/steps", dtype=np.int64)
    return graph.op("Slice", [x, starts, ends, axes, steps])


@register_converter(rnn.RNN)
def _recurrent(graph, layer, inputs):
    where = f"{type(layer).__name__} layer {layer.name!r}"
    _check_exportable(layer, where)
    x = _as_float(graph, inputs[0])
    if layer.go_backwards:  # Keras reads the reversed sequence and returns outputs in that order
        x = _reversed_in_time(graph, x, layer.name)
    y = _recurrent_node(graph, [layer], x, layer.name, layer.return_sequences)
    axis = graph.const([2 if layer.return_sequences else 1], f"{layer.name}/direction_axis", dtype=np.int64)
    return graph.op("Squeeze", [y, axis], name=layer.name)


@register_converter(rnn.Bidirectional)
def _bidirectional(graph, layer, inputs):
    fw, bw = layer.forward_layer, layer.backward_layer
    where = f"Bidirectional layer {layer.name!r}"
    for inner in (fw, bw):
        _check_exportable(inner, where)
    if type(fw.cell) is not type(bw.cell) or fw.go_backwards or not bw.go_backwards:
        raise ExportError(f"{where}: ONNX's bidirectional operator needs the same cell forwards and backwards")
    x = _as_float(graph, inputs[0])
    # ONNX's reverse direction returns its outputs in input order: what Bidirectional's flip gives.
    y = _recurrent_node(graph, [fw, bw], x, layer.name, layer.return_sequences)
    direction_axis = 2 if layer.return_sequences else 1
    if layer.merge_mode == "concat":
        shape = [0, 0, -1] if layer.return_sequences else [0, -1]
        return graph.op("Reshape", [y, graph.const(shape, f"{layer.name}/shape", dtype=np.int64)], name=layer.name)
    reduce = {"sum": "ReduceSum", "ave": "ReduceMean", "mul": "ReduceProd"}[layer.merge_mode]
    if reduce == "ReduceSum":
        return graph.op(reduce, [y, graph.const([direction_axis], f"{layer.name}/axes", dtype=np.int64)], keepdims=0)
    return graph.op(reduce, [y], name=layer.name, axes=[direction_axis], keepdims=0)


# ---------------------------------------------------------------------------- the model walk
def _convert_layer(graph: GraphBuilder, layer, inputs: list[str]) -> str | list[str]:
    """Nodes for one layer call; records the output's dtype and rank for the converters after it."""
    if isinstance(layer, Model):
        return _inline_model(graph, layer, inputs)
    fn = _converter_for(layer)
    if fn is None:
        raise ExportError(
            f"layer {layer.name!r} ({type(layer).__name__}) cannot be exported to ONNX: it has no converter. "
            f"Register one with @myelin.onnx.register_converter({type(layer).__name__}) (see docs/onnx.md)"
        )
    out = fn(graph, layer, inputs)
    in_dtype = graph.dtype_of(inputs[0])
    if isinstance(layer, preprocessing._PreprocessingLayer) or layer.dtype is not None or in_dtype == "string":
        dtype = layer.compute_dtype
    else:
        dtype = in_dtype  # Dense, Flatten, ... keep their input's float type
    shape = layer.output_shape
    graph.info[out] = (dtype, len(shape) if isinstance(shape, tuple) else graph.rank_of(inputs[0]))
    return out


def _inline_model(graph: GraphBuilder, model: Model, inputs: list[str]) -> str | list[str]:
    """Add the nodes of ``model`` reading from ``inputs``; returns its output name(s)."""
    if isinstance(model, Sequential):
        x = inputs[0]
        for layer in model.layers:
            x = _convert_layer(graph, layer, [x])
        return x
    if not model._functional:
        raise _subclassed(model)
    values = {id(sym): name for sym, name in zip(model.inputs, inputs)}
    for layer, input_ids, out_id in model._nodes:
        values[out_id] = _convert_layer(graph, layer, [values[i] for i in input_ids])
    outs = [values[id(o)] for o in model.outputs]
    return outs[0] if model._single_output else outs


def _model_inputs(model: Model) -> list[tuple[str, str, tuple]]:
    """(name, dtype, shape) of each model input."""
    if model._functional:
        return [(t.layer.name, t.dtype, t.shape) for t in model.inputs]
    if isinstance(model, Sequential):
        shape = model.input_shape
        if shape is None:
            raise ExportError(
                f"model {model.name!r} is not built: give it an Input (or input_shape=...) or call it on data before exporting"
            )
        layer = model._input_layer
        dtype = layer.compute_dtype if layer is not None else model.compute_dtype
        return [(layer.name if layer is not None else "input", dtype, tuple(shape))]
    raise _subclassed(model)


def _subclassed(model: Model) -> ExportError:
    return ExportError(
        f"model {model.name!r} ({type(model).__name__}) is a subclassed model: its call() is Python code that "
        "cannot be traced to ONNX. Build it with Sequential([...]) or Model(inputs, outputs) to export it"
    )


def _output_names(model: Model) -> list[str]:
    if model._functional:
        return [o.layer.name for o in model.outputs]
    return [model.layers[-1].name if model.layers else "output"]


def to_onnx(model: Model, opset_version: int | None = None):
    """The ``onnx.ModelProto`` of ``model`` (checked with ``onnx.checker``), without writing a file.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([myelin.Input(shape=(2,)), layers.Dense(1)])
        >>> proto = to_onnx(m)  # doctest: +SKIP
        >>> [i.name for i in proto.graph.input]  # doctest: +SKIP
        ['input_layer']
    """
    if not isinstance(model, Model):
        raise TypeError(f"to_onnx: expected a myelin Model, got {type(model).__name__}")
    opset = OPSET if opset_version is None else int(opset_version)
    if opset < 13:
        raise ValueError(f"ONNX export needs opset 13 or later (Softmax on one axis, Squeeze with axes input), got {opset}")
    _refuse_mixed_precision(model)
    graph = GraphBuilder(model.compute_dtype)
    onnx = graph.onnx
    specs = _model_inputs(model)
    wanted = _output_names(model)
    graph._names.update(wanted)  # the outputs carry the output layers' names; inner values yield
    names = []
    for name, dtype, shape in specs:
        names.append(graph.fresh(name))
        graph.inputs.append(graph.value_info(names[-1], dtype, shape))
        graph.info[names[-1]] = (dtype, len(shape))
    outs = _inline_model(graph, model, names)
    outs = outs if isinstance(outs, list) else [outs]
    out_shapes = model.output_shape if isinstance(model.output_shape, list) else [model.output_shape]
    for out, final, shape in zip(outs, wanted, out_shapes):
        graph.nodes.append(onnx.helper.make_node("Identity", [out], [final], name=graph.fresh(f"{final}/output")))
        graph.outputs.append(graph.value_info(final, graph.dtype_of(out), shape))
    onnx_graph = onnx.helper.make_graph(graph.nodes, model.name, graph.inputs, graph.outputs, graph.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    if graph.uses_ml:
        opsets.append(onnx.helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    from . import __version__  # noqa: PLC0415  (the package is fully imported by now)

    proto = onnx.helper.make_model(onnx_graph, opset_imports=opsets, producer_name="myelin", producer_version=__version__)
    proto.ir_version = onnx.helper.find_min_ir_version_for(opsets)  # readable by the oldest runtime that has the opset
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export(model: Model, filepath, opset_version: int | None = None) -> None:
    """Write ``model`` as an ONNX file at ``filepath`` (atomically); ``Model.export`` calls this.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([myelin.Input(shape=(2,)), layers.Dense(1)])
        >>> export(m, "tiny.onnx")  # doctest: +SKIP
    """
    proto = to_onnx(model, opset_version)
    path = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(proto.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------- issue 17 (c17api): more activations
# Each builds, from ONNX operators, the formula its myelin.activations function computes.
# glu (halves an axis), sparsemax (a sort) and threshold (no defaults) have no ONNX form here.
def _scaled(graph, x, scale: float, name: str) -> str:
    return graph.op("Mul", [x, graph.const(scale, name)])


def _softplus_neg(graph, x):
    return graph.op("Softplus", [graph.op("Neg", [x])])


_MORE_ACTIVATIONS = {
    "relu6": lambda g, x: g.op("Clip", [x, g.const(0.0, "zero"), g.const(6.0, "six")], name="relu6"),
    "mish": lambda g, x: g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x])])], name="mish"),
    "hard_silu": lambda g, x: g.op("Mul", [x, g.op("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)], name="hard_silu"),
    "log_sigmoid": lambda g, x: g.op("Neg", [_softplus_neg(g, x)], name="log_sigmoid"),
    "celu": lambda g, x: g.op("Celu", [x], alpha=1.0),
    "hard_tanh": lambda g, x: g.op("Clip", [x, g.const(-1.0, "minus_one"), g.const(1.0, "one")], name="hard_tanh"),
    "soft_shrink": lambda g, x: g.op("Shrink", [x], lambd=0.5, bias=0.5),
    "hard_shrink": lambda g, x: g.op("Shrink", [x], lambd=0.5, bias=0.0),
    "exponential": lambda g, x: g.op("Exp", [x]),
    "softsign": lambda g, x: g.op("Softsign", [x]),
    # 0 below -1, (x + 1)^2 / 4 between, x above: min(relu(x + 1)^2 / 4, ...) written piecewise with Where
    "sparse_plus": lambda g, x: g.op(
        "Where",
        [
            g.op("Greater", [x, g.const(1.0, "one")]),
            x,
            _scaled(
                g,
                g.op(
                    "Mul",
                    [c := g.op("Clip", [g.op("Add", [x, g.const(1.0, "one")]), g.const(0.0, "zero"), g.const(2.0, "two")]), c],
                ),
                0.25,
                "quarter",
            ),
        ],
        name="sparse_plus",
    ),
    "sparse_sigmoid": lambda g, x: g.op(
        "Clip",
        [_scaled(g, g.op("Add", [x, g.const(1.0, "one")]), 0.5, "half"), g.const(0.0, "zero"), g.const(1.0, "one")],
        name="sparse_sigmoid",
    ),
    "squareplus": lambda g, x: _scaled(
        g, g.op("Add", [x, g.op("Sqrt", [g.op("Add", [g.op("Mul", [x, x]), g.const(4.0, "four")])])]), 0.5, "half"
    ),
    "tanh_shrink": lambda g, x: g.op("Sub", [x, g.op("Tanh", [x])], name="tanh_shrink"),
}


_EXPORTERS["onnx"] = export  # Model.export(format="onnx") calls it

__all__ = [
    "BATCH",
    "CONVERTERS",
    "ML_OPSET",
    "OPSET",
    "ExportError",
    "GraphBuilder",
    "export",
    "register_converter",
    "to_onnx",
]


# ---------------------------------------------------------------------------- image preprocessing layers (c15img)
# Inference only: the random layers pass their input (RandomCrop takes its centred aspect-ratio window and resizes);
# resizing is the same two constant matrices myelin multiplies by (MatMul), nearest a Gather, so the numbers agree.
from .layers.preprocessing import image as _image  # noqa: E402  (this section's own import, kept beside it)
from .ops import image as _image_ops  # noqa: E402


def _image_size(layer) -> tuple[int, int]:
    size = getattr(layer, "_input_size", (None, None))
    if None in size:
        raise ExportError(
            f"layer {layer.name!r} ({type(layer).__name__}) needs a known image height and width to be exported "
            f"(its input has {size}); give the model's Input a fixed image size"
        )
    return size


def _onnx_resize(graph, layer, x: str, size: tuple, crop, pad, interpolation="bilinear", antialias=False, fill=0.0) -> str:
    """Nodes resizing the (batch, ...) image value ``x`` of spatial ``size`` as ``ops.image.Resample`` does."""
    h_axis = 1 if layer.data_format == "channels_last" else 2
    h, w = size
    if crop is not None:
        starts = graph.const([crop[0], crop[2]], f"{layer.name}/starts", dtype=np.int64)
        ends = graph.const([crop[0] + crop[1], crop[2] + crop[3]], f"{layer.name}/ends", dtype=np.int64)
        axes = graph.const([h_axis, h_axis + 1], f"{layer.name}/axes", dtype=np.int64)
        x = graph.op("Slice", [x, starts, ends, axes])
        h, w = crop[1], crop[3]
    if pad[0] or pad[1]:
        pads = [0] * 8
        pads[h_axis], pads[h_axis + 1], pads[4 + h_axis], pads[4 + h_axis + 1] = pad[0], pad[1], pad[0], pad[1]
        pads = graph.const(pads, f"{layer.name}/pads", dtype=np.int64)
        x = graph.op("Pad", [x, pads, graph.const(float(fill), f"{layer.name}/fill")], mode="constant")
        h, w = h + 2 * pad[0], w + 2 * pad[1]
    wh = _image_ops.resize_matrix(h, layer.height, interpolation, antialias)
    ww = _image_ops.resize_matrix(w, layer.width, interpolation, antialias)
    if interpolation == "nearest":
        rows = graph.const(wh.argmax(axis=1), f"{layer.name}/rows", dtype=np.int64)
        cols = graph.const(ww.argmax(axis=1), f"{layer.name}/cols", dtype=np.int64)
        x = graph.op("Gather", [x, rows], axis=h_axis)
        return graph.op("Gather", [x, cols], name=layer.name, axis=h_axis + 1)
    if layer.data_format == "channels_last":
        x = graph.op("Transpose", [x], perm=[0, 3, 1, 2])
    x = graph.op("MatMul", [graph.const(wh, f"{layer.name}/rows"), x])
    x = graph.op("MatMul", [x, graph.const(ww.T, f"{layer.name}/cols")])
    if layer.data_format == "channels_last":
        x = graph.op("Transpose", [x], perm=[0, 2, 3, 1])
    return graph.op("Identity", [x], name=layer.name)


@register_converter(_image.Resizing)
def _resizing(graph, layer, inputs):
    size = _image_size(layer)
    crop, pad = _image_ops.resize_geometry(
        *size, layer.height, layer.width, layer.crop_to_aspect_ratio, layer.pad_to_aspect_ratio
    )
    antialias = layer.antialias and layer.interpolation in ("bilinear", "bicubic")
    return _onnx_resize(
        graph, layer, _as_float(graph, inputs[0]), size, crop, pad, layer.interpolation, antialias, layer.fill_value
    )


@register_converter(_image.CenterCrop)
def _center_crop(graph, layer, inputs):
    h, w = _image_size(layer)
    x = _as_float(graph, inputs[0])
    if h >= layer.height and w >= layer.width:
        crop = ((h - layer.height) // 2, layer.height, (w - layer.width) // 2, layer.width)
        h_axis = 1 if layer.data_format == "channels_last" else 2
        starts = graph.const([crop[0], crop[2]], f"{layer.name}/starts", dtype=np.int64)
        ends = graph.const([crop[0] + crop[1], crop[2] + crop[3]], f"{layer.name}/ends", dtype=np.int64)
        axes = graph.const([h_axis, h_axis + 1], f"{layer.name}/axes", dtype=np.int64)
        return graph.op("Slice", [x, starts, ends, axes], name=layer.name)
    crop, pad = _image_ops.resize_geometry(h, w, layer.height, layer.width, True, False)
    return _onnx_resize(graph, layer, x, (h, w), crop, pad)


@register_converter(_image.RandomCrop)
def _random_crop(graph, layer, inputs):
    size = _image_size(layer)
    crop, pad = _image_ops.resize_geometry(*size, layer.height, layer.width, True, False)
    return _onnx_resize(graph, layer, _as_float(graph, inputs[0]), size, crop, pad)


def _image_identity(graph, layer, inputs):
    return graph.op("Identity", [_as_float(graph, inputs[0])], name=layer.name)  # inference: no augmentation


for _cls in (
    _image.RandomFlip,
    _image.RandomRotation,
    _image.RandomZoom,
    _image.RandomTranslation,
    _image.RandomContrast,
    _image.RandomBrightness,
):
    register_converter(_cls)(_image_identity)


# ---------------------------------------------------------------------------- vision layers (c15layers)
# BatchNormalization -> BatchNormalization (channels moved to axis 1 and back when needed),
# GroupNormalization -> reductions over (batch, groups, -1), padding -> Pad, cropping -> Slice,
# upsampling -> Resize, the noise layers -> Identity (inference), Dot -> MatMul.
from .layers import normalization as _normalization_layers  # noqa: E402
from .layers import regularization as _regularization_layers  # noqa: E402
from .layers import reshaping as _reshaping_layers  # noqa: E402

_INT64_MAX = np.iinfo(np.int64).max


def _ints(graph: GraphBuilder, values, name: str) -> str:
    return graph.const(list(values), name, dtype=np.int64)


def _channels_to_axis1(graph: GraphBuilder, x: str, axis: int, rank: int, name: str) -> tuple[str, list | None]:
    """``x`` with ``axis`` moved to position 1 (a Transpose, unless it is there already) and the inverse permutation."""
    if axis == 1:
        return x, None
    perm = [0, axis] + [i for i in range(1, rank) if i != axis]
    inverse = [perm.index(i) for i in range(rank)]
    return graph.op("Transpose", [x], name=f"{name}/to_channels_first", perm=perm), inverse


def _channels_back(graph: GraphBuilder, y: str, inverse, name: str) -> str:
    return y if inverse is None else graph.op("Transpose", [y], name=name, perm=inverse)


@register_converter(_normalization_layers.BatchNormalization)
def _batch_normalization(graph, layer, inputs):
    rank = graph.rank_of(inputs[0])
    axis = layer.axis % rank
    x, inverse = _channels_to_axis1(graph, inputs[0], axis, rank, layer.name)
    c = layer.moving_mean.shape[0]
    gamma = layer.gamma.numpy() if layer.gamma is not None else np.ones(c)
    beta = layer.beta.numpy() if layer.beta is not None else np.zeros(c)
    parts = [
        graph.const(gamma, f"{layer.name}/gamma"),
        graph.const(beta, f"{layer.name}/beta"),
        graph.const(layer.moving_mean.numpy(), f"{layer.name}/moving_mean"),
        graph.const(layer.moving_variance.numpy(), f"{layer.name}/moving_variance"),
    ]
    y = graph.op("BatchNormalization", [x, *parts], name=f"{layer.name}/bn", epsilon=layer.epsilon)
    return _channels_back(graph, y, inverse, layer.name)


@register_converter(_normalization_layers.GroupNormalization)
def _group_normalization(graph, layer, inputs):
    rank = graph.rank_of(inputs[0])
    axis = layer.axis % rank
    x, inverse = _channels_to_axis1(graph, inputs[0], axis, rank, layer.name)
    shape = graph.op("Shape", [x], name=f"{layer.name}/shape")
    grouped = graph.op("Reshape", [x, _ints(graph, [0, layer.groups, -1], f"{layer.name}/groups")])
    mean = graph.op("ReduceMean", [grouped], name=f"{layer.name}/mean", axes=[2], keepdims=1)
    centred = graph.op("Sub", [grouped, mean])
    var = graph.op("ReduceMean", [graph.op("Mul", [centred, centred])], name=f"{layer.name}/variance", axes=[2], keepdims=1)
    std = graph.op("Sqrt", [graph.op("Add", [var, graph.const(layer.epsilon, f"{layer.name}/epsilon")])])
    y = graph.op("Reshape", [graph.op("Div", [centred, std]), shape])
    per_channel = (-1,) + (1,) * (rank - 2)
    if layer.gamma is not None:
        y = graph.op("Mul", [y, graph.const(layer.gamma.numpy().reshape(per_channel), f"{layer.name}/gamma")])
    if layer.beta is not None:
        y = graph.op("Add", [y, graph.const(layer.beta.numpy().reshape(per_channel), f"{layer.name}/beta")])
    return _channels_back(graph, y, inverse, layer.name)


@register_converter(_reshaping_layers._ZeroPadding)
def _zero_padding(graph, layer, inputs):
    rank = graph.rank_of(inputs[0])
    begins, ends = [0] * rank, [0] * rank
    for a, (lo, hi) in zip(_reshaping_layers._spatial_axes(layer.data_format, layer._rank), layer._pads()):
        begins[a], ends[a] = lo, hi
    return graph.op("Pad", [inputs[0], _ints(graph, begins + ends, f"{layer.name}/pads")], name=layer.name, mode="constant")


@register_converter(_reshaping_layers._Cropping)
def _cropping(graph, layer, inputs):
    axes = list(_reshaping_layers._spatial_axes(layer.data_format, layer._rank))
    starts = [lo for lo, _ in layer._crops()]
    ends = [-hi if hi else _INT64_MAX for _, hi in layer._crops()]
    names = [_ints(graph, v, f"{layer.name}/{what}") for v, what in ((starts, "starts"), (ends, "ends"), (axes, "axes"))]
    return graph.op("Slice", [inputs[0], *names], name=layer.name)


def _resize(graph: GraphBuilder, x: str, scales: list, name: str, linear: bool) -> str:
    roi = graph.const([], f"{name}/roi")
    scale = graph.const(scales, f"{name}/scales", dtype=np.float32)
    if linear:  # half-pixel centres: Keras's resize and torch's align_corners=False
        return graph.op("Resize", [x, roi, scale], name=name, mode="linear", coordinate_transformation_mode="half_pixel")
    return graph.op(
        "Resize", [x, roi, scale], name=name, mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"
    )


@register_converter(_reshaping_layers.UpSampling1D)
def _up_sampling_1d(graph, layer, inputs):
    return _resize(graph, inputs[0], [1.0, float(layer.size), 1.0], layer.name, linear=False)


@register_converter(_reshaping_layers.UpSampling2D)
def _up_sampling_2d(graph, layer, inputs):
    fh, fw = (float(f) for f in layer.size)
    if layer.interpolation == "nearest":
        scales = [1.0, 1.0, fh, fw] if layer.data_format == "channels_first" else [1.0, fh, fw, 1.0]
        return _resize(graph, inputs[0], scales, layer.name, linear=False)
    # linear resizing in onnxruntime wants (N, C, H, W): channels_last goes through a transpose
    x, inverse = _channels_to_axis1(graph, inputs[0], 1 if layer.data_format == "channels_first" else 3, 4, layer.name)
    y = _resize(graph, x, [1.0, 1.0, fh, fw], f"{layer.name}/resize", linear=True)
    return _channels_back(graph, y, inverse, layer.name) if inverse is not None else graph.op("Identity", [y], name=layer.name)


@register_converter(_regularization_layers.GaussianNoise)
@register_converter(_regularization_layers.GaussianDropout)
def _gaussian_noise(graph, layer, inputs):
    return graph.op("Identity", [inputs[0]], name=layer.name)  # inference: the noise layers pass inputs unchanged


@register_converter(merging.Dot)
def _dot(graph, layer, inputs):
    x, y = inputs
    rx, ry = graph.rank_of(x), graph.rank_of(y)
    ax, ay = merging._dot_axes(layer.axes, [(None,) * rx, (None,) * ry])
    out_shape = layer.output_shape
    if layer.normalize:
        x, y = (_l2_normalize(graph, t, a, f"{layer.name}/normalize_{i}") for i, (t, a) in enumerate(((x, ax), (y, ay))))
    x = graph.op("Transpose", [x], perm=[i for i in range(rx) if i != ax] + [ax])
    y = graph.op("Transpose", [y], perm=[0, ay] + [i for i in range(1, ry) if i != ay])
    k = layer._dot_size  # the summed axis's size, known since the layer was called on its inputs
    x = graph.op("Reshape", [x, _ints(graph, [0, -1, k], f"{layer.name}/x_shape")])
    y = graph.op("Reshape", [y, _ints(graph, [0, k, -1], f"{layer.name}/y_shape")])
    prod = graph.op("MatMul", [x, y])
    return graph.op("Reshape", [prod, _ints(graph, [0, *out_shape[1:]], f"{layer.name}/shape")], name=layer.name)


def _l2_normalize(graph: GraphBuilder, x: str, axis: int, name: str) -> str:
    norm = graph.op("ReduceL2", [x], name=f"{name}/norm", axes=[axis], keepdims=1)
    return graph.op("Div", [x, graph.op("Max", [norm, graph.const(1e-7, f"{name}/epsilon")])], name=name)


# ---------------------------------------------------------------------------- convolution and pooling (issue 15)
# ONNX's Conv, ConvTranspose and pooling operators take channels-first values: a channels-last layer is wrapped in
# two Transpose nodes. "same" padding becomes explicit pads where the spatial sizes are known (Keras's rule: the odd
# zero at the end), ONNX's auto_pad SAME_UPPER (the same rule) where they are not.
from .layers import convolutional, pooling  # noqa: E402
from .ops.convolution import conv_transpose_crops, padding_amounts  # noqa: E402


def _to_channels_first(graph: GraphBuilder, layer, x: str, rank: int) -> str:
    if layer.data_format == "channels_first":
        return x
    return graph.op("Transpose", [x], perm=[0, rank + 1, *range(1, rank + 1)])


def _to_layout(graph: GraphBuilder, layer, x: str, rank: int, name: str) -> str:
    if layer.data_format == "channels_first":
        return graph.op("Identity", [x], name=name)
    return graph.op("Transpose", [x], name=name, perm=[0, *range(2, rank + 2), 1])


def _spatial_pads(layer, windows, strides) -> dict:
    """ONNX's ``pads`` (or ``auto_pad``) for the layer's padding, from the shape it was built for."""
    rank = len(windows)
    if layer.padding == "valid":
        return {"pads": [0] * (2 * rank)}
    if layer.padding == "causal":
        return {"pads": [windows[0] - 1, 0]}
    shape = layer._build_input_shape
    sizes = shape[1:-1] if layer.data_format == "channels_last" else shape[2:]
    if any(n is None for n in sizes):
        return {"auto_pad": "SAME_UPPER"}
    amounts = [padding_amounts(n, w, s, "same") for n, w, s in zip(sizes, windows, strides)]
    return {"pads": [lo for lo, _ in amounts] + [hi for _, hi in amounts]}


def _conv_node(graph, layer, x, kernel, bias, groups: int, name: str, strides, dilation) -> str:
    """One ONNX Conv of a channels-first value; ``kernel`` in Keras's (*size, in / groups, out) layout."""
    rank = kernel.ndim - 2
    weight = np.ascontiguousarray(np.transpose(kernel, (rank + 1, rank, *range(rank))))
    windows = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    inputs = [x, graph.const(weight, f"{name}/kernel")]
    if bias is not None:
        inputs.append(graph.const(bias, f"{name}/bias"))
    return graph.op(
        "Conv",
        inputs,
        kernel_shape=list(kernel.shape[:rank]),
        strides=list(strides),
        dilations=list(dilation),
        group=int(groups),
        **_spatial_pads(layer, windows, strides),
    )


def _bias_of(layer):
    return layer.bias.numpy() if layer.use_bias else None


@register_converter(convolutional._Conv)
def _conv(graph, layer, inputs):
    rank = layer._rank
    x = _to_channels_first(graph, layer, inputs[0], rank)
    out = _conv_node(
        graph, layer, x, layer.kernel.numpy(), _bias_of(layer), layer.groups, layer.name, layer.strides, layer.dilation_rate
    )
    out = activation(graph, layer.activation, out, f"{type(layer).__name__} layer {layer.name!r}")
    return _to_layout(graph, layer, out, rank, layer.name)


@register_converter(convolutional._DepthwiseConv)
def _depthwise_conv(graph, layer, inputs):
    rank, c = layer._rank, layer._channels
    x = _to_channels_first(graph, layer, inputs[0], rank)
    kernel = layer.kernel.numpy().reshape(*layer.kernel_size, 1, c * layer.depth_multiplier)
    out = _conv_node(graph, layer, x, kernel, _bias_of(layer), c, layer.name, layer.strides, layer.dilation_rate)
    out = activation(graph, layer.activation, out, f"{type(layer).__name__} layer {layer.name!r}")
    return _to_layout(graph, layer, out, rank, layer.name)


@register_converter(convolutional._SeparableConv)
def _separable_conv(graph, layer, inputs):
    rank, c = layer._rank, layer._channels
    x = _to_channels_first(graph, layer, inputs[0], rank)
    depth = layer.depthwise_kernel.numpy().reshape(*layer.kernel_size, 1, c * layer.depth_multiplier)
    out = _conv_node(graph, layer, x, depth, None, c, f"{layer.name}/depthwise", layer.strides, layer.dilation_rate)
    ones = (1,) * rank
    pointwise = graph.op(
        "Conv",
        [
            out,
            graph.const(
                np.ascontiguousarray(np.transpose(layer.pointwise_kernel.numpy(), (rank + 1, rank, *range(rank)))),
                f"{layer.name}/pointwise",
            ),
        ]
        + ([graph.const(layer.bias.numpy(), f"{layer.name}/bias")] if layer.use_bias else []),
        kernel_shape=list(ones),
        strides=list(ones),
        pads=[0] * (2 * rank),
    )
    out = activation(graph, layer.activation, pointwise, f"{type(layer).__name__} layer {layer.name!r}")
    return _to_layout(graph, layer, out, rank, layer.name)


@register_converter(convolutional._ConvTranspose)
def _conv_transpose(graph, layer, inputs):
    rank = layer._rank
    x = _to_channels_first(graph, layer, inputs[0], rank)
    kernel = layer.kernel.numpy()  # (*size, filters, channels) -> ONNX's (channels, filters, *size)
    weight = np.ascontiguousarray(np.transpose(kernel, (rank + 1, rank, *range(rank))))
    outs = layer.output_padding or (None,) * rank
    crops = [
        conv_transpose_crops(k, s, layer.padding, o, d)
        for k, s, o, d in zip(layer.kernel_size, layer.strides, outs, layer.dilation_rate)
    ]
    # Keras's crops from the full result: a positive amount is an ONNX pad, a negative one (always at the end) extra output
    node_inputs = [x, graph.const(weight, f"{layer.name}/kernel")]
    if layer.use_bias:
        node_inputs.append(graph.const(layer.bias.numpy(), f"{layer.name}/bias"))
    out = graph.op(
        "ConvTranspose",
        node_inputs,
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.strides),
        dilations=list(layer.dilation_rate),
        pads=[lo for lo, _ in crops] + [max(hi, 0) for _, hi in crops],
        output_padding=[max(-hi, 0) for _, hi in crops],
    )
    out = activation(graph, layer.activation, out, f"{type(layer).__name__} layer {layer.name!r}")
    return _to_layout(graph, layer, out, rank, layer.name)


@register_converter(pooling._Pooling)
def _pool(graph, layer, inputs):
    rank = layer._rank
    x = _to_channels_first(graph, layer, inputs[0], rank)
    attrs = {
        "kernel_shape": list(layer.pool_size),
        "strides": list(layer.strides),
        **_spatial_pads(layer, layer.pool_size, layer.strides),
    }
    if layer._mode == "max":
        out = graph.op("MaxPool", [x], **attrs)
    else:
        out = graph.op("AveragePool", [x], count_include_pad=0, **attrs)  # the padding is not counted, as in Keras
    return _to_layout(graph, layer, out, rank, layer.name)


@register_converter(pooling._GlobalPooling)
def _global_pool(graph, layer, inputs):
    rank = layer._rank
    x = _to_channels_first(graph, layer, inputs[0], rank)
    out = graph.op("GlobalMaxPool" if layer._mode == "max" else "GlobalAveragePool", [x])  # (batch, channels, 1, ...)
    if not layer.keepdims:
        return graph.op("Flatten", [out], name=layer.name, axis=1)
    return _to_layout(graph, layer, out, rank, layer.name)


# ---------------------------------------------------------------------------- attention and normalization (issue 16)
# Inference graphs of the normalization and attention layers from the same weights and formulas.
# Reductions use ReduceSum with an axes input (the same node from opset 13 on). Masks never reach
# an exported graph (Embedding(mask_zero=True) and Masking refuse export), so the softmax is plain
# except for a sliding window, which needs the sequence lengths the layer was built for.
from .layers import attention as _attention  # noqa: E402  (this section registers its converters on import)
from .layers import normalization as _normalization  # noqa: E402


def _reduce_mean(graph: GraphBuilder, x: str, axes: tuple, count: int, name: str) -> str:
    total = graph.op("ReduceSum", [x, graph.const(list(axes), f"{name}/axes", dtype=np.int64)], keepdims=1)
    return graph.op("Div", [total, graph.const(float(count), f"{name}/count")])


def _norm_axes_of(layer, rank: int) -> tuple:
    return tuple(sorted(a % rank for a in (layer.axis if isinstance(layer.axis, list) else [layer.axis])))


def _param(graph: GraphBuilder, weight, axes: tuple, rank: int, name: str) -> str:
    shape = [1] * rank
    for a, n in zip(axes, weight.shape):
        shape[a] = n
    return graph.const(weight.numpy().reshape(shape), name)


@register_converter(_normalization.LayerNormalization)
def _layer_normalization(graph, layer, inputs):
    x, rank = inputs[0], graph.rank_of(inputs[0])
    axes = _norm_axes_of(layer, rank)
    count = math.prod(layer.gamma.shape if layer.gamma is not None else [layer._build_input_shape[a] for a in axes])
    eps = graph.const(layer.epsilon, f"{layer.name}/epsilon")
    mean = _reduce_mean(graph, x, axes, count, f"{layer.name}/mean")
    xc = graph.op("Sub", [x, mean])
    var = _reduce_mean(graph, graph.op("Mul", [xc, xc]), axes, count, f"{layer.name}/var")
    std = graph.op("Sqrt", [graph.op("Add", [var, eps])])
    y = graph.op("Div", [x if layer.rms_scaling else xc, std])
    if layer.gamma is not None:
        y = graph.op("Mul", [y, _param(graph, layer.gamma, axes, rank, f"{layer.name}/gamma")])
    if layer.beta is not None:
        y = graph.op("Add", [y, _param(graph, layer.beta, axes, rank, f"{layer.name}/beta")])
    return graph.op("Identity", [y], name=layer.name)


@register_converter(_normalization.RMSNormalization)
def _rms_normalization(graph, layer, inputs):
    x, rank = inputs[0], graph.rank_of(inputs[0])
    axes = _norm_axes_of(layer, rank)
    ms = _reduce_mean(graph, graph.op("Mul", [x, x]), axes, layer.scale.size, f"{layer.name}/ms")
    rms = graph.op("Sqrt", [graph.op("Add", [ms, graph.const(layer.epsilon, f"{layer.name}/epsilon")])])
    y = graph.op("Div", [x, rms])
    return graph.op("Mul", [y, _param(graph, layer.scale, axes, rank, f"{layer.name}/scale")], name=layer.name)


@register_converter(_normalization.UnitNormalization)
def _unit_normalization(graph, layer, inputs):
    x, rank = inputs[0], graph.rank_of(inputs[0])
    axes = _norm_axes_of(layer, rank)
    sq = graph.op(
        "ReduceSum", [graph.op("Mul", [x, x]), graph.const(list(axes), f"{layer.name}/axes", dtype=np.int64)], keepdims=1
    )
    norm = graph.op("Max", [graph.op("Sqrt", [sq]), graph.const(1e-12, f"{layer.name}/epsilon")])
    return graph.op("Div", [x, norm], name=layer.name)


def _i64(graph: GraphBuilder, values, name: str) -> str:
    return graph.const(list(values), name, dtype=np.int64)


def _heads_projection(graph, x: str, kernel, bias, name: str) -> str:
    """(batch, steps, dim) @ (dim, heads, size) (+ bias): (batch, steps, heads, size)."""
    dim, heads, size = kernel.shape
    y = graph.op("MatMul", [x, graph.const(kernel.numpy().reshape(dim, heads * size), f"{name}/kernel")])
    if bias is not None:
        y = graph.op("Add", [y, graph.const(bias.numpy().reshape(heads * size), f"{name}/bias")])
    return graph.op("Reshape", [y, _i64(graph, [0, 0, heads, size], f"{name}/shape")])


def _attention_softmax(graph, layer, scores: str, name: str) -> str:
    window = getattr(layer, "sliding_window", None)
    if window is None:
        return graph.op("Softmax", [scores], axis=-1)
    shapes = layer._build_input_shape
    t, s = shapes[0][1], shapes[1][1]
    if t is None or s is None:
        raise ExportError(
            f"{type(layer).__name__} layer {layer.name!r}: a sliding_window needs the sequence lengths in the exported "
            "graph; build the model with Input(shape=(steps, features)) of known steps"
        )
    i, j = np.arange(t)[:, None], np.arange(s)[None, :]
    band = np.abs(i - j) < window
    allowed = graph.const(band, f"{name}/band", dtype=bool)
    filled = graph.op("Where", [allowed, scores, graph.const(-1e9, f"{name}/masked")])
    probs = graph.op("Softmax", [filled], axis=-1)
    return graph.op("Mul", [probs, graph.const(band.astype(graph.float_dtype), f"{name}/keep")])


def _multi_head(graph, layer, inputs, heads: int, groups: int, scale: float, out_shape: tuple) -> str:
    name = layer.name
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) > 2 else value
    q = _heads_projection(graph, query, layer._query_kernel, layer._query_bias, f"{name}/query")
    k = _heads_projection(graph, key, layer._key_kernel, layer._key_bias, f"{name}/key")
    v = _heads_projection(graph, value, layer._value_kernel, layer._value_bias, f"{name}/value")
    if groups > 1:  # key/value head h // groups for query head h
        index = _i64(graph, [h // groups for h in range(heads)], f"{name}/kv_heads")
        k = graph.op("Gather", [k, index], axis=2)
        v = graph.op("Gather", [v, index], axis=2)
    q = graph.op("Mul", [q, graph.const(scale, f"{name}/scale")])
    qh = graph.op("Transpose", [q], perm=[0, 2, 1, 3])
    kt = graph.op("Transpose", [k], perm=[0, 2, 3, 1])
    vh = graph.op("Transpose", [v], perm=[0, 2, 1, 3])
    probs = _attention_softmax(graph, layer, graph.op("MatMul", [qh, kt]), name)
    o = graph.op("Transpose", [graph.op("MatMul", [probs, vh])], perm=[0, 2, 1, 3])  # (batch, target, heads, size)
    if layer.use_gate:
        gate = _heads_projection(graph, query, layer._gate_kernel, layer._gate_bias, f"{name}/gate")
        o = graph.op("Mul", [o, graph.op("Sigmoid", [gate])])
    size = layer._output_kernel.shape[1]
    flat = graph.op("Reshape", [o, _i64(graph, [0, 0, heads * size], f"{name}/merge")])
    wo = layer._output_kernel.numpy().reshape(heads * size, math.prod(out_shape))
    y = graph.op("MatMul", [flat, graph.const(wo, f"{name}/attention_output/kernel")])
    if layer._output_bias is not None:
        y = graph.op("Add", [y, graph.const(layer._output_bias.numpy().reshape(-1), f"{name}/attention_output/bias")])
    if len(out_shape) > 1:
        y = graph.op("Reshape", [y, _i64(graph, [0, 0, *out_shape], f"{name}/output_shape")])
    return graph.op("Identity", [y], name=name)


@register_converter(_attention.MultiHeadAttention)
def _multi_head_attention(graph, layer, inputs):
    return _multi_head(graph, layer, inputs, layer.num_heads, 1, 1.0 / math.sqrt(layer.key_dim), layer._out_shape)


@register_converter(_attention.GroupedQueryAttention)
def _grouped_query_attention(graph, layer, inputs):
    scale = 1.0 / math.sqrt(layer.head_dim)
    return _multi_head(graph, layer, inputs, layer.num_query_heads, layer.num_repeats, scale, (layer.feature_dim,))


def _luong_scores(graph, layer, q: str, k: str, additive: bool) -> str:
    name = layer.name
    rank = graph.rank_of(q)
    if not additive and layer.score_mode == "dot":
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        scores = graph.op("MatMul", [q, graph.op("Transpose", [k], perm=perm)])
        if layer.scale is not None:
            scores = graph.op("Mul", [scores, graph.const(layer.scale.numpy(), f"{name}/scale")])
        return scores
    qe = graph.op("Unsqueeze", [q, _i64(graph, [rank - 1], f"{name}/q_axis")])  # (..., Tq, 1, dim)
    ke = graph.op("Unsqueeze", [k, _i64(graph, [rank - 2], f"{name}/k_axis")])  # (..., 1, Tv, dim)
    s = graph.op("Add", [qe, ke])
    if additive:
        t = graph.op("Tanh", [s])
        if layer.scale is not None:
            t = graph.op("Mul", [t, graph.const(layer.scale.numpy(), f"{name}/scale")])
    else:
        if layer.scale is not None:
            s = graph.op("Mul", [s, graph.const(layer.scale.numpy(), f"{name}/scale")])
        t = graph.op("Tanh", [s])
    scores = graph.op("ReduceSum", [t, _i64(graph, [rank], f"{name}/features")], keepdims=0)
    if additive:
        return scores
    return graph.op("Mul", [scores, graph.const(layer.concat_score_weight.numpy(), f"{name}/concat_score_weight")])


@register_converter(_attention.Attention)
def _luong_attention(graph, layer, inputs):
    q, v = inputs[0], inputs[1]
    k = inputs[2] if len(inputs) > 2 else v
    scores = _luong_scores(graph, layer, q, k, isinstance(layer, _attention.AdditiveAttention))
    probs = graph.op("Softmax", [scores], axis=-1)
    return graph.op("MatMul", [probs, v], name=layer.name)
