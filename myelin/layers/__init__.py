"""Level 4: layers, under Keras's names (``myelin.layers.Dense`` and friends).

Example:
    >>> from myelin.layers import Dense, Dropout, Flatten, Input, Normalization, StringLookup
"""

from .base import REGISTRY, Input, InputLayer, Layer, SymbolicTensor
from .core import Activation, Dense, Dropout, Flatten, Identity, LeakyReLU, ReLU, Reshape, Softmax
from .merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .preprocessing import CategoryEncoding, IntegerLookup, Normalization, Rescaling, StringLookup
from .regularization import SpatialDropout1D, SpatialDropout2D
from .reshaping import Permute, RepeatVector

__all__ = [
    "REGISTRY",
    "Activation",
    "Add",
    "Average",
    "CategoryEncoding",
    "Concatenate",
    "Dense",
    "Dropout",
    "Flatten",
    "Identity",
    "Input",
    "InputLayer",
    "IntegerLookup",
    "Layer",
    "LeakyReLU",
    "Maximum",
    "Minimum",
    "Multiply",
    "Normalization",
    "Permute",
    "ReLU",
    "RepeatVector",
    "Rescaling",
    "Reshape",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "StringLookup",
    "Subtract",
    "SymbolicTensor",
    "add",
    "average",
    "concatenate",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
