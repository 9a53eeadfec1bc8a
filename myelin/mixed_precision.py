"""Keras 3's ``keras.mixed_precision``: policies that compute in float16/bfloat16 and keep float32 variables.

``set_global_policy("mixed_float16")`` makes every layer created afterwards compute in
float16 (its inputs cast at the call, its variables read through casts) while its variables
stay float32; ``compile`` then wraps the optimizer in a :class:`LossScaleOptimizer`, and the
losses are computed in float32. ``"mixed_bfloat16"`` does the same in bfloat16 (through the
``ml_dtypes`` package) without loss scaling. On NumPy this is correct, not fast: float16
matrix products run without the hardware that makes them pay (docs/mixed_precision.md).

Example:
    >>> from myelin import layers, mixed_precision
    >>> mixed_precision.set_global_policy("mixed_float16")
    >>> layer = layers.Dense(2)
    >>> layer.compute_dtype, layer.variable_dtype
    ('float16', 'float32')
    >>> mixed_precision.set_global_policy("float32")
    >>> mixed_precision.global_policy()
    <DTypePolicy "float32">
"""

from __future__ import annotations

from .dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from .optimizers import LossScaleOptimizer

Policy = DTypePolicy  # Keras's older name
global_policy = dtype_policy  # Keras's older name
set_global_policy = set_dtype_policy  # Keras's older name

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
