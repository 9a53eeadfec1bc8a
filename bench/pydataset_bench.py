"""The seed network fed batch by batch (issue 13): myelin's PyDataset, Keras 3's PyDataset, a PyTorch DataLoader.

    python bench/pydataset_bench.py                     # 3 repetitions, 1 thread
    python bench/pydataset_bench.py --threads 0         # the libraries' default threads
    python bench/pydataset_bench.py --reps 5 --n 25600 --keras-python /work/peers/bin/python

The network is the seed program's: Dense 64-64-10 (relu, relu, softmax) on 784 inputs,
Adam, sparse categorical cross-entropy, batch 128. The data is the bench's digits-sized
set (real MNIST digits, tiled, where ``shared/datasets/mnist`` has them; otherwise the
learnable synthetic rule of ``bench/data.py``). Each batch is made by Python code: the
rows of batch ``i`` plus Gaussian noise (sd 0.05) drawn from a generator seeded by the
epoch and ``i`` (the same work in every configuration, also in worker processes):

- myelin: a ``myelin.utils.PyDataset``, ``fit(shuffle=True)``;
- Keras 3 (torch backend, its own venv): the same ``keras.utils.PyDataset``;
- PyTorch: a ``torch.utils.data.Dataset`` returning whole batches, in a ``DataLoader``
  with ``batch_size=None``, ``shuffle=True`` and a plain training loop.

Configurations: ``workers=0`` (batches made in the loop), ``workers=2`` threads (myelin,
Keras) and ``workers=2`` processes (myelin, Keras ``use_multiprocessing=True``, the
DataLoader's ``num_workers=2``). Every (framework, configuration) runs in a fresh process,
in an order rotated each repetition: one warm-up epoch, then ``--epochs`` timed epochs;
samples per second is timed samples over seconds; accuracy is on the clean held-out 20 %.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BATCH = 128
CONFIGS = [("myelin", 0, False), ("myelin", 2, False), ("myelin", 2, True)]
CONFIGS += [("keras", 0, False), ("keras", 2, False), ("keras", 2, True)]
CONFIGS += [("torch", 0, False), ("torch", 2, True)]


def _noisy_batch(x, y, i: int, epoch: int):
    """Batch ``i``: its rows plus noise seeded by (epoch, i): the per-batch transform every framework runs."""
    s = slice(i * BATCH, (i + 1) * BATCH)
    rng = np.random.default_rng((epoch, i))
    return (x[s] + rng.normal(0.0, 0.05, x[s].shape).astype(np.float32)), y[s]


# ---------------------------------------------------------------------------- one measured process
def _worker(framework: str, workers: int, processes: bool, data_path: str, epochs: int, threads: int) -> dict:
    arrays = np.load(data_path)
    x, y, xv, yv = arrays["x"], arrays["y"], arrays["x_val"], arrays["y_val"]
    n_batches = -(-len(x) // BATCH)
    if framework == "torch":
        return _torch_worker(x, y, xv, yv, n_batches, workers, epochs, threads)
    if threads:
        try:
            import threadpoolctl

            threadpoolctl.threadpool_limits(threads)
        except ModuleNotFoundError:  # Keras's venv may lack it: torch's own setting below
            pass
    if framework == "keras":
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        if threads:
            import torch

            torch.set_num_threads(threads)
        base, lib = keras.utils.PyDataset, keras
        keras.utils.set_random_seed(0)
    else:
        import myelin

        base, lib = myelin.utils.PyDataset, myelin
        myelin.utils.set_random_seed(0)

    class Noisy(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.epoch = 0

        def __len__(self):
            return n_batches

        def __getitem__(self, i):
            return _noisy_batch(x, y, i, self.epoch)

        def on_epoch_end(self):
            self.epoch += 1

    layers = lib.layers
    model = lib.Sequential(
        [
            layers.Input(shape=(784,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ds = Noisy(workers=workers, use_multiprocessing=processes, max_queue_size=10)
    model.fit(ds, epochs=1, verbose=0)  # warm-up (myelin records its step here)
    t = time.perf_counter()
    model.fit(ds, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - t
    acc = model.evaluate(xv, yv, verbose=0, return_dict=True)["accuracy"]
    return {"seconds": seconds, "samples_per_s": len(x) * epochs / seconds, "accuracy": float(acc)}


def _torch_worker(x, y, xv, yv, n_batches, workers, epochs, threads) -> dict:
    import torch
    from torch import nn

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)

    class Noisy(torch.utils.data.Dataset):
        epoch = 0

        def __len__(self):
            return n_batches

        def __getitem__(self, i):
            xb, yb = _noisy_batch(x, y, i, self.epoch)
            return torch.from_numpy(xb), torch.from_numpy(yb)

    ds = Noisy()
    net = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def run_epochs(k):
        for _ in range(k):
            loader = torch.utils.data.DataLoader(ds, batch_size=None, shuffle=True, num_workers=workers)
            for xb, yb in loader:
                opt.zero_grad()
                loss_fn(net(xb), yb).backward()
                opt.step()
            ds.epoch += 1

    run_epochs(1)
    t = time.perf_counter()
    run_epochs(epochs)
    seconds = time.perf_counter() - t
    with torch.no_grad():
        acc = (net(torch.from_numpy(xv)).argmax(1).numpy() == yv).mean()
    return {"seconds": seconds, "samples_per_s": len(x) * epochs / seconds, "accuracy": float(acc)}


# ---------------------------------------------------------------------------- the runner
def _data(n: int) -> tuple[Path, str]:
    sys.path.insert(0, str(ROOT))
    from bench.data import DATA_DIR, learnable, load_npz, prepare_digits

    spec, description = prepare_digits(n)
    if spec["kind"] == "npz":
        d, _, _ = load_npz(spec["path"], spec["validation_split"])
    else:
        d = learnable(n, 784, 10, 0, 0.2)
    path = DATA_DIR / f"pydataset_{n}.npz"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=d.x_train, y=d.y_train, x_val=d.x_val, y_val=d.y_val)
    return path, description


def _kernel(python: str) -> str:
    code = (
        "import threadpoolctl, numpy; print(', '.join(f\"{i['internal_api']} {i.get('architecture', '')}\" "
        "for i in threadpoolctl.threadpool_info()))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or "threadpoolctl not installed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n", type=int, default=16000, help="samples (80 %% trained on)")
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    parser.add_argument("--keras-python", default="/work/peers/bin/python", help="an interpreter with keras 3 and torch")
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fw, workers, processes, path, epochs, threads = args.worker
        print(json.dumps(_worker(fw, int(workers), processes == "1", path, int(epochs), int(threads))))
        return
    path, description = _data(args.n)
    pythons = {"myelin": sys.executable, "keras": args.keras_python, "torch": sys.executable}
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=str(ROOT))
    results: dict = {c: [] for c in CONFIGS}
    for rep in range(args.reps):
        order = CONFIGS[rep % len(CONFIGS) :] + CONFIGS[: rep % len(CONFIGS)]
        for config in order:
            fw, workers, processes = config
            cmd = [pythons[fw], str(Path(__file__).resolve()), "--worker", fw, str(workers), str(int(processes))]
            cmd += [str(path), str(args.epochs), str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT))
            if out.returncode != 0:
                print(f"{config} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                continue
            results[config].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"data: {description}; {args.n * 4 // 5:,} training samples, batch {BATCH}, {args.epochs} timed epochs")
    print(f"threads: {args.threads or 'default'}; cores: {os.cpu_count()}; BLAS (myelin's venv): {_kernel(sys.executable)}")
    print()
    print("| framework | data workers | samples/s median (min-max) | myelin / this, same workers (min-max) | val. accuracy |")
    print("|---|---|---|---|---|")
    med = statistics.median
    for config in CONFIGS:
        runs = results[config]
        if not runs:
            continue
        fw, workers, processes = config
        sps = [r["samples_per_s"] for r in runs]
        label = "0" if workers == 0 else f"{workers} {'processes' if processes else 'threads'}"
        mine = results.get(("myelin", workers, processes)) or results.get(("myelin", workers, True))
        ratio = ""
        if fw != "myelin" and mine:
            paired = [m["samples_per_s"] / r["samples_per_s"] for m, r in zip(mine, runs)]  # the same repetition
            ratio = f"{med(paired):.2f} ({min(paired):.2f}-{max(paired):.2f})"
        print(
            f"| {fw} | {label} | {med(sps):,.0f} ({min(sps):,.0f}-{max(sps):,.0f}) | {ratio} "
            f"| {med(r['accuracy'] for r in runs):.3f} |"
        )


if __name__ == "__main__":
    main()
