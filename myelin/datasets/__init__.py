"""Level 6: datasets, read from local files (and downloaded only when a network is there).

Example:
    >>> from myelin.datasets import mnist
"""

from . import mnist

__all__ = ["mnist"]
