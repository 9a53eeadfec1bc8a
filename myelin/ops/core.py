"""Keras 3's core ops (``keras.ops.cast``, ``convert_to_tensor``, ``slice_update``, ``cond``, ...).

Conversion follows Keras's rules: Python floats and float lists become ``floatx()``, Python
ints become int32, bools stay bool, arrays keep their dtype. Ops whose result is an integer
or boolean never require a gradient. Three primitives live here, because the vocabulary
cannot be written without them: ``Cast`` (a dtype change that passes the gradient back in
the input's dtype), ``SetItem`` (``slice_update``, ``scatter_update``) and ``ScatterAdd``
(``scatter``, ``segment_sum``).

Example:
    >>> from myelin import ops
    >>> ops.convert_to_tensor([1, 2]).dtype, ops.convert_to_tensor([1.0, 2.0]).dtype
    (dtype('int32'), dtype('float32'))
    >>> ops.slice_update(ops.zeros((2, 3)), (0, 1), ops.ones((1, 2))).data
    array([[0., 1., 1.],
           [0., 0., 0.]], dtype=float32)
"""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from .. import backend
from ..backend import array_module
from ..backend import is_float_dtype as _is_float
from ..tensor import Function, Tensor, no_grad

_INT32 = (-(2**31), 2**31 - 1)


def _standard_dtype(dtype) -> np.dtype:
    """A dtype given as a name, NumPy dtype or Python type (``float`` is floatx, ``int`` int32)."""
    if dtype is float:
        return np.dtype(backend.floatx())
    if dtype is int:
        return np.dtype("int32")
    if dtype is bool:
        return np.dtype("bool")
    if isinstance(dtype, str) and dtype == "string":
        raise ValueError("myelin.ops: string tensors are not supported (dtype='string')")
    if isinstance(dtype, str) and dtype == "bfloat16":
        from ..dtype_policies import bfloat16_dtype  # noqa: PLC0415  (ml_dtypes, only when asked for)

        return bfloat16_dtype()
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"myelin.ops: unknown dtype {dtype!r}") from None


def _from_python(x):
    """An array from Python numbers or (nested) lists, with Keras's default dtypes."""
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and arr.dtype != np.dtype(backend.floatx()):
        arr = arr.astype(backend.floatx())
    elif arr.dtype.kind in "iu":
        if arr.size == 0 or (_INT32[0] <= arr.min() and arr.max() <= _INT32[1]):
            arr = arr.astype("int32")
    elif arr.dtype.kind not in "bc":
        raise TypeError(f"myelin.ops: cannot convert {type(x).__name__} of dtype {arr.dtype} to a tensor")
    if arr.dtype.kind == "f" and arr.size == 0 and isinstance(x, (list, tuple)):
        arr = arr.astype(backend.floatx())
    return arr


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> Tensor:
    """``x`` (Tensor, NumPy array, Python number or list) as a Tensor, optionally cast to ``dtype``.

    Example:
        >>> convert_to_tensor(3).dtype, convert_to_tensor(3.0).dtype, convert_to_tensor(True).dtype
        (dtype('int32'), dtype('float32'), dtype('bool'))
    """
    if sparse:
        raise ValueError("convert_to_tensor: sparse=True is not supported (myelin has no sparse tensors)")
    if ragged:
        raise ValueError("convert_to_tensor: ragged=True is not supported (myelin has no ragged tensors)")
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, (np.ndarray, np.generic)) or (hasattr(x, "dtype") and hasattr(x, "shape")):
        t = Tensor._wrap(array_module(x).asarray(x), False)
    else:
        t = Tensor._wrap(_from_python(x), False)
    if dtype is not None and t.data.dtype != _standard_dtype(dtype):
        return cast(t, dtype)
    return t


def is_tensor(x) -> bool:
    """Whether ``x`` is a myelin Tensor.

    Example:
        >>> is_tensor(convert_to_tensor(1.0)), is_tensor(1.0)
        (True, False)
    """
    return isinstance(x, Tensor)


def convert_to_numpy(x) -> np.ndarray:
    """``x`` as a NumPy array (copied from the GPU when it lives there).

    Example:
        >>> convert_to_numpy(convert_to_tensor([1.0]))
        array([1.], dtype=float32)
    """
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(x)


class Cast(Function):
    """A change of floating dtype; the gradient goes back in the input's dtype."""

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return (g.astype(self.in_dtype),)


def _cast_keeping_logits(x: Tensor, dtype: np.dtype) -> Tensor:
    """``x`` cast (differentiably) to the floating ``dtype``, its mask and its logits record carried over.

    A softmax or sigmoid output remembers its logits so that the cross-entropy losses compute
    from them; a float16 output cast up to float32 for the loss keeps them, cast as well.
    """
    out = Cast.apply(x, dtype=dtype)
    out._keras_mask = x._keras_mask
    if x._logits is not None:
        kind, logits = x._logits
        out._logits = (kind, logits if logits.data.dtype == dtype else Cast.apply(logits, dtype=dtype))
    return out


def cast(x, dtype) -> Tensor:
    """``x`` in ``dtype``; differentiable between floating dtypes, constant into int or bool.

    Example:
        >>> cast([1.7, -1.7], "int32").data
        array([ 1, -1], dtype=int32)
    """
    x = convert_to_tensor(x)
    dtype = _standard_dtype(dtype)
    if x.data.dtype == dtype:
        return x
    if _is_float(dtype) and _is_float(x.data.dtype):
        return Cast.apply(x, dtype=dtype)
    return Tensor._wrap(x.data.astype(dtype), False)


def saturate_cast(x, dtype) -> Tensor:
    """``x`` clipped to the range of ``dtype`` before the cast, so that it never wraps around.

    Example:
        >>> saturate_cast([-5.0, 300.0], "uint8").data
        array([  0, 255], dtype=uint8)
    """
    x = convert_to_tensor(x)
    dtype = _standard_dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        data = x.data
        if _is_float(data.dtype):
            data = array_module(data).clip(data, info.min, info.max)
        elif data.dtype.kind in "iu":
            data = array_module(data).clip(data, builtins.max(info.min, np.iinfo(data.dtype).min), info.max)
        return Tensor._wrap(data.astype(dtype), False)
    if _is_float(dtype) and _is_float(x.data.dtype):
        info = np.finfo(dtype)
        from .primitives import clip  # noqa: PLC0415

        return cast(clip(x, float(info.min), float(info.max)), dtype)
    return cast(x, dtype)


def shape(x) -> tuple:
    """The shape of ``x`` as a tuple of ints.

    Example:
        >>> shape([[1, 2, 3]])
        (1, 3)
    """
    return tuple(convert_to_tensor(x).shape)


def dtype(x) -> str:
    """The name of ``x``'s dtype (Keras's standardised string).

    Example:
        >>> dtype([1.0])
        'float32'
    """
    return convert_to_tensor(x).data.dtype.name


def stop_gradient(variable) -> Tensor:
    """The same values, with no gradient flowing back through them.

    Example:
        >>> w = Tensor([1.0], requires_grad=True)
        >>> stop_gradient(w).requires_grad
        False
    """
    x = convert_to_tensor(variable)
    return Tensor._wrap(x.data, False)


def _index_of(start_indices, size) -> tuple:
    starts = [int(s) for s in np.asarray(convert_to_numpy(start_indices)).reshape(-1)]
    if len(starts) != len(size):
        raise ValueError(f"slice: start_indices has {len(starts)} entries for a tensor of rank {len(size)}")
    return tuple(builtins.slice(s, s + n) for s, n in zip(starts, size))


def slice(inputs, start_indices, shape) -> Tensor:  # noqa: A001  (Keras's name)
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``.

    Example:
        >>> slice([[1, 2, 3], [4, 5, 6]], (0, 1), (2, 2)).data
        array([[2, 3],
               [5, 6]], dtype=int32)
    """
    x = convert_to_tensor(inputs)
    size = [int(s) for s in shape]
    if len(size) != x.ndim:
        raise ValueError(f"slice: shape {tuple(shape)} has {len(size)} entries for a tensor of rank {x.ndim}")
    return _getitem(x, _index_of(start_indices, size))


def _getitem(x: Tensor, index) -> Tensor:
    from .primitives import GetItem  # noqa: PLC0415

    return GetItem.apply(x, index=index)


class SetItem(Function):
    """``x`` with ``x[index]`` replaced by ``updates``; the gradient splits between the two."""

    def forward(self, x, updates, index):
        self.index = index
        out = x.copy()
        out[index] = updates
        self.u_shape = updates.shape
        return out

    def backward(self, g):
        nx, nu = self.needs_input_grad
        gx = None
        if nx:
            gx = g.copy()
            gx[self.index] = 0
        gu = None
        if nu:
            gu = g[self.index]
            gu = array_module(g).broadcast_to(gu, gu.shape)
            from .primitives import unbroadcast  # noqa: PLC0415

            gu = unbroadcast(gu, self.u_shape)
        return gx, gu


def _common(x: Tensor, u) -> tuple[Tensor, Tensor]:
    u = convert_to_tensor(u)
    if u.data.dtype != x.data.dtype:
        u = cast(u, x.data.dtype)
    return x, u


def slice_update(inputs, start_indices, updates) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (differentiable in both).

    Example:
        >>> slice_update([1.0, 2.0, 3.0], (1,), [9.0]).data
        array([1., 9., 3.], dtype=float32)
    """
    x, u = _common(convert_to_tensor(inputs), updates)
    if u.ndim != x.ndim:
        raise ValueError(f"slice_update: updates has rank {u.ndim}, inputs has rank {x.ndim}")
    return SetItem.apply(x, u, index=_index_of(start_indices, u.shape))


def _scatter_index(indices, ndim: int | None = None) -> tuple:
    idx = np.asarray(convert_to_numpy(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"scatter: indices must be integers, got dtype {idx.dtype}")
    if idx.ndim == 0:
        raise ValueError("scatter: indices must have at least one axis, shape (..., index depth)")
    return tuple(idx[..., k] for k in range(idx.shape[-1]))


def scatter_update(inputs, indices, updates, reduction=None) -> Tensor:
    """``inputs`` with the entries (or slices) at ``indices`` (shape (n, depth)) set to ``updates``.

    ``reduction`` (Keras's): None replaces (the last write wins), "add" adds (differentiable),
    "max", "min" and "mul" combine with the existing values (no gradient: an input that
    requires one is refused).

    Example:
        >>> scatter_update([[0.0, 0.0], [0.0, 0.0]], [[0, 1], [1, 0]], [5.0, 6.0]).data
        array([[0., 5.],
               [6., 0.]], dtype=float32)
        >>> scatter_update([1.0, 1.0], [[0], [0]], [2.0, 3.0], reduction="add").data
        array([6., 1.], dtype=float32)
    """
    x, u = _common(convert_to_tensor(inputs), updates)
    index = _scatter_index(indices)
    if reduction is None:
        return SetItem.apply(x, u, index=index)
    if reduction == "add":
        from .primitives import add  # noqa: PLC0415

        if not _is_float(x.data.dtype):
            out = x.data.copy()
            array_module(out).add.at(out, index, u.data)
            return Tensor._wrap(out, False)
        return add(x, ScatterAdd.apply(u, index=index, shape=tuple(x.shape)))
    ufuncs = {"max": "maximum", "min": "minimum", "mul": "multiply"}
    if reduction not in ufuncs:
        raise ValueError(f"scatter_update: reduction must be None, 'add', 'max', 'min' or 'mul', got {reduction!r}")
    if x.requires_grad or u.requires_grad:
        raise ValueError(f"scatter_update: reduction={reduction!r} has no gradient in myelin; stop_gradient the inputs first")
    out = x.data.copy()
    getattr(array_module(out), ufuncs[reduction]).at(out, index, u.data)
    return Tensor._wrap(out, False)


class ScatterAdd(Function):
    """zeros(shape) with ``values`` added at ``index`` (repeated indices add up)."""

    def forward(self, values, index, shape):
        xp = array_module(values)
        self.index = index
        out = xp.zeros(shape, dtype=values.dtype)
        xp.add.at(out, index, values)
        return out

    def backward(self, g):
        return (g[self.index],)


def scatter(indices, values, shape) -> Tensor:
    """A tensor of ``shape`` holding ``values`` at ``indices`` (shape (n, depth)), zeros elsewhere; repeats add.

    Example:
        >>> scatter([[0], [2], [0]], [1.0, 2.0, 3.0], (3,)).data
        array([4., 0., 2.], dtype=float32)
    """
    v = convert_to_tensor(values)
    index = _scatter_index(indices)
    shape = tuple(int(s) for s in shape)
    if not _is_float(v.data.dtype):
        return Tensor._wrap(ScatterAdd().forward(v.data, index, shape), False)
    return ScatterAdd.apply(v, index=index, shape=shape)


def _check_sorted(ids, sorted_: bool, op: str) -> None:
    """Keras's ``sorted=True`` promises non-decreasing ids (a speed hint for XLA): hold the caller to it."""
    if sorted_ and ids.size > 1 and bool((ids[1:] < ids[:-1]).any()):
        raise ValueError(f"{op}: sorted=True, but segment_ids are not in non-decreasing order; pass sorted=False")


def segment_sum(data, segment_ids, num_segments=None, sorted=False) -> Tensor:  # noqa: A002
    """Sums of the rows of ``data`` that share a segment id (``num_segments`` rows; default max id + 1).

    ``sorted=True`` says the ids are non-decreasing (checked: an error if not); the result is the same.

    Example:
        >>> segment_sum([1.0, 2.0, 3.0], [0, 0, 1]).data
        array([3., 3.], dtype=float32)
    """
    x = convert_to_tensor(data)
    ids = np.asarray(convert_to_numpy(segment_ids)).astype("int64")
    if ids.shape != x.shape[: ids.ndim] or ids.ndim != 1:
        raise ValueError(f"segment_sum: segment_ids must be 1-D with length {x.shape[0]}, got shape {ids.shape}")
    _check_sorted(ids, sorted, "segment_sum")
    n = int(ids.max()) + 1 if num_segments is None and ids.size else int(num_segments or 0)
    keep = (ids >= 0) & (ids < n)
    idx = np.nonzero(keep)[0]
    from .primitives import getitem  # noqa: PLC0415

    rows = getitem(x, idx) if not keep.all() else x
    out_shape = (n,) + tuple(x.shape[1:])
    if not _is_float(x.data.dtype):
        return Tensor._wrap(ScatterAdd().forward(rows.data, (ids[keep],), out_shape), False)
    return ScatterAdd.apply(rows, index=(ids[keep],), shape=out_shape)


def segment_max(data, segment_ids, num_segments=None, sorted=False) -> Tensor:  # noqa: A002
    """Maxima of the rows of ``data`` that share a segment id (an empty segment gives the dtype's lowest value).

    ``sorted=True`` says the ids are non-decreasing (checked: an error if not); the result is the same.

    Example:
        >>> segment_max([1.0, 5.0, 3.0], [0, 0, 1]).data
        array([5., 3.], dtype=float32)
    """
    from . import numpy as knp  # noqa: PLC0415

    x = convert_to_tensor(data)
    ids = np.asarray(convert_to_numpy(segment_ids)).astype("int64")
    _check_sorted(ids, sorted, "segment_max")
    n = int(ids.max()) + 1 if num_segments is None and ids.size else int(num_segments or 0)
    low = np.finfo(x.dtype).min if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    rows = []
    for s in range(n):
        members = np.nonzero(ids == s)[0]
        if members.size:
            rows.append(knp.max(knp.take(x, members, axis=0), axis=0))
        else:
            rows.append(knp.full(x.shape[1:], low, dtype=x.dtype))
    return knp.stack(rows) if rows else knp.zeros((0,) + tuple(x.shape[1:]), dtype=x.dtype)


# ---------------------------------------------------------------------------- control flow
def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (eager: only the branch taken runs).

    Example:
        >>> cond(convert_to_tensor(True), lambda: 1, lambda: 2)
        1
    """
    return true_fn() if bool(convert_to_numpy(pred)) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clamped to the valid range as Keras does.

    Example:
        >>> switch(5, [lambda x: x + 1, lambda x: x * 10], 2)
        20
    """
    i = int(convert_to_numpy(index))
    i = builtins.min(builtins.max(i, 0), len(branches) - 1)
    return branches[i](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for i in range(lower, upper); returns the last ``val``.

    Example:
        >>> fori_loop(0, 4, lambda i, v: v + i, 0)
        6
    """
    val = init_val
    for i in range(int(convert_to_numpy(lower)), int(convert_to_numpy(upper))):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most ``maximum_iterations``).

    A tuple or list of loop variables is unpacked into ``cond`` and ``body``; a single one is
    passed as it is, and the result has the same form.

    Example:
        >>> while_loop(lambda x: x < 10, lambda x: x * 2, 1)
        16
        >>> while_loop(lambda a, b: a < 3, lambda a, b: (a + 1, b * 2), (0, 1))
        (3, 8)
    """
    packed = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if packed else (loop_vars,)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(convert_to_numpy(cond(*state))):
        out = body(*state)
        if packed:
            if not isinstance(out, (tuple, list)) or len(out) != len(state):
                raise ValueError(f"while_loop: body must return {len(state)} loop variables, got {out!r}")
            state = tuple(out)
        else:
            state = (out,)
        count += 1
    if packed:
        return type(loop_vars)(state) if isinstance(loop_vars, list) else state
    return state[0]


def _leaves(elements):
    if isinstance(elements, dict):
        return {k: convert_to_tensor(v) for k, v in elements.items()}
    if isinstance(elements, (tuple, list)):
        return type(elements)(convert_to_tensor(v) for v in elements)
    return convert_to_tensor(elements)


def _length(elements) -> int:
    if isinstance(elements, dict):
        return _length(next(iter(elements.values())))
    if isinstance(elements, (tuple, list)):
        return _length(elements[0])
    return elements.shape[0]


def _item(elements, i: int):
    if isinstance(elements, dict):
        return {k: _item(v, i) for k, v in elements.items()}
    if isinstance(elements, (tuple, list)):
        return type(elements)(_item(v, i) for v in elements)
    return _getitem(elements, i)


def _stack_results(results):
    from . import numpy as knp  # noqa: PLC0415

    first = results[0]
    if isinstance(first, dict):
        return {k: _stack_results([r[k] for r in results]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_stack_results([r[j] for r in results]) for j in range(len(first)))
    return knp.stack(results)


def map(f, xs):  # noqa: A001  (Keras's name)
    """``f`` applied to each slice of ``xs`` along its first axis, the results stacked.

    Example:
        >>> map(lambda x: x * 2, convert_to_tensor([1.0, 2.0])).data
        array([2., 4.], dtype=float32)
    """
    xs = _leaves(xs)
    n = _length(xs)
    if n == 0:
        raise ValueError("map: xs has no elements along its first axis")
    return _stack_results([f(_item(xs, i)) for i in range(n)])


def vectorized_map(function, elements):
    """``function`` applied to each slice of ``elements`` along the first axis, the results stacked.

    Example:
        >>> vectorized_map(lambda x: x.sum(), convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])).data
        array([3., 7.], dtype=float32)
    """
    return map(function, elements)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Keras's (and JAX's) scan: ``carry, y = f(carry, x)`` over the first axis of ``xs``; returns (carry, stacked ys).

    Example:
        >>> carry, ys = scan(lambda c, x: (c + x, c * x), 0.0, convert_to_tensor([1.0, 2.0, 3.0]))
        >>> float(carry.data), ys.data.tolist()
        (6.0, [0.0, 2.0, 9.0])
    """
    if not isinstance(unroll, (int, bool)) or (isinstance(unroll, bool) and not unroll):
        raise ValueError(f"scan: unroll must be a positive integer or True, got {unroll!r}")
    if xs is None:
        if length is None:
            raise ValueError("scan: give xs or length")
        n, items = int(length), None
    else:
        items = _leaves(xs)
        n = _length(items)
        if length is not None and int(length) != n:
            raise ValueError(f"scan: length={length} but xs has {n} elements")
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in order:
        carry, y = f(carry, None if items is None else _item(items, i))
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, _stack_results([convert_to_tensor(y) if not isinstance(y, (dict, tuple, list)) else y for y in ys])


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of ``elems`` along ``axis`` with an associative ``f`` (e.g. a running sum).

    Computed sequentially (the same result as Keras's parallel form for an associative ``f``).

    Example:
        >>> from myelin import ops
        >>> associative_scan(ops.add, convert_to_tensor([1.0, 2.0, 3.0])).data
        array([1., 3., 6.], dtype=float32)
    """
    from . import numpy as knp  # noqa: PLC0415

    if isinstance(elems, (tuple, list, dict)):
        raise ValueError("associative_scan: myelin takes a single tensor for elems")
    x = knp.moveaxis(convert_to_tensor(elems), axis, 0)
    n = x.shape[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    out, acc = [], None
    for i in order:
        xi = _item(x, i)
        acc = xi if acc is None else (f(xi, acc) if reverse else f(acc, xi))
        out.append(acc)
    if reverse:
        out.reverse()
    return knp.moveaxis(knp.stack(out), 0, axis)


def unstack(x, num=None, axis=0) -> list:
    """The slices of ``x`` along ``axis``, as a list.

    Example:
        >>> [t.data.tolist() for t in unstack([[1, 2], [3, 4]])]
        [[1, 2], [3, 4]]
    """
    from . import numpy as knp  # noqa: PLC0415

    x = convert_to_tensor(x)
    axis = axis % x.ndim
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but axis {axis} has size {x.shape[axis]}")
    return [knp.take(x, i, axis=axis) for i in range(x.shape[axis])]


def custom_gradient(f):
    """Decorate ``f(*args)`` returning ``(output, grad_fn)``: ``grad_fn(upstream)`` gives the inputs' gradients.

    As Keras's (the JAX/TensorFlow form): ``grad_fn`` takes the upstream gradient and returns
    one gradient per positional tensor argument (or one tensor for a single argument).

    Example:
        >>> from myelin import ops
        >>> @custom_gradient
        ... def clipped_identity(x):
        ...     def grad(upstream):
        ...         return ops.clip(upstream, -0.5, 0.5)
        ...     return x, grad
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> ops.sum(clipped_identity(w) * 3.0).backward(); w.grad
        array([0.5, 0.5], dtype=float32)
    """

    def wrapper(*args):
        tensors = [convert_to_tensor(a) if isinstance(a, (Tensor, np.ndarray, numbers.Number, list)) else a for a in args]
        with no_grad():
            output, grad_fn = f(*[Tensor._wrap(t.data, False) if isinstance(t, Tensor) else t for t in tensors])
        inputs = [t for t in tensors if isinstance(t, Tensor)]
        return _CustomGradient.apply(*inputs, output=convert_to_tensor(output).data, grad_fn=grad_fn)

    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper


class _CustomGradient(Function):
    def forward(self, *arrays, output, grad_fn):
        self.grad_fn, self.shapes = grad_fn, [a.shape for a in arrays]
        return output

    def backward(self, g):
        with no_grad():
            grads = self.grad_fn(Tensor._wrap(g, False))
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(self.shapes):
            raise ValueError(f"custom_gradient: grad_fn returned {len(grads)} gradients for {len(self.shapes)} inputs")
        out = []
        for gr, s in zip(grads, self.shapes):
            if gr is None:
                out.append(None)
                continue
            arr = convert_to_tensor(gr).data
            out.append(array_module(arr).broadcast_to(arr, s).astype(g.dtype, copy=False))
        return tuple(out)


__all__ = [
    "associative_scan",
    "cast",
    "cond",
    "convert_to_numpy",
    "convert_to_tensor",
    "custom_gradient",
    "dtype",
    "fori_loop",
    "is_tensor",
    "map",
    "saturate_cast",
    "scan",
    "scatter",
    "scatter_update",
    "segment_max",
    "segment_sum",
    "shape",
    "slice",
    "slice_update",
    "stop_gradient",
    "switch",
    "unstack",
    "vectorized_map",
    "while_loop",
]
