"""Regenerate tests/data/keras_optimizer_golden.json: Keras 3's fit with the optimizers' less common arguments.

Usage, from the repository root where Keras 3 is installed::

    KERAS_BACKEND=torch python -m tests.make_keras_optimizer_golden

Each case trains the same Dense layer from the same weights for two epochs of four batches
(no shuffling) with one optimizer configuration: gradient accumulation (with Adam's bias
correction, momentum, weight decay, clipping, the moving average and its overwrite), the moving
average alone, a loss scale factor. The file holds Keras's final weights, losses and
``optimizer.iterations``; tests/test_optimizer_arguments.py checks myelin against them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("data") / "keras_optimizer_golden.json"

CASES = {
    "adam_accumulate3": ("Adam", {"learning_rate": 0.05, "gradient_accumulation_steps": 3}),
    "sgd_accumulate2_ema": (
        "SGD",
        {
            "learning_rate": 0.1,
            "momentum": 0.5,
            "gradient_accumulation_steps": 2,
            "use_ema": True,
            "ema_momentum": 0.7,
            "ema_overwrite_frequency": 3,
        },
    ),
    "adam_ema": ("Adam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.8}),
    "adam_ema_overwrite2": (
        "Adam",
        {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.6, "ema_overwrite_frequency": 2},
    ),
    "sgd_loss_scale64": ("SGD", {"learning_rate": 0.1, "loss_scale_factor": 64.0}),
    "adamw_accumulate2_clip": (
        "AdamW",
        {"learning_rate": 0.05, "weight_decay": 0.1, "gradient_accumulation_steps": 2, "global_clipnorm": 0.5},
    ),
    "sgd_accumulate2_schedule": (
        "SGD",
        {
            "learning_rate": {
                "class_name": "ExponentialDecay",
                "config": {"initial_learning_rate": 0.2, "decay_steps": 2, "decay_rate": 0.5},
            },
            "gradient_accumulation_steps": 2,
        },
    ),
}


def problem() -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype("float32")
    y = rng.standard_normal((8, 2)).astype("float32")
    w0 = [rng.standard_normal((3, 2)).astype("float32") * 0.5, np.zeros(2, "float32")]
    return x, y, w0


def train(lib, class_name: str, arguments: dict) -> tuple:
    """Final weights, per-epoch losses and iterations of ``lib`` (keras or myelin) on the problem."""
    x, y, w0 = problem()
    arguments = dict(arguments)
    lr = arguments.get("learning_rate")
    if isinstance(lr, dict):
        arguments["learning_rate"] = getattr(lib.optimizers.schedules, lr["class_name"])(**lr["config"])
    model = lib.Sequential([lib.Input(shape=(3,)), lib.layers.Dense(2)])
    model.set_weights(w0)
    model.compile(optimizer=getattr(lib.optimizers, class_name)(**arguments), loss="mse")
    history = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    return [np.asarray(w) for w in model.get_weights()], history.history["loss"], int(np.asarray(model.optimizer.iterations))


def main() -> None:
    import keras  # only this script needs it (pytest imports the file for doctests)

    out = {"keras_version": keras.__version__, "cases": {}}
    for name, (class_name, arguments) in CASES.items():
        weights, loss, iterations = train(keras, class_name, arguments)
        out["cases"][name] = {"weights": [w.tolist() for w in weights], "loss": loss, "iterations": iterations}
    PATH.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
