"""Regenerate tests/data/torch_golden.json: PyTorch's results for every case of tests/torch_cases.py.

Run it from the repository root where torch is installed (``pip install ".[torch]"``):

    python -m tests.make_torch_golden

The file records the torch version that produced it. tests/test_torch_golden.py checks
myelin against the file everywhere and, where torch is installed, the file against torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent / "data" / "torch_golden.json"


def encode(value) -> dict:
    """An array as its shape and its values in row-major order (floats written exactly, as repr does)."""
    a = np.asarray(value, dtype=np.float64)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def decode(entry: dict) -> np.ndarray:
    return np.asarray(entry["values"], dtype=np.float64).reshape(entry["shape"])


def load() -> dict:
    """The committed golden values: {"torch_version": ..., "cases": {case: {key: array}}}."""
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    cases = {name: {k: decode(v) for k, v in entry.items()} for name, entry in data["cases"].items()}
    return {"torch_version": data["torch_version"], "cases": cases}


def generate(torch) -> dict:
    from tests.torch_cases import CASES

    torch.set_num_threads(1)
    cases = {}
    for name, (_, theirs, *_rest) in CASES.items():
        cases[name] = {k: encode(v) for k, v in theirs(torch).items()}
    return {"torch_version": torch.__version__, "generated_by": "tests/make_torch_golden.py", "cases": cases}


def main() -> int:
    import torch

    data = generate(torch)
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(data['cases'])} cases from torch {data['torch_version']} to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
