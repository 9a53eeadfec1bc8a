"""Level 2: the differentiable primitives (``primitives.py``), under ``myelin.ops``.

Each primitive is a ``Function`` with ``forward`` beside ``backward``; the lowercase
functions apply them to tensors, arrays or numbers. Keras's ``keras.ops`` vocabulary is
written on top of these few primitives, so it gets its gradients from them.

Example:
    >>> from myelin import Tensor, ops
    >>> x = Tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    >>> ops.sum(ops.relu(x) * 2.0).backward()
    >>> x.grad
    array([[2., 0., 2.]], dtype=float32)
"""

import sys as _sys

from .. import tensor as _tensor
from ..tensor import Function, Tensor  # noqa: F401  (the base class of every primitive, as before)
from .primitives import *  # noqa: F403  (the primitives' public functions and classes)
from .primitives import _log_softmax, _ones, _softmax_fn  # noqa: F401  (used by tests and fused losses)

_tensor._bind_ops(_sys.modules[__name__])  # Tensor's operators call these functions (tensor never imports ops)
