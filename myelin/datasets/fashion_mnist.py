"""Fashion-MNIST (Zalando's 28x28 grey images of clothes, 10 classes), returned as Keras returns it.

``load_data()`` gives ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
(60000, 28, 28) and (10000, 28, 28), uint8 labels 0-9 (0 T-shirt/top, 1 trouser,
2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot).

It reads a folder holding the four IDX files ``train-labels-idx1-ubyte.gz``,
``train-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``
(gzip-compressed or not), looked for in this order: ``path`` (a myelin extra: Keras's
``load_data`` takes no argument), the environment variable ``MYELIN_FASHION_MNIST``,
``fashion-mnist/`` in myelin's cache (``$MYELIN_HOME/datasets``) and in Keras's
(``~/.keras/datasets``, where Keras keeps them). Otherwise it downloads the four files
(Keras's origin, then Zalando's) into myelin's cache, each checked against the SHA-256
Zalando publishes, unless ``MYELIN_OFFLINE=1`` or no network; then it says where to put them.

Example:
    >>> from myelin.datasets import fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _common
from .mnist import _find_idx, read_idx

FOLDER = "fashion-mnist"
ORIGINS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
FILES = {  # the gzip files, with the SHA-256 that Zalando publishes for them
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
_SPLITS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _read_folder(folder: Path):
    if not folder.is_dir():
        return None
    found = {key: _find_idx(folder, stem) for key, stem in _SPLITS.items()}
    if any(p is None for p in found.values()):
        return None
    arrays = {key: read_idx(p) for key, p in found.items()}
    for key, array in arrays.items():
        expected = 3 if key.startswith("x") else 1
        if array.ndim != expected or array.dtype != np.uint8 or (expected == 3 and array.shape[1:] != (28, 28)):
            raise ValueError(
                f"{found[key]}: expected uint8 {'images of shape (n, 28, 28)' if expected == 3 else 'labels of shape (n,)'}, "
                f"got {array.dtype} of shape {array.shape}"
            )
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise ValueError(
                f"{folder}: the {split} split has {len(arrays[f'x_{split}'])} images and {len(arrays[f'y_{split}'])} labels"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_data(*, path: str | None = None):
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)`` (uint8 arrays), as Keras does.

    ``path`` (keyword only, not in Keras): a folder holding the four IDX files.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_test.shape, y_test.shape  # doctest: +SKIP
        ((10000, 28, 28), (10000,))
    """
    if path is not None and not Path(path).expanduser().is_dir():
        raise FileNotFoundError(f"fashion_mnist.load_data: path must be a folder holding the IDX files, got {path!r}")
    if path is not None:  # a folder the caller chose: read there or fail, never fall back elsewhere
        result = _read_folder(Path(path).expanduser())
        if result is None:
            raise FileNotFoundError(f"fashion_mnist.load_data: {path} does not hold the four files {', '.join(FILES)}")
        return result
    places = _common.candidates(None, "MYELIN_FASHION_MNIST", [FOLDER])
    for folder in places:
        result = _read_folder(folder)
        if result is not None:
            return result
    target = _common.cache_dir() / FOLDER
    reason = ""
    for name, digest in FILES.items():
        if (target / name).is_file():
            continue
        got, reason = _common.fetch([base + name for base in ORIGINS], target / name, digest)
        if got is None:
            break
    else:
        result = _read_folder(target)
        if result is not None:
            return result
        reason = f"{target} holds the files but not all four could be read"
    raise FileNotFoundError(
        "Fashion-MNIST was not found and could not be downloaded: " + reason + ".\n"
        f"Put the four files {', '.join(FILES)} (from {ORIGINS[0]}; SHA-256s in "
        f"myelin.datasets.fashion_mnist.FILES) in {target} or {_common.keras_cache_dir() / FOLDER},\n"
        "or point the environment variable MYELIN_FASHION_MNIST (or the path argument) at a folder holding them."
    )
