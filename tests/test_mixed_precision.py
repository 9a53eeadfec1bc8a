"""Mixed precision: dtype policies, autocasting in layers, float32 losses, LossScaleOptimizer against Keras 3.

Keras's numbers come from tests/data/mixed_precision_golden.json (tests/make_mixed_precision_golden.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import Tensor, dtype_policies, layers, losses, mixed_precision, optimizers
from myelin.models import Model, Sequential, load_model
from myelin.utils import set_random_seed

GOLDEN = json.loads((Path(__file__).parent / "data" / "mixed_precision_golden.json").read_text())
try:
    import ml_dtypes
except ImportError:  # the [mixed] extra is not installed: the bfloat16 tests skip
    ml_dtypes = None
needs_bfloat16 = pytest.mark.skipif(ml_dtypes is None, reason="bfloat16 needs ml_dtypes (pip install 'myelin[mixed]')")


@pytest.fixture
def global_policy():
    """Set a global policy for one test; the default (float32) comes back afterwards."""
    yield mixed_precision.set_global_policy
    mixed_precision.set_global_policy("float32")


def _golden_float(v):
    return float(v) if isinstance(v, str) else v


# ---------------------------------------------------------------------------- policies
@pytest.mark.parametrize("name", sorted(GOLDEN["policies"]))
def test_policy_dtypes_are_keras_s(name):
    if "bfloat16" in name and ml_dtypes is None:
        pytest.skip("bfloat16 needs ml_dtypes")
    policy = mixed_precision.Policy(name)
    assert [policy.compute_dtype, policy.variable_dtype] == GOLDEN["policies"][name]
    assert policy.name == name and dtype_policies.get(policy.get_config()["name"]) == policy


def test_unknown_policy_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown policy 'mixed_float8'.*'mixed_float16', 'mixed_bfloat16'"):
        mixed_precision.set_global_policy("mixed_float8")
    with pytest.raises(ValueError, match=r"layer 'd' \(Dense\): DTypePolicy: unknown policy 'float12'.*'float32'"):
        layers.Dense(2, dtype="float12", name="d")
    with pytest.raises(ValueError, match="set_dtype_policy: policy must be a policy name"):
        mixed_precision.set_global_policy(16)
    with pytest.raises(ValueError, match=r"mixed-precision policy.*a single dtype is expected"):
        layers.Input(shape=(2,), dtype="mixed_float16")


def test_names_are_keras_s():
    assert myelin.DTypePolicy is mixed_precision.DTypePolicy is mixed_precision.Policy
    assert issubclass(myelin.FloatDTypePolicy, myelin.DTypePolicy)
    assert mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer
    assert mixed_precision.global_policy is mixed_precision.dtype_policy
    assert mixed_precision.set_global_policy is mixed_precision.set_dtype_policy
    assert myelin.dtype_policies.get(None) == myelin.DTypePolicy("float32")


def test_a_layer_reads_keras_s_serialized_policy():
    layer = layers.Dense(2, dtype=GOLDEN["dense_config_dtype"])
    assert layer.dtype_policy == myelin.DTypePolicy("mixed_float16")
    assert dtype_policies.serialize(layer.dtype_policy) == GOLDEN["dense_config_dtype"]
    assert dtype_policies.deserialize(GOLDEN["dense_config_dtype"]).compute_dtype == "float16"


def test_the_global_policy_applies_to_layers_created_afterwards(global_policy):
    before = layers.Dense(2)
    global_policy("mixed_float16")
    after, kept = layers.Dense(2), layers.Dense(2, dtype="float32")
    inputs = layers.Input(shape=(3,))
    assert before.dtype_policy.name == "float32" and before.get_config().get("dtype") is None
    assert (after.compute_dtype, after.variable_dtype, after.dtype) == ("float16", "float32", "float32")
    assert kept.compute_dtype == "float32"
    assert inputs.dtype == "float32"  # an Input takes floatx(), as in Keras
    out = after(np.ones((1, 3), np.float32))
    expected = GOLDEN["global_mixed_dense"]
    assert (out.dtype.name, after.kernel.dtype.name, after.compute_dtype) == (
        expected["output_dtype"],
        expected["kernel_dtype"],
        expected["compute_dtype"],
    )
    global_policy("float32")
    assert layers.Dense(2).compute_dtype == "float32"


def test_policies_round_trip_in_get_config_and_the_dtype_policy_setter():
    layer = layers.Dense(3, dtype="mixed_float16")
    config = layer.get_config()
    assert config["dtype"] == "mixed_float16"
    twin = layers.Dense.from_config(config)
    assert twin.dtype_policy == layer.dtype_policy
    twin.dtype_policy = "float64"
    assert (twin.compute_dtype, twin.variable_dtype, twin.get_config()["dtype"]) == ("float64", "float64", "float64")


# ---------------------------------------------------------------------------- computing in the low dtype
def _mlp(policy, seed=0, softmax_dtype=None):
    set_random_seed(seed)
    return Sequential(
        [
            layers.Input(shape=(64,)),
            layers.Dense(32, activation="relu", dtype=policy),
            layers.Dense(10, dtype=policy),
            layers.Activation("softmax", dtype=softmax_dtype or policy),
        ]
    )


def test_mixed_float16_computes_in_float16_and_keeps_float32_variables():
    layer = layers.Dense(4, activation="tanh", dtype="mixed_float16")
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    out = layer(Tensor(x))
    assert out.dtype == np.float16 and layer.kernel.dtype == np.float32 and layer.bias.dtype == np.float32
    # the same product as float16 arithmetic gives, from the float32 weights rounded to float16
    kernel16, bias16 = layer.kernel.data.astype(np.float16), layer.bias.data.astype(np.float16)
    np.testing.assert_array_equal(out.data, np.tanh(x.astype(np.float16) @ kernel16 + bias16))
    assert isinstance(layer.kernel, myelin.Variable)  # the cast copy stood in for the call only


def test_gradients_reach_the_float32_variables_through_the_casts():
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    mixed = layers.Dense(2, dtype="mixed_float16")
    plain = layers.Dense(2)
    mixed(x), plain(x)
    plain.set_weights(mixed.get_weights())
    (mixed(Tensor(x)) * 3.0).sum().backward()
    (plain(Tensor(x)) * 3.0).sum().backward()
    assert mixed.kernel.grad.dtype == np.float32 and mixed.bias.grad.dtype == np.float32
    np.testing.assert_allclose(mixed.kernel.grad, plain.kernel.grad, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(mixed.bias.grad, [15.0, 15.0])


def test_a_float32_layer_after_a_float16_one_casts_its_input_up():
    inputs = layers.Input(shape=(3,))
    hidden = layers.Dense(4, dtype="mixed_float16")(inputs)
    outputs = layers.Dense(2, dtype="float32")(hidden)
    model = Model(inputs, outputs)
    assert model.predict(np.ones((2, 3), np.float32), verbose=0).dtype == np.float32


def test_normalization_layers_compute_in_float32_and_update_float32_statistics():
    bn = layers.BatchNormalization(dtype="mixed_float16")
    x = (np.arange(12, dtype=np.float32).reshape(4, 3) * 100).astype(np.float32)
    out = bn(Tensor(x), training=True)
    assert out.dtype == np.float16 and bn.moving_mean.dtype == np.float32
    np.testing.assert_allclose(bn.moving_mean.data, 0.01 * x.mean(axis=0), rtol=1e-6)
    expected = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + bn.epsilon)
    np.testing.assert_allclose(out.data.astype(np.float32), expected, atol=2e-3)


@needs_bfloat16
def test_mixed_bfloat16_computes_in_bfloat16():
    layer = layers.Dense(3, activation="relu", dtype="mixed_bfloat16")
    x = np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4)
    out = layer(Tensor(x))
    assert out.dtype.name == "bfloat16" and layer.kernel.dtype == np.float32
    bf16 = ml_dtypes.bfloat16
    expected = np.maximum(x.astype(bf16).astype(np.float32) @ layer.kernel.data.astype(bf16).astype(np.float32), 0)
    np.testing.assert_allclose(out.data.astype(np.float32), expected, rtol=1e-2, atol=1e-2)
    out.sum().backward()
    assert layer.kernel.grad.dtype == np.float32 and np.abs(layer.kernel.grad).sum() > 0


def test_losses_are_computed_in_float32_from_float16_outputs():
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], np.float32)
    labels = np.array([0, 1])
    x16 = Tensor(logits.astype(np.float16), requires_grad=True)
    probs = myelin.activations.softmax(x16)
    assert probs.dtype == np.float16
    loss = losses.SparseCategoricalCrossentropy()(labels, probs)
    assert loss.dtype == np.float32
    logits16 = logits.astype(np.float16).astype(np.float64)
    shifted = logits16 - logits16.max(axis=1, keepdims=True)
    expected = -(shifted[[0, 1], labels] - np.log(np.exp(shifted).sum(axis=1))).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-6)  # from the logits, in float32: no float16 rounding
    loss.backward()
    assert x16.grad.dtype == np.float16


# ---------------------------------------------------------------------------- training
def _digits():
    sklearn = pytest.importorskip("sklearn.datasets")
    x, y = sklearn.load_digits(return_X_y=True)
    return (x / 16).astype(np.float32), y


def _train(model, x, y, epochs=12, **compile_kwargs):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_kwargs)
    model.fit(x[:1400], y[:1400], epochs=epochs, batch_size=64, verbose=0)
    return model.evaluate(x[1400:], y[1400:], verbose=0)[1]


def test_a_mixed_float16_mlp_trains_on_digits_as_well_as_a_float32_one(global_policy):
    x, y = _digits()
    reference = _train(_mlp("float32"), x, y)
    global_policy("mixed_float16")
    model = _mlp(None, softmax_dtype="float32")
    accuracy = _train(model, x, y)
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    assert model.layers[0].kernel.dtype == np.float32 and model.layers[0].compute_dtype == "float16"
    assert model.compile_status.startswith("compiled")  # the casts record and replay like any primitive
    assert reference > 0.8 and abs(accuracy - reference) < 0.03, (reference, accuracy)


@needs_bfloat16
def test_a_mixed_bfloat16_mlp_trains_on_digits(global_policy):
    x, y = _digits()
    reference = _train(_mlp("float32"), x, y, epochs=6)
    global_policy("mixed_bfloat16")
    model = _mlp(None, softmax_dtype="float32")
    accuracy = _train(model, x, y, epochs=6)
    assert not isinstance(model.optimizer, optimizers.LossScaleOptimizer)  # bfloat16 needs no loss scaling
    assert abs(accuracy - reference) < 0.05, (reference, accuracy)


def test_replayed_mixed_steps_are_the_eager_steps(global_policy):
    x, y = _digits()
    global_policy("mixed_float16")
    weights = []
    for eager in (False, True):
        model = _mlp(None, seed=3)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", run_eagerly=eager)
        model.fit(x[:256], y[:256], epochs=2, batch_size=64, verbose=0, shuffle=False)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_auto_scale_loss_wraps_the_optimizer_only_for_mixed_float16(global_policy):
    assert not isinstance(_compiled(_mlp("float32")).optimizer, optimizers.LossScaleOptimizer)
    global_policy("mixed_float16")
    model = _compiled(_mlp(None))
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer) and model.optimizer.name == "loss_scale_optimizer"
    assert isinstance(model.optimizer.inner_optimizer, optimizers.Adam)
    assert not isinstance(_compiled(_mlp(None), auto_scale_loss=False).optimizer, optimizers.LossScaleOptimizer)
    own = optimizers.LossScaleOptimizer(optimizers.SGD(), initial_scale=8.0)
    assert _compiled(_mlp(None), optimizer=own).optimizer is own  # never wrapped twice


def _compiled(model, **kwargs):
    model.compile(**{"optimizer": "adam", "loss": "sparse_categorical_crossentropy", **kwargs})
    return model


def test_fit_skips_overflowing_steps_and_halves_the_scale(global_policy):
    x, y = _digits()
    global_policy("mixed_float16")
    model = _mlp(None)
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=2.0**40, dynamic_growth_steps=1000)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    scales, moved = [], []
    for i in range(40):
        model.train_on_batch(x[i * 32 : (i + 1) * 32], y[i * 32 : (i + 1) * 32])
        scales.append(opt.dynamic_scale)
        moved.append(not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())))
    skipped = moved.index(True)  # float16 gradients overflow at 2**40: steps skipped until the scale is small enough
    assert skipped > 5 and scales[:skipped] == [2.0 ** (39 - i) for i in range(skipped)]
    halvings = sum(b < a for a, b in zip([2.0**40] + scales, scales))  # each skipped step halves, none doubles
    assert opt.iterations == 40 - halvings and opt.dynamic_scale == 2.0 ** (40 - halvings)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_a_mixed_model_saves_and_loads_with_its_policy_and_scale(tmp_path, global_policy):
    x, y = _digits()
    global_policy("mixed_float16")
    model = _mlp(None)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:128], y[:128], epochs=1, batch_size=32, verbose=0)
    model.optimizer.set_scale_state({"dynamic_scale": 512.0, "step_counter": 3})
    path = tmp_path / "mixed.myelin"
    model.save(path)
    global_policy("float32")
    loaded = load_model(path)
    assert loaded.dtype_policy.name == "mixed_float16" and loaded.layers[0].compute_dtype == "float16"
    assert isinstance(loaded.optimizer, optimizers.LossScaleOptimizer)
    assert loaded.optimizer.get_scale_state() == {"dynamic_scale": 512.0, "step_counter": 3}
    assert loaded.optimizer.iterations == model.optimizer.iterations == 4
    np.testing.assert_array_equal(loaded.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0))


# ---------------------------------------------------------------------------- LossScaleOptimizer against Keras
@pytest.mark.parametrize("case", ["sgd_growth3", "adam_growth2", "sgd_default"])
def test_loss_scale_sequence_is_keras_s(case):
    spec = GOLDEN[case]
    inner = optimizers.SGD(0.1) if spec["inner"] == "sgd" else optimizers.Adam(0.01)
    opt = optimizers.LossScaleOptimizer(
        inner, initial_scale=spec["initial_scale"], dynamic_growth_steps=spec["dynamic_growth_steps"]
    )
    w = myelin.Variable(np.array([1.0, -2.0, 0.5], np.float32), requires_grad=True)
    for grads, expected in zip(GOLDEN["gradients"], spec["steps"]):
        opt.apply([np.array([_golden_float(g) for g in grads], np.float32)], [w])
        assert (opt.dynamic_scale, opt.step_counter, opt.iterations) == (
            expected["scale"],
            expected["step_counter"],
            expected["iterations"],
        )
        np.testing.assert_allclose(w.data, expected["w"], rtol=1e-6, atol=1e-7)


def test_loss_scale_optimizer_arguments_are_checked():
    with pytest.raises(TypeError, match="inner_optimizer must be an Optimizer"):
        optimizers.LossScaleOptimizer("adam")
    with pytest.raises(ValueError, match="initial_scale must be a positive number, got 0"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), initial_scale=0)
    with pytest.raises(ValueError, match=r"dynamic_growth_steps must be a positive integer, got 1\.5"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic_growth_steps=1.5)
    with pytest.raises(ValueError, match="clipnorm is not supported here; set clipnorm on the inner optimizer"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False is not supported"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="loss_scale_factor is its dynamic scale"):
        optimizers.LossScaleOptimizer(optimizers.SGD()).loss_scale_factor = 2.0


def test_loss_scale_optimizer_config_and_delegation():
    inner = optimizers.Adam(0.003, loss_scale_factor=4.0)
    opt = optimizers.LossScaleOptimizer(inner, initial_scale=16.0, dynamic_growth_steps=5)
    assert inner.loss_scale_factor is None  # never scaled twice (Keras)
    twin = optimizers.get(myelin.saving.deserialize_object(myelin.saving.serialize_object(opt, "optimizer"), "optimizer"))
    assert type(twin.inner_optimizer) is optimizers.Adam and twin.learning_rate == pytest.approx(0.003)
    assert (twin.initial_scale, twin.dynamic_growth_steps, twin.dynamic_scale) == (16.0, 5, 16.0)
    opt.learning_rate = 0.01
    assert inner.learning_rate == 0.01
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt.apply([[16.0, 16.0]], [w])
    assert opt.variables == [w] and opt.iterations == inner.iterations == 1
    assert sorted(opt.get_variable_state(w)) == ["m", "v"]
    assert math.isclose(opt.scale_loss(2.0), 32.0)


def test_data_parallel_reducer_runs_before_the_finite_check():
    # DistributedRun sets _gradient_reducer on the optimizer it was given: the sum over processes
    # must be what the check sees, so that every process skips the same steps.
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=2.0)
    seen = []

    def reducer(groups):
        seen.append(groups[0].grads.copy())
        groups[0].grads[...] = np.inf  # another process's overflow, summed in

    opt._gradient_reducer = reducer
    w = Tensor([1.0], requires_grad=True)
    opt.apply([[2.0]], [w])
    assert seen and w.data.tolist() == [1.0] and opt.dynamic_scale == 1.0


def test_a_custom_train_step_scales_the_loss_through_the_optimizer(global_policy):
    class Custom(Model):
        def train_step(self, data):  # Keras's pattern: the loss times optimizer.scale_loss, apply() unscales
            return super().train_step(data)

    x, y = _digits()
    global_policy("mixed_float16")
    inputs = layers.Input(shape=(64,))
    model = Custom(inputs, layers.Dense(10, activation="softmax", dtype="float32")(layers.Dense(16)(inputs)))
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=1024.0, dynamic_growth_steps=3)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    model.fit(x[:128], y[:128], epochs=1, batch_size=32, verbose=0)
    assert (opt.iterations, opt.dynamic_scale, opt.step_counter) == (4, 2048.0, 1)  # 4 finite steps: doubled after 3
    assert not np.array_equal(before[0], model.get_weights()[0])


def test_onnx_export_refuses_a_mixed_precision_model_naming_the_layer(tmp_path):
    pytest.importorskip("onnx")
    model = Sequential([layers.Input(shape=(3,)), layers.Dense(2, dtype="mixed_float16", name="half")])
    with pytest.raises(myelin.onnx.ExportError, match="layer 'half' \\(Dense\\) has the mixed-precision policy"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")


def test_the_cast_up_for_the_loss_has_the_central_difference_gradient():
    # float64 logits -> softmax -> cast to float32 (the logits record cast too) -> fused cross-entropy:
    # the gradient that comes back through the casts matches central differences of the float64 loss.
    from myelin.ops.core import _cast_keeping_logits

    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4))
    labels = np.array([1, 0, 3])

    def loss64(z):
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(3), labels] - np.log(np.exp(z).sum(axis=1))).mean())

    t = Tensor(x, requires_grad=True)
    probs = _cast_keeping_logits(myelin.activations.softmax(t), np.dtype("float32"))
    assert probs._logits[1].dtype == np.float32
    loss = losses.SparseCategoricalCrossentropy()(labels, probs)
    loss.backward()
    eps, numeric = 1e-3, np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (loss64(up) - loss64(down)) / (2 * eps)
    assert t.grad.dtype == np.float64
    np.testing.assert_allclose(t.grad, numeric, rtol=1e-4, atol=1e-6)
