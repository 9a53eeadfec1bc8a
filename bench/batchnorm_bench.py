"""Batch normalization (issue 15): myelin's fused primitive, the same layer composed of small ops, and PyTorch.

    python bench/batchnorm_bench.py                  # 1 thread, 7 repetitions
    python bench/batchnorm_bench.py --threads 0      # the libraries' default threads

Two measurements, each repetition running every contender in turn (interleaved):

- ``layer``: one training-mode forward and backward of batch normalization on images, (128,
  16, 16, 32) channels_last and (128, 32, 16, 16) channels_first, float32. Contenders: the
  ``BatchNorm`` primitive (``myelin.ops.batchnorm``, what ``layers.BatchNormalization``
  runs), the same computation written with ``ops.nn.moments`` and
  ``ops.nn.batch_normalization`` (each step a primitive, gradients by the chain rule), and
  ``torch.nn.BatchNorm2d`` (channels first).
- ``mlp``: training a Dense(256) -> BatchNormalization -> relu -> Dense(256) ->
  BatchNormalization -> relu -> Dense(10) classifier on 20,000 samples of 64 features from 10
  Gaussian clusters (learnable: both reach ~99% held-out accuracy), batch 128, Adam; myelin's
  ``fit`` (the compiled, replayed step) against the same network in PyTorch. Accuracy on
  5,000 held-out samples is reported beside the time.

The table gives median milliseconds (min-max) and myelin's time over the other's per
repetition (median and range).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _fused(x_np, gamma, beta, mean, var):
    from myelin import Tensor
    from myelin.ops.batchnorm import batch_norm

    x = Tensor(x_np, requires_grad=True)
    y = batch_norm(x, mean, var, gamma, beta, axis=_AXIS[0], training=True)
    y.backward(_SEED[0])
    return x.grad


def _composed(x_np, gamma, beta, mean, var):
    from myelin import Tensor, ops

    x = Tensor(x_np, requires_grad=True)
    axis = _AXIS[0] % x_np.ndim
    axes = [i for i in range(x_np.ndim) if i != axis]
    m, v = ops.nn.moments(x, axes=axes)
    y = ops.nn.batch_normalization(x, m, v, axis=axis, offset=beta, scale=gamma, epsilon=1e-3)
    mean.data[...] = mean.data * 0.99 + m.data * 0.01
    var.data[...] = var.data * 0.99 + v.data * 0.01
    y.backward(_SEED[0])
    return x.grad


_AXIS = [-1]
_SEED = [None]  # the output gradient (ones), made once per shape as torch's is


def _layer_case(layout: str, shape: tuple, axis: int, reps: int, inner: int) -> dict:
    import torch

    from myelin import Tensor

    _AXIS[0] = axis
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 2 + 1
    _SEED[0] = np.ones_like(x)
    c = shape[axis]
    gamma, beta = Tensor(np.ones(c, np.float32), requires_grad=True), Tensor(np.zeros(c, np.float32), requires_grad=True)
    mean, var = Tensor(np.zeros(c, np.float32)), Tensor(np.ones(c, np.float32))
    bn = torch.nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)
    xt = torch.tensor(x if layout == "channels_first" else np.ascontiguousarray(np.moveaxis(x, -1, 1)), requires_grad=True)
    ones = torch.ones_like(xt)

    def torch_step():
        xt.grad = None
        bn(xt).backward(ones)

    contenders = {
        "fused": lambda: _fused(x, gamma, beta, mean, var),
        "composed": lambda: _composed(x, gamma, beta, mean, var),
        "torch": torch_step,
    }
    for fn in contenders.values():  # warm-up
        fn()
    times = {k: [] for k in contenders}
    for _ in range(reps):
        for name, fn in contenders.items():
            t = time.perf_counter()
            for _ in range(inner):
                fn()
            times[name].append((time.perf_counter() - t) / inner * 1000)
    return {"what": f"layer {layout} {shape}", "times": times}


def layer_bench(reps: int, inner: int) -> list[dict]:
    return [
        _layer_case(layout, shape, axis, reps, inner)
        for layout, shape, axis in (("channels_last", (128, 16, 16, 32), -1), ("channels_first", (128, 32, 16, 16), 1))
    ]


def _clusters(n: int, seed: int = 0):
    gen = np.random.default_rng(seed)
    centres = np.random.default_rng(99).standard_normal((10, 64)) * 0.6
    y = gen.integers(0, 10, n)
    x = (centres[y] + gen.standard_normal((n, 64))).astype(np.float32) * 3 + 5  # BN has scale and offset to undo
    return x, y


def mlp_bench(reps: int, epochs: int) -> list[dict]:
    import torch

    import myelin
    from myelin import layers

    x, y = _clusters(25000)
    x_tr, y_tr, x_val, y_val = x[:20000], y[:20000], x[20000:], y[20000:]
    myelin.utils.set_random_seed(0)
    model = myelin.Sequential(
        [
            myelin.Input(shape=(64,)),
            layers.Dense(256),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dense(256),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(
        nn.Linear(64, 256), nn.BatchNorm1d(256, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.Linear(256, 256), nn.BatchNorm1d(256, eps=1e-3, momentum=0.01), nn.ReLU(), nn.Linear(256, 10),
    )  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    tx, ty = torch.tensor(x_tr), torch.tensor(y_tr)
    loss_fn = nn.CrossEntropyLoss()

    def torch_epoch():
        net.train()
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), 128):
            idx = perm[i : i + 128]
            opt.zero_grad()
            loss_fn(net(tx[idx]), ty[idx]).backward()
            opt.step()

    model.fit(x_tr[:1280], y_tr[:1280], batch_size=128, epochs=1, verbose=0)  # warm-up, records the step
    torch_epoch()
    times = {"myelin": [], "torch": []}
    steps = -(-len(x_tr) // 128)
    for _ in range(reps):
        t = time.perf_counter()
        model.fit(x_tr, y_tr, batch_size=128, epochs=epochs, verbose=0)
        times["myelin"].append((time.perf_counter() - t) / (epochs * steps) * 1000)
        t = time.perf_counter()
        for _ in range(epochs):
            torch_epoch()
        times["torch"].append((time.perf_counter() - t) / (epochs * steps) * 1000)
    acc = model.evaluate(x_val, y_val, verbose=0, return_dict=True)["accuracy"]
    net.eval()
    with torch.no_grad():
        acc_t = float((net(torch.tensor(x_val)).argmax(1).numpy() == y_val).mean())
    return [
        {
            "what": "mlp step (batch 128)",
            "times": times,
            "acc": {"myelin": acc, "torch": acc_t},
            "status": model.compile_status,
        }
    ]


def _kernel() -> str:
    try:
        import threadpoolctl

        infos = threadpoolctl.threadpool_info()
        return ", ".join(f"{i['internal_api']} {i.get('architecture', '')} ({i['num_threads']} threads)" for i in infos) or "?"
    except ModuleNotFoundError:
        return "threadpoolctl not installed"


def _fmt(values) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--inner", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
        import threadpoolctl

        threadpoolctl.threadpool_limits(args.threads)
    threads = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    print(f"threads: {args.threads or 'default'}; BLAS: {_kernel()}; {threads}")
    rows = layer_bench(args.reps, args.inner) + mlp_bench(args.reps, args.epochs)
    for row in rows:
        times = row["times"]
        mine = times.get("myelin", times.get("fused"))
        cells = [f"{name} {_fmt(t)} ms" for name, t in times.items()]
        ratios = [
            f"{'myelin' if 'myelin' in times else 'fused'}/{name} {_fmt([a / b for a, b in zip(mine, t)])}"
            for name, t in times.items()
            if t is not mine
        ]
        extra = f"; accuracy {row['acc']}; {row['status']}" if "acc" in row else ""
        print(f"{row['what']}: {'; '.join(cells)}; ratios {'; '.join(ratios)}{extra}")


if __name__ == "__main__":
    main()
