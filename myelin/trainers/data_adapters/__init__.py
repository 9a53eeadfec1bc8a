"""The kinds of data ``fit``, ``evaluate`` and ``predict`` take, each turned into batches.

``array_data_adapter``: arrays in memory (NumPy, lists, pandas, dicts of named inputs).
"""

from . import array_data_adapter  # noqa: F401
