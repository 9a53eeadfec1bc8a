"""Level 3: weight penalties added to the training loss (Keras's L1, L2 and L1L2).

Example:
    >>> from myelin import Tensor, regularizers
    >>> regularizers.L2(0.5)(Tensor([1.0, 2.0])).item()
    2.5
"""

from __future__ import annotations

from . import ops
from .registry import Registry
from .tensor import Tensor

REGISTRY = Registry("regularizer")


class Regularizer:
    """Base class: ``__call__(weight) -> scalar Tensor`` and ``get_config``.

    Example:
        >>> round(L1(0.1)(Tensor([-2.0])).item(), 6)
        0.2
    """

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        """Rebuild from :meth:`get_config`'s dict (Keras's counterpart)."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_factor(name: str, value) -> float:
    value = float(value)
    if value < 0:
        raise ValueError(f"{name} regularization factor must be >= 0, got {value}")
    return value


@REGISTRY.register("L1", aliases=("l1",))
class L1(Regularizer):
    """l1 * sum(|w|).

    Example:
        >>> round(L1(0.01)(Tensor([1.0, -1.0])).item(), 6)
        0.02
    """

    def __init__(self, l1: float = 0.01):
        self.l1 = _check_factor("l1", l1)

    def __call__(self, x: Tensor) -> Tensor:
        return ops.mul(ops.sum(ops.abs(x)), self.l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


@REGISTRY.register("L2", aliases=("l2",))
class L2(Regularizer):
    """l2 * sum(w ** 2) (no factor 1/2, as in Keras).

    Example:
        >>> round(L2(0.01)(Tensor([1.0, 2.0])).item(), 6)
        0.05
    """

    def __init__(self, l2: float = 0.01):
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x: Tensor) -> Tensor:
        return ops.mul(ops.sum(ops.square(x)), self.l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


@REGISTRY.register("L1L2", aliases=("l1_l2",))
class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w ** 2); both factors default to 0, as in Keras.

    Example:
        >>> round(L1L2(l1=0.1, l2=0.1)(Tensor([1.0])).item(), 6)
        0.2
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = _check_factor("l1", l1), _check_factor("l2", l2)

    def __call__(self, x: Tensor) -> Tensor:
        terms = []
        if self.l1:
            terms.append(ops.mul(ops.sum(ops.abs(x)), self.l1))
        if self.l2:
            terms.append(ops.mul(ops.sum(ops.square(x)), self.l2))
        if not terms:
            return ops.as_tensor(0.0, x)
        return terms[0] if len(terms) == 1 else ops.add(terms[0], terms[1])

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


@REGISTRY.register("OrthogonalRegularizer", aliases=("orthogonal_regularizer",))
class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards orthogonality.

    factor * 0.5 * sum(|G - diag(G)|) / (n (n - 1) / 2), G the Gram matrix of the unit-norm
    rows (``mode="rows"``) or columns (``"columns"``), n their number.

    Example:
        >>> round(OrthogonalRegularizer(factor=1.0)(Tensor([[1.0, 0.0], [1.0, 1.0]])).item(), 4)
        0.7071
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _check_factor("OrthogonalRegularizer factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, x: Tensor) -> Tensor:
        x = ops.as_tensor(x)
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: the weight must have rank 2, got shape {x.shape}")
        if self.mode == "rows":
            unit = ops.normalize(x, axis=1)
            gram, n = ops.matmul(unit, ops.transpose(unit)), x.shape[0]
        else:
            unit = ops.normalize(x, axis=0)
            gram, n = ops.matmul(ops.transpose(unit), unit), x.shape[1]
        off_diagonal = ops.multiply(gram, 1.0 - ops.eye(n, dtype=x.dtype).data)
        pairs = n * (n - 1) / 2.0
        return ops.multiply(ops.sum(ops.abs(off_diagonal)), self.factor * 0.5 / pairs)

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


# Keras's lowercase spellings are the classes themselves: regularizers.l2(0.01).
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer


def serialize(regularizer) -> dict:
    """Keras's dict for a regularizer: ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> serialize(L2(0.5))["config"]
        {'l2': 0.5}
    """
    from .serialization import serialize_keras_object  # noqa: PLC0415  (it imports this module)

    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects: dict | None = None):
    """A regularizer from :func:`serialize`'s dict (or Keras's) or a name.

    Example:
        >>> deserialize({"class_name": "OrthogonalRegularizer", "config": {"factor": 0.1, "mode": "columns"}}).mode
        'columns'
    """
    from .serialization import deserialize_in  # noqa: PLC0415

    return deserialize_in(REGISTRY, config, custom_objects, instantiate_names=True)


def get(identifier):
    """Resolve a regularizer: None, a name ("l1", "l2", "l1_l2"), a config dict, an instance or a callable.

    Example:
        >>> get("l2").l2
        0.01
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):  # a saved config: {"class_name": ..., "config": {...}}
        return REGISTRY.deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"regularizer must be a name, a Regularizer or a callable, got {identifier!r}")
