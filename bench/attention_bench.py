"""A small transformer encoder (issue 16), myelin next to PyTorch in one process, alternating, the same threads.

    python bench/attention_bench.py                  # 5 repetitions, 1 thread
    python bench/attention_bench.py --threads 0      # the libraries' default threads
    python bench/attention_bench.py --reps 3 --steps 10 --epochs 2

Workload ``transformer-encoder``: examples/transformer_reverse.py's network at sequence length
128: Embedding(10 x 64) plus learned position embeddings, two post-norm encoder blocks
(MultiHeadAttention with 4 heads of 16 over width 64, LayerNormalization(epsilon=1e-3), a
ReLU feed-forward 64 -> 128 -> 64, residual connections), Dense(10, softmax) at every
position; batch 32, Adam(1e-3), sparse categorical cross-entropy. The task (reverse a digit
sequence) is learnable: each output position must find one input position by attention.
PyTorch runs the same network: nn.TransformerEncoderLayer(d_model=64, nhead=4,
dim_feedforward=128, dropout=0, layer_norm_eps=1e-3, batch_first=True) twice, the same
embeddings and head.

Each repetition times ``--steps`` training steps of each framework (after a warm-up that
records myelin's replayed step); the table gives the median milliseconds per step with the
spread (min-max), myelin's time over PyTorch's per repetition (median and range), seconds
per epoch of the training set (steps per epoch times the median step), and the held-out
token accuracy each reaches after ``--epochs`` epochs from fresh weights.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

LENGTH, BATCH, N_TRAIN, N_VAL = 128, 32, 2048, 512


def _data(n: int, seed: int):
    x = np.random.default_rng(seed).integers(0, 10, (n, LENGTH))
    return x, x[:, ::-1].copy()


def _myelin_model():
    import transformer_reverse

    import myelin

    myelin.utils.set_random_seed(0)
    return transformer_reverse.build_model(length=LENGTH)


def _torch_model(torch):
    nn = torch.nn
    torch.manual_seed(0)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(10, 64)
            self.positions = nn.Parameter(torch.randn(LENGTH, 64) * 0.05)
            self.blocks = nn.ModuleList(
                [
                    nn.TransformerEncoderLayer(
                        64, 4, dim_feedforward=128, dropout=0.0, layer_norm_eps=1e-3, batch_first=True, norm_first=False
                    )
                    for _ in range(2)
                ]
            )
            self.out = nn.Linear(64, 10)

        def forward(self, x):
            h = self.tokens(x) + self.positions
            for block in self.blocks:
                h = block(h)
            return self.out(h)  # logits; the loss applies log-softmax

    net = Encoder()
    return net, torch.optim.Adam(net.parameters(), lr=1e-3), nn.CrossEntropyLoss()


def _torch_steps(torch, net, opt, loss_fn, x, y, steps: int, start: int = 0):
    net.train()
    for k in range(steps):
        i = ((start + k) * BATCH) % (len(x) - BATCH + 1)
        opt.zero_grad()
        logits = net(x[i : i + BATCH])
        loss = loss_fn(logits.reshape(-1, 10), y[i : i + BATCH].reshape(-1))
        loss.backward()
        opt.step()


def _torch_accuracy(torch, net, x, y) -> float:
    net.eval()
    with torch.no_grad():
        return float((net(x).argmax(-1) == y).float().mean())


def run(reps: int, steps: int, epochs: int) -> dict:
    import torch

    x_tr, y_tr = _data(N_TRAIN, 0)
    x_val, y_val = _data(N_VAL, 1)
    tx, ty = torch.tensor(x_tr), torch.tensor(y_tr)
    model = _myelin_model()
    net, opt, loss_fn = _torch_model(torch)
    span = steps * BATCH
    model.fit(x_tr[:span], y_tr[:span], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)  # warm-up, records the step
    _torch_steps(torch, net, opt, loss_fn, tx, ty, steps)
    times = {"myelin": [], "torch": []}
    for _ in range(reps):
        t = time.perf_counter()
        model.fit(x_tr[:span], y_tr[:span], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        times["myelin"].append((time.perf_counter() - t) / steps * 1000)
        t = time.perf_counter()
        _torch_steps(torch, net, opt, loss_fn, tx, ty, steps)
        times["torch"].append((time.perf_counter() - t) / steps * 1000)
    model = _myelin_model()
    t = time.perf_counter()
    model.fit(x_tr, y_tr, batch_size=BATCH, epochs=epochs, verbose=0)
    fit_myelin = time.perf_counter() - t
    acc_myelin = float((model.predict(x_val, verbose=0).argmax(-1) == y_val).mean())
    net, opt, loss_fn = _torch_model(torch)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(tx))
        _torch_steps(torch, net, opt, loss_fn, tx[perm], ty[perm], len(tx) // BATCH)
    fit_torch = time.perf_counter() - t
    acc_torch = _torch_accuracy(torch, net, torch.tensor(x_val), torch.tensor(y_val))
    return {
        "myelin_ms": times["myelin"],
        "torch_ms": times["torch"],
        "ratio": [m / p for m, p in zip(times["myelin"], times["torch"])],
        "acc": (acc_myelin, acc_torch),
        "fit_s": (fit_myelin / epochs, fit_torch / epochs),
        "compiled": model.compile_status,
    }


def layer_norm_micro(reps: int = 20) -> tuple[float, float]:
    """Milliseconds of one forward + backward of LayerNormalization on (32 * 128, 64): fused primitive, then composed ops."""
    from myelin import Tensor, ops

    gen = np.random.default_rng(0)
    x = Tensor(gen.standard_normal((BATCH * LENGTH, 64)).astype(np.float32), requires_grad=True)
    gamma = Tensor(np.ones(64, np.float32), requires_grad=True)
    beta = Tensor(np.zeros(64, np.float32), requires_grad=True)
    r = Tensor(gen.standard_normal((BATCH * LENGTH, 64)).astype(np.float32))

    def fused():
        (ops.layer_normalization(x, gamma, beta, epsilon=1e-3) * r).sum().backward()

    def composed():
        mean = ops.mean(x, axis=-1, keepdims=True)
        centered = x - mean
        var = ops.mean(centered * centered, axis=-1, keepdims=True)
        (((centered / ops.sqrt(var + 1e-3)) * gamma + beta) * r).sum().backward()

    out = []
    for fn in (fused, composed):
        fn()
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        out.append((time.perf_counter() - t) / reps * 1000)
    return out[0], out[1]


def _kernel() -> str:
    try:
        import threadpoolctl

        infos = threadpoolctl.threadpool_info()
        return ", ".join(f"{i['internal_api']} {i.get('architecture', '')} ({i['num_threads']} threads)" for i in infos) or "?"
    except ModuleNotFoundError:
        return "threadpoolctl not installed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
        try:
            import threadpoolctl

            threadpoolctl.threadpool_limits(args.threads)
        except ModuleNotFoundError:
            pass
    import myelin

    if args.threads:
        myelin.config.set_num_threads(args.threads)  # myelin's own choice would otherwise override the limit in fit
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, myelin from {myelin.__file__}"
    )
    print(f"BLAS: {_kernel()}; cores: {os.cpu_count()}")
    print()
    print(
        "| workload | myelin ms/step (min-max) | PyTorch ms/step (min-max) | myelin / PyTorch (range) "
        "| s/epoch myelin / PyTorch | held-out token accuracy myelin / PyTorch |"
    )
    print("|---|---|---|---|---|---|")
    r = run(args.reps, args.steps, args.epochs)
    med = statistics.median
    print(
        f"| transformer-encoder | {med(r['myelin_ms']):.1f} ({min(r['myelin_ms']):.1f}-{max(r['myelin_ms']):.1f}) "
        f"| {med(r['torch_ms']):.1f} ({min(r['torch_ms']):.1f}-{max(r['torch_ms']):.1f}) "
        f"| {med(r['ratio']):.2f} ({min(r['ratio']):.2f}-{max(r['ratio']):.2f}) "
        f"| {r['fit_s'][0]:.1f} / {r['fit_s'][1]:.1f} | {r['acc'][0]:.3f} / {r['acc'][1]:.3f} |",
        flush=True,
    )
    print(f"  ({r['compiled']})", file=sys.stderr)
    fused, composed = layer_norm_micro()
    print(f"\nLayerNormalization forward + backward on (4096, 64): fused {fused:.2f} ms, composed of ops {composed:.2f} ms")


if __name__ == "__main__":
    main()
