# Over 800 lines because the layer keeps two paths that must agree: the string path and the fast bytes path.
"""TextVectorization (Keras's): raw text in, token indices or bag-of-words vectors out, without TensorFlow.

Each string goes through four steps: standardize (by default ASCII lowercasing and removal of
the 32 ASCII punctuation characters, exactly what TensorFlow's ``tf.strings.lower`` and
Keras's punctuation regex do), split (by default on the six ASCII whitespace characters, as
``tf.strings.split``), ngrams (optional, joined by one space, every width in the order given)
and look-up in a vocabulary learned by ``adapt`` or given. The output is either one index per
token (``"int"``: 0 for padding, 1 for out-of-vocabulary tokens) or one vector per string
(``"multi_hot"``, ``"count"``, ``"tf_idf"``).

Everything runs on Python strings and NumPy. With the default whitespace split (the common
case), calling the layer works on a block of texts at once: the texts are encoded to UTF-8 and
joined into one ``bytes`` (a 0xFF byte, which UTF-8 never holds, between texts), standardized
by one ``bytes.translate`` (ASCII lowercasing and punctuation touch ASCII bytes only, so this is
exact for any text), then split on TensorFlow's six whitespace bytes and looked up in the
vocabulary in whole-array NumPy, with no Python object per token (``_packed_tokens``: each
token of up to 15 bytes packed exactly into two 64-bit words, an open-addressing hash table);
n-grams are never built as strings but found from the tokens' integer codes in tables of
integer keys, and padding and counting are whole-array NumPy. ``adapt`` counts the same
packed tokens by sorting them (``count_ngrams``: only each distinct token or n-gram becomes a
Python object). Other splits use ``str.translate`` and ``str.split`` per text and the
vocabulary machinery of ``StringLookup``, which this layer holds.

Example:
    >>> from myelin import layers
    >>> vectorize = layers.TextVectorization(output_mode="count")
    >>> vectorize.adapt(["The cat sat.", "The dog sat on the cat!"])
    >>> vectorize.get_vocabulary()
    ['[UNK]', 'the', 'sat', 'cat', 'on', 'dog']
    >>> vectorize(["the bird sat"]).data
    array([[1., 1., 1., 0., 0., 0.]], dtype=float32)
"""

from __future__ import annotations

import codecs
import os
import re
import string
from collections import Counter
from itertools import chain

import numpy as np

from ... import activations
from ...tensor import Tensor
from ..base import REGISTRY
from ._packed_tokens import NgramCounts, PackedTable, count_ngrams
from .tabular import StringLookup, _as_array, _PreprocessingLayer, vocabulary_from_counts

# Keras strips punctuation with this regex (TensorFlow's RE2 syntax). ",-\." is the range from
# "," to ".", so the class holds the 32 ASCII punctuation characters; the tables below are built
# from the regex itself so that they delete exactly what it matches.
PUNCTUATION_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_PUNCTUATION = "".join(chr(c) for c in range(128) if re.fullmatch(PUNCTUATION_REGEX, chr(c)))
# tf.strings.lower without an encoding lowercases the ASCII letters only ("É" stays "É").
_TABLES = {
    "lower": str.maketrans(string.ascii_uppercase, string.ascii_lowercase),
    "strip_punctuation": str.maketrans("", "", _PUNCTUATION),
    "lower_and_strip_punctuation": str.maketrans(string.ascii_uppercase, string.ascii_lowercase, _PUNCTUATION),
}
_STANDARDIZE = tuple(_TABLES)
_SPLIT = ("whitespace", "character")
_MODES = ("int", "multi_hot", "count", "tf_idf")
_MODE_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}  # Keras's deprecated names
# tf.strings.split splits on " \t\n\v\f\r" only; Python's str.split also on these ASCII
# separators and on Unicode spaces, so a string holding any of them takes the regex.
_TF_TOKEN = re.compile(r"[^ \t\n\v\f\r]+")
_PY_ONLY_ASCII_SPACES = "\x1c\x1d\x1e\x1f"
_OOV = "[UNK]"
# the same standardizing as bytes.translate arguments (table, bytes deleted), for the fast path
_BYTE_LOWER = bytes.maketrans(string.ascii_uppercase.encode(), string.ascii_lowercase.encode())
_BYTE_TABLES = {
    None: (None, b""),
    "lower": (_BYTE_LOWER, b""),
    "strip_punctuation": (None, _PUNCTUATION.encode()),
    "lower_and_strip_punctuation": (_BYTE_LOWER, _PUNCTUATION.encode()),
}
_MARK = b"\xff"  # between texts in the joined bytes: never a byte of UTF-8, so never part of a token
_NO_CODE, _MARK_CODE = -1, -2  # fast path: a token outside the vocabulary's parts; a text boundary
_COUNT_BLOCK = 1 << 24  # the encodings count this many (sample, token) cells at a time
_CHUNK = 1024  # strings tokenized at a time: their tokens are Python strings, so they are dropped chunk by chunk


def _text_array(value, name: str) -> np.ndarray:
    """Raw text as an array; a list becomes an object array (no copy of the strings into a wide "U" array)."""
    if isinstance(value, (list, tuple)):
        try:
            arr = np.array(value, dtype=object)
        except ValueError as err:
            raise ValueError(f"layer {name!r}: could not make an array of the input ({err})") from None
        if arr.ndim == 0:
            raise ValueError(f"layer {name!r}: expected one value per sample (an array with a batch axis), got {value!r}")
        return arr
    return _as_array(value, name)


def _split_whitespace(docs: list) -> list:
    """Each string split as tf.strings.split does: on runs of ASCII whitespace, ends stripped."""
    if all(map(str.isascii, docs)):
        joined = "".join(docs)
        if not any(c in joined for c in _PY_ONLY_ASCII_SPACES):
            return [d.split() for d in docs]
    findall = _TF_TOKEN.findall
    return [d.split() if d.isascii() and not any(c in d for c in _PY_ONLY_ASCII_SPACES) else findall(d) for d in docs]


def _ngrams(tokens: list, widths: tuple) -> list:
    """Every n-gram of each width in ``widths``, width by width (tf.strings.ngrams, separator " ")."""
    out: list = []
    for n in widths:
        if n == 1:
            out.extend(tokens)
        elif len(tokens) >= n:
            out.extend(map(" ".join, zip(*(tokens[k:] for k in range(n)))))
    return out


def _fill_rows(out: np.ndarray, count: np.ndarray, found: np.ndarray) -> None:
    """Row r of ``out`` (zeros) gets the next ``count[r]`` values of ``found``, left-aligned, cut to ``out``'s width."""
    rows, width = out.shape
    longest = int(count.max()) if rows else 0
    if longest <= width:
        out[np.arange(width) < count[:, None]] = found  # row by row: the tokens' order
    elif rows * longest <= 2 * (len(found) + out.size):  # a few rows longer than the width: fill wide, then cut
        wide = np.zeros((rows, longest), dtype=out.dtype)
        wide[np.arange(longest) < count[:, None]] = found
        out[...] = wide[:, :width]
    else:  # one very long row: place only what is kept
        place = np.arange(len(found)) - np.repeat(np.cumsum(count) - count, count)
        kept = place < width
        out[np.repeat(np.arange(rows), count)[kept], place[kept]] = found[kept]


@REGISTRY.register("TextVectorization")
class TextVectorization(_PreprocessingLayer):
    """Strings to token indices (``"int"``) or to one vector per string (``"multi_hot"``, ``"count"``, ``"tf_idf"``).

    Arguments are Keras's. ``standardize``: None, "lower_and_strip_punctuation" (default),
    "lower", "strip_punctuation" or a callable that takes a NumPy array of strings and returns
    one of the same shape. ``split``: "whitespace" (default), "character", None (each string is
    one token; a (batch, k) input gives k tokens per sample) or a callable that takes a 1-D
    array of strings and returns one sequence of tokens per string. ``ngrams``: None, n (all
    widths 1..n) or a tuple of widths. ``max_tokens`` caps the vocabulary, special indices
    included (two in "int" mode: 0 for padding, 1 for unknown tokens; one otherwise).
    ``output_sequence_length`` pads with 0 or truncates "int" outputs to that length (without
    it, to the longest string of the batch). ``pad_to_max_tokens`` widens the vectors to
    ``max_tokens``. ``vocabulary`` (a list, array or the path of a file with one token per
    line, special tokens optional at its start) and ``idf_weights`` (one per vocabulary entry,
    "tf_idf" only, required there with a vocabulary) replace ``adapt``.

    ``adapt`` orders the vocabulary by count, ties broken by the greater token first, as
    Keras; "tf_idf" weighs a token by ``log(1 + documents / (1 + documents holding it))`` and
    the out-of-vocabulary index by the mean of those weights. The vocabulary and the weights
    are part of ``get_config()``, so a saved model keeps them (JSON, never pickle).

    ``sparse=True`` and ``ragged=True`` are refused (myelin has no sparse or ragged tensors).

    Example:
        >>> vectorize = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
        >>> vectorize.adapt(["foo bar", "bar baz", "baz bada boom"])
        >>> vectorize([["foo qux bar"], ["qux baz"]]).data
        array([[4, 1, 3, 0],
               [1, 2, 0, 0]])
        >>> TextVectorization(vocabulary=["earth", "wind", "and", "fire"]).get_vocabulary()
        ['', '[UNK]', 'earth', 'wind', 'and', 'fire']
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        pad_to_max_tokens: bool = False,
        vocabulary=None,
        idf_weights=None,
        sparse: bool = False,
        ragged: bool = False,
        encoding: str = "utf-8",
        **kwargs,
    ):
        who = "TextVectorization" + (f" {kwargs['name']!r}" if kwargs.get("name") else "")
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError(
                f"{who}: standardize must be None, a callable or one of {', '.join(map(repr, _STANDARDIZE))}; "
                f"got {standardize!r}"
            )
        if not (split is None or callable(split) or split in _SPLIT):
            raise ValueError(f"{who}: split must be None, a callable, 'whitespace' or 'character'; got {split!r}")
        output_mode = _MODE_ALIASES.get(output_mode, output_mode)
        if output_mode not in _MODES:
            raise ValueError(f"{who}: output_mode must be one of {', '.join(map(repr, _MODES))}; got {output_mode!r}")
        self._ngram_widths = self._widths(ngrams)
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(
                    f"{who}: output_sequence_length is only for output_mode='int'; got "
                    f"output_sequence_length={output_sequence_length!r} with output_mode={output_mode!r}"
                )
            if (
                isinstance(output_sequence_length, bool)
                or not isinstance(output_sequence_length, (int, np.integer))
                or output_sequence_length < 1
            ):
                raise ValueError(
                    f"{who}: output_sequence_length must be None or a positive integer; got {output_sequence_length!r}"
                )
            output_sequence_length = int(output_sequence_length)
        special = 2 if output_mode == "int" else 1
        if max_tokens is not None:
            if isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer)) or max_tokens <= special:
                raise ValueError(
                    f"{who}: max_tokens must be None or an integer above {special} (the padding and OOV indices "
                    f"of output_mode={output_mode!r} come first); got {max_tokens!r}"
                )
            max_tokens = int(max_tokens)
        if pad_to_max_tokens and output_mode == "int":
            raise ValueError(f"{who}: pad_to_max_tokens is for the vector modes (multi_hot, count, tf_idf), not 'int'")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{who}: pad_to_max_tokens=True needs max_tokens")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{who}: idf_weights are only for output_mode='tf_idf', got output_mode={output_mode!r}")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{who}: output_mode='tf_idf' with a vocabulary needs idf_weights as well")
        if sparse:
            raise ValueError(f"{who}: sparse=True is not available: myelin has no sparse tensors")
        if ragged:
            raise ValueError(
                f"{who}: ragged=True is not available: myelin has no ragged tensors; 'int' outputs are padded "
                "with 0 (set output_sequence_length for a fixed length)"
            )
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise ValueError(f"{who}: unknown text encoding {encoding!r}") from None
        kwargs.setdefault("dtype", "int64" if output_mode == "int" else None)
        if kwargs["dtype"] is None:
            del kwargs["dtype"]
        super().__init__(**kwargs)
        self.max_tokens = max_tokens
        self.standardize, self.split, self.ngrams = standardize, split, ngrams
        self.output_mode, self.output_sequence_length = output_mode, output_sequence_length
        self.pad_to_max_tokens, self.sparse, self.ragged, self.encoding = bool(pad_to_max_tokens), False, False, encoding
        # the vocabulary machinery: a StringLookup with "" as its mask (padding) token, as in Keras
        self._lookup = StringLookup(
            max_tokens=max_tokens,
            mask_token="",
            output_mode="int" if output_mode == "int" else "count",
            pad_to_max_tokens=self.pad_to_max_tokens,
            encoding=encoding,
            name=f"{self.name}_lookup",
        )
        self._idf: np.ndarray | None = None  # one weight per output column ("tf_idf")
        self._fast = None  # (the vocabulary list they were made from, the fast path's tables)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    @staticmethod
    def _widths(ngrams) -> tuple:
        if ngrams is None:
            return ()
        if isinstance(ngrams, (int, np.integer)) and not isinstance(ngrams, bool) and ngrams >= 1:
            return tuple(range(1, int(ngrams) + 1))
        if (
            isinstance(ngrams, (tuple, list))
            and ngrams
            and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in ngrams)
        ):
            return tuple(int(n) for n in ngrams)
        raise ValueError(f"TextVectorization: ngrams must be None, a positive integer or a tuple of them; got {ngrams!r}")

    # ------------------------------------------------------------------ text to tokens
    def _strings(self, arr: np.ndarray, where: str) -> np.ndarray:
        """``arr`` as an array of Python strings (bytes decoded), or an error naming the layer."""
        if arr.dtype.kind == "U":
            return arr
        if arr.dtype.kind == "S":
            return np.char.decode(arr, self.encoding)
        if arr.dtype.kind == "O":
            flat = arr.ravel().tolist()
            if all(type(v) is str for v in flat):
                return arr
            out = []
            for i, v in enumerate(flat):
                if isinstance(v, bytes):
                    v = v.decode(self.encoding)
                elif not isinstance(v, str):
                    raise TypeError(
                        f"TextVectorization {self.name!r}: {where} expects strings, got {v!r} "
                        f"({type(v).__name__}) at flat index {i}"
                    )
                out.append(v)
            return np.array(out, dtype=object).reshape(arr.shape)
        raise TypeError(f"TextVectorization {self.name!r}: {where} expects strings, got an array of dtype {arr.dtype}")

    def _checked_strings(self, arr: np.ndarray, where: str) -> np.ndarray:
        """``arr`` as strings of an accepted shape, or an error naming the layer."""
        strings = self._strings(arr, where)
        if strings.ndim > 2 or (self.split is not None and strings.ndim == 2 and strings.shape[1] != 1):
            need = "(batch,) or (batch, 1)" if self.split is not None else "(batch,) or (batch, tokens)"
            raise ValueError(
                f"TextVectorization {self.name!r}: {where} expects strings of shape {need}, got shape {strings.shape}"
            )
        return strings

    def _called_standardize(self, strings: np.ndarray) -> list:
        """The standardize callable's result on ``strings``, flat, checked."""
        out = np.asarray(self.standardize(strings.astype(str)))
        if out.shape != strings.shape:
            raise ValueError(
                f"TextVectorization {self.name!r}: the standardize callable returned shape {out.shape} "
                f"for input of shape {strings.shape}; it must keep the shape"
            )
        return self._strings(out, "the standardize callable's result").ravel().tolist()

    def _tokens(self, arr: np.ndarray, where: str) -> list:
        """One list of tokens per sample: standardized, split and made into n-grams."""
        strings = self._checked_strings(arr, where)
        if callable(self.standardize):
            flat = self._called_standardize(strings)
        else:
            flat = strings.ravel().tolist()
            if self.standardize is not None:
                table = _TABLES[self.standardize]
                flat = [d.translate(table) for d in flat]
        if self.split is None:
            width = strings.shape[1] if strings.ndim == 2 else 1
            rows = [flat[i : i + width] for i in range(0, len(flat), width)] if width != 1 else [[d] for d in flat]
        elif self.split == "whitespace":
            rows = _split_whitespace(flat)
        elif self.split == "character":
            rows = [list(d) for d in flat]
        else:
            rows = self._split_with(flat)
        if self._ngram_widths and self._ngram_widths != (1,):
            widths = self._ngram_widths
            rows = [_ngrams(r, widths) for r in rows]
        return rows

    def _split_with(self, flat: list) -> list:
        result = self.split(np.array(flat, dtype=str) if flat else np.zeros(0, dtype=str))
        rows = []
        for row in result:
            row = row.tolist() if isinstance(row, np.ndarray) else list(row)
            rows.append([t.decode(self.encoding) if isinstance(t, bytes) else t for t in row])
        if len(rows) != len(flat):
            raise ValueError(
                f"TextVectorization {self.name!r}: the split callable returned {len(rows)} token sequences "
                f"for {len(flat)} strings; it must return one per string"
            )
        for row in rows:
            bad = next((t for t in row if not isinstance(t, str)), None)
            if bad is not None:
                raise TypeError(
                    f"TextVectorization {self.name!r}: the split callable must return strings, got {bad!r} "
                    f"({type(bad).__name__})"
                )
        return rows

    # ------------------------------------------------------------------ the whitespace split's fast path
    def _fast_tables(self) -> tuple:
        """The look-up tables of the fast path, made once per vocabulary.

        ``codes`` (a ``PackedTable``): UTF-8 token -> an integer code, for every token that is a
        vocabulary entry or a part of one (an n-gram entry split at its spaces); the text
        boundary -> _MARK_CODE (without n-grams the codes are the indices).
        ``unigram[code]``: the index of that token as a unigram (the OOV index for a token that
        is only a part, and at position -1 for _NO_CODE). ``levels[k]``: a table from the integer keys
        ``prefix * K + code`` of the k-token prefixes of the n-gram entries to each prefix's id;
        ``finals[n][prefix id]``: the index of the n-gram entry with that prefix (OOV if none).
        An entry that no whitespace split can produce (a part empty or holding whitespace, a
        width that ``ngrams`` does not make) gets no code and can match nothing, as in the
        string path.
        """
        vocab = self._lookup._vocab
        if self._fast is not None and self._fast[0] is vocab:
            return self._fast[1]
        oov = int(self._lookup._uses_mask_index)
        widths = set(self._ngram_widths or (1,))
        if self._ngram_widths in ((), (1,)):  # no n-grams: the codes are the indices (an entry with whitespace never matches)
            codes = {t.encode("utf-8", "surrogatepass"): i for t, i in self._lookup._table.items()}
            codes[_MARK] = _MARK_CODE
            self._fast = (vocab, (PackedTable(codes, oov), None, 1, {}, {}, oov))
            return self._fast[1]
        codes: dict = {}
        unigram: list = []
        entries = []

        def code(part: bytes) -> int:
            c = codes.get(part)
            if c is None:
                c = codes[part] = len(codes)
                unigram.append(oov)
            return c

        for token, index in self._lookup._table.items():
            parts = token.encode("utf-8", "surrogatepass").split(b" ")
            if len(parts) not in widths or not all(p and p.split() == [p] for p in parts):
                continue
            if len(parts) == 1:
                unigram[code(parts[0])] = index
            else:
                entries.append(([code(p) for p in parts], index))
        size = max(len(codes), 1)
        prefixes: dict = {k: {} for k in range(2, max(widths) + 1)}
        ends: dict = {n: {} for n in widths if n > 1}
        for parts, index in entries:
            prefix = parts[0]
            for k in range(2, len(parts) + 1):
                level = prefixes[k]
                prefix = level.setdefault(prefix * size + parts[k - 1], len(level))
            ends[len(parts)][prefix] = index
        levels = {}
        for k, level in prefixes.items():
            keys = np.fromiter(level.keys(), dtype=np.int64, count=len(level))
            ids = np.fromiter(level.values(), dtype=np.int64, count=len(level))
            levels[k] = PackedTable.of_integers(keys, ids, -1)
        finals = {}
        for n, found in ends.items():
            final = np.full(len(prefixes[n]), oov, dtype=np.int64)
            final[np.fromiter(found.keys(), dtype=np.int64, count=len(found))] = list(found.values())
            finals[n] = final
        codes[_MARK] = _MARK_CODE
        tables = (PackedTable(codes, _NO_CODE), np.array([*unigram, oov], dtype=np.int64), size, levels, finals, oov)
        self._fast = (vocab, tables)
        return tables

    def _joined_bytes(self, strings: np.ndarray, separator: bytes) -> tuple:
        """(the number of texts, the texts standardized as UTF-8, ``separator`` between them)."""
        if callable(self.standardize):
            flat, (table, delete) = self._called_standardize(strings), (None, b"")
        else:
            flat, (table, delete) = strings.ravel().tolist(), _BYTE_TABLES[self.standardize]
        joined = separator.join([d.encode("utf-8", "surrogatepass") for d in flat])
        if table is not None or delete:
            joined = joined.translate(table, delete)
        return len(flat), joined

    def _fast_indices(self, strings: np.ndarray) -> tuple:
        """(entries per text, their indices text after text) for the whitespace split, all texts at once.

        The same result as ``_tokens`` and ``lookup_tokens``: the split is on the six ASCII
        whitespace bytes (TensorFlow's) and nothing else, and ASCII lowercasing and punctuation
        removal change ASCII bytes only, so working on UTF-8 changes nothing.
        """
        n, joined = self._joined_bytes(strings, b" " + _MARK + b" ")
        if not n:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        packed, unigram, size, levels, finals, oov = self._fast_tables()
        found = packed.lookup(joined)
        del joined
        marks = np.flatnonzero(found == _MARK_CODE)
        bounds = np.concatenate([[-1], marks, [len(found)]])
        lengths = np.diff(bounds) - 1  # tokens per text
        found = np.delete(found, marks)
        widths = self._ngram_widths or (1,)
        if unigram is None:
            return lengths, found
        first = bounds[:-1] + 1 - np.arange(len(lengths))  # each text's first token once the marks are gone
        local = np.arange(len(found)) - np.repeat(first, lengths)  # each token's position in its text
        per_width = [np.maximum(lengths - n + 1, 0) for n in widths]
        total = np.sum(per_width, axis=0)
        base = np.cumsum(total) - total  # where each text's entries start in the output
        indices = np.empty(int(total.sum()), dtype=np.int64)
        offset = base - first
        for n, count in zip(widths, per_width):
            starts = np.flatnonzero(local <= np.repeat(lengths - n, lengths))
            values = unigram[found[starts]] if n == 1 else self._ngram_indices(found, starts, n, levels, finals, size, oov)
            indices[np.repeat(offset, count) + starts] = values
            offset = offset + count
        return total, indices

    @staticmethod
    def _ngram_indices(found, starts, n, levels, finals, size, oov) -> np.ndarray:
        """The index of each n-gram starting at ``starts``: its codes followed through the prefix levels."""
        prefix = found[starts]
        for k in range(2, n + 1):
            part = found[starts + (k - 1)]
            where = np.flatnonzero((prefix >= 0) & (part >= 0))
            key = prefix[where] * size + part[where]
            prefix = np.full(len(starts), -1, dtype=np.int64)
            prefix[where] = levels[k].find_integers(key)
        out = np.full(len(starts), oov, dtype=np.int64)
        known = prefix >= 0
        out[known] = finals[n][prefix[known]]
        return out

    # ------------------------------------------------------------------ vocabulary
    def _special_tokens(self) -> list:
        return [""] * (self.output_mode == "int") + [_OOV]

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use ``vocabulary`` (tokens, a file path, or ``get_vocabulary()``'s list with the special tokens first).

        ``idf_weights`` (one per entry of ``vocabulary``) are required in "tf_idf" mode and
        refused otherwise; without the special tokens in ``vocabulary``, the OOV index gets
        the mean weight.

        Example:
            >>> tv = TextVectorization(output_mode="tf_idf")
            >>> tv.set_vocabulary(["a", "b"], idf_weights=[0.5, 1.5])
            >>> tv(["a b b z"]).data
            array([[1. , 0.5, 3. ]], dtype=float32)
        """
        who = f"TextVectorization {self.name!r}"
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{who}: output_mode='tf_idf' needs idf_weights with the vocabulary")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{who}: idf_weights are only for output_mode='tf_idf', got output_mode={self.output_mode!r}")
        if isinstance(vocabulary, (str, os.PathLike)):
            if self.output_mode == "tf_idf":
                raise ValueError(f"{who}: output_mode='tf_idf' takes the vocabulary as a list, not a file")
            if not os.path.isfile(vocabulary):
                raise ValueError(f"{who}: vocabulary file {os.fspath(vocabulary)!r} does not exist")
            with open(vocabulary, encoding=self.encoding) as f:
                tokens = f.read().splitlines()
            while tokens and tokens[-1] == "":
                tokens.pop()
        else:
            values = vocabulary.tolist() if isinstance(vocabulary, np.ndarray) else list(vocabulary)
            tokens = []
            for t in values:
                if isinstance(t, bytes):
                    t = t.decode(self.encoding)
                elif not isinstance(t, str):
                    raise TypeError(f"{who}: the vocabulary must hold strings, got {t!r} ({type(t).__name__})")
                tokens.append(t)
        if not tokens:
            raise ValueError(f"{who}: the vocabulary is empty")
        special = self._special_tokens()
        found_special = tokens[: len(special)] == special
        body = tokens[len(special) :] if found_special else tokens
        if len(set(body)) != len(body):
            repeated = sorted(t for t, c in Counter(body).items() if c > 1)
            raise ValueError(f"{who}: the vocabulary holds these tokens more than once: {repeated[:10]}")
        for token, what in (("", "the padding (mask) token ''"), (_OOV, f"the OOV token {_OOV!r}")):
            if token in body:
                raise ValueError(
                    f"{who}: the vocabulary holds {what} at position {tokens.index(token, len(tokens) - len(body))}; "
                    f"give the special tokens only at the start, in this order: {special}, or not at all"
                )
        capacity = self._lookup._capacity()
        if capacity is not None and len(body) > capacity:
            raise ValueError(
                f"{who}: the vocabulary has {len(body)} tokens but max_tokens={self.max_tokens} leaves room for "
                f"{capacity} after the special indices"
            )
        idf = None
        if idf_weights is not None:
            idf = np.asarray(idf_weights.data if isinstance(idf_weights, Tensor) else idf_weights, dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(tokens):
                raise ValueError(
                    f"{who}: idf_weights must be a 1-D list with one weight per vocabulary entry ({len(tokens)}), "
                    f"got shape {idf.shape}"
                )
            if not np.isfinite(idf).all():
                raise ValueError(f"{who}: idf_weights must be finite numbers")
        self._lookup.set_vocabulary(body)
        self._idf = None if idf is None else self._idf_columns(idf.astype(np.float32), not found_special)

    def _idf_columns(self, weights: np.ndarray, add_oov: bool) -> np.ndarray:
        """One weight per output column: the OOV index (the mean weight when not given), the tokens, zero padding."""
        if add_oov:
            mean = np.float32(weights.mean(dtype=np.float64)) if len(weights) else np.float32(0.0)
            weights = np.concatenate([np.array([mean], dtype=np.float32), weights])
        if self.pad_to_max_tokens:
            weights = np.concatenate([weights, np.zeros(self.max_tokens - len(weights), dtype=np.float32)])
        return weights

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and in "tf_idf" mode the document frequencies) from ``data``.

        ``data``: a list or NumPy array of strings, or any iterable of batches (a generator, a
        dataset); ``steps`` reads only that many batches; with an array, ``batch_size`` reads it
        in batches of that size (``steps`` of them if given). The vocabulary is ordered by
        count, ties broken by the greater token first, and cut to ``max_tokens``.

        Example:
            >>> tv = TextVectorization(output_mode="tf_idf")
            >>> tv.adapt(["b a c", "c a b d a"])
            >>> tv.get_vocabulary()
            ['[UNK]', 'a', 'c', 'b', 'd']
            >>> [round(float(w), 4) for w in tv.idf_weights]
            [0.5564, 0.5108, 0.5108, 0.5108, 0.6931]
        """
        who = f"TextVectorization {self.name!r}"
        counts: Counter = Counter()
        documents: Counter = Counter()
        n_docs = 0
        seen = False
        fast = self.split == "whitespace"  # tokens as UTF-8 bytes, counted in whole-array NumPy
        widths, totals = self._ngram_widths or (1,), NgramCounts()
        step = 4 * _CHUNK if fast else _CHUNK
        for batch in self._batches(data, batch_size, steps):
            arr = _text_array(batch, self.name)
            for start in range(0, len(arr), step) if len(arr) else [0]:
                if fast:  # only each distinct token or n-gram of the block becomes a Python object
                    strings = self._checked_strings(arr[start : start + step], "adapt()")
                    n, joined = self._joined_bytes(strings, b" " + _MARK + b" ")
                    totals.add(*count_ngrams(joined, widths, _MARK, self.output_mode == "tf_idf"))
                    seen = seen or n > 0
                    n_docs += n
                    continue
                rows = self._tokens(arr[start : start + _CHUNK], "adapt()")
                seen = seen or len(rows) > 0
                counts.update(chain.from_iterable(rows))
                if self.output_mode == "tf_idf":
                    documents.update(chain.from_iterable(map(set, rows)))
                    n_docs += len(rows)
        if not seen:
            raise ValueError(f"{who}: adapt() got no data")
        if fast:
            counts, documents = totals.totals()
        for special in ("", _OOV):
            counts.pop(special.encode() if fast else special, None)
        if not counts:
            raise ValueError(f"{who}: adapt() found no tokens in the data (every string standardized and split to nothing)")
        # UTF-8 bytes sort as their strings do (by code point), so the order is found before decoding
        keys = vocabulary_from_counts(counts, self._lookup._capacity())
        tokens = [t.decode("utf-8", "surrogatepass") for t in keys] if fast else keys
        self._lookup.set_vocabulary(tokens)
        if self.output_mode == "tf_idf":
            df = np.fromiter((documents[t] for t in keys), dtype=np.float64, count=len(tokens))
            self._idf = self._idf_columns(np.log(1.0 + n_docs / (1.0 + df)).astype(np.float32), True)

    def _batches(self, data, batch_size, steps):
        who = f"TextVectorization {self.name!r}"
        for value, what in ((batch_size, "batch_size"), (steps, "steps")):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
                raise ValueError(f"{who}: adapt() {what} must be a positive integer or None, got {value!r}")
        if isinstance(data, (str, bytes)):
            raise ValueError(f"{who}: adapt() expects a list or array of strings (one per sample), got a single string")
        if isinstance(data, (list, tuple, np.ndarray, Tensor)) or hasattr(data, "to_numpy"):
            arr = _text_array(data, self.name)
            if batch_size is None:
                if steps is not None:
                    raise ValueError(f"{who}: adapt() steps counts batches: with an array, give batch_size too")
                yield arr
                return
            end = len(arr) if steps is None else min(len(arr), int(steps) * int(batch_size))
            for start in range(0, end, int(batch_size)):
                yield arr[start : min(start + int(batch_size), end)]
            return
        if not hasattr(data, "__iter__"):
            raise TypeError(
                f"{who}: adapt() expects a list or array of strings or an iterable of batches, got {type(data).__name__}"
            )
        for i, batch in enumerate(data):
            if steps is not None and i >= steps:
                break
            if isinstance(batch, str):
                raise ValueError(
                    f"{who}: adapt() got an iterable of single strings; give the strings as a list or array, "
                    "or an iterable of batches (lists or arrays of strings)"
                )
            yield batch

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """Index -> token: in "int" mode '' (padding) and '[UNK]' first, otherwise '[UNK]' first.

        Example:
            >>> TextVectorization(vocabulary=["a"]).get_vocabulary(include_special_tokens=False)
            ['a']
        """
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, special ones included.

        Example:
            >>> TextVectorization(vocabulary=["a", "b"], output_mode="multi_hot").vocabulary_size()
            3
        """
        return self._lookup.vocabulary_size()

    @property
    def idf_weights(self) -> np.ndarray | None:
        """The weight of each output column in "tf_idf" mode (the OOV index first), else None.

        Example:
            >>> TextVectorization(output_mode="tf_idf", vocabulary=["a"], idf_weights=[2.0]).idf_weights
            array([2., 2.], dtype=float32)
        """
        return None if self._idf is None else self._idf.copy()

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs, training: bool = False, **kwargs):
        if isinstance(inputs, (list, tuple)):
            inputs = Tensor._wrap(_text_array(inputs, self.name), False)
        return super().__call__(inputs, training=training, **kwargs)

    def call(self, x, training=False):
        return Tensor._wrap(self._vectorize(x.data), False)

    def _vectorize(self, arr: np.ndarray) -> np.ndarray:
        who = f"TextVectorization {self.name!r}"
        encoding = self.output_mode != "int"
        if encoding and not self.pad_to_max_tokens and not self._lookup._vocab:
            raise RuntimeError(
                f"{who}: output_mode={self.output_mode!r} needs a vocabulary before the layer is called: call adapt() or "
                "give vocabulary= (or set pad_to_max_tokens=True with max_tokens)"
            )
        if self.output_mode == "tf_idf" and self._idf is None:
            raise RuntimeError(f"{who}: output_mode='tf_idf' needs a vocabulary and idf_weights: call adapt() or give them")
        lengths, indices = [], []
        cut = self.output_sequence_length if not encoding else None
        fast = self.split == "whitespace"
        for start in range(0, len(arr), _CHUNK) if len(arr) else [0]:
            if fast:  # "int" rows are cut to the output's width when they are written
                count, found = self._fast_indices(self._checked_strings(arr[start : start + _CHUNK], "the input"))
                lengths.append(count)
                indices.append(found)
                continue
            rows = self._tokens(arr[start : start + _CHUNK], "the input")
            if cut is not None:
                rows = [r[:cut] for r in rows]  # truncated before the look-up
            lengths.append(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)))
            indices.append(self._lookup.lookup_tokens(list(chain.from_iterable(rows))))
        if fast and not encoding:
            width = cut if cut is not None else max((int(c.max()) for c in lengths if len(c)), default=0)
            out = np.zeros((sum(map(len, lengths)), width), dtype=np.int64)
            start = 0
            for count, found in zip(lengths, indices):
                _fill_rows(out[start : start + len(count)], count, found)
                start += len(count)
            return out
        lengths, indices = np.concatenate(lengths), np.concatenate(indices)
        n = len(lengths)
        if not encoding:
            if self.split is None and not self._ngram_widths and self.output_sequence_length is None:
                return indices.reshape(arr.shape)  # one index per string: the input's shape
            width = self.output_sequence_length
            if width is None:
                width = int(lengths.max()) if n else 0
            out = np.zeros((n, width), dtype=np.int64)
            out[np.arange(width) < lengths[:, None]] = indices  # row by row, left-aligned: the tokens' order
            return out
        depth = self._lookup._depth()
        out = np.zeros((n, depth), dtype=self.compute_dtype)
        ends = np.cumsum(lengths)
        step = max(1, _COUNT_BLOCK // max(depth, 1))
        for start in range(0, n, step):  # whole-array counting, a block of samples at a time
            stop = min(n, start + step)
            lo, hi = (int(ends[start - 1]) if start else 0), int(ends[stop - 1]) if stop else 0
            idx = indices[lo:hi]
            row = np.repeat(np.arange(stop - start), lengths[start:stop])
            kept = idx >= 0  # the padding token '' has no column outside "int" mode
            counts = np.bincount(row[kept] * depth + idx[kept], minlength=(stop - start) * depth)
            out[start:stop] = counts.reshape(stop - start, depth)
        if self.output_mode == "multi_hot":
            np.minimum(out, 1, out=out)
        elif self.output_mode == "tf_idf":
            out *= self._idf.astype(out.dtype, copy=False)
        return out

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            if self.output_sequence_length is not None:
                return (input_shape[0], self.output_sequence_length)
            if self.split is None and not self._ngram_widths:
                return input_shape
            return (input_shape[0], None)
        if self.pad_to_max_tokens:
            return (input_shape[0], self.max_tokens)
        return (input_shape[0], self.vocabulary_size() if self._lookup._vocab else None)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """Keras's keys. The vocabulary (and the idf weights) are saved here; a registered callable by its name.

        In "tf_idf" mode the vocabulary is saved with its special tokens and the weights with the
        OOV weight, so that loading gives the same weights.
        """
        vocabulary, idf = None, None
        if self._lookup._vocab:
            if self.output_mode == "tf_idf":
                vocabulary = self.get_vocabulary()
                idf = self._idf[: self.vocabulary_size()].tolist()
            else:
                vocabulary = self.get_vocabulary(include_special_tokens=False)
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "standardize": self._function_config(self.standardize),
            "split": self._function_config(self.split),
            "ngrams": list(self.ngrams) if isinstance(self.ngrams, (tuple, list)) else self.ngrams,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": vocabulary,
            "idf_weights": idf,
            "sparse": False,
            "ragged": False,
            "encoding": self.encoding,
        }

    @staticmethod
    def _function_config(fn):
        """A built-in option as itself; a callable by its registered name (``register_serializable``), else itself."""
        if fn is None or isinstance(fn, str):
            return fn
        name = activations.REGISTRY.name_of(fn)  # where register_serializable puts plain functions
        return fn if name is None else name

    @classmethod
    def from_config(cls, config: dict) -> TextVectorization:
        """Rebuild from ``get_config()``; names of registered callables are looked up, vocabulary files refused.

        Example:
            >>> tv = TextVectorization(vocabulary=["a", "b"], ngrams=(1, 2))
            >>> TextVectorization.from_config(tv.get_config()).get_vocabulary()
            ['', '[UNK]', 'a', 'b']
        """
        from ...saving import _lookup  # noqa: PLC0415  (saving imports the layers)

        config = dict(config)
        for key, builtin in (("standardize", _STANDARDIZE), ("split", _SPLIT)):
            value = config.get(key)
            if isinstance(value, str) and value not in builtin:
                fn = _lookup(activations.REGISTRY, value)
                if not callable(fn):
                    raise ValueError(f"TextVectorization: {key} {value!r} names {fn!r}, which is not a function")
                config[key] = fn
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        if isinstance(config.get("vocabulary"), str):
            raise ValueError(
                "TextVectorization: a config names a vocabulary file; a saved layer carries its vocabulary as a list "
                "(reading other files while loading is refused)"
            )
        return cls(**config)


__all__ = ["PUNCTUATION_REGEX", "TextVectorization"]
