"""Level 4: layers, under Keras's names (``myelin.layers.Dense`` and friends).

Example:
    >>> from myelin.layers import Dense, Dropout, Flatten, Input
"""

from .base import REGISTRY, Input, InputLayer, Layer, SymbolicTensor
from .core import Activation, Dense, Dropout, Flatten, LeakyReLU, ReLU, Reshape, Softmax

__all__ = [
    "REGISTRY",
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "LeakyReLU",
    "ReLU",
    "Reshape",
    "Softmax",
    "SymbolicTensor",
]
