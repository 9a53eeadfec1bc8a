"""Optimizer state never holds subnormal numbers (issue 18): flushed to zero, natively and in NumPy alike."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, native, optimizers
from tests.test_native import CASES, _bits, _turn_off

RULES = CASES + [
    ("adam-amsgrad", lambda: optimizers.Adam(0.01, amsgrad=True)),  # NumPy form only
    ("rmsprop-centered", lambda: optimizers.RMSprop(0.01, centered=True, momentum=0.5)),
    ("adagrad", lambda: optimizers.Adagrad(0.01)),
]


def _decay_to_nothing(make, dtype, steps: int):
    """A weight that learns for one step and then gets zero gradients for ever (a dead relu unit's).

    Its state decays geometrically (Adam's m by beta_1, momentum by mu, RMSprop's s by rho) and,
    without a flush, reaches the subnormal range and stays there: ``0.9 * m`` rounds back to ``m``
    at the smallest subnormal.
    """
    w = Tensor(np.full(64, 0.5, dtype=dtype), requires_grad=True)
    opt = make()
    opt.build([w])
    w.grad = np.linspace(-1e-3, 1e-3, 64).astype(dtype)
    opt.step([w])
    for _ in range(steps):
        w.grad = np.zeros(64, dtype=dtype)
        opt.step([w])
    return w, opt


def _subnormal_count(a: np.ndarray) -> int:
    a = np.asarray(a)
    return int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "make"), RULES, ids=[name for name, _ in RULES])
def test_state_of_a_dead_weight_holds_no_subnormals(name, make, dtype, monkeypatch):
    steps = 900 if dtype == np.float32 else 7000  # 0.9^t * 1e-3 passes FLT_MIN after ~810 steps, DBL_MIN after ~6,700
    w, opt = _decay_to_nothing(make, dtype, steps)
    state = opt.get_state()
    slots = {k: v for k, v in state.items() if k != "iterations"}
    assert slots or name == "sgd", name  # plain SGD keeps no state
    for key, values in slots.items():
        assert _subnormal_count(values) == 0, f"{name}: {key} holds subnormal values"
    assert _subnormal_count(w.data) == 0
    # The flush runs in the NumPy forms too, and gives the same bits as the kernels.
    _turn_off(monkeypatch)
    w2, opt2 = _decay_to_nothing(make, dtype, steps)
    np.testing.assert_array_equal(_bits(w2.data), _bits(w.data))
    for key, values in opt2.get_state().items():
        np.testing.assert_array_equal(_bits(np.asarray(values)), _bits(np.asarray(state[key])), err_msg=f"{name}: {key}")


def test_without_the_flush_the_state_would_be_subnormal():
    """The case above is a real one: the same decay in plain float32 NumPy sticks among the subnormals."""
    m = np.float32(1e-3)
    for _ in range(900):
        m = np.float32(m + (np.float32(0) - m) * np.float32(0.1))
    assert 0 < m < np.finfo(np.float32).tiny


@pytest.mark.skipif(not native.available(), reason=f"native kernels: {native.status()}")
def test_kernels_flush_without_changing_the_callers_float_mode():
    """The kernels compare and store zeros; the caller's arithmetic on subnormals is untouched afterwards."""
    _decay_to_nothing(lambda: optimizers.Adam(0.01), np.float32, 900)
    tiny = np.finfo(np.float32).tiny
    x = np.array([tiny], dtype=np.float32)
    assert (x / np.float32(4))[0] == np.float32(tiny / 4)  # still gradual underflow (no FTZ left behind)
