"""Core layers: Dense, Activation, Dropout, Flatten, and the activation layers.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.Dense(2, activation="relu", kernel_initializer="ones")(np.ones((1, 3))).data
    array([[3., 3.]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from .. import activations, initializers, ops, regularizers
from .base import REGISTRY, Layer, _shape_str

# Activations the fused dense op computes in place (their derivative is read off the output).
_FUSED = {activations.linear: "linear", activations.relu: "relu", activations.tanh: "tanh"}


def _config_of(obj):
    """A Keras-style config for an initializer or regularizer: its class name and arguments."""
    if obj is None:
        return None
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


@REGISTRY.register("Dense")
class Dense(Layer):
    """A fully connected layer: ``activation(x @ kernel + bias)``.

    Every input neuron connects to every output neuron; ``kernel`` has shape
    (input features, units). Inputs with more than two axes are transformed along the last one.

    Example:
        >>> d = Dense(64, activation="relu")
        >>> d.build((None, 784)); d.kernel.shape, d.bias.shape
        ((784, 64), (64,))
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense layer {self.name!r} needs inputs with a known last axis (batch, ..., features), "
                f"got shape {_shape_str(input_shape)}"
            )
        self.kernel = self.add_weight(
            "kernel", (input_shape[-1], self.units), self.kernel_initializer, self.kernel_regularizer
        )
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)

    def call(self, x, training=False):
        fused = _FUSED.get(self.activation)
        if fused is not None:
            return ops.dense(x, self.kernel, self.bias, fused)
        return self.activation(ops.dense(x, self.kernel, self.bias, "linear"))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _config_of(self.kernel_initializer),
            "bias_initializer": _config_of(self.bias_initializer),
            "kernel_regularizer": _config_of(self.kernel_regularizer),
            "bias_regularizer": _config_of(self.bias_regularizer),
            "activity_regularizer": _config_of(self.activity_regularizer),
        }


@REGISTRY.register("Activation")
class Activation(Layer):
    """Applies an activation function (by name or callable) to its input.

    Example:
        >>> Activation("relu")([[-1.0, 1.0]]).data
        array([[0., 1.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x, training=False):
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


@REGISTRY.register("Dropout")
class Dropout(Layer):
    """Sets a fraction ``rate`` of inputs to zero during training and scales the rest by 1/(1-rate).

    At inference (``training=False``: predict, evaluate, validation) it passes inputs unchanged.

    Example:
        >>> Dropout(0.5)([[1.0, 1.0]], training=False).data
        array([[1., 1.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        super().__init__(**kwargs)
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self._generator = np.random.default_rng(seed) if seed is not None else None

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        noise_shape = None if self.noise_shape is None else tuple(self.noise_shape)
        return ops.dropout(x, self.rate, noise_shape, self._generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


@REGISTRY.register("Identity")
class Identity(Layer):
    """Returns its input unchanged (a placeholder that keeps a model's structure).

    Example:
        >>> Identity()([[1.0, 2.0]]).data
        array([[1., 2.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def call(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


@REGISTRY.register("Flatten")
class Flatten(Layer):
    """Reshapes each sample to one axis: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...).

    Example:
        >>> Flatten()(np.zeros((2, 3, 4))).shape
        (2, 12)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def call(self, x, training=False):
        return ops.reshape(x, (x.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))


@REGISTRY.register("Reshape")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1).

    Example:
        >>> Reshape((2, 2))(np.zeros((1, 4))).shape
        (1, 2, 2)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, x, training=False):
        return ops.reshape(x, (x.shape[0],) + self.target_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class _ActivationLayer(Layer):
    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


@REGISTRY.register("ReLU")
class ReLU(_ActivationLayer):
    """relu as a layer, with Keras's ``max_value``, ``negative_slope`` and ``threshold``.

    Example:
        >>> ReLU(max_value=1.0)([[-1.0, 3.0]]).data
        array([[0., 1.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, max_value=None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, x, training=False):
        return activations.relu(x, self.negative_slope, self.max_value, self.threshold)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


@REGISTRY.register("LeakyReLU")
class LeakyReLU(_ActivationLayer):
    """x for x > 0, else negative_slope * x (the layer's default slope is 0.3, as Keras).

    Example:
        >>> LeakyReLU()([[-1.0]]).data
        array([[-0.3]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def call(self, x, training=False):
        return activations.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


@REGISTRY.register("Softmax")
class Softmax(_ActivationLayer):
    """softmax along ``axis`` as a layer.

    Example:
        >>> Softmax()([[0.0, 0.0]]).data
        array([[0.5, 0.5]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, x, training=False):
        return activations.softmax(x, self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


__all__ = ["Activation", "Dense", "Dropout", "Flatten", "LeakyReLU", "ReLU", "Reshape", "Softmax"]
