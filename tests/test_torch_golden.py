"""myelin against PyTorch's results on every machine: the committed golden values of tests/data/torch_golden.json.

Each case of tests/torch_cases.py (ten steps of every optimizer variant and clipping rule,
every loss's value and gradient, the unary ops, a whole network's gradients) is checked here
against the values PyTorch produced; where torch is installed, against torch itself too (the
same test: it never skips), and the committed values against torch, so a stale file is caught. Regenerate with
``python -m tests.make_torch_golden``. All in float64.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from .make_torch_golden import generate, load
from .torch_cases import CASES

GOLDEN = load()["cases"]


def test_the_golden_file_holds_every_case():
    assert sorted(GOLDEN) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_myelin_matches_pytorchs_golden_values(name, float64, torch_if_installed):
    """The committed values everywhere; where torch is installed, what torch computes now too."""
    ours, theirs, rtol, atol = CASES[name]
    got, expected = ours(), GOLDEN[name]
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(np.asarray(got[key]), expected[key], rtol=rtol, atol=atol, err_msg=f"{name}: {key}")
    if torch_if_installed is not None:
        for key, value in theirs(torch_if_installed).items():
            np.testing.assert_allclose(np.asarray(got[key]), value, rtol=rtol, atol=atol, err_msg=f"{name}: {key} vs torch")


def test_the_golden_values_are_what_this_torch_gives(torch):
    fresh = generate(torch)["cases"]
    for name, entry in fresh.items():
        for key, value in entry.items():
            # the same float64 arithmetic: equal to the last bits (1e-13 allows another BLAS's summation order)
            theirs = np.asarray(value["values"]).reshape(value["shape"])
            np.testing.assert_allclose(theirs, GOLDEN[name][key], rtol=1e-13, atol=1e-16, err_msg=f"{name}: {key}")


def test_the_twin_golden_files_are_what_this_torch_gives(torch, float64):
    """The files of tests/make_torch_twins_golden.py (the modules' TORCH_CASES) against torch now, to the last bits."""
    from . import golden
    from .make_torch_twins_golden import MODULES, generate

    for module in MODULES:
        name = importlib.import_module(module).GOLDEN_FILE
        committed = golden.read(name)
        fresh = generate(torch, module)
        assert sorted(fresh) == sorted(committed), name
        for case, entry in fresh.items():
            for key, value in entry.items():
                np.testing.assert_allclose(value, committed[case][key], rtol=1e-13, atol=1e-16, err_msg=f"{name} {case} {key}")
