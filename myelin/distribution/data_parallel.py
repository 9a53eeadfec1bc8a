"""Keras's distribution API on MPI processes: ``DeviceMesh``, ``DataParallel``, ``set_distribution``.

One process per device: ``mpiexec -n N python train.py`` starts N copies of the script, and
``set_distribution(DataParallel())`` makes their ``fit`` calls train one model together.
Each process computes the gradients of its share of every global batch; one allreduce of
the optimizer's flat gradient buffer per step sums them, so every process applies the same
update and the weights stay identical (:mod:`myelin.trainers.distributed` does the work).

Example:
    >>> from myelin import distribution
    >>> distribution.set_distribution(distribution.DataParallel())
    >>> distribution.distribution().devices
    ['cpu:0']
    >>> distribution.set_distribution(None)
"""

from __future__ import annotations

from . import world


def list_devices(device_type: str | None = None) -> list[str]:
    """One device per MPI process: ``["cpu:0", "cpu:1", ...]`` (Keras's ``list_devices``).

    Example:
        >>> list_devices()
        ['cpu:0']
    """
    if device_type is not None and str(device_type).lower() != "cpu":
        raise ValueError(f"list_devices: myelin's processes train on the CPU, got device_type={device_type!r}")
    return [f"cpu:{r}" for r in range(world.world_size())]


class DeviceMesh:
    """The devices arranged along named axes; data parallelism uses a 1-D mesh (one axis, "batch").

    Example:
        >>> mesh = DeviceMesh(shape=(1,), axis_names=["batch"], devices=list_devices())
        >>> mesh.shape, mesh.axis_names
        ((1,), ['batch'])
    """

    def __init__(self, shape, axis_names, devices=None):
        self.shape = tuple(int(s) for s in shape)
        self.axis_names = list(axis_names)
        if len(self.axis_names) != len(self.shape):
            raise ValueError(f"DeviceMesh: {len(self.shape)} axes in shape {self.shape} but axis_names {self.axis_names}")
        self.devices = list(devices) if devices is not None else list_devices()
        size = 1
        for s in self.shape:
            size *= s
        if size != len(self.devices):
            raise ValueError(f"DeviceMesh: shape {self.shape} holds {size} devices but {len(self.devices)} were given")


class DataParallel:
    """Replicate the model on every process and split each global batch between them.

    ``batch_size`` in ``fit`` is the global batch, as in Keras: with N processes, each
    computes the gradient of about batch_size / N samples. ``auto_shard_dataset=True`` (the
    default) means every process is given the same data and takes its own rows of each batch;
    with ``False`` each process is given its own part of the data (for example read from its
    own files) and takes batch_size / N samples of it per step. A generator or ``PyDataset``
    is split by batch: with ``True`` process r reads batches r, r + N, ... of it (a step's
    global batch is N of its batches), with ``False`` each process's yields its own batches
    (a step's global batch is the union); see ``docs/distributed.md``.

    Example:
        >>> dp = DataParallel()
        >>> dp.num_processes, dp.auto_shard_dataset
        (1, True)
    """

    def __init__(self, device_mesh: DeviceMesh | None = None, devices=None, auto_shard_dataset: bool = True):
        if device_mesh is not None and devices is not None:
            raise ValueError("DataParallel: give device_mesh or devices, not both")
        if device_mesh is None:
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices) if devices is not None else None
        if device_mesh is None:
            device_mesh = DeviceMesh((world.world_size(),), ["batch"])
        if len(device_mesh.shape) != 1:
            raise ValueError(f"DataParallel needs a 1-D device mesh (one batch axis), got shape {device_mesh.shape}")
        expected = list_devices()
        if list(device_mesh.devices) != expected:
            raise ValueError(
                f"DataParallel: each MPI process is one device, so the devices must be {expected} "
                f"(from mpiexec -n {len(expected)}), got {list(device_mesh.devices)}"
            )
        self.device_mesh = device_mesh
        self.batch_dim_name = device_mesh.axis_names[0]
        self.auto_shard_dataset = bool(auto_shard_dataset)

    @property
    def devices(self) -> list[str]:
        return list(self.device_mesh.devices)

    @property
    def num_processes(self) -> int:
        return len(self.device_mesh.devices)

    def get_config(self) -> dict:
        return {"devices": self.devices, "auto_shard_dataset": self.auto_shard_dataset}


_current: DataParallel | None = None


def set_distribution(value: DataParallel | None) -> None:
    """Make ``fit``/``evaluate`` of every model train data-parallel (None: back to one process).

    Example:
        >>> set_distribution(DataParallel()); set_distribution(None)
    """
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution expects a DataParallel or None, got {type(value).__name__}")
    _current = value


def distribution() -> DataParallel | None:
    """The distribution set by :func:`set_distribution` (None when there is none).

    Example:
        >>> distribution() is None
        True
    """
    return _current


def active() -> DataParallel | None:
    """The distribution when it spans more than one process (what the trainer acts on)."""
    return _current if _current is not None and _current.num_processes > 1 else None


def is_chief() -> bool:
    """True on the process that writes files: rank 0, or the only process.

    Example:
        >>> is_chief()
        True
    """
    return active() is None or world.rank() == 0
