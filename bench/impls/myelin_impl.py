"""myelin, imported from the checkout being measured: the seed program's Sequential model and ``fit``."""

from __future__ import annotations

from types import SimpleNamespace

from .kerasapi import Trainer


def configure(threads: int) -> None:
    """Nothing to set here: NumPy's BLAS takes its thread count from OPENBLAS_NUM_THREADS."""


def versions() -> dict:
    import numpy as np

    import myelin
    from myelin import native

    kernels = "native optimizer kernels" if native.available() else f"NumPy optimizer rules ({native.status()})"
    return {"myelin": f"{myelin.__version__} ({kernels})", "numpy": np.__version__, "myelin_path": myelin.__file__}


def make(variant: str, sizes, lr: float, seed: int) -> Trainer:
    import myelin
    from myelin import callbacks, layers, models, optimizers

    lib = SimpleNamespace(
        layers=layers,
        models=models,
        optimizers=optimizers,
        to_categorical=myelin.utils.to_categorical,
        set_random_seed=myelin.utils.set_random_seed,
        Callback=callbacks.Callback,
    )
    return Trainer(lib, sizes, lr, seed)
