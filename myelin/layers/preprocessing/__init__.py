"""Preprocessing layers, as Keras 3 groups them: tabular (``tabular.py``), image and text.

Example:
    >>> from myelin.layers.preprocessing import Normalization
"""

from .tabular import CategoryEncoding, IntegerLookup, Normalization, Rescaling, StringLookup

__all__ = ["CategoryEncoding", "IntegerLookup", "Normalization", "Rescaling", "StringLookup"]
