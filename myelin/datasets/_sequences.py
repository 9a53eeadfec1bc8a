"""Read the ragged integer sequences of Keras's ``imdb.npz`` and ``reuters.npz`` without pickle.

NumPy stores an object array (here: one Python list of word indices per review or
newswire) in a ``.npy`` member as a pickle stream, which ``np.load`` reads only with
``allow_pickle=True``, and unpickling can run any code a file names. This module does not
unpickle: it decodes the stream as data. It knows the few opcodes NumPy's writer emits for
such an array (protocols 0 to 5: marks, tuples, lists, integers, strings, memo, the three
NumPy names that rebuild an array) and nothing else. The NumPy names are matched as text
and never imported or called; any other name, opcode, or shape of data is refused with a
ValueError. So a crafted file can fail to load, never run code.

What it returns: a 1-D ``object`` array whose items are Python lists of ints (Keras's
items), from items stored as lists (Keras's files) or as integer arrays.

Example:
    >>> import io, numpy as np
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.array([[1, 2], [3]], dtype=object), allow_pickle=True)
    >>> read_npy(buffer.getvalue(), "x").tolist()
    [[1, 2], [3]]
"""

from __future__ import annotations

import ast
import io
import struct
import zipfile
from pathlib import Path

import numpy as np

_NUMPY_NAMES = {
    ("numpy.core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("_codecs", "encode"): "encode",  # how protocols 0-2 spell bytes: encode(text, "latin1")
    ("__builtin__", "bytes"): "bytes",  # ... and empty bytes: bytes()
    ("builtins", "bytes"): "bytes",
}
_INT_KINDS = {"i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"}


class _Name:
    def __init__(self, tag: str):
        self.tag = tag


class _DType:
    def __init__(self, code: str):
        self.code = code  # e.g. "O8", "i8"
        self.byteorder = "|"


class _Array:
    def __init__(self):
        self.state = None


_MARK = object()


class _Decoder:
    """A data-only reader of the pickle opcodes NumPy writes for an object array."""

    def __init__(self, data: bytes, where: str):
        self.data, self.pos, self.where = data, 0, where
        self.stack: list = []
        self.memo: dict[int, object] = {}

    def fail(self, what: str):
        raise ValueError(
            f"{self.where}: {what} (at byte {self.pos}); myelin reads only the integer sequences "
            "NumPy writes for an object array, and never unpickles"
        )

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            self.fail("the stream ends early")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def line(self) -> bytes:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            self.fail("the stream ends inside a text field")
        chunk = self.data[self.pos : end]
        self.pos = end + 1
        return chunk

    def pop_mark(self) -> list:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1 :]
                del self.stack[i:]
                return items
        self.fail("no mark on the stack")
        return []

    def pop(self):
        if not self.stack or self.stack[-1] is _MARK:
            self.fail("the stack is empty")
        return self.stack.pop()

    def name(self, module: str, qualname: str):
        tag = _NUMPY_NAMES.get((module, qualname))
        if tag is None:
            self.fail(f"it names {module}.{qualname}, which is not one of NumPy's array-rebuilding names")
        self.stack.append(_Name(tag))

    def reduce(self, func, args):
        if not isinstance(func, _Name) or not isinstance(args, tuple):
            self.fail("a call that is not NumPy's array rebuilding")
        if func.tag == "reconstruct" and len(args) == 3 and isinstance(args[0], _Name) and args[0].tag == "ndarray":
            return _Array()
        if func.tag == "dtype" and len(args) == 3 and isinstance(args[0], str):
            return _DType(args[0])
        if func.tag == "encode" and len(args) == 2 and isinstance(args[0], str) and args[1] == "latin1":
            return args[0].encode("latin-1")
        if func.tag == "bytes" and args == ():
            return b""
        self.fail(f"an unexpected call of numpy {func.tag} with {len(args)} arguments")
        return None

    def build(self, obj, state):
        if isinstance(obj, _DType) and isinstance(state, tuple) and len(state) >= 2:
            obj.byteorder = state[1] if isinstance(state[1], str) else "|"
        elif isinstance(obj, _Array) and isinstance(state, tuple) and len(state) == 5:
            obj.state = state
        else:
            self.fail("an unexpected object state")

    def run(self):
        ints_le = {b"K": "<B", b"M": "<H", b"J": "<i"}
        while True:
            op = self.take(1)
            if op == b"\x80":  # PROTO
                self.take(1)
            elif op == b"\x95":  # FRAME
                self.take(8)
            elif op == b".":  # STOP
                return self.pop()
            elif op == b"(":
                self.stack.append(_MARK)
            elif op == b")":
                self.stack.append(())
            elif op == b"t":
                self.stack.append(tuple(self.pop_mark()))
            elif op in (b"\x85", b"\x86", b"\x87"):
                n = op[0] - 0x84
                if len(self.stack) < n or any(v is _MARK for v in self.stack[-n:]):
                    self.fail("a tuple without its items")
                items = tuple(self.stack[-n:])
                del self.stack[-n:]
                self.stack.append(items)
            elif op == b"]":
                self.stack.append([])
            elif op == b"l":
                self.stack.append(self.pop_mark())
            elif op == b"a":
                item = self.pop()
                target = self.pop()
                if not isinstance(target, list):
                    self.fail("an append to something that is not a list")
                target.append(item)
                self.stack.append(target)
            elif op == b"e":
                items = self.pop_mark()
                target = self.pop()
                if not isinstance(target, list):
                    self.fail("an append to something that is not a list")
                target.extend(items)
                self.stack.append(target)
            elif op in ints_le:
                fmt = ints_le[op]
                self.stack.append(struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0])
            elif op in (b"\x8a", b"\x8b"):  # LONG1, LONG4
                n = self.take(1)[0] if op == b"\x8a" else struct.unpack("<i", self.take(4))[0]
                if n < 0 or n > 64:
                    self.fail("an integer too long for a word index")
                self.stack.append(int.from_bytes(self.take(n), "little", signed=True))
            elif op == b"I":  # INT (text); "00"/"01" are False/True
                text = self.line()
                self.stack.append({b"00": False, b"01": True}.get(text))
                if self.stack[-1] is None:
                    self.stack[-1] = int(text)
            elif op == b"L":  # LONG (text)
                self.stack.append(int(self.line().rstrip(b"L")))
            elif op == b"N":
                self.stack.append(None)
            elif op in (b"\x88", b"\x89"):
                self.stack.append(op == b"\x88")
            elif op in (b"U", b"T", b"C", b"B", b"\x8e"):  # byte strings (py2 str, bytes)
                size = {b"U": "<B", b"T": "<i", b"C": "<B", b"B": "<I", b"\x8e": "<Q"}[op]
                n = struct.unpack(size, self.take(struct.calcsize(size)))[0]
                raw = self.take(n)
                self.stack.append(raw.decode("latin-1") if op in (b"U", b"T") else raw)
            elif op in (b"\x8c", b"X", b"\x8d"):  # unicode strings
                size = {b"\x8c": "<B", b"X": "<I", b"\x8d": "<Q"}[op]
                n = struct.unpack(size, self.take(struct.calcsize(size)))[0]
                self.stack.append(self.take(n).decode("utf-8"))
            elif op == b"S":  # STRING (text, protocol 0)
                self.stack.append(ast.literal_eval(self.line().decode("ascii")))
            elif op == b"V":  # UNICODE (text, protocol 0)
                self.stack.append(self.line().decode("raw_unicode_escape"))
            elif op == b"c":  # GLOBAL
                module = self.line().decode("ascii")
                self.name(module, self.line().decode("ascii"))
            elif op == b"\x93":  # STACK_GLOBAL
                qualname, module = self.pop(), self.pop()
                if not (isinstance(module, str) and isinstance(qualname, str)):
                    self.fail("a name that is not text")
                self.name(module, qualname)
            elif op == b"R":  # REDUCE
                args = self.pop()
                self.stack.append(self.reduce(self.pop(), args))
            elif op == b"b":  # BUILD
                state = self.pop()
                self.build(self.stack[-1] if self.stack else None, state)
            elif op in (b"q", b"r", b"p", b"\x94"):  # BINPUT, LONG_BINPUT, PUT, MEMOIZE
                if op == b"q":
                    key = self.take(1)[0]
                elif op == b"r":
                    key = struct.unpack("<I", self.take(4))[0]
                elif op == b"p":
                    key = int(self.line())
                else:
                    key = len(self.memo)
                if not self.stack:
                    self.fail("a memo entry with an empty stack")
                self.memo[key] = self.stack[-1]
            elif op in (b"h", b"j", b"g"):  # BINGET, LONG_BINGET, GET
                if op == b"h":
                    key = self.take(1)[0]
                elif op == b"j":
                    key = struct.unpack("<I", self.take(4))[0]
                else:
                    key = int(self.line())
                if key not in self.memo:
                    self.fail(f"a reference to memo entry {key}, which was never stored")
                self.stack.append(self.memo[key])
            else:
                self.fail(f"opcode {op!r}, which NumPy's object arrays of integer lists never hold")


def _sequence(item, where: str) -> list[int]:
    if isinstance(item, list):
        if not all(isinstance(w, int) and not isinstance(w, bool) for w in item):
            raise ValueError(f"{where}: a sequence holds something other than integers")
        return item
    if isinstance(item, _Array) and item.state is not None:
        _, shape, dtype, _, raw = item.state
        if isinstance(raw, str):  # a Python 2 file's str: its bytes, as np.load(encoding="latin1") reads them
            raw = raw.encode("latin-1")
        if not isinstance(dtype, _DType) or dtype.code not in _INT_KINDS or not isinstance(raw, bytes):
            raise ValueError(f"{where}: a sequence is an array that does not hold integers")
        order = "<" if dtype.byteorder in ("<", "|", "=") else ">"
        values = np.frombuffer(raw, dtype=np.dtype(order + dtype.code))
        if tuple(shape) != (len(values),):
            raise ValueError(f"{where}: a sequence array's shape {shape} does not match its {len(values)} values")
        return values.astype(np.int64).tolist()
    raise ValueError(f"{where}: an item is neither a list of integers nor an integer array")


def _object_array(top, where: str) -> np.ndarray:
    if not isinstance(top, _Array) or top.state is None:
        raise ValueError(f"{where}: the stream does not hold an array")
    _, shape, dtype, _, items = top.state
    if not isinstance(dtype, _DType) or not dtype.code.startswith("O"):
        raise ValueError(f"{where}: expected an object array of sequences")
    if not isinstance(shape, tuple) or len(shape) != 1 or not isinstance(items, list) or len(items) != shape[0]:
        raise ValueError(f"{where}: expected a 1-D object array, got shape {shape!r}")
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = _sequence(item, where)
    return out


def read_npy(raw: bytes, where: str = "<npy>") -> np.ndarray:
    """One ``.npy`` payload: a numeric array (read with pickle refused) or an object array of int lists.

    Example:
        >>> import io
        >>> buffer = io.BytesIO(); np.save(buffer, np.arange(3))
        >>> read_npy(buffer.getvalue()).tolist()
        [0, 1, 2]
    """
    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)  # 3.0 differs only in the text encoding
    else:
        raise ValueError(f"{where}: unsupported .npy version {version}")
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    array = _object_array(_Decoder(raw[stream.tell() :], where).run(), where)
    if array.shape != tuple(shape):
        raise ValueError(f"{where}: the header promises shape {tuple(shape)}, the data holds {array.shape}")
    return array


def load_npz(path, keys) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of an ``.npz`` file whose object members hold integer sequences.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp(), "s.npz")
        >>> np.savez(p, x=np.array([[4, 5], [6]], dtype=object), y=np.array([1, 0]))
        >>> {k: v.tolist() for k, v in load_npz(p, ["x", "y"]).items()}
        {'x': [[4, 5], [6]], 'y': [1, 0]}
    """
    path = Path(path)
    out = {}
    with zipfile.ZipFile(path) as archive:
        members = {name[: -len(".npy")]: name for name in archive.namelist() if name.endswith(".npy")}
        missing = set(keys) - set(members)
        if missing:
            raise ValueError(f"{path}: the .npz file lacks {sorted(missing)} (it holds {sorted(members)})")
        for key in keys:
            out[key] = read_npy(archive.read(members[key]), f"{path}[{key}]")
    return out
