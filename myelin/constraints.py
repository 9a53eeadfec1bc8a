"""Level 3: weight constraints (Keras's MaxNorm, MinMaxNorm, NonNeg, UnitNorm).

A constraint maps a weight to its projected value. ``Layer.add_weight(constraint=...)``
stores it on the weight, and the optimizer applies it after every update, as Keras does.
The norms are taken along ``axis`` (0 by default: per output unit of a Dense kernel), with
Keras's epsilon 1e-7 in the denominator.

Example:
    >>> import numpy as np
    >>> from myelin import constraints
    >>> constraints.MaxNorm(1.0)(np.array([[3.0], [4.0]])).ravel().round(6)
    array([0.6, 0.8])
"""

from __future__ import annotations

from .backend import array_module
from .registry import Registry
from .tensor import Tensor

REGISTRY = Registry("constraint")
_EPSILON = 1e-7  # Keras's backend.epsilon()

__all__ = ["REGISTRY", "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "serialize"]


class Constraint:
    """Base class: ``__call__(w)`` returns the constrained value (an array for an array, a Tensor for a Tensor).

    Subclasses define ``_apply(w)`` on arrays and ``get_config``.

    Example:
        >>> class Clip(Constraint):
        ...     def _apply(self, w):
        ...         return w.clip(-1, 1)
        >>> Clip()(Tensor([2.0])).data
        array([1.], dtype=float32)
    """

    def __call__(self, w):
        if isinstance(w, Tensor):
            return Tensor(self._apply(w.data).astype(w.data.dtype, copy=False))
        return self._apply(w)

    def _apply(self, w):
        raise NotImplementedError(f"{type(self).__name__} must define _apply")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _norms(w, axis):
    xp = array_module(w)
    return xp.sqrt((w * w).sum(axis=axis, keepdims=True))


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)


@REGISTRY.register("MaxNorm", aliases=("max_norm",))
class MaxNorm(Constraint):
    """Rescale so that the norm along ``axis`` is at most ``max_value``: w * clip(n, 0, max) / (eps + n).

    Example:
        >>> import numpy as np
        >>> MaxNorm(2.0)(np.array([[1.0], [0.0]])).ravel().round(6)
        array([1., 0.])
    """

    def __init__(self, max_value: float = 2.0, axis=0):
        if not max_value > 0:
            raise ValueError(f"MaxNorm: max_value must be > 0, got {max_value}")
        self.max_value, self.axis = float(max_value), _axis(axis)

    def _apply(self, w):
        n = _norms(w, self.axis)
        return w * (array_module(w).clip(n, 0, self.max_value) / (_EPSILON + n))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


@REGISTRY.register("MinMaxNorm", aliases=("min_max_norm",))
class MinMaxNorm(Constraint):
    """Move the norm along ``axis`` towards [min_value, max_value] at ``rate`` (1: all the way).

    desired = rate * clip(n, min, max) + (1 - rate) * n; w * desired / (eps + n).

    Example:
        >>> import numpy as np
        >>> MinMaxNorm(1.0, 2.0)(np.array([[0.5], [0.0]])).ravel().round(6)
        array([1., 0.])
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis=0):
        if min_value > max_value:
            raise ValueError(f"MinMaxNorm: min_value ({min_value}) must be <= max_value ({max_value})")
        if not 0 <= rate <= 1:
            raise ValueError(f"MinMaxNorm: rate must be in [0, 1], got {rate}")
        self.min_value, self.max_value, self.rate, self.axis = float(min_value), float(max_value), float(rate), _axis(axis)

    def _apply(self, w):
        n = _norms(w, self.axis)
        desired = self.rate * array_module(w).clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return w * (desired / (_EPSILON + n))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


@REGISTRY.register("NonNeg", aliases=("non_neg",))
class NonNeg(Constraint):
    """Zero the negative entries.

    Example:
        >>> import numpy as np
        >>> NonNeg()(np.array([-1.0, 2.0]))
        array([0., 2.])
    """

    def _apply(self, w):
        return array_module(w).where(w >= 0, w, 0).astype(w.dtype, copy=False)  # +0, not w * 0 = -0


@REGISTRY.register("UnitNorm", aliases=("unit_norm",))
class UnitNorm(Constraint):
    """Rescale to unit norm along ``axis``: w / (eps + n).

    Example:
        >>> import numpy as np
        >>> UnitNorm()(np.array([[3.0], [4.0]])).ravel().round(6)
        array([0.6, 0.8])
    """

    def __init__(self, axis=0):
        self.axis = _axis(axis)

    def _apply(self, w):
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


# Keras's lowercase spellings are the classes themselves: constraints.max_norm(2).
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm


def serialize(constraint) -> dict | None:
    """``{"class_name": ..., "config": {...}}`` for a registered constraint (None for None).

    Example:
        >>> serialize(MaxNorm(3.0))
        {'class_name': 'MaxNorm', 'config': {'max_value': 3.0, 'axis': 0}}
    """
    if constraint is None:
        return None
    name = REGISTRY.name_of(type(constraint))
    if name is None:
        raise ValueError(
            f"serialize: {type(constraint).__name__} is not a registered constraint; register it with "
            "myelin.constraints.REGISTRY.register(name) so that saved files can name it"
        )
    return {"class_name": name, "config": constraint.get_config()}


def deserialize(config: dict) -> Constraint:
    """The constraint a ``serialize`` config describes (classes come only from the registry).

    Example:
        >>> deserialize({"class_name": "UnitNorm", "config": {"axis": 1}}).axis
        1
    """
    return REGISTRY.deserialize(config)


def get(identifier):
    """Resolve a constraint: None, a name ("max_norm", "NonNeg", ...), a config dict, an instance or a callable.

    Example:
        >>> get("non_neg")
        NonNeg()
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"constraint must be a name, a Constraint or a callable, got {identifier!r}")
