"""CIFAR-100 (60,000 32x32 colour images, 100 fine classes in 20 coarse ones), returned as Keras returns it.

``load_data(label_mode="fine")`` gives ``(x_train, y_train), (x_test, y_test)``: uint8
images of shape (50000, 32, 32, 3) and (10000, 32, 32, 3) (channels last) and labels of
shape (n, 1), int64 as Keras's are: the fine class (0-99) or, with
``label_mode="coarse"``, the superclass (0-19).

It reads the **binary version**, ``cifar-100-binary.tar.gz`` (or its extracted folder
``cifar-100-binary``), not the pickle-based python version Keras downloads (myelin reads no
pickles; where only Keras's copy is found, the error says what to fetch). Looked for in
this order: ``path`` (a myelin extra), the environment variable ``MYELIN_CIFAR100``,
myelin's cache (``$MYELIN_HOME/datasets``) and Keras's (``~/.keras/datasets``). Otherwise it
downloads the archive from the CIFAR page into myelin's cache and checks its SHA-256.

Example:
    >>> from myelin.datasets import cifar100
    >>> (x_train, y_train), _ = cifar100.load_data(label_mode="coarse")  # doctest: +SKIP
    >>> int(y_train.max())  # doctest: +SKIP
    19
"""

from __future__ import annotations

import numpy as np

from . import _cifar

ARCHIVE = _cifar.CIFAR100.archive
ORIGIN = _cifar.CIFAR100.origin
SHA256 = _cifar.CIFAR100.sha256


def load_data(label_mode: str = "fine", *, path: str | None = None):
    """Load CIFAR-100 as ``(x_train, y_train), (x_test, y_test)``: uint8 images, int64 labels (n, 1).

    ``label_mode``: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses). ``path``
    (keyword only, not in Keras): ``cifar-100-binary.tar.gz`` or a folder holding it or its
    ``train.bin``/``test.bin``.

    Example:
        >>> load_data(label_mode="medium")
        Traceback (most recent call last):
        ...
        ValueError: cifar100.load_data: label_mode must be "fine" or "coarse", got 'medium'
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'cifar100.load_data: label_mode must be "fine" or "coarse", got {label_mode!r}')
    column = 1 if label_mode == "fine" else 0  # each record: coarse label byte, fine label byte, pixels
    (x_train, labels_train), (x_test, labels_test) = _cifar.load(_cifar.CIFAR100, path)
    y_train = labels_train[:, column : column + 1].astype(np.int64)
    y_test = labels_test[:, column : column + 1].astype(np.int64)
    return (x_train, y_train), (x_test, y_test)
