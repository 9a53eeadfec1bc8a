"""Small Keras utilities: ``pack_x_y_sample_weight``, ``unpack_x_y_sample_weight``, ``standardize_dtype``, ``Config``.

Example:
    >>> unpack_x_y_sample_weight(pack_x_y_sample_weight("x", "y"))
    ('x', 'y', None)
"""

from __future__ import annotations

import json

import numpy as np


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The tuple a data pipeline yields: ``x`` (alone unless a list or tuple), ``(x, y)`` or ``(x, y, w)``.

    Example:
        >>> pack_x_y_sample_weight([1, 2])
        ([1, 2],)
    """
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from what a pipeline yields (missing parts are None).

    Example:
        >>> unpack_x_y_sample_weight(("x", "y", "w"))
        ('x', 'y', 'w')
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return data
    raise ValueError(
        f"unpack_x_y_sample_weight: data is expected as (x,), (x, y) or (x, y, sample_weight), got {len(data)} items"
    )


def standardize_dtype(dtype) -> str:
    """Keras's name for a dtype: ``"float32"``, ``"int64"``, ``"bool"`` ... (None: floatx).

    Example:
        >>> standardize_dtype(np.float64), standardize_dtype(int), standardize_dtype(None)
        ('float64', 'int64', 'float32')
    """
    if dtype is None:
        from .backend import floatx  # noqa: PLC0415

        return floatx()
    if dtype is int:
        return "int64"
    if dtype is float:
        return "float32"
    if dtype is bool:
        return "bool"
    if isinstance(dtype, str) and dtype.startswith("torch."):
        dtype = dtype[len("torch.") :]
    elif type(dtype).__module__ == "torch":  # a torch.dtype
        dtype = str(dtype)[len("torch.") :]
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"standardize_dtype: {dtype!r} is not a dtype") from None


class Config:
    """A dict whose keys are also attributes, that can be frozen and written as JSON (Keras's ``Config``).

    Example:
        >>> c = Config(lr=0.1); c.epochs = 3
        >>> c.lr, c["epochs"], c.to_json()
        (0.1, 3, '{"lr": 0.1, "epochs": 3}')
        >>> c.freeze(); c.frozen
        True
    """

    __attrs__ = None

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Refuse changes from now on."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        object.__setattr__(self, "_frozen", False)

    def _check(self, key) -> None:
        if self._frozen:
            raise ValueError(f"Config: cannot change {key!r}: the config is frozen (call unfreeze())")

    def __getattr__(self, name):
        try:
            return self._config[name]
        except KeyError:
            raise AttributeError(f"Config has no key {name!r}") from None

    def __setattr__(self, name, value):
        self._check(name)
        self._config[name] = value

    def __delattr__(self, name):
        self._check(name)
        del self._config[name]

    def __getitem__(self, key):
        return self._config[key]

    def __setitem__(self, key, value):
        self._check(key)
        self._config[key] = value

    def __delitem__(self, key):
        self._check(key)
        del self._config[key]

    def __contains__(self, key) -> bool:
        return key in self._config

    def __iter__(self):
        return iter(self._config)

    def __len__(self) -> int:
        return len(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def get(self, key, default=None):
        return self._config.get(key, default)

    def pop(self, *args):
        self._check(args[0] if args else None)
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._check(None)
        self._config.update(*args, **kwargs)

    def as_dict(self) -> dict:
        return dict(self._config)

    def to_json(self) -> str:
        return json.dumps(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"
