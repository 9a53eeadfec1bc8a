"""Level 3: rematerialisation (gradient checkpointing): Keras's ``remat`` and ``RematScope``.

``remat(f)`` returns a function that computes ``f``'s result and keeps only its inputs: the
intermediate results ``f`` made are dropped after the forward pass and computed again during
the backward pass, where the gradients of ``f``'s inputs and of the weights it reads come
from that second run. Memory for activations then grows with the number of remat'd blocks,
not with their depth. The recomputation replays the random generator's state of the first
run, so dropout draws the same mask; a function that changes state as it runs (a
BatchNormalization's moving statistics in training) changes it again when recomputed, as with
PyTorch's checkpoint.

``RematScope(mode)`` makes the layers *created* inside it remat their calls: ``"full"``
(every layer), ``"activations"`` (only the activation of layers that have one),
``"larger_than"`` (layers whose output has more than ``output_size_threshold`` values),
``"list_of_layers"`` (the layers named in ``layer_names``), or None (none).

Example:
    >>> import numpy as np
    >>> from myelin import Tensor, ops
    >>> w = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]], np.float32), requires_grad=True)
    >>> x = Tensor([[1.0, -1.0]], requires_grad=True)
    >>> ops.sum(remat(lambda t: ops.tanh(t @ w) @ w)(x)).backward()
    >>> x.grad.round(4), w.grad.round(4)
    (array([[-0.6761, -0.023 ]], dtype=float32), array([[-0.9955, -0.2742],
           [-0.7579, -1.4792]], dtype=float32))
"""

from __future__ import annotations

import functools
import math

from . import backend
from . import tensor as tensor_module
from .tensor import Function, Tensor, _reverse_topological_order, enable_grad

_MODES = ("full", "activations", "larger_than", "list_of_layers", None)
_STACK: list[RematScope] = []


def _leaves(out: Tensor, inputs: list[Tensor]) -> list[Tensor]:
    """The tensors outside ``inputs`` that ``out``'s graph reads and that need a gradient (weights)."""
    skip = {id(t) for t in inputs}
    return [
        node for node in _reverse_topological_order(out) if node._ctx is None and node.requires_grad and id(node) not in skip
    ]


class _Recompute(Function):
    """The remat'd block as one node: its inputs are the block's tensor arguments and the weights it reads."""

    def forward(self, *arrays, block=None, n_args=0, result=None, rng_state=None):
        self.arrays, self.block, self.n_args, self.rng_state = arrays[:n_args], block, n_args, rng_state
        return result

    def backward(self, g):
        weights = self.parents[self.n_args :]
        needs = self.needs_input_grad
        saved_grads = [w.grad for w in weights]
        saved_rng = backend.rng_state()
        try:
            for w in weights:
                w.grad = None
            backend.set_rng_state(self.rng_state)
            with enable_grad():
                args = [Tensor(a, requires_grad=need) for a, need in zip(self.arrays, needs)]
                out = self.block(args)
                if not isinstance(out, Tensor) or not out.requires_grad:
                    return (None,) * len(self.parents)
                out.backward(g)
            grads = [a.grad if need else None for a, need in zip(args, needs)]
            grads += [w.grad for w in weights]
        finally:
            for w, saved in zip(weights, saved_grads):
                w.grad = saved
            backend.set_rng_state(saved_rng)
        return tuple(grads)


def _run(f, args: tuple, kwargs: dict):
    """``f(*args, **kwargs)`` as one recomputed node (or as it is where nothing needs a gradient)."""
    if not tensor_module.is_grad_enabled():
        return f(*args, **kwargs)
    # The tensor arguments, also inside a list or tuple argument (a merging layer's inputs).
    positions = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            positions.append((i, None))
        elif isinstance(a, (list, tuple)):
            positions += [(i, j) for j, item in enumerate(a) if isinstance(item, Tensor)]
    tensors = [args[i] if j is None else args[i][j] for i, j in positions]

    def block(fresh: list[Tensor]):
        call_args = [list(a) if isinstance(a, (list, tuple)) else a for a in args]
        for (i, j), t in zip(positions, fresh):
            if j is None:
                call_args[i] = t
            else:
                call_args[i][j] = t
        call_args = [type(a)(c) if isinstance(a, tuple) else c for a, c in zip(args, call_args)]
        return f(*call_args, **kwargs)

    rng_state = backend.rng_state()
    recording, tensor_module._tape = tensor_module._tape, None  # the block's inner ops are not the step's
    try:
        detached = [Tensor._wrap(t.data, t.requires_grad) for t in tensors]
        out = block(detached)
    finally:
        tensor_module._tape = recording
    if not isinstance(out, Tensor):
        raise TypeError(f"remat: the function must return one tensor, got {type(out).__name__}")
    if not out.requires_grad:
        return out
    weights = _leaves(out, detached)
    result = out.data
    del out  # its graph, and with it every intermediate result, goes here
    if recording is not None:
        recording.problems.append("remat: a recomputed block (its backward runs Python code)")
    return _Recompute.apply(*tensors, *weights, block=block, n_args=len(tensors), result=result, rng_state=rng_state)


def remat(f):
    """``f`` rematerialised: the same results and gradients, its intermediate results recomputed in backward.

    ``f`` takes tensors (and other values, passed through) and returns one tensor; the
    gradients reach its tensor arguments and every weight it reads.

    Example:
        >>> from myelin import Tensor, ops
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> ops.sum(remat(lambda t: ops.exp(t) * t)(x)).backward()
        >>> x.grad.round(4)
        array([ 5.4366, 22.1672], dtype=float32)
    """
    if not callable(f):
        raise TypeError(f"remat: expected a function or a layer, got {type(f).__name__}")

    @functools.wraps(f)
    def rematerialized(*args, **kwargs):
        return _run(f, args, kwargs)

    return rematerialized


class RematScope:
    """Layers created inside remat their calls by ``mode`` (Keras's ``keras.RematScope``).

    Example:
        >>> from myelin import layers
        >>> with RematScope(mode="list_of_layers", layer_names=["big"]):
        ...     a, b = layers.Dense(4, name="big"), layers.Dense(4, name="small")
        >>> a._remat_mode.mode, a._remat_mode.layer_names
        ('list_of_layers', ['big'])
    """

    def __init__(self, mode: str | None = "full", output_size_threshold: int = 1024, layer_names: list | None = None):
        if mode not in _MODES:
            raise ValueError(f"RematScope: mode must be one of {_MODES}, got {mode!r}")
        if isinstance(output_size_threshold, bool) or not isinstance(output_size_threshold, int) or output_size_threshold < 0:
            raise ValueError(
                f"RematScope: output_size_threshold must be a non-negative integer, got {output_size_threshold!r}"
            )
        if layer_names is not None and (isinstance(layer_names, str) or not all(isinstance(n, str) for n in layer_names)):
            raise TypeError(f"RematScope: layer_names must be a list of layer names, got {layer_names!r}")
        self.mode, self.output_size_threshold, self.layer_names = mode, output_size_threshold, list(layer_names or [])

    def __enter__(self) -> RematScope:
        _STACK.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _STACK.remove(self)


def current_mode() -> RematScope | None:
    """The innermost open ``RematScope`` (None outside any, or where its mode is None).

    Example:
        >>> current_mode() is None
        True
    """
    if not _STACK or _STACK[-1].mode is None:
        return None
    return _STACK[-1]


def layer_call(layer, x, kwargs: dict):
    """``layer.call(x, **kwargs)`` under the layer's remat mode (captured when it was created)."""
    mode = layer._remat_mode
    if mode.mode == "full" or (mode.mode == "list_of_layers" and layer.name in mode.layer_names):
        return _run(lambda t, **kw: layer.call(t, **kw), (x,), kwargs)
    if mode.mode == "activations" and getattr(layer, "activation", None) is not None:
        original = layer.activation
        layer.activation = remat(original)
        try:
            return layer.call(x, **kwargs)
        finally:
            layer.activation = original
    if mode.mode == "larger_than":
        try:
            shape = layer.compute_output_shape([t.shape for t in x] if isinstance(x, list) else x.shape)
        except (AttributeError, NotImplementedError, TypeError, ValueError):
            shape = None  # a layer that cannot tell its output shape ahead is called as it is
        if (
            isinstance(shape, tuple)
            and all(isinstance(d, int) for d in shape)
            and math.prod(shape) > mode.output_size_threshold
        ):
            return _run(lambda t, **kw: layer.call(t, **kw), (x,), kwargs)
    return layer.call(x, **kwargs)


__all__ = ["RematScope", "current_mode", "remat"]
