"""``Model``: a trainable network, functional ``Model(inputs, outputs)`` or a subclass with ``call``.

The model and its graph; the training half (``compile``, ``fit``, ...) is inherited from
:class:`myelin.trainers.Trainer`, as Keras 3's ``Model`` inherits its ``Trainer``.

Example:
    >>> from myelin import layers
    >>> x = layers.Input(shape=(2,))
    >>> Model(x, layers.Dense(1)(x)).output_shape
    (None, 1)
"""

from __future__ import annotations

import importlib

import numpy as np

from .. import explain as explain_module
from .. import saving
from ..layers.base import REGISTRY as LAYERS
from ..layers.base import Layer, _shape_str
from ..tensor import Tensor, no_grad
from ..trainers.trainer import Trainer
from . import functional, summary_utils

# format -> function(model, filepath, opset_version) writing the file; myelin.onnx (level 6,
# imported by the package) registers "onnx", so the model never imports its exporter.
_EXPORTERS: dict = {}
# The module of myelin's own that registers each format's writer, imported on the first export.
_EXPORTER_MODULES = {"onnx": "myelin.onnx"}


class Model(Trainer, Layer):
    """A trainable network: a functional graph ``Model(inputs, outputs)`` or a subclass with ``call``.

    Example:
        >>> from myelin import layers
        >>> inputs = layers.Input(shape=(2,))
        >>> model = Model(inputs, layers.Dense(1)(inputs), name="tiny")
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.zeros((8, 2)), np.zeros(8), epochs=2, verbose=0)
        >>> len(history.history["loss"])
        2
    """

    _casts_outputs = False  # a model's outputs are its last layers' (a float32 softmax stays float32)

    @property
    def _convert_input_args(self) -> bool:
        return not self._functional  # a functional model's layers cast their own inputs (Keras's)

    def __init__(self, inputs=None, outputs=None, name: str | None = None, trainable: bool = True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._init_trainer()
        self._functional = False
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError(f"Model {self.name!r}: give both inputs and outputs for a functional model")
            self._init_functional(inputs, outputs)

    def _init_functional(self, inputs, outputs) -> None:
        functional.init_functional(self, inputs, outputs)

    @property
    def layers(self) -> list[Layer]:
        """The model's layers: a functional model's in graph order (inputs first), a subclass's as assigned."""
        if self._functional:
            return list(self._graph_layers)
        return list(self._sublayers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by position in ``layers``.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Dense(2, name="hidden")])
            >>> m.get_layer("hidden").name
            'hidden'
        """
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"Model {self.name!r} has no layer named {name!r}; its layers are {[lyr.name for lyr in self.layers]}"
        )

    @property
    def input_shape(self):
        if self._functional:
            return self.inputs[0].shape if self._single_input else [t.shape for t in self.inputs]
        return self._build_input_shape

    def call(self, inputs, training: bool = False):
        if not self._functional:
            raise NotImplementedError(
                f"Model {self.name!r}: a subclass of Model must define call(self, inputs, training=False); "
                "or build a model with Model(inputs, outputs) or Sequential([...])"
            )
        xs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if len(xs) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} input(s), got {len(xs)}")
        values = {id(sym): x for sym, x in zip(self.inputs, xs)}
        for layer, inputs_ids, out_id in self._nodes:
            args = [values[i] for i in inputs_ids]
            values[out_id] = layer(args[0] if len(args) == 1 else args, training=training)
        outs = [values[id(o)] for o in self.outputs]
        return outs[0] if self._single_output else outs

    def build(self, input_shape) -> None:
        """Create every weight for inputs of ``input_shape`` (batch axis None).

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Dense(4)]); m.build((None, 3)); m.count_params()
            16
        """
        if self._functional or self.built:
            return
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        probes = [
            Tensor(np.zeros((1,) + tuple(1 if d is None else d for d in s[1:]), dtype=self.compute_dtype)) for s in shapes
        ]
        with no_grad():
            out = self.call(probes[0] if len(probes) == 1 else probes, training=False)
        outs = out if isinstance(out, (list, tuple)) else [out]
        shapes_out = [(None,) + tuple(o.shape[1:]) for o in outs]
        self.output_shape = shapes_out[0] if len(shapes_out) == 1 else shapes_out

    _builds_from_every_input = True

    def _maybe_build(self, shape) -> None:
        """Build from one input's shape, or from the list of shapes of several inputs.

        A subclassed model whose ``call`` takes a list of inputs records the list, so that
        its inputs are checked and the model is rebuilt from a saved file input by input.
        """
        several = isinstance(shape, list) and len(shape) > 1
        if isinstance(self._build_input_shape, list):  # built on several inputs: the count must match
            given = len(shape) if isinstance(shape, list) else 1
            if given != len(self._build_input_shape):
                raise ValueError(f"Model {self.name!r} expects {len(self._build_input_shape)} inputs, got {given}")
            return
        if not several or self.built:  # one input, or a model built on one shape: the first input is checked
            super()._maybe_build(tuple(shape[0]) if isinstance(shape, list) else shape)
            return
        shapes = [(None,) + tuple(s[1:]) for s in shape]
        self.build(shapes)
        self.built = True
        self._build_input_shape = shapes

    def _ensure_built(self, xs: list) -> None:
        if self.built:
            self._check_model_input(xs)
            return
        shapes = [(None,) + tuple(a.shape[1:]) for a in xs]
        self._maybe_build(shapes[0] if len(xs) == 1 else shapes)

    def _check_model_input(self, xs: list) -> None:
        expected = self.input_shape if self._functional else self._build_input_shape
        if expected is None:
            return
        expected = expected if isinstance(expected, list) else [expected]
        if len(expected) != len(xs):
            raise ValueError(f"Model {self.name!r} expects {len(expected)} input array(s), got {len(xs)}")
        for i, (exp, arr) in enumerate(zip(expected, xs)):
            got = arr.shape
            if len(exp) != len(got) or any(e is not None and e != g for e, g in zip(exp[1:], got[1:])):
                which = "x" if len(xs) == 1 else f"x[{i}]"
                raise ValueError(
                    f"Model {self.name!r} expects input of shape {_shape_str(exp)} (batch first), but {which} has "
                    f"shape {got}: each sample must have shape {tuple(exp[1:])}"
                )

    def _output_names(self, n: int) -> list[str]:
        if self._functional:
            return [o.layer.name for o in self.outputs]
        return [f"output_{i + 1}" for i in range(n)] if n > 1 else ["output"]

    def _input_specs(self) -> list[tuple] | None:
        """(declared dtype or None, shape, name) per model input, when the model declares its inputs."""
        if self._functional:
            return [(t.layer.dtype, t.shape, t.layer.name) for t in self.inputs]
        layer = getattr(self, "_input_layer", None)
        if layer is not None:
            return [(layer.dtype, (None,) + tuple(layer.batch_shape[1:]), layer.name)]
        return None

    def _inputs_by_name(self, x, name: str):
        """A dict keyed by input names (or a DataFrame holding them as columns) as a list in input order."""
        names = [t.layer.name for t in self.inputs]
        if hasattr(x, "columns") and hasattr(x, "to_numpy") and len(names) > 1 and set(names) <= set(x.columns):
            return [x[n] for n in names]
        if isinstance(x, dict) and set(names) <= set(x):
            return [x[n] for n in names]
        if isinstance(x, dict) and len(x) == len(names) and set(x) != set(names):
            missing = [n for n in names if n not in x]
            raise ValueError(f"Model {self.name!r}: {name} has no entry for input(s) {missing}; the inputs are {names}")
        return x

    def _output_label(self, i: int) -> str:
        layer = self._output_layer(i)
        return f"output layer {layer.name!r}" if layer is not None else f"output {i}"

    def _output_layer(self, i: int):
        if self._functional:
            return self.outputs[i].layer
        return None  # Sequential knows its last layer

    def _graph_replayable(self) -> bool:
        """Whether this model runs nothing but its graph (a functional ``Model`` itself, not a subclass)."""
        return type(self) is Model and self._functional

    # ------------------------------------------------------------------ config and files
    def get_config(self) -> dict:
        """The constructor arguments; for a functional model, its layers and the graph that connects them.

        Nodes name the layers they call and the (layer, call) pairs they read, so shared
        layers and several inputs and outputs round-trip. A subclassed model returns
        ``name`` and ``trainable``; override ``get_config`` to add your constructor's arguments.

        Example:
            >>> from myelin import layers
            >>> x = layers.Input(shape=(2,), name="x")
            >>> m = Model(x, layers.Dense(1, name="y")(x))
            >>> m.get_config()["nodes"]
            [{'layer': 'y', 'inputs': [['x', 0]]}]
        """
        if not self._functional:
            return super().get_config()
        names = [layer.name for layer in self._graph_layers]
        if len(set(names)) != len(names):
            raise ValueError(f"Model {self.name!r}: layer names must be unique to save the model; they are {names}")
        refs = {id(t): [t.layer.name, 0] for t in self.inputs}
        calls: dict[int, int] = {}
        nodes = []
        for layer, input_ids, out_id in self._nodes:
            k = calls.get(id(layer), 0)
            calls[id(layer)] = k + 1
            refs[out_id] = [layer.name, k]
            nodes.append({"layer": layer.name, "inputs": [refs[i] for i in input_ids]})
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [saving.serialize_layer(layer) for layer in self._graph_layers],
            "nodes": nodes,
            "inputs": [refs[id(t)] for t in self.inputs],
            "outputs": [refs[id(t)] for t in self.outputs],
            "single_input": self._single_input,
            "single_output": self._single_output,
        }

    @classmethod
    def from_config(cls, config: dict) -> Model:
        """Rebuild from :meth:`get_config`: a functional graph, or a subclass from its constructor arguments.

        Example:
            >>> from myelin import layers
            >>> x = layers.Input(shape=(2,))
            >>> m = Model(x, layers.Dense(1)(x))
            >>> Model.from_config(m.get_config()).output_shape
            (None, 1)
        """
        if "nodes" not in config:
            try:
                return cls(**config)
            except TypeError:
                if set(config) - {"name", "trainable", "dtype"}:
                    raise
                model = cls()  # a subclass whose constructor takes no arguments (the usual case)
                model.name = config.get("name", model.name)
                model.trainable = config.get("trainable", True)
                return model
        return functional._functional_from_config(cls, config)

    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save the whole model to one ``.myelin`` file, atomically (see ``myelin.saving``).

        Architecture, compile settings, weights and the optimizer's state: the model loaded
        by ``myelin.models.load_model`` predicts identically and continues training exactly.
        A failed or interrupted save leaves any previous file at ``filepath`` intact.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.save("model.myelin")  # doctest: +SKIP
        """
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def to_json(self, **kwargs) -> str:
        """The architecture (no weights) as a JSON string; ``myelin.models.model_from_json`` reads it.

        ``kwargs`` go to ``json.dumps`` (``indent=2``, ...), as in Keras.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential, model_from_json
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> type(model_from_json(m.to_json())).__name__
            'Sequential'
        """
        import json  # noqa: PLC0415

        return json.dumps(saving.serialize_layer(self), **kwargs)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights only, atomically; ``load_weights`` matches them by layer order and shape.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
            >>> m.save_weights("model.weights.myelin")  # doctest: +SKIP
        """
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights from any myelin file, matched by layer order and shape (clear error on mismatch).

        Example:
            >>> m.load_weights("model.weights.myelin")  # doctest: +SKIP
        """
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    # ------------------------------------------------------------------ export
    def export(self, filepath, format: str = "onnx", verbose: bool = False, input_signature=None, **kwargs) -> None:  # noqa: A002
        """Write the model for serving; ``format="onnx"`` (Keras 3's call) is what myelin writes.

        The ONNX file (opset 17; ``ai.onnx.ml`` 3 for lookup layers) takes the model's inputs
        by name with a dynamic ``"batch"`` first axis; ``opset_version=`` picks another opset
        (13 or later). ``input_signature`` is not needed (the model knows its input shapes)
        and must be None. Needs ``pip install 'myelin[onnx]'``; see :mod:`myelin.onnx`.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
            >>> m.export("model.onnx", format="onnx")  # doctest: +SKIP
        """
        if format != "onnx":
            raise ValueError(f"Model {self.name!r}: export format {format!r} is not available; myelin exports format='onnx'")
        if input_signature is not None:
            raise ValueError(f"Model {self.name!r}: export() takes its input shapes from the model; pass input_signature=None")
        unknown = set(kwargs) - {"opset_version"}
        if unknown:
            raise TypeError(f"Model {self.name!r}: export() got unexpected argument(s) {', '.join(sorted(unknown))}")
        if "onnx" not in _EXPORTERS:
            importlib.import_module(_EXPORTER_MODULES["onnx"])  # level 6: registers its writer here
        _EXPORTERS["onnx"](self, filepath, opset_version=kwargs.get("opset_version"))
        if verbose:
            print(f"Saved the model as ONNX at {filepath}")

    # ------------------------------------------------------------------ explain
    def explain(self, x, y=None, class_names=None, loss=None, check_finite: bool = True) -> explain_module.Explanation:
        """Walk one sample (or a small batch) through the network, layer by layer; see :mod:`myelin.explain`.

        Returns an ``Explanation``: ``print()`` it for the weighted sums, activations and class
        probabilities of each layer (and, with ``y``, the loss and every gradient of the
        backward pass); index it by layer name, or call ``to_dict()``, for the arrays.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(3, activation="softmax", name="out")])
            >>> m.explain([1.0, 2.0], class_names=["a", "b", "c"])["out"]["output"].shape
            (1, 3)
        """
        return explain_module.explain(self, x, y=y, class_names=class_names, loss=loss, check_finite=check_finite)

    # ------------------------------------------------------------------ summary
    def summary(
        self,
        line_length: int | None = None,
        positions=None,
        print_fn=None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range=None,
    ) -> None:
        """Print a table of the layers (name and type, output shape, parameter count) and the totals.

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(4,)), layers.Dense(2)])
            >>> m.summary(print_fn=lambda line: None)
        """
        print_fn = print_fn or print
        rows = summary_utils._summary_rows(self, expand_nested, "")
        if layer_range is not None:
            names = [r[0].split(" (")[0].strip() for r in rows]
            start, stop = names.index(layer_range[0]), names.index(layer_range[1]) + 1
            rows = rows[start:stop]
        headers = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
        if self._functional and not self._is_chain():
            headers.insert(3, "Connected to")
            conn = self._connections()
            rows = [r[:3] + (conn.get(r[0], ""),) + r[3:] for r in rows]
        line_length = line_length or (98 if len(headers) > 3 else 77)
        positions = positions or ([0.34, 0.62, 0.78, 1.0] if len(headers) == 4 else [0.45, 0.75, 1.0])
        if len(positions) < len(headers):
            positions = list(positions) + [1.0] * (len(headers) - len(positions))
        widths, prev = [], 0
        for p in positions[: len(headers)]:
            edge = int(p * line_length) if p <= 1 else int(p)
            widths.append(max(edge - prev - 3, 8))
            prev = edge
        right = {2}

        def fmt(cells):
            parts = []
            for i, (cell, w) in enumerate(zip(cells, widths)):
                text = str(cell)
                text = text if len(text) <= w else text[: w - 1] + "…"
                parts.append(text.rjust(w) if i in right else text.ljust(w))
            return parts

        def border(left, mid, r, fill):
            return left + mid.join(fill * (w + 2) for w in widths) + r

        print_fn(f'Model: "{self.name}"')
        print_fn(border("┏", "┳", "┓", "━"))
        print_fn("┃ " + " ┃ ".join(fmt(headers)) + " ┃")
        print_fn(border("┡", "╇", "┩", "━"))
        for i, row in enumerate(rows):
            print_fn("│ " + " │ ".join(fmt(row)) + " │")
            print_fn(border("├", "┼", "┤", "─") if i < len(rows) - 1 else border("└", "┴", "┘", "─"))
        if not rows:
            print_fn(border("└", "┴", "┘", "─"))
        for label, count, size in self._param_totals():
            print_fn(f" {label}: {count:,} ({size})")

    def _param_totals(self) -> list[tuple[str, int, str]]:
        """(label, count, size) for the summary's closing lines."""
        total = self.count_params()
        trainable = int(sum(w.size for w in self.trainable_weights))
        itemsize = np.dtype(self.compute_dtype).itemsize
        lines = [
            ("Total params", total, summary_utils._bytes(total * itemsize)),
            ("Trainable params", trainable, summary_utils._bytes(trainable * itemsize)),
            ("Non-trainable params", total - trainable, summary_utils._bytes((total - trainable) * itemsize)),
        ]
        if self.optimizer is not None and self.optimizer.built:
            state = self.optimizer.get_state()
            count = int(sum(v.size for k, v in state.items() if k != "iterations")) + 2  # + iterations, learning rate
            lines.append(("Optimizer params", count, summary_utils._bytes(count * itemsize)))
        return lines

    def _is_chain(self) -> bool:
        return (
            len(self.inputs) == 1
            and all(len(ins) == 1 for _, ins, _ in self._nodes)
            and len({i for _, ins, _ in self._nodes for i in ins}) == len(self._nodes)
        )

    def _connections(self) -> dict:
        producer = {id(t): t.layer.name for t in self.inputs}
        for layer, _, out_id in self._nodes:
            producer[out_id] = layer.name
        out = {}
        for layer, ins, _ in self._nodes:
            out[f"{layer.name} ({type(layer).__name__})"] = ", ".join(producer[i] for i in ins)
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"

    def _repr_html_(self) -> str:
        """Jupyter's view of a model: ``summary()`` as an HTML table (connections for a branching graph).

        Example:
            >>> from myelin import layers
            >>> from myelin.models import Sequential
            >>> m = Sequential([layers.Input(shape=(4,)), layers.Dense(2, name="out")])
            >>> "<td>out (Dense)</td><td>(None, 2)</td><td style='text-align:right'>10</td>" in m._repr_html_()
            True
        """
        import html  # noqa: PLC0415  (only for notebooks)

        rows = summary_utils._summary_rows(self, False, "")
        headers = ["Layer (type)", "Output Shape", "Param #"]
        cells = [r[:3] for r in rows]
        if self._functional and not self._is_chain():
            headers.append("Connected to")
            conn = self._connections()
            cells = [r[:3] + (conn.get(r[0], ""),) for r in rows]
        right = " style='text-align:right'"
        head = "".join(f"<th{right if i == 2 else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers))
        body = "".join(
            "<tr>" + "".join(f"<td{right if i == 2 else ''}>{html.escape(str(c))}</td>" for i, c in enumerate(row)) + "</tr>"
            for row in cells
        )
        totals = "".join(f"<li>{label}: {count:,} ({size})</li>" for label, count, size in self._param_totals())
        return (
            f"<div><b>Model: {html.escape(self.name)}</b>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<ul style='list-style:none;padding-left:0'>{totals}</ul></div>"
        )


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True) -> Model:  # noqa: A002  (Keras's name)
    """Load a model saved by ``model.save`` (Keras's ``keras.models.load_model``); see ``myelin.saving``.

    Safe on files from anyone: names resolve only through myelin's registries; a malformed
    file raises ``myelin.saving.ModelFileError``.

    Example:
        >>> model = load_model("classifier.myelin")  # doctest: +SKIP
    """
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


# Saved files name a model's class like any layer's.
LAYERS.add("Functional", Model, aliases=("Model",))
