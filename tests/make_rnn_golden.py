"""Regenerate tests/data/rnn_golden.json: PyTorch's LSTM, GRU and RNN on fixed float64 inputs.

    python -m tests.make_rnn_golden        # from the repository root

The inputs and weights are drawn from fixed seeds (tests/layers/rnn_torch.py::case_arrays),
so the file holds only PyTorch's results.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.layers.rnn_torch import case_arrays, torch_bidirectional_lstm, torch_run


def main() -> None:
    import torch  # only this script needs it (pytest imports the file for doctests; torch may be absent)

    torch.set_num_threads(1)
    golden = {"torch": torch.__version__}
    for kind in ("lstm", "gru", "simple_rnn"):
        for backwards in (False, True):
            result = torch_run(torch, kind, case_arrays(kind), go_backwards=backwards)
            golden[f"{kind}{'_backwards' if backwards else ''}"] = {k: v.tolist() for k, v in result.items()}
    golden["bidirectional_lstm"] = torch_bidirectional_lstm(torch, case_arrays("lstm")).tolist()
    path = Path(__file__).parent / "data" / "rnn_golden.json"
    path.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
