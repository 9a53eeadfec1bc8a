"""Custom layers from Keras's guide "Making new layers and models via subclassing", written as Keras writes them."""

import numpy as np
import pytest

from myelin import Input, Model, Sequential, constraints, layers, ops, optimizers, random
from myelin.layers import Layer

from . import checks


class Linear(Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class ComputeSum(Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign(self.total + ops.sum(inputs, axis=0))
        return self.total


class MLPBlock(Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = ops.nn.relu(x)
        x = self.linear_2(x)
        x = ops.nn.relu(x)
        return self.linear_3(x)


class ActivityRegularizationLayer(Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(inputs))
        return inputs


class CustomDropout(Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
        return inputs


class MaskedMean(Layer):
    """A masking layer pair: one that makes a mask, one that uses it (the protocol the sequence layers rely on)."""

    supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        return ops.not_equal(inputs, 0).data.any(axis=-1)

    def call(self, inputs):
        return inputs


class UsesMask(Layer):
    supports_masking = True  # it consumes the mask: its own output (one vector per sequence) has none

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def call(self, inputs, mask=None):
        m = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)
        return ops.sum(inputs * m, axis=1) / ops.sum(m, axis=1)


def test_linear_numeric_result_and_gradients():
    layer = Linear(2)
    x = ops.ones((2, 2))
    y = layer(x)
    assert y.shape == (2, 2) and len(layer.weights) == 2
    layer.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5])])
    np.testing.assert_allclose(layer(x).data, [[4.5, 5.5], [4.5, 5.5]])
    assert layer.w.name.endswith("/variable") and layer.b.name.endswith("/variable_1")
    loss = ops.sum(ops.square(layer(np.array([[1.0, -1.0]], np.float32))))
    loss.backward()
    # d/dw sum((xw+b)^2) = x^T 2(xw+b); xw+b = [-2+0.5, -2-0.5]
    np.testing.assert_allclose(layer.w.grad, [[-3.0, -5.0], [3.0, 5.0]])
    np.testing.assert_allclose(layer.b.grad, [-3.0, -5.0])


def test_custom_layers_gradients_by_central_differences(float64):
    layer = Linear(3)
    checks.gradients(layer, np.random.default_rng(0).normal(size=(4, 5)))
    checks.gradients(MLPBlock(), np.random.default_rng(1).normal(size=(2, 6)), max_checks=20)


def test_non_trainable_weight_accumulates():
    my_sum = ComputeSum(2)
    x = ops.ones((2, 2))
    np.testing.assert_array_equal(my_sum(x).data, [2.0, 2.0])
    np.testing.assert_array_equal(my_sum(x).data, [4.0, 4.0])
    assert len(my_sum.weights) == 1 and my_sum.trainable_weights == [] and len(my_sum.non_trainable_weights) == 1


def test_nested_layers_track_weights_and_train():
    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))
    assert y.shape == (3, 1)
    assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6
    x_in = Input(shape=(64,))
    model = Model(x_in, MLPBlock()(x_in))
    model.compile(optimizer="adam", loss="mse")
    data = np.random.default_rng(0).normal(size=(64, 64)).astype("float32")
    target = data[:, :1]
    before = model.evaluate(data, target, verbose=0)
    model.fit(data, target, epochs=20, batch_size=16, verbose=0)
    assert model.evaluate(data, target, verbose=0) < 0.5 * before


def test_add_loss_is_collected():
    layer = ActivityRegularizationLayer()
    layer(ops.ones((2, 2)))
    assert len(layer.losses) == 1
    assert layer.losses[0].item() == pytest.approx(0.04)
    with pytest.raises(ValueError, match="scalar"):
        layer.add_loss(ops.ones((2,)))


def test_get_config_round_trip():
    layer = Linear(64, name="lin")
    config = layer.get_config()
    assert config["units"] == 64 and config["name"] == "lin"
    again = Linear.from_config(config)
    assert again.units == 64 and again.name == "lin"


def test_training_argument_and_seed_generator():
    layer = CustomDropout(0.5)
    x = np.ones((4, 10), np.float32)
    np.testing.assert_array_equal(layer(x).data, x)
    a, b = layer(x, training=True).data, layer(x, training=True).data
    assert set(np.unique(a)) <= {0.0, 2.0} and not np.array_equal(a, b)
    again = CustomDropout(0.5)
    np.testing.assert_array_equal(again(x, training=True).data, a)


def test_masks_flow_to_a_layer_that_takes_them():
    x = np.array([[[1.0, 1.0], [3.0, 3.0], [0.0, 0.0]]], np.float32)
    masked = MaskedMean()(x)
    np.testing.assert_array_equal(masked._keras_mask, [[True, True, False]])
    np.testing.assert_allclose(UsesMask()(masked).data, [[2.0, 2.0]])


def test_add_weight_calling_forms_and_arguments():
    layer = Layer(name="host")
    v = layer.add_weight((2, 3), "ones", "float64", True, True, "l2", "non_neg", "mean", False, "k")
    assert v.name == "host/k" and v.dtype == np.float64 and v.aggregation == "mean"
    assert isinstance(v.constraint, constraints.NonNeg) and v.autocast
    assert len(layer.losses) == 1 and layer.losses[0].item() == pytest.approx(0.06)
    old = layer.add_weight("old", (2,), "zeros", None, False)
    assert old.name == "host/old" and not old.requires_grad and old in layer.non_trainable_weights
    counter = layer.add_weight(shape=(), dtype="int32", name="count")
    assert counter.dtype == np.int32 and counter.shape == () and not counter.requires_grad
    assert layer.add_weight(name="s").shape == ()
    with pytest.raises(TypeError, match="both by position and by keyword"):
        layer.add_weight((2,), shape=(3,))
    with pytest.raises(ValueError, match="aggregation"):
        layer.add_weight(shape=(2,), aggregation="median")
    with pytest.raises(TypeError, match="unexpected argument"):
        layer.add_weight(shape=(2,), caching_device="cpu")


def test_overwrite_with_gradient():
    layer = Layer(name="ow")
    v = layer.add_weight(shape=(2,), initializer="zeros", overwrite_with_gradient=True, name="amax")
    w = layer.add_weight(shape=(2,), initializer="ones", name="w")
    opt = optimizers.Adam(0.1)
    opt.apply([np.array([3.0, 4.0], np.float32), np.array([1.0, 1.0], np.float32)], [v, w])
    np.testing.assert_array_equal(v.data, [3.0, 4.0])
    np.testing.assert_allclose(w.data, [0.9, 0.9], rtol=1e-5)


def test_custom_layer_in_sequential_with_compute_output_shape():
    class Doubler(Layer):
        def call(self, x):
            return ops.concatenate([x, x * 2.0], axis=-1)

        def compute_output_shape(self, input_shape):
            return input_shape[:-1] + (2 * input_shape[-1],)

    model = Sequential([Input(shape=(3,)), Doubler(), layers.Dense(1)])
    assert model.output_shape == (None, 1)
    out = model(np.ones((2, 3), np.float32))
    assert out.shape == (2, 1)
