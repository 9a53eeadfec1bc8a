"""The shared reader of Keras's housing files (``x`` and ``y`` in an ``.npz``) and their split.

Example:
    >>> from myelin.datasets import _housing
    >>> _housing.split(np.arange(5), np.arange(5), 0.4, 113)[1][0].tolist()
    [2, 4]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _common


def split(x: np.ndarray, y: np.ndarray, test_split: float, seed):
    """Shuffle ``x`` and ``y`` with ``RandomState(seed)``; the first ``int(n * (1 - test_split))`` train.

    Example:
        >>> split(np.arange(4), np.arange(4), 0.25, 0)[0][0].tolist()
        [2, 3, 1]
    """
    order = _common.shuffled_order(len(x), seed)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def load(name, title, env, path, origin, sha256, test_split, seed, first=None):
    """Find (or download) the file, read ``x`` and ``y``, keep the ``first`` samples, split them."""
    test_split = _common.check_split(test_split, name)
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name}: path must be a file name or path, got {type(path).__name__}")
    for location in _common.candidates(path, env, [Path(str(path)).name]):
        if location.is_file():
            break
    else:
        location, reason = _common.fetch([origin], _common.cache_dir() / Path(str(path)).name, sha256)
        if location is None:
            raise FileNotFoundError(
                f"{title} was not found and could not be downloaded: {reason}.\n"
                f"Put Keras's file ({origin}, SHA-256 {sha256}) at {_common.cache_dir() / Path(str(path)).name} "
                f"or in {_common.keras_cache_dir()},\nor point the environment variable {env} (or the path argument) at it."
            )
    arrays = _common.load_numeric_npz(location, ["x", "y"], f"Keras's {title} file")
    x, y = arrays["x"], arrays["y"]
    if len(x) != len(y):
        raise ValueError(f"{location}: x has {len(x)} samples and y {len(y)}")
    if first is not None:
        x, y = x[:first], y[:first]
    return split(x, y, test_split, seed)
