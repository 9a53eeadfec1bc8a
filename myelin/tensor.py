"""Level 1: ``Tensor``, ``Function`` and the backward pass.

A ``Tensor`` wraps an array (``data``) and, when it needs a gradient, remembers the
``Function`` that made it. ``backward()`` visits the graph in reverse topological order,
without recursion, and accumulates each leaf's gradient in ``.grad``.

Example:
    >>> from myelin import Tensor
    >>> w = Tensor([2.0, -1.0], requires_grad=True)
    >>> loss = (w * w).sum()
    >>> loss.backward()
    >>> w.grad
    array([ 4., -2.], dtype=float32)
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import backend

# Tensor's methods (+, @, .sum(), ...) are thin calls into myelin.ops, and ops builds on Function
# and Tensor. So that the dependency runs one way (ops -> tensor), this module never imports ops:
# myelin/ops/__init__.py hands itself over here as it loads (``_bind_ops``).
ops = None


def _bind_ops(module) -> None:
    """Called once by ``myelin.ops`` when it loads: the module Tensor's operator methods call."""
    global ops
    ops = module


_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for ``backward()``.

    Example:
        >>> with no_grad():
        ...     is_grad_enabled()
        False
    """
    return _grad_enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) that records no graph inside it.

    Example:
        >>> w = Tensor([1.0], requires_grad=True)
        >>> with no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False


class enable_grad(contextlib.ContextDecorator):
    """Context manager that turns recording back on inside a ``no_grad`` block.

    Example:
        >>> with no_grad():
        ...     with enable_grad():
        ...         is_grad_enabled()
        True
    """

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = True

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False


class Function:
    """One differentiable primitive: ``forward`` on arrays, ``backward`` on the output's gradient.

    Subclasses implement ``forward(*arrays, **options) -> array`` and
    ``backward(grad) -> tuple`` with one gradient (or ``None``) per input, and may store on
    ``self`` only what ``backward`` needs. ``self.needs_input_grad`` (a tuple of bools, or
    ``None`` when nothing is recorded) lets a forward skip saving state that no backward
    will read. ``apply`` runs the forward and links the result into the graph when, and
    only when, an input requires a gradient and recording is enabled.

    Example:
        >>> import numpy as np
        >>> class Square(Function):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x * x
        ...     def backward(self, grad):
        ...         return (2 * self.x * grad,)
        >>> t = Tensor([3.0], requires_grad=True)
        >>> Square.apply(t).backward(np.ones(1, dtype=np.float32)); t.grad
        array([6.], dtype=float32)
    """

    needs_input_grad: tuple | None = None
    parents: tuple = ()

    def forward(self, *arrays, **options):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    @classmethod
    def apply(cls, *inputs: Tensor, **options) -> Tensor:
        fn = cls()
        track = False
        if _grad_enabled:
            needs = tuple([t.requires_grad for t in inputs])
            track = True in needs
            if track:
                fn.needs_input_grad = needs
                fn.parents = inputs
        data = fn.forward(*[t.data for t in inputs], **options)
        out = Tensor._wrap(data, track)
        if track:
            out._ctx = fn
        if _anomaly_hook is not None:
            _anomaly_hook("forward", fn, data, inputs)
        if _tape is not None:
            _tape.record(fn, inputs, options, out)
        return out


# Set by ``myelin.detect_anomaly`` while it is active: called as (phase, fn, array, inputs)
# with every forward output (and the op's input tensors) and every backward gradient.
# ``None`` keeps the hot path to one comparison.
_anomaly_hook = None
# Set by ``myelin.tape.Tape`` while it records a step to replay.
_tape = None


class Tensor:
    """An array with an optional gradient and the record of how it was made.

    ``data`` is a NumPy (or CuPy) array. Python numbers and lists become ``floatx()``
    (float32 unless changed); arrays keep their dtype. Arithmetic operators, ``@``, indexing
    and the methods below build the graph that ``backward()`` walks.

    Example:
        >>> x = Tensor([[1.0, 2.0]])
        >>> w = Tensor([[0.5], [0.25]], requires_grad=True)
        >>> y = (x @ w).sum()
        >>> y.backward(); w.grad.ravel()
        array([1., 2.], dtype=float32)
    """

    # _keras_mask: the mask a masking layer attached to its output (Keras's name), None otherwise.
    __slots__ = ("__weakref__", "_ctx", "_keras_mask", "_logits", "data", "grad", "name", "requires_grad")
    __array_priority__ = 1000  # numpy defers ``array * tensor`` to Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None or requires_grad or not hasattr(data, "dtype"):
            data = backend.as_float_array(data, dtype)  # lists, numbers, ints that need a gradient
        if backend._placement is not None:  # inside myelin.device("gpu"): the data moves to that GPU
            data = backend.placed(data)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self.name = name
        self._logits = None
        self._keras_mask = None

    @classmethod
    def _wrap(cls, data, requires_grad: bool) -> Tensor:
        """Make a tensor around an array that is already the right dtype (no checks: hot path)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t.name = None
        t._logits = None
        t._keras_mask = None
        return t

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def T(self) -> Tensor:
        return ops.transpose(self)

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data!r}{grad})"

    def numpy(self):
        """The data as a NumPy array (copied from the GPU when it lives there)."""
        data = self.data
        return data if backend.array_module(data).__name__ == "numpy" else data.get()

    def item(self) -> float:
        """The single value of a one-element tensor as a Python number."""
        return self.data.item()

    def detach(self) -> Tensor:
        """A tensor sharing ``data`` with no graph and no gradient."""
        return Tensor._wrap(self.data, False)

    def __array__(self, dtype=None, copy=None):
        """NumPy's view of the tensor, with NumPy 2's ``copy`` semantics.

        ``copy=True`` always returns a new array; ``copy=None`` (the default) shares the
        tensor's memory where it can (same dtype, on the CPU) and copies only where it must;
        ``copy=False`` refuses with ``ValueError`` where a copy cannot be avoided.

        Example:
            >>> import numpy as np
            >>> t = Tensor([1.0, 2.0])
            >>> a = np.array(t, copy=True)
            >>> a[0] = 5.0
            >>> float(t.data[0])
            1.0
        """
        data = self.data
        on_host = backend.array_module(data).__name__ == "numpy"
        needs_copy = not on_host or (dtype is not None and np.dtype(dtype) != data.dtype)
        if copy is False and needs_copy:
            where = "from the GPU" if not on_host else f"from {data.dtype} to {np.dtype(dtype)}"
            raise ValueError(f"np.array(tensor, copy=False): the tensor cannot be seen without a copy ({where})")
        data = self.numpy()
        if dtype is not None and np.dtype(dtype) != data.dtype:
            return data.astype(dtype)  # astype makes a new array
        return data.copy() if copy and on_host else data

    # ------------------------------------------------------------------ backward
    def backward(self, grad=None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires it.

        ``grad`` is the gradient flowing in from above; it defaults to 1 for a one-element
        tensor. The graph is walked iteratively, so depth is limited by memory, not by
        Python's recursion limit. Gradients add up across uses and across calls: clear
        ``.grad`` (or let the optimizer do it) between steps.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require a gradient: no input of the "
                "computation had requires_grad=True, or it ran inside no_grad()"
            )
        xp = backend.array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): grad must be given for a tensor of shape {self.data.shape}; "
                    "it is implicit only for a tensor with one element"
                )
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"backward(): grad has shape {grad.shape}, expected {self.data.shape}")

        grads = {id(self): grad}
        hook = _anomaly_hook
        for node in _reverse_topological_order(self):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            fn = node._ctx
            if fn is None:
                node.grad = g if node.grad is None else node.grad + g
                continue
            in_grads = fn.backward(g)
            for parent, pg, need in zip(fn.parents, in_grads, fn.needs_input_grad):
                if pg is None or not need:
                    continue
                if hook is not None:
                    hook("backward", fn, pg)
                key = id(parent)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other) -> Tensor:
        return ops.div(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pow__(self, exponent) -> Tensor:
        return ops.pow(self, exponent)

    def __rpow__(self, base) -> Tensor:
        return ops.pow(base, self)

    def __matmul__(self, other) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other) -> Tensor:
        return ops.matmul(other, self)

    def __getitem__(self, index) -> Tensor:
        return ops.getitem(self, index)

    # Comparisons give plain boolean arrays: they are not differentiable.
    def __lt__(self, other):
        return self.data < _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    def __gt__(self, other):
        return self.data > _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ methods
    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        return ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False) -> Tensor:
        return ops.min(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def transpose(self, *axes) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    def clip(self, min_value=None, max_value=None) -> Tensor:
        return ops.clip(self, min_value, max_value)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _reverse_topological_order(root: Tensor) -> list:
    """Nodes that require a gradient, each after every node that consumes it (iterative DFS)."""
    order = []
    visited = {id(root)}
    stack = [(root, iter(root._ctx.parents if root._ctx is not None else ()))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent.requires_grad and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent._ctx.parents if parent._ctx is not None else ())))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order
