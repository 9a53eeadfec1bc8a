"""Data-parallel training on MPI processes, under Keras 3's ``keras.distribution`` names.

Run a script on N processes with ``mpiexec -n N python train.py`` (install ``myelin[mpi]``:
mpi4py and MPICH's wheel). In the script::

    from myelin import distribution
    distribution.initialize()
    distribution.set_distribution(distribution.DataParallel())
    model.fit(x, y, batch_size=256)     # 256 is the global batch, split between the processes

See ``docs/distributed.md``.

Example:
    >>> from myelin import distribution
    >>> distribution.rank(), distribution.world_size()
    (0, 1)
"""

from .data_parallel import DataParallel, DeviceMesh, distribution, is_chief, list_devices, set_distribution
from .world import barrier, initialize, local_size, rank, world_size

__all__ = [
    "DataParallel",
    "DeviceMesh",
    "barrier",
    "distribution",
    "initialize",
    "is_chief",
    "list_devices",
    "local_size",
    "rank",
    "set_distribution",
    "world_size",
]
