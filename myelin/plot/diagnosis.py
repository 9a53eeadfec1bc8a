"""Training diagnostics over the epochs: ``myelin.plot.diagnostics(history)``.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> myelin.plot.diagnostics(model.fit(x, y, epochs=20, diagnostics=True), path="diagnostics.png")  # doctest: +SKIP
"""

from __future__ import annotations

from ._figure import new_figure, save

PANELS = (
    ("grad_norm", "gradient norm (mean over the epoch's batches)", "log"),
    ("weight_norm", "weight norm", "linear"),
    ("update_ratio", "update / weight per step", "log"),
    ("dead_fraction", "dead relu units (fraction)", "linear"),
    ("saturation", "saturated sigmoid/tanh units (fraction)", "linear"),
)


def diagnostics(history, path=None, dpi: int = 100):
    """One panel per quantity the ``Diagnostics`` callback records, one line per layer.

    ``history`` is what ``fit(..., diagnostics=True)`` returns (or its ``.diagnostics``
    dict). Panels: the gradient norm and the update-to-weight ratio on log scales (with the
    usual healthy ratio, 1e-3, marked), the weight norm, and, when the model has such
    layers, the fraction of dead relu units and of saturated sigmoid/tanh units. The
    warnings of the run, if any, are listed under the panels.

    Example:
        >>> fig = diagnostics(history)  # doctest: +SKIP
        >>> [ax.get_title() for ax in fig.axes][:2]  # doctest: +SKIP
        ['gradient norm (mean over the epoch\\'s batches)', 'weight norm']
    """
    records = getattr(history, "diagnostics", history)
    if not isinstance(records, dict) or "layers" not in records:
        raise ValueError(
            "plot.diagnostics: this History has no diagnostics; train with fit(..., diagnostics=True) "
            "or callbacks=[myelin.callbacks.Diagnostics()]"
        )
    epochs = [e + 1 for e in records["epoch"]]
    layers = records["layers"]
    panels = [p for p in PANELS if any(p[0] in entry for entry in layers.values())]
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    warnings = records.get("warnings", [])
    fig = new_figure((4.4 * cols, 3.3 * rows + 0.35 * min(len(warnings), 6)))
    for i, (key, title, scale) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        for name, entry in layers.items():
            if key in entry:
                values = entry[key]
                ax.plot(epochs[-len(values) :], values, marker="o" if len(values) < 15 else None, markersize=3, label=name)
        if scale == "log" and ax.has_data():
            ax.set_yscale("symlog" if key == "grad_norm" else "log", **({"linthresh": 1e-8} if key == "grad_norm" else {}))
        if key == "update_ratio":
            ax.axhline(1e-3, color="#777777", linestyle=":", linewidth=1, label="1e-3")
        if key in ("dead_fraction", "saturation"):
            ax.set_ylim(-0.05, 1.05)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(frameon=False, fontsize=7)
    if warnings:
        shown = [w if len(w) <= 150 else w[:147] + "..." for w in warnings[:6]]
        more = f"\n... and {len(warnings) - 6} more warnings" if len(warnings) > 6 else ""
        fig.text(0.01, 0.005, "\n".join(shown) + more, fontsize=7, color="#a33", va="bottom", ha="left")
    fig.tight_layout(rect=(0, 0.06 * min(len(warnings), 6) / max(rows, 1), 1, 1))
    save(fig, path, dpi)
    return fig


__all__ = ["diagnostics"]
