"""Preprocessing layers: Normalization, Rescaling, CategoryEncoding, StringLookup, IntegerLookup, Concatenate."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers
from myelin.layers import REGISTRY


def roundtrip(layer):
    """A new layer from the old one's config, as a saved model rebuilds it."""
    config = layer.get_config()
    config.pop("name")
    return REGISTRY.lookup(type(layer).__name__).from_config(config)


# ---------------------------------------------------------------------------- Normalization
def test_normalization_adapt_matches_numpy():
    data = np.random.default_rng(0).normal(5.0, 3.0, size=(200, 3))
    norm = layers.Normalization()
    norm.adapt(data)
    np.testing.assert_allclose(norm.mean.data, data.mean(0), rtol=1e-6)
    np.testing.assert_allclose(norm.variance.data, data.var(0), rtol=1e-6)
    out = norm(data).data
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1.0, atol=1e-5)
    assert out.dtype == np.float32


def test_normalization_statistics_are_non_trainable_weights():
    norm = layers.Normalization()
    norm.adapt(np.array([[1.0, 2.0], [3.0, 6.0]]))
    assert [w.name for w in norm.weights] == ["normalization/mean", "normalization/variance"]
    assert norm.trainable_weights == []
    assert len(norm.non_trainable_weights) == 2
    model = myelin.Sequential([myelin.Input(shape=(2,)), norm, layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 2)), np.ones(8), epochs=2, verbose=0)
    np.testing.assert_allclose(norm.mean.data, [2.0, 4.0])  # training leaves them alone


def test_normalization_axis_none_and_invert_and_constant_column():
    norm = layers.Normalization(axis=None)
    norm.adapt([1.0, 2.0, 3.0, 4.0])
    assert norm.mean.shape == ()
    assert float(norm.mean.data) == 2.5
    inv = layers.Normalization(axis=None, mean=2.5, variance=1.25, invert=True)
    x = np.array([[0.3], [-1.2]], dtype=np.float32)
    np.testing.assert_allclose(inv(norm(x)).data, x, rtol=1e-6)
    const = layers.Normalization()
    const.adapt(np.array([[7.0], [7.0]]))
    assert np.isfinite(const(np.array([[7.0], [8.0]])).data).all()  # std floored at 1e-7


def test_normalization_given_mean_variance_and_config_roundtrip():
    norm = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    np.testing.assert_allclose(norm([[3.0, 8.0]]).data, [[1.0, 2.0]])
    again = roundtrip(norm)
    np.testing.assert_allclose(again([[3.0, 8.0]]).data, [[1.0, 2.0]])


def test_normalization_is_differentiable():
    x = myelin.Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    norm = layers.Normalization(mean=[0.0, 0.0], variance=[4.0, 16.0])
    norm(x).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.25]])


def test_normalization_errors_name_the_layer():
    with pytest.raises(ValueError, match="both mean and variance"):
        layers.Normalization(mean=1.0)
    norm = layers.Normalization(name="norm")
    with pytest.raises(ValueError, match=r"'norm'.*missing or infinite"):
        norm.adapt(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="batch axis"):
        layers.Normalization().adapt(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="needs numbers"):
        layers.Normalization().adapt(np.array([["a"]]))


# ---------------------------------------------------------------------------- Rescaling
def test_rescaling():
    np.testing.assert_allclose(layers.Rescaling(1 / 255)(np.array([[0, 51, 255]], dtype=np.uint8)).data, [[0, 0.2, 1]])
    r = layers.Rescaling([1.0, 2.0], offset=[0.0, -1.0])
    np.testing.assert_allclose(r([[1.0, 1.0]]).data, [[1.0, 1.0]])
    np.testing.assert_allclose(roundtrip(r)([[1.0, 1.0]]).data, [[1.0, 1.0]])


# ---------------------------------------------------------------------------- CategoryEncoding
def test_category_encoding_modes():
    x = np.array([[0, 1, 1], [2, 2, 2]])
    np.testing.assert_array_equal(layers.CategoryEncoding(4, "multi_hot")(x).data, [[1, 1, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(layers.CategoryEncoding(4, "count")(x).data, [[1, 2, 0, 0], [0, 0, 3, 0]])
    np.testing.assert_array_equal(layers.CategoryEncoding(3, "one_hot")(np.array([[2], [0]])).data, [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(layers.CategoryEncoding(3, "one_hot")(np.array([1.0])).data, [[0, 1, 0]])


def test_category_encoding_errors():
    with pytest.raises(ValueError, match="index 3 is outside \\[0, 3\\)"):
        layers.CategoryEncoding(3)(np.array([[3]]))
    with pytest.raises(ValueError, match="integer indices"):
        layers.CategoryEncoding(3)(np.array([[0.5]]))
    with pytest.raises(ValueError, match="output_mode"):
        layers.CategoryEncoding(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse"):
        layers.CategoryEncoding(3, sparse=True)


# ---------------------------------------------------------------------------- lookups
def test_string_lookup_adapt_orders_by_frequency():
    lookup = layers.StringLookup()
    lookup.adapt(np.array([["b"], ["a"], ["b"], ["c"], ["a"], ["b"]]))
    assert lookup.get_vocabulary() == ["[UNK]", "b", "a", "c"]
    np.testing.assert_array_equal(lookup(np.array([["a"], ["zzz"], ["c"]])).data, [[2], [0], [3]])
    assert lookup(np.array([["a"]])).data.dtype == np.int64


def test_string_lookup_max_tokens_mask_and_oov():
    lookup = layers.StringLookup(max_tokens=4, mask_token="")
    lookup.adapt(["x", "x", "y", "y", "z", ""])
    assert lookup.get_vocabulary() == ["", "[UNK]", "y", "x"]  # Keras breaks the tie by the greater token first
    np.testing.assert_array_equal(lookup(["", "z", "x"]).data, [0, 1, 3])
    multi = layers.StringLookup(vocabulary=["x", "y"], mask_token="", output_mode="multi_hot")
    np.testing.assert_array_equal(multi([["x", "", "q"]]).data, [[1, 1, 0]])  # mask dropped, q is OOV
    strict = layers.StringLookup(vocabulary=["x"], num_oov_indices=0, name="strict")
    with pytest.raises(ValueError, match=r"'strict'.*'q' is not in the vocabulary"):
        strict(["q"])


def test_string_lookup_several_oov_indices_are_stable():
    lookup = layers.StringLookup(vocabulary=["a"], num_oov_indices=3)
    first = lookup(["p", "q", "r", "s", "a"]).data
    assert first[-1] == 3 and ((first[:-1] >= 0) & (first[:-1] < 3)).all()
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=["a"], num_oov_indices=3)(["p", "q", "r", "s", "a"]).data, first
    )


def test_string_lookup_encodings_and_invert():
    vocab = ["red", "green", "blue"]
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=vocab, output_mode="one_hot")([["blue"], ["pink"]]).data,
        [[0, 0, 0, 1], [1, 0, 0, 0]],
    )
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=vocab, output_mode="count")([["red", "red", "blue"]]).data, [[0, 2, 0, 1]]
    )
    padded = layers.StringLookup(vocabulary=vocab, output_mode="multi_hot", max_tokens=6, pad_to_max_tokens=True)
    assert padded([["red"]]).shape == (1, 6)
    inverse = layers.StringLookup(vocabulary=vocab, invert=True)
    assert inverse(np.array([[1, 3, 0]])).data.tolist() == [["red", "blue", "[UNK]"]]
    with pytest.raises(ValueError, match="outside the vocabulary"):
        inverse(np.array([9]))


def test_string_lookup_accepts_objects_bytes_and_missing():
    lookup = layers.StringLookup(vocabulary=["a", "None"])
    np.testing.assert_array_equal(lookup(np.array([b"a", b"b"])).data, [1, 0])
    np.testing.assert_array_equal(lookup(np.array(["a", None], dtype=object)).data, [1, 2])


def test_lookup_config_roundtrip_keeps_vocabulary():
    lookup = layers.StringLookup(output_mode="one_hot", mask_token="")
    lookup.adapt(["b", "a", "b"])
    again = roundtrip(lookup)
    assert again.get_vocabulary() == lookup.get_vocabulary()
    np.testing.assert_array_equal(again(["a", "b", "c"]).data, lookup(["a", "b", "c"]).data)
    ints = layers.IntegerLookup()
    ints.adapt(np.array([5, 5, 9]))
    assert roundtrip(ints).get_vocabulary() == [-1, 5, 9]


def test_integer_lookup():
    lookup = layers.IntegerLookup(vocabulary=[12, 36, 1138], mask_token=0)
    np.testing.assert_array_equal(lookup(np.array([[12, 0, 99, 1138]])).data, [[2, 0, 1, 4]])
    np.testing.assert_array_equal(lookup(np.array([36.0])).data, [3])
    with pytest.raises(ValueError, match="integer indices"):
        lookup(np.array([1.5]))
    inv = layers.IntegerLookup(vocabulary=[12, 36], invert=True)
    assert inv(np.array([2, 0])).data.tolist() == [36, -1]


def test_lookup_ties_and_max_tokens_follow_keras():
    # Keras: ties broken by the greater token first; without "int" mode the mask token takes no index
    ints = layers.IntegerLookup()
    ints.adapt(np.array([3, 9, 5, 9, 5]))
    assert ints.get_vocabulary() == [-1, 9, 5, 3]
    multi = layers.StringLookup(max_tokens=3, mask_token="", output_mode="multi_hot")
    multi.adapt(["a", "b", "b", "c", "c", ""])
    assert multi.get_vocabulary() == ["[UNK]", "c", "b"]
    np.testing.assert_array_equal(multi([["b", "", "a"]]).data, [[1, 0, 1]])


def test_lookup_argument_errors():
    with pytest.raises(ValueError, match="output_mode"):
        layers.StringLookup(output_mode="tf_idf")
    with pytest.raises(ValueError, match="invert=True needs output_mode='int'"):
        layers.StringLookup(invert=True, output_mode="one_hot")
    with pytest.raises(ValueError, match="more than once"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="must not contain the oov_token"):
        layers.StringLookup(vocabulary=["[UNK]"])
    with pytest.raises(ValueError, match="room for 1"):
        layers.StringLookup(max_tokens=2, vocabulary=["a", "b"])


def test_lookup_output_never_builds_a_graph():
    lookup = layers.StringLookup(vocabulary=["a"], output_mode="one_hot")
    out = lookup(["a"])
    assert not out.requires_grad and out._ctx is None


# ---------------------------------------------------------------------------- Concatenate
def test_concatenate_gradients_and_shape_errors():
    a = myelin.Tensor(np.ones((2, 2)), requires_grad=True)
    b = myelin.Tensor(np.ones((2, 1)), requires_grad=True)
    (layers.Concatenate()([a, b]) * np.array([[1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_allclose(a.grad, [[1, 2], [1, 2]])
    np.testing.assert_allclose(b.grad, [[3], [3]])
    with pytest.raises(ValueError, match="agree on every axis"):
        layers.Concatenate()([np.ones((2, 2)), np.ones((3, 2))])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Concatenate()(np.ones((2, 2)))


# ---------------------------------------------------------------------------- models on raw columns
def raw_column_model():
    """Two numeric columns and one string column in, a sigmoid out."""
    rng = np.random.default_rng(0)
    n = 120
    size = rng.normal(10, 3, n)
    weight = rng.normal(50, 10, n)
    colour = rng.choice(["red", "green", "blue"], n)
    y = ((size > 10) ^ (colour == "red")).astype("float32")
    columns = {"size": size, "weight": weight, "colour": colour}
    size_in, weight_in = myelin.Input(shape=(1,), name="size"), myelin.Input(shape=(1,), name="weight")
    colour_in = myelin.Input(shape=(1,), name="colour", dtype="string")
    norm = layers.Normalization()
    norm.adapt(np.stack([size, weight], axis=1))
    lookup = layers.StringLookup(output_mode="one_hot")
    lookup.adapt(colour)
    features = layers.Concatenate()([norm(layers.Concatenate()([size_in, weight_in])), lookup(colour_in)])
    hidden = layers.Dense(8, activation="relu")(features)
    model = myelin.Model([size_in, weight_in, colour_in], layers.Dense(1, activation="sigmoid")(hidden))
    return model, columns, y


def test_model_on_raw_columns_trains_and_predicts_from_a_dict():
    model, columns, y = raw_column_model()
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(columns, y, epochs=100, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    shuffled = {k: columns[k] for k in ("colour", "weight", "size")}  # order by name, not by key order
    np.testing.assert_allclose(model.predict(shuffled, verbose=0), model.predict(columns, verbose=0))


def test_model_on_raw_columns_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    model, columns, _ = raw_column_model()
    model.compile("adam", "binary_crossentropy")
    frame = pd.DataFrame(columns)
    np.testing.assert_allclose(model.predict(frame, verbose=0), model.predict(columns, verbose=0))


def test_strings_rejected_where_the_input_is_numeric():
    model = myelin.Sequential([myelin.Input(shape=(1,)), layers.Dense(1)])
    with pytest.raises(TypeError, match=r'declare the input as strings.*dtype="string"'):
        model.predict(np.array([["a"]]), verbose=0)
    model, columns, _ = raw_column_model()
    with pytest.raises(TypeError, match="x\\['size'\\]: expected numbers"):
        model.predict({**columns, "size": columns["colour"]}, verbose=0)
    with pytest.raises(TypeError, match="declared as strings"):
        model.predict({**columns, "colour": columns["size"]}, verbose=0)


def test_sequential_with_a_string_input():
    model = myelin.Sequential(
        [
            myelin.Input(shape=(1,), dtype="string"),
            layers.StringLookup(vocabulary=["a", "b"], output_mode="one_hot"),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.array(["a", "b"] * 8), np.array([0, 1] * 8), epochs=1, verbose=0)
    assert model.predict(np.array(["a", "b", "c"]), verbose=0).shape == (3, 2)


def test_integer_input_is_kept_integer():
    inp = myelin.Input(shape=(1,), dtype="int64")
    model = myelin.Model(inp, layers.CategoryEncoding(3, output_mode="one_hot")(inp))
    np.testing.assert_array_equal(model.predict(np.array([2.0, 0.0]), verbose=0), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(TypeError, match="not whole numbers"):
        model.predict(np.array([0.5]), verbose=0)


def test_invert_lookup_as_model_output_keeps_long_strings():
    inp = myelin.Input(shape=(1,), dtype="int64")
    model = myelin.Model(inp, layers.StringLookup(vocabulary=["a", "a much longer token"], invert=True)(inp))
    out = model.predict(np.array([[1], [2]]), batch_size=1, verbose=0)
    assert out.ravel().tolist() == ["a", "a much longer token"]


# ---------------------------------------------------------------------------- saved whole (myelin.saving)
def test_a_preprocessing_model_is_saved_and_loaded_whole(tmp_path):
    pytest.importorskip("myelin.saving")
    pytest.importorskip("safetensors")
    from myelin.models import load_model

    model, columns, y = raw_column_model()
    code = myelin.Input(shape=(1,), dtype="int64", name="code")
    ints = layers.IntegerLookup(output_mode="one_hot")
    ints.adapt(np.array([3, 5, 5, 9]))
    scaled = layers.Rescaling(0.5)(layers.CategoryEncoding(4, output_mode="count")(ints(code)))
    full = myelin.Model(model.inputs + [code], layers.Concatenate()([model.outputs[0], scaled]))
    full.compile("adam", "mse")
    feeds = {**columns, "code": np.random.default_rng(1).choice([3, 5, 9, 11], len(y))}
    before = full.predict(feeds, verbose=0)
    full.save(tmp_path / "raw.myelin")
    loaded = load_model(tmp_path / "raw.myelin")
    np.testing.assert_array_equal(loaded.predict(feeds, verbose=0), before)
    norm = next(layer for layer in loaded.layers if isinstance(layer, layers.Normalization))
    original = next(layer for layer in full.layers if isinstance(layer, layers.Normalization))
    np.testing.assert_array_equal(norm.mean.numpy(), original.mean.numpy())
    np.testing.assert_array_equal(norm.variance.numpy(), original.variance.numpy())
    lookup = next(layer for layer in loaded.layers if isinstance(layer, layers.StringLookup))
    assert (
        lookup.get_vocabulary()
        == next(layer for layer in full.layers if isinstance(layer, layers.StringLookup)).get_vocabulary()
    )
    assert next(layer for layer in loaded.layers if isinstance(layer, layers.IntegerLookup)).get_vocabulary() == [-1, 5, 9, 3]
