"""Core layers: Dense, Activation, Dropout, Flatten, Embedding, Masking, and the activation layers.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> layers.Dense(2, activation="relu", kernel_initializer="ones")(np.ones((1, 3))).data
    array([[3., 3.]], dtype=float32)
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
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
    supports_masking = True  # Keras's rule: a mask on the input passes through unchanged

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
        kernel_constraint=None,
        bias_constraint=None,
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
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense layer {self.name!r} needs inputs with a known last axis (batch, ..., features), "
                f"got shape {_shape_str(input_shape)}"
            )
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )

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
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


@REGISTRY.register("Activation")
class Activation(Layer):
    """Applies an activation function (by name or callable) to its input.

    Example:
        >>> Activation("relu")([[-1.0, 1.0]]).data
        array([[0., 1.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    supports_masking = True

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
    supports_masking = True

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


@REGISTRY.register("RepeatVector")
class RepeatVector(Layer):
    """Repeats each (batch, features) sample ``n`` times: (batch, n, features), e.g. to feed a decoder RNN.

    Example:
        >>> RepeatVector(3)(np.ones((2, 4))).shape
        (2, 3, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, n: int, **kwargs):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"RepeatVector: n must be a positive integer, got {n!r}")
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, x, training=False):
        if x.ndim != 2:
            raise ValueError(f"RepeatVector layer {self.name!r} expects inputs of rank 2 (batch, features), got {x.shape}")
        return ops.stack([x] * self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


class _ActivationLayer(Layer):
    supports_masking = True

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


@REGISTRY.register("Embedding")
class Embedding(Layer):
    """Turns integer token ids into dense vectors: row ``i`` of an (input_dim, output_dim) table.

    ``mask_zero=True`` treats id 0 as padding: the output carries a mask (``ids != 0``) that
    the recurrent layers after it read, skipping padded steps (then id 0 cannot be a word, so
    ``input_dim`` counts it: vocabulary + 1). Ids arrive as integers or whole-number floats; an
    id outside [0, input_dim) is an error naming the layer.

    Example:
        >>> emb = Embedding(10, 4, mask_zero=True)
        >>> out = emb(np.array([[3, 5, 0]]))
        >>> out.shape, out._keras_mask.data.tolist()
        ((1, 3, 4), [[True, True, False]])
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        weights=None,
        lora_rank=None,
        **kwargs,
    ):
        for key, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Embedding: {key} must be a positive integer, got {value!r}")
        if lora_rank is not None:
            raise ValueError(f"Embedding: lora_rank is not supported by myelin; got {lora_rank!r}")
        if "input_length" in kwargs:
            raise TypeError(
                "Embedding: input_length is Keras 2's argument (Keras 3 has none); give the sequence length to "
                "Input(shape=(length,)) instead"
            )
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.embeddings = None
        self._initial_weights = weights

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            name="embeddings",
        )
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _maybe_build(self, shape: tuple) -> None:
        super()._maybe_build(shape)
        self._build_input_shape = (None,) * len(shape)  # any batch and sequence length

    def call(self, x, training=False):
        return ops.embedding_lookup(x, self.embeddings, layer=self.name)

    def compute_mask(self, inputs, previous_mask=None):
        """``inputs != 0`` when ``mask_zero``, else None (Keras's rule).

        Example:
            >>> Embedding(5, 2, mask_zero=True).compute_mask(np.array([[0, 1]])).data.tolist()
            [[False, True]]
        """
        if not self.mask_zero:
            return None
        return ops.not_equal_mask(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _config_of(self.embeddings_initializer),
            "embeddings_regularizer": _config_of(self.embeddings_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }


@REGISTRY.register("Masking")
class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``: they are zeroed and skipped downstream.

    Input (batch, steps, features); the output carries the mask (batch, steps), True where
    some feature differs from ``mask_value``.

    Example:
        >>> out = Masking()(np.array([[[1.0, 2.0], [0.0, 0.0]]]))
        >>> out._keras_mask.data.tolist()
        [[True, False]]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def call(self, x, training=False):
        if x.ndim < 2:
            raise ValueError(f"Masking layer {self.name!r} expects inputs of rank >= 2 (batch, ..., features), got {x.shape}")
        return ops.apply_mask(x, ops.any_not_equal_mask(x, self.mask_value))

    def compute_mask(self, inputs, previous_mask=None):
        return ops.any_not_equal_mask(inputs, self.mask_value)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}


def _function_name(fn, what: str, layer) -> str:
    """The name under which ``fn`` was registered (``myelin.saving.register_serializable``), or a clear refusal."""
    name = activations.REGISTRY.name_of(fn)
    if name is None:
        label = getattr(fn, "__qualname__", None) or repr(fn)
        raise ValueError(
            f"Lambda layer {layer.name!r} cannot be saved or configured: its {what} {label} is not registered. "
            "myelin never stores code in a file; define it as a named function decorated with "
            "@myelin.saving.register_serializable() so that the file can name it, and run that definition "
            "before loading"
        )
    return name


def _resolve_function(value, what: str):
    """A function from a config: the object itself (in memory) or a registered name (from a file)."""
    if value is None or callable(value):
        return value
    if isinstance(value, str):
        from ..saving import _lookup  # noqa: PLC0415  (saving imports the layers)

        fn = _lookup(activations.REGISTRY, value)
        if not callable(fn):
            raise ValueError(f"Lambda: the {what} {value!r} is not a function")
        return fn
    raise TypeError(f"Lambda: {what} must be a function or a registered function's name, got {value!r}")


def _argument_names(fn) -> set:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


@REGISTRY.register("Lambda")
class Lambda(Layer):
    """Wrap a function of tensors as a layer: ``function(inputs, **arguments)``.

    ``output_shape`` (without the batch axis, or a function of the input shape) is only
    needed when running the function on a sample of zeros cannot tell it; ``mask`` is the
    output's mask (a fixed value, or a function ``mask(inputs, previous_mask)``); the function
    is also given ``mask`` and ``training`` when it takes arguments of those names.

    Saving: a file never holds code. A Lambda whose function (and ``output_shape``/``mask``
    functions) is registered with ``@myelin.saving.register_serializable()`` is saved by that
    name and found again on loading; any other function (a ``lambda``, a local function) makes
    ``get_config`` and ``model.save`` fail with an error that names the layer. Fit does not
    replay a Lambda's steps from a recording (its code is not myelin's own).

    Example:
        >>> import numpy as np
        >>> from myelin import ops
        >>> Lambda(lambda x: ops.square(x))(np.array([[2.0, 3.0]])).data
        array([[4., 9.]], dtype=float32)
        >>> Lambda(lambda x, k: x * k, arguments={"k": 10.0})(np.ones((1, 1))).data
        array([[10.]], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        function = _resolve_function(function, "function")
        if not callable(function):
            raise TypeError(f"Lambda {self.name!r}: function must be callable, got {function!r}")
        if isinstance(output_shape, str):
            output_shape = _resolve_function(output_shape, "output_shape")
        elif output_shape is not None and not callable(output_shape):
            output_shape = tuple(output_shape)
        if isinstance(mask, str):
            mask = _resolve_function(mask, "mask")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda {self.name!r}: arguments must be a dict of keyword arguments, got {arguments!r}")
        self.function, self.mask, self.arguments = function, mask, dict(arguments or {})
        self._output_shape = output_shape
        self.supports_masking = mask is not None
        names = _argument_names(function)
        self._takes_mask, self._takes_training = "mask" in names, "training" in names

    def call(self, inputs, mask=None, training=False):
        kwargs = dict(self.arguments)
        if self._takes_mask:
            kwargs["mask"] = mask
        if self._takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + tuple(self._output_shape)

    def compute_mask(self, inputs, previous_mask):
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def get_config(self) -> dict:
        config = {**super().get_config(), "function": _function_name(self.function, "function", self)}
        if self._output_shape is not None:
            config["output_shape"] = (
                _function_name(self._output_shape, "output_shape function", self)
                if callable(self._output_shape)
                else list(self._output_shape)
            )
        if self.mask is not None:
            config["mask"] = _function_name(self.mask, "mask function", self) if callable(self.mask) else self.mask
        config["arguments"] = dict(self.arguments)
        return config


__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Lambda",
    "LeakyReLU",
    "Masking",
    "ReLU",
    "RepeatVector",
    "Reshape",
    "Softmax",
]
