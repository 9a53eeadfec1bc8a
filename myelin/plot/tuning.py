"""The learning-rate range test's curve: ``myelin.plot.lr_finder(result)``.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> myelin.plot.lr_finder(myelin.tune.find_learning_rate(model, x, y), path="lr.png")  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ._figure import new_figure, save

RAW, SMOOTH, MARK = "#9aa5b1", "#1f5fbf", "#e07b00"


def lr_finder(result, ax=None, path=None, dpi: int = 100):
    """The loss against the learning rate (log scale): each batch's, faint, and the smoothed curve.

    The suggested rate is marked with a vertical line (and named with its rule in the
    legend), the other rule's rate with a dot on the curve. The y axis stops a little above
    the starting loss, so that the divergence at the end does not flatten the rest. Draws on
    ``ax`` when given; returns the Figure.

    Example:
        >>> fig = lr_finder(myelin.tune.find_learning_rate(model, x, y))  # doctest: +SKIP
    """
    lrs = np.asarray(result.learning_rates, dtype=float)
    if lrs.size == 0:
        raise ValueError("plot.lr_finder: the result has no points")
    if ax is None:
        fig = new_figure((6.4, 4.2))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    losses = np.asarray(result.losses, dtype=float)
    smoothed = np.asarray(result.smoothed, dtype=float)
    ax.plot(lrs, losses, color=RAW, linewidth=0.8, label="loss of each batch")
    ax.plot(lrs, smoothed, color=SMOOTH, linewidth=2, label="smoothed loss")
    ax.set_xscale("log")
    finite = smoothed[np.isfinite(smoothed)]
    if finite.size:
        low, start = float(finite.min()), float(finite[: max(1, min(10, finite.size))].max())
        ax.set_ylim(low - 0.05 * (start - low + 1e-12), start + 0.25 * (start - low + 1e-12))
    for rule, lr in result.suggestions.items():
        y = float(np.interp(np.log(lr), np.log(lrs), smoothed))
        if lr == result.suggestion and rule == result.rule:
            ax.axvline(lr, color=MARK, linestyle="--", linewidth=1.5, label=f"suggestion ({rule}): {lr:.2g}")
            ax.plot([lr], [y], marker="o", color=MARK)
        else:
            ax.plot([lr], [y], marker="s", color="#555555", linestyle="none", label=f"{rule}: {lr:.2g}")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title(f"learning-rate range test: {result.num_steps} batches{', diverged' if result.diverged else ''}", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(frameon=False, fontsize=8)
    if path is not None:
        fig.tight_layout()
        save(fig, path, dpi)
    return fig


__all__ = ["lr_finder"]
