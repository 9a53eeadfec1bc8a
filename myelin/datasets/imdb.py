"""IMDB movie reviews (25,000 training, 25,000 test, labelled positive 1 / negative 0), as Keras gives them.

Each review is a list of word indices, a word's index being its frequency rank (1 the most
frequent). ``load_data`` takes Keras's arguments with Keras's meaning: both splits are
shuffled with one ``np.random.RandomState(seed)`` (train first); each sequence gets
``start_char`` in front and its indices shifted by ``index_from`` (0 pads, 1 starts, 2 is
out-of-vocabulary by default); a ``maxlen`` keeps only the sequences strictly shorter than
``maxlen`` (counting ``start_char``); indices below ``skip_top`` or at or above
``num_words`` (default: the largest index, which itself is then out) become ``oov_char``,
or are dropped when it is None. x is a NumPy object array of lists of ints, y the labels.

The file is Keras's ``imdb.npz``, found as ``path`` names it (as given, in the environment
variable ``MYELIN_IMDB``, then by name in myelin's cache ``$MYELIN_HOME/datasets`` and
Keras's ``~/.keras/datasets``) or downloaded from Keras's origin and checked (SHA-256).
Its sequences are object arrays, which NumPy stores as pickle streams; myelin decodes those
as data, without unpickling (``myelin/datasets/_sequences.py``), and refuses anything but
integer sequences. The raw reviews (``aclImdb``) are text, not these indices:
``myelin.utils.text_dataset_from_directory`` reads them.

Example:
    >>> from myelin.datasets import imdb
    >>> (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)  # doctest: +SKIP
    >>> x_train.shape, x_test.shape, x_train[0][0]  # doctest: +SKIP
    ((25000,), (25000,), 1)
"""

from __future__ import annotations

import numpy as np

from . import _text

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
):
    """Load IMDB as ``(x_train, y_train), (x_test, y_test)``: object arrays of int lists and labels.

    Example:
        >>> load_data(num_words=-5)
        Traceback (most recent call last):
        ...
        ValueError: imdb.load_data: num_words must be None or an integer >= 0, got -5
    """
    name = "imdb.load_data"
    _text.check_arguments(name, num_words, skip_top, maxlen, start_char, oov_char, index_from)
    location = _text.find(path, "MYELIN_IMDB", "IMDB", ORIGIN, SHA256)
    f = _text.read_sequences(location, ["x_train", "y_train", "x_test", "y_test"], "IMDB")
    rng = np.random.RandomState(seed)
    parts = []
    for split in ("train", "test"):
        xs, labels = f[f"x_{split}"], f[f"y_{split}"]
        if len(xs) != len(labels):
            raise ValueError(f"{location}: x_{split} has {len(xs)} sequences and y_{split} {len(labels)} labels")
        order = np.arange(len(xs))
        rng.shuffle(order)
        parts.append((_text.offset(xs[order], start_char, index_from), labels[order]))
    (x_train, labels_train), (x_test, labels_test) = parts
    if maxlen:
        x_train, labels_train = _text.drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = _text.drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"{name}: no sequence is shorter than maxlen={maxlen}; increase maxlen")
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    xs = _text.limit(xs, skip_top, num_words, oov_char)
    cut = len(x_train)
    return (np.array(xs[:cut], dtype="object"), labels[:cut]), (np.array(xs[cut:], dtype="object"), labels[cut:])


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The word -> index dict of IMDB (Keras's JSON file): index ``i`` is ``i + index_from`` in the data.

    Example:
        >>> index = get_word_index()  # doctest: +SKIP
        >>> index["the"]  # doctest: +SKIP
        1
    """
    return _text.read_word_index(
        _text.find(path, "MYELIN_IMDB_WORD_INDEX", "the IMDB word index", WORD_INDEX_ORIGIN, WORD_INDEX_MD5)
    )
