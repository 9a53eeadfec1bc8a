"""Level 0: Keras's ``name_scope`` and ``device`` context managers (``myelin.name_scope``, ``myelin.device``).

``name_scope("block")`` prefixes the names of the weights created inside it:
``block/dense/kernel`` instead of ``dense/kernel`` (Keras's variable paths), nested scopes
joined with "/". ``device("cpu")`` runs as always; ``device("gpu")`` (or ``"cuda"``,
``"gpu:1"``) makes the tensors created inside it CuPy arrays on that GPU, through
:mod:`myelin.backend`, and refuses with a clear error where CuPy or a GPU is missing.

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> with myelin.name_scope("encoder"):
    ...     d = layers.Dense(2, name="proj")
    ...     _ = d([[1.0, 2.0]])
    >>> [w.name for w in d.weights]
    ['encoder/proj/kernel', 'encoder/proj/bias']
"""

from __future__ import annotations

import re

from . import backend

_STACK: list[name_scope] = []


class name_scope:
    """A scope for weight names: weights created inside get ``"<scope>/"`` before their name.

    ``caller`` and ``deduplicate`` follow Keras: re-entering the scope that the same caller
    opened last under the same name adds no second level. ``override_parent`` replaces the
    enclosing scopes' path with the one given.

    Example:
        >>> with name_scope("a"):
        ...     with name_scope("b"):
        ...         current_path()
        'a/b'
    """

    def __init__(self, name: str, caller=None, deduplicate: bool = True, override_parent: str | None = None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"name_scope: name must be a string without '/', got {name!r}")
        if override_parent is not None and not isinstance(override_parent, str):
            raise TypeError(f"name_scope: override_parent must be a path string or None, got {override_parent!r}")
        self.name, self.caller, self.deduplicate, self.override_parent = name, caller, bool(deduplicate), override_parent
        self._pushed = False

    def __enter__(self) -> name_scope:
        if self.deduplicate and _STACK and self.caller is not None:
            top = _STACK[-1]
            if top.caller is self.caller and top.name == self.name:
                return self
        _STACK.append(self)
        self._pushed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._pushed:
            _STACK.remove(self)
            self._pushed = False


def current_path() -> str:
    """The path of the open name scopes, "" outside any.

    Example:
        >>> current_path()
        ''
    """
    parts: list[str] = []
    for scope in _STACK:
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


def scoped(name: str) -> str:
    """``name`` under the open name scopes ("block/dense/kernel"), unchanged outside any.

    Example:
        >>> scoped("dense/kernel")
        'dense/kernel'
    """
    path = current_path()
    return f"{path}/{name}" if path else name


_DEVICE = re.compile(r"^(cpu|gpu|cuda)(?::(\d+))?$")


class device:
    """Place the tensors created inside on a device: ``"cpu"`` (NumPy, as always) or ``"gpu[:k]"`` / ``"cuda[:k]"``.

    On a GPU the tensors (inputs, weights, results) are CuPy arrays on device k, and myelin's
    ops run on them through ``backend.array_module``. Without CuPy, or without a GPU, entering
    the scope raises RuntimeError saying which is missing.

    Example:
        >>> import myelin
        >>> with device("cpu"):
        ...     t = myelin.Tensor([1.0, 2.0])
        >>> type(t.data).__module__
        'numpy'
    """

    def __init__(self, device_name: str):
        if not isinstance(device_name, str) or not _DEVICE.match(device_name.lower()):
            raise ValueError(
                f"device: device_name must be 'cpu', 'gpu', 'cuda' or one of them with ':<index>', got {device_name!r}"
            )
        kind, index = _DEVICE.match(device_name.lower()).groups()
        self.device_name = device_name
        self.kind = "cpu" if kind == "cpu" else "gpu"
        self.index = int(index or 0)
        self._previous = None
        self._cuda_device = None

    def __enter__(self) -> device:
        self._previous = backend.placement()
        if self.kind == "cpu":
            if self.index != 0:
                raise ValueError(f"device: myelin has one CPU device, cpu:0; got {self.device_name!r}")
            backend.set_placement(None)
            return self
        try:
            import cupy  # noqa: PLC0415
        except ImportError:
            raise RuntimeError(
                f"device({self.device_name!r}): running on a GPU needs CuPy (pip install cupy-cuda12x), which is not installed"
            ) from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as err:  # CuPy raises its own CUDA errors when no driver or GPU is there
            raise RuntimeError(f"device({self.device_name!r}): CuPy finds no usable GPU ({err})") from None
        if self.index >= count:
            raise RuntimeError(f"device({self.device_name!r}): there are {count} GPU(s), numbered from 0")
        self._cuda_device = cupy.cuda.Device(self.index)
        self._cuda_device.__enter__()
        backend.set_placement((cupy, self.index))
        return self

    def __exit__(self, *exc) -> None:
        backend.set_placement(self._previous)
        if self._cuda_device is not None:
            self._cuda_device.__exit__(*exc)
            self._cuda_device = None


__all__ = ["current_path", "device", "name_scope", "scoped"]
