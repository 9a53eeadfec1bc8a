"""Regenerate the golden files of the test modules that declare ``TORCH_CASES`` (tests/golden.py).

    python -m tests.make_torch_twins_golden            # every module, from the repository root (needs torch)
    python -m tests.make_torch_twins_golden tests.test_losses_more

Each module's cases draw their inputs from fixed seeds, so a file holds only PyTorch's results
(float64, written exactly) and the torch version that produced them. torch is imported only in
``main``: pytest imports this file for its doctests where torch is absent.
"""

from __future__ import annotations

import importlib
import sys

from tests import golden

# the modules whose TORCH_CASES are checked against a committed file (add a new one here)
MODULES = (
    "tests.test_activations_more",
    "tests.test_losses_more",
    "tests.optimizers.test_more_optimizers",
    "tests.ops.test_convolution",
    "tests.layers.test_merging",
    "tests.layers.test_normalization",
    "tests.layers.test_reshaping",
)


def generate(torch, module: str) -> dict:
    """PyTorch's side of every case of ``module``: ``{case: {key: array}}``."""
    mod = importlib.import_module(module)
    out = {}
    for name, (_, theirs, *_tol) in mod.TORCH_CASES.items():
        out[name] = {k: v.detach().numpy() if hasattr(v, "detach") else v for k, v in theirs(torch).items()}
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    from myelin import backend

    torch.set_num_threads(1)
    backend.set_floatx("float64")
    for module in argv or MODULES:
        mod = importlib.import_module(module)
        path = golden.write(mod.GOLDEN_FILE, generate(torch, module), torch.__version__, "tests/make_torch_twins_golden.py")
        print(f"wrote {len(mod.TORCH_CASES)} cases of {module} from torch {torch.__version__} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
