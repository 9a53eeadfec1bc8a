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
        if kwargs:  # Concatenate's call takes only the inputs
            raise TypeError(f"Concatenate {self.name!r}: unexpected argument(s) {', '.join(sorted(kwargs))}")
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


class _Merge(Layer):
    """Elementwise merge of a list of same-shape (or broadcastable) inputs; subclasses name the reduction."""

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _min_inputs = 2
    _max_inputs: int | None = None

    def _check(self, shapes) -> None:
        kind = type(self).__name__
        if not isinstance(shapes, list) or len(shapes) < self._min_inputs:
            raise ValueError(f"{kind} {self.name!r} needs a list of at least {self._min_inputs} inputs, got {len(shapes)}")
        if self._max_inputs is not None and len(shapes) > self._max_inputs:
            raise ValueError(f"{kind} {self.name!r} needs exactly {self._max_inputs} inputs, got {len(shapes)}")
        self.compute_output_shape(shapes)

    def __call__(self, inputs, training: bool = False, **kwargs):
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{kind} {self.name!r} needs a list of inputs, got {type(inputs).__name__}")
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
        out = inputs[0]
        for t in inputs[1:]:
            out = self._merge(out, t)
        return out

    def _merge(self, a, b):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        ndim = max(len(s) for s in shapes)
        out = []
        for i in range(ndim):
            dims = [s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0]
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: inputs must have shapes that broadcast together, got "
                    f"{', '.join(_shape_str(s) for s in shapes)}"
                )
            if known:
                out.append(known.pop())
            elif None in dims:
                out.append(None)
            else:
                out.append(1)
        return tuple(out)


@REGISTRY.register("Add")
class Add(_Merge):
    """Sum of a list of inputs (which broadcast together).

    Example:
        >>> import numpy as np
        >>> Add()([np.ones((1, 2)), np.full((1, 2), 2.0)]).data
        array([[3., 3.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def _merge(self, a, b):
        return ops.add(a, b)


@REGISTRY.register("Subtract")
class Subtract(_Merge):
    """The first of exactly two inputs minus the second.

    Example:
        >>> import numpy as np
        >>> Subtract()([np.ones((1, 2)), np.full((1, 2), 2.0)]).data
        array([[-1., -1.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    _max_inputs = 2

    def _merge(self, a, b):
        return ops.sub(a, b)


@REGISTRY.register("Multiply")
class Multiply(_Merge):
    """Elementwise product of a list of inputs.

    Example:
        >>> import numpy as np
        >>> Multiply()([np.full((1, 2), 3.0), np.full((1, 2), 2.0)]).data
        array([[6., 6.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def _merge(self, a, b):
        return ops.mul(a, b)


@REGISTRY.register("Average")
class Average(_Merge):
    """Elementwise mean of a list of inputs.

    Example:
        >>> import numpy as np
        >>> Average()([np.full((1, 2), 3.0), np.full((1, 2), 1.0)]).data
        array([[2., 2.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def call(self, inputs, training=False):
        return ops.mul(super().call(inputs), 1.0 / len(inputs))

    def _merge(self, a, b):
        return ops.add(a, b)


@REGISTRY.register("Maximum")
class Maximum(_Merge):
    """Elementwise maximum of a list of inputs.

    Example:
        >>> import numpy as np
        >>> Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).data
        array([[3., 5.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def _merge(self, a, b):
        return ops.maximum(a, b)


@REGISTRY.register("Minimum")
class Minimum(_Merge):
    """Elementwise minimum of a list of inputs.

    Example:
        >>> import numpy as np
        >>> Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).data
        array([[1., 2.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def _merge(self, a, b):
        return ops.minimum(a, b)


def _dot_axes(axes, shapes) -> tuple:
    """Keras's ``Dot`` axes for two inputs of these shapes: an int for both, or one per input; negatives wrap."""
    pair = (axes, axes) if isinstance(axes, int) else tuple(axes)
    return tuple(a % len(s) if a < 0 else a for a, s in zip(pair, shapes))


@REGISTRY.register("Dot")
class Dot(_Merge):
    """Per-sample dot product of two inputs along ``axes`` (an int for both, or one axis per input).

    The output holds the first input's remaining axes, then the second's (without the batch
    axis), as Keras's ``batch_dot``; a result with only the batch axis left gets a trailing
    axis of 1. ``normalize=True`` L2-normalizes both along their axis first (the cosine).

    Example:
        >>> import numpy as np
        >>> x, y = np.arange(10.0).reshape(1, 5, 2), np.arange(10.0, 20.0).reshape(1, 2, 5)
        >>> Dot(axes=(1, 2))([x, y]).data
        array([[[260., 360.],
                [320., 445.]]], dtype=float32)
        >>> Dot(axes=1, normalize=True)([np.array([[3.0, 4.0]]), np.array([[3.0, 4.0]])]).data
        array([[1.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _min_inputs = 2
    _max_inputs = 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"Dot {self.name!r}: axes must be an int or two ints (one per input), got {axes!r}")
            axes = tuple(axes)
        elif not isinstance(axes, int) or isinstance(axes, bool):
            raise TypeError(f"Dot {self.name!r}: axes must be an int or two ints (one per input), got {axes!r}")
        self.axes, self.normalize = axes, bool(normalize)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) != 2:
            raise ValueError(f"Dot {self.name!r} needs exactly 2 inputs, got {len(shapes)}")
        a, b = shapes
        ax = _dot_axes(self.axes, shapes)
        for s, axis in zip(shapes, ax):
            if len(s) < 2 or not 0 < axis < len(s):
                raise ValueError(
                    f"Dot {self.name!r}: axes {self.axes!r} must name a non-batch axis of each input, got shapes "
                    f"{_shape_str(a)} and {_shape_str(b)}"
                )
        if a[ax[0]] is not None and b[ax[1]] is not None and a[ax[0]] != b[ax[1]]:
            raise ValueError(
                f"Dot {self.name!r}: axis {ax[0]} of the first input ({a[ax[0]]}) and axis {ax[1]} of the second "
                f"({b[ax[1]]}) must have the same size; shapes {_shape_str(a)} and {_shape_str(b)}"
            )
        if a[0] is not None and b[0] is not None and a[0] != b[0]:
            raise ValueError(f"Dot {self.name!r}: the inputs' batch sizes differ: {_shape_str(a)} and {_shape_str(b)}")
        self._dot_size = a[ax[0]] if a[ax[0]] is not None else b[ax[1]]  # ONNX export reshapes with it
        out = [s for i, s in enumerate(a) if i != ax[0]] + [s for i, s in enumerate(b) if i not in (0, ax[1])]
        return tuple(out) if len(out) > 1 else (out[0], 1)

    def call(self, inputs, training=False):
        x, y = inputs
        out_shape = self.compute_output_shape([x.shape, y.shape])
        ax, ay = _dot_axes(self.axes, [x.shape, y.shape])
        if self.normalize:
            x, y = ops.normalize(x, axis=ax), ops.normalize(y, axis=ay)
        n, k = x.shape[0], x.shape[ax]
        x = ops.transpose(x, [i for i in range(x.ndim) if i != ax] + [ax])  # (batch, ..., k)
        y = ops.transpose(y, [0, ay] + [i for i in range(1, y.ndim) if i != ay])  # (batch, k, ...)
        prod = ops.matmul(ops.reshape(x, (n, -1, k)), ops.reshape(y, (n, k, -1)))
        return ops.reshape(prod, (n,) + tuple(out_shape[1:]))

    def compute_mask(self, inputs, previous_mask):
        return None

    def get_config(self) -> dict:
        axes = list(self.axes) if isinstance(self.axes, tuple) else self.axes
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    """Functional form of :class:`Dot` (``normalize`` and layer arguments go in ``kwargs``).

    Example:
        >>> import numpy as np
        >>> dot([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])], axes=1).data
        array([[11.]], dtype=float32)
    """
    return Dot(axes=axes, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Functional form of :class:`Add`.

    Example:
        >>> import numpy as np
        >>> add([np.ones((1, 1)), np.ones((1, 1))]).data
        array([[2.]], dtype=float32)
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of :class:`Subtract`.

    Example:
        >>> import numpy as np
        >>> subtract([np.ones((1, 1)), np.ones((1, 1))]).data
        array([[0.]], dtype=float32)
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of :class:`Multiply`.

    Example:
        >>> import numpy as np
        >>> multiply([np.full((1, 1), 2.0), np.full((1, 1), 3.0)]).data
        array([[6.]], dtype=float32)
    """
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of :class:`Average`.

    Example:
        >>> import numpy as np
        >>> average([np.full((1, 1), 2.0), np.full((1, 1), 4.0)]).data
        array([[3.]], dtype=float32)
    """
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of :class:`Maximum`.

    Example:
        >>> import numpy as np
        >>> maximum([np.full((1, 1), 2.0), np.full((1, 1), 4.0)]).data
        array([[4.]], dtype=float32)
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of :class:`Minimum`.

    Example:
        >>> import numpy as np
        >>> minimum([np.full((1, 1), 2.0), np.full((1, 1), 4.0)]).data
        array([[2.]], dtype=float32)
    """
    return Minimum(**kwargs)(inputs)


__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
