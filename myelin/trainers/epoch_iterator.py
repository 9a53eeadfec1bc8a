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
import threading
import warnings

import numpy as np

from .. import backend, data

# Shuffled batches of at least this many bytes are gathered one batch ahead on a thread of their own, when the
# thread policy has a core free for it: gathering 128 random MNIST rows (400 KB) takes ~50 us, which then runs
# beside the step (the seed network at batch 128: 0.89x the epoch); for 100 KB the hand-off costs what it saves.
PREFETCH_BYTES = 1 << 18


def _array_batches(xs: list, ys: list, sw, batch_size: int, steps: int | None, shuffle: bool = False, rng=None):
    """``(xs, ys, sw)`` of each batch of arrays in memory: views in order, or a new permutation with ``shuffle``.

    Large shuffled batches are gathered one ahead on another thread when a core is free
    (``PREFETCH_BYTES``): the same batches in the same order, each ready when the step asks.
    """
    indices = itertools.islice(data.batch_indices(len(xs[0]), batch_size, shuffle, rng), steps)

    def take(idx):
        return [a[idx] for a in xs], [a[idx] for a in ys], None if sw is None else sw[idx]

    row_bytes = sum(a.nbytes // max(1, len(a)) for a in (*xs, *ys) if hasattr(a, "nbytes"))
    if not shuffle or backend.native_threads() < 2 or row_bytes * min(batch_size, len(xs[0])) < PREFETCH_BYTES:
        for idx in indices:
            yield take(idx)
        return
    yield from _prefetched(indices, take)


def _prefetched(indices, take):
    """``take(idx)`` for each of ``indices``, each one computed on a helper thread while the caller uses the last."""
    slot: dict = {}
    asked, ready = threading.Semaphore(0), threading.Semaphore(0)

    def helper():
        while True:
            asked.acquire()
            idx = slot.pop("idx", None)
            if idx is None:  # (the end, or the consumer stopped early)
                return
            try:
                slot["batch"] = take(idx)
            except BaseException as exc:  # (raised in the caller's thread, where the batch is wanted)
                slot["error"] = exc
            ready.release()

    thread = threading.Thread(target=helper, name="myelin-batches", daemon=True)
    thread.start()
    try:
        pending = False
        for idx in indices:
            if pending:
                ready.acquire()
                if "error" in slot:
                    raise slot.pop("error")
                batch = slot.pop("batch")
            slot["idx"] = idx
            asked.release()
            if pending:
                yield batch
            pending = True
        if pending:
            ready.acquire()
            if "error" in slot:
                raise slot.pop("error")
            yield slot.pop("batch")
    finally:
        slot.pop("idx", None)
        asked.release()  # the helper ends
        thread.join()


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
