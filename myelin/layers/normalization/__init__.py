"""Normalization layers, one file per layer as in Keras 3 (``keras/src/layers/normalization/``).

Example:
    >>> from myelin.layers.normalization import BatchNormalization, LayerNormalization, RMSNormalization
"""

from .batch_normalization import BatchNormalization, GroupNormalization
from .layer_normalization import LayerNormalization
from .rms_normalization import RMSNormalization
from .unit_normalization import UnitNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "RMSNormalization", "UnitNormalization"]
