"""ONNX export: every layer and activation, run in onnxruntime and compared with model.predict."""

from __future__ import annotations

import os

import numpy as np
import pytest

import myelin
from myelin import activations, layers

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from myelin import onnx as myelin_onnx  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6  # float32: 1e-5 relative, with an absolute floor for values near zero


def run_onnx(path, feeds: dict):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session, session.run(None, feeds)


def export_and_compare(model, tmp_path, x, name="model.onnx"):
    """Export, check, run in onnxruntime and compare with predict; returns the loaded proto."""
    path = tmp_path / name
    model.export(path, format="onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    xs = x if isinstance(x, dict) else {proto.graph.input[0].name: x}
    session, outs = run_onnx(path, xs)
    expected = model.predict(x, verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    assert len(outs) == len(expected)
    for got, want in zip(outs, expected):
        if want.dtype.kind in "fc":
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
        else:
            np.testing.assert_array_equal(got, want)
    for i in session.get_inputs():
        assert i.shape[0] == "batch"
    return proto


def rand(*shape, seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype("float32")


# myelin's own activations (tests elsewhere may register custom ones in the same registry)
ACTIVATIONS = sorted(
    {
        activations.REGISTRY.name_of(fn)
        for fn in set(activations.REGISTRY._items.values())
        if fn.__module__ == activations.__name__
    }
)
_EXPORTABLE = [a for a in ACTIVATIONS if a not in ("glu", "sparsemax", "threshold")]  # see NO_ONNX


# issue 17's activations without an ONNX form (glu halves an axis, sparsemax sorts, threshold has no defaults)
NO_ONNX = {"glu", "sparsemax", "threshold"}


def test_every_registered_activation_is_covered():
    assert set(ACTIVATIONS) == {
        "linear", "relu", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "hard_sigmoid",
        "tanh", "softmax", "log_softmax", "softplus", "swish",
        # issue 17
        "relu6", "mish", "hard_silu", "log_sigmoid", "celu", "hard_tanh", "soft_shrink", "hard_shrink",
        "exponential", "softsign", "sparse_plus", "sparse_sigmoid", "squareplus", "tanh_shrink",
    } | NO_ONNX  # fmt: skip


@pytest.mark.parametrize("name", ["glu", "sparsemax"])  # threshold cannot be named: its arguments have no defaults
def test_activations_without_an_onnx_form_are_refused_by_name(name, tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Activation(name)])
    with pytest.raises(myelin_onnx.ExportError, match=f"activation '{name}' has no ONNX form"):
        model.export(tmp_path / "m.onnx")


@pytest.mark.parametrize("name", _EXPORTABLE)
def test_dense_with_each_activation(name, tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(5,)), layers.Dense(7, activation=name), layers.Dense(3)])
    export_and_compare(model, tmp_path, rand(16, 5))


@pytest.mark.parametrize("name", _EXPORTABLE)
def test_activation_layer(name, tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(6,)), layers.Activation(name)])
    x = rand(32, 6, scale=4.0)
    x[0, :3] = [-30.0, 30.0, 0.0]  # the tails, where softplus and the sigmoids saturate
    export_and_compare(model, tmp_path, x)


def test_gelu_approximate_is_refused_by_name_not_silently_changed(tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(2,)), layers.Activation(lambda x: activations.gelu(x, approximate=True))])
    with pytest.raises(myelin_onnx.ExportError, match=r"Activation layer 'activation'.*has no ONNX form"):
        model.export(tmp_path / "m.onnx")


def test_core_layers(tmp_path):
    model = myelin.Sequential(
        [
            myelin.Input(shape=(4, 3)),
            layers.Flatten(),
            layers.Dense(12),
            layers.Reshape((3, 4)),
            layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
            layers.Dense(5),
            layers.LeakyReLU(negative_slope=0.25),
            layers.Dropout(0.5),
            layers.Flatten(),
            layers.ReLU(),
            layers.Dense(4),
            layers.ReLU(max_value=2.0),
            layers.Softmax(),
        ]
    )
    export_and_compare(model, tmp_path, rand(9, 4, 3))


def test_dynamic_batch_dimension(tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(2, activation="tanh")])
    proto = export_and_compare(model, tmp_path, rand(1, 3))
    dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"
    for n in (1, 1024):
        x = rand(n, 3, seed=n)
        _, (out,) = run_onnx(tmp_path / "model.onnx", {"input_layer": x})
        np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=RTOL, atol=ATOL)


def test_opset_is_stated_and_selectable(tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(2)])
    proto = export_and_compare(model, tmp_path, rand(2, 3))
    assert {o.domain: o.version for o in proto.opset_import} == {"": myelin_onnx.OPSET}
    assert myelin_onnx.OPSET == 17
    model.export(tmp_path / "o13.onnx", opset_version=13)
    assert onnx.load(str(tmp_path / "o13.onnx")).opset_import[0].version == 13


def test_functional_multi_input_multi_output_and_nested(tmp_path):
    a, b = myelin.Input(shape=(3,), name="a"), myelin.Input(shape=(2,), name="b")
    inner = myelin.Sequential([layers.Dense(4, activation="relu", input_shape=(5,)), layers.Dense(4)], name="inner")
    merged = layers.Concatenate()([layers.Dense(3, activation="elu")(a), b])
    hidden = inner(merged)
    out1 = layers.Dense(2, activation="softmax", name="probs")(hidden)
    out2 = layers.Dense(1, name="value")(layers.Concatenate()([hidden, a]))
    model = myelin.Model([a, b], [out1, out2])
    proto = export_and_compare(model, tmp_path, {"a": rand(6, 3), "b": rand(6, 2, seed=1)})
    assert [o.name for o in proto.graph.output] == ["probs", "value"]
    assert [i.name for i in proto.graph.input] == ["a", "b"]


def test_preprocessing_numeric(tmp_path):
    data = rand(50, 4) + 10
    norm = layers.Normalization()
    norm.adapt(data)
    model = myelin.Sequential(
        [
            myelin.Input(shape=(4,)),
            layers.Rescaling(0.5, offset=1.0),
            norm,
            layers.Normalization(mean=[1.0] * 4, variance=[4.0] * 4, invert=True),
            layers.Dense(2),
            layers.Normalization(axis=None, mean=3000.0, variance=250000.0, invert=True),  # a regression head's units
        ]
    )
    export_and_compare(model, tmp_path, data)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding(mode, tmp_path):
    shape = (1,) if mode == "one_hot" else (3,)
    inp = myelin.Input(shape=shape, dtype="int64")
    model = myelin.Model(inp, layers.Dense(2)(layers.CategoryEncoding(5, output_mode=mode)(inp)))
    x = np.random.default_rng(0).integers(0, 5, size=(12,) + shape)
    export_and_compare(model, tmp_path, x)


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("mask", [None, ""])
def test_string_lookup(mode, mask, tmp_path):
    width = 1 if mode in ("int", "one_hot") else 3
    inp = myelin.Input(shape=(width,), dtype="string", name="colour")
    lookup = layers.StringLookup(output_mode=mode, mask_token=mask)
    lookup.adapt(np.array(["red", "green", "red", "blue"]))
    model = myelin.Model(inp, lookup(inp))
    x = np.random.default_rng(0).choice(["red", "green", "blue", "pink", ""], size=(20, width)).astype(object)
    export_and_compare(model, tmp_path, {"colour": x})


def test_integer_lookup_and_invert(tmp_path):
    inp = myelin.Input(shape=(1,), dtype="int64", name="code")
    ints = layers.IntegerLookup(vocabulary=[10, 20, 30], mask_token=0)
    idx = ints(inp)
    back = layers.IntegerLookup(vocabulary=[10, 20, 30], mask_token=0, invert=True)(idx)
    names = layers.StringLookup(vocabulary=["zero", "one", "two", "three", "four"], invert=True)(idx)
    model = myelin.Model(inp, [idx, back, names])
    export_and_compare(model, tmp_path, {"code": np.array([[10], [0], [30], [99], [20]])})


def test_raw_tabular_columns_export_whole(tmp_path):
    rng = np.random.default_rng(0)
    size, colour = rng.normal(10, 3, 40).astype("float32"), rng.choice(["red", "green", "blue"], 40)
    size_in = myelin.Input(shape=(1,), name="size")
    colour_in = myelin.Input(shape=(1,), name="colour", dtype="string")
    norm, lookup = layers.Normalization(), layers.StringLookup(output_mode="one_hot")
    norm.adapt(size.reshape(-1, 1))
    lookup.adapt(colour)
    x = layers.Concatenate()([norm(size_in), lookup(colour_in)])
    model = myelin.Model([size_in, colour_in], layers.Dense(3, activation="softmax")(layers.Dense(8, activation="relu")(x)))
    feeds = {"size": size.reshape(-1, 1), "colour": colour.reshape(-1, 1).astype(object)}
    export_and_compare(model, tmp_path, feeds)


def test_custom_layer_error_names_it_and_a_converter_fixes_it(tmp_path):
    class Double(layers.Layer):
        def call(self, x, training=False):
            return x * 2.0

    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(2), Double(name="twice")])
    with pytest.raises(myelin_onnx.ExportError, match=r"layer 'twice' \(Double\) cannot be exported"):
        model.export(tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)  # nothing half-written

    @myelin_onnx.register_converter(Double)
    def _double(graph, layer, inputs):
        return graph.op("Mul", [inputs[0], graph.const(2.0, "two")])

    try:
        export_and_compare(model, tmp_path, rand(4, 3))
    finally:
        del myelin_onnx.CONVERTERS[Double]


def test_subclassed_model_and_unknown_format_errors(tmp_path):
    class Net(myelin.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x, training=False):
            return self.d(x)

    net = Net()
    net.predict(np.zeros((1, 3)), verbose=0)
    with pytest.raises(myelin_onnx.ExportError, match="subclassed model"):
        net.export(tmp_path / "m.onnx")
    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="format 'tf_saved_model' is not available"):
        model.export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(myelin_onnx.ExportError, match="num_oov_indices=2"):
        inp = myelin.Input(shape=(1,), dtype="string")
        myelin.Model(inp, layers.StringLookup(vocabulary=["a"], num_oov_indices=2)(inp)).export(tmp_path / "m.onnx")


def test_export_overwrites_atomically(tmp_path):
    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(2)])
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    model.export(path)
    assert onnx.load(str(path)).graph.input[0].name == "input_layer"
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]
