"""Level 2: record one step's primitives on a tape, then replay them on raw arrays.

A training step of a model whose structure is fixed runs the same primitives, in the same
order, on arrays of the same shapes, every time; only the data batch and the weights'
values change. ``Tape`` records, while one ordinary step runs, each ``Function`` that
``Function.apply`` executes: the instance itself, where each input came from (an earlier
node, a weight, the data batch, or a constant) and its options. ``Plan`` then replays the
step without ``Tensor`` objects, layers, losses or graph bookkeeping: it calls the very
same ``forward`` and ``backward`` methods, in the same order, with the same accumulation
order of gradients, so its results equal the ordinary path's bit for bit.

What cannot be replayed is refused while recording: a constant array that is not a scalar
(its values might come from the data), or an option holding such an array, unless it *is*
one of the step's declared inputs. The model decides which layers and losses are eligible
at all (Python code that branches on data values cannot be seen from here).

Example:
    >>> import numpy as np
    >>> from myelin import Tensor, ops
    >>> w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    >>> x = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> with Tape([x]) as tape:
    ...     loss = ops.sum(ops.dense(Tensor(x), w, activation="relu"))
    >>> plan = Plan(tape, loss, [loss])
    >>> value, outputs, grads = plan.run([x])
    >>> float(value), grads[0].tolist()
    (30.0, [[3.0, 3.0], [5.0, 5.0], [7.0, 7.0]])
"""

from __future__ import annotations

from . import tensor as tensor_module
from .backend import array_module
from .ops import dense_chain
from .tensor import Tensor, _reverse_topological_order

NODE, WEIGHT, DYNAMIC, CONSTANT = 0, 1, 2, 3


def _is_array(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


class Tape:
    """Records ``Function`` applications inside a ``with`` block.

    ``dynamic`` lists the arrays that change from step to step (the batch); any input or
    option that *is* one of them is replayed from the arrays given to ``Plan.run``.
    ``variables`` lists the model's variables: besides the trainable ones (recognised by
    themselves), non-trainable variables (a ``Normalization``'s mean, ...) are then read by
    reference too, with their values at replay time.

    Example:
        >>> with Tape([]) as tape:
        ...     _ = Tensor(1.0) * 2.0          # scalars are safe constants
        ...     _ = Tensor([1.0, 2.0]) * 2.0   # an array might come from the data
        >>> len(tape.nodes), tape.problems
        (2, ['Mul: a constant input of shape (2,) (its values may depend on the data)'])
    """

    def __init__(self, dynamic: list, variables=()):
        self.dynamic = {id(a): i for i, a in enumerate(dynamic)}
        self._variables = {id(v) for v in variables}
        self._dynamic_arrays = list(dynamic)  # keep them alive: ids stay unique while recording
        self.nodes: list[tuple] = []  # (fn, input refs, constant options, dynamic options)
        self.produced: dict[int, int] = {}  # id(output tensor) -> node index
        self.weights: list[Tensor] = []
        self._weight_index: dict[int, int] = {}
        self.problems: list[str] = []
        self._alive: list[Tensor] = []

    def __enter__(self) -> Tape:
        if tensor_module._tape is not None:
            raise RuntimeError("a Tape is already recording")
        tensor_module._tape = self
        return self

    def __exit__(self, *exc) -> bool:
        tensor_module._tape = None
        return False

    def _ref(self, t: Tensor, name: str) -> tuple:
        node = self.produced.get(id(t))
        if node is not None:
            return (NODE, node)
        if t._ctx is None and (t.requires_grad or id(t) in self._variables):
            if id(t) not in self._weight_index:
                self._weight_index[id(t)] = len(self.weights)
                self.weights.append(t)
            return (WEIGHT, self._weight_index[id(t)])
        slot = self.dynamic.get(id(t.data))
        if slot is not None:
            return (DYNAMIC, slot)
        if t._ctx is not None:
            self.problems.append(f"{name}: an input was computed before recording started")
        elif getattr(t.data, "ndim", 0) > 0:
            self.problems.append(f"{name}: a constant input of shape {t.data.shape} (its values may depend on the data)")
        return (CONSTANT, t.data)

    def _option(self, key: str, value, name: str):
        """(constant value, dynamic slot or None) for one option."""
        if _is_array(value):
            slot = self.dynamic.get(id(value))
            if slot is not None:
                return None, slot
            if value.ndim > 0:
                self.problems.append(f"{name}: option {key!r} holds an array of shape {value.shape}")
        elif isinstance(value, tuple) and any(_is_array(v) and v.ndim > 0 for v in value):
            self.problems.append(f"{name}: option {key!r} holds arrays")
        return value, None

    def record(self, fn, inputs: tuple, options: dict, out: Tensor) -> None:
        """Called by ``Function.apply`` for every primitive run while recording."""
        name = type(fn).__name__
        refs = tuple(self._ref(t, name) for t in inputs)
        constant, dynamic = {}, []
        for key, value in options.items():
            const, slot = self._option(key, value, name)
            if slot is None:
                constant[key] = const
            else:
                dynamic.append((key, slot))
        self.nodes.append((fn, refs, constant, tuple(dynamic)))
        self.produced[id(out)] = len(self.nodes) - 1
        self._alive.append(out)


class Plan:
    """A recorded step, replayed on new arrays: forward of every node, then the backward pass.

    Built from a finished ``Tape``, the scalar ``loss`` tensor (None for inference) and the
    tensors whose values the caller wants back (the model's outputs). ``run(dynamic)``
    returns the loss value, those outputs' arrays, and one gradient (or None) per
    ``tape.weights`` entry; with ``backward=False`` (or no loss) only the forward pass runs.

    Example:
        >>> import numpy as np
        >>> from myelin import ops
        >>> w = Tensor([2.0], requires_grad=True)
        >>> x = np.array([3.0], dtype=np.float32)
        >>> with Tape([x]) as tape:
        ...     y = ops.sum(ops.mul(Tensor(x), w))
        >>> Plan(tape, y, [])
        <Plan: 2 nodes, 1 weights>
    """

    def __init__(self, tape: Tape, loss: Tensor | None, outputs: list):
        if tape.problems:
            raise ValueError("cannot replay this step: " + "; ".join(tape.problems))
        self.nodes = tape.nodes
        self.weights = tape.weights
        try:
            self.loss_node = None if loss is None else tape.produced[id(loss)]
            self.output_nodes = [tape.produced[id(o)] for o in outputs]
        except KeyError:
            raise ValueError("cannot replay this step: an output was not produced by a recorded primitive") from None
        # The backward visiting order of Tensor.backward(), as node indices.
        order = [] if loss is None else [tape.produced[id(t)] for t in _reverse_topological_order(loss) if t._ctx is not None]
        protected = set(self.output_nodes) | ({self.loss_node} if self.loss_node is not None else set())
        # Runs of Dense nodes become one node each, replayed by two native calls (same numbers: ops/dense_chain.py).
        self.nodes, self.order = dense_chain.fuse(self.nodes, order, protected)
        self._forward = [(j, *node) for j, node in enumerate(self.nodes) if node is not None]
        # the nodes that can write weight gradients where the caller wants them (run's ``into``): which weight each input is
        self._writes = {
            j: [r if kind == WEIGHT else None for kind, r in node[1]]
            for j, node in enumerate(self.nodes)
            if node is not None and hasattr(node[0], "destinations")
        }

    def __repr__(self) -> str:
        return f"<Plan: {len(self._forward)} nodes, {len(self.weights)} weights>"

    def __getstate__(self) -> dict:
        # (a pickled or copied model: the optimizer-buffer views and the kept seed are made again where it lands)
        return {k: v for k, v in self.__dict__.items() if k not in ("grad_into", "_one")}

    def _seed(self, loss, seed: float):
        """The loss's incoming gradient: ``seed`` in its shape, one read-only array kept for the usual 1.0."""
        if seed != 1.0:
            return array_module(loss).full_like(loss, seed)
        one = self.__dict__.get("_one")
        if one is None or type(one) is not type(loss) or one.dtype != loss.dtype or one.shape != loss.shape:
            one = self._one = array_module(loss).ones_like(loss)
            if hasattr(one, "flags"):
                one.flags.writeable = False  # (a backward that wrote into it would raise, not change later steps)
        return one

    def run(self, dynamic: list, backward: bool = True, seed: float = 1.0, into: list | None = None) -> tuple:
        """Replay on new ``dynamic`` arrays: (loss, outputs, weight gradients of ``seed`` times the loss).

        ``into`` (one array or None per weight) says where a weight's gradient may be written
        (an optimizer's buffer): nodes that can, write it there and return that array.
        """
        nodes, weights = self.nodes, self.weights
        values = [None] * len(nodes)
        for j, fn, refs, options, dynamic_options in self._forward:
            args = [
                values[r] if kind == NODE else weights[r].data if kind == WEIGHT else dynamic[r] if kind == DYNAMIC else r
                for kind, r in refs
            ]
            if dynamic_options:
                options = {**options, **{key: dynamic[slot] for key, slot in dynamic_options}}
            values[j] = fn.forward(*args, **options)
        loss = None if self.loss_node is None else values[self.loss_node]
        weight_grads = [None] * len(weights)
        if not backward or loss is None:
            return loss, [values[j] for j in self.output_nodes], weight_grads
        grads = {self.loss_node: self._seed(loss, seed)}
        for j in self.order:
            g = grads.pop(j, None)
            if g is None:
                continue
            fn, refs = nodes[j][0], nodes[j][1]
            if j in self._writes:  # (None: new arrays, as without the buffers)
                fn.destinations = None if into is None else [None if r is None else into[r] for r in self._writes[j]]
            for (kind, r), pg, need in zip(refs, fn.backward(g), fn.needs_input_grad):
                if pg is None or not need:
                    continue
                if kind == NODE:
                    prev = grads.get(r)
                    grads[r] = pg if prev is None else prev + pg
                elif kind == WEIGHT:
                    prev = weight_grads[r]
                    weight_grads[r] = pg if prev is None else prev + pg
        return loss, [values[j] for j in self.output_nodes], weight_grads
