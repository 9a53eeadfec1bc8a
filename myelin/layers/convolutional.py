"""Convolution layers under Keras 3's names: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D.

Kernels have Keras's layouts: ``kernel_size + (input_channels / groups, filters)`` for a
convolution, ``kernel_size + (filters, input_channels)`` for a transposed one,
``kernel_size + (input_channels, depth_multiplier)`` for a depthwise one. Inputs are
channels-last (batch, *spatial, channels) unless ``data_format="channels_first"``. A
linear, relu or tanh activation runs inside the convolution's node (one output buffer).
Keras's LoRA (``lora_rank``) is refused.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> conv = layers.Conv2D(8, 3, padding="same", activation="relu")
    >>> conv(np.ones((2, 28, 28, 1))).shape, conv.kernel.shape
    ((2, 28, 28, 8), (3, 3, 1, 8))
"""

from __future__ import annotations

import re

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from ..ops.convolution import _data_format, _padding, _tuple, conv_transpose_crops, padding_amounts
from .base import REGISTRY, Layer, _shape_str, unique_name
from .core import _FUSED, _config_of

_LAYOUT = {"channels_last": "(batch, *spatial, channels)", "channels_first": "(batch, channels, *spatial)"}


def _positive_int(value, what: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    return int(value)


def _keras_name(cls_name: str) -> str:
    """Keras's default layer name: ``Conv2DTranspose`` -> ``conv2d_transpose`` (digits and D stay together)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls_name)).lower()


class _SpatialLayer(Layer):
    """Shared input checks of the convolution and pooling layers: rank and channel count, naming the layer."""

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name or unique_name(_keras_name(type(self).__name__)), **kwargs)

    _rank = 2

    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _check_layout(self, shape, channels=None) -> None:
        kind = type(self).__name__
        if len(shape) != self._rank + 2:
            raise ValueError(
                f"{kind} layer {self.name!r} expects inputs of rank {self._rank + 2} {_LAYOUT[self.data_format]} "
                f"({self.data_format}), got shape {_shape_str(shape)}"
            )
        got = shape[self._channel_axis()]
        if channels is not None and got is not None and got != channels:
            other = shape[1] if self.data_format == "channels_last" else shape[-1]
            hint = ""
            if other == channels:
                flipped = "channels_first" if self.data_format == "channels_last" else "channels_last"
                hint = f"; the data looks {flipped}, the layer is {self.data_format}"
            raise ValueError(
                f"{kind} layer {self.name!r} expects {channels} channels on axis {self._channel_axis()} "
                f"({self.data_format}), got input shape {_shape_str(shape)}{hint}"
            )

    def _check_input(self, shape: tuple) -> None:
        # Spatial sizes may change from call to call (as in Keras); the rank and the channels may not.
        self._check_layout(shape, getattr(self, "_channels", None))

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def _with_spatial(self, shape, spatial, channels):
        if self.data_format == "channels_last":
            return (shape[0], *spatial, channels)
        return (shape[0], channels, *spatial)


class _BaseConv(_SpatialLayer):
    """Keras's BaseConv: the arguments and checks every (transposed, depthwise, separable) convolution shares."""

    _transposed = False

    def _setup(
        self,
        filters,
        kernel_size,
        strides,
        padding,
        data_format,
        dilation_rate,
        activation,
        use_bias,
        bias_initializer,
        bias_regularizer,
        activity_regularizer,
        bias_constraint,
        kwargs,
        lora_rank=None,
    ):
        kind = type(self).__name__
        if lora_rank is not None:
            raise ValueError(
                f"{kind}: lora_rank is not supported by myelin (LoRA adapters are not implemented), got {lora_rank!r}"
            )
        _SpatialLayer.__init__(self, activity_regularizer=activity_regularizer, **kwargs)
        self.filters = None if filters is None else _positive_int(filters, "filters", kind)
        self.kernel_size = _tuple(kernel_size, self._rank, "kernel_size", kind)
        self.strides = _tuple(strides, self._rank, "strides", kind)
        self.dilation_rate = _tuple(dilation_rate, self._rank, "dilation_rate", kind)
        self.padding = _padding(padding, kind, causal=self._rank == 1 and not self._transposed)
        self.data_format = _data_format(data_format, kind)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{kind}: strides > 1 cannot be combined with dilation_rate > 1, "
                f"got strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.bias = None
        self._channels = None

    def _op_name(self) -> str:
        return f"{type(self).__name__} layer {self.name!r}"

    def _finish(self, out):
        return out if _FUSED.get(self.activation) else self.activation(out)

    def _fused(self) -> str:
        return _FUSED.get(self.activation, "linear")

    def _build_bias(self, size: int) -> None:
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(size,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )

    def _start_build(self, input_shape) -> int:
        self._check_layout(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"{self._op_name()} needs a known channel axis, got input shape {_shape_str(input_shape)}")
        self._channels = int(channels)
        self.compute_output_shape(input_shape)  # a kernel larger than the padded input fails here, naming the layer
        return self._channels

    def _conv_sizes(self, spatial, kernel_size, strides, dilation, padding):
        sizes = []
        for n, k, s, d in zip(spatial, kernel_size, strides, dilation):
            if n is None:
                sizes.append(None)
                continue
            window = (k - 1) * d + 1
            lo, hi = padding_amounts(n, window, s, padding)
            if n + lo + hi < window:
                raise ValueError(
                    f"{self._op_name()}: the kernel (kernel_size {self.kernel_size}, dilation_rate {self.dilation_rate}) "
                    f"is larger than the padded input: expected spatial sizes of at least {window} with "
                    f"padding={padding!r}, got input spatial shape {tuple(spatial)}"
                )
            sizes.append((n + lo + hi - window) // s + 1)
        return tuple(sizes)

    def _common_config(self) -> dict:
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }

    def _bias_config(self) -> dict:
        return {
            "bias_initializer": _config_of(self.bias_initializer),
            "bias_regularizer": _config_of(self.bias_regularizer),
            "activity_regularizer": _config_of(self.activity_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class _Conv(_BaseConv):
    """Keras's BaseConv: ``activation(conv(x, kernel) + bias)``."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        **kwargs,
    ):
        self._setup(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            activity_regularizer,
            bias_constraint,
            kwargs,
            lora_rank,
        )
        kind = type(self).__name__
        self.groups = _positive_int(groups, "groups", kind)
        if self.filters % self.groups:
            raise ValueError(f"{kind}: filters must be divisible by groups, got filters={self.filters}, groups={self.groups}")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.kernel = None

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{self._op_name()}: the input's channels must be divisible by groups={self.groups}, "
                f"got input shape {_shape_str(input_shape)}"
            )
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self._build_bias(self.filters)

    def call(self, x, training=False):
        out = ops.conv_nd(
            x,
            self.kernel,
            self.bias,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
            self.groups,
            self._fused(),
            op=self._op_name(),
        )
        return self._finish(out)

    def compute_output_shape(self, input_shape):
        spatial = self._conv_sizes(
            self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate, self.padding
        )
        return self._with_spatial(input_shape, spatial, self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._common_config(),
            "groups": self.groups,
            "kernel_initializer": _config_of(self.kernel_initializer),
            "kernel_regularizer": _config_of(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            **self._bias_config(),
        }


@REGISTRY.register("Conv1D")
class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); ``padding`` may also be ``"causal"`` (zeros on the left only).

    Example:
        >>> import numpy as np
        >>> Conv1D(4, 3, padding="causal")(np.ones((2, 10, 3))).shape
        (2, 10, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 1


@REGISTRY.register("Conv2D")
class Conv2D(_Conv):
    """2-D convolution over images (batch, height, width, channels), kernel (kh, kw, channels / groups, filters).

    Example:
        >>> import numpy as np
        >>> Conv2D(32, (3, 3), activation="relu")(np.zeros((1, 28, 28, 1))).shape
        (1, 26, 26, 32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 2


@REGISTRY.register("Conv3D")
class Conv3D(_Conv):
    """3-D convolution over volumes (batch, depth, height, width, channels).

    Example:
        >>> import numpy as np
        >>> Conv3D(2, 3, strides=2, padding="same")(np.zeros((1, 6, 6, 6, 1))).shape
        (1, 3, 3, 3, 2)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 3


class _ConvTranspose(_BaseConv):
    """Keras's BaseConvTranspose: the input gradient of a convolution, kernel (*kernel_size, filters, channels)."""

    _transposed = True

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        **kwargs,
    ):
        self._setup(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            activity_regularizer,
            bias_constraint,
            kwargs,
            lora_rank,
        )
        kind = type(self).__name__
        if output_padding is None:
            self.output_padding = None
        else:
            values = (output_padding,) * self._rank if isinstance(output_padding, int) else tuple(output_padding)
            if len(values) != self._rank or any(isinstance(v, bool) or int(v) < 0 for v in values):
                raise ValueError(
                    f"{kind}: output_padding must be a non-negative integer or {self._rank} of them, got {output_padding!r}"
                )
            self.output_padding = tuple(int(v) for v in values)
            for o, s, d in zip(self.output_padding, self.strides, self.dilation_rate):
                if o >= max(s, d):
                    raise ValueError(
                        f"{kind}: output_padding must be smaller than the strides (or the dilation_rate), "
                        f"got output_padding={self.output_padding}, strides={self.strides}"
                    )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.kernel = None

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self._build_bias(self.filters)

    def call(self, x, training=False):
        out = ops.conv_transpose_nd(
            x,
            self.kernel,
            self.bias,
            self.strides,
            self.padding,
            self.output_padding,
            self.data_format,
            self.dilation_rate,
            self._fused(),
            op=self._op_name(),
        )
        return self._finish(out)

    def compute_output_shape(self, input_shape):
        outs = self.output_padding or (None,) * self._rank
        spatial = []
        for n, k, s, d, o in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate, outs):
            if n is None:
                spatial.append(None)
                continue
            lo, hi = conv_transpose_crops(k, s, self.padding, o, d)
            spatial.append((n - 1) * s + (k - 1) * d + 1 - lo - hi)
        return self._with_spatial(input_shape, tuple(spatial), self.filters)

    def get_config(self) -> dict:
        common = self._common_config()
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": common.pop("kernel_size"),
            "strides": common.pop("strides"),
            "padding": common.pop("padding"),
            "output_padding": self.output_padding,
            **common,
            "kernel_initializer": _config_of(self.kernel_initializer),
            "kernel_regularizer": _config_of(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            **self._bias_config(),
        }


@REGISTRY.register("Conv1DTranspose")
class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution (upsampling a sequence): kernel (size, filters, channels).

    Example:
        >>> import numpy as np
        >>> Conv1DTranspose(2, 3, strides=2, padding="same")(np.ones((1, 5, 4))).shape
        (1, 10, 2)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 1


@REGISTRY.register("Conv2DTranspose")
class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (a learned upsampling of images), Keras's padding and output_padding.

    Example:
        >>> import numpy as np
        >>> Conv2DTranspose(3, 3, strides=2)(np.ones((1, 4, 4, 8))).shape
        (1, 9, 9, 3)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 2


@REGISTRY.register("Conv3DTranspose")
class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution.

    Example:
        >>> import numpy as np
        >>> Conv3DTranspose(1, 2, strides=2)(np.ones((1, 2, 2, 2, 3))).shape
        (1, 4, 4, 4, 1)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 3


class _DepthwiseConv(_BaseConv):
    """Keras's BaseDepthwiseConv: each input channel convolved with its own ``depth_multiplier`` filters."""

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self._setup(
            None,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            activity_regularizer,
            bias_constraint,
            kwargs,
        )
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier", type(self).__name__)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.kernel = None

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="kernel",
        )
        self._build_bias(channels * self.depth_multiplier)

    def call(self, x, training=False):
        c = self._channels
        flat = ops.reshape(self.kernel, (*self.kernel_size, 1, c * self.depth_multiplier))
        out = ops.conv_nd(
            x,
            flat,
            self.bias,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
            c,
            self._fused(),
            op=self._op_name(),
        )
        return self._finish(out)

    def compute_output_shape(self, input_shape):
        spatial = self._conv_sizes(
            self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate, self.padding
        )
        channels = input_shape[self._channel_axis()]
        return self._with_spatial(input_shape, spatial, None if channels is None else channels * self.depth_multiplier)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            **self._common_config(),
            "depthwise_initializer": _config_of(self.depthwise_initializer),
            "depthwise_regularizer": _config_of(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            **self._bias_config(),
        }


@REGISTRY.register("DepthwiseConv1D")
class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution: kernel (size, channels, depth_multiplier).

    Example:
        >>> import numpy as np
        >>> DepthwiseConv1D(3, depth_multiplier=2)(np.ones((1, 6, 4))).shape
        (1, 4, 8)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 1


@REGISTRY.register("DepthwiseConv2D")
class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: kernel (kh, kw, channels, depth_multiplier), one filter bank per channel.

    Example:
        >>> import numpy as np
        >>> DepthwiseConv2D(3, padding="same")(np.ones((1, 8, 8, 5))).shape
        (1, 8, 8, 5)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 2


class _SeparableConv(_BaseConv):
    """Keras's BaseSeparableConv: a depthwise convolution, then a pointwise (1x1) one with bias and activation."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self._setup(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            activity_regularizer,
            bias_constraint,
            kwargs,
        )
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier", type(self).__name__)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="depthwise_kernel",
        )
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * self._rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
            name="pointwise_kernel",
        )
        self._build_bias(self.filters)

    def call(self, x, training=False):
        c, name = self._channels, self._op_name()
        flat = ops.reshape(self.depthwise_kernel, (*self.kernel_size, 1, c * self.depth_multiplier))
        depth = ops.conv_nd(x, flat, None, self.strides, self.padding, self.data_format, self.dilation_rate, c, op=name)
        out = ops.conv_nd(depth, self.pointwise_kernel, self.bias, 1, "valid", self.data_format, 1, 1, self._fused(), op=name)
        return self._finish(out)

    def compute_output_shape(self, input_shape):
        spatial = self._conv_sizes(
            self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate, self.padding
        )
        return self._with_spatial(input_shape, spatial, self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            **self._common_config(),
            "depthwise_initializer": _config_of(self.depthwise_initializer),
            "pointwise_initializer": _config_of(self.pointwise_initializer),
            "depthwise_regularizer": _config_of(self.depthwise_regularizer),
            "pointwise_regularizer": _config_of(self.pointwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            **self._bias_config(),
        }


@REGISTRY.register("SeparableConv1D")
class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution: a depthwise step, then a pointwise one to ``filters`` channels.

    Example:
        >>> import numpy as np
        >>> SeparableConv1D(4, 3)(np.ones((1, 6, 2))).shape
        (1, 4, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 1


@REGISTRY.register("SeparableConv2D")
class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution (Xception, MobileNet): kernels (kh, kw, c, m) and (1, 1, c * m, filters).

    Example:
        >>> import numpy as np
        >>> SeparableConv2D(8, 3, padding="same")(np.ones((1, 6, 6, 3))).shape
        (1, 6, 6, 8)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _rank = 2


__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
]
