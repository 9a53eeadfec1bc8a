"""Regenerate tests/data/conv_golden.json: PyTorch's convolutions and poolings on fixed float64 inputs.

    python -m tests.make_conv_golden        # from the repository root

The inputs and weights are drawn from fixed seeds (tests/layers/conv_torch.py::case_arrays),
so the file holds only PyTorch's results (output and gradients), rounded to 15 digits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from myelin import backend
from tests.layers.conv_torch import CASES, case_arrays, torch_run


def main() -> None:
    import torch

    torch.set_num_threads(1)
    backend.set_floatx("float64")
    golden = {"torch": torch.__version__}
    for name in CASES:
        result = torch_run(torch, name, case_arrays(name))
        golden[name] = {k: np.round(v, 15).tolist() for k, v in result.items()}
    path = Path(__file__).parent / "data" / "conv_golden.json"
    path.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
