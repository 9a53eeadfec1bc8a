"""Preprocessing layers (Keras's): raw columns in, numbers a network can learn from out.

``Normalization`` standardises features with a mean and variance learned by ``adapt``;
``Rescaling`` multiplies and shifts; ``CategoryEncoding`` turns integer codes into one-hot,
multi-hot or count vectors; ``StringLookup`` and ``IntegerLookup`` map tokens to indices
with a vocabulary learned by ``adapt``. They are ordinary layers: put them at the front of a
model and it takes raw tabular columns, and is saved and exported with what they learned
(the mean and variance as non-trainable weights, the vocabularies in ``get_config()``).

The lookups and ``CategoryEncoding`` work on integers and strings, which have no gradient:
their outputs are plain tensors that never enter the autodiff graph. ``Normalization`` and
``Rescaling`` are differentiable (gradients flow through them to earlier layers).

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> norm = layers.Normalization()
    >>> norm.adapt(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> norm(np.array([[2.0, 20.0]])).data
    array([[0., 0.]], dtype=float32)
    >>> lookup = layers.StringLookup(output_mode="one_hot")
    >>> lookup.adapt(["red", "green", "red"])
    >>> lookup.get_vocabulary()
    ['[UNK]', 'red', 'green']
    >>> lookup(["green", "blue"]).data
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
"""

from __future__ import annotations

import zlib
from collections import Counter
from itertools import repeat
from operator import itemgetter

import numpy as np

from ... import backend, ops
from ...tensor import Tensor
from ..base import REGISTRY, Layer, SymbolicTensor, _shape_str

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation Normalization divides by


def _as_array(value, name: str) -> np.ndarray:
    """Raw layer input as an array of whatever type it holds (numbers or strings)."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):
        value = value.to_numpy()
    try:
        arr = np.asarray(value)
    except ValueError as err:
        raise ValueError(f"layer {name!r}: could not make an array of the input ({err})") from None
    if arr.ndim == 0:
        raise ValueError(f"layer {name!r}: expected one value per sample (an array with a batch axis), got {arr!r}")
    return arr


def _limit(arr: np.ndarray, batch_size, steps) -> np.ndarray:
    """``adapt``'s Keras arguments: with both given, only the first ``steps`` batches are read."""
    if steps is not None and batch_size is not None:
        return arr[: int(steps) * int(batch_size)]
    return arr


class _PreprocessingLayer(Layer):
    """Converts raw input without casting it to float (strings and integers stay what they are)."""

    def __call__(self, inputs, training: bool = False, **kwargs):
        if not isinstance(inputs, (Tensor, SymbolicTensor)):
            inputs = Tensor._wrap(_as_array(inputs, self.name), False)
        return super().__call__(inputs, training=training, **kwargs)

    def _float(self, x: Tensor) -> Tensor:
        if x.data.dtype.kind in "OUS":
            raise TypeError(
                f"layer {self.name!r} ({type(self).__name__}) expects numbers, got strings; "
                "map strings to numbers first with StringLookup"
            )
        if x.requires_grad or x.data.dtype == self.compute_dtype:
            return x  # part of a graph: keep it (and its gradient path) as it is
        return Tensor._wrap(x.data.astype(self.compute_dtype), False)

    def _check_input(self, shape: tuple) -> None:
        """Lookups and encodings take any batch of tokens: (n,), (n, 1), (n, k)."""


# ---------------------------------------------------------------------------- Normalization
@REGISTRY.register("Normalization")
class Normalization(_PreprocessingLayer):
    """Standardise features: ``(x - mean) / sqrt(variance)``, with mean and variance from ``adapt``.

    ``axis`` names the axes that keep their own statistics (default -1: one mean and variance
    per feature, computed over every sample); ``axis=None`` uses a single mean and variance.
    ``mean`` and ``variance`` may be given instead of calling ``adapt``; they broadcast to the
    kept axes. ``invert=True`` undoes the normalization: ``x * sqrt(variance) + mean``.

    The mean and variance are non-trainable weights (``layer.weights``), so they are saved
    with the model and untouched by training. A standard deviation below 1e-7 (a constant
    column) is treated as 1e-7, as in Keras. Until ``adapt`` runs (and without ``mean`` and
    ``variance``) the layer has mean 0 and variance 1, like a freshly loaded Keras layer.

    Example:
        >>> import numpy as np
        >>> norm = Normalization()
        >>> norm.adapt(np.array([[0.0], [2.0], [4.0]]))
        >>> float(norm.mean.data[0]), round(float(norm.variance.data[0]), 4)
        (2.0, 2.6667)
        >>> Normalization(mean=2.0, variance=4.0, invert=True)([[1.0]]).data
        array([[4.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            self.axis: tuple = ()
        elif isinstance(axis, (int, np.integer)):
            self.axis = (int(axis),)
        else:
            self.axis = tuple(int(a) for a in axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization {self.name!r}: give both mean and variance, or neither (and call adapt)")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self.mean = self.variance = None
        self._keep: tuple = ()
        self._ndim = 0

    def _kept_axes(self, ndim: int) -> tuple:
        keep = []
        for a in self.axis:
            pos = a + ndim if a < 0 else a
            if not 0 <= pos < ndim:
                raise ValueError(f"Normalization {self.name!r}: axis {a} is out of range for inputs of rank {ndim}")
            if pos == 0:
                raise ValueError(
                    f"Normalization {self.name!r}: axis {a} is the batch axis of rank-{ndim} inputs; the statistics "
                    "are computed over the batch. For a 1-D array of values use axis=None, or reshape it to (n, 1)"
                )
            keep.append(pos)
        return tuple(sorted(set(keep)))

    def build(self, input_shape):
        self._ndim = len(input_shape)
        self._keep = self._kept_axes(self._ndim)
        shape = tuple(input_shape[a] for a in self._keep)
        if None in shape:
            raise ValueError(
                f"Normalization {self.name!r}: the kept axes {self.axis} must have a known size, "
                f"got input shape {_shape_str(input_shape)}"
            )
        self.mean = self.add_weight("mean", shape, "zeros", trainable=False)
        self.variance = self.add_weight("variance", shape, "ones", trainable=False)
        if self.input_mean is not None:
            for weight, value, what in (
                (self.mean, self.input_mean, "mean"),
                (self.variance, self.input_variance, "variance"),
            ):
                try:
                    weight.data[...] = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
                except ValueError:
                    raise ValueError(
                        f"Normalization {self.name!r}: {what} of shape {np.shape(value)} does not broadcast to the "
                        f"kept axes' shape {shape}"
                    ) from None

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the mean and variance of ``data`` (an array, list or DataFrame; the first axis is the batch).

        Example:
            >>> norm = Normalization(axis=None)
            >>> norm.adapt([1.0, 2.0, 3.0])
            >>> float(norm.mean.data)
            2.0
        """
        arr = _limit(_as_array(data, self.name), batch_size, steps)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Normalization {self.name!r}: adapt() needs numbers, got an array of dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if len(arr) == 0:
            raise ValueError(f"Normalization {self.name!r}: adapt() got no samples")
        if self.mean is not None and arr.ndim != self._ndim:
            raise ValueError(
                f"Normalization {self.name!r} was built for inputs of rank {self._ndim}, adapt() got shape {arr.shape}"
            )
        if self.mean is None:
            self._maybe_build((None,) + arr.shape[1:])
        elif tuple(arr.shape[a] for a in self._keep) != self.mean.shape:
            raise ValueError(
                f"Normalization {self.name!r} keeps axes of sizes {self.mean.shape}, adapt() got data of shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise ValueError(
                f"Normalization {self.name!r}: adapt() data holds a missing or infinite value at index {tuple(bad.tolist())}"
            )
        reduce = tuple(a for a in range(arr.ndim) if a not in self._keep)
        self.mean.data[...] = arr.mean(axis=reduce)
        self.variance.data[...] = arr.var(axis=reduce)

    def _check_input(self, shape: tuple) -> None:
        if self.axis:  # with a single mean (axis=None) any shape is fine
            Layer._check_input(self, shape)

    def _broadcast(self, ndim: int) -> tuple:
        shape = [1] * ndim
        for a, size in zip(self._keep, self.mean.shape):
            shape[a] = size
        return tuple(shape)

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, standard deviation) as float arrays shaped to broadcast against the input.

        Example:
            >>> norm = Normalization(mean=[1.0, 2.0], variance=[4.0, 0.0]); norm.build((None, 2))
            >>> [a.astype('float64').round(9).tolist() for a in norm.statistics()]  # float32 statistics
            [[[1.0, 2.0]], [[2.0, 1e-07]]]
        """
        xp = backend.array_module(self.mean.data)
        shape = self._broadcast(self._ndim)
        std = xp.maximum(xp.sqrt(self.variance.data), self.variance.data.dtype.type(EPSILON))
        return self.mean.data.reshape(shape), std.reshape(shape)

    def call(self, x, training=False):
        x = self._float(x)
        if x.data.dtype == self.mean.data.dtype:
            # from the variables, by ops: a recorded step reads their values when it runs
            shape = () if self.axis == () else self._broadcast(self._ndim)
            mean = ops.reshape(self.mean, shape)
            std = ops.maximum(ops.sqrt(ops.reshape(self.variance, shape)), EPSILON)
        else:
            mean, std = self.statistics()
            if self.axis == ():
                mean, std = mean.reshape(()), std.reshape(())
            dtype = x.data.dtype
            mean, std = Tensor._wrap(mean.astype(dtype, copy=False), False), Tensor._wrap(std.astype(dtype, copy=False), False)
        if self.invert:
            return ops.add(ops.mul(x, std), mean)
        return ops.div(ops.sub(x, mean), std)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = {**super().get_config(), "axis": None if not self.axis else list(self.axis), "invert": self.invert}
        if self.input_mean is not None:
            config["mean"] = np.asarray(self.input_mean).tolist()
            config["variance"] = np.asarray(self.input_variance).tolist()
        return config


# ---------------------------------------------------------------------------- Rescaling
@REGISTRY.register("Rescaling")
class Rescaling(_PreprocessingLayer):
    """``x * scale + offset`` (e.g. ``Rescaling(1 / 255)`` for pixels); ``scale`` and ``offset`` may be per-feature lists.

    Example:
        >>> Rescaling(1 / 255)([[0, 255]]).data
        array([[0., 1.]], dtype=float32)
        >>> Rescaling(2.0, offset=-1.0)([[0.5]]).data
        array([[0.]], dtype=float32)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, x, training=False):
        x = self._float(x)
        dtype = x.data.dtype
        scale = Tensor._wrap(np.asarray(self.scale, dtype=dtype), False)
        out = ops.mul(x, scale)
        if np.any(np.asarray(self.offset) != 0):
            out = ops.add(out, Tensor._wrap(np.asarray(self.offset, dtype=dtype), False))
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        scale = np.asarray(self.scale).tolist()
        offset = np.asarray(self.offset).tolist()
        return {**super().get_config(), "scale": scale, "offset": offset}


# ---------------------------------------------------------------------------- CategoryEncoding
_ENCODINGS = ("one_hot", "multi_hot", "count")


def _integer_codes(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))][0]
            raise ValueError(f"layer {name!r}: expected integer indices, got {bad!r}")
        return arr.astype(np.int64)
    raise TypeError(f"layer {name!r}: expected integer indices, got an array of dtype {arr.dtype}")


def _encode(indices: np.ndarray, depth: int, mode: str, dtype: str) -> np.ndarray:
    """One-hot, multi-hot or count vectors of ``depth`` from integer ``indices``; negative entries are dropped.

    one_hot: a (batch,) or (batch, 1) input gives (batch, depth); other shapes gain a last axis.
    multi_hot and count: (batch,) is one token per sample; (batch, k) gives (batch, depth).
    """
    if mode == "one_hot":
        flat_shape = indices.shape[:-1] if indices.ndim > 1 and indices.shape[-1] == 1 else indices.shape
        flat = indices.reshape(-1)
        out = np.zeros((flat.size, depth), dtype=dtype)
        rows = np.nonzero(flat >= 0)[0]
        out[rows, flat[rows]] = 1
        return out.reshape(flat_shape + (depth,))
    tokens = indices.reshape(len(indices), -1)
    out = np.zeros((len(tokens), depth), dtype=dtype)
    rows, cols = np.nonzero(tokens >= 0)
    np.add.at(out, (rows, tokens[rows, cols]), 1)
    if mode == "multi_hot":
        np.minimum(out, 1, out=out)
    return out


def _encoded_shape(input_shape: tuple, depth, mode: str) -> tuple:
    if mode == "one_hot":
        shape = tuple(input_shape)
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (depth,)
    return (input_shape[0], depth)


@REGISTRY.register("CategoryEncoding")
class CategoryEncoding(_PreprocessingLayer):
    """Integer codes in [0, num_tokens) to vectors: ``"one_hot"``, ``"multi_hot"`` (default) or ``"count"``.

    A code outside [0, num_tokens) is an error naming the layer and the code. ``sparse``
    (Keras's argument) must stay False: myelin has no sparse tensors.

    Example:
        >>> CategoryEncoding(3, output_mode="one_hot")([2, 0]).data
        array([[0., 0., 1.],
               [1., 0., 0.]], dtype=float32)
        >>> CategoryEncoding(3, output_mode="count")([[1, 1, 2]]).data
        array([[0., 2., 1.]], dtype=float32)
    """

    def __init__(self, num_tokens: int, output_mode: str = "multi_hot", sparse: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) or num_tokens <= 0:
            raise ValueError(f"CategoryEncoding: num_tokens must be a positive integer, got {num_tokens!r}")
        if output_mode not in _ENCODINGS:
            raise ValueError(f"CategoryEncoding: output_mode must be one of {', '.join(_ENCODINGS)}; got {output_mode!r}")
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True is not available: myelin has no sparse tensors")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False

    def call(self, x, training=False):
        codes = _integer_codes(x.data, self.name)
        bad = (codes < 0) | (codes >= self.num_tokens)
        if bad.any():
            raise ValueError(
                f"CategoryEncoding {self.name!r}: index {int(codes[bad][0])} is outside [0, {self.num_tokens}) "
                f"(num_tokens={self.num_tokens})"
            )
        return Tensor._wrap(_encode(codes, self.num_tokens, self.output_mode, self.compute_dtype), False)

    def compute_output_shape(self, input_shape):
        return _encoded_shape(input_shape, self.num_tokens, self.output_mode)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode, "sparse": False}


# ---------------------------------------------------------------------------- StringLookup / IntegerLookup
_LOOKUP_MODES = ("int",) + _ENCODINGS


def vocabulary_from_counts(counts: dict, capacity: int | None = None) -> list:
    """The tokens of ``counts`` (token -> count) in Keras's vocabulary order, at most ``capacity`` of them.

    Keras sorts by count, most frequent first, and breaks ties by the tokens themselves, the
    greater first (``np.lexsort((tokens, counts))[::-1]``); strings compare by code point, as
    UTF-8 bytes do. With a ``capacity``, only the tokens whose count reaches the
    ``capacity``-th largest are sorted. Shared by the lookups and ``TextVectorization``.

    Example:
        >>> vocabulary_from_counts({"bar": 2, "baz": 2, "foo": 1, "bada": 1})
        ['baz', 'bar', 'foo', 'bada']
        >>> vocabulary_from_counts({3: 1, 5: 2, 9: 1}, capacity=2)
        [5, 9]
    """
    items = list(counts.items())
    if capacity is not None and capacity < len(items):
        values = np.fromiter((c for _, c in items), dtype=np.int64, count=len(items))
        cut = len(items) - capacity
        threshold = np.partition(values, cut)[cut]  # the capacity-th largest count
        items = [tc for tc in items if tc[1] >= threshold]
    items.sort(key=itemgetter(0), reverse=True)  # two stable sorts: by token, then by count
    items.sort(key=itemgetter(1), reverse=True)
    return [t for t, _ in items[:capacity]]


class _IndexLookup(_PreprocessingLayer):
    """Shared machinery of StringLookup and IntegerLookup.

    Index layout (Keras's): in ``"int"`` mode the mask token (if any) is index 0, then
    ``num_oov_indices`` out-of-vocabulary indices, then the vocabulary. In the encoding
    modes the mask token has no index: mask tokens in the input are dropped.
    """

    _kind = "token"
    _vocab_dtype = "string"  # the dtype of the tokens (the output of invert=True)

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token=None,
        oov_token=None,
        vocabulary=None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        **kwargs,
    ):
        if output_mode not in _LOOKUP_MODES:
            raise ValueError(
                f"{type(self).__name__}: output_mode must be one of {', '.join(_LOOKUP_MODES)}; got {output_mode!r}"
            )
        if invert and output_mode != "int":
            raise ValueError(f"{type(self).__name__}: invert=True needs output_mode='int', got {output_mode!r}")
        if sparse:
            raise ValueError(f"{type(self).__name__}: sparse=True is not available: myelin has no sparse tensors")
        if not isinstance(num_oov_indices, (int, np.integer)) or num_oov_indices < 0:
            raise ValueError(f"{type(self).__name__}: num_oov_indices must be an integer >= 0, got {num_oov_indices!r}")
        mask_index = mask_token is not None and output_mode == "int"  # the mask has an index in "int" mode only
        if max_tokens is not None and max_tokens <= num_oov_indices + mask_index:
            raise ValueError(
                f"{type(self).__name__}: max_tokens={max_tokens} leaves no room for a vocabulary after "
                f"{num_oov_indices} OOV index(es){' and the mask token' if mask_index else ''}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{type(self).__name__}: pad_to_max_tokens=True needs max_tokens")
        kwargs.setdefault("dtype", self._vocab_dtype if invert else ("int64" if output_mode == "int" else None))
        if kwargs["dtype"] is None:
            del kwargs["dtype"]
        super().__init__(**kwargs)
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token, self.oov_token = self._key(mask_token), self._key(oov_token)
        self.invert, self.output_mode, self.pad_to_max_tokens, self.sparse = (
            bool(invert),
            output_mode,
            pad_to_max_tokens,
            False,
        )
        self._vocab: list = []
        self._table: dict = {}
        self._call_table: dict | None = None  # _table with the mask token: built on first use
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # -- token domain (strings or integers)
    def _key(self, token):
        raise NotImplementedError

    def _keys(self, arr: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _oov_bucket(self, token) -> int:
        raise NotImplementedError

    # -- vocabulary
    @property
    def _uses_mask_index(self) -> bool:
        return self.mask_token is not None and self.output_mode == "int"

    @property
    def _offset(self) -> int:
        """The index of the first vocabulary token."""
        return self.num_oov_indices + int(self._uses_mask_index)

    def _capacity(self) -> int | None:
        """How many vocabulary tokens ``max_tokens`` leaves room for (Keras: ``max_tokens`` less the special indices)."""
        if self.max_tokens is None:
            return None
        return self.max_tokens - self._offset

    def set_vocabulary(self, vocabulary) -> None:
        """Use ``vocabulary`` (tokens, most useful first; without the mask and OOV tokens).

        Example:
            >>> lookup = StringLookup()
            >>> lookup.set_vocabulary(["a", "b"]); lookup.vocabulary_size()
            3
        """
        tokens = [
            self._key(t)
            for t in _as_array(list(vocabulary) if not hasattr(vocabulary, "shape") else vocabulary, self.name).ravel()
        ]
        if len(set(tokens)) != len(tokens):
            dup = next(t for t, c in Counter(tokens).items() if c > 1)
            raise ValueError(f"{type(self).__name__} {self.name!r}: the vocabulary holds {dup!r} more than once")
        for special, what in ((self.mask_token, "mask_token"), (self.oov_token, "oov_token")):
            if special is not None and special in tokens:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: the vocabulary must not contain the {what} {special!r}"
                )
        capacity = self._capacity()
        if capacity is not None and len(tokens) > capacity:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the vocabulary has {len(tokens)} tokens but max_tokens="
                f"{self.max_tokens} leaves room for {capacity}"
            )
        self._vocab = tokens
        self._table = {t: i + self._offset for i, t in enumerate(tokens)}
        self._call_table = None

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary: the distinct tokens of ``data``, most frequent first (ties: the greater token first).

        The mask token is not counted; ``max_tokens`` keeps the most frequent.

        Example:
            >>> lookup = IntegerLookup()
            >>> lookup.adapt([7, 3, 7, 9, 3, 7])
            >>> lookup.get_vocabulary()
            [-1, 7, 3, 9]
        """
        arr = _limit(_as_array(data, self.name), batch_size, steps)
        if arr.size == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: adapt() got no data")
        values, counts = np.unique(self._keys(arr.ravel()), return_counts=True)
        pairs = {self._key(v): int(c) for v, c in zip(values, counts)}
        pairs = {t: c for t, c in pairs.items() if t != self.mask_token and t != self.oov_token}
        self.set_vocabulary(vocabulary_from_counts(pairs, self._capacity()))

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """Index -> token: the mask token (int mode), the OOV token per OOV index, then the vocabulary.

        Example:
            >>> StringLookup(vocabulary=["a"], mask_token="").get_vocabulary()
            ['', '[UNK]', 'a']
        """
        if not include_special_tokens:
            return list(self._vocab)
        head = [self.mask_token] if self._uses_mask_index else []
        return head + [self.oov_token] * self.num_oov_indices + list(self._vocab)

    def vocabulary_size(self) -> int:
        """The number of indices, special tokens included (the width of one-hot outputs).

        Example:
            >>> StringLookup(vocabulary=["a", "b"]).vocabulary_size()
            3
        """
        return self._offset + len(self._vocab)

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    # -- calling
    def lookup_indices(self, arr: np.ndarray) -> np.ndarray:
        """Token array -> int64 index array of the same shape (-1 for mask tokens outside int mode).

        Example:
            >>> StringLookup(vocabulary=["a", "b"]).lookup_indices(np.array(["b", "z"])).tolist()
            [2, 0]
        """
        keys = self._keys(arr.ravel())
        uniq, inverse = np.unique(keys, return_inverse=True)
        mapped = self.lookup_tokens([self._key(u) for u in uniq])
        return mapped[inverse.reshape(-1)].reshape(arr.shape)

    def lookup_tokens(self, tokens) -> np.ndarray:
        """A sequence of tokens (already of the vocabulary's type) -> 1-D int64 indices, one dict look-up each.

        The mask token maps to 0 in "int" mode and to -1 (dropped by the encodings) otherwise;
        an unknown token to its OOV index, or an error with ``num_oov_indices=0``.

        Example:
            >>> StringLookup(vocabulary=["a", "b"], mask_token="").lookup_tokens(["b", "", "z"]).tolist()
            [3, 0, 1]
        """
        table = self._call_table
        if table is None:
            table = dict(self._table)
            if self.mask_token is not None:
                table[self.mask_token] = 0 if self._uses_mask_index else -1
            self._call_table = table
        single = self.num_oov_indices == 1
        default = int(self._uses_mask_index) if single else -2  # -2: not found, resolved below
        out = np.fromiter(map(table.get, tokens, repeat(default)), dtype=np.int64, count=len(tokens))
        if not single:
            for i in np.flatnonzero(out == -2).tolist():
                token = tokens[i]
                if self.num_oov_indices == 0:
                    raise ValueError(
                        f"{type(self).__name__} {self.name!r}: {self._kind} {token!r} is not in the vocabulary and "
                        "num_oov_indices=0"
                    )
                out[i] = int(self._uses_mask_index) + self._oov_bucket(token)
        return out

    def call(self, x, training=False):
        arr = x.data
        if self.invert:
            return Tensor._wrap(self._invert(arr), False)
        indices = self.lookup_indices(arr)
        if self.output_mode == "int":
            return Tensor._wrap(indices, False)
        return Tensor._wrap(_encode(indices, self._depth(), self.output_mode, self.compute_dtype), False)

    def _invert(self, arr: np.ndarray) -> np.ndarray:
        codes = _integer_codes(arr, self.name)
        table = np.asarray(self.get_vocabulary(), dtype=object if self._vocab_dtype == "string" else self._vocab_dtype)
        bad = (codes < 0) | (codes >= len(table))
        if bad.any():
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: index {int(codes[bad][0])} is outside the vocabulary "
                f"(size {len(table)})"
            )
        return table[codes]

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return _encoded_shape(
            input_shape, self._depth() if (self._vocab or self.pad_to_max_tokens) else None, self.output_mode
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "mask_token": self.mask_token,
            "oov_token": self.oov_token,
            "vocabulary": list(self._vocab),
            "invert": self.invert,
            "output_mode": self.output_mode,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": False,
        }


@REGISTRY.register("StringLookup")
class StringLookup(_IndexLookup):
    """Strings to integer indices (or one-hot, multi-hot, count vectors) through a vocabulary.

    The vocabulary comes from ``vocabulary=[...]`` or ``adapt(data)`` (distinct strings, most
    frequent first). A string outside it maps to an OOV index: with ``num_oov_indices=1``
    (default) index 0, ``oov_token`` "[UNK]"; with several, a string goes to the OOV index
    chosen by its CRC-32 (stable across runs and machines); with 0 it is an error.
    ``mask_token`` (e.g. "") gets index 0 in "int" mode and is dropped in the other modes.
    ``invert=True`` maps indices back to strings. Bytes are decoded with ``encoding``; any
    other value is converted with ``str`` (a missing value ``None`` becomes "None").

    Example:
        >>> lookup = StringLookup(vocabulary=["Adelie", "Gentoo", "Chinstrap"])
        >>> lookup([["Gentoo"], ["Emperor"]]).data
        array([[2],
               [0]])
        >>> StringLookup(vocabulary=["a", "b"], invert=True)([[2, 0]]).data
        array([['b', '[UNK]']], dtype=object)
    """

    _kind = "string"

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: str | None = None,
        oov_token: str = "[UNK]",  # noqa: S107  (a token, not a password)
        vocabulary=None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        encoding: str = "utf-8",
        **kwargs,
    ):
        self.encoding = encoding
        super().__init__(
            max_tokens,
            num_oov_indices,
            mask_token,
            oov_token,
            vocabulary,
            invert,
            output_mode,
            pad_to_max_tokens,
            sparse,
            **kwargs,
        )

    def _key(self, token):
        if token is None:
            return None
        if isinstance(token, bytes):
            return token.decode(self.encoding)
        return str(token)

    def _keys(self, arr: np.ndarray) -> np.ndarray:
        if arr.dtype.kind == "U":
            return arr
        if arr.dtype.kind == "S":
            return np.char.decode(arr, self.encoding)
        return np.array([self._key(v) for v in arr], dtype=str) if arr.size else arr.astype(str)

    def _oov_bucket(self, token) -> int:
        return zlib.crc32(token.encode("utf-8")) % self.num_oov_indices if self.num_oov_indices > 1 else 0

    def get_config(self) -> dict:
        return {**super().get_config(), "encoding": self.encoding}


@REGISTRY.register("IntegerLookup")
class IntegerLookup(_IndexLookup):
    """Integer values (codes, ids, years) to contiguous indices through a vocabulary.

    As ``StringLookup``, with integer tokens: ``oov_token`` defaults to -1, and with several
    OOV indices a value goes to OOV index ``value % num_oov_indices``. Float input is accepted
    when every value is a whole number.

    Example:
        >>> lookup = IntegerLookup(vocabulary=[12, 36, 1138])
        >>> lookup([[36], [7]]).data
        array([[2],
               [0]])
    """

    _kind = "value"
    _vocab_dtype = "int64"

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: int | None = None,
        oov_token: int = -1,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        vocabulary=None,
        invert: bool = False,
        **kwargs,
    ):
        super().__init__(
            max_tokens,
            num_oov_indices,
            mask_token,
            oov_token,
            vocabulary,
            invert,
            output_mode,
            pad_to_max_tokens,
            sparse,
            **kwargs,
        )

    def _key(self, token):
        if token is None:
            return None
        if isinstance(token, (float, np.floating)) and float(token).is_integer():
            return int(token)
        if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)):
            raise TypeError(f"IntegerLookup {self.name!r}: expected integer values, got {token!r}")
        return int(token)

    def _keys(self, arr: np.ndarray) -> np.ndarray:
        return _integer_codes(arr, self.name)

    def _oov_bucket(self, token) -> int:
        return token % self.num_oov_indices if self.num_oov_indices > 1 else 0


__all__ = ["CategoryEncoding", "IntegerLookup", "Normalization", "Rescaling", "StringLookup", "vocabulary_from_counts"]
