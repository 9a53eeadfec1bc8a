"""Keras's ``keras.preprocessing.sequence``: ``pad_sequences`` (myelin.utils.pad_sequences).

Example:
    >>> from myelin.preprocessing.sequence import pad_sequences
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, truncating="post").tolist()
    [[1, 2], [0, 4]]
"""

from __future__ import annotations

from ..utils import pad_sequences

__all__ = ["pad_sequences"]
