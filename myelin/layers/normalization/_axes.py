"""The ``axis`` argument the normalization layers share: an int or a list of ints, checked against the input rank.

Example:
    >>> check_axis("LayerNormalization", [-1, 1])
    [-1, 1]
"""

from __future__ import annotations

import numbers


def check_axis(kind: str, axis):
    """``axis`` as Keras keeps it (an int, or a list for a list or tuple); anything else raises naming ``kind``.

    Example:
        >>> check_axis("UnitNormalization", -1)
        -1
    """
    if isinstance(axis, (list, tuple)):
        if not axis or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            raise TypeError(f"{kind}: axis must be an int or a non-empty list of ints, got {axis!r}")
        return [int(a) for a in axis]
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{kind}: axis must be an int or a list of ints, got {axis!r}")
    return int(axis)


def resolve_axes(kind: str, name: str, axis, shape) -> tuple:
    """The sorted non-negative axes ``axis`` names in an input of ``shape``; out of range raises naming the layer.

    Example:
        >>> resolve_axes("LayerNormalization", "ln", [-1], (None, 4, 8))
        (2,)
    """
    rank = len(shape)
    axes = axis if isinstance(axis, list) else [axis]
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"{kind} layer {name!r}: axis {a} is out of bounds for an input of shape {tuple(shape)}")
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise ValueError(f"{kind} layer {name!r}: axis {axis!r} names an axis twice")
    if 0 in out:
        raise ValueError(f"{kind} layer {name!r}: axis {axis!r} includes the batch axis 0; normalize over feature axes")
    for a in out:
        if shape[a] is None:
            raise ValueError(f"{kind} layer {name!r}: the normalized axis {a} of input shape {tuple(shape)} must be known")
    return tuple(sorted(out))
