"""Level 2: the differentiable primitives (``primitives.py``) and Keras 3's ``keras.ops`` vocabulary.

Each primitive is a ``Function`` with ``forward`` beside ``backward``; the lowercase
functions apply them to tensors, arrays or numbers. Keras's families are written on top of
these few primitives, so they get their gradients from them: ``numpy.py`` (``ops.matmul``,
``ops.mean``, ...), ``nn.py`` (``ops.nn.sigmoid``, also ``ops.sigmoid``), ``core.py``
(``ops.cast``, ``ops.slice_update``, ``ops.while_loop``, ...) and ``linalg.py``
(``ops.linalg.norm``, also ``ops.norm``). ``docs/ops.md`` lists every name of ``keras.ops``
with myelin's status.

Example:
    >>> from myelin import Tensor, ops
    >>> x = Tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    >>> ops.sum(ops.relu(x) * 2.0).backward()
    >>> x.grad
    array([[2., 0., 2.]], dtype=float32)
    >>> ops.nn.one_hot(ops.argmax(x, axis=-1), 3).data
    array([[0., 0., 1.]], dtype=float32)
"""

import sys as _sys

from .. import tensor as _tensor

# The order matters: Keras's families take the names they share with the primitives.
# isort: off
from ..tensor import Function, Tensor  # noqa: F401  (the base class of every primitive, as before)
from .primitives import *  # noqa: F403  (the primitives' public functions and classes)
from .primitives import _log_softmax, _ones, _softmax_fn  # noqa: F401  (used by tests and fused losses)
from .recurrent import *  # noqa: F403  (sequence primitives: embedding lookup, masks, fused recurrent loops)

# Keras's families, under Keras's names; where a primitive has the same name, Keras's version
# (a compatible extension of it) takes the name.
from . import core as core, linalg as linalg, nn as nn, numpy as numpy
from . import image as image  # Keras's ops.image (resize, affine_transform) and the image layers' primitives
from .core import *  # noqa: F403
from .numpy import *  # noqa: F403
from .nn import *  # noqa: F403
from .linalg import *  # noqa: F403
from .core import shape as shape  # Keras's ops.shape: a tuple of ints (numpy's shape helper is not exported)
# isort: on

_tensor._bind_ops(_sys.modules[__name__])  # Tensor's operators call these functions (tensor never imports ops)
