"""Arrays in memory (NumPy, lists, pandas, dicts of named inputs) as a model's ``x``, ``y`` and weights.

``prepare_x`` and ``prepare_xy`` check and cast what ``fit``, ``evaluate`` and ``predict``
were given, once, before any batch: lengths, widths, dtypes and NaN or infinite values.

A NumPy memory-mapped input (``np.memmap``, ``np.load(..., mmap_mode="r")``) is never
copied whole: it is checked in chunks, and each batch is read (and cast) on its own;
the pages read are handed back to the operating system as training goes
(:class:`MappedRows`), so a file larger than memory trains in little memory.

Example:
    >>> import numpy as np, myelin
    >>> from myelin import layers
    >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    >>> [a.dtype for a in prepare_x(m, np.zeros((3, 2), dtype="int64"))]
    [dtype('float32')]
"""

from __future__ import annotations

import mmap

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
    dtype = model.variable_dtype  # the data stays in the variables' float type: mixed-policy layers cast it
    mapped = {i: a for i, a in enumerate(xs) if isinstance(a, np.memmap) and a.dtype.kind in "biuf"}
    if mapped:  # read batch by batch, never whole: each batch cast on its own, the file checked in chunks
        kinds = declared if declared is not None and len(declared) == len(xs) else [None] * len(xs)
        for i, a in enumerate(xs):
            if i not in mapped:
                xs[i] = data.cast_features(data.to_array(a, name), dtype)
                continue
            integer = kinds[i] is not None and np.dtype(kinds[i]).kind in "iu"
            if integer and a.dtype.kind not in "iu":
                raise TypeError(f"{name}: this model input is declared as {kinds[i]}, got a memory map of {a.dtype}")
            xs[i] = MappedRows(
                a, kinds[i] if integer else dtype, name if len(xs) == 1 else f"{name}[{i}]", check_finite, method
            )
    elif declared is None or len(declared) != len(xs):
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
            if not isinstance(a, MappedRows):
                data.check_finite(a, name if len(xs) == 1 else f"{name}[{i}]", columns, method)
    return xs


def prepare_xy(
    model, x, y, sample_weight=None, class_weight=None, what: str = "", check_finite: bool = True, method: str = "fit"
) -> tuple:
    """``(xs, ys, sample_weight)``: ``x`` as by ``prepare_x``, the targets cast, class weights folded in."""
    xs = prepare_x(model, x, f"x{what}", check_finite, method)
    if y is None:
        raise ValueError(f"Model {model.name!r}: y{what} is required (the targets to learn)")
    ys = [data.cast_targets(a, model.variable_dtype) for a in data.to_arrays(y, f"y{what}")]
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
        sw = sw.astype(model.variable_dtype)
    return xs, ys, sw


# Bytes of a memory map read between two hand-backs of its pages (keeps the resident set small).
MAPPED_BUDGET = 32 << 20


class MappedRows:
    """Rows of a NumPy memory map, read (and cast to ``dtype``) one batch at a time; never copied whole.

    Indexing with a slice or an index array returns a new in-memory array of those rows.
    Every ``MAPPED_BUDGET`` bytes read, the map's pages are handed back to the operating
    system (``madvise(MADV_DONTNEED)``: the file's data stays in the page cache, not in this
    process), so the resident memory of a pass over a file of any size stays small. Maps
    opened copy-on-write (``mode="c"``) keep their pages (handing them back would drop
    changes made in memory).

    Example:
        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "x.dat")
        >>> mm = np.memmap(path, dtype="float64", mode="w+", shape=(6, 2)); mm[:] = 1.0; mm.flush()
        >>> rows = MappedRows(np.memmap(path, dtype="float64", mode="r", shape=(6, 2)), "float32")
        >>> rows[1:3].dtype, rows[np.array([5, 0])].shape, len(rows), rows.shape
        (dtype('float32'), (2, 2), 6, (6, 2))
    """

    def __init__(self, array: np.memmap, dtype, name: str = "x", check_finite: bool = True, method: str = "fit"):
        self._array = array
        self.dtype = np.dtype(dtype)
        self.shape = array.shape
        self.ndim = array.ndim
        self._read = 0
        mapping = getattr(array, "_mmap", None)
        can_release = getattr(array, "mode", "r") != "c" and hasattr(mmap, "MADV_DONTNEED")
        self._mmap = mapping if isinstance(mapping, mmap.mmap) and can_release else None
        if check_finite and self.dtype.kind == "f":
            self._check_finite(name, method)

    def _check_finite(self, name: str, method: str) -> None:
        row = max(1, int(np.prod(self.shape[1:], dtype=np.int64)) * self._array.itemsize)
        chunk = max(1, MAPPED_BUDGET // row)
        for start in range(0, len(self), chunk):
            part = self[start : start + chunk]
            data.check_finite(part, f"{name} (rows {start} to {start + len(part) - 1} of the memory map)", None, method)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index):
        out = np.array(self._array[index], dtype=self.dtype)  # a batch: its rows only, in memory
        self._read += max(out.nbytes, len(out) * 4096)
        if self._read >= MAPPED_BUDGET:
            self.release()
        return out

    def split_at(self, cut: int) -> tuple[MappedRows, MappedRows]:
        """The rows before ``cut`` and from ``cut`` on, both still mapped (``validation_split``)."""
        return self._view(self._array[:cut]), self._view(self._array[cut:])

    def _view(self, array) -> MappedRows:
        view = MappedRows.__new__(MappedRows)
        view._array, view.dtype, view.shape, view.ndim = array, self.dtype, array.shape, array.ndim
        view._read, view._mmap = 0, self._mmap
        return view

    def release(self) -> None:
        """Hand the map's resident pages back to the operating system (their data stays in the file)."""
        self._read = 0
        if self._mmap is not None:
            self._mmap.madvise(mmap.MADV_DONTNEED)
