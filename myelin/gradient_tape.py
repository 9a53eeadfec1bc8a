"""Level 1: ``GradientTape``, TensorFlow's interface to reverse-mode gradients, over myelin's autodiff.

Custom training loops and steps written for TensorFlow Keras run after the import change::

    with myelin.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))

myelin records every operation on tensors that require a gradient (weights do), so the tape
adds three things: ``watch`` makes a constant tensor require one, ``stop_recording`` pauses
the graph, and ``gradient`` returns d(target)/d(sources) without touching any ``.grad``
(PyTorch's ``loss.backward()``, filling each variable's ``.grad``, works as well).

Example:
    >>> from myelin import Tensor
    >>> x = Tensor([3.0])
    >>> with GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> tape.gradient(y, x)
    array([6.], dtype=float32)
"""

from __future__ import annotations

import contextlib

from . import backend
from .tensor import Tensor, _reverse_topological_order, enable_grad, no_grad


def _flatten(structure) -> list:
    if isinstance(structure, dict):
        return [t for v in structure.values() for t in _flatten(v)]
    if isinstance(structure, (list, tuple)):
        return [t for v in structure for t in _flatten(v)]
    return [structure]


def _pack(structure, values: list):
    """``values`` (flat, in ``_flatten`` order) in the shape of ``structure``."""
    it = iter(values)

    def build(s):
        if isinstance(s, dict):
            return {k: build(v) for k, v in s.items()}
        if isinstance(s, (list, tuple)):
            built = [build(v) for v in s]
            return tuple(built) if isinstance(s, tuple) else built
        return next(it)

    return build(structure)


class GradientTape:
    """Record operations in a ``with`` block; ``gradient(target, sources)`` differentiates them (``tf.GradientTape``).

    ``persistent=True`` allows several ``gradient`` calls (otherwise one, as in TensorFlow).
    ``watch_accessed_variables`` must stay True: every weight is watched, as in TensorFlow's
    default. Gradients come back as arrays (None for a source the target does not depend on,
    or zeros with ``unconnected_gradients="zero"``).

    Example:
        >>> from myelin import Tensor
        >>> w = Tensor([2.0], requires_grad=True)
        >>> with GradientTape(persistent=True) as tape:
        ...     y = w * w * w
        ...     z = y * 2.0
        >>> tape.gradient(y, w), tape.gradient(z, [w, y])
        (array([12.], dtype=float32), [array([24.], dtype=float32), array([2.], dtype=float32)])
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        if watch_accessed_variables is not True:
            raise ValueError(
                "GradientTape: watch_accessed_variables=False is not available: myelin records every operation on a "
                "tensor that requires a gradient; use stop_recording() or no_grad() around what must not be recorded"
            )
        self.persistent = bool(persistent)
        self._used = False
        self._grad = None

    def __enter__(self) -> GradientTape:
        self._grad = enable_grad()
        self._grad.__enter__()
        return self

    def __exit__(self, *exc) -> bool:
        self._grad.__exit__(*exc)
        self._grad = None
        return False

    def watch(self, tensor) -> None:
        """Make ``tensor`` (or every tensor in a list/tuple/dict of them) require a gradient from now on.

        Example:
            >>> from myelin import Tensor
            >>> x = Tensor([1.0, 2.0])
            >>> with GradientTape() as tape:
            ...     tape.watch(x)
            ...     y = (x * x).sum()
            >>> tape.gradient(y, x)
            array([2., 4.], dtype=float32)
        """
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expects myelin Tensors (or lists of them), got {type(t).__name__}")
            if t._ctx is None:
                t.requires_grad = True

    @contextlib.contextmanager
    def stop_recording(self):
        """A block whose operations are not recorded (their results are constants to ``gradient``).

        Example:
            >>> from myelin import Tensor
            >>> w = Tensor([3.0], requires_grad=True)
            >>> with GradientTape() as tape:
            ...     with tape.stop_recording():
            ...         c = w * 2.0
            ...     y = w * c
            >>> tape.gradient(y, w)
            array([6.], dtype=float32)
        """
        with no_grad():
            yield

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients: str = "none"):
        """d(sum of ``target``)/d(each source), in the structure of ``sources`` (arrays; None where unconnected).

        ``target`` may be a tensor or a list of tensors (their gradients add up);
        ``output_gradients`` weights each target as the gradient flowing into it.

        Example:
            >>> from myelin import Tensor
            >>> a, b = Tensor([1.0], requires_grad=True), Tensor([5.0], requires_grad=True)
            >>> with GradientTape() as tape:
            ...     y = a * 3.0
            >>> tape.gradient(y, {"a": a, "b": b}, unconnected_gradients="zero")
            {'a': array([3.], dtype=float32), 'b': array([0.], dtype=float32)}
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                f"GradientTape.gradient: unconnected_gradients must be 'none' or 'zero', got {unconnected_gradients!r}"
            )
        if self._used and not self.persistent:
            raise RuntimeError(
                "GradientTape.gradient can only be called once on a non-persistent tape; use GradientTape(persistent=True)"
            )
        self._used = True
        targets = _flatten(target)
        flat_sources = _flatten(sources)
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise TypeError(f"GradientTape.gradient: sources must be myelin Tensors, got {type(s).__name__}")
        weights = [None] * len(targets) if output_gradients is None else _flatten(output_gradients)
        if len(weights) != len(targets):
            raise ValueError(f"GradientTape.gradient: {len(weights)} output_gradients for {len(targets)} targets")
        wanted = {id(s) for s in flat_sources}
        found: dict[int, object] = {}
        with no_grad():
            for t, w in zip(targets, weights):
                if not isinstance(t, Tensor):
                    raise TypeError(f"GradientTape.gradient: target must be a myelin Tensor, got {type(t).__name__}")
                if not t.requires_grad:
                    continue  # depends on nothing watched: every gradient is unconnected
                xp = backend.array_module(t.data)
                seed = xp.ones_like(t.data) if w is None else xp.asarray(w.data if isinstance(w, Tensor) else w, t.data.dtype)
                if seed.shape != t.data.shape:
                    raise ValueError(f"GradientTape.gradient: output_gradients has shape {seed.shape}, target {t.data.shape}")
                self._walk(t, seed, wanted, found)
        out = []
        for s in flat_sources:
            g = found.get(id(s))
            if g is None and unconnected_gradients == "zero":
                g = backend.array_module(s.data).zeros_like(s.data)
            out.append(g)
        return _pack(sources, out)

    @staticmethod
    def _walk(root: Tensor, seed, wanted: set, found: dict) -> None:
        """Backpropagate ``seed`` from ``root``; add each wanted node's total gradient to ``found``."""
        grads = {id(root): seed}
        for node in _reverse_topological_order(root):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if id(node) in wanted:
                prev = found.get(id(node))
                found[id(node)] = g if prev is None else prev + g
            fn = node._ctx
            if fn is None:
                continue
            for parent, pg, need in zip(fn.parents, fn.backward(g), fn.needs_input_grad):
                if pg is None or not need:
                    continue
                prev = grads.get(id(parent))
                grads[id(parent)] = pg if prev is None else prev + pg


__all__ = ["GradientTape"]
