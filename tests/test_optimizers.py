"""Optimizers: Keras's formulas, schedules, clipping (ten steps against PyTorch: tests/torch_cases.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from myelin import Tensor, losses, ops, optimizers
from myelin.optimizers import schedules

RNG = np.random.default_rng(7)
X = RNG.normal(size=(16, 4))
LABELS = RNG.integers(0, 3, 16)
W0 = [RNG.normal(size=(4, 5)) * 0.5, RNG.normal(size=5) * 0.1, RNG.normal(size=(5, 3)) * 0.5, RNG.normal(size=3) * 0.1]


def our_loss(params):
    w1, b1, w2, b2 = params
    h = ops.dense(Tensor(X), w1, b1, "tanh")
    return losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, ops.dense(h, w2, b2))


# Ten steps of every optimizer variant (momentum, Nesterov, AMSGrad, AdamW, centered RMSprop, ...) and
# of each clipping rule through torch's own clip_grad_norm_ / clip_grad_value_, against PyTorch from the
# same weights: tests/torch_cases.py's "optimizer/" cases, run by tests/test_torch_golden.py against the
# committed values everywhere and against torch itself where it is installed.


def test_adam_follows_keras_formula_with_default_epsilon():
    """Golden values from Keras 3's update written out in NumPy (epsilon outside the bias correction)."""
    w, g = np.array([0.5, -1.0, 2.0]), np.array([0.1, -0.2, 0.3])
    m = v = np.zeros(3)
    expected = w.copy()
    for t in range(1, 4):
        m = m + (g - m) * (1 - 0.9)
        v = v + (g * g - v) * (1 - 0.999)
        alpha = 0.001 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        expected = expected - m * alpha / (np.sqrt(v) + 1e-7)
    p = Tensor(w.copy(), requires_grad=True)
    opt = optimizers.Adam()
    for _ in range(3):
        opt.apply([g], [p])
    np.testing.assert_allclose(p.data, expected, rtol=1e-12)


def test_rmsprop_and_adagrad_follow_keras_formulas():
    w, g = np.array([1.0, -2.0]), np.array([0.3, 0.1])
    p = Tensor(w.copy(), requires_grad=True)
    optimizers.RMSprop().apply([g], [p])
    np.testing.assert_allclose(p.data, w - 0.001 * g / np.sqrt(0.1 * g * g + 1e-7), rtol=1e-12)
    p = Tensor(w.copy(), requires_grad=True)
    optimizers.Adagrad().apply([g], [p])
    np.testing.assert_allclose(p.data, w - 0.001 * g / np.sqrt(0.1 + g * g + 1e-7), rtol=1e-12)


def test_keras_defaults():
    assert optimizers.SGD().learning_rate == 0.01
    adam = optimizers.get("adam")
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    assert optimizers.AdamW().weight_decay == 0.004
    rms = optimizers.get("rmsprop")
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    ada = optimizers.get("adagrad")
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)


def test_updates_happen_in_place_on_one_flat_buffer():
    params = [Tensor(w.copy(), requires_grad=True) for w in W0]
    before = [id(p.data) for p in params]
    opt = optimizers.Adam(0.01)
    our_loss(params).backward()
    opt.step(params)
    views = [p.data for p in params]
    assert all(v.base is opt._groups[0].params for v in views)  # each weight is a view of the flat buffer
    assert [id(p.data) for p in params] != before
    opt.zero_grad()
    our_loss(params).backward()
    ids = [id(p.data) for p in params]
    opt.step(params)
    assert [id(p.data) for p in params] == ids  # later steps never reallocate


def test_variable_without_gradient_is_left_alone():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    opt = optimizers.Adam(0.1)
    opt.apply([np.array([1.0, 1.0]), None], [a, b])
    assert b.data.tolist() == [3.0]
    assert a.data[0] < 1.0
    assert opt._groups[0].state["m"][2] == 0.0  # b's moments untouched


def test_weight_decay_exclusion():
    a, bias = Tensor([1.0], requires_grad=True, name="d/kernel"), Tensor([1.0], requires_grad=True, name="d/bias")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([np.zeros(1), np.zeros(1)], [a, bias])
    assert a.data[0] == pytest.approx(0.95) and bias.data[0] == 1.0


def test_ema_tracks_and_finalizes():
    p = Tensor([0.0], requires_grad=True)
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        opt.apply([np.array([-1.0])], [p])  # p: 1, 2, 3
    assert p.data[0] == 3.0
    opt.finalize_variable_values()
    assert p.data[0] == pytest.approx(0.5 * (0.5 * 1 + 0.5 * 2) + 0.5 * 3)


def test_schedules():
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == 0.1 and s(10) == pytest.approx(0.05) and s(5) == pytest.approx(0.1 * 0.5**0.5)
    assert schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)(19) == pytest.approx(0.05)
    c = schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert c(0) == 1.0 and c(100) == pytest.approx(0.1) and c(500) == pytest.approx(0.1) and c(50) == pytest.approx(0.55)
    w = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=5)
    assert w(0) == 0.0 and w(5) == pytest.approx(1.0) and w(15) == pytest.approx(0.0)
    pc = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert (pc(0), pc(10), pc(11), pc(20), pc(21)) == (1.0, 1.0, 0.5, 0.5, 0.1)
    with pytest.raises(ValueError, match="one more element"):
        schedules.PiecewiseConstantDecay([1], [1.0])


def test_schedule_drives_learning_rate_per_step():
    p = Tensor([0.0], requires_grad=True)
    opt = optimizers.SGD(schedules.PiecewiseConstantDecay([1], [1.0, 0.1]))
    for _ in range(3):
        opt.apply([np.array([-1.0])], [p])
    # steps 0 and 1 use 1.0, step 2 uses 0.1
    assert p.data[0] == pytest.approx(2.1)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.5
    assert opt.get_config()["learning_rate"]["class_name"] == "PiecewiseConstantDecay"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="only one of clipnorm and global_clipnorm"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate=-1.0)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Adam(beta_1=1.5)
    with pytest.raises(TypeError, match="unexpected argument"):
        optimizers.Adam(lr=0.1)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizers.get("adamm")
    opt = optimizers.SGD()
    opt.apply([np.ones(1)], [Tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="unknown variable"):
        opt.apply([np.ones(1)], [Tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="gradients for"):
        opt.apply([np.ones(1)], [])


def test_state_round_trip():
    params = [Tensor(w.copy(), requires_grad=True) for w in W0]
    opt = optimizers.Adam(0.01)
    for _ in range(2):
        our_loss(params).backward()
        opt.step(params)
        opt.zero_grad()
    state = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in opt.get_state().items()}
    fresh = optimizers.Adam(0.01)
    fresh.build(params)
    fresh.set_state(state)
    assert fresh.iterations == 2
    np.testing.assert_array_equal(fresh.get_state()["0/m"], state["0/m"])
