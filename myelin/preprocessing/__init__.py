"""Keras's ``keras.preprocessing``: the dataset utilities and the image and sequence helpers, under Keras's names.

Everything here is myelin's own function, reached by the path a Keras program imports it from:
``image_dataset_from_directory``, ``text_dataset_from_directory`` and
``timeseries_dataset_from_array`` (:mod:`myelin.dataset_utils`), ``image`` (load, save,
convert and ``smart_resize`` images) and ``sequence`` (``pad_sequences``).

Example:
    >>> from myelin import preprocessing
    >>> preprocessing.sequence.pad_sequences([[1, 2], [3]], maxlen=3).tolist()
    [[0, 1, 2], [0, 0, 3]]
"""

from __future__ import annotations

from ..dataset_utils import image_dataset_from_directory, text_dataset_from_directory, timeseries_dataset_from_array
from . import image, sequence

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
