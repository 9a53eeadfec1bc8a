"""Level 2: Dense layers that follow one another in a recorded step, replayed as one node.

A replayed step (:mod:`myelin.tape`) still runs a Python ``forward`` and ``backward`` per
``Dense`` node: the product wrappers, the bias and ReLU passes, the gradient bookkeeping,
some 10-20 us a layer, which at the seed network's sizes is as long as the products
themselves. :func:`fuse` finds runs of Dense nodes where each one's output feeds only the
next, and puts one :class:`DenseChain` node in their place; its forward is one call of
``myelin_dense_chain_fwd`` in ``_native.c`` and its backward one call of
``myelin_dense_chain_bwd``. Those make, product by product, the very BLAS calls the ordinary
nodes make through NumPy (``gemm`` with the same transposes and leading dimensions, ``gemv``
for a bias gradient, a product split over the native pool exactly where
``native.matmul`` would split it), and between them the native bias/ReLU passes: the
results are the ordinary replay's bit for bit (tests/test_dense_chain.py).

A call that cannot take that road (arrays that are not NumPy's, a dtype other than the
weights' float32/float64, an input that BLAS cannot read in place) runs the recorded Dense
functions one after the other instead, the ordinary replay itself.

Example:
    >>> import numpy as np
    >>> from myelin import Tensor, ops, tape
    >>> w1 = Tensor(np.full((3, 4), 0.5, np.float32), requires_grad=True)
    >>> w2 = Tensor(np.full((4, 2), 0.25, np.float32), requires_grad=True)
    >>> x = np.ones((2, 3), np.float32)
    >>> with tape.Tape([x]) as t:
    ...     h = ops.dense(Tensor(x), w1, activation="relu")
    ...     loss = ops.sum(ops.dense(h, w2))
    >>> plan = tape.Plan(t, loss, [loss])
    >>> value, _, grads = plan.run([x])
    >>> float(value), grads[1].tolist()[0]
    (6.0, [3.0, 3.0])
"""

from __future__ import annotations

import operator
import threading

import numpy as np

from .. import backend, native
from ..tensor import Function
from .primitives import Dense

NODE, WEIGHT = 0, 1  # myelin.tape's reference kinds (tape imports this module)

# The layout of the descriptor myelin_dense_chain_fwd/bwd read (_native.c, CH_* and L_*).
_HEAD, _FIELDS = 8, 26
_LAYERS, _DBL, _ILP64, _GEMM, _GEMV, _ONES = range(6)
_M, _K, _N, _X, _XT, _XLD, _XTT, _XTLD, _W, _B, _OUT, _RELU, _G, _GA, _GK, _GB, _GX = range(17)
_FWD, _GXP, _GKP = 17, 20, 23  # each product's (parts, by, scratch)
_address = native._address
_PROCESS_STATE = ("_busy", "_desc", "_seen", "_targets", "destinations", "_native")  # not pickled or copied


def _eligible(fn, refs, options, dynamic, shared: set) -> bool:
    """Whether a recorded node is a Dense the chain kernels run: 2-D, linear or ReLU, its own weights."""
    if type(fn) is not Dense or dynamic or set(options) - {"activation"}:
        return False
    if options.get("activation", "linear") not in ("linear", "relu") or len(refs) not in (2, 3):
        return False
    if any(kind != WEIGHT or r in shared for kind, r in refs[1:]):
        return False
    x2, kernel = getattr(fn, "x2", None), getattr(fn, "kernel", None)
    if not isinstance(x2, np.ndarray) or not isinstance(kernel, np.ndarray) or len(fn.in_shape) != 2:
        return False
    if kernel.dtype not in (np.float32, np.float64) or x2.dtype != kernel.dtype:
        return False
    # NumPy's matmul takes other BLAS routines when a side is 1 (gemv, dot): those keep their nodes
    return min(x2.shape[0], *kernel.shape) >= 2


def fuse(nodes: list, order: list, protected: set) -> tuple[list, list]:
    """``nodes`` and the backward ``order`` with each run of chainable Dense nodes as one DenseChain node.

    A run's nodes follow one another (each one's output is read only by the next, and is
    neither a watched output nor the loss, in ``protected``), and in ``order`` they come one
    right after the other, so that every gradient is added up in the order it was. The
    chain takes the last node's index; the others become None. Without the native chain
    kernels the nodes are returned as they are.

    Example:
        >>> fuse([], [], set())
        ([], [])
    """
    if not available():
        return nodes, order
    readers: dict[int, int] = {}
    weight_uses: dict[int, int] = {}
    for _, refs, _, _ in nodes:
        for kind, r in refs:
            if kind == NODE:
                readers[r] = readers.get(r, 0) + 1
            elif kind == WEIGHT:
                weight_uses[r] = weight_uses.get(r, 0) + 1
    shared = {r for r, count in weight_uses.items() if count > 1}
    chains: dict[int, list[int]] = {}  # last member -> members
    for j, (fn, refs, options, dynamic) in enumerate(nodes):
        if not _eligible(fn, refs, options, dynamic, shared):
            continue
        kind, r = refs[0]
        below = chains.get(r) if kind == NODE and readers.get(r) == 1 and r not in protected else None
        if below is not None:
            del chains[r]
            chains[j] = [*below, j]
        else:
            chains[j] = [j]
    position = {j: i for i, j in enumerate(order)}
    fused = list(nodes)
    removed: set[int] = set()
    for last, members in chains.items():
        if order:  # a training plan: the members' backward turns must be consecutive, last layer first
            places = [position.get(j) for j in reversed(members)]
            if None in places or places != list(range(places[0], places[0] + len(members))):
                continue
        refs = (nodes[members[0]][1][0], *(ref for j in members for ref in nodes[j][1][1:]))
        fused[last] = (DenseChain([nodes[j][0] for j in members]), refs, {}, ())
        removed.update(members[:-1])
        for j in members[:-1]:
            fused[j] = None
    return fused, [j for j in order if j not in removed]


_found: dict = {}  # dtype -> (gemm address, gemv address, 64-bit integers), once found


def _blas(dtype) -> tuple | None:
    """(gemm address, gemv address, 64-bit integers) of NumPy's OpenBLAS for ``dtype``, with the chain kernels."""
    if native._lib is None and not native.available():  # (no kernels, or turned off)
        return None
    dt = np.dtype(dtype)
    found = _found.get(dt)
    if found is None:
        if not hasattr(native._lib, "myelin_dense_chain_fwd"):
            return None
        gemm, blas = native._gemm(dt), backend._numpy_openblas()
        gemv = blas.gemv(dt) if isinstance(blas, backend._OpenBLAS) else None
        if gemm is None or gemv is None:
            return None
        found = _found[dt] = (gemm[0], gemv, gemm[1])
    return found


def available() -> bool:
    """Whether runs of Dense nodes can be replayed by the native chain kernels (C pool, NumPy's OpenBLAS).

    Example:
        >>> available() in (True, False)
        True
    """
    return _blas(np.float32) is not None


def _split(m: int, k: int, n: int) -> tuple[int, int]:
    """(parts, by) of a product (m, k) @ (k, n) as :func:`myelin.native.matmul` splits it now ((1, 1): one call)."""
    if not backend.pool_products() or 2.0 * m * k * n < native.POOL_GEMM_FLOPS:
        return 1, 1
    parts = native.parts(max(m, n), 1 << 30)
    if parts < 2:
        return 1, 1
    if m * n <= native._SMALL_RESULT and k >= 8 * max(m, n):
        return parts, 2
    return parts, int(m >= n)


class DenseChain(Function):
    """Several recorded Dense nodes, each feeding the next, replayed by two native calls a step.

    Inputs: the first layer's input, then each layer's kernel (and bias, where it has one).
    ``layers`` are the recorded ``Dense`` functions, whose activation and needed gradients
    it follows (and whose own forward and backward it runs when the native road is closed).

    Example:
        >>> import numpy as np
        >>> from myelin import Tensor, ops
        >>> k = Tensor(np.eye(2, dtype=np.float32), requires_grad=True)
        >>> h = ops.dense(Tensor(np.ones((2, 2), np.float32)), k, activation="relu")
        >>> chain = DenseChain([h._ctx])  # what ``fuse`` makes of recorded Dense nodes
        >>> chain.needs_input_grad
        (False, True)
    """

    def __init__(self, layers: list):
        self.layers = layers
        needs: list = []
        for i, fn in enumerate(layers):
            flags = fn.needs_input_grad or (False,) * (3 if fn.has_bias else 2)
            needs.extend(flags if i == 0 else flags[1:])
        self.needs_input_grad = tuple(needs)
        self._desc = None  # (what it was made for, the descriptor, the buffers it points at)
        self._seen = None  # (the batch's shape, strides and dtype, the split, the weights) of the last call
        self.destinations = None  # per input: where its gradient may be written (set by Plan.run), or None
        self._targets = None  # (those destinations, the usable ones) as last checked
        self._native = False
        self._busy = threading.Lock()  # held by the thread whose forward uses the kept buffers

    def __getstate__(self) -> dict:
        # (a pickled or deep-copied model: the descriptor's addresses and the lock belong to this process's arrays)
        return {k: v for k, v in self.__dict__.items() if k not in _PROCESS_STATE}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._busy = threading.Lock()
        self._desc = self._seen = self._targets = self.destinations = None
        self._native = False

    # ------------------------------------------------------------------ the descriptor
    def _prepare(self, x, params) -> bool:
        """Point the descriptor at this call's arrays (made anew for new shapes or a new split); False: the Python road."""
        state = (backend.pool_products(), backend.native_threads())
        seen = self._seen
        if (
            seen is not None
            and native._lib is not None
            and type(x) is np.ndarray
            and x.shape == seen[0]
            and x.strides == seen[1]
            and x.dtype == seen[2]
            and state == seen[3]
            and all(map(operator.is_, params, seen[4]))
        ):  # the same weights as last call (the usual case): only the batch is new
            self._desc[1][_HEAD + _X] = _address(x)
            return True
        self._seen = None
        dtype = params[0].dtype
        blas = _blas(dtype)
        if blas is None or type(x) is not np.ndarray or x.dtype != dtype or x.ndim != 2:
            return False
        for p in params:
            if type(p) is not np.ndarray or p.dtype != dtype or not p.flags.c_contiguous:
                return False
        lx, lxt = native._operand(x, *x.shape), native._operand(x.T, x.shape[1], x.shape[0])
        if lx is None or lxt is None:
            return False
        key = (x.shape, tuple(p.shape for p in params), *state)
        if (self._desc is None or self._desc[0] != key) and not self._build(key, x.shape[0], dtype, blas):
            return False
        desc = self._desc[1]
        desc[_HEAD + _X] = _address(x)
        desc[_HEAD + _XT], desc[_HEAD + _XLD] = lx
        desc[_HEAD + _XTT], desc[_HEAD + _XTLD] = lxt
        i = 0
        for row, fn in zip(self._rows, self.layers):
            desc[row + _W] = _address(params[i])
            if fn.has_bias:
                desc[row + _B] = _address(params[i + 1])
            i += 2 if fn.has_bias else 1
        self._seen = (x.shape, x.strides, x.dtype, state, params)
        return True

    def _build(self, key, m: int, dtype, blas) -> bool:
        layers = self.layers
        sizes = [fn.kernel.shape for fn in layers]
        recorded = []
        for fn, size in zip(layers, sizes):
            recorded += [size, size[1:]] if fn.has_bias else [size]
        if key[1] != tuple(recorded):
            return False  # (weights of other shapes than recorded: the Python road raises as the ordinary one would)
        desc = np.zeros(_HEAD + _FIELDS * len(layers), np.int64)
        desc[_LAYERS], desc[_DBL], desc[_ILP64] = len(layers), dtype == np.float64, blas[2]
        desc[_GEMM], desc[_GEMV] = blas[0], blas[1]
        ones = np.ones(m, dtype)
        desc[_ONES] = _address(ones)
        kept = [ones]  # every buffer the descriptor points at, alive while it is

        def buffer(shape):
            a = np.empty(shape, dtype)
            kept.append(a)
            return _address(a)

        self._rows = [_HEAD + _FIELDS * i for i in range(len(layers))]
        for i, (row, fn, (k, n)) in enumerate(zip(self._rows, layers, sizes)):
            desc[row + _M], desc[row + _K], desc[row + _N] = m, k, n
            desc[row + _RELU] = fn.activation == "relu"
            if i:
                desc[row + _X] = desc[self._rows[i - 1] + _OUT]
                desc[row + _XT], desc[row + _XLD] = native._NO_TRANS, k
                desc[row + _XTT], desc[row + _XTLD] = native._TRANS, k
            if i < len(layers) - 1:
                desc[row + _OUT] = buffer((m, n))  # (the last layer's output is new each call)
            if fn.activation == "relu":
                desc[row + _GA] = buffer((m, n))
            if i:
                desc[row + _GX] = desc[self._rows[i - 1] + _G] = buffer((m, k))
            for at, (rows, cols, total) in ((_FWD, (m, n, k)), (_GXP, (m, k, n)), (_GKP, (k, n, m))):
                parts, by = _split(rows, total, cols)
                desc[row + at], desc[row + at + 1] = parts, by
                if by == 2:
                    desc[row + at + 2] = buffer((parts, rows, cols))
        last = self._rows[-1]
        self._out_shape, self._out_slot, self._g_slot = (m, sizes[-1][1]), last + _OUT, last + _G
        first = layers[0].needs_input_grad or (False,)
        slots = [(_HEAD + _GX, (m, sizes[0][0]) if first[0] else None)]
        for row, fn, size in zip(self._rows, layers, sizes):
            needs = fn.needs_input_grad or (False,) * 3
            slots.append((row + _GK, size if needs[1] else None))
            if fn.has_bias:
                slots.append((row + _GB, size[1:] if needs[2] else None))
        self._grad_slots = slots
        self._no_targets = [None] * len(slots)
        self._targets = None
        self._desc = (key, desc, kept)
        return True

    @staticmethod
    def _usable(target, shape, dtype):
        """``target`` when a gradient of this shape and dtype can be written into it, else None (a new array)."""
        if shape is None or type(target) is not np.ndarray or target.shape != tuple(shape) or target.dtype != dtype:
            return None
        return target if target.flags.c_contiguous and target.flags.writeable else None

    # ------------------------------------------------------------------ forward and backward
    def forward(self, x, *params):
        if not self._busy.acquire(blocking=False):
            # another thread is in this very node (one model's predict called from two threads): its kept
            # buffers are in use, so this call takes the recorded Dense functions, which keep none
            return self._layer_by_layer(x, params)
        try:
            self._native = self._prepare(x, params)
            if not self._native:
                return self._layer_by_layer(x, params)
            desc = self._desc[1]
            out = np.empty(self._out_shape, x.dtype)
            desc[self._out_slot] = _address(out)
            backend.blas_threads_for(0.0)  # (one OpenBLAS thread while myelin's policy is on, as for every product)
            native._lib.myelin_dense_chain_fwd(_address(desc))
            return out
        finally:
            self._busy.release()

    def _layer_by_layer(self, x, params):
        """The recorded Dense functions' own forward, one after the other (their backward follows)."""
        self._native = False
        i = 0
        for fn in self.layers:
            take = 2 if fn.has_bias else 1
            x = fn.forward(x, *params[i : i + take], activation=fn.activation)
            i += take
        return x

    def backward(self, g):
        if not self._native:
            grads: list = []
            for fn in reversed(self.layers):
                gx, *rest = fn.backward(g)
                grads[:0] = rest
                g = gx
            return (g, *grads)
        desc, dtype = self._desc[1], self._seen[2]
        if type(g) is not np.ndarray or g.dtype != dtype or not g.flags.c_contiguous:
            g = np.ascontiguousarray(g, dtype=dtype)
        desc[self._g_slot] = _address(g)
        targets = self.destinations
        if targets is not None and (self._targets is None or not all(map(operator.is_, targets, self._targets[0]))):
            self._targets = (targets, [self._usable(t, shape, dtype) for t, (_, shape) in zip(targets, self._grad_slots)])
        usable = self._targets[1] if targets is not None else self._no_targets
        results = []
        for (slot, shape), target in zip(self._grad_slots, usable):  # (the input's gradient, each kernel and bias)
            if shape is None:
                results.append(None)
            else:
                a = np.empty(shape, dtype) if target is None else target
                desc[slot] = _address(a)
                results.append(a)
        backend.blas_threads_for(0.0)
        native._lib.myelin_dense_chain_bwd(_address(desc))
        return tuple(results)
