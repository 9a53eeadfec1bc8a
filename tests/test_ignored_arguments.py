"""Arguments found accepted and ignored (docs/ignored_arguments.md) now act, or are refused with a clear error."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers, ops


@pytest.mark.parametrize("op", [ops.segment_sum, ops.segment_max])
def test_segment_ops_hold_sorted_true_to_its_promise(op):
    data, ids = np.array([1.0, 2.0, 3.0]), np.array([1, 0, 1])
    with pytest.raises(ValueError, match="sorted=True, but segment_ids are not in non-decreasing order"):
        op(data, ids, sorted=True)
    np.testing.assert_array_equal(op(data, np.array([0, 1, 1]), sorted=True).data, op(data, np.array([0, 1, 1])).data)


def test_concatenate_refuses_arguments_it_would_drop():
    with pytest.raises(TypeError, match=r"unexpected argument.*mask"):
        layers.Concatenate()([np.ones((2, 1)), np.ones((2, 1))], mask=[None, None])


def test_fit_differentiates_the_scaled_loss_eagerly_and_replayed():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)).astype("float32"), rng.standard_normal((8, 1)).astype("float32")
    results = []
    for eager in (False, True):
        for scale in (None, 1024.0):
            myelin.utils.set_random_seed(1)
            m = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
            seen: list = []
            m._step_hooks.append(lambda xs, ws, seen=seen: seen.append(float(np.abs(ws[0].grad).max())))
            m.compile(optimizer=myelin.optimizers.SGD(0.1, loss_scale_factor=scale), loss="mse", run_eagerly=eager)
            m.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
            results.append((m.get_weights()[0], seen))
    (w, g), (w_scaled, g_scaled), (w_eager, _), (w_eager_scaled, g_eager_scaled) = results
    # the gradients the optimizer is handed are the scaled loss's: 1024 times (a power of two: exact)
    np.testing.assert_array_equal(np.array(g_scaled), np.array(g) * 1024)
    np.testing.assert_array_equal(np.array(g_eager_scaled), np.array(g) * 1024)
    for other in (w_scaled, w_eager, w_eager_scaled):
        np.testing.assert_array_equal(other, w)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_policies_are_taken_and_auto_scale_loss_acts_on_mixed_float16(policy):
    # compile(auto_scale_loss=True) wraps the optimizer in a LossScaleOptimizer under "mixed_float16", as Keras
    # (tests/test_mixed_precision.py has the rest)
    model = myelin.models.Sequential([layers.Input(shape=(3,)), layers.Dense(2, dtype=policy)], dtype=policy)
    model.compile(optimizer="sgd", loss="mse")
    assert model.layers[0].dtype_policy.name == policy
    assert (type(model.optimizer).__name__ == "LossScaleOptimizer") is (policy == "mixed_float16")
    with pytest.raises(ValueError, match="unknown policy 'fp32'; valid policies are 'mixed_float16'"):
        layers.Dense(2, dtype="fp32")
