"""One module per framework family, each with the same small interface.

A family module defines ``configure(threads)`` (thread settings, called once at start),
``versions()`` (a dict of package versions) and ``make(variant, sizes, lr, seed)``, which returns
a trainer with

- ``fit(data, batch, epochs) -> (seconds_per_epoch, logs)``: train ``epochs`` epochs on
  ``data.x_train`` with validation on ``data.x_val`` after each, timing each epoch;
- ``predict(x, batch) -> probabilities or scores`` (only their argmax is used).

Every trainer builds the same network: dense layers of ``sizes`` with relu between them and a
softmax (or softmax cross-entropy on logits) at the end, trained with Adam on the cross-entropy.
Importing this package imports no framework.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """A contestant: its name in tables, the family module and environment it runs in, and a description."""

    name: str
    family: str  # module bench.impls.<family>; also the worker process it runs in
    env: str | None  # bench/envs/<env>, or None for the runner's own interpreter
    label: str


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        Variant("myelin", "myelin_impl", None, "myelin (this checkout), fit()"),
        Variant("numpy", "numpy_impl", None, "hand-written NumPy, float32, preallocated buffers"),
        Variant("torch", "torch_impl", "torch", "PyTorch eager, manual batching"),
        Variant("torch-dataloader", "torch_impl", "torch", "PyTorch eager, DataLoader"),
        Variant("jax-jit", "jax_impl", "jax", "JAX, jitted train step"),
        Variant("jax-scan", "jax_impl", "jax", "JAX, whole epoch compiled with lax.scan"),
        Variant("keras", "keras_impl", "keras", "Keras 3 on TensorFlow, fit()"),
        Variant("sklearn", "sklearn_impl", "sklearn", "scikit-learn MLPClassifier (partial_fit)"),
    ]
}

# The import each framework's users write, timed by the import-time workload.
IMPORTS: dict[str, str] = {
    "myelin": "import myelin",
    "numpy": "import numpy",
    "torch": "import torch",
    "jax": "import jax, jax.numpy",
    "keras": "import keras",
    "sklearn": "from sklearn.neural_network import MLPClassifier",
}
IMPORT_ENVS: dict[str, str | None] = {
    "myelin": None,
    "numpy": None,
    "torch": "torch",
    "jax": "jax",
    "keras": "keras",
    "sklearn": "sklearn",
}


def epoch_logs(loss_sum: float, correct: int, n: int, val_loss_sum: float, val_correct: int, n_val: int) -> dict:
    """Keras-style logs of an epoch from summed losses and correct counts.

    Example:
        >>> epoch_logs(5.0, 8, 10, 1.0, 1, 2)
        {'loss': 0.5, 'accuracy': 0.8, 'val_loss': 0.5, 'val_accuracy': 0.5}
    """
    n_val = max(n_val, 1)
    return {
        "loss": loss_sum / n,
        "accuracy": correct / n,
        "val_loss": val_loss_sum / n_val,
        "val_accuracy": val_correct / n_val,
    }


def families(names: list[str]) -> dict[str, list[str]]:
    """The variants ``names`` grouped by the family (worker) that runs them, in first-seen order.

    Example:
        >>> families(["torch", "myelin", "torch-dataloader"])
        {'torch_impl': ['torch', 'torch-dataloader'], 'myelin_impl': ['myelin']}
    """
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(VARIANTS[name].family, []).append(name)
    return out
