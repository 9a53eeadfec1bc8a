"""The keras.datasets loaders: Keras's values on small files in Keras's formats, the places read, the errors.

Golden values: tests/data/datasets_golden.json, Keras 3's own ``load_data`` run on the same
files (tests/make_datasets_golden.py). Nothing here downloads; "downloads" read file:// URLs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from myelin.datasets import (
    _sequences,
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

from . import dataset_files as files

GOLDEN = json.loads((Path(__file__).parent / "data" / "datasets_golden.json").read_text())
ENV = [
    "MYELIN_FASHION_MNIST",
    "MYELIN_CIFAR10",
    "MYELIN_CIFAR100",
    "MYELIN_IMDB",
    "MYELIN_IMDB_WORD_INDEX",
    "MYELIN_REUTERS",
    "MYELIN_REUTERS_WORD_INDEX",
    "MYELIN_BOSTON_HOUSING",
    "MYELIN_CALIFORNIA_HOUSING",
]


@pytest.fixture
def home(offline, monkeypatch):
    """Empty myelin and Keras caches, no downloads, no MYELIN_<NAME> variables: returns tmp_path."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return offline


def myelin_cache(tmp: Path) -> Path:
    return tmp / "home" / "datasets"


def keras_cache(tmp: Path) -> Path:
    return tmp / "keras_home" / "datasets"


def check_golden(result, golden: dict) -> None:
    (x_train, y_train), (x_test, y_test) = result
    for key, got in zip(("x_train", "y_train", "x_test", "y_test"), (x_train, y_train, x_test, y_test)):
        want = golden[key]
        assert list(got.shape) == want["shape"], key
        assert str(got.dtype) == want["dtype"], key
        if got.dtype == object:
            assert [list(x) for x in got] == want["values"], key
            assert all(isinstance(x, list) and all(type(w) is int for w in x) for x in got), key
        else:
            assert hashlib.sha256(np.ascontiguousarray(got).tobytes()).hexdigest() == want["sha256"], key
            if "values" in want:
                assert got.reshape(-1).tolist() == want["values"], key


# ---------------------------------------------------------------- Keras's values


def test_fashion_mnist_matches_keras(home):
    files.write_fashion(keras_cache(home) / "fashion-mnist")  # where Keras keeps it
    check_golden(fashion_mnist.load_data(), GOLDEN["fashion_mnist"])


@pytest.mark.slow
def test_cifar10_full_size_matches_keras(home):
    """Keras's loader needs the real batch sizes: 50,000 + 10,000 records (184 MB)."""
    files.write_folder(myelin_cache(home) / "cifar-10-batches-bin", files.cifar10_binary_files(10000, 10000))
    check_golden(cifar10.load_data(), GOLDEN["cifar10"])


@pytest.mark.parametrize("mode", ["fine", "coarse"])
def test_cifar100_matches_keras(home, mode):
    files.write_tar(myelin_cache(home) / "cifar-100-binary.tar.gz", "cifar-100-binary", files.cifar100_binary_files())
    check_golden(cifar100.load_data(label_mode=mode), GOLDEN["cifar100"][mode])


@pytest.mark.parametrize("case", range(len(files.IMDB_CASES)))
def test_imdb_matches_keras(home, case):
    files.write_npz(keras_cache(home) / "imdb.npz", files.imdb_arrays())
    check_golden(imdb.load_data(**files.IMDB_CASES[case]), GOLDEN["imdb"][case])


@pytest.mark.parametrize("case", range(len(files.REUTERS_CASES)))
def test_reuters_matches_keras(home, case):
    files.write_npz(myelin_cache(home) / "reuters.npz", files.reuters_arrays())
    check_golden(reuters.load_data(**files.REUTERS_CASES[case]), GOLDEN["reuters"][case])


@pytest.mark.parametrize("case", range(len(files.BOSTON_CASES)))
def test_boston_housing_matches_keras(home, case):
    files.write_housing(myelin_cache(home) / "boston_housing.npz", 23, 13, 1)
    check_golden(boston_housing.load_data(**files.BOSTON_CASES[case]), GOLDEN["boston_housing"][case])


@pytest.mark.parametrize("case", range(len(files.CALIFORNIA_CASES)))
def test_california_housing_matches_keras(home, case):
    files.write_housing(keras_cache(home) / "california_housing.npz", 700, 8, 2, np.float32)
    check_golden(california_housing.load_data(**files.CALIFORNIA_CASES[case]), GOLDEN["california_housing"][case])


# ---------------------------------------------------------------- CIFAR: binary records, never pickles


def _expected_cifar10():
    x, y, xt, yt = files.cifar10_arrays()
    return x.transpose(0, 2, 3, 1), y[:, None], xt.transpose(0, 2, 3, 1), yt[:, None]


def _check_cifar10(result):
    (x_train, y_train), (x_test, y_test) = result
    x, y, xt, yt = _expected_cifar10()
    assert x_train.shape == (5 * files.CIFAR10_BATCH, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (5 * files.CIFAR10_BATCH, 1) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, x)
    np.testing.assert_array_equal(y_train, y)
    np.testing.assert_array_equal(x_test, xt)
    np.testing.assert_array_equal(y_test, yt)


def test_cifar10_reads_archive_folder_environment_and_both_caches(home, monkeypatch):
    binaries = files.cifar10_binary_files()
    archive = files.write_tar(home / "dl" / "cifar-10-binary.tar.gz", "cifar-10-batches-bin", binaries)
    _check_cifar10(cifar10.load_data(path=str(archive)))  # the archive, read in place
    _check_cifar10(cifar10.load_data(path=str(home / "dl")))  # a folder holding it
    folder = files.write_folder(home / "x" / "cifar-10-batches-bin", binaries)
    _check_cifar10(cifar10.load_data(path=str(folder)))  # the extracted folder
    _check_cifar10(cifar10.load_data(path=str(home / "x")))  # ... or the folder above it
    monkeypatch.setenv("MYELIN_CIFAR10", str(archive))
    _check_cifar10(cifar10.load_data())
    monkeypatch.delenv("MYELIN_CIFAR10")
    files.write_folder(keras_cache(home) / "cifar-10-batches-bin", binaries)
    _check_cifar10(cifar10.load_data())
    # the red channel of the first pixel is the record's first pixel byte: channels last
    raw = binaries["data_batch_1.bin"]
    (x_train, y_train), _ = cifar10.load_data()
    assert y_train[0, 0] == raw[0] and x_train[0, 0, 0].tolist() == [raw[1], raw[1 + 1024], raw[1 + 2048]]
    assert x_train[0, 0, 1, 0] == raw[2] and x_train[0, 1, 0, 0] == raw[1 + 32]


def _evil_pickle(marker: Path) -> bytes:
    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    return pickle.dumps({b"data": Exploit()})


def test_cifar_refuses_keras_pickle_files_and_says_what_to_fetch(home):
    marker = home / "ran"
    keras_folder = keras_cache(home) / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    files.write_folder(keras_folder, {f"data_batch_{i}": _evil_pickle(marker) for i in range(1, 6)})
    with pytest.raises(FileNotFoundError) as err:
        cifar10.load_data()
    message = str(err.value)
    assert "pickle" in message and "cifar-10-binary.tar.gz" in message and cifar10.ORIGIN in message
    assert cifar10.SHA256 in message and str(myelin_cache(home) / "cifar-10-binary.tar.gz") in message
    for given in (keras_folder, keras_folder.parent):
        with pytest.raises(ValueError, match=r"pickle-based 'python version'.*cifar-10-binary\.tar\.gz"):
            cifar10.load_data(path=str(given))
    python_archive = files.write_tar(
        home / "cifar-10-python.tar.gz", "cifar-10-batches-py", {"data_batch_1": _evil_pickle(marker)}
    )
    with pytest.raises(ValueError, match="myelin reads no pickles"):
        cifar10.load_data(path=str(python_archive))
    files.write_folder(home / "c100" / "cifar-100-python", {"meta": _evil_pickle(marker), "train": b"x"})
    with pytest.raises(ValueError, match=r"cifar-100-binary\.tar\.gz"):
        cifar100.load_data(path=str(home / "c100"))
    assert not marker.exists()


def test_cifar_bad_files_are_refused(home):
    binaries = files.cifar10_binary_files()
    binaries["test_batch.bin"] = binaries["test_batch.bin"][:-1]
    folder = files.write_folder(home / "cut", binaries)
    with pytest.raises(ValueError, match="not a whole number of 3073-byte CIFAR-10 records"):
        cifar10.load_data(path=str(folder))
    partial = files.write_tar(home / "partial.tar.gz", "cifar-10-batches-bin", {"data_batch_1.bin": b""})
    with pytest.raises(ValueError, match="lacks"):
        cifar10.load_data(path=str(partial))
    (home / "plain.bin").write_bytes(b"not a tar")
    with pytest.raises(ValueError, match="not a tar archive"):
        cifar10.load_data(path=str(home / "plain.bin"))
    with pytest.raises(FileNotFoundError, match=r"path must name cifar-10-binary\.tar\.gz"):
        cifar10.load_data(path=str(home / "nowhere"))
    # a path the caller gives is read or refused, even when a cache holds the data
    files.write_folder(myelin_cache(home) / "cifar-10-batches-bin", files.cifar10_binary_files())
    (home / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"holds neither cifar-10-binary\.tar\.gz nor"):
        cifar10.load_data(path=str(home / "empty"))
    _check_cifar10(cifar10.load_data())


def test_cifar100_labels_and_label_mode(home):
    files.write_folder(myelin_cache(home) / "cifar-100-binary", files.cifar100_binary_files())
    x, coarse, fine, xt, coarse_t, fine_t = files.cifar100_arrays()
    (x_train, y_train), (x_test, y_test) = cifar100.load_data()
    np.testing.assert_array_equal(x_train, x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(x_test, xt.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], fine)
    np.testing.assert_array_equal(y_test[:, 0], fine_t)
    assert y_train.dtype == np.int64 and y_train.shape == (files.CIFAR100_TRAIN, 1)
    (_, y_train), (_, y_test) = cifar100.load_data("coarse")
    np.testing.assert_array_equal(y_train[:, 0], coarse)
    np.testing.assert_array_equal(y_test[:, 0], coarse_t)
    with pytest.raises(ValueError, match='label_mode must be "fine" or "coarse"'):
        cifar100.load_data("Fine")


def test_cifar_download_checks_the_checksum(home, monkeypatch):
    archive = files.write_tar(home / "src" / "c.tar.gz", "cifar-10-batches-bin", files.cifar10_binary_files())
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    from myelin.datasets import _cifar

    monkeypatch.setenv("MYELIN_OFFLINE", "0")
    spec = _cifar.CIFAR10.__class__(**{**_cifar.CIFAR10.__dict__, "origin": archive.as_uri(), "sha256": "0" * 64})
    monkeypatch.setattr(_cifar, "CIFAR10", spec)
    with pytest.raises(FileNotFoundError, match="expected 0000"):
        cifar10.load_data()
    assert not (myelin_cache(home) / "cifar-10-binary.tar.gz").exists()
    monkeypatch.setattr(_cifar, "CIFAR10", _cifar.CIFAR10.__class__(**{**spec.__dict__, "sha256": digest}))
    _check_cifar10(cifar10.load_data())
    assert (myelin_cache(home) / "cifar-10-binary.tar.gz").read_bytes() == archive.read_bytes()


# ---------------------------------------------------------------- Fashion-MNIST


def test_fashion_mnist_folder_gz_or_not_and_errors(home, monkeypatch):
    arrays = files.fashion_arrays()
    for gz in (True, False):
        folder = files.write_fashion(home / f"f{gz}", gz=gz)
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=str(folder))
        np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
        np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
        assert x_test.shape == (4, 28, 28) and y_train.dtype == np.uint8
    with pytest.raises(FileNotFoundError, match="path must be a folder"):
        fashion_mnist.load_data(path=str(home / "missing"))
    files.write_fashion(keras_cache(home) / "fashion-mnist")
    (home / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="does not hold the four files"):
        fashion_mnist.load_data(path=str(home / "empty"))  # not the cache's copy
    (keras_cache(home) / "fashion-mnist" / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as err:
        fashion_mnist.load_data()
    message = str(err.value)
    assert "MYELIN_OFFLINE" in message and "train-images-idx3-ubyte.gz" in message
    assert str(myelin_cache(home) / "fashion-mnist") in message and str(keras_cache(home) / "fashion-mnist") in message
    (home / "fTrue" / "t10k-labels-idx1-ubyte.gz").write_bytes(
        __import__("gzip").compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
    )
    with pytest.raises(ValueError, match="3 labels"):
        fashion_mnist.load_data(path=str(home / "fTrue"))


def test_fashion_mnist_download_tries_each_origin_and_checks_each_file(home, monkeypatch):
    source = files.write_fashion(home / "src")
    good = home / "good"
    good.mkdir()
    digests = {}
    for name in fashion_mnist.FILES:
        (good / name).write_bytes((source / name).read_bytes())
        digests[name] = hashlib.sha256((source / name).read_bytes()).hexdigest()
    bad = files.write_fashion(home / "bad", gz=True)
    (bad / "train-images-idx3-ubyte.gz").write_bytes(b"corrupt")
    monkeypatch.setenv("MYELIN_OFFLINE", "0")
    monkeypatch.setattr(fashion_mnist, "FILES", digests)
    monkeypatch.setattr(fashion_mnist, "ORIGINS", (bad.as_uri() + "/", good.as_uri() + "/"))
    (x_train, _), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, files.fashion_arrays()["train-images-idx3-ubyte"])
    assert sorted(p.name for p in (myelin_cache(home) / "fashion-mnist").iterdir()) == sorted(fashion_mnist.FILES)


# ---------------------------------------------------------------- IMDB and Reuters: object arrays without pickle


def _no_pickle(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used to read a data set")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def test_imdb_and_reuters_never_unpickle(home, monkeypatch):
    files.write_npz(myelin_cache(home) / "imdb.npz", files.imdb_arrays())
    files.write_npz(myelin_cache(home) / "reuters.npz", files.reuters_arrays())
    _no_pickle(monkeypatch)
    (x_train, _), _ = imdb.load_data()
    assert len(x_train) == 14
    (x_train, _), (x_test, _) = reuters.load_data()
    assert len(x_train) + len(x_test) == 25


def _npz_with_stream(path: Path, key: str, stream: bytes, shape, others: dict) -> Path:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": shape})
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{key}.npy", header.getvalue() + stream)
        for name, array in others.items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    return path


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_sequences_of_every_pickle_protocol_numpy_wrote(home, protocol):
    """Keras's files date from Python 2 / early NumPy (protocol 2 or 3); NumPy now writes 4."""
    arrays = files.reuters_arrays()
    stream = pickle.dumps(arrays["x"], protocol=protocol)  # writing the test file; the reader never unpickles
    _npz_with_stream(myelin_cache(home) / "reuters.npz", "x", stream, arrays["x"].shape, {"y": arrays["y"]})
    check_golden(reuters.load_data(), GOLDEN["reuters"][0])


def test_sequences_stored_as_integer_arrays(home):
    arrays = files.imdb_arrays()
    for key in ("x_train", "x_test"):
        items = np.empty(len(arrays[key]), dtype=object)
        for i, seq in enumerate(arrays[key]):
            items[i] = np.array(seq, dtype=">i4" if i % 2 else "<i8")
        arrays[key] = items
    files.write_npz(myelin_cache(home) / "imdb.npz", arrays)
    check_golden(imdb.load_data(), GOLDEN["imdb"][0])


def test_crafted_object_arrays_are_refused_without_running_them(home):
    marker = home / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = np.empty(2, dtype=object)
    evil[0], evil[1] = [1, 2], Exploit()
    files.write_npz(myelin_cache(home) / "imdb.npz", {**files.imdb_arrays(), "x_train": evil})
    with pytest.raises(ValueError, match=r"posix\.system|os\.system|nt\.system"):
        imdb.load_data()
    assert not marker.exists()
    words = np.empty(2, dtype=object)
    words[0], words[1] = ["a", "b"], [1]
    files.write_npz(myelin_cache(home) / "imdb.npz", {**files.imdb_arrays(), "x_train": words})
    with pytest.raises(ValueError, match="other than integers"):
        imdb.load_data()
    nested = np.empty(1, dtype=object)
    nested[0] = {"a": 1}
    files.write_npz(myelin_cache(home) / "imdb.npz", {**files.imdb_arrays(), "x_train": nested})
    with pytest.raises(ValueError, match="never unpickles"):
        imdb.load_data()
    with pytest.raises(ValueError, match="stream ends early"):
        _sequences.read_npy(_header((3,)) + pickle.dumps(files.reuters_arrays()["x"], protocol=4)[:-20], "cut")
    with pytest.raises(ValueError, match="header promises shape"):
        _sequences.read_npy(_header((3,)) + pickle.dumps(files.reuters_arrays()["x"], protocol=4), "shape")


def _header(shape) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": shape})
    return header.getvalue()


def test_imdb_argument_and_file_errors(home):
    with pytest.raises(FileNotFoundError) as err:
        imdb.load_data()
    message = str(err.value)
    assert imdb.ORIGIN in message and imdb.SHA256 in message and str(myelin_cache(home) / "imdb.npz") in message
    assert "MYELIN_IMDB" in message and str(keras_cache(home)) in message
    files.write_npz(myelin_cache(home) / "imdb.npz", files.imdb_arrays())
    with pytest.raises(ValueError, match="num_words must be None or an integer"):
        imdb.load_data(num_words="10")
    with pytest.raises(ValueError, match="skip_top must be an integer >= 0, got None"):
        imdb.load_data(skip_top=None)
    with pytest.raises(ValueError, match="index_from"):
        imdb.load_data(index_from=-1)
    with pytest.raises(ValueError, match="no sequence is shorter than maxlen=2"):
        imdb.load_data(maxlen=2)
    with pytest.raises(TypeError):
        imdb.load_data(nb_words=10)  # Keras 3 takes and ignores **kwargs; myelin refuses them
    files.write_npz(myelin_cache(home) / "other.npz", {"x": np.arange(3)})
    with pytest.raises(ValueError, match=r"lacks \['x_test', 'x_train', 'y_test', 'y_train'\]"):
        imdb.load_data(path="other.npz")
    (myelin_cache(home) / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot be read as Keras's IMDB file"):
        imdb.load_data(path="broken.npz")
    custom = files.write_npz(home / "elsewhere" / "mine.npz", files.imdb_arrays())
    check_golden(imdb.load_data(path=str(custom)), GOLDEN["imdb"][0])


def test_reuters_splits_and_label_names(home):
    files.write_npz(myelin_cache(home) / "reuters.npz", files.reuters_arrays())
    (x_train, y_train), (x_test, y_test) = reuters.load_data(test_split=1)
    assert len(x_train) == 0 and len(x_test) == 25 and len(y_train) == 0
    assert sorted(y_test.tolist()) == sorted(files.reuters_arrays()["y"].tolist())
    with pytest.raises(ValueError, match="test_split must be between 0 and 1"):
        reuters.load_data(test_split=-0.1)
    names = reuters.get_label_names()
    assert len(names) == 46 and names[3] == "earn" and names[-1] == "lead"


@pytest.mark.parametrize("module, name", [(imdb, "imdb_word_index.json"), (reuters, "reuters_word_index.json")])
def test_word_index(home, module, name):
    index = files.write_word_index(keras_cache(home) / name)
    assert module.get_word_index() == index
    (keras_cache(home) / name).write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a word index"):
        module.get_word_index()
    (keras_cache(home) / name).unlink()
    with pytest.raises(FileNotFoundError) as err:
        module.get_word_index()
    assert module.WORD_INDEX_MD5 in str(err.value) and "MD5" in str(err.value)


def test_decoding_example_of_keras_docs(home):
    """Keras's own recipe: index + index_from is the word, start_char and oov_char the markers."""
    files.write_npz(myelin_cache(home) / "imdb.npz", files.imdb_arrays())
    index = files.write_word_index(myelin_cache(home) / "imdb_word_index.json")
    (x_train, _), _ = imdb.load_data(num_words=30)
    inverted = {i + 3: word for word, i in imdb.get_word_index().items()}
    inverted[1], inverted[2] = "[START]", "[OOV]"
    decoded = [inverted[i] for i in x_train[0]]
    assert decoded[0] == "[START]" and all(w in index or w == "[OOV]" for w in decoded[1:])
    assert all(i < 30 for seq in x_train for i in seq)


# ---------------------------------------------------------------- housing


def test_housing_arguments_and_files(home, monkeypatch):
    with pytest.raises(ValueError, match=r"test_split must be between 0 and 1 \(1 excluded\), got 1"):
        boston_housing.load_data(test_split=1)
    with pytest.raises(ValueError, match="test_split must be a number"):
        boston_housing.load_data(test_split="0.2")
    with pytest.raises(ValueError, match='version must be "small" or "large"'):
        california_housing.load_data(version="tiny")
    with pytest.raises(FileNotFoundError) as err:
        california_housing.load_data()
    assert california_housing.SHA256 in str(err.value) and "MYELIN_CALIFORNIA_HOUSING" in str(err.value)
    np.savez(myelin_cache(home).parent.parent / "odd.npz", a=np.zeros(2))
    monkeypatch.setenv("MYELIN_BOSTON_HOUSING", str(home / "odd.npz"))
    with pytest.raises(ValueError, match=r"lacks \['x', 'y'\]"):
        boston_housing.load_data()
    x, y = files.housing_arrays(10, 13, 0)
    obj = np.empty(10, dtype=object)
    obj[:] = list(y)
    np.savez(home / "odd.npz", x=x, y=obj)
    with pytest.raises(ValueError, match="allow_pickle"):
        boston_housing.load_data()
    np.savez(home / "odd.npz", x=x, y=y)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.3, seed=0)
    order = np.arange(10)
    np.random.RandomState(0).shuffle(order)
    np.testing.assert_array_equal(x_train, x[order[:7]])
    np.testing.assert_array_equal(y_train, y[order[:7]])
    np.testing.assert_array_equal(x_test, x[order[7:]])
    np.testing.assert_array_equal(y_test, y[order[7:]])


def test_housing_download_checks_sha256(home, monkeypatch):
    source = files.write_housing(home / "src" / "b.npz", 23, 13, 1)
    monkeypatch.setenv("MYELIN_OFFLINE", "0")
    monkeypatch.setattr(boston_housing, "ORIGIN", source.as_uri())
    monkeypatch.setattr(boston_housing, "SHA256", "f" * 64)
    with pytest.raises(FileNotFoundError, match="expected ffff"):
        boston_housing.load_data()
    assert not list(myelin_cache(home).glob("*"))  # neither the file nor a partial download
    monkeypatch.setattr(boston_housing, "SHA256", hashlib.sha256(source.read_bytes()).hexdigest())
    check_golden(boston_housing.load_data(), GOLDEN["boston_housing"][0])
    assert (myelin_cache(home) / "boston_housing.npz").is_file()


def test_myelin_cache_comes_before_keras_cache(home):
    files.write_housing(keras_cache(home) / "boston_housing.npz", 23, 13, 1)
    files.write_housing(myelin_cache(home) / "boston_housing.npz", 30, 13, 5)
    (x_train, _), (x_test, _) = boston_housing.load_data()
    assert len(x_train) + len(x_test) == 30


def test_mnist_reads_keras_cache(home):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_train": np.arange(3, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": np.arange(2, dtype=np.uint8),
    }
    keras_cache(home).mkdir(parents=True)
    np.savez(keras_cache(home) / "mnist.npz", **arrays)
    (x_train, _), (_, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
