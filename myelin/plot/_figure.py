"""Figures without surprises: matplotlib imported on first use, saved by ``path`` suffix.

A figure is made with ``matplotlib.pyplot`` when the program has already imported it (so
``plt.show()`` and notebooks display it) and as a bare ``Figure`` otherwise (no window, no
GUI backend: scripts and servers just save it).

Example:
    >>> fig = new_figure((4, 3))  # doctest: +SKIP
    >>> save(fig, "out.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

FORMATS = ("png", "svg", "pdf")


def matplotlib():
    """The matplotlib package, or an error that says how to install it.

    Example:
        >>> matplotlib().__name__  # doctest: +SKIP
        'matplotlib'
    """
    try:
        import matplotlib as mpl  # noqa: PLC0415  (optional extra, imported when a plot is drawn)
    except ModuleNotFoundError:
        raise ModuleNotFoundError("myelin.plot needs matplotlib: pip install 'myelin[plot]'") from None
    return mpl


def new_figure(figsize: tuple[float, float], **kwargs):
    """A new Figure: through pyplot when the program uses pyplot, bare otherwise.

    Example:
        >>> new_figure((3, 2)).get_size_inches().tolist()  # doctest: +SKIP
        [3.0, 2.0]
    """
    matplotlib()
    if "matplotlib.pyplot" in sys.modules:
        return sys.modules["matplotlib.pyplot"].figure(figsize=figsize, **kwargs)
    from matplotlib.figure import Figure  # noqa: PLC0415

    return Figure(figsize=figsize, **kwargs)


def save(fig, path, dpi: int = 100) -> None:
    """Write ``fig`` to ``path``; the format is the suffix: .png, .svg or .pdf.

    Example:
        >>> save(new_figure((2, 2)), "figure.svg")  # doctest: +SKIP
    """
    if path is None:
        return
    suffix = Path(os.fspath(path)).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"path must end in .png, .svg or .pdf (the format is taken from it), got {os.fspath(path)!r}")
    fig.savefig(path, format=suffix, dpi=dpi)
