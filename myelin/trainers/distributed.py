"""The trainer's side of data parallelism: what ``fit`` and ``evaluate`` do differently on N processes.

With ``myelin.distribution.set_distribution(DataParallel())`` and more than one MPI
process, a ``DistributedRun`` accompanies each ``fit``/``evaluate`` call:

1. at the start, every process checks with the others that they train the same thing (the
   same layers and weight shapes, optimizer, batch size, epochs, steps and, when the data
   is sharded automatically, the same data): a mismatch is named before the first step;
   then every weight and the optimizer's state are broadcast from process 0;
2. at each epoch, the random generator is process 0's, so all shuffle alike;
3. at each batch, each process takes its rows of the global batch (``shard``), or its own
   batch of a generator or ``PyDataset`` (``stream_epoch``), and computes its gradient;
   the optimizer calls ``reduce_gradients`` on its flat gradient buffer, which scales it by
   this process's share of the batch and sums it over the processes together with three
   spare slots (this process's loss sum, sample count and end-of-data flag): one
   ``MPI_Allreduce`` per step (per dtype), from which every process also learns the global
   loss (the NaN check) and the global batch size, and applies the update the whole batch
   would have given on one process;
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


def synchronized_layers(model) -> list:
    """The ``BatchNormalization(synchronized=True)`` layers of ``model`` (nested models included).

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.BatchNormalization(synchronized=True, name="bn")])
        >>> [layer.name for layer in synchronized_layers(m)]
        ['bn']
    """
    found, seen, stack = [], set(), [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if layer is not model and getattr(layer, "synchronized", False) is True:
            found.append(layer)
        stack.extend(getattr(layer, "layers", None) or [])
        stack.extend(getattr(layer, "_sublayers", None) or [])
    return found


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
        self.split_rows = self.auto  # training batches are global ones to split (arrays with auto sharding)
        self.split_eval_rows = self.auto  # the same for evaluation batches
        self.factor = 1.0  # this process's share of the current global batch
        self.n_local = 0  # this process's rows of the current batch
        self.n_global = 0  # the global batch's rows: known before the step when splitting, else from the allreduce
        self.step_loss = 0.0  # this process's mean loss of the current batch (sent in a spare slot)
        self.data_ended = False  # this process's own generator ran out before the epoch's steps
        self.peers_ended = 0  # how many processes' data ended at the last step (from the allreduce)
        self.nonfinite = None  # the global loss of the last step when it was not finite (the update was skipped)
        self.stop_on_nonfinite = False
        self.synchronized = []
        self._optimizer = None

    @classmethod
    def current(cls) -> DistributedRun | None:
        dp = data_parallel.active()
        return None if dp is None else cls(dp)

    # ------------------------------------------------------------------ start and end
    def verbose(self, verbose: int) -> int:
        """Only process 0 prints progress."""
        return verbose if self.rank == 0 else 0

    def start(self, model, xs, ys, sw, batch_size, facts: dict, adapter=None, val_adapter=None) -> int:
        """Check agreement, broadcast the state, install the gradient reduction (the start of ``fit``).

        Returns the batch size each process draws its batches of arrays with: the global one
        when sharding automatically (each then takes its rows), batch_size / N otherwise. A
        generator or ``PyDataset`` (``adapter``) is sharded by batch: with automatic sharding
        process r takes batches r, r + N, ... of it; otherwise each process's is its own.
        """
        self._check_losses(model)
        for m in model._log_trackers():
            if not m._additive_state:
                raise ValueError(
                    f"DataParallel: metric {m.name!r} ({type(m).__name__}) has no _additive_state, so its value "
                    "cannot be summed over processes; declare the state variables that add up "
                    "(e.g. _additive_state = ('total', 'count'))"
                )
        self.synchronized = synchronized_layers(model)
        local_batch = batch_size
        if not self.auto and adapter is None:
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
        if adapter is not None:
            self.split_rows = False
            mine.update(self._stream_facts(adapter, xs, ys, sw, facts.get("steps"), "x", "steps per epoch"))
        elif self.auto:
            arrays = list(xs) + list(ys) + ([] if sw is None else [sw])
            mine["samples"] = len(xs[0]) if xs else 0
            mine["data"] = [_fingerprint(a) for a in arrays]
        else:
            n = len(xs[0]) if xs else 0
            mine["steps per epoch"] = math.ceil(n / local_batch) if facts.get("steps") is None else facts["steps"]
        if val_adapter is not None:
            self.split_eval_rows = False
            vsteps = facts.get("validation steps")
            mine.update(self._stream_facts(val_adapter, *val_adapter.first(), vsteps, "validation_data", "validation steps"))
        self._check_agreement(world.allgather_json(mine))
        self._check_steps_known(mine, adapter, "steps per epoch", "steps_per_epoch", "fit")
        self._check_steps_known(mine, val_adapter, "validation steps", "validation_steps", "fit")
        if self.synchronized and adapter is None and self.auto:
            self._check_no_empty_shard(len(xs[0]), batch_size, facts.get("steps"))
        if self.synchronized and adapter is not None and self.auto and adapter.dataset_batches is not None:
            used = adapter.dataset_batches
            if facts.get("steps") is not None:
                used = min(used, int(facts["steps"]) * self.size)
            if used % self.size:
                self._refuse_empty_shard(
                    f"the last step of an epoch reads {used % self.size} of the {adapter.source}'s batches for the "
                    f"{self.size} processes",
                    "a number of batches (or steps_per_epoch * processes) that divides by the processes",
                )
        self.broadcast_state(model)
        self._optimizer = model.optimizer
        model.optimizer._gradient_reducer = self.reduce_gradients
        return local_batch

    def _stream_facts(self, adapter, xs, ys, sw, steps, what: str, key: str) -> dict:
        """What the processes must agree on about a generator or ``PyDataset``; shards it by batch when automatic."""
        out = {f"{what} kind": "generator" if adapter.source == "generator" else "PyDataset"}
        if self.auto:
            # the same data on every process, each taking every N-th batch: its first batch must be the same
            out[f"{what} first batch"] = [_fingerprint(a) for a in list(xs) + list(ys) + ([] if sw is None else [sw])]
            out[f"{what} batches"] = adapter.num_batches
            adapter.shard_by_index(self.rank, self.size)
        # the steps of an epoch (with each process's own data: its batches, which must be as many everywhere)
        out[key] = steps if steps is not None else adapter.num_batches
        return out

    def _check_steps_known(self, facts: dict, adapter, key: str, argument: str, method: str) -> None:
        """Each process's own generator has no length: without ``steps`` the processes could not agree on one."""
        if adapter is None or self.auto or adapter.source != "generator" or facts.get(key) is not None:
            return
        raise world.raised_everywhere(
            ValueError(
                f"{method}(): DataParallel(auto_shard_dataset=False) with a generator: give {argument}; every process "
                "reads its own generator, which has no length, and the processes must agree on the steps of an epoch "
                "before the first one (else one would wait forever for another whose data ended)"
            )
        )

    def _check_no_empty_shard(self, n: int, batch_size: int, steps) -> None:
        full = math.ceil(n / batch_size)
        if steps is not None and int(steps) < full:
            return
        last = n - (full - 1) * batch_size
        if last < self.size:
            self._refuse_empty_shard(
                f"the last global batch of an epoch has {last} sample(s) for the {self.size} processes",
                f"a batch_size and a number of samples whose remainder is 0 or at least {self.size}",
            )

    def _refuse_empty_shard(self, what: str, fix: str) -> None:
        names = ", ".join(repr(layer.name) for layer in self.synchronized)
        raise world.raised_everywhere(
            ValueError(
                f"DataParallel: {what}, so a process would take a step without data, but BatchNormalization "
                f"layer(s) {names} with synchronized=True need every process to compute the step's statistics "
                f"together; choose {fix}"
            )
        )

    def start_evaluate(self, xs, ys, sw, facts: dict, adapter=None) -> None:
        """Check that every process evaluates the same thing (the start of ``evaluate``)."""
        mine = dict(facts)
        if adapter is not None:
            self.split_eval_rows = False
            mine.update(self._stream_facts(adapter, xs, ys, sw, facts.get("steps"), "x", "steps"))
        elif self.auto:
            mine["data"] = [_fingerprint(a) for a in list(xs) + list(ys) + ([] if sw is None else [sw])]
        else:
            mine["batches"] = math.ceil(len(xs[0]) / facts["batch_size"])
        self._check_agreement(world.allgather_json(mine))
        self._check_steps_known(mine, adapter, "steps", "steps", "evaluate")

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
                raise world.raised_everywhere(
                    ValueError(
                        f"DataParallel: the processes disagree on {key!r} before the first step ({per_rank}); every process "
                        "must run the same script on the same model and "
                        + (
                            "the same data (auto_shard_dataset=True; where each process has its own data, use "
                            "DataParallel(auto_shard_dataset=False))"
                            if self.auto
                            else "equally many batches of its own data"
                        )
                    )
                )

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
        """This process's rows of one global batch ``(xs, ys, sw)``; sets its share of the batch (no collective)."""
        xs, ys, sw = batch
        n = len(xs[0])
        self.step_loss = 0.0
        if self.split_rows:
            lo, hi = self.rank * n // self.size, (self.rank + 1) * n // self.size
            self.n_global = n
            xs = [a[lo:hi] for a in xs]
            ys = [a[lo:hi] for a in ys]
            sw = None if sw is None else sw[lo:hi]
            self.n_local = hi - lo
            self.factor = self.n_local / n if n else 0.0
        else:  # this process's own batch: the global size comes back with the gradients
            self.n_local, self.n_global = n, 0
        return xs, ys, sw

    def shard_eval(self, batch: tuple) -> tuple:
        """This process's rows of an evaluation batch (its own batch when each process has its own data)."""
        if not self.split_eval_rows:
            return batch
        xs, ys, sw = batch
        n = len(xs[0])
        lo, hi = self.rank * n // self.size, (self.rank + 1) * n // self.size
        return [a[lo:hi] for a in xs], [a[lo:hi] for a in ys], None if sw is None else sw[lo:hi]

    def stream_epoch(self, batches, adapter, steps, training: bool):
        """The batches of one epoch of a generator or ``PyDataset``, so that every process takes ``steps`` steps.

        An automatically sharded source already yields an empty batch where this process has
        none inside a step; a ``PyDataset`` whose batches do not divide by the processes ends
        one batch short on some, and gets an empty one. In training, a generator that runs out
        before ``steps`` (this process's own, or a sharded one) takes one more step with no
        data, flagged in the allreduce, after which every process stops (as one process
        would); in evaluation the epoch is padded to ``steps`` with empty batches.
        """
        count = 0
        for batch in batches:
            count += 1
            yield batch
        if steps is None or count >= steps:
            return
        if training and adapter.source == "generator":
            self.data_ended = True
            yield adapter.empty()
            return
        for _ in range(steps - count):
            yield adapter.empty()

    def reduce_gradients(self, groups) -> bool:
        """The optimizer's hook: the gradients and this step's scalars summed over processes in one allreduce.

        Each dtype's flat gradient buffer is scaled by this process's share of the batch (its
        rows, divided afterwards by the global count when that is only known from the sum),
        and the first buffer's spare slots carry ``[loss * rows, rows, data ended]``. Returns
        False, on every process alike, when the update must be skipped: the global loss is not
        finite (and fit stops on that), or no process had data.
        """
        first = groups[0]
        spare = first.wire[first.grads.size :]
        n = self.n_local
        spare[0] = self.step_loss * n if n else 0.0
        spare[1] = n
        spare[2] = 1.0 if self.data_ended else 0.0
        known = self.split_rows and self.n_global > 0
        for group in groups:
            scale = self.factor if known else float(n)
            if scale != 1.0:
                group.grads *= group.grads.dtype.type(scale)
            world.allreduce_(group.wire if group is first else group.grads)
        total = float(spare[1])
        self.peers_ended = round(float(spare[2]))
        if total == 0:  # every process was out of data: nothing to apply
            return False
        if not known:
            for group in groups:
                group.grads /= group.grads.dtype.type(total)
            self.n_global = int(total)
            self.factor = n / total
        loss = float(spare[0]) / total
        if self.stop_on_nonfinite and not math.isfinite(loss):
            self.nonfinite = loss
            return False
        return True

    def idle_step(self, model) -> None:
        """A process with no rows in this (small, last) batch still takes part in every collective."""
        if model._overrides("train_step"):
            raise ValueError(
                f"DataParallel: this step leaves process {self.rank} of {self.size} without data, and an overridden "
                "train_step cannot be run on nothing; choose a batch_size and a number of samples (or of batches) "
                f"whose remainder is 0 or at least {self.size}"
            )
        if self.synchronized:
            names = ", ".join(repr(layer.name) for layer in self.synchronized)
            raise ValueError(
                f"DataParallel: this step leaves process {self.rank} of {self.size} without data, but "
                f"BatchNormalization layer(s) {names} with synchronized=True need every process to compute the "
                "step's statistics together; give every process a batch at every step (the batches of a sharded "
                "generator or PyDataset should divide by the processes)"
            )
        self.n_local, self.step_loss = 0, 0.0
        xp = backend.array_module(model._train_params[0].data)
        for w in model._train_params:
            w.grad = xp.zeros_like(w.data)
        model.optimizer.step(model._train_params)
        model.optimizer.zero_grad()
        if self.nonfinite is not None:
            model._nonfinite_loss, self.nonfinite = self.nonfinite, None

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
