"""Level 4: turning user data into arrays, splitting it, and cutting it into batches.

Accepted inputs: NumPy arrays, nested lists, Tensors, and pandas DataFrames or Series
(anything with ``to_numpy``), or a list/tuple/dict of those for several inputs or outputs.
Float features are converted once to the model's float type; integer class labels stay
integers.

Example:
    >>> import numpy as np
    >>> from myelin import data
    >>> [len(b) for b in data.batch_indices(10, 4, shuffle=True)]
    [4, 4, 2]
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor


def to_array(value, name: str = "x", allow_strings: bool = False):
    """One input as an array; pandas objects via ``to_numpy``; clear errors for what cannot be one.

    Strings (and Python objects) are an error unless ``allow_strings``: the model declares
    that input as strings (``myelin.Input(shape=(1,), dtype="string")``).

    Example:
        >>> to_array([[1, 2], [3, 4]]).shape
        (2, 2)
        >>> to_array(["a", "b"], allow_strings=True).dtype.kind
        'U'
    """
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
        value = value.to_numpy()
    if hasattr(value, "__array_namespace__") or isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except ValueError as err:  # ragged lists
            raise ValueError(f"{name}: could not make an array of it ({err}); are all rows the same length?") from None
    if not (allow_strings and arr.dtype.kind in "OUS"):
        check_numeric(arr, name)
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected an array with one row per sample, got a scalar {arr!r}")
    return arr


def check_numeric(arr, name: str = "x") -> None:
    """Raise a TypeError that says what to do when ``arr`` holds strings or Python objects.

    Example:
        >>> check_numeric(np.array(["a"]), "x")
        Traceback (most recent call last):
        TypeError: x: expected numbers, got an array of dtype <U1 (strings or Python objects); ...
    """
    if arr.dtype.kind in "OUSV":
        raise TypeError(
            f"{name}: expected numbers, got an array of dtype {arr.dtype} (strings or Python objects); "
            "convert categorical columns to numbers first (e.g. one-hot or integer codes), or declare the "
            'input as strings, myelin.Input(shape=(1,), dtype="string"), and map them with layers.StringLookup'
        )


def to_arrays(value, name: str = "x", allow_strings: bool = False) -> list:
    """A list of arrays: one per model input (or output); a dict is taken in key order.

    Example:
        >>> [a.shape for a in to_arrays(np.zeros((3, 2)))]
        [(3, 2)]
    """
    if value is None:
        return []
    if isinstance(value, dict):
        return [to_array(v, f"{name}[{k!r}]", allow_strings) for k, v in value.items()]
    if isinstance(value, (list, tuple)) and value and _is_array_like(value[0]) and not _is_row_list(value):
        return [to_array(v, f"{name}[{i}]", allow_strings) for i, v in enumerate(value)]
    return [to_array(value, name, allow_strings)]


def cast_input(arr, dtype: str | None, floatx: str, name: str = "x"):
    """One input array in the type its model input declares.

    ``"string"``: strings or objects, kept as they are. An integer type: integers, or floats
    that are whole numbers. Anything else (or undeclared): numbers in ``floatx``.

    Example:
        >>> cast_input(np.array([1.0, 2.0]), "int64", "float32").dtype
        dtype('int64')
        >>> cast_input(np.array([1, 2]), None, "float32").dtype
        dtype('float32')
    """
    if dtype == "string":
        if arr.dtype.kind not in "OUS":
            raise TypeError(
                f"{name}: this model input is declared as strings (dtype='string'), got numbers of dtype {arr.dtype}"
            )
        return arr
    check_numeric(arr, name)
    if dtype is not None and np.dtype(dtype).kind in "iu":
        if arr.dtype.kind == "f" and (not np.isfinite(arr).all() or (arr != np.round(arr)).any()):
            raise TypeError(f"{name}: this model input is declared as {dtype}, got values that are not whole numbers")
        return arr.astype(dtype, copy=False)
    return cast_features(arr, floatx)


def _is_array_like(v) -> bool:
    return isinstance(v, (np.ndarray, Tensor)) or hasattr(v, "to_numpy")


def _is_row_list(value) -> bool:
    """A list of 1-D arrays of equal length might be rows of one input; several inputs differ in length or rank.

    Ambiguity is resolved as Keras does: a list of arrays means several inputs.
    """
    return False


def cast_features(arr, dtype: str):
    """Features in the model's float type: ints and other floats are converted once, floats of that type are kept.

    Example:
        >>> cast_features(np.array([1, 2], dtype=np.uint8), "float32").dtype
        dtype('float32')
    """
    if arr.dtype == dtype:
        return arr
    if arr.dtype.kind in "biuf":
        return arr.astype(dtype)
    return arr


def cast_targets(arr, dtype: str):
    """Targets: floating values in the model's float type; integer labels as int64.

    Converting once, before the epochs, means every batch reaches the loss as it is.

    Example:
        >>> cast_targets(np.array([0, 1], dtype=np.uint8), "float32").dtype
        dtype('int64')
    """
    if arr.dtype.kind == "f" and arr.dtype != dtype:
        return arr.astype(dtype)
    if arr.dtype.kind == "b":
        return arr.astype(dtype)
    if arr.dtype.kind in "iu" and arr.dtype != np.int64:
        return arr.astype(np.int64)
    return arr


def num_samples(arrays: list, name: str = "x") -> int:
    """The common length of ``arrays``; a clear error when they differ.

    Example:
        >>> num_samples([np.zeros(3), np.zeros((3, 2))])
        3
    """
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"{name}: inputs have different numbers of samples: {[len(a) for a in arrays]}")
    return lengths.pop() if lengths else 0


def split_last(arrays: list, fraction: float) -> tuple[list, list]:
    """Split off the last ``fraction`` of the samples (before any shuffling, as Keras does).

    Example:
        >>> train, val = split_last([np.arange(10)], 0.2)
        >>> train[0].tolist(), val[0].tolist()
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    n = num_samples(arrays)
    cut = int(n * (1.0 - fraction))
    return [a[:cut] for a in arrays], [a[cut:] for a in arrays]


def batch_indices(n: int, batch_size: int, shuffle: bool = False, rng: np.random.Generator | None = None):
    """Yield, per batch, a slice (no shuffling: batches are views) or an index array.

    Example:
        >>> list(batch_indices(5, 2))
        [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    if shuffle:
        order = (rng or np.random.default_rng()).permutation(n)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
    else:
        for start in range(0, n, batch_size):
            yield slice(start, min(start + batch_size, n))


def class_weights_to_sample_weights(y, class_weight: dict):
    """One weight per sample from a {class: weight} dict (integer labels, one-hot or a single 0/1 column).

    Example:
        >>> class_weights_to_sample_weights(np.array([0, 1, 1]), {0: 1.0, 1: 0.5}).tolist()
        [1.0, 0.5, 0.5]
    """
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        labels = y.argmax(axis=-1)
    else:
        labels = y.reshape(len(y), -1)[:, 0]
        labels = np.rint(labels).astype(np.int64) if labels.dtype.kind == "f" else labels
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise ValueError(f"class_weight has no entry for class(es) {sorted(missing)}; it gives {sorted(class_weight)}")
    lookup = np.zeros(int(labels.max()) + 1, dtype=np.float64)
    for k, v in class_weight.items():
        if 0 <= int(k) < len(lookup):
            lookup[int(k)] = v
    return lookup[labels]
