"""Regenerate tests/data/merging_golden.json from PyTorch (run with torch installed).

Usage: ``python tests/make_merging_golden.py``. Inputs are drawn by NumPy's seeded generator as
in tests/layers/test_merging.py; for each merge the file holds the output and the gradient of
``sum(2 * out)`` with respect to every input, in float64.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _ops(torch) -> dict:
    return {
        "Add": (lambda t: t[0] + t[1] + t[2], 3),
        "Subtract": (lambda t: torch.sub(t[0], t[1]), 2),
        "Multiply": (lambda t: t[0] * t[1] * t[2], 3),
        "Average": (lambda t: (t[0] + t[1] + t[2]) / 3, 3),
        "Maximum": (lambda t: torch.maximum(torch.maximum(t[0], t[1]), t[2]), 3),
        "Minimum": (lambda t: torch.minimum(torch.minimum(t[0], t[1]), t[2]), 3),
    }


def main() -> None:
    import torch  # only this script needs it (pytest imports the file for doctests)

    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((1, 4))]
    out = {"inputs": [x.tolist() for x in inputs]}
    for name, (fn, n) in _ops(torch).items():
        ts = [torch.tensor(x, requires_grad=True) for x in inputs[:n]]
        y = fn(ts)
        (y * 2.0).sum().backward()
        out[name] = {"output": y.detach().numpy().tolist(), "grads": [t.grad.numpy().tolist() for t in ts]}
    Path(__file__).with_name("data").mkdir(exist_ok=True)
    Path(__file__).with_name("data").joinpath("merging_golden.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main()
