"""Recurrent workloads (issue 16), myelin next to PyTorch in one process, alternating, the same threads.

    python bench/rnn_bench.py                    # both workloads, 5 repetitions, 1 thread
    python bench/rnn_bench.py --threads 0        # the libraries' default threads
    python bench/rnn_bench.py --reps 3 --steps 10

Workloads:
- ``text-lstm``: an LSTM text classifier, Embedding(20,000 x 128) -> LSTM(64) -> Dense(1,
  sigmoid), sequences of 200 token ids, batch 64, Adam, binary cross-entropy. The data is
  learnable: each text holds 11 "sentiment" ids at random places among its last 40 (1-50
  positive, 51-100 negative) and random ids up to 20,000 elsewhere; the label is the majority.
- ``addition-rnn``: Keras's addition_rnn network (LSTM(128) -> RepeatVector(4) ->
  LSTM(128, return_sequences) -> Dense(12, softmax)) on its data (3-digit sums), batch 32.

Each repetition times ``--steps`` training steps of each framework (after a warm-up that
records myelin's replayed step); the table gives the median milliseconds per step, the
spread (min-max), myelin's time over PyTorch's per repetition (median and range), and the
accuracy each reaches after the same short training on held-out data.
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


def _text_data(n: int, seed: int = 0):
    gen = np.random.default_rng(seed)
    x = gen.integers(101, 20000, size=(n, 200))
    # 11 "sentiment" words per text at random places among the last 40: ids 1-50 positive, 51-100 negative.
    places = 160 + np.argsort(gen.random((n, 40)), axis=1)[:, :11]
    words = gen.integers(1, 101, size=(n, 11))
    np.put_along_axis(x, places, words, axis=1)
    y = ((words <= 50).sum(1) > 5).astype(np.float32)
    return x, y


def _addition_data(n: int):
    import addition_rnn

    questions, expected = addition_rnn.make_data(n, 3, reverse=True)
    table = addition_rnn.CharacterTable("0123456789+ ")
    x = np.stack([table.encode(q, 7) for q in questions]).astype(np.float32)
    y = np.stack([table.encode(a, 4) for a in expected]).astype(np.float32)
    return x, y


def _myelin_model(workload: str):
    import myelin
    from myelin import layers

    myelin.utils.set_random_seed(0)
    if workload == "text-lstm":
        model = myelin.Sequential(
            [myelin.Input(shape=(200,)), layers.Embedding(20000, 128), layers.LSTM(64), layers.Dense(1, activation="sigmoid")]
        )
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    else:
        model = myelin.Sequential(
            [
                myelin.Input(shape=(7, 12)),
                layers.LSTM(128),
                layers.RepeatVector(4),
                layers.LSTM(128, return_sequences=True),
                layers.Dense(12, activation="softmax"),
            ]
        )
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return model


def _torch_model(torch, workload: str):
    nn = torch.nn
    torch.manual_seed(0)

    class Text(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.lstm, self.out = nn.Embedding(20000, 128), nn.LSTM(128, 64, batch_first=True), nn.Linear(64, 1)

        def forward(self, x):
            _, (h, _) = self.lstm(self.emb(x))
            return self.out(h[0]).squeeze(1)

    class Adder(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = nn.LSTM(12, 128, batch_first=True), nn.LSTM(128, 128, batch_first=True)
            self.out = nn.Linear(128, 12)

        def forward(self, x):
            _, (h, _) = self.enc(x)
            seq, _ = self.dec(h[0].unsqueeze(1).expand(-1, 4, -1))
            return self.out(seq)  # logits; the loss applies log-softmax

    net = Text() if workload == "text-lstm" else Adder()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    if workload == "text-lstm":
        loss_fn = nn.BCEWithLogitsLoss()
    else:

        def loss_fn(logits, y):
            return -(torch.log_softmax(logits, -1) * y).sum(-1).mean()

    return net, opt, loss_fn


def _torch_steps(torch, net, opt, loss_fn, x, y, batch: int, steps: int):
    for k in range(steps):
        i = (k * batch) % (len(x) - batch + 1)
        opt.zero_grad()
        loss = loss_fn(net(x[i : i + batch]), y[i : i + batch])
        loss.backward()
        opt.step()


def _torch_accuracy(torch, net, workload, x, y) -> float:
    with torch.no_grad():
        out = net(x)
    if workload == "text-lstm":
        return float(((out > 0).float() == y).float().mean())
    return float((out.argmax(-1) == y.argmax(-1)).float().mean())


def run(workload: str, reps: int, steps: int, epochs: int) -> dict:
    import torch

    batch = 64 if workload == "text-lstm" else 32
    x, y = _text_data(4096 + 1024) if workload == "text-lstm" else _addition_data(20000 + 2000)
    n_train = 4096 if workload == "text-lstm" else 20000
    (x_tr, y_tr), (x_val, y_val) = (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
    xf_tr = x_tr.astype(np.float32)
    tx_tr = torch.tensor(x_tr)
    ty_tr = torch.tensor(y_tr)
    model = _myelin_model(workload)
    net, opt, loss_fn = _torch_model(torch, workload)
    span = steps * batch
    model.fit(xf_tr[:span], y_tr[:span], batch_size=batch, epochs=1, verbose=0, shuffle=False)  # warm-up, records the step
    _torch_steps(torch, net, opt, loss_fn, tx_tr, ty_tr, batch, steps)
    times = {"myelin": [], "torch": []}
    for _ in range(reps):
        t = time.perf_counter()
        model.fit(xf_tr[:span], y_tr[:span], batch_size=batch, epochs=1, verbose=0, shuffle=False)
        times["myelin"].append((time.perf_counter() - t) / steps * 1000)
        t = time.perf_counter()
        _torch_steps(torch, net, opt, loss_fn, tx_tr, ty_tr, batch, steps)
        times["torch"].append((time.perf_counter() - t) / steps * 1000)
    # Accuracy after the same short training from fresh weights: epochs over the training set.
    model = _myelin_model(workload)
    t = time.perf_counter()
    model.fit(xf_tr, y_tr, batch_size=batch, epochs=epochs, verbose=0)
    fit_myelin = time.perf_counter() - t
    acc_myelin = model.evaluate(x_val.astype(np.float32), y_val, verbose=0, return_dict=True)["accuracy"]
    net, opt, loss_fn = _torch_model(torch, workload)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(tx_tr))
        _torch_steps(torch, net, opt, loss_fn, tx_tr[perm], ty_tr[perm], batch, len(tx_tr) // batch)
    fit_torch = time.perf_counter() - t
    acc_torch = _torch_accuracy(torch, net, workload, torch.tensor(x_val), torch.tensor(y_val))
    ratios = [m / p for m, p in zip(times["myelin"], times["torch"])]
    return {
        "workload": workload,
        "myelin_ms": times["myelin"],
        "torch_ms": times["torch"],
        "ratio": ratios,
        "acc": (acc_myelin, acc_torch),
        "fit_s": (fit_myelin, fit_torch),
        "compiled": model.compile_status,
    }


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
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="0: the libraries' defaults")
    parser.add_argument("--workloads", default="text-lstm,addition-rnn")
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

    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, myelin from {myelin.__file__}"
    )
    print(f"BLAS: {_kernel()}; cores: {os.cpu_count()}")
    print()
    print(
        "| workload | myelin ms/step (min-max) | PyTorch ms/step (min-max) | myelin / PyTorch (range) "
        "| val. accuracy myelin / PyTorch | fit s myelin / PyTorch |"
    )
    print("|---|---|---|---|---|---|")
    for workload in args.workloads.split(","):
        r = run(workload, args.reps, args.steps, args.epochs)
        med = statistics.median
        print(
            f"| {workload} | {med(r['myelin_ms']):.1f} ({min(r['myelin_ms']):.1f}-{max(r['myelin_ms']):.1f}) "
            f"| {med(r['torch_ms']):.1f} ({min(r['torch_ms']):.1f}-{max(r['torch_ms']):.1f}) "
            f"| {med(r['ratio']):.2f} ({min(r['ratio']):.2f}-{max(r['ratio']):.2f}) "
            f"| {r['acc'][0]:.3f} / {r['acc'][1]:.3f} | {r['fit_s'][0]:.1f} / {r['fit_s'][1]:.1f} |",
            flush=True,
        )
        print(f"  ({r['compiled']})", file=sys.stderr)


if __name__ == "__main__":
    main()
