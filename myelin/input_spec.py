"""``InputSpec``: what a layer accepts (rank, dtype, sizes of given axes), checked on every call.

A layer sets ``self.input_spec`` (one spec, or a list with one per input); ``Layer.__call__``
checks each input against it before building or calling, and the error names the layer.

Example:
    >>> import numpy as np
    >>> from myelin.layers import Layer
    >>> class Pairs(Layer):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.input_spec = InputSpec(ndim=2, axes={-1: 2})
    ...     def call(self, x):
    ...         return x
    >>> Pairs()(np.zeros((3, 2), np.float32)).shape
    (3, 2)
"""

from __future__ import annotations


class InputSpec:
    """The rank (``ndim``, ``min_ndim``, ``max_ndim``), ``dtype``, ``shape`` (None for any size)
    and fixed sizes of some ``axes`` ({axis: size}) that a layer's input must have.

    Example:
        >>> spec = InputSpec(min_ndim=2, axes={-1: 4})
        >>> spec.axes, InputSpec.from_config(spec.get_config()).min_ndim
        ({-1: 4}, 2)
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim: int | None = None,
        max_ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict | None = None,
        allow_last_axis_squeeze: bool = False,
        name: str | None = None,
        optional: bool = False,
    ):
        self.dtype = None if dtype is None else str(dtype)
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.allow_last_axis_squeeze, self.name, self.optional = bool(allow_last_axis_squeeze), name, bool(optional)
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (TypeError, ValueError, AttributeError):
            raise ValueError(f"InputSpec: axes must be a dict of integer axes, got {axes!r}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            rank = self.ndim if self.ndim is not None else self.max_ndim
            if max(self.axes) >= rank:
                raise ValueError(f"InputSpec: axis {max(self.axes)} is beyond the rank {rank}")

    def __repr__(self) -> str:
        fields = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
        return "InputSpec(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in fields if getattr(self, f)) + ")"

    def get_config(self) -> dict:
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config: dict) -> InputSpec:
        """Rebuild from :meth:`get_config`'s dict."""
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raise a ValueError naming the layer when ``inputs`` do not fit ``input_spec``.

    Example:
        >>> import numpy as np
        >>> assert_input_compatibility(InputSpec(ndim=2), [np.zeros((2, 3))], "dense")
        >>> assert_input_compatibility(InputSpec(ndim=3), [np.zeros((2, 3))], "conv")
        Traceback (most recent call last):
        ...
        ValueError: Input 0 of layer 'conv' is incompatible with the layer: expected ndim=3, found ndim=2. ...
    """
    if input_spec is None:
        return
    specs = list(input_spec) if isinstance(input_spec, (list, tuple)) else [input_spec]
    if not all(spec is None or isinstance(spec, InputSpec) for spec in specs):
        raise TypeError(f"layer {layer_name!r}: input_spec must be an InputSpec or a list of them, got {input_spec!r}")
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(inputs) != len(specs):
        raise ValueError(f"Layer {layer_name!r} expects {len(specs)} input(s), but it received {len(inputs)} input tensors")
    for i, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        shape = tuple(x.shape)
        where = f"Input {i} of layer {layer_name!r} is incompatible with the layer"
        rank = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and rank != spec.ndim:
            raise ValueError(f"{where}: expected ndim={spec.ndim}, found ndim={rank}. Full shape received: {shape}")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(f"{where}: expected max_ndim={spec.max_ndim}, found ndim={rank}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(f"{where}: expected min_ndim={spec.min_ndim}, found ndim={rank}. Full shape received: {shape}")
        dtype = getattr(x, "dtype", None)
        if spec.dtype is not None and dtype is not None and str(dtype) != spec.dtype:
            raise ValueError(f"{where}: expected dtype={spec.dtype}, found dtype={dtype}")
        for axis, size in spec.axes.items():
            if size is not None and -rank <= axis < rank and shape[axis] not in (size, None):
                raise ValueError(
                    f"{where}: expected axis {axis} of input shape to have value {size}, but received input with shape {shape}"
                )
        if spec.shape is not None:
            expected = spec.shape
            got = shape
            if spec.allow_last_axis_squeeze:
                got = got[:-1] if got and got[-1] == 1 else got
                expected = expected[:-1] if expected and expected[-1] == 1 else expected
            if len(got) != len(expected) or any(e is not None and g is not None and e != g for e, g in zip(expected, got)):
                raise ValueError(f"{where}: expected shape={spec.shape}, found shape={shape}")
