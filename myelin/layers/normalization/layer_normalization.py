"""``LayerNormalization``: each sample normalized over its feature axes, then scaled and shifted.

Example:
    >>> import numpy as np
    >>> from myelin.layers import LayerNormalization
    >>> LayerNormalization(epsilon=0.0)(np.array([[1.0, 3.0]])).data.tolist()
    [[-1.0, 1.0]]
"""

from __future__ import annotations

import warnings

from ... import constraints, initializers, ops, regularizers
from ..base import REGISTRY, Layer
from ..core import _config_of
from ._axes import check_axis, resolve_axes


@REGISTRY.register("LayerNormalization")
class LayerNormalization(Layer):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``, the moments taken per sample over ``axis``.

    Keras 3's arguments and weights: ``gamma`` (``scale=True``) and ``beta`` (``center=True``)
    have the shape of the normalized axes. One fused primitive (``ops.LayerNorm``) computes
    the forward and the closed-form backward. ``rms_scaling=True`` is Keras's deprecated
    form (divides by ``sqrt(var + epsilon)`` without centering; no ``beta``), kept with
    Keras's warning; ``RMSNormalization`` is the real RMS norm. Masks pass through.

    Example:
        >>> ln = LayerNormalization()
        >>> ln.build((None, 5, 8)); ln.gamma.shape, ln.beta.shape
        ((8,), (8,))
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _float32_under_mixed = True  # under mixed_float16/bfloat16 it computes in float32, as Keras's
    supports_masking = True

    def __init__(
        self,
        axis=-1,
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
        rms_scaling = bool(kwargs.pop("rms_scaling", False))
        if rms_scaling:
            warnings.warn(
                "LayerNormalization: rms_scaling=True is deprecated in Keras (it divides by the standard deviation, "
                "not the root mean square); use RMSNormalization for RMS normalization",
                UserWarning,
                stacklevel=2,
            )
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(f"LayerNormalization: epsilon must be a number >= 0, got {epsilon!r}")
        super().__init__(**kwargs)
        self.axis = check_axis("LayerNormalization", axis)
        self.epsilon = float(epsilon)
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None
        self._axes: tuple | None = None

    def build(self, input_shape):
        self._axes = resolve_axes("LayerNormalization", self.name, self.axis, input_shape)
        shape = tuple(input_shape[a] for a in self._axes)
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                name="gamma",
            )
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                name="beta",
            )

    def call(self, x, training=False):
        return ops.layer_normalization(x, self.gamma, self.beta, self._axes, self.epsilon, rms_scaling=self.rms_scaling)

    def compute_output_shape(self, input_shape):
        resolve_axes("LayerNormalization", self.name, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": _config_of(self.beta_initializer),
            "gamma_initializer": _config_of(self.gamma_initializer),
            "beta_regularizer": _config_of(self.beta_regularizer),
            "gamma_regularizer": _config_of(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
