"""The saved files under tests/data/: how they were made, and what loading them must give.

Files written by format version 1 must keep loading in every later myelin, so these files
are committed and ``tests/test_saved_files.py`` loads them on every run. To regenerate them
(only when the format version changes, as new files beside the old ones)::

    python -m tests.saved_files

It writes, from fixed seeds: the seed texts' MNIST network (784-64-64-10, Adam, trained a
little), a functional model with two outputs, a model with a registered custom layer and
activation, and a weights-only file; and ``expected.json`` with their predictions on fixed
inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import myelin
from myelin import layers, ops, saving

DATA = Path(__file__).resolve().parent / "data"
VERSION = 1  # the format version these files were written with


@saving.register_serializable(package="SavedFiles")
class Gain(layers.Layer):
    """A custom layer: y = x * gain + offset, with one gain and one offset per feature."""

    def __init__(self, offset_init: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset_init = offset_init

    def build(self, input_shape):
        self.gain = self.add_weight("gain", (input_shape[-1],), initializer="ones")
        self.offset = self.add_weight("offset", (input_shape[-1],), initializer=myelin.initializers.Constant(self.offset_init))

    def call(self, x, training=False):
        return x * self.gain + self.offset

    def get_config(self):
        return {**super().get_config(), "offset_init": self.offset_init}


@saving.register_serializable(package="SavedFiles")
def soft_sign(x):
    """A custom activation: x / (1 + |x|)."""
    return x / (ops.abs(x) + 1.0)


def inputs(features: int, rows: int = 5) -> np.ndarray:
    """The fixed inputs the expected predictions are computed on."""
    return np.random.default_rng(123).normal(size=(rows, features)).astype(np.float32)


def seed_mlp() -> myelin.Sequential:
    model = myelin.Sequential()
    model.add(layers.Dense(units=64, activation="relu", input_shape=(784,)))
    model.add(layers.Dense(units=64, activation="relu"))
    model.add(layers.Dense(units=10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    y = myelin.utils.to_categorical(rng.integers(0, 10, 256), 10)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    return model


def two_outputs() -> myelin.Model:
    features = myelin.Input(shape=(4,), name="features")
    hidden = layers.Dense(8, activation="tanh", name="hidden")(features)
    species = layers.Dense(3, activation="softmax", name="species")(hidden)
    mass = layers.Dense(1, name="mass")(hidden)
    model = myelin.Model(features, [species, mass], name="penguins")
    model.compile(
        optimizer=myelin.optimizers.SGD(0.05, momentum=0.9),
        loss={"species": "sparse_categorical_crossentropy", "mass": "mse"},
        loss_weights={"species": 1.0, "mass": 0.1},
        metrics={"species": ["accuracy"]},
    )
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    model.fit(x, [rng.integers(0, 3, 64), x.sum(axis=1, keepdims=True)], epochs=2, batch_size=16, verbose=0)
    return model


def custom_layer() -> myelin.Sequential:
    model = myelin.Sequential(
        [layers.Input(shape=(3,)), Gain(offset_init=0.5, name="gain"), layers.Dense(2, activation=soft_sign, name="out")]
    )
    model.compile(optimizer=myelin.optimizers.RMSprop(0.01), loss="mse")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    model.fit(x, x[:, :2], epochs=2, batch_size=8, verbose=0)
    return model


def weights_architecture() -> myelin.Sequential:
    """The architecture the weights-only file fits (built in code, as its user would)."""
    return myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(5, activation="relu"), layers.Dense(3)])


FILES = {
    f"seed_mlp_v{VERSION}.myelin": (seed_mlp, 784),
    f"two_outputs_v{VERSION}.myelin": (two_outputs, 4),
    f"custom_layer_v{VERSION}.myelin": (custom_layer, 3),
}
WEIGHTS_FILE = f"weights_only_v{VERSION}.myelin"


def _as_lists(out) -> list:
    return [o.tolist() for o in (out if isinstance(out, list) else [out])]


def main() -> None:
    DATA.mkdir(exist_ok=True)
    expected = {}
    for name, (make, features) in FILES.items():
        myelin.utils.clear_session()
        myelin.utils.set_random_seed(0)
        model = make()
        model.save(DATA / name)
        expected[name] = {
            "predictions": _as_lists(model.predict(inputs(features), verbose=0)),
            "iterations": model.optimizer.iterations,
        }
    myelin.utils.clear_session()
    myelin.utils.set_random_seed(0)
    model = weights_architecture()
    model.save_weights(DATA / WEIGHTS_FILE)
    expected[WEIGHTS_FILE] = {"predictions": _as_lists(model.predict(inputs(4), verbose=0)), "iterations": None}
    (DATA / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
