"""Keras 3 on TensorFlow running the seed program as written (``fit`` with Keras's defaults)."""

from __future__ import annotations

import os
from types import SimpleNamespace

from .kerasapi import Trainer

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def configure(threads: int) -> None:
    if not threads:  # 0: TensorFlow's own default
        return
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def versions() -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    return {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "backend": keras.backend.backend(),
    }


def make(variant: str, sizes, lr: float, seed: int) -> Trainer:
    import keras

    lib = SimpleNamespace(
        layers=keras.layers,
        models=keras.models,
        optimizers=keras.optimizers,
        to_categorical=keras.utils.to_categorical,
        set_random_seed=keras.utils.set_random_seed,
        Callback=keras.callbacks.Callback,
    )
    return Trainer(lib, sizes, lr, seed)
