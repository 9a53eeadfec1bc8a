"""``PyDataset`` (Keras 3's interface; ``Sequence`` is its alias) and how ``fit`` reads one.

A ``PyDataset`` is indexed by batch: ``__getitem__(i)`` returns batch ``i`` as ``x``,
``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (``x`` may be a dict of named inputs),
``__len__`` the number of batches (``num_batches`` may be ``None``: endless, then ``fit``
needs ``steps_per_epoch``). ``workers``, ``use_multiprocessing`` and ``max_queue_size``
say how ``fit``, ``evaluate`` and ``predict`` read it: with ``workers > 1`` (or
``workers >= 1`` and ``use_multiprocessing=True``) batches are made ahead, in order, by
that many threads (or processes) while the step runs (:mod:`.workers`), as Keras does;
otherwise in the loop itself. ``fit(shuffle=True)`` visits the batches in a new order each
epoch (drawn from myelin's seeded generator: ``set_random_seed`` repeats it).

Example:
    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, i):
    ...         x = np.full((3, 1), float(i))
    ...         return x, x * x
    >>> [y.ravel().tolist() for _, y in Squares()]
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
"""

from __future__ import annotations

import itertools
import warnings

from .workers import OrderedWorkers


class PyDataset:
    """Base class of a dataset made by Python code, batch by batch (Keras 3's ``keras.utils.PyDataset``).

    Subclasses implement ``__getitem__(index)`` (one whole batch) and ``__len__`` (the number
    of batches), and may implement ``on_epoch_begin`` / ``on_epoch_end``. The constructor's
    arguments say how ``fit`` reads it: ``workers`` threads (or processes with
    ``use_multiprocessing=True``, for work that holds the GIL; the dataset must then be
    picklable where processes are not forked) preparing up to ``max_queue_size`` batches
    ahead. Iterating it yourself (``for batch in ds``) reads it in order, in this thread.

    Example:
        >>> import numpy as np
        >>> class Batches(PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, i):
        ...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        ...         return self.x[s], self.y[s]
        >>> ds = Batches(np.zeros((10, 2)), np.zeros(10), 4, workers=2)
        >>> len(ds), ds.workers, [len(x) for x, _ in ds]
        (3, 2, [4, 4, 2])
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        if not all(hasattr(self, a) for a in ("_workers", "_use_multiprocessing", "_max_queue_size")):
            self._workers = getattr(self, "_workers", 1)
            self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
            self._max_queue_size = getattr(self, "_max_queue_size", 10)
            warnings.warn(
                f"{type(self).__name__} should call super().__init__(**kwargs) in its constructor (kwargs may hold "
                "workers, use_multiprocessing, max_queue_size); reading it in this thread",
                UserWarning,
                stacklevel=3,
            )

    @property
    def workers(self) -> int:
        """How many threads or processes prepare batches ahead during ``fit`` (1: none, in the loop)."""
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        """Whether the workers are processes (True) or threads (False)."""
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        """How many batches may be prepared ahead of the one the step is using."""
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int):
        """Batch ``index``: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; subclasses define it."""
        raise TypeError(f"{type(self).__name__} must define __getitem__(self, index) returning one batch")

    @property
    def num_batches(self) -> int | None:
        """The number of batches: ``len(self)``, or ``None`` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        return None

    def __iter__(self):
        n = self.num_batches
        for index in range(n) if n is not None else itertools.count():
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch of ``fit`` (before its first batch is asked for)."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch of ``fit`` (e.g. to reshuffle the samples)."""


Sequence = PyDataset  # Keras's older name


class _BatchGetter:
    """``dataset[index]``, as a picklable callable for worker processes."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __call__(self, index):
        return self.dataset[index]


def read_batches(dataset: PyDataset, indices):
    """The batches ``dataset[i]`` for ``i`` in ``indices``, made ahead by its workers when it has them.

    Returns an iterator that ends its workers when it is closed or exhausted.

    Example:
        >>> class Two(PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, i):
        ...         return i
        >>> list(read_batches(Two(workers=2), [1, 0]))
        [1, 0]
    """
    workers, processes = dataset.workers, dataset.use_multiprocessing
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"{type(dataset).__name__}: workers must be a non-negative integer, got {workers!r}")
    if workers > 1 or (workers > 0 and processes):
        return iter(OrderedWorkers(_BatchGetter(dataset), indices, workers, bool(processes), dataset.max_queue_size))
    return (dataset[i] for i in indices)
