"""The kinds of data ``fit``, ``evaluate`` and ``predict`` take, each turned into batches.

``array_data_adapter``: arrays in memory (NumPy, lists, pandas, dicts of named inputs) and
NumPy memory maps (read batch by batch); ``stream_data_adapter``: Python generators and
iterators, and ``PyDataset`` objects (``py_dataset_adapter``), whose batches ``workers``
threads or processes may prepare ahead (``workers``).

Example:
    >>> import numpy as np
    >>> is_stream((b for b in [])), is_stream(np.zeros(2))
    (True, False)
"""

from __future__ import annotations

from . import array_data_adapter  # noqa: F401
from .py_dataset_adapter import PyDataset, Sequence  # noqa: F401
from .stream_data_adapter import GeneratorDataAdapter, PyDatasetAdapter, StreamAdapter, is_stream  # noqa: F401


def get_stream_adapter(
    model,
    x,
    y,
    sample_weight,
    batch_size,
    method: str,
    check_finite: bool,
    class_weight=None,
    custom: bool = False,
    mode: str = "xy",
    what: str = "x",
) -> StreamAdapter:
    """The adapter of a generator, iterator or ``PyDataset`` ``x``; refuses arguments that belong in its batches.

    Example:
        >>> import numpy as np, myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
        >>> get_stream_adapter(m, iter([]), np.zeros(2), None, None, "fit", True)
        Traceback (most recent call last):
        ...
        ValueError: fit(): x is a generator or iterator, so y must not be given: yield (x, y) or (x, y, sample_weight)...
    """
    kind = "PyDataset" if isinstance(x, PyDataset) else "generator or iterator"
    for arg, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise ValueError(
                f"{method}(): {what} is a {kind}, so {arg} must not be given: yield (x, y) or (x, y, sample_weight) "
                "batches instead"
            )
    if batch_size is not None:
        raise ValueError(
            f"{method}(): {what} is a {kind}, whose batches have their own size: do not pass batch_size={batch_size!r}"
        )
    cls = PyDatasetAdapter if isinstance(x, PyDataset) else GeneratorDataAdapter
    return cls(x, model, mode, method, check_finite, class_weight, custom)
