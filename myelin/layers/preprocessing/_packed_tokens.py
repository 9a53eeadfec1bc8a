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
        self.missing = int(missing)
        short = [(t, v) for t, v in table.items() if 0 < len(t) <= _SHORT]
        self._long = {t: v for t, v in table.items() if len(t) > _SHORT}
        self._bits = max(4, int(2 * len(short)).bit_length())  # at most half full
        size = 1 << self._bits
        # one row per slot: the key's two words and the value (as int64: only equality is asked of the words)
        rows = [[0, 0, self.missing] for _ in range(size)]
        keys = [_pack(t) for t, _ in short]
        low = np.array([k[0] for k in keys], dtype=np.uint64)
        high = np.array([k[1] for k in keys], dtype=np.uint64)
        for (k0, k1), (_, value), slot in zip(keys, short, self._hash(low, high).tolist()):
            while rows[slot][1]:  # the high word is never 0 for a token: its length is in the top byte
                slot = (slot + 1) & (size - 1)
            rows[slot] = [k0, k1, value]
        # three 1-D columns (np.take on each is far faster than gathering rows of a 2-D table)
        self._low = np.array([r[0] for r in rows], dtype=np.uint64)
        self._high = np.array([r[1] for r in rows], dtype=np.uint64)
        self._values = np.array([r[2] for r in rows], dtype=np.int64)

    def _hash(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return (((low * _M1) ^ (high * _M2)) >> np.uint64(64 - self._bits)).view(np.int64)

    def lookup(self, data: bytes) -> np.ndarray:
        """The value of each whitespace-separated token of ``data``, in order (int64)."""
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
        low[long] = high[long] = 0  # no stored key is (0, 0): a long token probes to an empty slot
        slot = self._hash(low, high)
        out = np.take(self._values, slot)  # right where the slot holds the token or is empty
        stored = np.take(self._high, slot)
        todo = np.flatnonzero(((np.take(self._low, slot) != low) | (stored != high)) & (stored != 0))
        slot, mask = slot[todo], (1 << self._bits) - 1
        while len(todo):  # the next slot for each token whose slot held another token
            slot = (slot + 1) & mask
            out[todo] = np.take(self._values, slot)
            stored = np.take(self._high, slot)
            again = ((np.take(self._low, slot) != low[todo]) | (stored != high[todo])) & (stored != 0)
            todo, slot = todo[again], slot[again]
        if len(long):
            get, missing = self._long.get, self.missing
            out[long] = [get(data[a - 1 : b - 1], missing) for a, b in zip(starts[long].tolist(), ends[long].tolist())]
        return out


__all__ = ["PackedTable"]
