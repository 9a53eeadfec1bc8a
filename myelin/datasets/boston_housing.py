"""Boston Housing (506 districts, 13 features, median house value in k$), split as Keras splits it.

**Warning** (as Keras's): one of its features encodes an assumption about race; use it only
to illustrate the ethical problems of data sets. ``california_housing`` is the alternative.

``load_data(path="boston_housing.npz", test_split=0.2, seed=113)`` shuffles the samples
with ``np.random.RandomState(seed)`` and gives the first ``int(n * (1 - test_split))`` to
training: ``(x_train, y_train), (x_test, y_test)`` with x of shape (n, 13) and y of shape
(n,), float64 as in Keras's file. The file ``path`` is looked for as given, in the
environment variable ``MYELIN_BOSTON_HOUSING``, then by name in myelin's cache
(``$MYELIN_HOME/datasets``) and Keras's (``~/.keras/datasets``); otherwise downloaded from
Keras's origin into myelin's cache and checked (SHA-256), unless ``MYELIN_OFFLINE=1``.

Example:
    >>> from myelin.datasets import boston_housing
    >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((404, 13), (102, 13))
"""

from __future__ import annotations

from . import _housing

FILE = "boston_housing.npz"
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = FILE, test_split: float = 0.2, seed: int = 113):
    """Load Boston Housing as ``(x_train, y_train), (x_test, y_test)``, shuffled by ``seed``, as Keras does.

    Example:
        >>> load_data(test_split=1.0)
        Traceback (most recent call last):
        ...
        ValueError: boston_housing.load_data: test_split must be between 0 and 1 (1 excluded), got 1.0
    """
    return _housing.load(
        "boston_housing.load_data", "Boston Housing", "MYELIN_BOSTON_HOUSING", path, ORIGIN, SHA256, test_split, seed
    )
