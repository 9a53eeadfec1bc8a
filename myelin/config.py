"""Level 0: global settings under Keras's ``keras.config`` names, and the BLAS thread count.

``set_num_threads(n)`` fixes the number of BLAS threads myelin's matrix products use during
``fit``, ``evaluate`` and ``predict``; by default (``None``) myelin chooses per product: one
thread below ``backend.THREAD_CROSSOVER_FLOPS``, every free core above it (see
``docs/performance.md``). ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` and ``threadpoolctl``
limits are explicit settings too, and always win.

Example:
    >>> from myelin import config
    >>> config.set_num_threads(1)
    >>> config.num_threads()
    1
    >>> config.set_num_threads(None)
    >>> config.floatx()
    'float32'
"""

from __future__ import annotations

from .backend import explicit_threads, floatx, set_floatx, set_num_threads
from .dtype_policies import dtype_policy, set_dtype_policy


def num_threads() -> int | None:
    """The BLAS thread count the user fixed (here or in the environment), or None when myelin chooses.

    Example:
        >>> set_num_threads(2); num_threads()
        2
        >>> set_num_threads(None)
    """
    return explicit_threads()


__all__ = ["dtype_policy", "floatx", "num_threads", "set_dtype_policy", "set_floatx", "set_num_threads"]
