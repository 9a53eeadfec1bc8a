"""Level 6: Keras's utilities: one-hot labels, seeding, naming, normalisation.

Example:
    >>> from myelin.utils import to_categorical
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

import random

import numpy as np

from . import backend
from .layers.base import SymbolicTensor, reset_names


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels: shape (..., num_classes), float32.

    ``num_classes`` defaults to the largest label + 1. A trailing axis of size 1 is
    dropped first, as Keras does.

    Example:
        >>> to_categorical([1, 0]).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    y = np.asarray(x)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("to_categorical: labels must be whole numbers (class indices)")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise TypeError(f"to_categorical: labels must be integers, got dtype {y.dtype}")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, got {int(y.min())}")
    top = int(y.max()) + 1 if y.size else 0
    if num_classes is None:
        num_classes = top
    elif top > num_classes:
        raise ValueError(f"to_categorical: label {top - 1} is out of range for num_classes={num_classes}")
    out = np.zeros(y.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, y[..., None].astype(np.int64), 1.0, axis=-1)
    return out


def set_random_seed(seed: int) -> None:
    """Seed every generator myelin uses (and Python's and NumPy's), for repeatable runs.

    On the CPU the same seed gives bit-for-bit the same weights after training.

    Example:
        >>> set_random_seed(1234)
    """
    backend.set_seed(seed)
    random.seed(seed)


def clear_session() -> None:
    """Restart automatic layer naming (``dense``, ``dense_1``, ...), as Keras's ``clear_session``.

    Example:
        >>> clear_session()
    """
    reset_names()


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero).

    Example:
        >>> normalize([[3.0, 4.0]]).astype("float64").round(6).tolist()  # float32 result
        [[0.6, 0.8]]
    """
    x = backend.as_float_array(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


__all__ = [
    "Dataset",
    "PyDataset",
    "Sequence",
    "clear_session",
    "image_dataset_from_directory",
    "normalize",
    "pad_sequences",
    "set_random_seed",
    "split_dataset",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
]


def pad_sequences(
    sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre", truncating: str = "pre", value=0.0
) -> np.ndarray:
    """Sequences of different lengths as one array ``(len(sequences), maxlen, *item_shape)`` (Keras's arguments).

    Shorter sequences are filled with ``value`` before (``padding="pre"``, the default) or
    after (``"post"``) their items; longer ones lose items at the start (``truncating="pre"``)
    or the end (``"post"``). ``maxlen`` defaults to the longest sequence. Items may be
    vectors (all of one shape); ``dtype=object`` pads strings.

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
        >>> pad_sequences([[1], [2, 3, 4]], maxlen=2, padding="post", truncating="post", value=-1)
        array([[ 1, -1],
               [ 2,  3]], dtype=int32)
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of sequences, got {type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post', got {truncating!r}")
    lengths, item_shape = [], None
    for i, s in enumerate(sequences):
        if isinstance(s, (str, bytes)) or not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: sequences[{i}] must be a sequence (a list or array), got {s!r}")
        lengths.append(len(s))
        if item_shape is None and len(s):
            item_shape = np.asarray(s[0]).shape
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be a non-negative integer or None, got {maxlen!r}")
    text = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.bytes_)
    if isinstance(value, str) and np.dtype(dtype) != object and not text:
        raise ValueError(f"pad_sequences: value {value!r} is a string but dtype is {dtype}; use dtype=object for strings")
    out = np.full((len(sequences), int(maxlen)) + item_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(
                f"pad_sequences: sequences[{i}] has items of shape {kept.shape[1:]}, but the first items are {item_shape}"
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, maxlen - len(kept) :] = kept
    return out


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic placeholder (``myelin.KerasTensor``): an ``Input`` or a layer's output on one.

    Example:
        >>> import myelin
        >>> is_keras_tensor(myelin.Input(shape=(3,))), is_keras_tensor(myelin.Tensor([1.0]))
        (True, False)
    """
    return isinstance(x, SymbolicTensor)


def get_source_inputs(tensor) -> list:
    """The ``Input`` placeholders that ``tensor`` was computed from, in the order first met (Keras's).

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> a, b = myelin.Input(shape=(2,), name="a"), myelin.Input(shape=(2,), name="b")
        >>> out = layers.Dense(1)(layers.Concatenate()([a, b]))
        >>> [t.name for t in get_source_inputs(out)]
        ['a', 'b']
    """
    if not isinstance(tensor, SymbolicTensor):
        raise TypeError(
            f"get_source_inputs: expected a symbolic tensor (an Input or a layer's output on one), got {type(tensor).__name__}"
        )
    found, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if not t.inputs:
            found.append(t)
        else:
            stack.extend(reversed(t.inputs))
    return found


# Data that is not one array in memory (docs/data.md): Keras's PyDataset and dataset utilities.
from .dataset_utils import (  # noqa: E402
    Dataset,
    image_dataset_from_directory,
    split_dataset,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from .trainers.data_adapters.py_dataset_adapter import PyDataset, Sequence  # noqa: E402

# Keras's serialization names under keras.utils (myelin/serialization.py), loaded on first use.
_SERIALIZATION = (
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
)


# The rest of Keras's utils, each in its own module, loaded on first use.
_LAZY = {
    "Progbar": "progbar",
    "disable_interactive_logging": "progbar",
    "enable_interactive_logging": "progbar",
    "is_interactive_logging_enabled": "progbar",
    "get_file": "file_utils",
    "array_to_img": "image_utils",
    "img_to_array": "image_utils",
    "load_img": "image_utils",
    "save_img": "image_utils",
    "Config": "general_utils",
    "pack_x_y_sample_weight": "general_utils",
    "unpack_x_y_sample_weight": "general_utils",
    "standardize_dtype": "general_utils",
    "plot_model": "plot.architecture",
    "audio_dataset_from_directory": "audio_dataset_utils",
    **dict.fromkeys(_SERIALIZATION, "serialization"),
}


def __getattr__(name: str):
    if name == "bounding_boxes":  # Keras's keras.utils.bounding_boxes module (myelin/bounding_boxes.py)
        import importlib  # noqa: PLC0415

        return importlib.import_module(f"{__package__}.bounding_boxes")
    module = _LAZY.get(name)
    if module is not None:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(f"{__package__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"bounding_boxes"})
