"""Regenerate tests/data/datasets_golden.json: Keras 3's ``load_data`` results on the files of tests/dataset_files.py.

Keras's loaders are run on the same small files the tests build (Keras's ``get_file`` is
replaced by one that returns the file's path, so nothing is downloaded). For CIFAR Keras
reads the pickle-based python batches, which this script writes from the same arrays as
the binary records myelin reads: the golden values check that both give the same images.
Run it from the repository root with Keras installed (the peer environment):

    KERAS_BACKEND=torch /work/peers/bin/python -m tests.make_datasets_golden

tests/test_datasets_keras.py checks myelin against the file on every machine.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from tests import dataset_files as files

GOLDEN = Path(__file__).resolve().parent / "data" / "datasets_golden.json"


def describe(a) -> dict:
    """Shape, dtype, SHA-256 of the bytes and, for small or object arrays, the values."""
    a = np.asarray(a)
    out = {"shape": list(a.shape), "dtype": str(a.dtype)}
    if a.dtype == object:
        out["values"] = [list(map(int, x)) for x in a.reshape(-1)] if a.ndim == 1 else a.tolist()
    else:
        out["sha256"] = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
        if a.size <= 64:
            out["values"] = a.reshape(-1).tolist()
    return out


def describe_result(result) -> dict:
    (x_train, y_train), (x_test, y_test) = result
    return {k: describe(v) for k, v in zip(("x_train", "y_train", "x_test", "y_test"), (x_train, y_train, x_test, y_test))}


def _write_cifar_python(folder: Path) -> None:
    import pickle  # writes Keras's pickle input; myelin never reads these

    b = 10000  # Keras's cifar10 loader takes batches of exactly this size
    x, y, xt, yt = files.cifar10_arrays(b, 10000)
    batches = folder / "c10" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    for i in range(5):
        part = slice(i * b, (i + 1) * b)
        with open(batches / f"data_batch_{i + 1}", "wb") as f:
            pickle.dump({b"data": x[part].reshape(-1, 3072), b"labels": y[part].tolist()}, f)
    with open(batches / "test_batch", "wb") as f:
        pickle.dump({b"data": xt.reshape(-1, 3072), b"labels": yt.tolist()}, f)
    x, c, fine, xt, ct, ft = files.cifar100_arrays()
    inner = folder / "c100" / "cifar-100-python"
    inner.mkdir(parents=True)
    for name, (images, coarse, fine_) in {"train": (x, c, fine), "test": (xt, ct, ft)}.items():
        with open(inner / name, "wb") as f:
            pickle.dump(
                {b"data": images.reshape(-1, 3072), b"coarse_labels": coarse.tolist(), b"fine_labels": fine_.tolist()},
                f,
            )


def main() -> None:
    import keras
    from keras.src.datasets import (
        boston_housing,
        california_housing,
        cifar10,
        cifar100,
        fashion_mnist,
        imdb,
        reuters,
    )

    assert keras.config.image_data_format() == "channels_last"
    with tempfile.TemporaryDirectory() as tmp:
        golden = _run_keras(Path(tmp), boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, reuters)
    golden["keras_version"] = keras.__version__
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")


def _run_keras(folder, boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, reuters) -> dict:
    _write_cifar_python(folder)
    fashion = files.write_fashion(folder / "fashion-mnist")
    imdb_npz = files.write_npz(folder / "imdb.npz", files.imdb_arrays())
    reuters_npz = files.write_npz(folder / "reuters.npz", files.reuters_arrays())
    boston = files.write_housing(folder / "boston_housing.npz", 23, 13, 1)
    california = files.write_housing(folder / "california_housing.npz", 700, 8, 2, np.float32)

    def returning(path):
        return lambda fname=None, origin=None, **kwargs: str(path / fname) if path.is_dir() else str(path)

    golden: dict = {}
    cifar10.get_file = lambda **kwargs: str(folder / "c10")
    golden["cifar10"] = describe_result(cifar10.load_data())
    cifar100.get_file = lambda **kwargs: str(folder / "c100")
    golden["cifar100"] = {mode: describe_result(cifar100.load_data(label_mode=mode)) for mode in ("fine", "coarse")}
    fashion_mnist.get_file = returning(fashion)
    golden["fashion_mnist"] = describe_result(fashion_mnist.load_data())
    imdb.get_file = returning(imdb_npz)
    golden["imdb"] = [describe_result(imdb.load_data(**case)) for case in files.IMDB_CASES]
    reuters.get_file = returning(reuters_npz)
    golden["reuters"] = [describe_result(reuters.load_data(**case)) for case in files.REUTERS_CASES]
    boston_housing.get_file = returning(boston)
    golden["boston_housing"] = [describe_result(boston_housing.load_data(**case)) for case in files.BOSTON_CASES]
    california_housing.get_file = returning(california)
    golden["california_housing"] = [describe_result(california_housing.load_data(**case)) for case in files.CALIFORNIA_CASES]
    return golden


if __name__ == "__main__":
    main()
