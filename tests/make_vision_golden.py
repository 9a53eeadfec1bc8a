"""Regenerate tests/data/vision_golden.json from PyTorch (run with torch installed).

Usage: ``python tests/make_vision_golden.py`` from the repository root. The cases (inputs,
weights, torch modules and functions) are in tests/layers/vision_torch.py; the file holds
torch's outputs, gradients and running statistics in float64.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    import torch  # only this script needs it (pytest imports the file for doctests)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.layers.vision_torch import torch_results

    torch.set_num_threads(1)
    results = torch_results(torch)
    path = Path(__file__).with_name("data") / "vision_golden.json"
    path.write_text(
        json.dumps({k: {"shape": list(v.shape), "values": v.ravel().tolist()} for k, v in sorted(results.items())})
    )


if __name__ == "__main__":
    main()
