"""Level 4: layers, under Keras's names (``myelin.layers.Dense`` and friends).

Example:
    >>> from myelin.layers import Dense, Dropout, Flatten, Input, Normalization, StringLookup
"""

from .base import REGISTRY, Input, InputLayer, Layer, SymbolicTensor
from .core import Activation, Dense, Dropout, Embedding, Flatten, LeakyReLU, Masking, ReLU, RepeatVector, Reshape, Softmax
from .merging import Concatenate, concatenate
from .preprocessing import CategoryEncoding, IntegerLookup, Normalization, Rescaling, StringLookup
from .rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    TimeDistributed,
)

__all__ = [
    "GRU",
    "LSTM",
    "REGISTRY",
    "RNN",
    "Activation",
    "Bidirectional",
    "CategoryEncoding",
    "Concatenate",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "Input",
    "InputLayer",
    "IntegerLookup",
    "LSTMCell",
    "Layer",
    "LeakyReLU",
    "Masking",
    "Normalization",
    "ReLU",
    "RepeatVector",
    "Rescaling",
    "Reshape",
    "SimpleRNN",
    "SimpleRNNCell",
    "Softmax",
    "StackedRNNCells",
    "StringLookup",
    "SymbolicTensor",
    "TimeDistributed",
    "concatenate",
]
