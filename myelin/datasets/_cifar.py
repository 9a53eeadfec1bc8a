"""CIFAR-10 and CIFAR-100 from the binary versions of the archives: fixed-size records, no pickle.

The CIFAR page offers each data set in three encodings. Keras reads the "python version"
(``cifar-10-python.tar.gz``), whose batches are pickles; myelin reads the "binary version"
(``cifar-10-binary.tar.gz``, ``cifar-100-binary.tar.gz``): each image is one record of
label byte(s) and 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue, rows of 32), the
same images in the same order. The archive is read where it lies (no extraction), or its
extracted folder. Where only Keras's pickle-based files are found, the error says which
file to fetch instead.

Example:
    >>> from myelin.datasets import _cifar
    >>> _cifar.CIFAR10.archive
    'cifar-10-binary.tar.gz'
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _common

PIXELS = 3 * 32 * 32


@dataclass(frozen=True)
class Spec:
    """One CIFAR data set's binary archive: names, origin, checksum, record layout."""

    title: str
    env: str
    archive: str
    folder: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    label_bytes: int
    origin: str
    sha256: str
    pickle_names: tuple[str, ...]  # what Keras (or the python version) leaves in a cache
    pickle_member: str  # a member name only the python version has


CIFAR10 = Spec(
    title="CIFAR-10",
    env="MYELIN_CIFAR10",
    archive="cifar-10-binary.tar.gz",
    folder="cifar-10-batches-bin",
    train=tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    test=("test_batch.bin",),
    label_bytes=1,
    origin="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    pickle_names=(
        "cifar-10-batches-py-target",
        "cifar-10-batches-py-target_archive",
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ),
    pickle_member="data_batch_1",
)
CIFAR100 = Spec(
    title="CIFAR-100",
    env="MYELIN_CIFAR100",
    archive="cifar-100-binary.tar.gz",
    folder="cifar-100-binary",
    train=("train.bin",),
    test=("test.bin",),
    label_bytes=2,
    origin="https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    sha256="58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
    pickle_names=(
        "cifar-100-python-target",
        "cifar-100-python-target_archive",
        "cifar-100-python",
        "cifar-100-python.tar.gz",
    ),
    pickle_member="meta",
)


def _pickle_error(spec: Spec, found: Path) -> ValueError:
    return ValueError(
        f"{found} is the pickle-based 'python version' of {spec.title} (what Keras downloads); myelin reads no "
        f"pickles. Fetch the binary version, {spec.archive} ({spec.origin}, SHA-256 {spec.sha256}), and put it at "
        f"{_common.cache_dir() / spec.archive} (or pass its path)."
    )


def _from_tar(spec: Spec, archive: Path) -> dict[str, bytes]:
    wanted = set(spec.train + spec.test)
    found: dict[str, bytes] = {}
    python_version = False
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if name == spec.pickle_member:
                python_version = True
            if member.isfile() and name in wanted and name not in found:
                handle = tar.extractfile(member)
                if handle is not None:
                    found[name] = handle.read()
    if python_version and not found:
        raise _pickle_error(spec, archive)
    missing = wanted - set(found)
    if missing:
        raise ValueError(f"{archive}: not the {spec.title} binary archive (it lacks {sorted(missing)})")
    return found


def _from_folder(spec: Spec, folder: Path) -> dict[str, bytes] | None:
    for inner in (folder, folder / spec.folder):
        if all((inner / name).is_file() for name in spec.train + spec.test):
            return {name: (inner / name).read_bytes() for name in spec.train + spec.test}
    if (folder / spec.archive).is_file():
        return _from_tar(spec, folder / spec.archive)
    return None


def _looks_pickled(spec: Spec, location: Path) -> bool:
    if location.is_dir():
        for inner in (location, *(location / name for name in spec.pickle_names)):
            if (inner / spec.pickle_member).is_file() or (inner / spec.pickle_names[2] / spec.pickle_member).is_file():
                return True
        return False
    return location.is_file() and location.name in spec.pickle_names


def _read(spec: Spec, location: Path) -> dict[str, bytes] | None:
    if location.is_dir():
        found = _from_folder(spec, location)
        if found is None and _looks_pickled(spec, location):
            raise _pickle_error(spec, location)
        return found
    if location.is_file():
        if not tarfile.is_tarfile(location):
            raise ValueError(f"{location}: not a tar archive (expected {spec.archive})")
        return _from_tar(spec, location)
    return None


def _records(spec: Spec, raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    size = spec.label_bytes + PIXELS
    if len(raw) % size:
        raise ValueError(f"{where}: {len(raw)} bytes is not a whole number of {size}-byte {spec.title} records")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size)
    images = records[:, spec.label_bytes :].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), records[:, : spec.label_bytes].copy()


def load(spec: Spec, path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Images (n, 32, 32, 3) uint8 and label bytes (n, label_bytes) uint8, train then test.

    Example:
        >>> (x, labels), _ = load(CIFAR10, None)  # doctest: +SKIP
    """
    if path is not None and not Path(path).expanduser().exists():
        raise FileNotFoundError(
            f"{spec.title}: path must name {spec.archive} or a folder holding it or its files, got {path!r}"
        )
    found = None
    if path is not None:  # what the caller chose: read there or fail, never fall back elsewhere
        found = _read(spec, Path(path).expanduser())
        if found is None:
            raise FileNotFoundError(f"{spec.title}: {path} holds neither {spec.archive} nor the files of {spec.folder}")
    for location in _common.candidates(None, spec.env, [spec.archive, spec.folder]) if found is None else ():
        found = _read(spec, location)
        if found is not None:
            break
    if found is None:
        target = _common.cache_dir() / spec.archive
        got, reason = _common.fetch([spec.origin], target, spec.sha256)
        if got is None:
            pickled = [
                folder / name
                for folder in (_common.cache_dir(), _common.keras_cache_dir())
                for name in spec.pickle_names
                if (folder / name).exists()
            ]
            hint = (
                f"Only the pickle-based python version was found ({pickled[0]}), which myelin does not read.\n"
                if pickled
                else ""
            )
            raise FileNotFoundError(
                f"{spec.title} was not found and could not be downloaded: {reason}.\n{hint}"
                f"Put the binary version {spec.archive} ({spec.origin}, SHA-256 {spec.sha256}) at {target} "
                f"or in {_common.keras_cache_dir()},\nor its extracted folder {spec.folder} there, or point the "
                f"environment variable {spec.env} (or the path argument) at either."
            )
        found = _from_tar(spec, got)
    splits = []
    for names in (spec.train, spec.test):
        parts = [_records(spec, found[name], name) for name in names]
        splits.append((np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])))
    return splits[0], splits[1]
