"""The MPI world: which process this is, how many there are, and the few collectives training needs.

Everything goes through mpi4py (the optional extra ``myelin[mpi]``, which also installs
MPICH's PyPI wheel). Without mpi4py, or outside ``mpiexec``, the world is one process: rank
0 of 1, and every collective returns its input. Messages are arrays (``Allreduce``,
``Bcast``) or JSON text; nothing is pickled.

Example:
    >>> from myelin.distribution import world
    >>> world.rank(), world.world_size()   # a plain ``python`` run is a world of one
    (0, 1)
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

_comm = None  # mpi4py's COMM_WORLD once initialize() ran with MPI present
_MPI = None
_initialized = False
_hook_installed = False
_local = None  # processes on this machine: from the launcher's environment, else counted once (a collective call)


def _load_mpi():
    try:
        from mpi4py import MPI  # noqa: PLC0415
    except ImportError as err:
        raise ImportError(
            "myelin.distribution needs mpi4py and an MPI library: pip install 'myelin[mpi]' "
            f"(mpi4py and MPICH's wheel), then run with: mpiexec -n 2 python train.py ({err})"
        ) from None
    return MPI


def _under_launcher() -> bool:
    """Whether this process was started by mpiexec/mpirun (the launchers set one of these)."""
    keys = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD")
    return any(k in os.environ for k in keys)


def initialize(job_addresses=None, num_processes: int | None = None, process_id: int | None = None) -> None:
    """Join the MPI world that ``mpiexec`` started (Keras's ``keras.distribution.initialize``).

    The launcher decides the processes and their machines (``mpiexec -n 8 -f hostfile``), so
    ``job_addresses`` must stay None; ``num_processes`` and ``process_id``, when given, are
    checked against what MPI says. Without ``mpiexec`` this is a world of one process, and
    mpi4py is not even needed (MPI is initialised only in a process that ``mpiexec``
    started). Afterwards an uncaught exception in any process aborts them all
    (``MPI_Abort``), so that no process waits forever for a dead peer.

    Example:
        >>> initialize()
        >>> world_size()
        1
    """
    global _comm, _MPI, _initialized, _local
    if job_addresses is not None:
        raise ValueError(
            "initialize: job_addresses is for JAX's coordinator; with MPI the machines come from mpiexec "
            f"(mpiexec -n N -f hostfile python train.py), got job_addresses={job_addresses!r}"
        )
    if not _initialized:
        if _under_launcher():
            _MPI = _load_mpi()
            _comm = _MPI.COMM_WORLD
            _local = _local_from_environment()
            _install_abort_hook()
        _initialized = True
    if num_processes is not None and int(num_processes) != world_size():
        raise ValueError(f"initialize: num_processes={num_processes} but MPI started {world_size()} process(es)")
    if process_id is not None and int(process_id) != rank():
        raise ValueError(f"initialize: process_id={process_id} but MPI says this is process {rank()}")


def _ensure() -> None:
    if not _initialized:
        initialize()


def rank() -> int:
    """This process's number, 0 .. world_size() - 1 (0 outside mpiexec).

    Example:
        >>> rank()
        0
    """
    _ensure()
    return 0 if _comm is None else _comm.Get_rank()


def world_size() -> int:
    """The number of processes training together (1 outside mpiexec).

    Example:
        >>> world_size()
        1
    """
    _ensure()
    return 1 if _comm is None else _comm.Get_size()


def _local_from_environment() -> int | None:
    """Processes on this machine as the launcher tells them (MPICH's hydra, Open MPI), without a collective."""
    for key in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"):
        value = os.environ.get(key, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def local_size() -> int:
    """How many of the processes run on this machine (they share its cores).

    Read from the launcher's environment; where it says nothing, counted by a collective
    call (every process must then call this, as it does at the start of a data-parallel fit).

    Example:
        >>> local_size()
        1
    """
    global _local
    _ensure()
    if _comm is None:
        return 1
    if _local is None:
        node = _comm.Split_type(_MPI.COMM_TYPE_SHARED)
        _local = node.Get_size()
        node.Free()
    return _local


def local_size_hint() -> int:
    """``local_size()`` when it is known without a collective call, else 1 (for the thread policy).

    Example:
        >>> local_size_hint()
        1
    """
    _ensure()
    return 1 if _comm is None or _local is None else _local


_EVERYWHERE = "_raised_on_every_process"


def raised_everywhere(error: BaseException) -> BaseException:
    """``error``, marked as raised by every process at once (a fault they found together); returns it.

    Such an error ends each process on its own, told once by process 0, instead of through ``MPI_Abort``.

    Example:
        >>> err = raised_everywhere(ValueError("the processes disagree"))
        >>> getattr(err, _EVERYWHERE)
        True
    """
    setattr(error, _EVERYWHERE, True)
    return error


def _install_abort_hook() -> None:
    """An uncaught exception in one process takes the whole job down, with its traceback printed once."""
    global _hook_installed
    if _hook_installed:
        return
    previous = sys.excepthook

    def abort_all(kind, value, tb):
        import traceback  # noqa: PLC0415

        text = "".join(traceback.format_exception(kind, value, tb))
        if getattr(value, _EVERYWHERE, False):
            # every process found the same fault (a disagreement checked collectively): each ends on its own,
            # process 0 tells it once, and no abort races the launcher's forwarding of the message
            if rank() == 0:
                header = f"myelin.distribution: every one of the {world_size()} processes stopped on this error\n"
                os.write(2, (header + text).encode("utf-8", "replace"))
            return
        header = f"myelin.distribution: process {rank()} of {world_size()} failed; stopping every process\n"
        try:
            os.write(2, (header + text).encode("utf-8", "replace"))  # one write: lines of ranks do not interleave
        finally:
            if _comm is not None and _comm.Get_size() > 1:
                time.sleep(0.25)  # MPI_Abort tears the job down at once: let the launcher forward the traceback first
                _comm.Abort(1)
            previous(kind, value, tb)

    sys.excepthook = abort_all
    _hook_installed = True


# ---------------------------------------------------------------------------- collectives
def allreduce_(buffer: np.ndarray) -> np.ndarray:
    """Sum ``buffer`` over every process, in place (one ``MPI_Allreduce``); returns it.

    Example:
        >>> import numpy as np
        >>> allreduce_(np.array([1.0, 2.0]))
        array([1., 2.])
    """
    if _comm is not None and _comm.Get_size() > 1:
        _comm.Allreduce(_MPI.IN_PLACE, buffer, op=_MPI.SUM)
    return buffer


def broadcast_(buffer: np.ndarray, root: int = 0) -> np.ndarray:
    """Overwrite ``buffer`` with process ``root``'s, in place (``MPI_Bcast``); returns it.

    Example:
        >>> import numpy as np
        >>> broadcast_(np.array([3.0]))
        array([3.])
    """
    if _comm is not None and _comm.Get_size() > 1:
        _comm.Bcast(buffer, root=root)
    return buffer


def allgather_json(value) -> list:
    """Every process's ``value`` (JSON-serialisable), in rank order; sent as UTF-8 JSON text.

    Example:
        >>> allgather_json({"n": 3})
        [{'n': 3}]
    """
    if _comm is None or _comm.Get_size() == 1:
        return [json.loads(json.dumps(value))]
    data = np.frombuffer(json.dumps(value, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    sizes = np.zeros(_comm.Get_size(), dtype=np.int64)
    _comm.Allgather(np.array([data.size], dtype=np.int64), sizes)
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    _comm.Allgatherv(data, (out, sizes))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    return [json.loads(out[offsets[i] : offsets[i + 1]].tobytes().decode("utf-8")) for i in range(len(sizes))]


def broadcast_json(value, root: int = 0):
    """Process ``root``'s ``value`` (JSON-serialisable) on every process.

    Example:
        >>> broadcast_json([1, 2])
        [1, 2]
    """
    return allgather_json(value)[root]


def barrier() -> None:
    """Wait until every process gets here.

    Example:
        >>> barrier()
    """
    if _comm is not None and _comm.Get_size() > 1:
        _comm.Barrier()
