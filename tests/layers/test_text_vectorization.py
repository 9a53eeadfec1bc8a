"""TextVectorization: Keras's outputs (its docstring examples and golden values from Keras on TensorFlow,
tests/make_text_golden.py), every output mode, ngrams, standardize and split variants, tf_idf numbers,
adapt on lists, arrays and iterables, the config round trip, saving, and errors that name the layer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import layers
from tests.layers import checks

GOLDEN = json.loads((Path(__file__).parent.parent / "data" / "text_vectorization_golden.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- Keras's own examples
def test_keras_docstring_example_adapt_and_pad():
    vectorize = layers.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    vectorize.adapt(["foo bar", "bar baz", "baz bada boom"])
    assert vectorize.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = vectorize([["foo qux bar"], ["qux baz"]]).data
    np.testing.assert_array_equal(out, [[4, 1, 3, 0], [1, 2, 0, 0]])
    assert out.dtype == np.int64


def test_keras_docstring_example_given_vocabulary():
    vectorize = layers.TextVectorization(
        max_tokens=5000, output_mode="int", output_sequence_length=4, vocabulary=["earth", "wind", "and", "fire"]
    )
    assert vectorize.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert vectorize.get_vocabulary(include_special_tokens=False) == ["earth", "wind", "and", "fire"]
    assert vectorize.vocabulary_size() == 6
    np.testing.assert_array_equal(vectorize(["Fire, and wind!", "water"]).data, [[5, 4, 3, 0], [1, 0, 0, 0]])


# ---------------------------------------------------------------------------- golden values from Keras on TensorFlow
def _golden_layer(case):
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("ngrams"), list):
        kwargs["ngrams"] = tuple(kwargs["ngrams"])
    layer = layers.TextVectorization(**kwargs)
    wrap = (lambda texts: [[t] for t in texts]) if case["column"] else (lambda texts: list(texts))
    if case["adapted"]:
        layer.adapt(wrap(GOLDEN["corpus"]))
    return layer, wrap(GOLDEN["queries"])


@pytest.mark.parametrize("name", sorted(GOLDEN["cases"]))
def test_matches_keras_on_tensorflow(name):
    case = GOLDEN["cases"][name]
    layer, queries = _golden_layer(case)
    assert layer.get_vocabulary() == case["vocabulary"]
    out = layer(queries).data
    want = np.array(case["output"])
    assert out.shape == want.shape
    if layer.output_mode == "tf_idf":
        np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(layer.idf_weights, case["idf_weights"], rtol=1e-6)
    else:
        np.testing.assert_array_equal(out, want)
    assert out.dtype == (np.int64 if layer.output_mode == "int" else np.float32)


def test_golden_covers_keras_quirks():
    """ASCII-only lowercasing, ASCII-only whitespace, the 32 punctuation characters: as TensorFlow does them."""
    vocab = GOLDEN["cases"]["default_int"]["vocabulary"]
    assert "École" in vocab and "über" not in vocab and "Über" in vocab  # tf.strings.lower leaves É and Ü
    assert "non\xa0breaking" in vocab and "a\x1cfile" in vocab  # no split at U+00A0 or U+001C
    assert "emailexamplecom" in vocab and "ab" in vocab  # @ . | stripped
    tv = layers.TextVectorization(output_mode="multi_hot")
    tv.adapt(["ÉCOLE École", "a\tb\nc\vd\fe\rf"])
    assert sorted(tv.get_vocabulary()) == sorted(["[UNK]", "École", "a", "b", "c", "d", "e", "f"])


# ---------------------------------------------------------------------------- modes, by hand
def test_output_modes_on_a_small_corpus():
    texts = ["a b b c", "c c c d"]
    count = layers.TextVectorization(output_mode="count")
    count.adapt(texts)
    assert count.get_vocabulary() == ["[UNK]", "c", "b", "d", "a"]
    np.testing.assert_array_equal(count(["b b z a", "c"]).data, [[1, 0, 2, 0, 1], [0, 1, 0, 0, 0]])
    multi = layers.TextVectorization(output_mode="binary", vocabulary=count.get_vocabulary())  # Keras's old name
    assert multi.output_mode == "multi_hot"
    np.testing.assert_array_equal(multi(["b b z a", "c"]).data, [[1, 0, 1, 0, 1], [0, 1, 0, 0, 0]])
    padded = layers.TextVectorization(output_mode="multi_hot", max_tokens=8, pad_to_max_tokens=True)
    padded.adapt(texts)
    assert padded(["a"]).shape == (1, 8)
    ints = layers.TextVectorization()
    ints.adapt(texts)
    np.testing.assert_array_equal(ints(["d a", "a b c d z", ""]).data, [[4, 5, 0, 0, 0], [5, 3, 2, 4, 1], [0, 0, 0, 0, 0]])


def test_tf_idf_follows_keras_formula():
    docs = ["b a c", "c a b d a", "e e e"]
    tv = layers.TextVectorization(output_mode="tf_idf")
    tv.adapt(docs)
    vocab = tv.get_vocabulary()
    assert vocab == ["[UNK]", "e", "a", "c", "b", "d"]  # e:3, a:3 (tie: "e" > "a"), then c, b, d
    doc_freq = {"e": 1, "a": 2, "c": 2, "b": 2, "d": 1}
    idf = np.array([np.log(1 + 3 / (1 + doc_freq[t])) for t in vocab[1:]], dtype=np.float32)
    want_idf = np.concatenate([[idf.mean()], idf])  # the OOV column: the mean weight
    np.testing.assert_allclose(tv.idf_weights, want_idf, rtol=1e-6)
    out = tv(["a a d zz zz zz"]).data
    np.testing.assert_allclose(out, [[3 * want_idf[0], 0, 2 * want_idf[2], 0, 0, want_idf[5]]], rtol=1e-6)


def test_tf_idf_vocabulary_with_or_without_special_tokens():
    plain = layers.TextVectorization(output_mode="tf_idf", vocabulary=["x", "y"], idf_weights=[1.0, 3.0])
    np.testing.assert_array_equal(plain.idf_weights, [2.0, 1.0, 3.0])  # OOV: the mean
    full = layers.TextVectorization(output_mode="tf_idf", vocabulary=["[UNK]", "x", "y"], idf_weights=[0.25, 1.0, 3.0])
    np.testing.assert_array_equal(full.idf_weights, [0.25, 1.0, 3.0])  # OOV weight as given
    np.testing.assert_array_equal(full(["y y q"]).data, [[0.25, 0.0, 6.0]])
    padded = layers.TextVectorization(
        output_mode="tf_idf", max_tokens=5, pad_to_max_tokens=True, vocabulary=["x"], idf_weights=[2.0]
    )
    np.testing.assert_array_equal(padded(["x x"]).data, [[0, 4, 0, 0, 0]])


def test_ngrams_int_and_tuple():
    tv = layers.TextVectorization(ngrams=2, output_mode="count")
    tv.adapt(["a b c"])
    assert tv.get_vocabulary() == ["[UNK]", "c", "b c", "b", "a b", "a"]
    np.testing.assert_array_equal(tv(["a b"]).data, [[0, 0, 0, 1, 1, 1]])
    only = layers.TextVectorization(ngrams=(3,), output_mode="multi_hot")
    only.adapt(["a b c d"])
    assert only.get_vocabulary() == ["[UNK]", "b c d", "a b c"]
    np.testing.assert_array_equal(only(["a b", "x b c d"]).data, [[0, 0, 0], [1, 1, 0]])


def test_split_and_standardize_variants():
    chars = layers.TextVectorization(split="character", standardize="lower")
    chars.adapt(["Abba"])
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a"]
    np.testing.assert_array_equal(chars(["AB!"]).data, [[3, 2, 1]])
    whole = layers.TextVectorization(split=None, standardize=None)
    whole.adapt(np.array(["New York", "Paris", "New York"]))
    assert whole.get_vocabulary() == ["", "[UNK]", "New York", "Paris"]
    np.testing.assert_array_equal(whole(np.array(["Paris", "new york", ""])).data, [3, 1, 0])  # one index per string
    np.testing.assert_array_equal(whole(np.array([["Paris", "New York"]])).data, [[3, 2]])  # (batch, k) stays so
    strip = layers.TextVectorization(standardize="strip_punctuation", vocabulary=["Hi"])
    np.testing.assert_array_equal(strip(["Hi! hi"]).data, [[2, 1]])


def test_callable_standardize_and_split():
    def shout(texts):
        assert isinstance(texts, np.ndarray) and texts.dtype.kind == "U"
        return np.char.upper(texts)

    def on_dashes(texts):
        assert texts.ndim == 1
        return [t.split("-") for t in texts]

    tv = layers.TextVectorization(standardize=shout, split=on_dashes, output_mode="count")
    tv.adapt([["a-b-b"], ["b-c"]])
    assert tv.get_vocabulary() == ["[UNK]", "B", "C", "A"]
    np.testing.assert_array_equal(tv([["c-c-d"]]).data, [[1, 0, 2, 0]])


def test_adapt_on_arrays_bytes_iterables_and_steps():
    texts = ["red fish", "blue fish", "red red", "one fish", "two"]
    reference = layers.TextVectorization()
    reference.adapt(texts)
    vocab = reference.get_vocabulary()
    as_bytes = layers.TextVectorization()
    as_bytes.adapt(np.array([t.encode() for t in texts]))
    assert as_bytes.get_vocabulary() == vocab
    batched = layers.TextVectorization()
    batched.adapt(iter([texts[:2], np.array(texts[2:4]), [texts[4]]]))
    assert batched.get_vocabulary() == vocab
    stepped = layers.TextVectorization()
    stepped.adapt((texts[i : i + 2] for i in range(0, 5, 2)), steps=1)
    assert stepped.get_vocabulary() == ["", "[UNK]", "fish", "red", "blue"]
    sliced = layers.TextVectorization()
    sliced.adapt(np.array(texts), batch_size=2, steps=1)
    assert sliced.get_vocabulary() == stepped.get_vocabulary()
    whole_in_batches = layers.TextVectorization()
    whole_in_batches.adapt(np.array(texts, dtype=object), batch_size=2)
    assert whole_in_batches.get_vocabulary() == vocab
    np.testing.assert_array_equal(reference(np.array([b"two fish"])).data, reference(["two fish"]).data)


def test_adapt_respects_max_tokens_and_replaces_the_vocabulary():
    tv = layers.TextVectorization(max_tokens=4)
    tv.adapt(["a a a b b c"])
    assert tv.get_vocabulary() == ["", "[UNK]", "a", "b"]
    tv.adapt(["z"])
    assert tv.get_vocabulary() == ["", "[UNK]", "z"]


def test_set_vocabulary_from_a_list_a_layer_and_a_file(tmp_path):
    tv = layers.TextVectorization()
    tv.set_vocabulary(["cat", "dog"])
    twin = layers.TextVectorization(vocabulary=tv.get_vocabulary())  # with the special tokens first
    assert twin.get_vocabulary() == ["", "[UNK]", "cat", "dog"]
    path = tmp_path / "vocab.txt"
    path.write_text("cat\ndog\nemu\n\n", encoding="utf-8")
    from_file = layers.TextVectorization(vocabulary=str(path))
    assert from_file.get_vocabulary(include_special_tokens=False) == ["cat", "dog", "emu"]
    assert from_file.get_config()["vocabulary"] == ["cat", "dog", "emu"]  # saved as a list, not a path


# ---------------------------------------------------------------------------- config, saving, models
def test_config_round_trip_keeps_vocabulary_and_idf():
    texts = np.array(["the cat", "the dog", "a bird and a cat"])
    for kwargs in ({"output_sequence_length": 3}, {"output_mode": "tf_idf", "ngrams": (1, 2)}, {"output_mode": "count"}):
        tv = layers.TextVectorization(**kwargs)
        tv.adapt(texts)
        checks.config_round_trip(tv, texts)
        twin = layers.TextVectorization.from_config(json.loads(json.dumps(tv.get_config())))  # as a file holds it
        assert twin.get_vocabulary() == tv.get_vocabulary()
        if tv.output_mode == "tf_idf":
            np.testing.assert_array_equal(twin.idf_weights, tv.idf_weights)
        np.testing.assert_array_equal(twin(texts).data, tv(texts).data)


def test_registered_callables_are_saved_by_name(tmp_path):
    from myelin.saving import register_serializable

    @register_serializable(package="TextTests")
    def no_digits(texts):
        return np.char.replace(texts, "1", "")

    tv = layers.TextVectorization(standardize=no_digits)
    tv.adapt(["a1b c"])
    config = tv.get_config()
    assert config["standardize"] == "TextTests>no_digits"
    assert layers.TextVectorization.from_config(config).standardize is no_digits

    unnamed = layers.TextVectorization(split=lambda texts: [t.split(",") for t in texts], vocabulary=["a"])
    model = checks.model_of(unnamed, (1,), dtype="string")
    with pytest.raises(ValueError, match=r"text_vectorization.*not plain JSON"):
        model.save(tmp_path / "lambda.myelin")


def test_a_text_model_is_saved_and_loaded_whole(tmp_path):
    pytest.importorskip("safetensors")
    texts = np.array([["good fun film"], ["bad dull film"], ["fun good good"], ["dull bad"]], dtype=object)
    tv = layers.TextVectorization(output_mode="tf_idf", ngrams=2, max_tokens=12, pad_to_max_tokens=True)
    tv.adapt(texts)
    inp = myelin.Input(shape=(1,), dtype="string")
    model = myelin.Model(inp, layers.Dense(1, activation="sigmoid")(tv(inp)))
    loaded = checks.saving(model, texts, tmp_path)
    again = next(layer for layer in loaded.layers if isinstance(layer, layers.TextVectorization))
    assert again.get_vocabulary() == tv.get_vocabulary()
    np.testing.assert_array_equal(again.idf_weights, tv.idf_weights)


def test_int_mode_feeds_an_embedding_in_a_model_that_trains():
    rng = np.random.default_rng(0)
    good, bad = ["great", "fine", "superb"], ["awful", "poor", "dire"]
    labels = rng.integers(0, 2, 64)
    texts = np.array([[" ".join(rng.choice(good if y else bad, 3))] for y in labels], dtype=object)
    tv = layers.TextVectorization(output_sequence_length=3)
    tv.adapt(texts)
    inp = myelin.Input(shape=(1,), dtype="string")
    ids = tv(inp)
    assert ids.shape == (None, 3) and ids.dtype == "int64"
    hidden = layers.Flatten()(layers.Embedding(tv.vocabulary_size(), 4)(ids))
    model = myelin.Model(inp, layers.Dense(1, activation="sigmoid")(hidden))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts, labels.astype("float32"), epochs=30, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.95


def test_output_shapes():
    inp = myelin.Input(shape=(1,), dtype="string")
    assert layers.TextVectorization()(inp).shape == (None, None)
    counted = layers.TextVectorization(output_mode="count", vocabulary=["a", "b"])
    assert counted(inp).shape == (None, 3) and counted(inp).dtype == "float32"
    assert layers.TextVectorization(output_mode="count", max_tokens=9, pad_to_max_tokens=True)(inp).shape == (None, 9)
    assert layers.TextVectorization(split=None)(myelin.Input(shape=(2,), dtype="string")).shape == (None, 2)


def test_onnx_export_is_refused_naming_the_layer(tmp_path):
    from myelin.onnx import ExportError

    inp = myelin.Input(shape=(1,), dtype="string")
    model = myelin.Model(inp, layers.Dense(1)(layers.TextVectorization(output_mode="count", vocabulary=["a"])(inp)))
    with pytest.raises(ExportError, match=r"'text_vectorization.*' \(TextVectorization\) cannot be exported"):
        model.export(tmp_path / "text.onnx", format="onnx")


# ---------------------------------------------------------------------------- errors name the layer
def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="TextVectorization: output_sequence_length is only for output_mode='int'"):
        layers.TextVectorization(output_mode="count", output_sequence_length=4)
    with pytest.raises(ValueError, match="TextVectorization 'bag': output_sequence_length is only for"):
        layers.TextVectorization(output_mode="multi_hot", output_sequence_length=4, name="bag")
    with pytest.raises(ValueError, match="TextVectorization: output_sequence_length must be None or a positive integer"):
        layers.TextVectorization(output_sequence_length=2.5)
    with pytest.raises(ValueError, match="TextVectorization: standardize must be"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="TextVectorization: split must be"):
        layers.TextVectorization(split="comma")
    with pytest.raises(ValueError, match="TextVectorization: output_mode must be one of"):
        layers.TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="TextVectorization: ngrams must be"):
        layers.TextVectorization(ngrams=0)
    with pytest.raises(ValueError, match="TextVectorization: sparse=True is not available"):
        layers.TextVectorization(output_mode="count", sparse=True)
    with pytest.raises(ValueError, match="TextVectorization: ragged=True is not available"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="TextVectorization: max_tokens must be None or an integer above 2"):
        layers.TextVectorization(max_tokens=2)
    with pytest.raises(ValueError, match="TextVectorization: pad_to_max_tokens is for the vector modes"):
        layers.TextVectorization(max_tokens=5, pad_to_max_tokens=True)
    with pytest.raises(ValueError, match="TextVectorization: idf_weights are only for output_mode='tf_idf'"):
        layers.TextVectorization(vocabulary=["a"], idf_weights=[1.0])
    with pytest.raises(ValueError, match="needs idf_weights"):
        layers.TextVectorization(output_mode="tf_idf", vocabulary=["a"])
    with pytest.raises(ValueError, match="TextVectorization: unknown text encoding"):
        layers.TextVectorization(encoding="no-such-codec")


def test_bad_vocabularies_are_refused():
    with pytest.raises(ValueError, match=r"TextVectorization 'tv': the vocabulary holds these tokens more than once: \['a'\]"):
        layers.TextVectorization(vocabulary=["a", "b", "a"], name="tv")
    with pytest.raises(ValueError, match="TextVectorization 'tv2': the vocabulary holds the padding"):
        layers.TextVectorization(vocabulary=["a", ""], name="tv2")
    with pytest.raises(ValueError, match="the OOV token"):
        layers.TextVectorization(vocabulary=["a", "[UNK]"])
    with pytest.raises(ValueError, match="leaves room for 2"):
        layers.TextVectorization(max_tokens=4, vocabulary=["a", "b", "c"])
    with pytest.raises(ValueError, match="one weight per vocabulary entry"):
        layers.TextVectorization(output_mode="tf_idf", vocabulary=["a", "b"], idf_weights=[1.0])
    with pytest.raises(TypeError, match="the vocabulary must hold strings"):
        layers.TextVectorization(vocabulary=[1, 2])
    with pytest.raises(ValueError, match="does not exist"):
        layers.TextVectorization(vocabulary="/no/such/vocabulary.txt")
    with pytest.raises(ValueError, match="vocabulary file"):
        layers.TextVectorization.from_config({"vocabulary": "/etc/hostname"})


def test_bad_data_is_refused():
    tv = layers.TextVectorization(name="words")
    with pytest.raises(TypeError, match="TextVectorization 'words': adapt\\(\\) expects strings, got an array of dtype int64"):
        tv.adapt(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="TextVectorization 'words': adapt\\(\\) expects strings, got 3"):
        tv.adapt(np.array(["a", 3], dtype=object))
    with pytest.raises(ValueError, match=r"'words': adapt\(\) expects a list or array of strings .* single string"):
        tv.adapt("just one string")
    with pytest.raises(ValueError, match="'words': adapt\\(\\) found no tokens"):
        tv.adapt(["", "  ", "!!"])
    with pytest.raises(ValueError, match="'words': adapt\\(\\) steps counts batches"):
        tv.adapt(["a"], steps=1)
    tv.adapt(["a b"])
    with pytest.raises(TypeError, match="TextVectorization 'words': the input expects strings, got an array of dtype float"):
        tv(np.array([[1.0]]))
    with pytest.raises(ValueError, match=r"'words': the input expects strings of shape \(batch,\) or \(batch, 1\)"):
        tv(np.array([["a", "b"]]))
    with pytest.raises(RuntimeError, match="TextVectorization 'bag': output_mode='multi_hot' needs a vocabulary"):
        layers.TextVectorization(output_mode="multi_hot", name="bag")(["a"])
    bad_split = layers.TextVectorization(split=lambda texts: [["x"]], vocabulary=["x"], name="split_bad")
    with pytest.raises(ValueError, match="'split_bad': the split callable returned 1 token sequences for 2 strings"):
        bad_split(["a", "b"])
