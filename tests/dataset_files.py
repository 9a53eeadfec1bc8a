"""Small files in the on-disk formats of Keras's data sets, the same bytes on every run.

Used by tests/test_datasets_keras.py and by tests/make_datasets_golden.py (which runs
Keras's own loaders on them). Nothing here downloads or reads the network.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import numpy as np

CIFAR10_BATCH = 3  # records per training batch file (the real files hold 10,000)
CIFAR10_TEST = 4
CIFAR100_TRAIN = 7
CIFAR100_TEST = 5


def cifar10_arrays(batch: int = CIFAR10_BATCH, test: int = CIFAR10_TEST):
    """Channels-first images and labels: train (5 batches of ``batch``), test.

    Keras's own loader needs the real sizes (batch=10000, test=10000): the images then
    repeat 17 random ones (cheap to make), in an order no batch boundary lines up with.
    """
    rng = np.random.default_rng(10)
    n = 5 * batch
    if n + test <= 64:
        return (
            rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8),
            rng.integers(0, 10, n, dtype=np.uint8),
            rng.integers(0, 256, (test, 3, 32, 32), dtype=np.uint8),
            rng.integers(0, 10, test, dtype=np.uint8),
        )
    base = rng.integers(0, 256, (17, 3, 32, 32), dtype=np.uint8)
    index = np.arange(n + test)
    images, labels = base[index % 17], ((index * 7 + index // 13) % 10).astype(np.uint8)
    return images[:n], labels[:n], images[n:], labels[n:]


def cifar100_arrays():
    """Channels-first images, coarse and fine labels, for train and test."""
    rng = np.random.default_rng(100)
    out = []
    for n in (CIFAR100_TRAIN, CIFAR100_TEST):
        fine = rng.integers(0, 100, n, dtype=np.uint8)
        out += [rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), fine // 5, fine]
    return out  # x_train, coarse_train, fine_train, x_test, coarse_test, fine_test


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def cifar10_binary_files(batch: int = CIFAR10_BATCH, test: int = CIFAR10_TEST) -> dict[str, bytes]:
    """The .bin files of cifar-10-batches-bin: records of 1 label byte and 3,072 pixel bytes."""
    x, y, xt, yt = cifar10_arrays(batch, test)
    files = {}
    for i in range(5):
        part = slice(i * batch, (i + 1) * batch)
        files[f"data_batch_{i + 1}.bin"] = np.concatenate([y[part, None], x[part].reshape(-1, 3072)], axis=1).tobytes()
    files["test_batch.bin"] = np.concatenate([yt[:, None], xt.reshape(-1, 3072)], axis=1).tobytes()
    files["batches.meta.txt"] = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
    return files


def cifar100_binary_files() -> dict[str, bytes]:
    """train.bin and test.bin of cifar-100-binary: coarse byte, fine byte, 3,072 pixel bytes."""
    x, c, f, xt, ct, ft = cifar100_arrays()
    return {
        "train.bin": np.concatenate([c[:, None], f[:, None], x.reshape(-1, 3072)], axis=1).tobytes(),
        "test.bin": np.concatenate([ct[:, None], ft[:, None], xt.reshape(-1, 3072)], axis=1).tobytes(),
        "coarse_label_names.txt": b"aquatic_mammals\n",
    }


def write_tar(path: Path, folder: str, files: dict[str, bytes]) -> Path:
    """A gzip-compressed tar archive holding ``files`` under ``folder/``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            _add(tar, f"{folder}/{name}", data)
    return path


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def fashion_arrays():
    rng = np.random.default_rng(28)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 6, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 4, dtype=np.uint8),
    }


def write_fashion(folder: Path, gz: bool = True) -> Path:
    """The four IDX files of Fashion-MNIST (gzip-compressed, as Keras keeps them, or not)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in fashion_arrays().items():
        raw = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
        raw += array.tobytes()
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(raw, mtime=0))
        else:
            (folder / stem).write_bytes(raw)
    return folder


def housing_arrays(n: int, features: int, seed: int, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype(dtype), (rng.uniform(5, 50, n)).astype(dtype)


def write_housing(path: Path, n: int, features: int, seed: int, dtype=np.float64) -> Path:
    x, y = housing_arrays(n, features, seed, dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, y=y)
    return path


def sequences(n: int, seed: int, vocabulary: int = 40) -> list[list[int]]:
    """Ragged word-index lists (indices 1..vocabulary, lengths 1..12)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(1, vocabulary + 1, int(rng.integers(1, 13))).tolist() for _ in range(n)]


def _object_array(lists) -> np.ndarray:
    out = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        out[i] = item
    return out


def imdb_arrays():
    rng = np.random.default_rng(5)
    return {
        "x_train": _object_array(sequences(14, 1)),
        "y_train": rng.integers(0, 2, 14),
        "x_test": _object_array(sequences(9, 2)),
        "y_test": rng.integers(0, 2, 9),
    }


def reuters_arrays():
    rng = np.random.default_rng(6)
    return {"x": _object_array(sequences(25, 3, vocabulary=30)), "y": rng.integers(0, 46, 25)}


def write_npz(path: Path, arrays: dict) -> Path:
    """An .npz as NumPy writes one (object arrays as NumPy's pickle streams: this writes, never reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def write_word_index(path: Path, words: int = 40) -> dict[str, int]:
    index = {f"w{i}": i for i in range(1, words + 1)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index))
    return index


IMDB_CASES = [
    {},
    {"num_words": 20, "skip_top": 5},
    {"maxlen": 8},
    {"start_char": None, "oov_char": None, "index_from": 0, "num_words": 25},
    {"seed": 5, "index_from": 2, "oov_char": 7},
]
REUTERS_CASES = [
    {},
    {"test_split": 0.5, "num_words": 15},
    {"maxlen": 6, "seed": 9},
    {"start_char": None, "oov_char": None, "skip_top": 10},
    {"test_split": 0.0, "index_from": 0},
]
BOSTON_CASES = [{}, {"test_split": 0.0, "seed": 7}, {"test_split": 0.5, "seed": 1}]
CALIFORNIA_CASES = [{}, {"version": "small", "seed": 3}, {"version": "small", "test_split": 0.0}]
