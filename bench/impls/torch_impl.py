"""PyTorch (2.13.0, CPU): eager mode with manual batching, and the same loop fed by a DataLoader."""

from __future__ import annotations

import contextlib
import itertools
import time

import numpy as np
import torch
from torch import nn


def configure(threads: int) -> None:
    if not threads:  # 0: torch's own default (one thread per core)
        return
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # allowed only before the first parallel work
        torch.set_num_interop_threads(1)


def versions() -> dict:
    return {"torch": torch.__version__, "numpy": np.__version__, "torch_threads": torch.get_num_threads()}


class Trainer:
    """``nn.Sequential`` of ``nn.Linear`` + ``nn.ReLU``, ``CrossEntropyLoss`` on logits, ``torch.optim.Adam``."""

    def __init__(self, sizes, lr: float, seed: int, dataloader: bool):
        torch.manual_seed(seed)
        modules: list[nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            modules += [nn.Linear(a, b), nn.ReLU()]
        self.model = nn.Sequential(*modules[:-1])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()
        self.generator = torch.Generator().manual_seed(seed)
        self.dataloader = dataloader
        self._tensors: tuple = (None, None)

    def _data(self, data):
        if self._tensors[0] is not data:  # torch.from_numpy shares the memory: no copy
            self._tensors = (data, (torch.from_numpy(data.x), torch.from_numpy(data.y)))
        return self._tensors[1]

    def _train_batches(self, x, y, batch):
        if self.dataloader:
            dataset = torch.utils.data.TensorDataset(x, y)
            yield from torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, generator=self.generator)
            return
        perm = torch.randperm(len(x), generator=self.generator)
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            yield x[idx], y[idx]

    def _val_batches(self, x, y, batch):
        if self.dataloader:
            yield from torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch)
            return
        for i in range(0, len(x), batch):
            yield x[i : i + batch], y[i : i + batch]

    def fit(self, data, batch: int, epochs: int):
        x, y = self._data(data)
        n = data.n_train
        x_train, y_train, x_val, y_val = x[:n], y[:n], x[n:], y[n:]
        seconds, logs = [], {}
        for _ in range(epochs):
            start = time.perf_counter()
            self.model.train()
            loss_sum = torch.zeros(())
            correct = torch.zeros((), dtype=torch.int64)
            for xb, yb in self._train_batches(x_train, y_train, batch):
                out = self.model(xb)
                loss = self.loss_fn(out, yb)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                with torch.no_grad():
                    loss_sum += loss * len(yb)
                    correct += (out.argmax(1) == yb).sum()
            self.model.eval()
            val_loss = torch.zeros(())
            val_correct = torch.zeros((), dtype=torch.int64)
            with torch.inference_mode():
                for xb, yb in self._val_batches(x_val, y_val, batch):
                    out = self.model(xb)
                    val_loss += self.loss_fn(out, yb) * len(yb)
                    val_correct += (out.argmax(1) == yb).sum()
            logs = {
                "loss": float(loss_sum) / n,
                "accuracy": int(correct) / n,
                "val_loss": float(val_loss) / max(len(y_val), 1),
                "val_accuracy": int(val_correct) / max(len(y_val), 1),
            }
            seconds.append(time.perf_counter() - start)
        return seconds, logs

    def predict(self, x, batch: int):
        self.model.eval()
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        with torch.inference_mode():
            if len(xt) <= batch:
                return self.model(xt).numpy()
            return torch.cat([self.model(xt[i : i + batch]) for i in range(0, len(xt), batch)]).numpy()


def make(variant: str, sizes, lr: float, seed: int) -> Trainer:
    return Trainer(sizes, lr, seed, dataloader=variant == "torch-dataloader")
