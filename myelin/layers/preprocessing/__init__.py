"""Preprocessing layers, as Keras 3 groups them: tabular (``tabular.py``), image and text (``text_vectorization.py``).

Example:
    >>> from myelin.layers.preprocessing import Normalization
"""

from .tabular import CategoryEncoding, IntegerLookup, Normalization, Rescaling, StringLookup
from .text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "IntegerLookup", "Normalization", "Rescaling", "StringLookup", "TextVectorization"]
