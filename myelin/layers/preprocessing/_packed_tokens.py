"""Whitespace tokens of UTF-8 text looked up in a vocabulary with whole-array NumPy (TextVectorization's fast path).

``PackedTable(table, missing).lookup(data)`` gives, for each token of ``data`` (a ``bytes``
split on runs of the six ASCII whitespace bytes, exactly as ``data.split()``), the value
``table`` holds for it or ``missing``, without making a Python object per token:

- token starts and ends come from one pass that marks the non-whitespace bytes;
- a token of at most 15 bytes is packed into two 64-bit words (its bytes, zero-filled, and its
  length in the top byte: one to one, so the look-up is exact), read with two gathers from an
  unaligned 64-bit view of the bytes;
- the packed keys are looked up in an open-addressing hash table (linear probing, at most half
  full) one probe round at a time over the keys still unresolved;
- the rare longer token is sliced and looked up in a dict.

Example:
    >>> from myelin.layers.preprocessing._packed_tokens import PackedTable
    >>> PackedTable({b"the": 2, b"cat": 3}, missing=1).lookup(b"the  cat\\tsat the").tolist()
    [2, 3, 1, 2]
"""

from __future__ import annotations

from collections import Counter
from itertools import count

import numpy as np

_SHORT = 15  # the longest token that is packed
_PAD = b" " * 16  # after the text: every 64-bit read stays inside the buffer
# masks that keep a token's own bytes: its first 8 in the low word, the next up to 7 in the high word
_LOW = np.array([(1 << (8 * min(n, 8))) - 1 for n in range(256)], dtype=np.uint64)
_HIGH = np.array([(1 << (8 * max(0, min(n, _SHORT) - 8))) - 1 for n in range(256)], dtype=np.uint64)
_LENGTH = np.array([n << 56 for n in range(256)], dtype=np.uint64)
_M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)


def _pack(token: bytes) -> tuple:
    raw = token.ljust(_SHORT, b"\0") + bytes([len(token)])
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")


class PackedTable:
    """A vocabulary (``bytes`` -> int) for ``lookup``; see the module's docstring.

    Example:
        >>> PackedTable({b"a": 7}, missing=0).lookup(b"a b a").tolist()
        [7, 0, 7]
    """

    def __init__(self, table: dict, missing: int):
        short = [(t, v) for t, v in table.items() if 0 < len(t) <= _SHORT]
        self._long = {t: v for t, v in table.items() if len(t) > _SHORT}
        keys = [_pack(t) for t, _ in short]
        low = np.array([k[0] for k in keys], dtype=np.uint64)
        high = np.array([k[1] for k in keys], dtype=np.uint64)
        self._build(low, high, np.array([v for _, v in short], dtype=np.int64), missing)

    @classmethod
    def of_integers(cls, keys: np.ndarray, values: np.ndarray, missing: int) -> PackedTable:
        """A table of distinct non-negative integer keys, for ``find_integers``.

        Example:
            >>> PackedTable.of_integers(np.array([5, 9]), np.array([1, 2]), -1).find_integers(np.array([9, 4, 5])).tolist()
            [2, -1, 1]
        """
        table = cls.__new__(cls)
        table._long = {}
        table._build(keys.astype(np.uint64), np.ones(len(keys), dtype=np.uint64), values.astype(np.int64), missing)
        return table

    def _build(self, low: np.ndarray, high: np.ndarray, values: np.ndarray, missing: int) -> None:
        """Open addressing, at most half full, filled round by round: one key claims each free slot, the rest move on."""
        self.missing = int(missing)
        self._bits = max(4, int(2 * len(low)).bit_length())
        mask = (1 << self._bits) - 1
        # three 1-D columns (np.take on each is far faster than gathering rows of a 2-D table)
        self._low = np.zeros(mask + 1, dtype=np.uint64)
        self._high = np.zeros(mask + 1, dtype=np.uint64)  # 0: empty (no key has a high word of 0)
        self._values = np.full(mask + 1, self.missing, dtype=np.int64)
        todo, slot = np.arange(len(low)), self._hash(low, high)
        while len(todo):
            free = np.flatnonzero(self._high[slot] == 0)
            won = free[np.unique(slot[free], return_index=True)[1]]
            place, key = slot[won], todo[won]
            self._low[place], self._high[place], self._values[place] = low[key], high[key], values[key]
            left = np.ones(len(todo), dtype=bool)
            left[won] = False
            todo, slot = todo[left], (slot[left] + 1) & mask  # every slot they stood on is taken now

    def _hash(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return (((low * _M1) ^ (high * _M2)) >> np.uint64(64 - self._bits)).view(np.int64)

    def _find(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        slot = self._hash(low, high)
        out = np.take(self._values, slot)  # right where the slot holds the key or is empty
        stored = np.take(self._high, slot)
        todo = np.flatnonzero(((np.take(self._low, slot) != low) | (stored != high)) & (stored != 0))
        slot, mask = slot[todo], (1 << self._bits) - 1
        while len(todo):  # the next slot for each key whose slot held another key
            slot = (slot + 1) & mask
            out[todo] = np.take(self._values, slot)
            stored = np.take(self._high, slot)
            again = ((np.take(self._low, slot) != low[todo]) | (stored != high[todo])) & (stored != 0)
            todo, slot = todo[again], slot[again]
        return out

    def find_integers(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key of ``of_integers`` (``missing`` for others)."""
        return self._find(keys.astype(np.uint64), np.ones(len(keys), dtype=np.uint64))

    def lookup(self, data: bytes) -> np.ndarray:
        """The value of each whitespace-separated token of ``data``, in order (int64)."""
        starts, ends, low, high, long = _keys(data)
        out = self._find(low, high)  # a long token's (0, 0) probes to an empty slot: ``missing``
        if len(long):
            get, missing = self._long.get, self.missing
            out[long] = [get(data[a:b], missing) for a, b in zip(starts[long].tolist(), ends[long].tolist())]
        return out


def _keys(data: bytes) -> tuple:
    """(starts, ends, low, high, long): each token's span in ``data``, its packed words, the tokens too long to pack.

    A long token's words are (0, 0), which no packed token has (its length is in the top byte).
    """
    raw = b" " + data + _PAD  # a separator before the first token and after the last
    buf = np.frombuffer(raw, dtype=np.uint8)
    inside = (np.subtract(buf, 9, dtype=np.uint8) > 4) & (buf != 32)  # not one of b" \t\n\v\f\r" (9-13, 32)
    edges = np.flatnonzero(inside[1:] != inside[:-1]) + 1
    starts, ends = edges[0::2], edges[1::2]
    length = ends - starts
    capped = np.minimum(length, 255)
    words = np.ndarray(shape=(len(raw) - 7,), dtype="<u8", buffer=raw, strides=(1,))
    low = words[starts] & _LOW[capped]
    high = (words[starts + 8] & _HIGH[capped]) | _LENGTH[capped]
    long = np.flatnonzero(length > _SHORT)
    low[long] = high[long] = 0
    return starts - 1, ends - 1, low, high, long


def _runs(*columns: np.ndarray) -> np.ndarray:
    """True where a sorted row differs from the one before (and at the first row)."""
    new = np.ones(len(columns[0]), dtype=bool)
    new[1:] = np.any([c[1:] != c[:-1] for c in columns], axis=0)
    return new


def _group(key: np.ndarray) -> tuple:
    """(an id per element, 0.. in sorted order of the keys; the first position of each id) for integer keys."""
    order = np.argsort(key, kind="stable")
    new = _runs(key[order])
    ids = np.empty(len(key), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids, order[new]


def count_ngrams(data: bytes, widths: tuple, mark: bytes, documents: bool) -> tuple:
    """(n-grams, their counts, the number of texts holding each or None) over the texts of ``data``, split at ``mark``.

    The same counts as splitting each text with ``bytes.split``, making its n-grams of each
    width in ``widths`` (joined by b" "; a width given twice counts twice) and counting them,
    with a set per text for ``documents``. Tokens get exact ids by sorting their packed words
    (long tokens by a dict); n-grams get ids width by width from their first n-1 tokens' id and
    the next token's, and only each distinct n-gram is made as ``bytes``.

    Example:
        >>> names, counts, docs = count_ngrams(b"a b a | b", (1, 2), b"|", True)
        >>> sorted(zip(names, counts.tolist(), docs.tolist()))
        [(b'a', 2, 1), (b'a b', 1, 1), (b'b', 2, 2), (b'b a', 1, 1)]
    """
    starts, ends, low, high, long = _keys(data)
    n = len(starts)
    names: list = []
    counts, docs = [], []
    if n == 0:
        return names, np.zeros(0, dtype=np.int64), (np.zeros(0, dtype=np.int64) if documents else None)
    if len(long):  # exact ids for the long tokens: (index of the distinct token, 0)
        seen: dict = {}
        low[long] = [seen.setdefault(data[a:b], len(seen)) for a, b in zip(starts[long].tolist(), ends[long].tolist())]
    with np.errstate(over="ignore"):  # sorted by one 64-bit mix of the two words (one sort, not two)
        mix = (low * _M1) ^ (high * _M2)
    order = np.argsort(mix, kind="stable")  # NumPy's radix/merge sort: far faster here than its default
    new = _runs(low[order], high[order])
    if new.sum() != _runs(mix[order]).sum():  # two tokens share a mix: their runs may interleave
        order = np.lexsort((low, high))
        new = _runs(low[order], high[order])
    ids = np.empty(n, dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    first = order[new]  # one position of each distinct token
    tokens = [data[a:b] for a, b in zip(starts[first].tolist(), ends[first].tolist())]
    is_mark = np.zeros(n, dtype=bool)
    if mark in tokens:
        is_mark = ids == tokens.index(mark)
    marks_before = np.concatenate([[0], np.cumsum(is_mark)])  # marks among the first p tokens
    doc = marks_before[:-1]
    texts = int(doc[-1]) + 1
    for width, times in Counter(widths).items():
        if n < width:
            continue
        pos = np.flatnonzero(marks_before[width:] == marks_before[: n - width + 1])  # windows without a mark
        if len(pos) == 0:
            continue
        gram = ids[pos]
        for k in range(1, width):  # the id of the first k+1 tokens: from the first k's and the next token's
            gram, first_at = _group(gram * len(tokens) + ids[pos + k])
        if width == 1:  # the tokens' ids already are distinct: no sort
            total = np.bincount(gram, minlength=len(tokens))
            distinct = np.flatnonzero(total)  # all but the mark
            total = total[distinct]
            names += [tokens[i] for i in distinct.tolist()]
        else:
            total = np.bincount(gram)
            distinct, at = np.arange(len(total)), pos[first_at]
            rows = [ids[at + k].tolist() for k in range(width)]
            names += [b" ".join([tokens[i] for i in row]) for row in zip(*rows)]
        counts.append(total * times)  # no two widths share a name: tokens hold no space
        if documents:
            pairs = np.sort(gram * texts + doc[pos])
            pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])]  # each (n-gram, text) once
            docs.append(np.bincount(pairs // texts)[distinct])  # width 1: the ids skip the mark's
    join = lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return names, join(counts), (join(docs) if documents else None)


class NgramCounts:
    """Sums ``count_ngrams``'s results over blocks of texts; ``totals()`` gives (n-gram -> count, n-gram -> texts).

    Example:
        >>> total = NgramCounts()
        >>> total.add([b"a", b"b"], np.array([2, 1]), np.array([1, 1]))
        >>> total.add([b"b"], np.array([5]), np.array([2]))
        >>> total.totals()
        ({b'a': 2, b'b': 6}, {b'a': 1, b'b': 3})
    """

    def __init__(self):
        self._index: dict = {}
        self._fresh = count()
        self._ids, self._counts, self._docs = [], [], []

    def add(self, names: list, counts: np.ndarray, docs: np.ndarray | None) -> None:
        # an id per n-gram: its first block's position among all names added (setdefault keeps the first)
        self._ids.append(np.fromiter(map(self._index.setdefault, names, self._fresh), dtype=np.int64, count=len(names)))
        self._counts.append(counts)
        if docs is not None:
            self._docs.append(docs)

    def totals(self) -> tuple:
        names = list(self._index)
        if not names:
            return {}, {}
        ids = np.concatenate(self._ids)
        where = np.fromiter(self._index.values(), dtype=np.int64, count=len(names))
        out = []
        for parts in (self._counts, self._docs):
            if not parts:
                out.append({})
                continue
            total = np.zeros(int(ids.max()) + 1, dtype=np.int64)
            np.add.at(total, ids, np.concatenate(parts))
            out.append(dict(zip(names, total[where].tolist())))
        return out[0], out[1]


__all__ = ["NgramCounts", "PackedTable", "count_ngrams"]
