"""Level 6: datasets, read from local files (and downloaded only when a network is there).

The eight data sets of ``keras.datasets``, each with Keras's ``load_data`` (and, for the
text ones, ``get_word_index``); see docs/datasets.md for the files each reads.

Example:
    >>> from myelin.datasets import mnist, cifar10, imdb
"""

from . import boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist", "reuters"]
