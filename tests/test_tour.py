"""The guided tour: examples/tour.py runs, and docs/tour.md shows its code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "examples" / "tour.py"
PAGE = ROOT / "docs" / "tour.md"


def test_the_tour_runs_and_says_what_the_page_says(tmp_path):
    pytest.importorskip("palmerpenguins")
    env = {**os.environ, "MYELIN_OFFLINE": "1", "MYELIN_HOME": str(tmp_path)}
    env.pop("MYELIN_MNIST", None)
    proc = subprocess.run([sys.executable, str(TOUR)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    titles = re.findall(r"^=== (\d\. .*) ===$", out, flags=re.M)
    assert [t[0] for t in titles] == list("1234567")
    page = PAGE.read_text(encoding="utf-8")
    assert re.findall(r"^## (\d)\. ", page, flags=re.M) == list("1234567")
    assert "z = x·w + b = 5.13" in out and "relu(z) = 0.0 (the neuron does not fire)" in out
    assert "fit's step and the hand step give the same weights: largest difference 0.0" in out
    before = float(re.search(r"training penguins: loss (\d+\.\d+)", out).group(1))
    after = float(re.search(r"the loss is (\d+\.\d+)", out).group(1))
    assert after < before  # one step of gradient descent lowered the loss
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert accuracy >= 0.95
    assert float(re.search(r"Test Accuracy: (\d\.\d+)", out).group(1)) >= 0.85
    assert "MNIST is not available here" in out  # offline and no files: the fallback, said out loud
    # the page's step 1 output is this run's, to the digit (pure arithmetic, the same everywhere)
    step1 = out.split("=== 1.")[1].split("===\n")[1].split("\n\n")[0].strip()
    assert f"```text\n{step1}\n```" in page


def test_the_page_shows_the_files_code():
    page = PAGE.read_text(encoding="utf-8")
    code = TOUR.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) == 8  # the setup and the seven steps
    for block in blocks:
        assert block.strip() in code, block[:80]
