"""Data that arrives batch by batch: Python generators and iterators, and ``PyDataset`` objects.

Each batch is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (``x`` and ``y`` as
``fit`` takes them on arrays: one array, a list of arrays, a dict of named inputs) and is
checked and cast like arrays are (:mod:`.array_data_adapter`), batch by batch. Every batch
must keep the first batch's widths and dtypes: one that changes is an error that names the
batch and both shapes (a model cannot change its input width midway).

Batches of one shape reach the same recorded, replayed step as arrays do: ``fit`` on a
generator yielding the batches ``fit(x, y, shuffle=False)`` cuts gives bit-identical weights.

Example:
    >>> import numpy as np, myelin
    >>> from myelin import layers
    >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    >>> m.compile(optimizer="sgd", loss="mse")
    >>> batches = ((np.ones((4, 2)), np.ones(4)) for _ in range(3))
    >>> len(m.fit(batches, verbose=0).history["loss"])
    1
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Iterator

import numpy as np

from ... import data
from .py_dataset_adapter import PyDataset, read_batches


def is_stream(x) -> bool:
    """Whether ``x`` is data that arrives batch by batch (a generator, an iterator or a ``PyDataset``).

    Example:
        >>> is_stream(iter([])), is_stream(np.zeros(3)), is_stream([1, 2])
        (True, False, False)
    """
    if isinstance(x, PyDataset | types.GeneratorType):
        return True
    return isinstance(x, Iterator) and not isinstance(x, np.ndarray | str | bytes | dict)


def _split(batch, source: str, index: int) -> tuple:
    """``(x, y, sample_weight)`` of one batch, as Keras unpacks them."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if len(batch) not in (1, 2, 3):
        raise ValueError(
            f"{source} batch {index}: a batch is x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(batch)}"
        )
    return batch + (None,) * (3 - len(batch))


def _leaves(value, name: str) -> list:
    """(label, shape, dtype) of each array in ``value`` (an array, a list of them, a dict)."""
    if value is None:
        return []
    if isinstance(value, dict):
        items = [(f"{name}[{k!r}]", v) for k, v in value.items()]
    elif isinstance(value, list | tuple) and value and data._is_array_like(value[0]):
        items = [(f"{name}[{i}]", v) for i, v in enumerate(value)]
    else:
        items = [(name, value)]
    out = []
    for label, v in items:
        a = v.data if hasattr(v, "data") and hasattr(v, "grad") else v
        a = a.to_numpy() if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray) else np.asarray(a)
        out.append((label, a.shape, a.dtype))
    return out


class StreamAdapter:
    """What generators and ``PyDataset`` share: each batch prepared as ``fit`` prepares arrays, and checked against the first.

    ``mode`` is ``"xy"`` (fit, evaluate: targets expected unless the step is the model's own)
    or ``"x"`` (predict: only the inputs are read).
    """

    source = "data"

    def __init__(self, model, mode: str, method: str, check_finite: bool, class_weight=None, custom: bool = False):
        self.model, self.mode, self.method = model, mode, method
        self.check_finite, self.class_weight, self.custom = check_finite, class_weight, custom
        self._signature = None
        self.ran_out = False  # set when an epoch of steps_per_epoch batches found the data exhausted
        self.shard = None  # (rank, processes) once data-parallel training shards this source by batch
        self.dataset_batches = None  # the source's own number of batches (num_batches counts steps once sharded)

    def shard_by_index(self, rank: int, processes: int) -> None:
        """Read only this process's batches from now on: ``rank``, ``rank + processes``, ... (one step each).

        ``num_batches`` becomes the number of steps of a pass, each step reading one batch per
        process; where the last step has fewer batches than processes, the others get an empty
        batch (``empty``).

        Example:
            >>> import numpy as np, myelin
            >>> from myelin import layers
            >>> class Five(PyDataset):
            ...     def __len__(self):
            ...         return 5
            ...     def __getitem__(self, i):
            ...         return np.full((2, 1), float(i)), np.zeros(2)
            >>> m = myelin.Sequential([layers.Input(shape=(1,)), layers.Dense(1)])
            >>> a = PyDatasetAdapter(Five(), m, "xy", "fit", True)
            >>> a.shard_by_index(1, 2); a.num_batches, a.dataset_batches
            (3, 5)
            >>> [float(xs[0][0, 0]) for xs, _, _ in a.epoch(None)]  # batches 1 and 3
            [1.0, 3.0]
            >>> a.empty()[0][0].shape
            (0, 1)
        """
        self.shard = (int(rank), int(processes))
        self.dataset_batches = self.num_batches
        if self.num_batches is not None:
            self.num_batches = -(-self.num_batches // self.shard[1])

    def empty(self) -> tuple:
        """The first batch with no rows: what a process without a batch at a step is given (``shard_by_index``)."""
        xs, ys, sw = self.first()
        return [a[:0] for a in xs], [a[:0] for a in ys], None if sw is None else sw[:0]

    def prepare(self, batch, index: int) -> tuple:
        """``(xs, ys, sw)`` of one raw batch: checked against the first batch, then cast and checked as arrays are."""
        x, y, sw = _split(batch, self.source, index)
        if self.mode == "x":
            y, sw = None, None
        signature = _leaves(x, "x") + _leaves(y, "y") + _leaves(sw, "sample_weight")
        if self._signature is None:
            self._signature = signature
        elif signature != self._signature:
            self._mismatch(signature, index)
        try:
            if self.mode == "x":
                return self.model._prepare_x(x, check_finite=self.check_finite, method=self.method), [], None
            if y is None and not self.custom:
                raise ValueError("it has no targets: yield (x, y) or (x, y, sample_weight)")
            xs, ys, sws = self.model._prepare_data(x, y, sw, self.class_weight, self.check_finite, self.custom, self.method)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{self.source} batch {index}: {err}") from None
        return xs, self.model._shape_targets(ys), sws

    def _mismatch(self, signature: list, index: int) -> None:
        first = self._signature
        if len(signature) != len(first) or any(a[0] != b[0] for a, b in zip(signature, first)):
            raise ValueError(
                f"{self.source} batch {index} holds {[s[0] for s in signature]}, but the first batch held "
                f"{[s[0] for s in first]}: every batch must have the same parts (x, y, sample_weight) and inputs"
            )
        for (label, shape, dtype), (_, shape0, dtype0) in zip(signature, first):
            if shape[1:] != shape0[1:] or len(shape) != len(shape0) or dtype != dtype0:
                raise ValueError(
                    f"{self.source} batch {index}: {label} has shape {shape} and dtype {dtype}, but the first batch's "
                    f"{label} had shape {shape0} and dtype {dtype0}: every batch must have the first batch's shape "
                    "apart from the first axis (the batch size), and its dtype"
                )

    def on_epoch_begin(self) -> None:
        """Before an epoch's first batch."""

    def on_epoch_end(self) -> None:
        """After an epoch's last batch."""


class GeneratorDataAdapter(StreamAdapter):
    """A Python generator or iterator of batches; read once, in its own order (``shuffle`` does not apply).

    With ``steps`` each epoch takes that many batches and the next epoch goes on where it
    stopped (an endless generator); without, an epoch lasts until the generator ends, so a
    second pass (``epochs > 1``) needs ``steps_per_epoch``.

    Example:
        >>> import numpy as np, myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> a = GeneratorDataAdapter(iter([(np.ones((2, 2)), np.ones(2))]), m, "xy", "fit", True)
        >>> [b[0][0].shape for b in a.epoch(None)]
        [(2, 2)]
    """

    source = "generator"
    num_batches = None

    def __init__(self, iterator, model, mode: str, method: str, check_finite: bool, class_weight=None, custom=False):
        super().__init__(model, mode, method, check_finite, class_weight, custom)
        self._it = iter(iterator)
        self._count = 0
        self._peeked = None
        self._first = None

    def first(self) -> tuple:
        """The first batch, prepared (it is still the first one an epoch yields)."""
        if self._first is None:
            try:
                raw = next(self._it)
            except StopIteration:
                raise ValueError(f"{self.method}(): the generator yielded no batch (it is empty or already used up)") from None
            self._peeked = self._first = self.prepare(raw, 0)
            self._count = 1
        return self._first

    def epoch(self, steps: int | None, rng=None, shuffle: bool = False) -> Iterator[tuple]:
        """Up to ``steps`` prepared batches (all that are left when ``steps`` is None)."""
        if self.shard is not None:
            yield from self._sharded_epoch(steps)
            return
        taken = 0
        if self._peeked is not None:
            batch, self._peeked = self._peeked, None
            taken = 1
            yield batch
        while steps is None or taken < steps:
            try:
                raw = next(self._it)
            except StopIteration:
                self.ran_out = steps is not None
                return
            batch = self.prepare(raw, self._count)
            self._count += 1
            taken += 1
            yield batch

    def _sharded_epoch(self, steps: int | None) -> Iterator[tuple]:
        """Each step reads one batch per process and keeps this process's (every process reads the whole stream)."""
        rank, size = self.shard
        taken = 0
        while steps is None or taken < steps:
            mine, got = None, 0
            for k in range(size):
                if self._peeked is not None:  # batch 0, read and prepared before the first epoch
                    batch, self._peeked = self._peeked, None
                else:
                    try:
                        raw = next(self._it)
                    except StopIteration:
                        break
                    batch = self.prepare(raw, self._count) if k == rank else None  # others' batches: their check
                    self._count += 1
                if k == rank:
                    mine = batch
                got += 1
            if not got:
                self.ran_out = steps is not None
                return
            taken += 1
            yield mine if mine is not None else self.empty()
            if got < size:  # the stream ended inside this step: every process sees the same end
                self.ran_out = steps is not None and taken < steps
                return


class PyDatasetAdapter(StreamAdapter):
    """A ``PyDataset``: batch ``i`` is ``dataset[i]``, made ahead by its workers; shuffled batch order with ``shuffle``.

    Example:
        >>> import numpy as np, myelin
        >>> from myelin import layers
        >>> class Two(PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, i):
        ...         return np.full((3, 2), i), np.zeros(3)
        >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> a = PyDatasetAdapter(Two(), m, "xy", "fit", True)
        >>> [float(b[0][0][0, 0]) for b in a.epoch(None)]
        [0.0, 1.0]
    """

    source = "PyDataset"

    def __init__(self, dataset, model, mode: str, method: str, check_finite: bool, class_weight=None, custom=False):
        super().__init__(model, mode, method, check_finite, class_weight, custom)
        self.dataset = dataset
        self.source = type(dataset).__name__
        n = dataset.num_batches
        if n is not None and (isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0):
            raise ValueError(f"{self.source}: __len__ must return a non-negative integer (the batches), got {n!r}")
        if n == 0:
            raise ValueError(f"{method}(): {self.source} has no batches (its __len__ is 0)")
        self.num_batches = None if n is None else int(n)
        self._next = 0  # an endless dataset goes on with this index in the next epoch
        self._first = None

    def first(self) -> tuple:
        """Batch 0, prepared (read once, to build the model and check the data before the first epoch)."""
        if self._first is None:
            self._first = self.prepare(self.dataset[0], 0)
        return self._first

    def epoch(self, steps: int | None, rng=None, shuffle: bool = False) -> Iterator[tuple]:
        """The prepared batches of one epoch: all (or the first ``steps``), in a shuffled order with ``shuffle``."""
        per = 1 if self.shard is None else self.shard[1]  # sharded: each step reads one batch per process
        n = self.num_batches if self.shard is None else self.dataset_batches
        if n is None:
            if steps is None:
                raise ValueError(
                    f"{self.method}(): {self.source} is endless (num_batches is None): give steps"
                    f"{'_per_epoch' if self.method == 'fit' else ''} (how many batches make an epoch)"
                )
            indices = list(range(self._next, self._next + steps * per))
            self._next += steps * per
        else:
            shuffle = shuffle and not getattr(self.dataset, "_keeps_order", False)  # a dataset that shuffles itself
            # the same order on every process (data-parallel fit broadcasts process 0's generator each epoch)
            order = (rng or np.random.default_rng()).permutation(n).tolist() if shuffle else range(n)
            indices = list(itertools.islice(order, None if steps is None else steps * per))
        if self.shard is not None:
            indices = indices[self.shard[0] :: per]  # batches rank, rank + N, ...: this process reads only those
        batches = read_batches(self.dataset, indices)
        try:
            for raw, i in zip(batches, indices):
                yield self.prepare(raw, i)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # ends the workers, also when the epoch stops early (a callback, Ctrl-C, an error)

    def on_epoch_begin(self) -> None:
        self.dataset.on_epoch_begin()

    def on_epoch_end(self) -> None:
        self.dataset.on_epoch_end()
