"""``Model.summary()``'s table and its totals (Keras's ``keras.src.utils.summary_utils``).

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> m = myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(2, name="dense")])
    >>> _summary_rows(m, False, "")
    [('dense (Dense)', '(None, 2)', '10', 'Y')]
"""

from __future__ import annotations

from ..layers.base import InputLayer, _shape_str
from ..trainers.trainer import Trainer


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.2f} B"


def _summary_rows(model: Trainer, expand_nested: bool, indent: str) -> list[tuple]:
    rows = []
    for layer in model.layers:
        if isinstance(layer, InputLayer) and not model._functional:
            continue
        shape = layer.output_shape
        shape_text = (
            "?"
            if shape is None
            else (", ".join(_shape_str(s) for s in shape) if isinstance(shape, list) else _shape_str(shape))
        )
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        trainable = "Y" if layer.trainable else "N"
        rows.append((f"{indent}{layer.name} ({type(layer).__name__})", shape_text, params, trainable))
        if expand_nested and isinstance(layer, Trainer):  # a nested model
            rows.extend(_summary_rows(layer, True, indent + "  "))
    return rows
