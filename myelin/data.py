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

from . import native
from .backend import array_module
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
    """Refuse text and Python objects where numbers are needed: the one place that does.

    (A model input declared as strings, ``Input(dtype="string")``, is exempt: ``to_array``
    with ``allow_strings`` and :func:`cast_input` do not call it for such inputs.)

    Example:
        >>> check_numeric(np.array(["a", "b"]), "x")
        Traceback (most recent call last):
        ...
        TypeError: x: expected numbers, got an array of dtype <U1 (strings or Python objects); ...
    """
    if arr.dtype.kind in "OUSV":
        raise TypeError(
            f"{name}: expected numbers, got an array of dtype {arr.dtype} (strings or Python objects); "
            "convert categorical columns to numbers first (e.g. one-hot or integer codes), or declare the "
            'input as strings, myelin.Input(shape=(1,), dtype="string"), and map them with layers.StringLookup'
        )


def _all_finite(arr) -> bool:
    """Whether ``arr`` holds no NaN or infinity: one fast pass (a sum, split over the native threads where large).

    A sum is finite only when every term is (NaN and infinities propagate); an infinite sum
    of finite numbers (overflow) falls back to the extremes, which NaN and infinities reach.
    """
    xp = array_module(arr)
    if xp is np and arr.flags.c_contiguous and arr.ndim:
        rows = arr.reshape(len(arr), -1)
        sums = {}
        native.parallel(lambda lo, hi: sums.__setitem__(lo, np.add.reduce(rows[lo:hi], axis=None)), len(rows), arr.size)
        if all(np.isfinite(v) for v in sums.values()):
            return True
    return bool(xp.isfinite(arr.min())) and bool(xp.isfinite(arr.max()))


def check_finite(arr, name: str = "x", columns=None, method: str = "fit") -> None:
    """Raise a ValueError that says where NaN or infinite values are in ``arr`` (a fast no-op when there are none).

    The message names the columns (with their names for a pandas DataFrame), how many
    values are NaN or infinite in each, how many rows hold them and the first such row.

    Example:
        >>> check_finite(np.array([[1.0, np.nan], [2.0, 3.0]]), "x", columns=["mass", "flipper"])
        Traceback (most recent call last):
        ...
        ValueError: x contains NaN or infinite values: column 1 ('flipper'): 1 NaN; in 1 of 2 rows (the first is row 0). ...
    """
    if getattr(arr, "dtype", None) is None or arr.dtype.kind not in "fc" or arr.size == 0:
        return
    if _all_finite(arr):
        return
    flat = np.asarray(arr).reshape(len(arr), -1)
    nan, inf = np.isnan(flat), np.isinf(flat)
    rows = (nan | inf).any(axis=1)
    parts = []
    for j in np.flatnonzero((nan | inf).any(axis=0))[:5]:
        if arr.ndim == 1:
            where = "values"
        elif arr.ndim == 2:
            label = f" ({columns[j]!r})" if columns is not None and j < len(columns) else ""
            where = f"column {j}{label}"
        else:
            where = f"position {tuple(int(k) for k in np.unravel_index(j, arr.shape[1:]))} of each sample"
        counts = [f"{int(c)} {kind}" for c, kind in ((nan[:, j].sum(), "NaN"), (inf[:, j].sum(), "infinite")) if c]
        parts.append(f"{where}: {' and '.join(counts)}")
    more = int((nan | inf).any(axis=0).sum()) - len(parts)
    if more > 0:
        parts.append(f"and {more} more column(s)")
    raise ValueError(
        f"{name} contains NaN or infinite values: {'; '.join(parts)}; in {int(rows.sum())} of {len(arr)} rows "
        f"(the first is row {int(np.argmax(rows))}). Remove or fill them before training (with pandas: "
        f"df.dropna() or df.fillna(df.median())), or pass check_finite=False to {method}() if the model is "
        "meant to receive them"
    )


def check_targets(y, loss: str | None, from_logits: bool, output_shape, name: str, output: str) -> None:
    """Targets that do not fit the loss or the output layer: a ValueError saying what came and what was expected.

    ``loss`` is the function name of one of myelin's losses (None for a custom loss, whose
    targets are not checked), ``output_shape`` the output's shape (batch axis None) and
    ``output`` how to name it ("output layer 'dense_2'").

    Example:
        >>> check_targets(np.array([0, 3]), "sparse_categorical_crossentropy", False, (None, 3), "y", "output layer 'out'")
        Traceback (most recent call last):
        ...
        ValueError: y: sparse_categorical_crossentropy needs class labels 0 to 2 for the 3 units of output layer 'out', ...
    """
    if output_shape is None or len(output_shape) < 2 or getattr(y, "dtype", None) is None:
        return
    y = np.asarray(y)
    units = output_shape[-1]
    sample = tuple(output_shape[1:])
    integral = y.dtype.kind in "iub" or bool(np.all(y == np.floor(y)))
    if loss == "sparse_categorical_crossentropy" and units is not None:
        if y.ndim == len(output_shape) and y.shape[-1] == units and units > 1:
            raise ValueError(
                f"{name} has shape {y.shape}, one-hot rows of {units}, but sparse_categorical_crossentropy takes "
                f"integer class labels of shape {(y.shape[0],) + sample[:-1]}: use loss='categorical_crossentropy', "
                f"or {name}.argmax(axis=-1)"
            )
        if not integral:
            bad = y[y != np.floor(y)]
            raise ValueError(
                f"{name}: sparse_categorical_crossentropy needs integer class labels, but {name} holds non-integer "
                f"values such as {bad.flat[0]:g} ({bad.size} of them); for one-hot or probability targets use "
                "categorical_crossentropy"
            )
        low, high = (int(y.min()), int(y.max())) if y.size else (0, 0)
        if low < 0 or high >= units:
            wrong = int(((y < 0) | (y >= units)).sum())
            hint = " (they seem to start at 1: subtract 1)" if low == 1 and high == units else ""
            raise ValueError(
                f"{name}: sparse_categorical_crossentropy needs class labels 0 to {units - 1} for the {units} units of "
                f"{output}, but {name} holds labels from {low} to {high} ({wrong} out of range){hint}; "
                f"give the output layer {high + 1} units if there are {high + 1} classes"
            )
        return
    if loss == "categorical_crossentropy" and units is not None and units > 1:
        if y.ndim < len(output_shape) or (y.ndim == len(output_shape) and y.shape[-1] == 1):
            raise ValueError(
                f"{name} has shape {y.shape}, class labels rather than one-hot rows, but categorical_crossentropy needs "
                f"one-hot targets of width {units} ({output} has {units} units): use "
                f"loss='sparse_categorical_crossentropy', or myelin.utils.to_categorical({name}, {units})"
            )
        if y.shape[-1] != units:
            raise ValueError(
                f"{name} has {y.shape[-1]} columns (one-hot width) but {output} has {units} units: "
                "categorical_crossentropy needs them to match"
            )
    if loss == "binary_crossentropy" and y.size and not from_logits:
        low, high = float(y.min()), float(y.max())
        if low < 0 or high > 1:
            raise ValueError(
                f"{name}: binary_crossentropy needs targets between 0 and 1, but {name} holds values from {low:g} to "
                f"{high:g}; map the two classes to 0 and 1 (or, for more classes, use sparse_categorical_crossentropy)"
            )
    if loss not in ("mean_squared_error", "mean_absolute_error", "huber", "binary_crossentropy", "categorical_crossentropy"):
        return  # a custom loss decides what its targets look like
    got = tuple(y.shape[1:])
    fits = got == sample or (sample[-1:] == (1,) and got == sample[:-1]) or (got[-1:] == (1,) and got[:-1] == sample)
    if not fits and None not in sample:
        raise ValueError(
            f"{name} has shape {y.shape} but {output} gives outputs of shape {(None,) + sample}: each target must have "
            f"shape {sample}"
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
    if isinstance(value, (list, tuple)) and value and _is_array_like(value[0]):
        # A list of arrays is several inputs, as in Keras, even when they are 1-D and of one length.
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

    ``None`` entries (no sample weights) stay ``None`` on both sides. A split that leaves
    either side empty is an error naming ``validation_split``.

    Example:
        >>> train, val = split_last([np.arange(10), None], 0.2)
        >>> train[0].tolist(), val[0].tolist(), val[1]
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9], None)
    """
    n = num_samples([a for a in arrays if a is not None])
    cut = int(n * (1.0 - fraction))
    if cut <= 0:
        raise ValueError(f"validation_split={fraction} leaves no training samples out of {n}")
    if cut == n:
        raise ValueError(f"validation_split={fraction} leaves no validation samples out of {n}")
    parts = [(None, None) if a is None else a.split_at(cut) if hasattr(a, "split_at") else (a[:cut], a[cut:]) for a in arrays]
    return [p[0] for p in parts], [p[1] for p in parts]


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
