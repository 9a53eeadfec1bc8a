"""``Sequential``: a plain stack of layers, each feeding the next (Keras's ``keras.Sequential``).

Example:
    >>> from myelin import layers
    >>> Sequential([layers.Input(shape=(3,)), layers.Dense(2)]).output_shape
    (None, 2)
"""

from __future__ import annotations

from .. import saving
from ..layers.base import REGISTRY as LAYERS
from ..layers.base import InputLayer, Layer, SymbolicTensor
from .model import Model


class Sequential(Model):
    """A plain stack of layers, each feeding the next.

    Example:
        >>> from myelin import layers
        >>> model = Sequential()
        >>> model.add(layers.Dense(64, activation="relu", input_shape=(784,)))
        >>> model.add(layers.Dense(10, activation="softmax"))
        >>> model.output_shape
        (None, 10)
    """

    _convert_input_args = False  # each layer casts its own inputs (Keras's Sequential)

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    @property
    def input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.output_shape
        return self._build_input_shape

    def add(self, layer) -> None:
        """Append a layer (or an ``Input``/``InputLayer`` as the first entry)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer) and not layer.inputs:
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(f"Sequential {self.name!r}: an Input can only be the first entry")
            self._input_layer = layer
            self._build_from_input((None,) + layer.batch_shape[1:])
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential {self.name!r}: add() expects a Layer, got {type(layer).__name__}: {layer!r}")
        if any(layer.name == other.name for other in self._stack):
            raise ValueError(f"Sequential {self.name!r}: all layers need unique names; {layer.name!r} is already used")
        self._stack.append(layer)
        self._sublayers.append(layer)
        self._reset_plans()  # recordings describe the old stack
        if len(self._stack) == 1 and self._input_layer is None and layer.input_shape_hint is not None:
            self._build_from_input(layer.input_shape_hint)
        elif self.built:
            shape = self.output_shape
            layer._maybe_build(shape)
            self.output_shape = layer.output_shape = layer.compute_output_shape(shape)

    def get_config(self) -> dict:
        """Name, trainable, and each layer's registered class name and config (the Input first, if any).

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
            >>> [entry["class_name"] for entry in m.get_config()["layers"]]
            ['InputLayer', 'Dense']
        """
        stack = ([self._input_layer] if self._input_layer is not None else []) + self._stack
        config = {"name": self.name, "trainable": self.trainable, "layers": [saving.serialize_layer(lyr) for lyr in stack]}
        if self._dtype_policy is not None:
            config["dtype"] = self._dtype_policy.name
        return config

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """Rebuild from :meth:`get_config` (layer names resolve through myelin's registries only).

        Example:
            >>> from myelin import layers
            >>> m = Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
            >>> Sequential.from_config(m.get_config()).output_shape
            (None, 2)
        """
        config = dict(config)
        entries = config.pop("layers", [])
        if not isinstance(entries, list):
            raise ValueError(f"Sequential config: 'layers' must be a list, got {type(entries).__name__}")
        return cls([saving.deserialize_layer(entry) for entry in entries], **config)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise IndexError(f"Sequential {self.name!r} has no layers to pop")
        layer = self._stack.pop()
        self._sublayers.remove(layer)
        self._reset_plans()
        self.output_shape = self._stack[-1].output_shape if self._stack else self.input_shape
        return layer

    def _build_from_input(self, shape: tuple) -> None:
        self._maybe_build(tuple(shape))

    def build(self, input_shape) -> None:
        shape = (None,) + tuple(input_shape[1:])
        for layer in self._stack:
            layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
            layer.output_shape = shape
        self.output_shape = shape

    def call(self, x, training: bool = False):
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    def _output_layer(self, i: int):
        return self._stack[-1] if self._stack else None

    def _graph_replayable(self) -> bool:
        return type(self) is Sequential


# Saved files name a model's class like any layer's.
LAYERS.add("Sequential", Sequential)
