"""Training curves: ``myelin.plot.history(history)``.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> myelin.plot.history(model.fit(x, y, validation_split=0.2, epochs=30), path="curves.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math

from ..callbacks import _best_epoch
from ._figure import new_figure, save

TRAIN, VALIDATION = "#1f5fbf", "#e07b00"


def _series(history) -> dict:
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("history: expected the History that fit() returns (or its .history dict), with at least one metric")
    return logs


def history(history, path=None, metrics=None, title: str | None = None, dpi: int = 100):
    """Loss and each metric against epochs, training and validation on the same axes.

    One panel per quantity (``loss`` first, then the metrics in the order fit logged them,
    or those named in ``metrics``); the validation curve (``val_<name>``) shares the panel,
    dashed, and its best epoch is marked (lowest for losses and errors, highest otherwise).
    ``learning_rate``, when logged, gets a panel of its own on a log scale.

    Example:
        >>> fig = history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})  # doctest: +SKIP
        >>> [ax.get_title() for ax in fig.axes]  # doctest: +SKIP
        ['loss']
    """
    logs = _series(history)
    epochs_done = max(len(v) for v in logs.values())
    epoch_numbers = getattr(history, "epoch", None) or list(range(epochs_done))
    names = [k for k in logs if not k.startswith("val_")]
    names = sorted(names, key=lambda k: (k != "loss", k == "learning_rate"))
    if metrics is not None:
        missing = [m for m in metrics if m not in logs]
        if missing:
            raise ValueError(f"history: no metric named {missing}; logged: {sorted(logs)}")
        names = list(metrics)
    cols = min(len(names), 3)
    rows = math.ceil(len(names) / cols)
    fig = new_figure((4.2 * cols, 3.2 * rows))
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        train = logs[name]
        xs = [e + 1 for e in epoch_numbers[-len(train) :]]
        ax.plot(xs, train, color=TRAIN, linewidth=2, label="training", marker="o" if len(xs) < 15 else None, markersize=3)
        val = logs.get(f"val_{name}")
        if val:
            vx = [e + 1 for e in epoch_numbers[-len(val) :]] if len(val) == len(train) else list(range(1, len(val) + 1))
            ax.plot(vx, val, color=VALIDATION, linewidth=2, linestyle="--", label="validation")
            best = _best_epoch(name, val)
            ax.plot([vx[best]], [val[best]], marker="*", markersize=11, color=VALIDATION, linestyle="none", label="best")
        if name == "learning_rate":
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if len(xs) <= 10:
            ax.set_xticks(xs)
        ax.legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save(fig, path, dpi)
    return fig


__all__ = ["history"]
