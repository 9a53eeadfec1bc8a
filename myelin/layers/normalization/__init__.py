"""Normalization layers, one file per layer as in Keras 3 (``keras/src/layers/normalization/``).

Example:
    >>> from myelin.layers.normalization import LayerNormalization, RMSNormalization, UnitNormalization
"""

from .layer_normalization import LayerNormalization
from .rms_normalization import RMSNormalization
from .unit_normalization import UnitNormalization

__all__ = ["LayerNormalization", "RMSNormalization", "UnitNormalization"]
