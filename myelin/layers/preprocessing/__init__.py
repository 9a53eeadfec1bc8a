"""Preprocessing layers, as Keras 3 groups them: tabular (``tabular.py``), image (``image.py``) and text.

Example:
    >>> from myelin.layers.preprocessing import Normalization
"""

from .image import (
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)
from .tabular import CategoryEncoding, IntegerLookup, Normalization, Rescaling, StringLookup

__all__ = [
    "CategoryEncoding",
    "CenterCrop",
    "IntegerLookup",
    "Normalization",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "StringLookup",
]
