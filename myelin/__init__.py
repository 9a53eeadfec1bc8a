"""myelin: a readable deep-learning library with Keras's API and its own autodiff.

``import myelin`` loads only the autodiff core (``backend``, ``tensor``, ``ops``): each other
submodule (``myelin.layers``, ``myelin.models``, ...) and each name below is imported the
first time it is used, as SciPy's submodules are, so a program pays only for what it asks for.

Example:
    >>> import myelin
    >>> from myelin.layers import Dense
    >>> model = myelin.Sequential([myelin.Input(shape=(4,)), Dense(3, activation="softmax")])
"""

from __future__ import annotations

import importlib

from . import ops  # noqa: F401  (the autodiff core: binds Tensor's operators to the ops; tensor never imports ops)

__version__ = "0.1.0"

# Public submodules, imported on first use.
_SUBMODULES = (
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "data",
    "datasets",
    "debugging",
    "distribution",
    "dtype_policies",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "onnx",
    "preprocessing",
    "ops",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "tabular",
    "tree",
    "tune",
    "utils",
    "wrappers",
)
# Names re-exported at the top level -> the submodule that defines them.
_NAMES = {
    "GradientTape": "gradient_tape",
    "Initializer": "initializers",
    "Input": "layers",
    "InputSpec": "input_spec",
    "Layer": "layers",
    "Loss": "losses",
    "Metric": "metrics",
    "Optimizer": "optimizers",
    "Regularizer": "regularizers",
    "Variable": "layers.base",
    "Model": "models",
    "Sequential": "models",
    "Tensor": "tensor",
    "detect_anomaly": "debugging",
    "DTypePolicy": "dtype_policies",
    "FloatDTypePolicy": "dtype_policies",
    "enable_grad": "tensor",
    "gradcheck": "gradcheck",
    "is_grad_enabled": "tensor",
    "no_grad": "tensor",
    "KerasTensor": "layers.base",
    "name_scope": "scopes",
    "device": "scopes",
    "remat": "rematerialization",
    "RematScope": "rematerialization",
}


def version() -> str:
    """myelin's version string (Keras's ``keras.version()``).

    Example:
        >>> import myelin
        >>> myelin.version() == myelin.__version__
        True
    """
    return __version__


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
        globals()[name] = value  # later uses find it directly
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES) | set(_NAMES))


__all__ = sorted(set(_SUBMODULES) | set(_NAMES) | {"version"})
