"""The batches of one epoch: arrays cut by ``batch_size``, or a generator's or ``PyDataset``'s own.

``_array_batches`` cuts arrays in memory (views in order, or a new permutation each epoch);
``_stream_steps`` decides how many batches a pass over a generator or ``PyDataset`` takes
(and refuses what would hang: an endless source without ``steps_per_epoch``);
``_ran_out`` warns, as Keras does, when a generator ends before its ``steps_per_epoch``.

Example:
    >>> import numpy as np
    >>> [xb[0].tolist() for xb, _, _ in _array_batches([np.arange(5)], [np.arange(5)], None, 2, None)]
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from .. import data


def _array_batches(xs: list, ys: list, sw, batch_size: int, steps: int | None, shuffle: bool = False, rng=None):
    """``(xs, ys, sw)`` of each batch of arrays in memory: views in order, or a new permutation with ``shuffle``."""
    for idx in itertools.islice(data.batch_indices(len(xs[0]), batch_size, shuffle, rng), steps):
        yield [a[idx] for a in xs], [a[idx] for a in ys], None if sw is None else sw[idx]


def _stream_steps(adapter, steps, passes: int, method: str, argument: str) -> int | None:
    """The batches of each pass over a generator or ``PyDataset``; errors for what would hang or cannot be."""
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"{method}(): {argument} must be a positive integer, got {steps!r}")
        steps = int(steps)
        if adapter.num_batches is not None and steps > adapter.num_batches:
            raise ValueError(
                f"{method}(): {argument}={steps}, but {adapter.source} has only {adapter.num_batches} batches "
                f"(its __len__): give {argument} <= {adapter.num_batches}, or None for all of them"
            )
        return steps
    if adapter.num_batches is not None:
        return adapter.num_batches
    if adapter.source != "generator":  # a PyDataset whose num_batches is None
        raise ValueError(
            f"{method}(): {adapter.source} is endless (num_batches is None): give {argument} (the batches of each epoch)"
        )
    if _endless(getattr(adapter, "_it", None)):
        raise ValueError(
            f"{method}(): x is an endless iterator ({type(adapter._it).__name__}): give {argument} (the batches of each "
            "epoch), or it would never end"
        )
    if passes > 1:
        raise ValueError(
            f"{method}(): x is a generator or iterator, which has no length and is read once: with epochs={passes} "
            f"give {argument} (the batches of each epoch; an endless generator always needs it), or use a PyDataset"
        )
    return None


def _endless(it) -> bool:
    """Whether ``it`` is one of Python's iterators known never to end (``cycle``, ``count``, ``repeat`` without times).

    A generator function's ``while True`` cannot be told from a long loop before running it.
    """
    if isinstance(it, itertools.cycle | itertools.count):
        return True
    if isinstance(it, itertools.repeat):
        try:
            it.__length_hint__()
        except TypeError:
            return True
    return False


def _ran_out(adapter, step: int, steps) -> bool:
    """After an epoch of ``steps_per_epoch`` batches: the generator ended before them (a warning, as Keras gives)."""
    if not adapter.ran_out:
        return False
    warnings.warn(
        f"fit(): the generator ran out of data after {step + 1} of the {steps} batches of this epoch; training stops. "
        "Make sure it can yield steps_per_epoch * epochs batches (or make it endless)",
        UserWarning,
        stacklevel=4,
    )
    return True
