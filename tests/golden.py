"""Comparisons with PyTorch that run everywhere: committed golden values, and torch itself where it is installed.

A test module that compares myelin with PyTorch declares its cases as ``TORCH_CASES``:
``{name: (ours, theirs, rtol, atol)}``, where ``ours()`` returns myelin's arrays and
``theirs(torch)`` PyTorch's from the same inputs (each a ``{key: array}`` dict, inputs drawn
from seeds fixed per case), and names its golden file ``GOLDEN_FILE`` under tests/data/.
``check`` compares myelin's arrays with the committed values on every machine and, where
torch is installed, with what torch computes now, at the same tolerance. The file is written by
``python -m tests.make_torch_twins_golden`` (torch is imported only inside its ``main``).

A ``.json`` file holds each array as its shape and its float64 values written exactly (repr);
a ``.npz`` file (for the larger cases) holds the same arrays under ``"case::key"``, read without
pickle.

>>> decode(encode(np.array([[0.1, 2.0]])))
array([[0.1, 2. ]])
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
SEP = "::"


def encode(value) -> dict:
    """An array as its shape and its float64 values in row-major order (written exactly, as repr does)."""
    a = np.asarray(value, dtype=np.float64)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def decode(entry: dict) -> np.ndarray:
    """The array ``encode`` wrote."""
    return np.asarray(entry["values"], dtype=np.float64).reshape(entry["shape"])


def write(name: str, cases: dict[str, dict[str, np.ndarray]], torch_version: str, generated_by: str) -> Path:
    """Write ``{case: {key: array}}`` to tests/data/<name> (.json or .npz) with the torch version."""
    path = DATA / name
    if path.suffix == ".npz":
        arrays = {f"{c}{SEP}{k}": np.asarray(v, dtype=np.float64) for c, entry in cases.items() for k, v in entry.items()}
        meta = json.dumps({"torch_version": torch_version, "generated_by": generated_by})
        np.savez_compressed(path, __meta__=np.array(meta), **arrays)
    else:
        data = {
            "torch_version": torch_version,
            "generated_by": generated_by,
            "cases": {case: {k: encode(v) for k, v in entry.items()} for case, entry in cases.items()},
        }
        path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    return path


@cache
def read(name: str) -> dict[str, dict[str, np.ndarray]]:
    """The committed ``{case: {key: array}}`` of tests/data/<name>."""
    path = DATA / name
    if path.suffix == ".npz":
        cases: dict[str, dict[str, np.ndarray]] = {}
        with np.load(path, allow_pickle=False) as data:
            for full in data.files:
                if full != "__meta__":
                    case, key = full.split(SEP)
                    cases.setdefault(case, {})[key] = data[full]
        return cases
    data = json.loads(path.read_text(encoding="utf-8"))
    return {case: {k: decode(v) for k, v in entry.items()} for case, entry in data["cases"].items()}


def _compare(got: dict, want: dict, rtol: float, atol: float, what: str) -> None:
    assert sorted(got) == sorted(want), f"{what}: keys {sorted(got)} against {sorted(want)}"
    for key in want:
        np.testing.assert_allclose(
            np.asarray(got[key], dtype=np.float64), np.asarray(want[key]), rtol=rtol, atol=atol, err_msg=f"{what}: {key}"
        )


def check(cases: dict, golden_file: str, name: str, torch=None) -> None:
    """myelin's side of case ``name`` against the committed values, and against ``torch`` when it is given."""
    ours, theirs, rtol, atol = cases[name]
    got = {k: np.asarray(v) for k, v in ours().items()}
    _compare(got, read(golden_file)[name], rtol, atol, f"{name} vs {golden_file}")
    if torch is not None:
        live = {k: v.detach().numpy() if hasattr(v, "detach") else np.asarray(v) for k, v in theirs(torch).items()}
        _compare(got, live, rtol, atol, f"{name} vs torch {torch.__version__}")


def holds_every_case(cases: dict, golden_file: str) -> None:
    """The golden file has exactly the cases the module declares (a new case needs the script rerun)."""
    assert sorted(read(golden_file)) == sorted(cases), f"rerun python -m tests.make_torch_twins_golden for {golden_file}"
