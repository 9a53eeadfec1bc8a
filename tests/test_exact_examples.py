"""The doctests print what they compute (no NUMBER flag), and what that uncovered is fixed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from myelin import activations, constraints, layers, ops


def test_doctests_match_exactly():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()  # (tomllib is Python 3.11+)
    flags = next(line for line in text.splitlines() if line.startswith("doctest_optionflags"))
    # NUMBER let "0.5" match 0.45 and "[1., 1.]" match [2., 1.] (the mod example was wrong)
    assert "ELLIPSIS" in flags and "NUMBER" not in flags


def test_capped_relu_gives_positive_zero_below_the_threshold():
    for out in (activations.relu([-1.0, 3.0], max_value=2.0).data, layers.ReLU(max_value=1.0)([[-1.0, 3.0]]).data):
        assert not np.signbit(out).any()
    np.testing.assert_array_equal(activations.relu([-1.0, 3.0], negative_slope=0.5, max_value=2.0).data, [-0.5, 2.0])


def test_nonneg_gives_positive_zero():
    out = constraints.NonNeg()(np.array([-1.0, 2.0], dtype=np.float32))
    assert out.dtype == np.float32 and not np.signbit(out).any()
    np.testing.assert_array_equal(out, [0.0, 2.0])


def test_i0_in_float32_is_rounded_from_float64():
    x = np.array([0.0, 0.5, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(ops.i0(x).data, np.i0(x.astype(np.float64)).astype(np.float32))
    assert float(ops.i0(0.0).data) == 1.0


def test_mod_follows_the_divisors_sign():
    np.testing.assert_array_equal(ops.mod([5.0, -5.0], 3.0).data, [2.0, 1.0])
