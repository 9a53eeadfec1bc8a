"""Reuters newswires (11,228 of them, 46 topics), as Keras gives them.

Each newswire is a list of word indices (frequency ranks). ``load_data`` takes Keras's
arguments with Keras's meaning: the newswires are shuffled with
``np.random.RandomState(seed)``; each gets ``start_char`` in front and its indices shifted by
``index_from``; a ``maxlen`` keeps only those strictly shorter than ``maxlen``; indices
below ``skip_top`` or at or above ``num_words`` (default: the largest index, which itself
is then out) become ``oov_char``, or are dropped when it is None; the first
``int(n * (1 - test_split))`` are the training split. x is a NumPy object array of lists of
ints, y the topic numbers (``get_label_names()`` names them).

The file is Keras's ``reuters.npz``, found as ``path`` names it (as given, the environment
variable ``MYELIN_REUTERS``, then by name in myelin's cache and Keras's ``~/.keras/datasets``)
or downloaded from Keras's origin and checked (SHA-256); its object arrays are decoded
without unpickling, as for ``imdb``.

Example:
    >>> from myelin.datasets import reuters
    >>> (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=10000)  # doctest: +SKIP
    >>> len(x_train), len(x_test)  # doctest: +SKIP
    (8982, 2246)
"""

from __future__ import annotations

import numpy as np

from . import _common, _text

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters_word_index.json"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
):
    """Load Reuters as ``(x_train, y_train), (x_test, y_test)``: object arrays of int lists and topics.

    Example:
        >>> load_data(test_split=2)
        Traceback (most recent call last):
        ...
        ValueError: reuters.load_data: test_split must be between 0 and 1 (1 included), got 2
    """
    name = "reuters.load_data"
    _common.check_split(test_split, name, allow_one=True)
    _text.check_arguments(name, num_words, skip_top, maxlen, start_char, oov_char, index_from)
    location = _text.find(path, "MYELIN_REUTERS", "Reuters", ORIGIN, SHA256)
    f = _text.read_sequences(location, ["x", "y"], "Reuters")
    xs, labels = f["x"], f["y"]
    if len(xs) != len(labels):
        raise ValueError(f"{location}: x has {len(xs)} sequences and y {len(labels)} labels")
    order = _common.shuffled_order(len(xs), seed)
    xs = _text.offset(xs[order], start_char, index_from)
    labels = labels[order]
    if maxlen:
        xs, labels = _text.drop_long(maxlen, xs, labels)
    if not xs:
        raise ValueError(f"{name}: no sequence is shorter than maxlen={maxlen}; increase maxlen")
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    xs = _text.limit(xs, skip_top, num_words, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return (np.array(xs[:cut], dtype="object"), np.array(labels[:cut])), (
        np.array(xs[cut:], dtype="object"),
        np.array(labels[cut:]),
    )


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The word -> index dict of Reuters (Keras's JSON file): index ``i`` is ``i + index_from`` in the data.

    Example:
        >>> index = get_word_index()  # doctest: +SKIP
        >>> index["the"]  # doctest: +SKIP
        1
    """
    return _text.read_word_index(
        _text.find(path, "MYELIN_REUTERS_WORD_INDEX", "the Reuters word index", WORD_INDEX_ORIGIN, WORD_INDEX_MD5)
    )


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names; topic ``i`` of ``y`` is ``get_label_names()[i]``.

    Example:
        >>> get_label_names()[:4]
        ('cocoa', 'grain', 'veg-oil', 'earn')
    """
    return LABEL_NAMES
