"""Keras's ``get_file``: a file from a URL, cached, its checksum verified, optionally extracted.

The file is kept in ``cache_dir/cache_subdir`` (``~/.myelin/datasets`` by default); a copy
already there is used (and re-downloaded if ``file_hash`` shows it incomplete). Without a
network the error says so and where to put the file by hand. Archives are extracted with
Python's safe tar filter and zip members are checked to stay inside the target folder.

Example:
    >>> import hashlib, os, pathlib, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> src = pathlib.Path(folder, "data.txt"); _ = src.write_text("hello")
    >>> digest = hashlib.sha256(b"hello").hexdigest()
    >>> path = get_file(origin=src.as_uri(), file_hash=digest, cache_dir=os.path.join(folder, "cache"))
    >>> pathlib.Path(path).read_text()
    'hello'
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile


def _hash_file(path: str, algorithm: str, chunk_size: int = 1 << 16) -> str:
    digest = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()  # noqa: S324  (md5 only when asked)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _algorithm(file_hash: str, hash_algorithm: str) -> str:
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', got {hash_algorithm!r}")
    if hash_algorithm == "auto":
        return "sha256" if len(file_hash) == 64 else "md5"
    return hash_algorithm


def validate_file(fpath: str, file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file's sha256 (or md5) hex digest is ``file_hash``.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp(), "x"); _ = p.write_bytes(b"")
        >>> validate_file(str(p), "d41d8cd98f00b204e9800998ecf8427e")
        True
    """
    return _hash_file(fpath, _algorithm(file_hash, algorithm)) == str(file_hash)


def _extract(archive: str, target: str, archive_format) -> bool:
    formats = {"auto": ("tar", "zip"), "tar": ("tar",), "zip": ("zip",)}
    if archive_format is None:
        return False
    kinds = formats.get(archive_format) if isinstance(archive_format, str) else tuple(archive_format)
    if not kinds:
        raise ValueError(
            f"get_file: archive_format must be 'auto', 'tar', 'zip', a list of them or None, got {archive_format!r}"
        )
    os.makedirs(target, exist_ok=True)
    for kind in kinds:
        if kind == "tar" and tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")
            return True
        if kind == "zip" and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                root = os.path.realpath(target)
                for member in zf.namelist():
                    dest = os.path.realpath(os.path.join(target, member))
                    if not (dest == root or dest.startswith(root + os.sep)):
                        raise ValueError(f"get_file: the zip member {member!r} would land outside {target!r}")
                zf.extractall(target)  # noqa: S202  (every member checked above)
            return True
    return False


def get_file(
    fname: str | None = None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format="auto",
    cache_dir: str | None = None,
    force_download: bool = False,
) -> str:
    """Download ``origin`` (unless cached) and return its local path (Keras's arguments).

    ``file_hash``: the expected sha256 (or md5, ``hash_algorithm``) hex digest, checked after
    the download (a mismatch removes the file and raises); ``extract``/``untar``: unpack a tar
    or zip archive and return the folder; ``force_download``: ignore a cached copy.

    Example:
        >>> get_file("x.txt", origin=None)
        Traceback (most recent call last):
        ...
        ValueError: get_file: give the origin argument (the URL of the file to download)
    """
    if origin is None:
        raise ValueError("get_file: give the origin argument (the URL of the file to download)")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(cache_dir if cache_dir is not None else os.path.join("~", ".myelin"))
    if not os.access(base if os.path.exists(base) else os.path.dirname(base) or ".", os.W_OK):
        base = os.path.join(tempfile.gettempdir(), ".myelin")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    given = fname
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"get_file: cannot tell a file name from the origin {origin!r}: give fname")
    elif os.sep in str(fname) or "/" in str(fname):
        raise ValueError(f"get_file: fname must be a file name, not a path (use cache_dir for the folder), got {fname!r}")
    fname = str(fname)
    unpack = extract or untar
    if unpack:
        if given and "." in fname:
            target = os.path.join(folder, fname)
            extracted = os.path.join(folder, fname[: fname.find(".")] + "_extracted")
        else:
            extracted = os.path.join(folder, fname)
            target = os.path.join(folder, fname + "_archive")
    else:
        target = os.path.join(folder, fname)
    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        download = True  # an incomplete or outdated copy
    if download:
        partial = target + ".part"
        try:
            with urllib.request.urlopen(origin) as response, open(partial, "wb") as out:  # noqa: S310  (the caller's URL)
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, ValueError) as err:
            if os.path.exists(partial):
                os.remove(partial)
            reason = getattr(err, "reason", err)
            raise OSError(
                f"get_file: could not download {origin}: {reason}. Without a network connection, put the file "
                f"there by hand: {target}"
            ) from None
        os.replace(partial, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            actual = _hash_file(target, _algorithm(file_hash, hash_algorithm))
            os.remove(target)
            raise ValueError(
                f"get_file: the file downloaded from {origin} is incomplete or corrupted: its "
                f"{_algorithm(file_hash, hash_algorithm)} is {actual}, expected {file_hash}"
            )
    if unpack:
        fresh = not os.path.exists(extracted) or download
        if fresh and not _extract(target, extracted, "tar" if untar and not extract else archive_format):
            raise ValueError(f"get_file: {target} is not a {archive_format} archive")
        return extracted
    return target
