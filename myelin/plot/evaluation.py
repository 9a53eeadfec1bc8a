"""How a classifier errs: ``myelin.plot.confusion_matrix(y_true, y_pred, labels)``.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> myelin.plot.confusion_matrix(y_test, model.predict(x_test), labels=["Adelie", "Gentoo", "Chinstrap"])  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ._figure import new_figure, save


def _as_labels(y, name: str) -> np.ndarray:
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] > 1:
        return arr.argmax(axis=1)  # one-hot rows or probabilities
    if arr.ndim == 2 and arr.shape[1] == 1 and arr.dtype.kind == "f" and ((arr >= 0) & (arr <= 1)).all():
        return (arr[:, 0] >= 0.5).astype(np.int64)  # one sigmoid probability per sample
    if arr.ndim > 1:
        arr = arr.reshape(len(arr))
    if arr.ndim != 1:
        raise ValueError(f"confusion_matrix: {name} must hold one label per sample, got shape {arr.shape}")
    return arr


def confusion_matrix_counts(y_true, y_pred, labels=None) -> tuple[np.ndarray, list]:
    """(counts, class names): counts[i, j] is the number of samples of class i predicted as j.

    ``y_true`` and ``y_pred`` may be labels (numbers or strings), one-hot rows or
    probabilities (the most probable class is taken). ``labels`` names the classes: for
    integer labels 0..k-1 it gives their names in order; otherwise it gives the order.

    Example:
        >>> counts, names = confusion_matrix_counts([0, 1, 1, 2], [0, 1, 2, 2], labels=["a", "b", "c"])
        >>> counts.tolist(), names
        ([[1, 0, 0], [0, 1, 1], [0, 0, 1]], ['a', 'b', 'c'])
    """
    t, p = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"confusion_matrix: y_true has {len(t)} samples but y_pred has {len(p)}")
    integers = t.dtype.kind in "iu" and p.dtype.kind in "iu"
    if labels is not None:
        labels = list(labels)
        if integers and not (set(t.tolist()) | set(p.tolist())) <= set(labels):
            if min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= len(labels):
                top = max(t.max(), p.max())
                raise ValueError(f"confusion_matrix: labels names {len(labels)} classes but the data has class index {top}")
            classes = list(range(len(labels)))
        else:
            classes = labels
            unknown = (set(t.tolist()) | set(p.tolist())) - set(classes)
            if unknown:
                raise ValueError(f"confusion_matrix: labels {sorted(map(str, unknown))} are in the data but not in labels")
        names = [str(n) for n in labels]
    else:
        classes = sorted(set(t.tolist()) | set(p.tolist()), key=lambda v: (str(type(v)), v))
        names = [str(c) for c in classes]
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(counts, ([index[v] for v in t.tolist()], [index[v] for v in p.tolist()]), 1)
    return counts, names


def confusion_matrix(
    y_true,
    y_pred,
    labels=None,
    normalize: str | None = None,
    path=None,
    title: str | None = None,
    cmap: str = "Blues",
    dpi: int = 100,
):
    """Draw the confusion matrix: true classes down, predicted classes across, a count in each cell.

    ``normalize="true"`` shows each row as fractions of that class (recall on the
    diagonal), ``"pred"`` each column (precision on the diagonal), ``"all"`` the whole; the
    title reports the accuracy.

    Example:
        >>> fig = confusion_matrix([0, 1, 1], [0, 1, 0], labels=["no", "yes"])  # doctest: +SKIP
    """
    counts, names = confusion_matrix_counts(y_true, y_pred, labels)
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"confusion_matrix: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    values = counts.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            values = values / counts.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            values = values / counts.sum(axis=0, keepdims=True)
        elif normalize == "all":
            values = values / counts.sum()
    values = np.nan_to_num(values)
    k = len(names)
    size = max(3.8, 0.75 * k + 2.2)
    fig = new_figure((size + 0.8, size))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=values.max() if values.max() > 0 else 1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(
        range(k),
        names,
        rotation=45 if max(len(n) for n in names) > 4 else 0,
        ha="right" if max(len(n) for n in names) > 4 else "center",
    )
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = values.max() / 2
    if k <= 30:
        for i in range(k):
            for j in range(k):
                text = f"{values[i, j]:.2f}" if normalize else f"{counts[i, j]:d}"
                colour = "white" if values[i, j] > threshold else "#222222"
                ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=9 if k <= 12 else 7)
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title + ' · ' if title else ''}accuracy {accuracy:.1%} ({counts.sum()} samples)")
    fig.tight_layout()
    save(fig, path, dpi)
    return fig


__all__ = ["confusion_matrix", "confusion_matrix_counts"]
