"""What ``imdb`` and ``reuters`` share: finding their files, the word-index JSON, Keras's encoding.

Example:
    >>> from myelin.datasets import _text
    >>> _text.encode([[5, 9]], start_char=1, oov_char=2, index_from=3, skip_top=0, num_words=10)
    [[1, 8, 2]]
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from . import _common, _sequences


def _int_or_none(value, argument: str, name: str, low: int = 0):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: {argument} must be None or an integer >= {low}, got {value!r}")
    return int(value)


def check_arguments(name: str, num_words, skip_top, maxlen, start_char, oov_char, index_from) -> None:
    """ValueError naming the argument when one of Keras's encoding arguments is not an integer."""
    _int_or_none(num_words, "num_words", name)
    _int_or_none(maxlen, "maxlen", name)
    _int_or_none(start_char, "start_char", name)
    _int_or_none(oov_char, "oov_char", name)
    if _int_or_none(skip_top, "skip_top", name) is None:
        raise ValueError(f"{name}: skip_top must be an integer >= 0, got None")
    if _int_or_none(index_from, "index_from", name) is None:
        raise ValueError(f"{name}: index_from must be an integer >= 0, got None")


def find(path, env: str, title: str, origin: str, file_hash: str) -> Path:
    """The file ``path`` names: as given, ``$env``, by name in the caches, or downloaded (checked)."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{title}: path must be a file name or path, got {type(path).__name__}")
    name = Path(str(path)).name
    for location in _common.candidates(path, env, [name]):
        if location.is_file():
            return location
    target = _common.cache_dir() / name
    got, reason = _common.fetch([origin], target, file_hash)
    if got is None:
        kind = "SHA-256" if len(file_hash) == 64 else "MD5"
        raise FileNotFoundError(
            f"{title} ({name}) was not found and could not be downloaded: {reason}.\n"
            f"Put Keras's file ({origin}, {kind} {file_hash}) at {target} or in {_common.keras_cache_dir()},\n"
            f"or point the environment variable {env} (or the path argument) at it."
        )
    return got


def read_word_index(path: Path) -> dict[str, int]:
    """The JSON word index, checked to map words to integers."""
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict) or not all(isinstance(v, int) for v in index.values()):
        raise ValueError(f"{path}: not a word index (a JSON object mapping words to integers)")
    return index


def read_sequences(path: Path, keys, title: str) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of Keras's ``.npz``: object arrays of int lists decoded without pickle."""
    try:
        return _sequences.load_npz(path, keys)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: cannot be read as Keras's {title} file: {err}") from None


def offset(xs, start_char, index_from) -> list[list[int]]:
    """Keras's first step: ``start_char`` in front, every index shifted by ``index_from``."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def drop_long(maxlen, xs, labels):
    """Keras's ``maxlen`` filter: keep the sequences strictly shorter than ``maxlen``."""
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit(xs, skip_top, num_words, oov_char) -> list[list[int]]:
    """Indices outside ``[skip_top, num_words)`` become ``oov_char`` (or are dropped when it is None)."""
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def encode(xs, start_char, oov_char, index_from, skip_top, num_words) -> list[list[int]]:
    """``offset`` then ``limit`` (``num_words`` None: the largest index seen, as Keras takes it)."""
    xs = offset(xs, start_char, index_from)
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    return limit(xs, skip_top, num_words, oov_char)
