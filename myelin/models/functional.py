"""A functional model's graph: built from symbolic tensors, and rebuilt from its config.

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> x = layers.Input(shape=(2,), name="x")
    >>> m = myelin.Model(x, layers.Dense(1, name="y")(x))
    >>> [layer.name for layer, _, _ in m._nodes]
    ['y']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import saving
from ..layers.base import InputLayer, Layer, SymbolicTensor

if TYPE_CHECKING:
    from .model import Model


def init_functional(model, inputs, outputs) -> None:
    """Make ``model`` the graph from ``inputs`` to ``outputs``: nodes in topological order."""
    model._single_input = not isinstance(inputs, (list, tuple, dict))
    model._single_output = not isinstance(outputs, (list, tuple, dict))
    model.inputs = list(inputs.values() if isinstance(inputs, dict) else inputs) if not model._single_input else [inputs]
    model.outputs = list(outputs.values() if isinstance(outputs, dict) else outputs) if not model._single_output else [outputs]
    for t in model.inputs + model.outputs:
        if not isinstance(t, SymbolicTensor):
            raise TypeError(
                f"Model {model.name!r}: inputs and outputs must come from myelin.Input(...) and layers called on it, got {t!r}"
            )
    for t in model.inputs:
        if not isinstance(t.layer, InputLayer):
            raise ValueError(f"Model {model.name!r}: every input must be made by myelin.Input(...), got {t!r}")
    # Nodes in topological order: each layer call, after the calls that feed it.
    nodes, seen = [], {id(t) for t in model.inputs}
    stack = [(t, False) for t in reversed(model.outputs)]
    while stack:
        t, expanded = stack.pop()
        if id(t) in seen and not expanded:
            continue
        if expanded:
            nodes.append((t.layer, [id(i) for i in t.inputs], id(t)))
            seen.add(id(t))
            continue
        if t.layer is None or isinstance(t.layer, InputLayer):
            raise ValueError(f"Model {model.name!r}: output {t!r} depends on an input that is not among the model's inputs")
        stack.append((t, True))
        stack.extend((i, False) for i in reversed(t.inputs) if id(i) not in seen)
    model._nodes = nodes
    ordered = [t.layer for t in model.inputs] + [layer for layer, _, _ in nodes]
    model._graph_layers = list(dict.fromkeys(ordered))
    for layer in model._graph_layers:
        if layer not in model._sublayers:
            model._sublayers.append(layer)
    model._functional = True
    model.built = True
    model._build_input_shape = model.inputs[0].shape
    model.output_shape = model.outputs[0].shape if model._single_output else [o.shape for o in model.outputs]


def _functional_from_config(cls, config: dict) -> Model:
    """Replay a functional model's graph: create its layers, call them in node order on symbolic inputs."""
    by_name: dict[str, Layer] = {}
    for entry in config["layers"]:
        layer = saving.deserialize_layer(entry)
        if layer.name in by_name:
            raise ValueError(f"functional config: two layers are named {layer.name!r}")
        by_name[layer.name] = layer
    tensors = {(name, 0): layer.output for name, layer in by_name.items() if isinstance(layer, InputLayer)}
    calls: dict[str, int] = {}

    def tensor(ref):
        if not (isinstance(ref, list) and len(ref) == 2 and tuple(ref) in tensors):
            raise ValueError(f"functional config: {ref!r} names no tensor produced before it")
        return tensors[tuple(ref)]

    for node in config["nodes"]:
        name = node["layer"]
        if name not in by_name or isinstance(by_name[name], InputLayer):
            raise ValueError(f"functional config: node calls {name!r}, which is not a layer of the model")
        args = [tensor(ref) for ref in node["inputs"]]
        if not args:
            raise ValueError(f"functional config: node of {name!r} has no inputs")
        k = calls.get(name, 0)
        calls[name] = k + 1
        tensors[(name, k)] = by_name[name](args[0] if len(args) == 1 else args)
    inputs = [tensor(ref) for ref in config["inputs"]]
    outputs = [tensor(ref) for ref in config["outputs"]]
    if not inputs or not outputs:
        raise ValueError("functional config: a model needs at least one input and one output")
    single_in, single_out = config.get("single_input", True), config.get("single_output", True)
    return cls(
        inputs[0] if single_in and len(inputs) == 1 else inputs,
        outputs[0] if single_out and len(outputs) == 1 else outputs,
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )
