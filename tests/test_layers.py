"""Layers, initializers and regularizers."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Tensor, initializers, layers, regularizers


def test_dense_defaults_match_keras():
    d = layers.Dense(64)
    assert d.activation is myelin.activations.linear and d.use_bias
    assert isinstance(d.kernel_initializer, initializers.GlorotUniform)
    assert isinstance(d.bias_initializer, initializers.Zeros)
    assert d.kernel is None and not d.built  # lazy: no weights before the first input
    out = d(np.ones((2, 784), np.float32))
    assert out.shape == (2, 64) and d.built
    assert d.kernel.shape == (784, 64) and d.bias.shape == (64,)
    assert d.kernel.name == "dense/kernel" and d.bias.name == "dense/bias"
    limit = np.sqrt(6 / (784 + 64))
    assert np.abs(d.kernel.data).max() <= limit and np.abs(d.kernel.data).max() > 0.9 * limit
    assert np.all(d.bias.data == 0)


def test_dense_computes_activation_of_weighted_sum():
    for act in ["relu", "tanh", "linear", "sigmoid", "softmax", "elu", None]:
        d = layers.Dense(3, activation=act)
        x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
        out = d(x).data
        z = x @ d.kernel.data + d.bias.data
        expected = myelin.activations.get(act)(Tensor(z)).data
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


def test_dense_on_3d_input_and_no_bias():
    d = layers.Dense(2, use_bias=False)
    assert d(np.ones((3, 5, 4), np.float32)).shape == (3, 5, 2)
    assert d.bias is None and len(d.weights) == 1


def test_incompatible_shape_names_layer_expected_and_received():
    d = layers.Dense(4, name="hidden")
    d(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError) as err:
        d(np.ones((2, 5), np.float32))
    message = str(err.value)
    assert "'hidden'" in message and "(None, 3)" in message and "(2, 5)" in message


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(2.5)
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.Dense(2, activation="relux")
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(2, unit=3)
    with pytest.raises(ValueError, match="rate must be in"):
        layers.Dropout(1.0)


def test_dropout_inactive_at_inference_and_scaled_in_training():
    d = layers.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    assert np.array_equal(d(x).data, x)
    out = d(x, training=True).data
    kept = out != 0
    assert 0.4 < kept.mean() < 0.6
    assert np.allclose(out[kept], 2.0) and out.dtype == np.float32
    t = Tensor(x, requires_grad=True)
    d(t, training=True).sum().backward()
    assert set(np.unique(t.grad)) <= {0.0, 2.0}


def test_dropout_seed_and_noise_shape():
    a = layers.Dropout(0.5, seed=3)(np.ones((4, 6)), training=True).data
    b = layers.Dropout(0.5, seed=3)(np.ones((4, 6)), training=True).data
    np.testing.assert_array_equal(a, b)
    shared = layers.Dropout(0.5, noise_shape=(None, 1))(np.ones((50, 6)), training=True).data
    assert all(len(set(row)) == 1 for row in shared)  # one mask value per sample


def test_flatten_activation_reshape_and_activation_layers():
    assert layers.Flatten()(np.zeros((2, 3, 4))).shape == (2, 12)
    assert layers.Flatten().compute_output_shape((None, 3, 4)) == (None, 12)
    np.testing.assert_allclose(layers.Activation("relu")(np.array([[-1.0, 2.0]])).data, [[0.0, 2.0]])
    assert layers.Reshape((3, 4))(np.zeros((2, 12))).shape == (2, 3, 4)
    np.testing.assert_allclose(layers.LeakyReLU()(np.array([[-1.0]])).data, [[-0.3]])
    np.testing.assert_allclose(layers.ReLU(max_value=1.0)(np.array([[5.0]])).data, [[1.0]])
    np.testing.assert_allclose(layers.Softmax()(np.zeros((1, 4))).data, np.full((1, 4), 0.25))


def test_input_layer():
    x = myelin.Input(shape=(28, 28))
    assert x.shape == (None, 28, 28)
    assert myelin.Input(shape=4).shape == (None, 4)
    with pytest.raises(ValueError, match="positive integers"):
        myelin.Input(shape=(0,))
    with pytest.raises(ValueError, match="shape of one sample"):
        layers.InputLayer()


def test_weights_get_set_and_trainable():
    d = layers.Dense(2)
    d.build((None, 3))
    values = [np.ones((3, 2)), np.full(2, 0.5)]
    kernel_array = d.kernel.data
    d.set_weights(values)
    assert d.kernel.data is kernel_array  # in place
    np.testing.assert_array_equal(d.get_weights()[1], [0.5, 0.5])
    with pytest.raises(ValueError, match="has shape"):
        d.set_weights([np.ones((2, 2)), np.ones(2)])
    with pytest.raises(ValueError, match="expected 2 arrays"):
        d.set_weights([np.ones((3, 2))])
    d.trainable = False
    assert d.trainable_weights == [] and len(d.non_trainable_weights) == 2
    assert not d.kernel.requires_grad
    d.trainable = True
    assert d.kernel.requires_grad and len(d.trainable_weights) == 2


def test_custom_layer_with_sublayers_and_non_trainable_weight():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(3)

        def build(self, input_shape):
            self.scale = self.add_weight("scale", (3,), initializer="ones", trainable=False)

        def call(self, x, training=False):
            return self.inner(x) * self.scale

    block = Block()
    assert block(np.ones((2, 4))).shape == (2, 3)
    assert len(block.weights) == 3 and len(block.trainable_weights) == 2
    assert block.count_params() == 3 + 4 * 3 + 3
    assert block.compute_output_shape((None, 4)) == (None, 3)


def test_automatic_names_are_unique():
    names = [layers.Dense(1).name for _ in range(3)]
    assert names == ["dense", "dense_1", "dense_2"]
    myelin.utils.clear_session()
    assert layers.Dense(1).name == "dense"


def test_regularizers_add_losses():
    d = layers.Dense(
        2,
        kernel_initializer="ones",
        bias_initializer="ones",
        kernel_regularizer="l2",
        bias_regularizer=regularizers.L1(0.5),
        activity_regularizer=regularizers.L2(1.0),
    )
    out = d(np.ones((1, 3), np.float32))
    penalties = [float(p.data) for p in d.losses]
    assert penalties == pytest.approx([0.01 * 6, 0.5 * 2, float((out.data**2).sum())])
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L1L2(0.1, 0.2)(Tensor([1.0, -2.0])).item() == pytest.approx(0.1 * 3 + 0.2 * 5)
    with pytest.raises(ValueError, match=">= 0"):
        regularizers.L2(-1)


# name -> (distribution, scale): uniform on [-scale, scale], or a normal of standard deviation scale
# (Keras's glorot/he/lecun normals are truncated at 2 raw stddevs and rescaled to keep it); i, o: fans
INITIALIZERS = {
    "glorot_uniform": ("uniform", lambda i, o: np.sqrt(6 / (i + o))),
    "he_uniform": ("uniform", lambda i, o: np.sqrt(6 / i)),
    "lecun_uniform": ("uniform", lambda i, o: np.sqrt(3 / i)),
    "random_uniform": ("uniform", lambda i, o: 0.05),
    "glorot_normal": ("truncated", lambda i, o: np.sqrt(2 / (i + o))),
    "he_normal": ("truncated", lambda i, o: np.sqrt(2 / i)),
    "lecun_normal": ("truncated", lambda i, o: np.sqrt(1 / i)),
    "random_normal": ("normal", lambda i, o: 0.05),
}


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_distributions(name):
    """Mean, spread and range of 60,000 draws: an all-zeros or mis-scaled initializer fails."""
    kind, scale = INITIALIZERS[name]
    w = initializers.get(name)((300, 200))
    assert w.dtype == np.float32 and w.shape == (300, 200)
    s = scale(300, 200)
    # sample mean and std of 60,000 draws: within 1% and 3% with overwhelming probability
    assert abs(w.mean()) < 0.01 * s
    std = s / np.sqrt(3) if kind == "uniform" else s
    assert abs(w.std() - std) < 0.03 * std
    if kind == "uniform":
        assert w.min() >= -s and w.max() <= s and w.min() < -0.99 * s and w.max() > 0.99 * s
    elif kind == "truncated":
        raw = s / 0.87962566103423978  # the stddev before truncation
        assert np.abs(w).max() <= 2 * raw and np.abs(w).max() > 1.95 * raw
    else:
        assert np.abs(w).max() > 3.5 * s  # untruncated tails


def test_constant_initializers():
    assert np.all(initializers.get("zeros")((3, 2)) == 0) and np.all(initializers.get("ones")((3, 2)) == 1)


def test_truncated_normal_is_cut_at_two_stddev_and_seeded_initializers_repeat():
    w = initializers.HeNormal(seed=1)((500, 100))
    stddev = np.sqrt(2 / 500) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * stddev
    np.testing.assert_array_equal(w, initializers.HeNormal(seed=1)((500, 100)))
    assert initializers.Constant(3.0)((2,)).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="Unknown initializer"):
        initializers.get("glorot")


def test_call_without_training_and_mask_protocol():
    """Keras passes training and mask only to a call that declares them; masks ride on the output tensor."""
    from myelin import Tensor
    from myelin.layers import Layer

    class Plain(Layer):  # Keras's shortest custom layer: no training argument
        def call(self, inputs):
            return inputs * 2.0

    class MakesMask(Layer):
        supports_masking = True

        def call(self, inputs):
            return inputs

        def compute_mask(self, inputs, previous_mask):
            return inputs.data != 0

    class PassesMask(Layer):
        supports_masking = True

        def call(self, inputs, mask=None):
            self.seen = mask
            return inputs + 1.0

    x = Tensor(np.array([[1.0, 0.0, 3.0]], dtype=np.float32))
    np.testing.assert_array_equal(Plain()(x).data, [[2.0, 0.0, 6.0]])
    masked = MakesMask()(x)
    np.testing.assert_array_equal(masked._keras_mask, [[True, False, True]])
    passer = PassesMask()
    out = passer(masked)
    np.testing.assert_array_equal(passer.seen, [[True, False, True]])
    np.testing.assert_array_equal(out._keras_mask, [[True, False, True]])  # passed on unchanged
    with pytest.warns(UserWarning, match="does not support masking"):
        dropped = Plain()(masked)
    assert dropped._keras_mask is None
