"""Keras's autocasting for layers of a mixed policy: inputs and variables cast to the compute dtype for a call.

``Layer.__call__`` hands a call here when the layer's policy computes in another dtype than it
stores (``"mixed_float16"``, ``"mixed_bfloat16"``) or when it runs inside such a layer. The
layer's float variables (and its sublayers') are replaced, for the length of the call, by
differentiable casts of themselves, so that ``call`` reads ``self.kernel`` in float16 and the
gradient comes back to the float32 variable; floating inputs are cast to the compute dtype and
floating outputs leave in it. docs/mixed_precision.md says what runs in which dtype.

Example:
    >>> import numpy as np
    >>> from myelin.layers import Dense
    >>> layer = Dense(2, dtype="mixed_float16")
    >>> layer(np.ones((1, 3), np.float32)).dtype, layer.kernel.dtype
    (dtype('float16'), dtype('float32'))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import dtype_policies
from ..input_spec import assert_input_compatibility
from ..ops.core import _cast_keeping_logits
from ..tensor import Tensor

if TYPE_CHECKING:
    from .base import Layer

# The dtype variables are read in while a layer of a mixed policy runs (Keras's AutocastScope), or None.
AUTOCAST: list = [None]


def converted(x: Tensor, dtype: str) -> Tensor:
    """``x`` cast to ``dtype`` when one of them is float16/bfloat16 and both are floats (Keras's input autocast).

    Casts between float32 and float64 are left alone, as myelin always did (Keras casts those too).
    """
    have = dtype_policies.name_of(x.data.dtype)
    if have == dtype or (have not in dtype_policies.LOW_PRECISION and dtype not in dtype_policies.LOW_PRECISION):
        return x
    if not (dtype_policies.is_float(have) and dtype_policies.is_float(dtype)):
        return x
    return _cast(x, dtype)


def _cast(x: Tensor, dtype: str) -> Tensor:
    """A differentiable cast whose gradient goes back in ``x``'s dtype; a softmax/sigmoid output keeps its logits."""
    return _cast_keeping_logits(x, dtype_policies.as_numpy_dtype(dtype))


def _autocast_target(layer: Layer) -> str | None:
    """The dtype ``layer`` reads its variables in; None for a non-float compute dtype (no casting)."""
    dtype = layer.compute_dtype
    if not dtype_policies.is_float(dtype):
        return None
    if layer._float32_under_mixed and dtype in dtype_policies.LOW_PRECISION:
        return "float32"
    return dtype


def _swap_variables(layer: Layer, dtype: str | None, originals: dict) -> list:
    """Point every autocast float variable attribute of ``layer`` and its sublayers at a cast copy in ``dtype``.

    ``originals`` maps id(cast copy) -> variable for the copies in place (nested scopes). Variables
    created with ``autocast=False`` keep their dtype. No layer updates a cast variable in place: the
    one that updates weights during a call (BatchNormalization's moving statistics) computes in
    float32, where nothing is cast. Returns what :func:`_restore_variables` puts back.
    """
    saved, seen, memo, stack = [], set(), {}, [layer]
    while stack:
        owner = stack.pop()
        if id(owner) in seen:
            continue
        seen.add(id(owner))
        stack.extend(owner._sublayers)
        attrs = owner.__dict__
        for key, value in list(attrs.items()):
            if not isinstance(value, Tensor):
                continue
            # a Variable (it has .autocast; a plain Tensor has no such slot), or a cast copy standing in for one
            source = value if hasattr(value, "autocast") else originals.get(id(value))
            if source is None or not source.autocast:
                continue
            cast_already = value is not source and dtype_policies.name_of(value.data.dtype) == dtype
            if cast_already or not dtype_policies.is_float(source.data.dtype):
                continue  # not a float, or already cast for this dtype by an enclosing layer
            if dtype is None or dtype_policies.name_of(source.data.dtype) == dtype:
                new = source
            else:
                new = memo.get(id(source))
                if new is None:
                    new = memo[id(source)] = _cast(source, dtype)
                    originals[id(new)] = source
            if new is not value:
                saved.append((attrs, key, value))
                attrs[key] = new
    return saved


def _restore_variables(saved: list) -> None:
    for attrs, key, value in reversed(saved):
        _ORIGINALS.pop(id(attrs[key]), None)
        attrs[key] = value


_ORIGINALS: dict = {}  # id(cast copy of a variable) -> the variable, while the copy stands in for it


def autocast_call(layer: Layer, inputs, training, kwargs):
    """``layer.__call__`` under a mixed policy, or inside another layer's: Keras's autocasting.

    Floating inputs are cast to the compute dtype (float32 for the normalization layers), the
    variables are read in it through differentiable casts (their gradients come back in float32),
    and floating outputs leave in the compute dtype.
    """
    target = _autocast_target(layer)
    current = AUTOCAST[0]
    compute = layer.compute_dtype
    wanted = target if target is not None else compute
    if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], (Tensor, np.ndarray)):
        x = [i if isinstance(i, Tensor) else Tensor(i, dtype=wanted) for i in inputs]
        if layer._convert_input_args:
            x = [converted(t, wanted) for t in x]
        shape = [t.shape for t in x] if layer._builds_from_every_input else x[0].shape
    else:
        x = inputs if isinstance(inputs, Tensor) else Tensor(inputs, dtype=wanted)
        if layer._convert_input_args:
            x = converted(x, wanted)
        shape = x.shape
    if not layer.built:  # build first, so that the new variables are cast like the others
        if layer.input_spec is not None:
            assert_input_compatibility(layer.input_spec, x, layer.name)
        layer._maybe_build(shape)
        fresh = True  # swap this layer's new variables even inside a scope of the same dtype
    else:
        fresh = False
    if target == current and not fresh:
        out = layer._call_converted(x, shape, training, kwargs)
    else:
        saved = _swap_variables(layer, target, _ORIGINALS)
        AUTOCAST[0] = target
        try:
            out = layer._call_converted(x, shape, training, kwargs)
        finally:
            AUTOCAST[0] = current
            _restore_variables(saved)
    if target is None or not layer._casts_outputs or (compute not in dtype_policies.LOW_PRECISION and target == compute):
        return out
    return _outputs_in(out, compute)


def _outputs_in(out, dtype: str):
    """Floating output tensors cast to ``dtype`` (bfloat16 products come back from NumPy in float32)."""
    if isinstance(out, Tensor):
        have = dtype_policies.name_of(out.data.dtype)
        return out if have == dtype or not dtype_policies.is_float(have) else _cast(out, dtype)
    if isinstance(out, tuple):
        return tuple(_outputs_in(o, dtype) for o in out)
    if isinstance(out, list):
        return [_outputs_in(o, dtype) for o in out]
    return out
