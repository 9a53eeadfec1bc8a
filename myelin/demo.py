"""Level 6: ``myelin demo``, the seed texts' penguin classifier, end to end.

Loads the Palmer penguins (the ``palmerpenguins`` package), keeps the four measurements the
seed texts use (bill length, bill depth, flipper length / 10, body mass / 100) and their
label order (0 Adelie, 1 Gentoo, 2 Chinstrap), trains a small network with a softmax output,
reports test accuracy, then walks the texts' inference example x = [37.3, 16.8, 19.2, 30.0]
through the network layer by layer with ``model.explain`` (:mod:`myelin.explain`).

Example:
    >>> from myelin import demo
    >>> result = demo.run(verbose=0, out=lambda line: None)  # doctest: +SKIP
    >>> result["test_accuracy"] >= 0.97  # doctest: +SKIP
    True
"""

from __future__ import annotations

import csv
import importlib.util
import time
from pathlib import Path

import numpy as np

SPECIES = ["Adelie", "Gentoo", "Chinstrap"]  # the seed texts' label order
FEATURES = ["bill length (mm)", "bill depth (mm)", "flipper length (mm) / 10", "body mass (g) / 100"]
SEED_EXAMPLE = [37.3, 16.8, 19.2, 30.0]


def penguins_csv() -> Path:
    """The path of the penguins CSV inside the installed ``palmerpenguins`` package.

    Example:
        >>> penguins_csv().name  # doctest: +SKIP
        'penguins.csv'
    """
    spec = importlib.util.find_spec("palmerpenguins")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "myelin demo needs the penguins data from the 'palmerpenguins' package: pip install 'myelin[demo]'"
        )
    return Path(spec.origin).parent / "data" / "penguins.csv"


def load_penguins() -> tuple[np.ndarray, np.ndarray]:
    """Features (n, 4) float32 in the seed texts' units, and labels (n,) int64 in their order.

    Rows missing any of the four measurements are dropped.

    Example:
        >>> x, y = load_penguins()  # doctest: +SKIP
        >>> x.shape, sorted(set(y.tolist()))  # doctest: +SKIP
        ((342, 4), [0, 1, 2])
    """
    rows, labels = [], []
    with open(penguins_csv(), newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            values = [rec["bill_length_mm"], rec["bill_depth_mm"], rec["flipper_length_mm"], rec["body_mass_g"]]
            if any(v in ("", "NA") for v in values):
                continue
            bill_length, bill_depth, flipper, mass = (float(v) for v in values)
            rows.append([bill_length, bill_depth, flipper / 10.0, mass / 100.0])
            labels.append(SPECIES.index(rec["species"]))
    return np.asarray(rows, dtype=np.float32), np.asarray(labels, dtype=np.int64)


def split(x, y, seed: int = 0, fractions=(0.7, 0.15)):
    """Shuffle with ``seed`` and cut into train, validation and test parts.

    Example:
        >>> parts = split(np.arange(20).reshape(10, 2), np.arange(10))
        >>> [len(p[0]) for p in parts]
        [7, 1, 2]
    """
    order = np.random.default_rng(seed).permutation(len(x))
    n_train = int(len(x) * fractions[0])
    n_val = int(len(x) * fractions[1])
    cuts = [order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]]
    return [(x[c], y[c]) for c in cuts]


def build_model():
    """The demo network: 4 inputs, two hidden relu layers of 16, a softmax over the 3 species.

    Example:
        >>> build_model().count_params()
        403
    """
    from . import layers, models  # noqa: PLC0415

    return models.Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(16, activation="relu", name="hidden_1"),
            layers.Dense(16, activation="relu", name="hidden_2"),
            layers.Dense(3, activation="softmax", name="output"),
        ],
        name="penguins",
    )


def run(epochs: int = 60, batch_size: int = 16, seed: int = 0, verbose: int | str = "auto", out=print) -> dict:
    """Train and evaluate the penguin network, print the inference walk-through; return the figures.

    Example:
        >>> run(epochs=1, verbose=0, out=lambda line: None)["epochs"]  # doctest: +SKIP
        1
    """
    from . import utils  # noqa: PLC0415

    start = time.perf_counter()
    utils.set_random_seed(seed)
    x, y = load_penguins()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = split(x, y, seed)
    counts = ", ".join(f"{i} {name} ({int((y == i).sum())})" for i, name in enumerate(SPECIES))
    out("myelin demo: the seed texts' penguin classifier")
    out(f"data: {len(x)} penguins with all four measurements (palmerpenguins); labels {counts}")
    out(f"features: {', '.join(FEATURES)}")
    out(f"split (seed {seed}): {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test")
    out("")
    model = build_model()
    model.summary(print_fn=out)
    model.compile(optimizer=_optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    out(f"\ntraining: Adam, sparse categorical cross-entropy, {epochs} epochs, batch {batch_size}")
    history = model.fit(
        x_train, y_train, epochs=epochs, batch_size=batch_size, validation_data=(x_val, y_val), verbose=verbose
    )
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    correct = round(test_accuracy * len(x_test))
    out(f"\ntest accuracy: {test_accuracy:.4f} ({correct}/{len(x_test)} penguins), test loss {test_loss:.4f}")

    out(f"\ninference for the seed texts' example x = {SEED_EXAMPLE} (model.explain):")
    explanation = model.explain(SEED_EXAMPLE, class_names=SPECIES)
    for line in explanation.report().splitlines()[1:]:  # the first line names the model again
        if not line.startswith("predicted class"):  # said below, in the texts' words
            out(line)
    probabilities = explanation.probabilities[0]
    predicted = int(explanation.predicted[0])
    out(f"predicted species: {predicted} ({SPECIES[predicted]})")
    seconds = time.perf_counter() - start
    out(f"\ndone in {seconds:.1f} s")
    return {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "probabilities": probabilities,
        "predicted": predicted,
        "epochs": len(history.epoch),
        "seconds": seconds,
        "model": model,
    }


def _optimizer():
    from . import optimizers  # noqa: PLC0415

    return optimizers.Adam(learning_rate=0.01)
