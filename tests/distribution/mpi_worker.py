"""One process of a data-parallel test run: ``mpiexec -n 2 python mpi_worker.py SCENARIO OUTDIR [ARG]``.

Each scenario trains a small float64 network and writes what the test compares (weights,
history, evaluation) to ``OUTDIR/rank<r>.json``. Run without mpiexec it is the one-process
reference for the same scenario. tests/distribution/test_data_parallel.py drives it.
"""

from __future__ import annotations

import json
import os
import signal
import sys

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


def main() -> None:
    scenario, out = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else ""
    myelin.backend.set_floatx("float64")
    distribution.initialize()
    r = distribution.rank()
    if not scenario.startswith("single"):
        distribution.set_distribution(distribution.DataParallel(auto_shard_dataset=scenario != "own_data"))
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
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    with open(os.path.join(out, f"rank{r}.json"), "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
