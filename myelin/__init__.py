"""myelin: a readable deep-learning library with Keras's API and its own autodiff.

Example:
    >>> import myelin
    >>> from myelin.layers import Dense
    >>> model = myelin.Sequential([myelin.Input(shape=(4,)), Dense(3, activation="softmax")])
"""

from . import (
    activations,
    backend,
    callbacks,
    data,
    datasets,
    debugging,
    initializers,
    layers,
    losses,
    metrics,
    models,
    onnx,  # registers Model.export's ONNX writer (the onnx package itself loads only when exporting)
    ops,
    optimizers,
    regularizers,
    saving,
    tabular,  # registers TabularModel, so load_model reads the models `myelin train` saves
    tune,
    utils,
)
from .debugging import detect_anomaly
from .gradcheck import gradcheck
from .gradient_tape import GradientTape
from .layers import Input
from .models import Model, Sequential
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad

__version__ = "0.1.0"

__all__ = [
    "GradientTape",
    "Input",
    "Model",
    "Sequential",
    "Tensor",
    "activations",
    "backend",
    "callbacks",
    "data",
    "datasets",
    "debugging",
    "detect_anomaly",
    "enable_grad",
    "gradcheck",
    "initializers",
    "is_grad_enabled",
    "layers",
    "losses",
    "metrics",
    "models",
    "no_grad",
    "onnx",
    "ops",
    "optimizers",
    "regularizers",
    "saving",
    "tabular",
    "tune",
    "utils",
]
