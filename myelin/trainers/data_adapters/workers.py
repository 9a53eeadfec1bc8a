"""Batches prepared ahead, in order, by worker threads or processes while the step runs.

``OrderedWorkers(get, indices, workers, use_multiprocessing, max_queue_size)`` calls
``get(i)`` for each index, at most ``max_queue_size`` ahead of the batch being consumed,
and yields the results in the order of ``indices`` (the same batches as calling ``get``
in a loop). An exception raised by ``get`` in a worker is raised in the caller: the same
exception, with the worker's traceback (a process's as the ``__cause__``, as
``concurrent.futures`` does). ``close()`` (also on leaving a ``with`` block, on an error,
on Ctrl-C) cancels what is queued, waits for the running calls and ends every thread or
process: nothing is left behind.

Worker processes are forked where the platform allows it (the dataset is not pickled);
they ignore Ctrl-C, which the main process handles.

Example:
    >>> with OrderedWorkers(lambda i: i * i, range(5), workers=2) as w:
    ...     list(w)
    [0, 1, 4, 9, 16]
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterable

_GET = None  # in a worker process: the function that makes batch i (inherited by fork)


def _init_process(get) -> None:
    global _GET
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _GET = get


def _call_in_process(index):
    return _GET(index)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform != "darwin" else "spawn")


class OrderedWorkers:
    """Iterate ``get(i)`` for ``i`` in ``indices``, computed ahead by ``workers`` threads or processes.

    Example:
        >>> w = OrderedWorkers(str, [3, 1, 2], workers=2, use_multiprocessing=False, max_queue_size=2)
        >>> list(w)
        ['3', '1', '2']
    """

    def __init__(
        self,
        get: Callable,
        indices: Iterable[int],
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(f"max_queue_size must be a positive integer, got {max_queue_size!r}")
        self._indices = iter(indices)
        self._ahead = max(max_queue_size, workers)
        if use_multiprocessing:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                workers, mp_context=_context(), initializer=_init_process, initargs=(get,)
            )
            self._submit = lambda i: self._pool.submit(_call_in_process, i)
        else:
            self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="myelin-data")
            self._submit = lambda i: self._pool.submit(get, i)
        self._queue: collections.deque = collections.deque()
        self._closed = False

    def _fill(self) -> None:
        while len(self._queue) < self._ahead:
            i = next(self._indices, None)
            if i is None:
                return
            self._queue.append(self._submit(i))

    def __iter__(self):
        try:
            self._fill()
            while self._queue:
                future = self._queue.popleft()
                result = future.result()  # re-raises the worker's exception, with its traceback
                self._fill()
                yield result
        finally:
            self.close()

    def close(self) -> None:
        """Cancel the queued calls, wait for the running ones, end every worker (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for future in self._queue:
            future.cancel()
        self._queue.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
