"""Floating-point operations of the benchmark's workloads, and NumPy's measured matmul peak.

Only matrix products are counted (they are all but a few percent of the arithmetic): a product
of an (m, k) and a (k, n) matrix costs ``2·m·k·n`` operations. For a dense network with layer
sizes ``n_0, n_1, ..., n_L`` and a batch of ``B`` samples:

- forward: ``2·B·Σ n_{i-1}·n_i``
- backward: twice the forward (a weight gradient ``aᵀ·δ`` and an input gradient ``δ·Wᵀ`` per
  layer), less the first layer's input gradient ``2·B·n_0·n_1`` (nobody needs the gradient of
  the data)
- a training step is forward + backward = ``3·F − 2·B·n_0·n_1`` with ``F`` the forward cost;
  a validation or predict step is the forward alone.
"""

from __future__ import annotations

import itertools
import time


def forward_flops(sizes: list[int] | tuple[int, ...], batch: int = 1) -> int:
    """Matmul FLOPs of a forward pass of ``batch`` samples through a dense network ``sizes``.

    Example:
        >>> forward_flops([784, 64, 64, 10])
        109824
    """
    if len(sizes) < 2:
        raise ValueError(f"a network needs at least two sizes (inputs and outputs), got {list(sizes)}")
    return 2 * batch * sum(a * b for a, b in itertools.pairwise(sizes))


def train_flops(sizes: list[int] | tuple[int, ...], batch: int = 1) -> int:
    """Matmul FLOPs of one training step (forward and backward) on ``batch`` samples.

    Example:
        >>> train_flops([784, 64, 64, 10])  # 3 * 109824 - 2 * 784 * 64
        229120
    """
    return 3 * forward_flops(sizes, batch) - 2 * batch * sizes[0] * sizes[1]


def epoch_flops(sizes: list[int] | tuple[int, ...], n_train: int, n_val: int = 0) -> int:
    """Matmul FLOPs of an epoch: training on ``n_train`` samples, then a forward pass over ``n_val``.

    Example:
        >>> round(epoch_flops([784, 64, 64, 10], 48_000, 12_000) / 1e9, 2)  # the seed MNIST program
        12.32
    """
    return train_flops(sizes, n_train) + forward_flops(sizes, n_val)


def step_shapes(sizes: list[int] | tuple[int, ...], batch: int) -> list[tuple[int, int, int]]:
    """The ``(m, k, n)`` shapes of every matrix product in one training step.

    Example:
        >>> step_shapes([4, 3, 2], 5)
        [(5, 4, 3), (5, 3, 2), (3, 5, 2), (5, 2, 3), (4, 5, 3)]
    """
    pairs = list(itertools.pairwise(sizes))
    shapes = [(batch, a, b) for a, b in pairs]  # forward: x @ W
    for i in reversed(range(len(pairs))):
        a, b = pairs[i]
        shapes.append((a, batch, b))  # weight gradient: xᵀ @ δ
        if i > 0:
            shapes.append((batch, b, a))  # input gradient: δ @ Wᵀ
    return shapes


def matmul_gflops(shapes: list[tuple[int, int, int]], min_seconds: float = 0.2, repeats: int = 3) -> float:
    """NumPy's float32 GFLOP/s running the products ``shapes`` in turn (best of ``repeats`` timings).

    Each timing runs the whole list of products as many times as fit in ``min_seconds``, writing
    into preallocated outputs, so it measures the BLAS at exactly these shapes.

    Example:
        >>> matmul_gflops([(64, 64, 64)], min_seconds=0.01, repeats=1) > 0
        True
    """
    import numpy as np

    rng = np.random.default_rng(0)
    operands = []
    for m, k, n in shapes:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.random((k, n), dtype=np.float32)
        operands.append((a, b, np.empty((m, n), dtype=np.float32)))
    flops_per_round = sum(2 * m * k * n for m, k, n in shapes)

    def one_round():
        for a, b, out in operands:
            np.matmul(a, b, out=out)

    one_round()  # warm the caches and the BLAS's thread pool
    start = time.perf_counter()
    rounds = 0
    while time.perf_counter() - start < min_seconds / 4 or rounds < 1:
        one_round()
        rounds += 1
    per_round = (time.perf_counter() - start) / rounds
    rounds = max(1, int(min_seconds / max(per_round, 1e-9)))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            one_round()
        best = min(best, (time.perf_counter() - start) / rounds)
    return flops_per_round / best / 1e9
