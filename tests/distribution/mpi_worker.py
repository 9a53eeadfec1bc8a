"""One process of a data-parallel test run: ``mpiexec -n 2 python mpi_worker.py SCENARIO OUTDIR [ARG]``.

Each scenario trains a small float64 network and writes what the test compares (weights,
history, evaluation) to ``OUTDIR/rank<r>.json``. Run without mpiexec it is the one-process
reference for the same scenario. tests/distribution/test_data_parallel.py drives it.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import signal
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import myelin
from myelin import callbacks, distribution, layers

OPTIMIZERS = {
    "sgd": lambda: myelin.optimizers.SGD(0.1),
    "sgd_nesterov": lambda: myelin.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: myelin.optimizers.Adam(0.01),
    "amsgrad": lambda: myelin.optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: myelin.optimizers.AdamW(0.01, weight_decay=0.01),
    "rmsprop_centered": lambda: myelin.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: myelin.optimizers.Adagrad(0.1),
    "sgd_global_clipnorm": lambda: myelin.optimizers.SGD(0.1, global_clipnorm=0.5),
}


def data(n: int = 101, seed: int = 0):
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n, 6))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int) + (x[:, 3] > 1).astype(int)
    return x, y


def model(optimizer: str = "adam"):
    myelin.utils.set_random_seed(7)
    m = myelin.Sequential(
        [layers.Input(shape=(6,)), layers.Dense(16, activation="tanh"), layers.Dense(3, activation="softmax")]
    )
    m.compile(optimizer=OPTIMIZERS[optimizer](), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def weights(m) -> list:
    return [w.numpy().tolist() for w in m.weights]


class Batches(myelin.utils.PyDataset):
    """A PyDataset over a list of (x, y) batches."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, i):
        return self.batches[i]


class Logged(Batches):
    """Batches that remember which of them were read."""

    def __init__(self, batches):
        super().__init__(batches)
        self.read = []

    def __getitem__(self, i):
        self.read.append(int(i))
        return self.batches[i]


def cut(x, y, size: int) -> list:
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]


def pairs(batches: list, processes: int = 2) -> list:
    """The global batches of a run on ``processes`` that shard ``batches`` by index: consecutive groups, joined."""
    out = []
    for i in range(0, len(batches), processes):
        group = batches[i : i + processes]
        out.append((np.concatenate([b[0] for b in group]), np.concatenate([b[1] for b in group])))
    return out


class Counting:
    """mpi4py's communicator, counting the calls of every collective (its capitalised methods)."""

    def __init__(self, comm):
        self._comm = comm
        self.calls = collections.Counter()

    def __getattr__(self, name):
        attr = getattr(self._comm, name)
        if name[:1].isupper() and name not in ("Get_rank", "Get_size", "Abort", "Free"):

            def counted(*args, **kwargs):
                self.calls[name] += 1
                return attr(*args, **kwargs)

            return counted
        return attr


def bn_model(synchronized: bool, masked: bool = False):
    myelin.utils.set_random_seed(11)
    if masked:
        inner = [
            layers.Input(shape=(4, 3)),
            layers.Masking(0.0),
            layers.Dense(5),
            layers.BatchNormalization(momentum=0.8, synchronized=synchronized),
            layers.GlobalAveragePooling1D(),
            layers.Dense(3, activation="softmax"),
        ]
    else:
        inner = [
            layers.Input(shape=(6,)),
            layers.Dense(8),
            layers.BatchNormalization(momentum=0.8, synchronized=synchronized),
            layers.Activation("tanh"),
            layers.Dense(3, activation="softmax"),
        ]
    m = myelin.Sequential(inner)
    m.compile(optimizer=myelin.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    return m


def bn_data(masked: bool, n: int = 96):
    x, y = data(n, 3)
    x = x * 3 + 1  # statistics far from the initial moving ones
    if masked:
        x = np.concatenate([x, x[:, :6] * 0.5], axis=1).reshape(n, 4, 3)
        x[::3, 3] = 0.0  # masked time steps
        x[1::4, 2] = 0.0
    return x, y


def main() -> None:
    scenario, out = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else ""
    myelin.backend.set_floatx("float64")
    distribution.initialize()
    r = distribution.rank()
    if not scenario.startswith("single"):
        own = scenario in ("own_data", "own_streams", "ran_out") or arg.startswith("own")
        distribution.set_distribution(distribution.DataParallel(auto_shard_dataset=not own))
    result: dict = {"rank": r, "size": distribution.world_size()}
    x, y = data()
    if scenario in ("equal", "single"):
        for name in arg.split(",") if arg else OPTIMIZERS:
            m = model(name)
            h = m.fit(x, y, batch_size=32, epochs=3, verbose=0, validation_data=data(37, 1))
            result[name] = {"weights": weights(m), "history": h.history}
            result[name]["evaluate"] = m.evaluate(*data(45, 2), batch_size=16, verbose=0, return_dict=True)
    elif scenario == "own_data":
        # process r holds rows r, r + 2, r + 4, ... : each step's global batch is the pair of local batches
        m = model("adam")
        x, y = x[:100], y[:100]
        lo = slice(r, None, 2)
        h = m.fit(x[lo], y[lo], batch_size=20, epochs=2, shuffle=False, verbose=0)
        result["adam"] = {"weights": weights(m), "history": h.history}
    elif scenario == "single_own_data":
        # the one-process equivalent of own_data: each batch of 20 is 10 rows of process 0's part, then 10 of 1's
        m = model("adam")
        x, y = x[:100], y[:100]
        parts = [x[0::2], x[1::2]], [y[0::2], y[1::2]]
        order_x, order_y = [], []
        for start in range(0, len(parts[0][0]), 10):
            for p in range(2):
                order_x.append(parts[0][p][start : start + 10])
                order_y.append(parts[1][p][start : start + 10])
        h = m.fit(np.concatenate(order_x), np.concatenate(order_y), batch_size=20, epochs=2, shuffle=False, verbose=0)
        result["adam"] = {"weights": weights(m), "history": h.history}
    elif scenario == "files":
        m = model("adam")
        cbs = [
            callbacks.CSVLogger(os.path.join(out, "log.csv")),
            callbacks.ModelCheckpoint(os.path.join(out, "ckpt-{epoch}.myelin"), monitor="loss"),
        ]
        h = m.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=cbs)
        m.save(os.path.join(out, "final.myelin"))
        result["history"] = h.history
    elif scenario == "raise":

        class Boom(callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if distribution.rank() == 1 and epoch == 1:
                    raise RuntimeError("boom on process 1")

        model("sgd").fit(x, y, batch_size=32, epochs=50, verbose=0, callbacks=[Boom()])
    elif scenario == "mismatch":
        what = arg
        m = model("sgd")
        if what == "batch_size":
            m.fit(x, y, batch_size=32 + 2 * r, epochs=1, verbose=0)
        elif what == "data":
            m.fit(x + r, y, batch_size=32, epochs=1, verbose=0)
        elif what == "model":
            if r == 1:
                m = myelin.Sequential([layers.Input(shape=(6,)), layers.Dense(8), layers.Dense(3, activation="softmax")])
                m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
            m.fit(x, y, batch_size=32, epochs=1, verbose=0)
    elif scenario == "backup":  # arg: "kill" to kill process 1 in epoch 2, "" to run through
        m = model("adam")

        class Kill(callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                # killed at epoch 2's first batch: the last backup is from the middle of epoch 1
                if arg == "kill" and distribution.rank() == 1 and self._epoch == 2 and batch == 0:
                    os.kill(os.getpid(), signal.SIGKILL)

            def on_epoch_begin(self, epoch, logs=None):
                self._epoch = epoch

        backup = callbacks.BackupAndRestore(os.path.join(out, "backup"), save_freq=2)
        h = m.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[backup, Kill()])
        result["weights"], result["history"] = weights(m), h.history
    elif scenario in ("streams", "single_streams"):
        # 9 batches (8 of 10 rows, one of 3): on 2 processes 5 steps, the last with one batch (process 1 idles)
        x, y = x[:83], y[:83]
        raw = cut(x, y, 10)
        global_batches = raw if scenario == "streams" else pairs(raw)
        val = cut(*data(37, 1), 8)
        val = val if scenario == "streams" else pairs(val)
        test = cut(*data(45, 2), 6)
        test = test if scenario == "streams" else pairs(test)
        m = model("adam")
        h = m.fit(Batches(global_batches), epochs=3, shuffle=False, verbose=0, validation_data=Batches(val))
        ev = m.evaluate(Batches(test), verbose=0, return_dict=True)
        result["pydataset"] = {"weights": weights(m), "history": h.history, "evaluate": ev}
        # a generator read to its end (one epoch), automatically sharded: every process reads the stream
        m = model("sgd_nesterov")
        h = m.fit(iter(global_batches), verbose=0)
        ev = m.evaluate(iter(test), verbose=0, return_dict=True)
        result["generator"] = {"weights": weights(m), "history": h.history, "evaluate": ev}
        # an endless generator with steps_per_epoch: a global step is two of its batches
        m = model("adam")
        full = cut(x[:80], y[:80], 10)
        stream = itertools.cycle(full if scenario == "streams" else pairs(full))
        h = m.fit(stream, steps_per_epoch=3, epochs=3, verbose=0)
        result["endless"] = {"weights": weights(m), "history": h.history}
        # a generator that runs out in epoch 2 (9 batches for 2 epochs of 3 steps): every process stops there
        m = model("adam")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            h = m.fit(iter(global_batches), steps_per_epoch=3, epochs=2, verbose=0)
        result["ran_out"] = {"weights": weights(m), "history": h.history, "iterations": int(m.optimizer.iterations)}
        result["ran_out"]["warnings"] = [str(w.message) for w in caught]
        if scenario == "streams":  # shuffled: the same order on every process, each reading its batches of it
            ds = Logged(raw)
            m = model("adam")
            h = m.fit(ds, epochs=2, shuffle=True, verbose=0)
            result["shuffled"] = {"weights": weights(m), "history": h.history, "read": ds.read[1:]}  # [0]: first()
    elif scenario == "own_streams":
        # each process its own PyDataset and generator: process r holds batches r, r + 2, ... (the reference: pairs)
        x, y = x[:80], y[:80]
        raw = cut(x, y, 10)
        mine = raw[r::2]
        m = model("adam")
        h = m.fit(Batches(mine), epochs=3, shuffle=False, verbose=0)
        ev = m.evaluate(Batches(cut(*data(48, 2), 6)[r::2]), verbose=0, return_dict=True)
        result["pydataset"] = {"weights": weights(m), "history": h.history, "evaluate": ev}
        m = model("adam")
        h = m.fit(itertools.cycle(mine), steps_per_epoch=4, epochs=3, verbose=0)
        result["endless"] = {"weights": weights(m), "history": h.history}
    elif scenario == "single_own_streams":
        x, y = x[:80], y[:80]
        glob = pairs(cut(x, y, 10))
        m = model("adam")
        h = m.fit(Batches(glob), epochs=3, shuffle=False, verbose=0)
        ev = m.evaluate(Batches(pairs(cut(*data(48, 2), 6))), verbose=0, return_dict=True)
        result["pydataset"] = {"weights": weights(m), "history": h.history, "evaluate": ev}
        m = model("adam")
        h = m.fit(itertools.cycle(glob), steps_per_epoch=4, epochs=3, verbose=0)
        result["endless"] = {"weights": weights(m), "history": h.history}
    elif scenario == "ran_out":
        # own generators, process 1's two batches short of 3 epochs of 4 steps: every process stops at its end
        x, y = x[:80], y[:80]
        mine = cut(x, y, 10)[r::2] * 3
        if r == 1:
            mine = mine[:-6]
        m = model("sgd")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            h = m.fit(iter(mine), steps_per_epoch=4, epochs=3, verbose=0)
        result["weights"], result["history"] = weights(m), h.history
        result["iterations"] = int(m.optimizer.iterations)
        result["warnings"] = [str(w.message) for w in caught]
    elif scenario == "count":
        # collectives per training step: the calls of two fits that differ only in their number of steps
        from myelin.distribution import world

        counting = Counting(world._comm)
        world._comm = counting
        x, y = x[:96], y[:96]
        cases = {
            "arrays": lambda m, steps: m.fit(x, y, batch_size=16, steps_per_epoch=steps, epochs=2, verbose=0),
            "pydataset": lambda m, steps: m.fit(Batches(cut(x, y, 8)), steps_per_epoch=steps, epochs=2, verbose=0),
            "generator": lambda m, steps: m.fit(itertools.cycle(cut(x, y, 8)), steps_per_epoch=steps, epochs=2, verbose=0),
            # the progress display to a pipe (not a terminal): one plain line per epoch, no batch logs to reduce
            "verbose": lambda m, steps: m.fit(x, y, batch_size=16, steps_per_epoch=steps, epochs=2, verbose=1),
        }
        for own in (False, True):
            distribution.set_distribution(distribution.DataParallel(auto_shard_dataset=not own))
            for case, run in list(cases.items()) + [("syncbn", None)]:
                per_fit = {}
                for steps in (3, 6):
                    before = sum(counting.calls.values())
                    if run is None:
                        bn_model(True).fit(*bn_data(False), batch_size=16, steps_per_epoch=steps, epochs=2, verbose=0)
                    else:
                        run(model("adam"), steps)
                    per_fit[steps] = sum(counting.calls.values()) - before
                result[("own " if own else "") + case] = (per_fit[6] - per_fit[3]) / 6
        result["calls"] = dict(counting.calls)
        world._comm = counting._comm
    elif scenario in ("syncbn", "single_syncbn"):
        # arg: "sync" / "local" (synchronized=True / False on 2 processes), with ",masked" for a masked BN
        masked = arg.endswith("masked")
        m = bn_model(arg.startswith("sync") or scenario == "single_syncbn", masked)
        h = m.fit(*bn_data(masked), batch_size=32, epochs=3, verbose=0)
        bn = next(layer for layer in m.layers if isinstance(layer, layers.BatchNormalization))
        result["weights"], result["history"] = weights(m), h.history
        result["moving"] = [bn.moving_mean.numpy().tolist(), bn.moving_variance.numpy().tolist()]
        result["compile_status"] = m.compile_status
    elif scenario == "bn_gradcheck":
        # central differences of the global loss sum_r share_r * loss_r against synchronized BatchNorm's backward
        from myelin.distribution import world
        from myelin.ops.batchnorm import batch_norm

        masked = arg == "masked"
        n_rows = (5, 3)[r]
        gen = np.random.default_rng(20 + r)
        x = gen.normal(size=(n_rows, 4, 2)) * 2 + 1
        c = gen.normal(size=x.shape)
        mask = (gen.random((n_rows, 4, 1)) > 0.3).astype(np.float64) if masked else None
        shared = np.random.default_rng(99)
        gamma = myelin.Tensor(shared.normal(size=2) + 1, requires_grad=True)
        beta = myelin.Tensor(shared.normal(size=2), requires_grad=True)
        share = n_rows / float(world.allreduce_(np.array([float(n_rows)]))[0])

        def loss(xv):
            mm, mv = myelin.Tensor(np.zeros(2)), myelin.Tensor(np.ones(2))
            xt = myelin.Tensor(xv, requires_grad=True)
            out = batch_norm(xt, mm, mv, gamma, beta, mask=mask, epsilon=1e-3, training=True, synchronized=True)
            return xt, myelin.ops.sum(out * myelin.Tensor(c)) / n_rows

        def global_loss(xv) -> float:
            return float(world.allreduce_(np.array([share * float(loss(xv)[1].data)]))[0])

        xt, value = loss(x)
        value.backward()
        analytic = share * xt.grad  # what the gradient allreduce makes of this process's gradient
        analytic_gamma = world.allreduce_(share * gamma.grad)
        h, errors = 1e-6, []
        sizes = world.allgather_json(x.size)
        for owner, size in enumerate(sizes):
            for i in range(size):
                plus, minus = x.copy(), x.copy()
                if owner == r:
                    plus.flat[i] += h
                    minus.flat[i] -= h
                numeric = (global_loss(plus) - global_loss(minus)) / (2 * h)
                if owner == r:
                    errors.append(abs(numeric - analytic.flat[i]))
        numeric_gamma = []
        for j in range(2):
            base = gamma.data.copy()
            gamma.data[j] = base[j] + h
            up = global_loss(x)
            gamma.data[j] = base[j] - h
            down = global_loss(x)
            gamma.data[:] = base
            numeric_gamma.append((up - down) / (2 * h))
        result["x_error"], result["gamma_error"] = max(errors), float(np.abs(analytic_gamma - numeric_gamma).max())
        result["x_scale"] = float(np.abs(analytic).max())
    elif scenario == "stream_mismatch":
        if arg == "own_lengths":  # each process its own PyDataset, of 5 and 4 batches
            model("sgd").fit(Batches(cut(x[:90], y[:90], 10)[r::2]), epochs=1, verbose=0)
        elif arg == "data":  # automatic sharding of a PyDataset that differs between the processes
            model("sgd").fit(Batches(cut(x + r, y, 10)), epochs=1, verbose=0)
        elif arg == "own_no_steps":
            model("sgd").fit(iter(cut(x, y, 10)[r::2]), epochs=1, verbose=0)
        elif arg == "syncbn_empty_shard":  # 97 rows in batches of 32: the last global batch has one row
            bn_model(True).fit(*bn_data(False, 97), batch_size=32, epochs=1, verbose=0)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    with open(os.path.join(out, f"rank{r}.json"), "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
