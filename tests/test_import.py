"""``import myelin`` is lazy (issue 18): submodules load on first use, and everything still resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_import_myelin_loads_only_the_autodiff_core():
    out = _run("import sys, myelin; print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('myelin.')}))")
    # native (level 0) is the ctypes wrapper the conv primitives call; its compiled library loads on first use
    assert out == "['backend', 'native', 'ops', 'tensor']"


def test_names_and_submodules_load_on_first_use():
    out = _run(
        "import myelin; m = myelin.Sequential([myelin.Input(shape=(2,)), myelin.layers.Dense(1)]);"
        "print(type(m).__name__, myelin.Tensor.__name__, callable(myelin.no_grad), myelin.models.Model is myelin.Model)"
    )
    assert out == "Sequential Tensor True True"


def test_gradcheck_is_callable_however_it_was_imported():
    out = _run(
        "from myelin.gradcheck import GradcheckError\n"
        "import myelin, numpy as np\n"
        "from myelin import ops\n"
        "print(bool(myelin.gradcheck(lambda a: ops.tanh(a), [np.random.rand(3)])), GradcheckError.__name__)"
    )
    assert out == "True GradcheckError"


def test_unknown_attribute_is_an_attribute_error():
    import myelin

    with pytest.raises(AttributeError, match="no attribute 'Sequentail'"):
        myelin.Sequentail  # noqa: B018


def test_a_saved_model_loads_in_a_process_that_imported_only_saving(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "m.myelin"
    _run(
        "import numpy as np, myelin\n"
        "m = myelin.Sequential([myelin.Input(shape=(3,)), myelin.layers.Dense(2)])\n"
        f"m.save({str(path)!r})"
    )
    out = _run(f"from myelin.saving import load_model; print(type(load_model({str(path)!r})).__name__)")
    assert out == "Sequential"
