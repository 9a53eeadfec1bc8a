"""CIFAR-10 (60,000 32x32 colour images in 10 classes), returned as Keras returns it.

``load_data()`` gives ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
(50000, 32, 32, 3) and (10000, 32, 32, 3) (channels last, Keras's default layout) and
uint8 labels of shape (n, 1): 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog,
6 frog, 7 horse, 8 ship, 9 truck.

It reads the **binary version** of the data set, ``cifar-10-binary.tar.gz`` (or its
extracted folder ``cifar-10-batches-bin``), not the pickle-based python version Keras
downloads (myelin reads no pickles; where only Keras's copy is found, the error says what
to fetch). Looked for in this order: ``path`` (a myelin extra: Keras's ``load_data`` takes
no argument), the environment variable ``MYELIN_CIFAR10``, myelin's cache
(``$MYELIN_HOME/datasets``) and Keras's (``~/.keras/datasets``). Otherwise it downloads the
archive from the CIFAR page into myelin's cache, checks its SHA-256, and reads it in place.

Example:
    >>> from myelin.datasets import cifar10
    >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 1))
"""

from __future__ import annotations

import numpy as np

from . import _cifar

ARCHIVE = _cifar.CIFAR10.archive
ORIGIN = _cifar.CIFAR10.origin
SHA256 = _cifar.CIFAR10.sha256


def load_data(*, path: str | None = None):
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``: uint8, channels last, labels (n, 1).

    ``path`` (keyword only, not in Keras): ``cifar-10-binary.tar.gz`` or a folder holding it
    or its ``.bin`` batches.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_test.dtype, y_test.dtype  # doctest: +SKIP
        (dtype('uint8'), dtype('uint8'))
    """
    (x_train, y_train), (x_test, y_test) = _cifar.load(_cifar.CIFAR10, path)
    return (x_train, y_train.astype(np.uint8)), (x_test, y_test.astype(np.uint8))
