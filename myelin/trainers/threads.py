"""The BLAS thread policy around ``fit``, ``evaluate`` and ``predict`` (``backend.thread_policy``)."""

from __future__ import annotations

import functools
import sys

from .. import backend


def _thread_policy(method):
    """Run ``fit``/``evaluate``/``predict`` under myelin's BLAS thread policy (``backend.thread_policy``).

    Each matrix product then picks its thread count by its size, the cores of this machine
    shared with the data-loading workers and any other MPI process of a data-parallel run;
    the caller's setting is restored afterwards, and an explicit setting of the user's wins
    (``docs/performance.md``).
    """

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with backend.thread_policy(workers=_data_workers(args, kwargs), processes=_local_processes()):
            return method(self, *args, **kwargs)

    return run


def _data_workers(args, kwargs) -> int:
    """Data-loading workers that run beside the step (a PyDataset's ``workers``); 0 for arrays."""
    x = kwargs.get("x", args[0] if args else None)
    workers = getattr(x, "workers", 0)  # Keras's PyDataset attribute; arrays have none
    return workers if isinstance(workers, int) and not isinstance(workers, bool) else 0


def _local_processes() -> int:
    """Processes of a data-parallel run on this machine (1 without one); never imports mpi4py."""
    world = sys.modules.get("myelin.distribution.world")
    return world.local_size_hint() if world is not None else 1
