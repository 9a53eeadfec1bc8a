"""Regenerate tests/data/attention_golden.json: PyTorch's MultiheadAttention and norms on fixed float64 inputs.

    python -m tests.make_attention_golden        # from the repository root (needs torch)

The inputs and weights come from fixed seeds (tests/layers/attention_torch.py), so the file
holds only PyTorch's results.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.layers.attention_torch import mha_arrays, mha_torch, norm_arrays, norm_torch


def main() -> None:
    import torch

    torch.set_num_threads(1)
    golden = {"torch": torch.__version__}
    for case in ("self", "causal", "cross"):
        golden[f"mha_{case}"] = {k: v.tolist() for k, v in mha_torch(torch, case, mha_arrays(case)).items()}
    for kind in ("layer_norm", "rms_norm", "normalize"):
        golden[kind] = {k: v.tolist() for k, v in norm_torch(torch, kind, norm_arrays()).items()}
    path = Path(__file__).parent / "data" / "attention_golden.json"
    path.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
