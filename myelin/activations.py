"""Level 3: activation functions by Keras name.

Each takes a Tensor (or array) and returns a Tensor; ``get`` resolves a string, a callable or
None (linear). The heavy lifting lives in :mod:`myelin.ops`.

Example:
    >>> from myelin import activations
    >>> activations.get("relu")([-1.0, 2.0]).data
    array([0., 2.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable

from . import ops
from .registry import Registry
from .tensor import Tensor

REGISTRY = Registry("activation")


@REGISTRY.register()
def linear(x) -> Tensor:
    """The identity: f(x) = x.

    Example:
        >>> linear([1.0]).data
        array([1.], dtype=float32)
    """
    return ops.as_tensor(x)


@REGISTRY.register()
def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Tensor:
    """max(x, 0), with Keras's optional slope below ``threshold`` and cap at ``max_value``.

    Example:
        >>> relu([-1.0, 3.0], max_value=2.0).data
        array([0., 2.], dtype=float32)
    """
    x = ops.as_tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    above = x.data > threshold
    below = ops.mul(ops.sub(x, threshold), negative_slope) if negative_slope else ops.zeros_like(x)  # +0, not -0
    out = ops.where(above, x, below)
    return out if max_value is None else ops.minimum(out, max_value)


@REGISTRY.register()
def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """x for x > 0, else negative_slope * x.

    Example:
        >>> leaky_relu([-1.0, 1.0]).data
        array([-0.2,  1. ], dtype=float32)
    """
    return ops.leaky_relu(x, negative_slope)


@REGISTRY.register()
def elu(x, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha * (e^x - 1).

    Example:
        >>> round(float(elu([-1.0]).data[0]), 4)
        -0.6321
    """
    return ops.elu(x, alpha)


@REGISTRY.register()
def selu(x) -> Tensor:
    """Scaled exponential linear unit (self-normalising).

    Example:
        >>> round(float(selu([1.0]).data[0]), 4)
        1.0507
    """
    return ops.selu(x)


@REGISTRY.register()
def gelu(x, approximate: bool = False) -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; ``approximate=True`` uses the tanh formula.

    Example:
        >>> round(float(gelu([1.0]).data[0]), 4)
        0.8413
    """
    return ops.gelu(x, approximate)


@REGISTRY.register()
def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), in (0, 1).

    Example:
        >>> sigmoid([0.0]).data
        array([0.5], dtype=float32)
    """
    return ops.sigmoid(x)


@REGISTRY.register()
def hard_sigmoid(x) -> Tensor:
    """Piecewise-linear sigmoid: clip(x / 6 + 0.5, 0, 1) (Keras 3).

    Example:
        >>> hard_sigmoid([0.0, 6.0]).data
        array([0.5, 1. ], dtype=float32)
    """
    return ops.hard_sigmoid(x)


@REGISTRY.register()
def tanh(x) -> Tensor:
    """Hyperbolic tangent, in (-1, 1).

    Example:
        >>> tanh([0.0]).data
        array([0.], dtype=float32)
    """
    return ops.tanh(x)


@REGISTRY.register()
def softmax(x, axis: int = -1) -> Tensor:
    """Probabilities along ``axis``: e^x / sum(e^x).

    Example:
        >>> softmax([[0.0, 0.0]]).data
        array([[0.5, 0.5]], dtype=float32)
    """
    return ops.softmax(x, axis)


@REGISTRY.register()
def log_softmax(x, axis: int = -1) -> Tensor:
    """Log-probabilities along ``axis``: x - logsumexp(x).

    Example:
        >>> round(float(log_softmax([[0.0, 0.0]]).data[0, 0]), 4)
        -0.6931
    """
    return ops.log_softmax(x, axis)


@REGISTRY.register()
def softplus(x) -> Tensor:
    """log(1 + e^x), a smooth relu.

    Example:
        >>> round(float(softplus([0.0]).data[0]), 4)
        0.6931
    """
    return ops.softplus(x)


@REGISTRY.register(aliases=("silu",))
def swish(x) -> Tensor:
    """x * sigmoid(x); ``silu`` is the same function.

    Example:
        >>> round(float(swish([1.0]).data[0]), 4)
        0.7311
    """
    return ops.silu(x)


silu = swish


# ---------------------------------------------------------------------------- more of Keras's activations


@REGISTRY.register()
def relu6(x) -> Tensor:
    """min(max(x, 0), 6).

    Example:
        >>> relu6([-1.0, 3.0, 8.0]).data
        array([0., 3., 6.], dtype=float32)
    """
    return ops.relu6(x)


@REGISTRY.register()
def mish(x) -> Tensor:
    """x * tanh(softplus(x)) (Misra, 2019).

    Example:
        >>> mish([0.0, 1.0]).data.round(4)
        array([0.    , 0.8651], dtype=float32)
    """
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


@REGISTRY.register(aliases=("hard_swish",))
def hard_silu(x) -> Tensor:
    """x * hard_sigmoid(x) = x * relu6(x + 3) / 6; ``hard_swish`` is the same function.

    Example:
        >>> hard_silu([-4.0, 0.0, 4.0]).data
        array([-0.,  0.,  4.], dtype=float32)
    """
    return ops.hard_silu(x)


hard_swish = hard_silu


@REGISTRY.register()
def log_sigmoid(x) -> Tensor:
    """log(sigmoid(x)), computed stably.

    Example:
        >>> log_sigmoid([0.0]).data.round(4)
        array([-0.6931], dtype=float32)
    """
    return ops.log_sigmoid(x)


@REGISTRY.register()
def glu(x, axis: int = -1) -> Tensor:
    """Gated linear unit: a * sigmoid(b), a and b the two halves of ``axis``.

    Example:
        >>> glu([[1.0, 0.0]]).data
        array([[0.5]], dtype=float32)
    """
    return ops.glu(x, axis=axis)


@REGISTRY.register()
def celu(x, alpha: float = 1.0) -> Tensor:
    """max(x, 0) + min(0, alpha * (exp(x / alpha) - 1)).

    Example:
        >>> celu([-1.0, 2.0]).data.round(4)
        array([-0.6321,  2.    ], dtype=float32)
    """
    return ops.celu(x, alpha=alpha)


@REGISTRY.register()
def hard_tanh(x) -> Tensor:
    """clip(x, -1, 1).

    Example:
        >>> hard_tanh([-3.0, 0.5, 3.0]).data
        array([-1. ,  0.5,  1. ], dtype=float32)
    """
    return ops.hard_tanh(x)


@REGISTRY.register()
def soft_shrink(x, threshold: float = 0.5) -> Tensor:
    """x - threshold above it, x + threshold below -threshold, 0 between.

    Example:
        >>> soft_shrink([-2.0, 0.2, 2.0]).data
        array([-1.5,  0. ,  1.5], dtype=float32)
    """
    return ops.soft_shrink(x, threshold=threshold)


@REGISTRY.register()
def hard_shrink(x, threshold: float = 0.5) -> Tensor:
    """x where |x| > threshold, else 0.

    Example:
        >>> hard_shrink([-2.0, 0.2, 2.0]).data
        array([-2.,  0.,  2.], dtype=float32)
    """
    return ops.hard_shrink(x, threshold=threshold)


@REGISTRY.register()
def exponential(x) -> Tensor:
    """exp(x).

    Example:
        >>> exponential([0.0]).data
        array([1.], dtype=float32)
    """
    return ops.exp(x)


@REGISTRY.register()
def softsign(x) -> Tensor:
    """x / (1 + |x|).

    Example:
        >>> softsign([1.0]).data
        array([0.5], dtype=float32)
    """
    return ops.softsign(x)


@REGISTRY.register()
def sparse_plus(x) -> Tensor:
    """0 below -1, (x + 1)^2 / 4 between -1 and 1, x above.

    Example:
        >>> sparse_plus([-2.0, 0.0, 2.0]).data
        array([0.  , 0.25, 2.  ], dtype=float32)
    """
    return ops.sparse_plus(x)


@REGISTRY.register()
def sparse_sigmoid(x) -> Tensor:
    """0 below -1, (x + 1) / 2 between, 1 above.

    Example:
        >>> sparse_sigmoid([-2.0, 0.0, 2.0]).data
        array([0. , 0.5, 1. ], dtype=float32)
    """
    return ops.sparse_sigmoid(x)


@REGISTRY.register()
def sparsemax(x, axis: int = -1) -> Tensor:
    """Euclidean projection of x onto the probability simplex along ``axis`` (sparse softmax).

    Example:
        >>> sparsemax([[1.0, 0.0]]).data
        array([[1., 0.]], dtype=float32)
    """
    return ops.sparsemax(x, axis=axis)


@REGISTRY.register()
def squareplus(x, b: float = 4) -> Tensor:
    """(x + sqrt(x^2 + b)) / 2, a smooth relu.

    Example:
        >>> squareplus([0.0]).data
        array([1.], dtype=float32)
    """
    return ops.squareplus(x, b=b)


@REGISTRY.register()
def tanh_shrink(x) -> Tensor:
    """x - tanh(x).

    Example:
        >>> tanh_shrink([0.0]).data
        array([0.], dtype=float32)
    """
    return ops.tanh_shrink(x)


@REGISTRY.register()
def threshold(x, threshold: float, default_value: float) -> Tensor:
    """x where x > threshold, else ``default_value``.

    Example:
        >>> threshold([0.5, 2.0], 1.0, -1.0).data
        array([-1.,  2.], dtype=float32)
    """
    return ops.threshold(x, threshold, default_value)


def get(identifier: str | Callable | None) -> Callable:
    """Resolve an activation: None (linear), a registered name, or any callable.

    Example:
        >>> get("tanh") is tanh, get(None) is linear
        (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return REGISTRY.lookup(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name, a callable or None, got {type(identifier).__name__}: {identifier!r}")


def deserialize(config, custom_objects: dict | None = None) -> Callable:
    """An activation from its name (or Keras's ``{"class_name": "function", "config": name}``).

    ``custom_objects`` maps more names to functions.

    Example:
        >>> deserialize("mish") is mish
        True
    """
    if isinstance(config, dict):
        config = config.get("config") if config.get("class_name") == "function" else config.get("class_name")
    if not isinstance(config, str):
        raise ValueError(f"activations.deserialize: expected a name, got {config!r}")
    if custom_objects and config in custom_objects:
        return custom_objects[config]
    return REGISTRY.lookup(config)


def serialize(fn: Callable) -> str:
    """The registered name of an activation function.

    Example:
        >>> serialize(relu)
        'relu'
    """
    name = REGISTRY.name_of(fn)
    if name is None:
        raise ValueError(
            f"activation {fn!r} is not registered: register it with myelin.saving.register_serializable() to save it by name"
        )
    return name
