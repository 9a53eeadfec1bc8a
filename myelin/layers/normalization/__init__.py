"""Normalization layers, one file per layer as in Keras 3 (``keras/src/layers/normalization/``)."""

from .batch_normalization import BatchNormalization, GroupNormalization

__all__ = ["BatchNormalization", "GroupNormalization"]
