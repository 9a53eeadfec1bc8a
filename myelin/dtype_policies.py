"""Level 0: dtype policies (Keras 3's ``keras.dtype_policies``): which dtype a layer computes in, which it stores.

A policy named after a dtype (``"float32"``, ``"float64"``, ``"float16"``, ``"bfloat16"``)
computes and stores in that dtype. ``"mixed_float16"`` and ``"mixed_bfloat16"`` compute in
the low dtype and keep the variables in float32: a layer casts its inputs and reads its
variables in the compute dtype, and the gradients go back to the float32 variables through
the casts (``myelin.layers.Layer``; docs/mixed_precision.md). bfloat16 arrays come from the
``ml_dtypes`` package (``pip install "myelin[mixed]"``); NumPy has float16 itself.

Example:
    >>> policy = DTypePolicy("mixed_float16")
    >>> policy.compute_dtype, policy.variable_dtype
    ('float16', 'float32')
    >>> get("float64")
    <DTypePolicy "float64">
"""

from __future__ import annotations

import numpy as np

from . import backend

# Float types that a "mixed" policy computes in; a layer casts inputs to or from them.
LOW_PRECISION = ("float16", "bfloat16")
_MIXED = {"mixed_float16": ("float16", "float32"), "mixed_bfloat16": ("bfloat16", "float32")}
_VALID = "'mixed_float16', 'mixed_bfloat16', or a dtype name such as 'float32', 'float64', 'float16' or 'bfloat16'"
_GLOBAL: list = [None]  # the policy set by set_dtype_policy; None: follow backend.floatx()
_BFLOAT16: list = []


def bfloat16_dtype() -> np.dtype:
    """NumPy's dtype for bfloat16, from the ``ml_dtypes`` package (an error saying how to install it otherwise).

    Example:
        >>> bfloat16_dtype().name
        'bfloat16'
    """
    if not _BFLOAT16:
        try:
            import ml_dtypes  # noqa: PLC0415  (optional: only bfloat16 needs it)
        except ImportError:
            raise ImportError(
                'bfloat16 needs the ml_dtypes package: pip install "myelin[mixed]" (or pip install ml_dtypes)'
            ) from None
        _BFLOAT16.append(np.dtype(ml_dtypes.bfloat16))
    return _BFLOAT16[0]


def as_numpy_dtype(name) -> np.dtype:
    """The NumPy dtype of a dtype name, ``"bfloat16"`` included.

    Example:
        >>> as_numpy_dtype("float16")
        dtype('float16')
    """
    if name == "bfloat16" or getattr(name, "__name__", None) == "bfloat16":
        return bfloat16_dtype()
    return np.dtype(name)


_NAMES: dict = {}


def name_of(dtype: np.dtype) -> str:
    """A NumPy dtype's name, remembered (NumPy computes ``dtype.name`` anew, slowly, on every read).

    Example:
        >>> name_of(np.dtype("float16"))
        'float16'
    """
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = np.dtype(dtype).name
    return name


def is_float(dtype) -> bool:
    """Whether ``dtype`` (a NumPy dtype or a name) is a floating type; bfloat16 counts (NumPy calls its kind 'V').

    Example:
        >>> is_float("float16"), is_float("int32"), is_float("bfloat16")
        (True, False, True)
    """
    if not isinstance(dtype, str):
        return backend.is_float_dtype(np.dtype(dtype))
    return dtype == "bfloat16" or (dtype != "string" and np.dtype(dtype).kind == "f")


def _dtype_name(name: str) -> str:
    if name in ("string", "str"):
        return "string"
    if name == "bfloat16":
        return "bfloat16"
    return np.dtype(name).name


class DTypePolicy:
    """A layer's dtype policy: the dtype it computes in (``compute_dtype``) and stores its variables in.

    ``name`` is a dtype name (both dtypes are that one) or ``"mixed_float16"`` /
    ``"mixed_bfloat16"`` (compute in float16 / bfloat16, variables in float32); None takes
    the global policy (:func:`dtype_policy`). Layers take a policy or its name as ``dtype=``.

    Example:
        >>> p = DTypePolicy("mixed_bfloat16")
        >>> p.name, p.compute_dtype, p.variable_dtype
        ('mixed_bfloat16', 'bfloat16', 'float32')
        >>> p == DTypePolicy("mixed_bfloat16"), p.get_config()
        (True, {'name': 'mixed_bfloat16'})
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError(f"DTypePolicy: name must be a string such as 'mixed_float16', got {name!r}")
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)

    @staticmethod
    def _parse_name(name: str) -> tuple[str, str]:
        if name in _MIXED:
            compute, variable = _MIXED[name]
        else:
            try:
                compute = variable = _dtype_name(name)
            except TypeError:
                raise ValueError(f"DTypePolicy: unknown policy {name!r}; valid policies are {_VALID}") from None
        if compute == "bfloat16":
            bfloat16_dtype()  # imports ml_dtypes, which teaches NumPy the name "bfloat16" (or says how to install it)
        return compute, variable

    @property
    def name(self) -> str:
        """The policy's name (``"mixed_float16"``, ``"float32"``, ...)."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of a layer's computations and outputs."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of a layer's variables (float32 under the mixed policies)."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """None: myelin has no quantized policies (Keras's int8/float8 ones)."""
        return None

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicy:
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


class FloatDTypePolicy(DTypePolicy):
    """Keras's other name for :class:`DTypePolicy` (a float policy).

    Example:
        >>> FloatDTypePolicy("float16") == DTypePolicy("float16")
        True
    """


def get(identifier) -> DTypePolicy:
    """A policy from a name, a policy, its config dict (Keras's ``{"class_name", "config"}``) or a NumPy dtype.

    None gives the global policy.

    Example:
        >>> get({"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}})
        <DTypePolicy "mixed_float16">
        >>> get(np.float64)
        <DTypePolicy "float64">
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if identifier in (str, object):
        return DTypePolicy("string")
    try:
        return DTypePolicy(as_numpy_dtype(identifier).name)
    except TypeError:
        raise ValueError(
            f"dtype must be a policy name, a DTypePolicy or a dtype; valid policies are {_VALID}, got {identifier!r}"
        ) from None


def serialize(policy: DTypePolicy) -> dict:
    """Keras's dict for a policy.

    Example:
        >>> serialize(DTypePolicy("mixed_float16"))["config"]
        {'name': 'mixed_float16'}
    """
    if not isinstance(policy, DTypePolicy):
        raise TypeError(f"dtype_policies.serialize: expected a DTypePolicy, got {policy!r}")
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects: dict | None = None) -> DTypePolicy:
    """The policy :func:`serialize`'s dict (or a name) describes.

    Example:
        >>> deserialize({"class_name": "FloatDTypePolicy", "config": {"name": "float16"}})
        <DTypePolicy "float16">
    """
    if isinstance(config, str):
        return DTypePolicy(config)
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"dtype_policies.deserialize: expected {{'class_name', 'config'}} or a name, got {config!r}")
    classes = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy, **(custom_objects or {})}
    cls = classes.get(config.get("class_name"))
    if cls is None:
        raise ValueError(
            f"dtype_policies.deserialize: unknown class {config.get('class_name')!r}; myelin has DTypePolicy and "
            "FloatDTypePolicy (no quantized policies)"
        )
    return cls.from_config(config["config"])


def dtype_policy() -> DTypePolicy:
    """The global policy: the one :func:`set_dtype_policy` set, else ``DTypePolicy(backend.floatx())``.

    Example:
        >>> dtype_policy()
        <DTypePolicy "float32">
    """
    policy = _GLOBAL[0]
    return policy if policy is not None else DTypePolicy(backend.floatx())


def set_dtype_policy(policy) -> None:
    """Set the global policy, which every layer created afterwards without ``dtype=`` takes.

    A name or a :class:`DTypePolicy`. Setting the policy named after ``backend.floatx()``
    ("float32") returns to the default, where layers follow ``floatx()``.

    Example:
        >>> set_dtype_policy("mixed_float16"); dtype_policy().compute_dtype
        'float16'
        >>> set_dtype_policy("float32"); dtype_policy()
        <DTypePolicy "float32">
    """
    if isinstance(policy, str):
        policy = DTypePolicy(policy)
    elif not isinstance(policy, DTypePolicy):
        raise ValueError(
            f"set_dtype_policy: policy must be a policy name or a DTypePolicy; valid policies are {_VALID}, got {policy!r}"
        )
    _GLOBAL[0] = None if policy.name == backend.floatx() else policy


def global_policy_or_none() -> DTypePolicy | None:
    """The policy set by :func:`set_dtype_policy`, or None in the default state (layers follow floatx()).

    Example:
        >>> global_policy_or_none() is None
        True
    """
    return _GLOBAL[0]


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get", "serialize", "set_dtype_policy"]
