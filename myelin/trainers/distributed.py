"""The trainer's side of data parallelism: what ``fit`` and ``evaluate`` do differently on N processes.

With ``myelin.distribution.set_distribution(DataParallel())`` and more than one MPI
process, a ``DistributedRun`` accompanies each ``fit``/``evaluate`` call:

1. at the start, every process checks with the others that they train the same thing (the
   same layers and weight shapes, optimizer, batch size, epochs, steps and, when the data
   is sharded automatically, the same data): a mismatch is named before the first step;
   then every weight and the optimizer's state are broadcast from process 0;
2. at each epoch, the random generator is process 0's, so all shuffle alike;
3. at each batch, each process takes its rows of the global batch (``shard``) and computes
   its gradient; the optimizer calls ``reduce_gradients`` on its flat gradient buffer,
   which scales it by this process's share of the batch and sums it over the processes
   (one ``MPI_Allreduce`` per dtype, normally one per step): every process applies the
   update the whole batch would have given on one process;
4. the logs (loss and metrics) are the sums of every process's running totals
   (``reduced_logs``), so ``History``, the progress bar and callbacks see the global values.

Example:
    >>> DistributedRun.current() is None     # one process, no distribution: fit runs as always
    True
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from .. import backend
from ..distribution import data_parallel, world


def _fingerprint(a) -> list:
    """Shape, dtype and a checksum of three rows of an array: enough to tell different data apart."""
    n = len(a)
    rows = np.ascontiguousarray(a[[0, n // 2, n - 1]] if n else a[:0])
    if rows.dtype == object:
        rows = np.asarray(rows, dtype=str)
    return [list(a.shape), str(a.dtype), zlib.crc32(rows.tobytes())]


class DistributedRun:
    """One ``fit`` or ``evaluate`` call on every process of a ``DataParallel`` distribution.

    Example:
        >>> DistributedRun.current() is None
        True
    """

    def __init__(self, dp: data_parallel.DataParallel):
        self.dp = dp
        self.rank, self.size = world.rank(), world.world_size()
        world.local_size()  # every process starts fit together: the one moment a collective count is safe
        self.auto = dp.auto_shard_dataset
        self.factor = 1.0  # this process's share of the current global batch
        self.n_global = 0
        self._optimizer = None

    @classmethod
    def current(cls) -> DistributedRun | None:
        dp = data_parallel.active()
        return None if dp is None else cls(dp)

    # ------------------------------------------------------------------ start and end
    def verbose(self, verbose: int) -> int:
        """Only process 0 prints progress."""
        return verbose if self.rank == 0 else 0

    def start(self, model, xs, ys, sw, batch_size: int, facts: dict) -> int:
        """Check agreement, broadcast the state, install the gradient reduction (the start of ``fit``).

        Returns the batch size each process draws its batches with: the global one when
        sharding automatically (each then takes its rows), batch_size / N otherwise.
        """
        self._check_losses(model)
        for m in model._log_trackers():
            if not m._additive_state:
                raise ValueError(
                    f"DataParallel: metric {m.name!r} ({type(m).__name__}) has no _additive_state, so its value "
                    "cannot be summed over processes; declare the state variables that add up "
                    "(e.g. _additive_state = ('total', 'count'))"
                )
        local_batch = batch_size
        if not self.auto:
            if batch_size % self.size:
                raise ValueError(
                    f"DataParallel(auto_shard_dataset=False): batch_size={batch_size} is the global batch and must be "
                    f"divisible by the {self.size} processes (each takes batch_size / {self.size} of its own data)"
                )
            local_batch = batch_size // self.size
        mine = dict(facts)
        mine["layers"] = [type(w).__name__ for w in getattr(model, "layers", [])]
        mine["weights"] = [list(w.shape) for w in model.weights]
        mine["optimizer"] = [type(model.optimizer).__name__, int(model.optimizer.iterations)]
        mine["batch_size"] = batch_size
        n = len(xs[0]) if xs else 0
        if self.auto:
            arrays = list(xs) + list(ys) + ([] if sw is None else [sw])
            mine["samples"] = n
            mine["data"] = [_fingerprint(a) for a in arrays]
        else:
            mine["steps per epoch"] = math.ceil(n / local_batch) if facts.get("steps") is None else facts["steps"]
        self._check_agreement(world.allgather_json(mine))
        self.broadcast_state(model)
        self._optimizer = model.optimizer
        model.optimizer._gradient_reducer = self.reduce_gradients
        return local_batch

    def start_evaluate(self, xs, ys, sw, facts: dict) -> None:
        """Check that every process evaluates the same thing (the start of ``evaluate``)."""
        mine = dict(facts)
        if self.auto:
            mine["data"] = [_fingerprint(a) for a in list(xs) + list(ys) + ([] if sw is None else [sw])]
        else:
            mine["batches"] = math.ceil(len(xs[0]) / facts["batch_size"])
        self._check_agreement(world.allgather_json(mine))

    def end(self) -> None:
        if self._optimizer is not None:
            self._optimizer._gradient_reducer = None
            self._optimizer = None

    @staticmethod
    def _check_losses(model) -> None:
        compiled = getattr(model, "_compiled_loss", None)
        for loss in getattr(compiled, "losses", None) or []:
            reduction = getattr(loss, "reduction", "sum_over_batch_size")
            if reduction != "sum_over_batch_size":
                raise ValueError(
                    f"DataParallel: loss {loss.name!r} has reduction={reduction!r}; data-parallel training averages "
                    "the processes' gradients by their share of the batch, which is the gradient of a mean over the "
                    "batch only for reduction='sum_over_batch_size' (the default)"
                )

    def _check_agreement(self, facts: list[dict]) -> None:
        keys = sorted(set().union(*facts))
        for key in keys:
            values = [f.get(key) for f in facts]
            if any(v != values[0] for v in values[1:]):
                per_rank = "; ".join(f"process {r}: {v}" for r, v in enumerate(values))
                error = ValueError(
                    f"DataParallel: the processes disagree on {key!r} before the first step ({per_rank}); every process "
                    "must run the same script on the same model and "
                    + ("the same data (auto_shard_dataset=True)" if self.auto else "equally many batches of its own data")
                )
                error._raised_on_every_process = True  # every process saw the same gathered facts and raises this
                raise error

    def broadcast_state(self, model) -> None:
        """Process 0's weights and optimizer state everywhere (the start of every fit)."""
        for w in model.weights:
            world.broadcast_(w.data)
        opt = model.optimizer
        for group in getattr(opt, "_groups", None) or []:
            for slot in group.state.values():
                world.broadcast_(slot)

    def epoch_begin(self) -> None:
        """Process 0's random generator everywhere: the same shuffle of the global batches."""
        backend.set_rng_state(world.broadcast_json(backend.rng_state()))

    # ------------------------------------------------------------------ each batch
    def shard(self, batch: tuple) -> tuple:
        """This process's rows of one global batch ``(xs, ys, sw)``; sets its share of the batch."""
        xs, ys, sw = batch
        n = len(xs[0])
        if self.auto:
            lo, hi = self.rank * n // self.size, (self.rank + 1) * n // self.size
            self.n_global = n
            xs = [a[lo:hi] for a in xs]
            ys = [a[lo:hi] for a in ys]
            sw = None if sw is None else sw[lo:hi]
            n_local = hi - lo
        else:
            n_local = n
            self.n_global = int(world.allreduce_(np.array([float(n)]))[0])
        self.factor = n_local / self.n_global if self.n_global else 0.0
        return xs, ys, sw

    def shard_eval(self, batch: tuple) -> tuple:
        """This process's rows of an evaluation batch (its own batch when each process has its own data)."""
        if not self.auto:
            return batch
        xs, ys, sw = batch
        n = len(xs[0])
        lo, hi = self.rank * n // self.size, (self.rank + 1) * n // self.size
        return [a[lo:hi] for a in xs], [a[lo:hi] for a in ys], None if sw is None else sw[lo:hi]

    def reduce_gradients(self, groups) -> None:
        """The optimizer's hook: each dtype's flat gradient buffer, scaled by this share, summed over processes."""
        for group in groups:
            if self.factor != 1.0:
                group.grads *= group.grads.dtype.type(self.factor)
            world.allreduce_(group.grads)

    def global_loss(self, value: float, n_local: int) -> float:
        """The loss of the whole global batch (for the NaN check every process must agree on)."""
        total = world.allreduce_(np.array([value * n_local if n_local else 0.0]))[0]
        return float(total / self.n_global) if self.n_global else float(total)

    def idle_step(self, model) -> None:
        """A process with no rows in this (small, last) batch still takes part in every collective."""
        if model._overrides("train_step"):
            raise ValueError(
                f"DataParallel: a global batch of {self.n_global} sample(s) leaves process {self.rank} of {self.size} "
                "without data, and an overridden train_step cannot be run on nothing; choose a batch_size and a "
                f"number of samples whose remainder is 0 or at least {self.size}"
            )
        if model._stop_on_nonfinite:
            value = self.global_loss(0.0, 0)
            if not math.isfinite(value):
                model._nonfinite_loss = value
                return
        xp = backend.array_module(model._train_params[0].data)
        for w in model._train_params:
            w.grad = xp.zeros_like(w.data)
        model.optimizer.step(model._train_params)
        model.optimizer.zero_grad()

    def gather(self, value) -> list:
        """Every process's ``value`` (JSON), in rank order."""
        return world.allgather_json(value)

    def any(self, flag: bool) -> bool:
        """True on every process when it is True on one (to agree before a collective)."""
        return bool(world.allreduce_(np.array([1.0 if flag else 0.0]))[0])

    # ------------------------------------------------------------------ logs
    def reduced_logs(self, model, plain_logs) -> dict:
        """``plain_logs()`` computed from the sums of every process's trackers (then the trackers are restored)."""
        if model._custom_logs is not None:  # an overridden step's own numbers: averaged over processes
            keys = sorted(model._custom_logs)
            values = np.array([float(model._custom_logs[k]) for k in keys])
            world.allreduce_(values)
            return {k: v / self.size for k, v in zip(keys, values.tolist())}
        return self.with_summed_trackers(model, plain_logs)

    def with_summed_trackers(self, model, fn):
        """``fn()`` while the trackers hold their sums over every process (restored afterwards)."""
        trackers = model._log_trackers()
        saved, parts = [], []
        for m in trackers:
            for key in m._additive_state:
                value = getattr(m, key)
                saved.append((m, key, value))
                parts.append(np.asarray(value, dtype=np.float64).reshape(-1))
        flat = world.allreduce_(np.concatenate(parts) if parts else np.zeros(0))
        offset = 0
        for m, key, value in saved:
            size = np.size(value)
            chunk = flat[offset : offset + size]
            offset += size
            if isinstance(value, np.ndarray):
                setattr(m, key, chunk.reshape(value.shape).astype(value.dtype))
            elif isinstance(value, np.generic):
                setattr(m, key, type(value)(chunk[0]))
            else:
                setattr(m, key, type(value)(chunk[0]) if isinstance(value, (int, float)) else float(chunk[0]))
        try:
            return fn()
        finally:
            for m, key, value in saved:
                setattr(m, key, value)
