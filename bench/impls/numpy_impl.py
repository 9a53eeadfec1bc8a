"""The hand-written NumPy reference: float32, every buffer allocated once, Adam over one flat buffer.

This is what a NumPy engine can reach without tricks beyond care: ``out=`` everywhere, the
softmax and cross-entropy gradient fused (``p - y``), no gradient for the data batch, one set
of buffers per batch size, and a relu mask kept in a preallocated boolean array.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from . import epoch_logs


def configure(threads: int) -> None:
    """Nothing to set here: NumPy's BLAS takes its thread count from OPENBLAS_NUM_THREADS."""


def versions() -> dict:
    return {"numpy": np.__version__}


class Buffers:
    """Everything one step at batch size ``b`` writes into."""

    def __init__(self, sizes, b: int):
        self.x = np.empty((b, sizes[0]), np.float32)
        self.y = np.empty(b, np.int64)
        self.acts = [np.empty((b, n), np.float32) for n in sizes[1:]]
        self.deltas = [np.empty((b, n), np.float32) for n in sizes[1:-1]]
        self.masks = [np.empty((b, n), np.bool_) for n in sizes[1:-1]]
        self.row = np.empty((b, 1), np.float32)
        self.rows = np.arange(b)


class Trainer:
    def __init__(self, sizes, lr: float, seed: int):
        self.sizes = list(sizes)
        pairs = list(itertools.pairwise(sizes))
        total = sum(a * b + b for a, b in pairs)
        self.flat = np.zeros(total, np.float32)  # all parameters; W and b are views into it
        self.grad = np.zeros(total, np.float32)
        self.m = np.zeros(total, np.float32)
        self.v = np.zeros(total, np.float32)
        self.tmp = np.zeros(total, np.float32)
        self.W, self.b, self.gW, self.gb = [], [], [], []
        rng = np.random.default_rng(seed)
        at = 0
        for a, b in pairs:
            for store, grads, shape in ((self.W, self.gW, (a, b)), (self.b, self.gb, (b,))):
                size = int(np.prod(shape))
                store.append(self.flat[at : at + size].reshape(shape))
                grads.append(self.grad[at : at + size].reshape(shape))
                at += size
            limit = np.sqrt(6.0 / (a + b))  # Glorot uniform, as Keras's Dense
            self.W[-1][...] = rng.uniform(-limit, limit, (a, b))
        self.lr, self.beta1, self.beta2, self.eps = np.float32(lr), 0.9, 0.999, 1e-7  # Keras's Adam
        self.t = 0
        self.rng = np.random.default_rng(seed)
        self._buffers: dict[int, Buffers] = {}

    def buffers(self, b: int) -> Buffers:
        if b not in self._buffers:
            self._buffers[b] = Buffers(self.sizes, b)
        return self._buffers[b]

    def forward(self, x, buf: Buffers) -> np.ndarray:
        """Softmax probabilities of ``x`` (written into ``buf.acts[-1]``)."""
        a = x
        last = len(self.W) - 1
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            z = buf.acts[i]
            np.matmul(a, w, out=z)
            z += b
            if i < last:
                np.maximum(z, 0, out=z)
            a = z
        np.max(a, axis=1, keepdims=True, out=buf.row)
        a -= buf.row
        np.exp(a, out=a)
        np.sum(a, axis=1, keepdims=True, out=buf.row)
        a /= buf.row
        return a

    def step(self, x, y, buf: Buffers) -> tuple[float, int]:
        """One Adam step on the batch (x, y); returns its summed loss and correct count."""
        p = self.forward(x, buf)
        n = len(y)
        rows = buf.rows[:n]
        picked = p[rows, y]
        loss = -float(np.log(np.maximum(picked, 1e-7)).sum())
        correct = int((p.argmax(axis=1) == y).sum())
        d = p  # the fused softmax + cross-entropy gradient, (p - onehot) / n, in place
        d[rows, y] -= 1.0
        d *= np.float32(1.0 / n)
        for i in range(len(self.W) - 1, -1, -1):
            a_prev = x if i == 0 else buf.acts[i - 1]
            np.matmul(a_prev.T, d, out=self.gW[i])
            np.sum(d, axis=0, out=self.gb[i])
            if i:
                d_prev = buf.deltas[i - 1]
                np.matmul(d, self.W[i].T, out=d_prev)
                np.greater(buf.acts[i - 1], 0, out=buf.masks[i - 1])
                np.multiply(d_prev, buf.masks[i - 1], out=d_prev)
                d = d_prev
        self.adam()
        return loss, correct

    def adam(self) -> None:
        """Keras's Adam over the flat buffer: about ten vectorised in-place operations."""
        self.t += 1
        b1, b2, g, m, v, tmp = self.beta1, self.beta2, self.grad, self.m, self.v, self.tmp
        m *= np.float32(b1)
        np.multiply(g, np.float32(1 - b1), out=tmp)
        m += tmp
        v *= np.float32(b2)
        np.multiply(g, g, out=tmp)
        tmp *= np.float32(1 - b2)
        v += tmp
        lr_t = np.float32(self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        np.sqrt(v, out=tmp)
        tmp += np.float32(self.eps)
        np.divide(m, tmp, out=tmp)
        tmp *= lr_t
        self.flat -= tmp

    def _evaluate(self, x, y, batch: int) -> tuple[float, int]:
        loss, correct = 0.0, 0
        for i in range(0, len(y), batch):
            xb, yb = x[i : i + batch], y[i : i + batch]
            buf = self.buffers(len(yb))
            p = self.forward(xb, buf)
            loss -= float(np.log(np.maximum(p[buf.rows[: len(yb)], yb], 1e-7)).sum())
            correct += int((p.argmax(axis=1) == yb).sum())
        return loss, correct

    def fit(self, data, batch: int, epochs: int):
        x, y, n = data.x_train, data.y_train, data.n_train
        seconds, logs = [], {}
        for _ in range(epochs):
            start = time.perf_counter()
            perm = self.rng.permutation(n)
            loss, correct = 0.0, 0
            for i in range(0, n, batch):
                idx = perm[i : i + batch]
                buf = self.buffers(len(idx))
                np.take(x, idx, axis=0, out=buf.x)  # gather the batch into its buffer
                np.take(y, idx, out=buf.y)
                batch_loss, batch_correct = self.step(buf.x, buf.y, buf)
                loss += batch_loss
                correct += batch_correct
            val_loss, val_correct = self._evaluate(data.x_val, data.y_val, batch)
            seconds.append(time.perf_counter() - start)
            logs = epoch_logs(loss, correct, n, val_loss, val_correct, len(data.y_val))
        return seconds, logs

    def predict(self, x, batch: int):
        x = np.asarray(x, np.float32)
        out = np.empty((len(x), self.sizes[-1]), np.float32)
        for i in range(0, len(x), batch):
            xb = x[i : i + batch]
            out[i : i + len(xb)] = self.forward(xb, self.buffers(len(xb)))
        return out


def make(variant: str, sizes, lr: float, seed: int) -> Trainer:
    return Trainer(sizes, lr, seed)
