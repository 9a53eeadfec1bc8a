"""TextVectorization's fast path (the whitespace split, worked on UTF-8 bytes, n-grams from integer codes) gives
the same vocabulary and outputs as its string path. The string path is reached with a split callable that splits
as TensorFlow does (on the six ASCII whitespace characters only); the golden values from Keras on TensorFlow are
in test_text_vectorization.py, which runs through the fast path too."""

from __future__ import annotations

import re

import numpy as np
import pytest

from myelin import layers
from myelin.layers.preprocessing import text_vectorization as tv_module

_TF_TOKEN = re.compile(r"[^ \t\n\v\f\r]+")


def tf_whitespace(texts):
    """tf.strings.split's whitespace split, as a callable: sends the layer down its string path."""
    return [_TF_TOKEN.findall(t) for t in texts.tolist()]


TRICKY = [
    "",
    "   ",
    "\t\n\r",
    "Hello, World! Hello world",
    "École ÉCOLE über Über ÉCOLE",  # tf.strings.lower lowercases ASCII only
    "non\xa0breaking a\x1cfile a\x1db \u2003em\u2003space",  # no split at U+00A0, U+001C/D, U+2003
    "tab\tnew\nline\vvert\fform\rret end",
    "emoji 😀 😀x x😀 😀",
    "nul\x00byte nul\x00byte",
    "lone \udc80 surrogate \udc80",
    "a b c d e f g h",
    "  a  b   c  ",
    "'quoted' \"dq\" under_score hy-phen e-mail@example.com",
    "a b a b a b a",
    "A B C D",
    "x",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism supercalifragilisticexpialidocious a",  # > 15 bytes
    "sixteen-bytes-ab sixteenbytesabc fifteenbytesab éééééééé",  # 16, 15, 14 and 16 bytes (é is 2)
]
QUERIES = [*TRICKY, "b c d e", "zzz a b", "\xff\xfe ÿ", "a\u00ffb \u00ff"]  # U+00FF: its UTF-8 has no 0xFF byte


def _pair(**kwargs):
    return layers.TextVectorization(**kwargs), layers.TextVectorization(split=tf_whitespace, **kwargs)


@pytest.mark.parametrize("mode", ["int", "multi_hot", "count", "tf_idf"])
@pytest.mark.parametrize("ngrams", [None, 1, 2, 3, (3,), (2, 1), (2, 2), (1, 1), (1, 4)])
@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", "lower", "strip_punctuation", None])
def test_fast_path_equals_string_path(mode, ngrams, standardize):
    kwargs = {"output_mode": mode, "ngrams": ngrams, "standardize": standardize}
    fast, slow = _pair(**kwargs)
    fast.adapt(TRICKY)
    slow.adapt(TRICKY)
    assert fast.get_vocabulary() == slow.get_vocabulary()
    if mode == "tf_idf":
        np.testing.assert_array_equal(fast.idf_weights, slow.idf_weights)
    a, b = fast(QUERIES).data, slow(QUERIES).data
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)
    assert a.any()  # something was found: the comparison is not of two empty outputs


@pytest.mark.parametrize("length", [1, 3, 6, 40])
@pytest.mark.parametrize("ngrams", [None, 2, (2, 1)])
def test_output_sequence_length_pads_and_truncates_as_the_string_path(length, ngrams):
    fast, slow = _pair(output_sequence_length=length, ngrams=ngrams, max_tokens=30)
    fast.adapt(TRICKY)
    slow.adapt(TRICKY)
    a, b = fast(QUERIES).data, slow(QUERIES).data
    assert a.shape == (len(QUERIES), length)
    np.testing.assert_array_equal(a, b)


def test_one_very_long_text_is_cut_as_the_string_path():
    texts = ["a b " * 500, "b", "", "a", *["b a"] * 10]
    for length in (1, 3, 1200):
        fast, slow = _pair(output_sequence_length=length, vocabulary=["a", "b"])
        a, b = fast(texts).data, slow(texts).data
        np.testing.assert_array_equal(a, b)
        assert a.shape == (len(texts), length) and a[0, :3].tolist() == [2, 3, 2][:length]


def test_values_with_ngrams_truncation_and_entries_no_split_can_make():
    # "a  b", "a\tb" and " a" hold whitespace no token can hold: they never match; "b c d" is a trigram
    vocab = ["a b", "a", "b", "a  b", "a\tb", " a", "b c d"]
    tv = layers.TextVectorization(vocabulary=vocab, ngrams=(1, 2, 3), output_sequence_length=7)
    assert tv.get_vocabulary() == ["", "[UNK]", *vocab]
    # "a b c d": unigrams a b c d, bigrams "a b" "b c" "c d", trigrams "a b c" "b c d"; cut to 7
    out = tv(["A b, c d.", "b", "", "a  b a\tb"]).data
    np.testing.assert_array_equal(
        out,
        [[3, 4, 1, 1, 2, 1, 1], [4, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [3, 4, 3, 4, 2, 1, 2]],
    )
    whole = layers.TextVectorization(vocabulary=vocab, ngrams=(1, 2, 3))
    np.testing.assert_array_equal(whole(["A b, c d."]).data, [[3, 4, 1, 1, 2, 1, 1, 1, 8]])
    counts = layers.TextVectorization(vocabulary=vocab, ngrams=(3, 2), output_mode="count")  # 2 of 4 trigrams known
    np.testing.assert_array_equal(counts(["b c d b c d", "a b"]).data, [[7, 0, 0, 0, 0, 0, 0, 2], [0, 1, 0, 0, 0, 0, 0, 0]])


def test_unicode_tokens_and_bytes_input():
    tv = layers.TextVectorization(vocabulary=["école", "École", "😀", "non\xa0breaking", "a\x1cb", "n\x00ul"])
    out = tv(["ÉCOLE École école 😀 non\xa0breaking a\x1cb n\x00ul nul a b"]).data
    np.testing.assert_array_equal(out, [[3, 3, 2, 4, 5, 6, 7, 1, 1, 1]])  # "ÉCOLE" -> "École" (ASCII only)
    from_bytes = tv(np.array(["école 😀".encode()], dtype=object)).data
    np.testing.assert_array_equal(from_bytes, [[2, 4]])
    np.testing.assert_array_equal(tv(np.array(["école 😀".encode()])).data, [[2, 4]])  # an "S" array
    np.testing.assert_array_equal(tv([["école"], ["😀 😀"]]).data, [[2, 0], [4, 4]])  # (batch, 1)
    latin = layers.TextVectorization(vocabulary=["caf\xe9"], encoding="latin-1")
    np.testing.assert_array_equal(latin(np.array(["caf\xe9 x".encode("latin-1")], dtype=object)).data, [[2, 1]])


def test_empty_inputs():
    for mode in ("int", "count"):
        fast, slow = _pair(output_mode=mode, vocabulary=["a"])
        for batch in ([], [""], ["", " \t "]):
            a, b = fast(batch).data, slow(batch).data
            assert a.shape == b.shape
            np.testing.assert_array_equal(a, b)
    assert layers.TextVectorization(vocabulary=["a"])(["", "a"]).data.tolist() == [[0], [2]]


def test_more_texts_than_one_block_and_a_changed_vocabulary():
    gen = np.random.default_rng(0)
    words = np.array(["w" + str(i) for i in range(60)])
    texts = [" ".join(gen.choice(words, size=gen.integers(0, 30))) for _ in range(2 * tv_module._CHUNK + 17)]
    texts[-1] = " ".join(words[:45])  # the longest text is in the last block
    fast, slow = _pair(max_tokens=40, ngrams=2)
    fast.adapt(texts)
    slow.adapt(texts)
    a, b = fast(texts).data, slow(texts).data
    assert a.shape == (len(texts), 45 + 44)
    np.testing.assert_array_equal(a, b)
    fast.set_vocabulary(["w3 w4", "w1"])  # the fast path's tables follow the new vocabulary
    np.testing.assert_array_equal(fast(["w1 w3 w4 w1"]).data, [[3, 1, 1, 3, 1, 2, 1]])


def test_callable_standardize_still_splits_on_whitespace():
    def dashes_to_spaces(texts):
        return np.char.replace(np.char.lower(texts), "-", " ")

    fast, slow = _pair(standardize=dashes_to_spaces, output_mode="count")
    fast.adapt(["Well-Known well known", "known"])
    slow.adapt(["Well-Known well known", "known"])
    assert fast.get_vocabulary() == slow.get_vocabulary() == ["[UNK]", "known", "well"]
    np.testing.assert_array_equal(fast(["KNOWN-well-x"]).data, [[1, 1, 1]])
    np.testing.assert_array_equal(slow(["KNOWN-well-x"]).data, [[1, 1, 1]])


# ---------------------------------------------------------------------------- the packed look-up
def test_packed_table_equals_split_and_a_dict():
    from itertools import repeat

    from myelin.layers.preprocessing._packed_tokens import PackedTable

    gen = np.random.default_rng(3)
    # tokens of every length around the packing limits (7, 8, 15, 16 bytes), NUL bytes, UTF-8 and 0xFF
    alphabet = [b"a", b"b", b"\x00", b"\xc3\xa9", b"\xff", b"\x1c", b"z"]
    vocab = {}
    for n in [*range(1, 20), 30, 200, 300]:
        for _ in range(40):
            token = b"".join(gen.choice(alphabet, size=n).tolist())[:n]
            vocab.setdefault(token, len(vocab) + 5)
    vocab[b"a"], vocab[b"a\x00"], vocab[b"\x00a"] = 1, 2, 3  # a zero byte is not padding
    known = list(vocab)
    pieces = []
    for _ in range(4000):
        pieces.append(
            known[gen.integers(len(known))]
            if gen.random() < 0.7
            else b"".join(gen.choice(alphabet, size=gen.integers(1, 18)).tolist())
        )
        pieces.append(gen.choice([b" ", b"  ", b"\t", b"\n", b"\r\n", b"\x0b", b"\x0c"]))
    data = b" \t" + b"".join(pieces)
    table = PackedTable(vocab, missing=-1)
    tokens = data.split()
    want = np.fromiter(map(vocab.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
    np.testing.assert_array_equal(table.lookup(data), want)
    assert (want >= 0).sum() > 2000 and (want == -1).sum() > 300  # hits and misses, of every length
    assert table.lookup(b"a a\x00 \x00a").tolist() == [1, 2, 3]
    assert table.lookup(b"").tolist() == [] and table.lookup(b" \t\n ").tolist() == []
    assert PackedTable({}, missing=4).lookup(b"x yy").tolist() == [4, 4]


def test_integer_tables_find_every_key_and_miss_the_rest():
    from myelin.layers.preprocessing._packed_tokens import PackedTable

    gen = np.random.default_rng(5)
    keys = np.unique(gen.integers(0, 1 << 40, 5000))
    keys = np.concatenate([keys, np.arange(64) * 1024])  # keys that share low bits: long probe runs
    keys = np.unique(keys)
    values = gen.permutation(len(keys))
    table = PackedTable.of_integers(keys, values, -1)
    queries = np.concatenate([keys, gen.integers(0, 1 << 40, 5000), np.arange(64) * 1024 + 1])
    want = {int(k): int(v) for k, v in zip(keys, values)}
    np.testing.assert_array_equal(table.find_integers(queries), [want.get(int(q), -1) for q in queries.tolist()])
    assert PackedTable.of_integers(np.zeros(0, dtype=np.int64), np.zeros(0), 7).find_integers(np.array([3])).tolist() == [7]


def test_counting_is_exact_when_sort_keys_collide(monkeypatch):
    from myelin.layers.preprocessing import _packed_tokens

    data = b" \xff ".join(t.lower().encode("utf-8", "surrogatepass") for t in TRICKY * 3)
    want = _packed_tokens.count_ngrams(data, (1, 2), b"\xff", True)
    monkeypatch.setattr(_packed_tokens, "_M1", np.uint64(0))  # every token mixes to one sort key
    monkeypatch.setattr(_packed_tokens, "_M2", np.uint64(0))
    got = _packed_tokens.count_ngrams(data, (1, 2), b"\xff", True)
    assert sorted(zip(got[0], got[1].tolist(), got[2].tolist())) == sorted(zip(want[0], want[1].tolist(), want[2].tolist()))
    assert len(want[0]) > 50
