"""Arrays in memory (NumPy, lists, pandas, dicts of named inputs) as a model's ``x``, ``y`` and weights.

``prepare_x`` and ``prepare_xy`` check and cast what ``fit``, ``evaluate`` and ``predict``
were given, once, before any batch: lengths, widths, dtypes and NaN or infinite values.

Example:
    >>> import numpy as np, myelin
    >>> from myelin import layers
    >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    >>> [a.dtype for a in prepare_x(m, np.zeros((3, 2), dtype="int64"))]
    [dtype('float32')]
"""

from __future__ import annotations

import numpy as np

from ... import data


def prepare_x(model, x, name: str = "x", check_finite: bool = True, method: str = "fit") -> list:
    """``x`` as a list of arrays, one per model input, cast and checked (see the module's docstring)."""
    specs = model._input_specs()
    declared = None if specs is None else [d for d, _, _ in specs]
    if model._functional:
        x = model._inputs_by_name(x, name)
    xs = data.to_arrays(x, name, allow_strings=declared is not None and "string" in declared)
    if not xs:
        raise ValueError(f"Model {model.name!r}: {name} is required")
    dtype = model.compute_dtype
    if declared is None or len(declared) != len(xs):
        xs = [data.cast_features(data.to_array(a, name), dtype) for a in xs]
    else:
        labels = [name] if len(xs) == 1 else [f"{name}[{n!r}]" for _, _, n in specs]
        xs = [data.cast_input(a, d, dtype, lab) for a, d, lab in zip(xs, declared, labels)]
        # A column (n,) for an input of shape (None, 1), as Keras accepts it.
        xs = [a.reshape(-1, 1) if a.ndim == 1 and tuple(shape[1:]) == (1,) else a for a, (_, shape, _) in zip(xs, specs)]
    n = data.num_samples(xs, name)
    if n == 0:
        raise ValueError(f"Model {model.name!r}: {name} is empty (0 samples)")
    if check_finite:
        columns = list(x.columns) if len(xs) == 1 and hasattr(x, "columns") else None
        for i, a in enumerate(xs):
            data.check_finite(a, name if len(xs) == 1 else f"{name}[{i}]", columns, method)
    return xs


def prepare_xy(
    model, x, y, sample_weight=None, class_weight=None, what: str = "", check_finite: bool = True, method: str = "fit"
) -> tuple:
    """``(xs, ys, sample_weight)``: ``x`` as by ``prepare_x``, the targets cast, class weights folded in."""
    xs = prepare_x(model, x, f"x{what}", check_finite, method)
    if y is None:
        raise ValueError(f"Model {model.name!r}: y{what} is required (the targets to learn)")
    ys = [data.cast_targets(a, model.compute_dtype) for a in data.to_arrays(y, f"y{what}")]
    nx, ny = data.num_samples(xs, f"x{what}"), data.num_samples(ys, f"y{what}")
    if nx != ny:
        raise ValueError(f"Model {model.name!r}: x{what} has {nx} samples but y{what} has {ny}; they must match")
    if check_finite:
        for i, a in enumerate(ys):
            data.check_finite(a, f"y{what}" if len(ys) == 1 else f"y{what}[{i}]", None, method)
    sw = None
    if sample_weight is not None:
        sw = np.asarray(data.to_array(sample_weight, "sample_weight"), dtype=np.float64)
        if len(sw) != nx:
            raise ValueError(f"sample_weight{what} has {len(sw)} values for {nx} samples; give one per sample")
        sw = sw.reshape(nx, -1)[:, 0]
        data.check_finite(sw, f"sample_weight{what}", None, method)
    if class_weight is not None:
        cw = data.class_weights_to_sample_weights(ys[0], class_weight)
        sw = cw if sw is None else sw * cw
    if sw is not None:
        sw = sw.astype(model.compute_dtype)
    return xs, ys, sw
