"""``BatchNormalization`` and ``GroupNormalization``, under Keras 3's names, arguments and configs.

``BatchNormalization`` normalizes with the batch's statistics in training and with its moving
statistics at inference; the moving statistics are non-trainable weights updated inside the
``BatchNorm`` primitive's forward (:mod:`myelin.ops.batchnorm`), so that ``fit``'s recorded
and replayed steps update them exactly as the ordinary path does. As in Keras, a layer with
``trainable=False`` is frozen *and* runs in inference mode.

Mapping to PyTorch's ``nn.BatchNorm1d/2d``: Keras's ``momentum`` is the weight of the old
moving value, torch's the weight of the new batch value, so ``torch_momentum = 1 -
momentum``; torch updates ``running_var`` with the *unbiased* batch variance (times n / (n -
1), n the number of values per channel) while Keras (and myelin) use the biased one; both
normalize the training batch with the biased variance. ``epsilon`` is torch's ``eps``.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> bn = layers.BatchNormalization(momentum=0.9)
    >>> y = bn(np.array([[0.0], [2.0]], np.float32), training=True)
    >>> bn.moving_mean.data, bn.moving_variance.data
    (array([0.1], dtype=float32), array([1.], dtype=float32))
"""

from __future__ import annotations

from ... import constraints, initializers, ops, regularizers
from ...ops.batchnorm import batch_norm
from ..base import REGISTRY, Layer, _shape_str
from ..core import _config_of


def _check_axis(layer, axis, shape) -> int:
    if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: axis {axis} is not a feature axis of inputs of shape "
            f"{_shape_str(shape)} (it must lie in 1..{len(shape) - 1} or -{len(shape) - 1}..-1)"
        )
    if shape[axis] is None:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: axis {axis} of the input must have a known size, "
            f"got shape {_shape_str(shape)}"
        )
    return axis % len(shape)


@REGISTRY.register("BatchNormalization")
class BatchNormalization(Layer):
    """Normalize each entry of ``axis`` by the batch's mean and variance (training) or the moving ones (inference).

    ``output = (x - mean) / sqrt(var + epsilon) * gamma + beta``. In training the moving
    statistics become ``moving * momentum + batch * (1 - momentum)`` (variance: the biased
    batch variance); a ``mask`` (rank one less than the input, True where a position counts)
    keeps masked positions out of the batch statistics. ``trainable=False`` freezes gamma
    and beta *and* makes the layer use the moving statistics even in training (Keras's rule).

    ``synchronized=True`` takes the training statistics (and their gradients) over the global
    batch of a data-parallel ``fit`` on several processes (``myelin.distribution``); on one
    process it is exactly ``synchronized=False``. ``renorm`` is accepted with its default only
    (myelin has no batch renormalization).

    Example:
        >>> import numpy as np
        >>> bn = BatchNormalization(epsilon=0.0)
        >>> bn(np.array([[1.0], [3.0]], np.float32), training=True).data.ravel().tolist()
        [-1.0, 1.0]
        >>> bn(np.array([[1.0], [3.0]], np.float32)).shape  # inference: the moving statistics
        (2, 1)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _float32_under_mixed = True  # under mixed_float16/bfloat16 it computes in float32, as Keras's
    supports_masking = True

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm: bool = False,
        renorm_clipping=None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"BatchNormalization {self.name!r}: axis must be an int, got {axis!r}")
        if not isinstance(synchronized, bool):
            raise TypeError(f"BatchNormalization {self.name!r}: synchronized must be True or False, got {synchronized!r}")
        if renorm or renorm_clipping is not None or renorm_momentum != 0.99:
            raise ValueError(
                f"BatchNormalization {self.name!r}: batch renormalization (renorm=True, renorm_clipping, "
                "renorm_momentum) is not supported; leave them at their defaults"
            )
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"BatchNormalization {self.name!r}: momentum must be in [0, 1], got {momentum!r}")
        if float(epsilon) < 0:
            raise ValueError(f"BatchNormalization {self.name!r}: epsilon must be >= 0, got {epsilon!r}")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm, self.renorm_clipping, self.renorm_momentum = False, None, 0.99
        self.synchronized = synchronized
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        axis = _check_axis(self, self.axis, input_shape)
        shape = (input_shape[axis],)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape,
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape,
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer, trainable=False, autocast=False
        )
        self.moving_variance = self.add_weight(
            shape=shape,
            name="moving_variance",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )

    def call(self, x, training=False, mask=None):
        if mask is not None and len(mask.shape) != len(x.shape) - 1:
            raise ValueError(
                f"BatchNormalization {self.name!r}: the mask must have one axis less than the input, got a mask of "
                f"shape {tuple(mask.shape)} for inputs of shape {tuple(x.shape)}"
            )
        training = bool(training) and self.trainable
        if mask is not None and training:
            mask = ops.expand_dims(mask, -1)
        return batch_norm(
            x,
            self.moving_mean,
            self.moving_variance,
            self.gamma,
            self.beta,
            mask=mask if training else None,
            axis=self.axis,
            epsilon=self.epsilon,
            momentum=self.momentum,
            training=training,
            synchronized=self.synchronized,
        )

    def compute_output_shape(self, input_shape):
        _check_axis(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _config_of(self.beta_initializer),
            "gamma_initializer": _config_of(self.gamma_initializer),
            "moving_mean_initializer": _config_of(self.moving_mean_initializer),
            "moving_variance_initializer": _config_of(self.moving_variance_initializer),
            "beta_regularizer": _config_of(self.beta_regularizer),
            "gamma_regularizer": _config_of(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


@REGISTRY.register("GroupNormalization")
class GroupNormalization(Layer):
    """Normalize each sample over groups of channels: ``groups`` groups along ``axis`` (-1: one per channel).

    Mean and (biased) variance are taken per sample and group over the group's channels and
    every other non-batch axis; then per-channel ``gamma`` and ``beta`` (``scale``,
    ``center``). The same in training and inference; PyTorch's ``nn.GroupNorm(groups,
    channels, eps=epsilon)`` on channels-first data.

    Example:
        >>> import numpy as np
        >>> gn = GroupNormalization(groups=2, epsilon=0.0)
        >>> gn(np.array([[1.0, 3.0, 5.0, 9.0]], np.float32)).data.tolist()
        [[-1.0, 1.0, -1.0, 1.0]]
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _float32_under_mixed = True  # under mixed_float16/bfloat16 it computes in float32, as Keras's
    supports_masking = True

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                f"GroupNormalization: groups must be a positive integer (or -1 for one group per channel), got {groups!r}"
            )
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"GroupNormalization {self.name!r}: axis must be an int, got {axis!r}")
        self.groups, self.axis, self.epsilon = groups, axis, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        axis = _check_axis(self, self.axis, input_shape)
        dim = input_shape[axis]
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups or dim % self.groups:
            raise ValueError(
                f"GroupNormalization {self.name!r}: the {dim} channels of axis {self.axis} cannot be split into "
                f"{self.groups} equal groups"
            )
        if self.scale:
            self.gamma = self.add_weight(
                shape=(dim,),
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=(dim,),
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )

    def call(self, x):
        shape = tuple(x.shape)
        axis = _check_axis(self, self.axis, shape)
        grouped = list(shape)
        grouped[axis : axis + 1] = [self.groups, shape[axis] // self.groups]
        xg = ops.reshape(x, grouped)
        reduce = [i for i in range(1, len(grouped)) if i != axis]
        mean, var = ops.moments(xg, axes=reduce, keepdims=True)
        inv = ops.rsqrt(ops.add(var, self.epsilon))
        out = ops.reshape(ops.multiply(ops.subtract(xg, mean), inv), shape)
        cshape = [1] * len(shape)
        cshape[axis] = shape[axis]
        if self.gamma is not None:
            out = ops.multiply(out, ops.reshape(self.gamma, cshape))
        if self.beta is not None:
            out = ops.add(out, ops.reshape(self.beta, cshape))
        return out

    def compute_output_shape(self, input_shape):
        _check_axis(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _config_of(self.beta_initializer),
            "gamma_initializer": _config_of(self.gamma_initializer),
            "beta_regularizer": _config_of(self.beta_regularizer),
            "gamma_regularizer": _config_of(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


__all__ = ["BatchNormalization", "GroupNormalization"]
