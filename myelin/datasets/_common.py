"""What the data-set loaders share: where files are looked for, the download, the errors.

A loader looks for its file (or folder) in this order: the ``path`` it was given, when that
exists or is absolute; the environment variable ``MYELIN_<NAME>``; myelin's cache folder
(``$MYELIN_HOME/datasets``, default ``~/.myelin/datasets``); Keras's cache folder
(``$KERAS_HOME/datasets``, default ``~/.keras/datasets``), so that files Keras downloaded
are read without a second download. Only when none has it, and ``MYELIN_OFFLINE`` is not
set, it downloads into myelin's cache and checks the file's SHA-256 (or MD5 where Keras
publishes only that) before keeping it.

Example:
    >>> from myelin.datasets import _common
    >>> _common.keras_cache_dir().name
    'datasets'
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .mnist import cache_dir, keras_cache_dir

__all__ = ["cache_dir", "candidates", "download", "fetch", "keras_cache_dir", "load_numeric_npz", "offline"]


def candidates(path, env: str, names: Iterable[str]) -> list[Path]:
    """The places a loader looks, in order: ``path``, ``$env``, then each name in both caches.

    Example:
        >>> [p.name for p in candidates(None, "MYELIN_NOTHING_SET", ["a.npz"])]
        ['a.npz', 'a.npz']
    """
    found: list[Path] = []
    if path is not None:
        given = Path(os.path.expanduser(str(path)))
        if given.is_absolute() or given.exists():
            found.append(given)
    if os.environ.get(env):
        found.append(Path(os.path.expanduser(os.environ[env])))
    names = list(names)
    for folder in (cache_dir(), keras_cache_dir()):
        found += [folder / name for name in names]
    return found


def offline() -> bool:
    """True when ``MYELIN_OFFLINE`` forbids downloads (any value but empty or ``0``).

    Example:
        >>> import os
        >>> os.environ["MYELIN_OFFLINE"] = "1"; offline()
        True
    """
    return os.environ.get("MYELIN_OFFLINE", "") not in ("", "0")


def _digest(file_hash: str):
    if len(file_hash) == 64:
        return hashlib.sha256()
    if len(file_hash) == 32:
        return hashlib.md5()  # noqa: S324  (Keras publishes only an MD5 for some files)
    raise ValueError(f"file_hash must be a SHA-256 (64 hex digits) or MD5 (32), got {file_hash!r}")


def download(url: str, destination: Path, file_hash: str, timeout: float = 30.0) -> Path:
    """Fetch ``url`` into ``destination`` atomically, refusing it unless its checksum matches.

    ``file_hash`` is a SHA-256 (64 hex digits) or, where only that is published, an MD5 (32).

    Example:
        >>> download("https://example.org/x.npz", cache_dir() / "x.npz", "0" * 64)  # doctest: +SKIP
    """
    import urllib.request  # noqa: PLC0415  (only a download needs the HTTP stack: keeps `import myelin` fast)

    digest = _digest(file_hash)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".download-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != file_hash:
            raise ValueError(f"downloaded {url} has {digest.name} {digest.hexdigest()}, expected {file_hash}; discarded")
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return destination


def fetch(urls: Sequence[str], destination: Path, file_hash: str) -> tuple[Path | None, str]:
    """Download from the first of ``urls`` that answers with the right checksum.

    Returns ``(path, "")`` on success, ``(None, reason)`` when downloads are off or all failed.

    Example:
        >>> import os
        >>> os.environ["MYELIN_OFFLINE"] = "1"
        >>> fetch(["https://example.org/x.npz"], cache_dir() / "x.npz", "0" * 64)
        (None, 'MYELIN_OFFLINE is set')
    """
    if offline():
        return None, "MYELIN_OFFLINE is set"
    reasons = []
    for url in urls:
        try:
            return download(url, destination, file_hash), ""
        except (OSError, ValueError) as err:
            reasons.append(f"the download from {url} failed ({err})")
    return None, "; ".join(reasons)


def load_numeric_npz(path: Path, keys: Sequence[str], what: str) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of an ``.npz`` file, read with pickle refused.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp(), "d.npz"); np.savez(p, x=np.arange(3))
        >>> load_numeric_npz(p, ["x"], "a test file")["x"].tolist()
        [0, 1, 2]
    """
    with np.load(path, allow_pickle=False) as f:
        missing = set(keys) - set(f.files)
        if missing:
            raise ValueError(f"{path}: not {what} (the .npz file lacks {sorted(missing)}; it holds {sorted(f.files)})")
        return {key: f[key] for key in keys}


def check_split(test_split, name: str, allow_one: bool = False) -> float:
    """``test_split`` as a float in [0, 1) (or [0, 1] with ``allow_one``), or a ValueError.

    Example:
        >>> check_split(0.25, "boston_housing.load_data")
        0.25
    """
    high_ok = allow_one and test_split == 1
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name}: test_split must be a number between 0 and 1, got {test_split!r}")
    if not (0 <= test_split < 1 or high_ok):
        bound = "1 (1 included)" if allow_one else "1 (1 excluded)"
        raise ValueError(f"{name}: test_split must be between 0 and {bound}, got {test_split!r}")
    return float(test_split)


def shuffled_order(n: int, seed) -> np.ndarray:
    """The order Keras shuffles ``n`` samples into: ``np.random.RandomState(seed).shuffle``.

    Example:
        >>> shuffled_order(5, 113).tolist()
        [1, 0, 3, 2, 4]
    """
    indices = np.arange(n)
    np.random.RandomState(seed).shuffle(indices)
    return indices
