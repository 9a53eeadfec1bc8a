"""The seed texts' two programs, end to end, on real data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]


def test_penguin_demo_reaches_097_and_explains_the_seed_example():
    pytest.importorskip("palmerpenguins")
    from myelin import demo

    lines = []
    result = demo.run(verbose=0, out=lines.append)
    text = "\n".join(lines)
    assert result["test_accuracy"] >= 0.97  # (its speed is measured in bench/, never asserted here)
    x, y = demo.load_penguins()
    assert x.shape == (342, 4) and np.bincount(y).tolist() == [151, 123, 68]  # Adelie, Gentoo, Chinstrap
    # the walk-through's numbers are the model's own forward pass
    model = result["model"]
    np.testing.assert_allclose(result["probabilities"], model.predict(np.array([demo.SEED_EXAMPLE]), verbose=0)[0], rtol=1e-5)
    assert "x = [37.3, 16.8, 19.2, 30.0]" in text
    assert "z1 = x·W1 + b1" in text and "a1 = relu(z1)" in text and "softmax" in text
    assert re.search(r"predicted species: \d \((Adelie|Gentoo|Chinstrap)\)", text)
    assert "test accuracy:" in text


def test_penguin_demo_is_repeatable():
    pytest.importorskip("palmerpenguins")
    from myelin import demo

    a = demo.run(epochs=5, verbose=0, out=lambda line: None)
    b = demo.run(epochs=5, verbose=0, out=lambda line: None)
    for wa, wb in zip(a["model"].get_weights(), b["model"].get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_cli_demo_runs_as_a_process():
    pytest.importorskip("palmerpenguins")
    proc = subprocess.run(
        [sys.executable, "-m", "myelin", "demo", "--epochs", "3"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Epoch 3/3" in proc.stdout and "predicted species" in proc.stdout
    assert "\r" not in proc.stdout  # not a terminal: plain lines


def test_example_is_the_seed_program_with_only_the_imports_changed():
    seed = SHARED / "seeds" / "004_aadf36888a80c068.txt"
    if not seed.is_file():
        pytest.skip("the seed texts are not beside this checkout")
    text = seed.read_text()
    ours = (ROOT / "examples" / "mnist_mlp.py").read_text()
    for line in ours.splitlines():
        if line.strip():
            assert line.replace("myelin", "keras") in text, line
    assert ours.count("myelin") == 4 and "keras" not in ours


@pytest.mark.slow
def test_seed_mnist_program_on_real_digits(real_mnist_dir):
    env = {**os.environ, "MYELIN_MNIST": str(real_mnist_dir), "MYELIN_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "mnist_mlp.py")], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    accuracy = float(re.search(r"Test Accuracy: ([0-9.]+)", proc.stdout).group(1))
    loss = float(re.search(r"Test Loss: ([0-9.]+)", proc.stdout).group(1))
    assert accuracy >= 0.90 and loss < 0.4
    assert proc.stdout.count("Epoch ") == 10 and "val_accuracy" in proc.stdout
