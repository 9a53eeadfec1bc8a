"""model.explain: the numbers of the report are the model's own forward pass and gradients, exactly."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Tensor, layers, ops


def _model_gradients(model, x, ys):
    """The model's own loss and gradients: one forward (inference mode), compiled loss + penalties, backward."""
    model._clear_call_losses()
    xs = x if isinstance(x, list) else [x]
    out = model(Tensor(xs[0]) if len(xs) == 1 else [Tensor(a) for a in xs], training=False)
    outs = out if isinstance(out, list) else [out]
    total = model._loss(ys, outs, None)
    total.backward()
    grads = {w.name: np.array(w.grad, copy=True) for w in model.trainable_weights}
    for w in model.weights:
        w.grad = None
    model._clear_call_losses()
    return float(total.data), grads


def _deep_model():
    return myelin.Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(8, activation="relu", kernel_regularizer="l2", name="h1"),
            layers.Dropout(0.5, name="drop"),
            layers.Dense(6, activation="tanh", activity_regularizer="l1", name="h2"),
            layers.Dense(5, activation="sigmoid", name="h3"),
            layers.Dense(5, name="h4"),
            layers.Activation("elu", name="act"),
            layers.Dense(3, activation="softmax", name="out"),
        ]
    )


def test_forward_numbers_are_the_models_own():
    model = _deep_model()
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    e = model.explain(x)
    np.testing.assert_array_equal(e.output, model.predict(x, verbose=0))
    # each Dense layer: z = a·W + b on its input, then the activation, as the layer computes it
    a = x
    for name in ("h1", "drop", "h2", "h3", "h4", "act", "out"):
        entry = e[name]
        np.testing.assert_array_equal(entry["input"], a)
        layer = model.get_layer(name)
        if entry["kind"] == "dense":
            np.testing.assert_array_equal(entry["z"], a @ layer.kernel.data + layer.bias.data)
            np.testing.assert_array_equal(entry["kernel"], layer.kernel.data)
            with myelin.no_grad():
                np.testing.assert_array_equal(entry["output"], layer(Tensor(a)).data)
        a = entry["output"]
    np.testing.assert_array_equal(e["drop"]["output"], e["h1"]["output"])  # Dropout is off at inference
    np.testing.assert_allclose(e.probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(e.predicted, model.predict(x, verbose=0).argmax(axis=1))


def test_gradients_are_the_models_own_backward_exactly():
    model = _deep_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4)).astype("float32")
    y = np.array([0, 2, 1, 1, 0])
    e = model.explain(x, y)
    loss, grads = _model_gradients(model, x, [y])
    assert e.loss == loss
    assert e.penalty > 0  # the L2 weight penalty and the L1 activity penalty are in the loss
    for layer in model.layers:
        for w in layer.trainable_weights:
            np.testing.assert_array_equal(e[layer.name]["grad_weights"][w.name], grads[w.name])
    # and the chain rule, step by step, in the report's own arrays
    for name in ("h1", "h2", "h3", "h4", "out"):
        entry = e[name]
        kernel = model.get_layer(name).kernel.data
        if name not in ("h2", "h1"):  # no penalty on these kernels: dL/dW is exactly aᵀ·dL/dz
            np.testing.assert_array_equal(entry["grad_kernel"], entry["input"].T @ entry["grad_z"])
        np.testing.assert_allclose(entry["grad_bias"], entry["grad_z"].sum(axis=0), rtol=1e-6, atol=1e-9)
        if entry["grad_input"] is not None:
            np.testing.assert_array_equal(entry["grad_input"], entry["grad_z"] @ kernel.T)
    # relu passes the gradient only where z > 0
    h1 = e["h1"]
    np.testing.assert_array_equal(h1["grad_z"], h1["grad_output"] * (h1["z"] > 0))
    # softmax with cross-entropy: dL/dz = (p - y) / batch
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(e["out"]["grad_z"], (e.probabilities - onehot) / len(y), rtol=1e-5, atol=1e-7)
    assert e["out"]["grad_output"] is None  # the loss was computed from the logits
    np.testing.assert_allclose(e.sample_losses.mean(), e.data_loss, rtol=1e-6)
    # the model's weights carry no gradient afterwards, and training still works
    assert all(w.grad is None for w in model.weights)
    model.fit(x, y, epochs=1, verbose=0)


def test_one_sample_report_reads_like_the_seed_texts():
    model = myelin.Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(3, activation="relu", name="hidden"),
            layers.Dense(3, activation="softmax", name="output"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.class_names = ["Adelie", "Gentoo", "Chinstrap"]
    e = model.explain([37.3, 16.8, 19.2, 30.0], y=1)
    assert e.single and e.output.shape == (1, 3)
    text = str(e)
    assert "input x = [  37.300,   16.800,   19.200,   30.000]" in text
    assert "weighted sums  z1 = x·W1 + b1 = [" in text
    assert "activations    a1 = relu(z1)" in text and "a2 = softmax(z2)" in text
    predicted = int(e.predicted[0])
    assert f"predicted class: {predicted} ({model.class_names[predicted]})" in text
    assert e.predicted_names == [model.class_names[predicted]]
    for i, name in enumerate(model.class_names):
        assert f"P({i} {name}" in text
    assert "loss (sparse_categorical_crossentropy) for y = 1 (Gentoo): " in text
    assert f"{e.loss:.6g}" in text
    assert "dL/dz2 = p - y (softmax and cross-entropy together)" in text
    assert "dL/dW1 = xᵀ·dL/dz1" in text and "dL/da1 = dL/dz2·W2ᵀ" in text
    assert text.index("layer 2: output") < text.rindex("layer 1: hidden")  # backward runs from the top
    # the printed vectors are the arrays
    z1 = e["hidden"]["z"][0]
    assert ", ".join(f"{v:.3f}".rjust(8) for v in z1 + 0.0) in text


def test_dict_of_arrays_for_code():
    model = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    d = model.explain(np.ones((3, 2)), y=np.eye(2)[[0, 1, 1]], class_names=["a", "b"]).to_dict()
    assert set(d) >= {"input", "layers", "output", "probabilities", "predicted", "loss", "sample_losses", "y"}
    assert set(d["layers"]["out"]) >= {"input", "kernel", "bias", "z", "activation", "output", "grad_z", "grad_kernel"}
    assert d["class_names"] == ["a", "b"] and len(d["predicted_names"]) == 3
    assert d["sample_losses"].shape == (3,)
    # copies: training afterwards does not change the explanation
    kernel = d["layers"]["out"]["kernel"].copy()
    model.fit(np.ones((3, 2)), np.eye(2)[[0, 1, 1]], epochs=2, verbose=0)
    np.testing.assert_array_equal(d["layers"]["out"]["kernel"], kernel)


def test_functional_graph_with_two_outputs_and_a_nested_model(float64):
    inputs = myelin.Input(shape=(3,))
    block = myelin.Sequential([layers.Dense(4, activation="tanh", name="inner")], name="block")
    hidden = block(layers.Dense(5, activation="relu", name="h")(inputs))
    species = layers.Dense(3, activation="softmax", name="species")(hidden)
    mass = layers.Dense(1, name="mass")(hidden)
    model = myelin.Model(inputs, [species, mass])
    model.compile(
        optimizer="adam", loss={"species": "sparse_categorical_crossentropy", "mass": "mse"}, loss_weights=[1.0, 0.5]
    )
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3))
    ys = [np.array([0, 1, 2, 1]), rng.normal(size=(4, 1))]
    e = model.explain(x, ys, class_names=[["A", "G", "C"], None])
    assert list(e.layers) == ["h", "block/inner", "species", "mass"]
    loss, grads = _model_gradients(model, x, ys)
    assert e.loss == loss
    for layer_name, weight in (("h", "h/kernel"), ("block/inner", "inner/kernel"), ("mass", "mass/bias")):
        np.testing.assert_array_equal(e[layer_name]["grad_weights"][weight], grads[weight])
    # a2 feeds two heads: its gradient is the sum of what each sends back
    species, mass = e["species"], e["mass"]
    np.testing.assert_array_equal(species["grad_input"], species["grad_z"] @ model.get_layer("species").kernel.data.T)
    np.testing.assert_array_equal(mass["grad_input"], mass["grad_z"] @ model.get_layer("mass").kernel.data.T)
    np.testing.assert_array_equal(e["block/inner"]["grad_output"], species["grad_input"] + mass["grad_input"])
    d = e.to_dict()
    assert d["output_kind"] == ["softmax", "values"] and d["probabilities"][1] is None
    assert "output 'mass': the model's output values" in str(e)
    assert "dL/da2 (from the 2 layers that use a2)" in str(e)


def test_custom_layer_shows_input_output_and_weight_gradients_only():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")

        def call(self, x, training=False):
            return x * self.w

    model = myelin.Sequential([layers.Input(shape=(3,)), Scale(name="scale"), layers.Dense(2, name="out")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(6, dtype="float32").reshape(2, 3)
    y = np.ones((2, 2), dtype="float32")
    e = model.explain(x, y)
    loss, grads = _model_gradients(model, x, [y])
    assert e.loss == loss
    np.testing.assert_array_equal(e["scale"]["grad_weights"]["scale/w"], grads["scale/w"])
    np.testing.assert_array_equal(e["scale"]["output"], x)
    assert e["scale"]["kind"] == "other" and "z" not in e["scale"]
    assert "scale (Scale: a layer explain cannot see into; only its input and output are shown)" in str(e)
    assert "regression output" in str(e)


def test_subclassed_model_is_one_step():
    class Net(myelin.Model):
        def __init__(self):
            super().__init__(name="net")
            self.hidden = layers.Dense(3, activation="relu")

        def call(self, x, training=False):
            return self.hidden(x)

    net = Net()
    e = net.explain(np.ones((2, 4), dtype="float32"))
    assert list(e.layers) == ["net"]
    assert "a subclassed model: its call() is Python code" in str(e)
    np.testing.assert_array_equal(e.output, net.predict(np.ones((2, 4)), verbose=0))


def test_binary_sigmoid_and_logits_outputs():
    binary = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
    e = binary.explain([0.5, -1.0], class_names=["no", "yes"])
    p = float(e.probabilities[0, 0])
    assert e.predicted_names == ["yes" if p >= 0.5 else "no"]
    assert f"P(1 yes) = {p:.4f}" in str(e) and f"P(0 no ) = {1 - p:.4f}" in str(e)

    logits = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
    logits.compile(optimizer="sgd", loss=myelin.losses.SparseCategoricalCrossentropy(from_logits=True))
    e = logits.explain([0.5, -1.0], y=2)
    with myelin.no_grad():
        expected = ops.softmax(Tensor(e.output)).data
    np.testing.assert_array_equal(e.probabilities, expected)
    assert "the model outputs logits; its loss applies softmax" in str(e)


def test_errors_name_the_argument():
    model = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="class_names has 2 names but the output has 3 classes"):
        model.explain([1.0, 2.0], class_names=["a", "b"])
    with pytest.raises(ValueError, match="not compiled, so it has no loss"):
        model.explain([1.0, 2.0], y=1)
    e = model.explain([1.0, 2.0], y=1, loss="sparse_categorical_crossentropy")
    assert e.loss > 0
    with pytest.raises(ValueError, match="expects input of shape"):
        model.explain([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        model.explain([np.nan, 2.0])
    assert np.isnan(model.explain([np.nan, 2.0], check_finite=False).output).all()  # to see where a NaN goes
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="class labels 0 to 2"):
        model.explain([1.0, 2.0], y=5)
    with pytest.raises(KeyError, match="no layer 'nope'"):
        e["nope"]


def test_unbuilt_model_builds_from_one_sample_and_batches_are_summarised():
    model = myelin.Sequential([layers.Dense(4, activation="relu", name="h"), layers.Dense(2, name="o")])
    e = model.explain([1.0, 2.0, 3.0])
    assert e.single and e["h"]["kernel"].shape == (3, 4)
    big = model.explain(np.ones((10, 3)))
    text = big.report(max_samples=2)
    assert "sample 1:" in text and "sample 2:" not in text and "... 8 more samples" in text


def test_long_vectors_are_shortened():
    from myelin.explain import format_vector

    text = format_vector(np.linspace(0, 1, 784))
    assert text.endswith("(784 values: min 0.000, max 1.000, mean 0.500)")
    assert format_vector([1e-6, 2.0]) == "[1.000e-06, 2.000e+00]"


def test_report_parts():
    model = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    e = model.explain([1.0, 2.0], y=0)
    backward = e.report(parts=("backward",))
    assert "backward pass" in backward and "forward pass" not in backward and "loss (" not in backward
    assert e.report(parts=("forward", "output")) == str(e).split("\n\nloss (")[0]
    with pytest.raises(ValueError, match="unknown part"):
        e.report(parts=("gradients",))


def test_a_subclass_of_dense_with_its_own_call_is_shown_as_itself():
    class Doubled(layers.Dense):
        def call(self, x, training=False):
            return super().call(x) * 2.0

    model = myelin.Sequential([layers.Input(shape=(2,)), Doubled(3, name="doubled")])
    e = model.explain([1.0, 2.0])
    assert e["doubled"]["kind"] == "other"
    np.testing.assert_array_equal(e.output, model.predict(np.array([[1.0, 2.0]]), verbose=0))
