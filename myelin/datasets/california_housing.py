"""California Housing (20,640 block groups of the 1990 census, 8 features, median house value in $).

``load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113)``:
``version="small"`` keeps the file's first 600 samples (Keras's stand-in for Boston
Housing), ``"large"`` all of them; the samples are shuffled with
``np.random.RandomState(seed)`` and the first ``int(n * (1 - test_split))`` go to training.
x has shape (n, 8) (MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude,
Longitude) and y shape (n,), with the file's dtypes. The file is found as for
``boston_housing`` (environment variable ``MYELIN_CALIFORNIA_HOUSING``), or downloaded from
Keras's origin and checked (SHA-256).

Example:
    >>> from myelin.datasets import california_housing
    >>> (x_train, y_train), _ = california_housing.load_data(version="small")  # doctest: +SKIP
    >>> x_train.shape  # doctest: +SKIP
    (480, 8)
"""

from __future__ import annotations

from . import _housing

FILE = "california_housing.npz"
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version: str = "large", path: str = FILE, test_split: float = 0.2, seed: int = 113):
    """Load California Housing as ``(x_train, y_train), (x_test, y_test)``, as Keras does.

    Example:
        >>> load_data(version="medium")
        Traceback (most recent call last):
        ...
        ValueError: california_housing.load_data: version must be "small" or "large", got 'medium'
    """
    if version not in ("small", "large"):
        raise ValueError(f'california_housing.load_data: version must be "small" or "large", got {version!r}')
    return _housing.load(
        "california_housing.load_data",
        "California Housing",
        "MYELIN_CALIFORNIA_HOUSING",
        path,
        ORIGIN,
        SHA256,
        test_split,
        seed,
        first=600 if version == "small" else None,
    )
