"""Merging layers: ``Concatenate`` joins several inputs (a functional model's branches) into one.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.Concatenate()([np.zeros((2, 3)), np.ones((2, 1))]).shape
    (2, 4)
"""

from __future__ import annotations

from .. import ops
from ..tensor import Tensor
from .base import REGISTRY, Layer, SymbolicTensor, _shape_str


@REGISTRY.register("Concatenate")
class Concatenate(Layer):
    """Join a list of inputs along ``axis`` (default: the last); the other axes must agree.

    Example:
        >>> from myelin import Input, Model
        >>> a, b = Input(shape=(3,)), Input(shape=(2,))
        >>> Model([a, b], Concatenate()([a, b])).output_shape
        (None, 5)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check(self, shapes) -> None:
        if not isinstance(shapes, list) or len(shapes) < 2:
            raise ValueError(f"Concatenate {self.name!r} needs a list of at least two inputs")
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"Concatenate {self.name!r}: inputs have different ranks: {[_shape_str(s) for s in shapes]}")
        ndim = ranks.pop()
        axis = self.axis % ndim
        for i in range(ndim):
            sizes = {s[i] for s in shapes if s[i] is not None}
            if i != axis and len(sizes) > 1:
                raise ValueError(
                    f"Concatenate {self.name!r}: inputs must agree on every axis but {self.axis}, got "
                    f"{', '.join(_shape_str(s) for s in shapes)}"
                )

    def __call__(self, inputs, training: bool = False, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Concatenate {self.name!r} needs a list of inputs, got {type(inputs).__name__}")
        inputs = list(inputs)
        if inputs and isinstance(inputs[0], SymbolicTensor):
            self._check([t.shape for t in inputs])
            self.built = True
            self.output_shape = self.compute_output_shape([t.shape for t in inputs])
            return SymbolicTensor(self.output_shape, self.compute_dtype, layer=self, inputs=tuple(inputs))
        dtype = self.compute_dtype
        x = [
            i
            if isinstance(i, Tensor) and (i.data.dtype == dtype or i.requires_grad)
            else Tensor(i.data if isinstance(i, Tensor) else i, dtype=dtype)
            for i in inputs
        ]
        self._check([t.shape for t in x])
        self.built = True
        return self.call(x, training=training)

    def call(self, inputs, training=False):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = list(input_shape)
        axis = self.axis % len(shapes[0])
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)
        for i in range(1, len(out)):
            if i != axis and out[i] is None:
                out[i] = next((s[i] for s in shapes if s[i] is not None), None)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis: int = -1, **kwargs):
    """Functional form: ``concatenate([a, b])`` is ``Concatenate()([a, b])``.

    Example:
        >>> import numpy as np
        >>> concatenate([np.ones((1, 1)), np.zeros((1, 1))]).data
        array([[1., 0.]], dtype=float32)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


__all__ = ["Concatenate", "concatenate"]
