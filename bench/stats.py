"""Summary statistics of repeated measurements: median, quartiles, range, paired ratios."""

from __future__ import annotations

import math
import statistics


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation between order statistics.

    Example:
        >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5)
        2.5
        >>> quantile([5.0], 0.25)
        5.0
    """
    if not values:
        raise ValueError("quantile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q!r}")
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarize(values: list[float]) -> dict:
    """Median, quartiles, min, max and count of ``values``.

    Example:
        >>> summarize([3.0, 1.0, 2.0])
        {'n': 3, 'median': 2.0, 'q1': 1.5, 'q3': 2.5, 'min': 1.0, 'max': 3.0}
    """
    if not values:
        raise ValueError("summarize of no values")
    return {
        "n": len(values),
        "median": statistics.median(values),
        "q1": quantile(values, 0.25),
        "q3": quantile(values, 0.75),
        "min": min(values),
        "max": max(values),
    }


def paired_ratios(mine: list[float], theirs: list[float]) -> list[float]:
    """``theirs[i] / mine[i]`` for repetitions measured side by side (how many times faster ``mine`` is).

    Pairing the i-th repetitions cancels most of the drift a shared machine adds, since they ran
    next to each other.

    Example:
        >>> paired_ratios([1.0, 2.0], [2.0, 3.0])
        [2.0, 1.5]
    """
    n = min(len(mine), len(theirs))
    return [theirs[i] / mine[i] for i in range(n) if mine[i] > 0]


def rotate(items: list, k: int) -> list:
    """``items`` rotated left by ``k``: the order of the k-th round of a round-robin.

    Example:
        >>> rotate(["a", "b", "c"], 1)
        ['b', 'c', 'a']
    """
    if not items:
        return []
    k %= len(items)
    return items[k:] + items[:k]
