"""Helpers for the file-safety tests: small valid files and ways to take them apart and rebuild them."""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np

import myelin
from myelin import layers


def tiny_model() -> myelin.Sequential:
    """A 3-4-2 classifier with Adam state: every part of the format in a 2 KB file."""
    model = myelin.Sequential(
        [layers.Input(shape=(3,)), layers.Dense(4, activation="relu"), layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    model.fit(x, np.arange(8) % 2, epochs=1, batch_size=4, verbose=0)
    return model


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path, items, compression=zipfile.ZIP_STORED) -> Path:
    """A zip with exactly these (name, bytes) members, in order (duplicates allowed)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which some tests want
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, payload in items:
                zf.writestr(name, payload)
    return Path(path)


def with_config(src, dst, edit) -> Path:
    """Copy ``src`` with its config.json passed through ``edit(config) -> config``."""
    parts = members(src)
    config = edit(json.loads(parts["config.json"]))
    return write_zip(dst, [("config.json", json.dumps(config).encode()), ("model.safetensors", parts["model.safetensors"])])


def with_data(src, dst, edit) -> Path:
    """Copy ``src`` with the bytes of model.safetensors passed through ``edit(bytes) -> bytes`` (valid zip CRCs)."""
    parts = members(src)
    return write_zip(dst, [("config.json", parts["config.json"]), ("model.safetensors", edit(parts["model.safetensors"]))])


def tensor_offset(data: bytes, key: str) -> int:
    """Where tensor ``key``'s bytes start inside a safetensors blob."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    return 8 + n + header[key]["data_offsets"][0]


# ---------------------------------------------------------------------------- mutations (fuzz test and bench)
# Each takes the bytes of a valid file and returns the bytes of a damaged one. The fuzz test
# draws their arguments with hypothesis; bench/saving_bench.py draws them from a seeded RNG.
def flip_bits(data: bytes, positions: list[int]) -> bytes:
    """Flip one bit at each position (taken modulo the size in bits)."""
    out = bytearray(data)
    for p in positions:
        p %= len(out) * 8
        out[p // 8] ^= 1 << (p % 8)
    return bytes(out)


def flip_tensor_bits(blob: bytes, positions: list[int]) -> bytes:
    """Flip bits in the tensor bytes of a safetensors blob (after its header), leaving the header intact."""
    start = 8 + struct.unpack("<Q", blob[:8])[0]
    return blob[:start] + flip_bits(blob[start:], positions)


def truncate(data: bytes, keep: int) -> bytes:
    return data[: keep % max(len(data), 1)]


def insert(data: bytes, at: int, payload: bytes) -> bytes:
    at %= len(data) + 1
    return data[:at] + payload + data[at:]


def overwrite(data: bytes, at: int, payload: bytes) -> bytes:
    at %= max(len(data), 1)
    return data[:at] + payload + data[at + len(payload) :]


def zip_bytes(items, compression=zipfile.ZIP_STORED) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, payload in items:
            zf.writestr(name, payload)
    return buffer.getvalue()


def json_paths(node, prefix=()) -> list[tuple]:
    """Every path (a tuple of keys and indices) to a value inside a JSON document."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(json_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(json_paths(v, (*prefix, i)))
    return out


def edit_json(document, path: tuple, op: str, value, key: str = "x"):
    """A copy of ``document`` with one edit at ``path``: replace, delete, rename (a dict key) or add."""
    document = json.loads(json.dumps(document))
    if not path:
        return value if op == "replace" else document
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if op == "replace":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "rename" and isinstance(parent, dict):
        parent[key] = parent.pop(last)
    elif op == "add":
        if isinstance(parent, dict):
            parent[key] = value
        else:
            parent.insert(last, value)
    return document


def with_edited_member(data: bytes, name: str, edit) -> bytes:
    """The file ``data`` with member ``name`` replaced by ``edit(bytes)``, as a valid zip (CRCs right)."""
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = [(n, zf.read(n)) for n in zf.namelist()]
    return zip_bytes([(n, edit(p) if n == name else p) for n, p in parts])


INTERESTING_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    3,
    2**31,
    2**63,
    10**30,
    0.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    "",
    "Dense",
    "relu",
    "softmax",
    "os.system",
    "Tests>Unknown",
    "float64",
    "InputLayer",
    "adam",
    "../../etc/passwd",
    [],
    [None, 3],
    [1, 2, 3],
    {},
    {"class_name": "Dense", "config": {}},
]


def load_outcome(path, probe_rows: int = 2) -> str:
    """'loaded' (and the model predicts) or 'refused: <the message>'; any other exception propagates."""
    try:
        model = myelin.models.load_model(path)
    except myelin.saving.ModelFileError as err:
        return f"refused: {err}"
    shapes = model.input_shape if isinstance(model.input_shape, list) else [model.input_shape]
    fixed = {s[0] for s in shapes if s[0] is not None}  # a file may fix the batch size (Input(batch_size=N))
    probe_rows = fixed.pop() if len(fixed) == 1 else probe_rows
    xs = [np.zeros((probe_rows, *(1 if d is None else d for d in s[1:])), dtype=np.float32) for s in shapes]
    with np.errstate(all="ignore"):
        out = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
    outs = out if isinstance(out, list) else [out]
    assert all(len(o) == probe_rows for o in outs)
    return "loaded"


# ---------------------------------------------------------------------------- faults (tests and bench)
def constant_model(value: float, features: int = 3, units: int = 4) -> myelin.Sequential:
    """A model whose every weight is ``value``: which save a file holds is one number."""
    model = myelin.Sequential([layers.Input(shape=(features,)), layers.Dense(units), layers.Dense(2)])
    model.set_weights([np.full(w.shape, value, np.float32) for w in model.get_weights()])
    return model


def stored_value(path) -> float | None:
    """The single value every weight of a file written from ``constant_model`` holds; None if it does not load."""
    try:
        values = {float(v) for w in myelin.models.load_model(path).get_weights() for v in np.unique(w)}
    except (myelin.saving.ModelFileError, OSError):
        return None
    return values.pop() if len(values) == 1 else None


class FullDisk:
    """A file object that accepts ``room`` bytes and then fails like a full disk."""

    def __init__(self, f, room: int):
        self.f, self.room = f, room

    def write(self, data):
        if self.room < len(data):
            self.f.write(bytes(data)[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False


def leftovers(folder) -> list[str]:
    """Temporary files of saves in ``folder``."""
    return sorted(n for n in os.listdir(folder) if myelin.saving.TEMP_MARKER in n)


WRITER = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import myelin
    from myelin import layers, saving

    path, point = sys.argv[1:3]
    model = myelin.Sequential([layers.Input(shape=(64,)), layers.Dense(32), layers.Dense(8)])
    model.compile(optimizer="adam", loss="mse")
    for k in (1, 2):
        model.set_weights([np.full(w.shape, k, np.float32) for w in model.get_weights()])
        if k == 2:  # the second save is killed at the named moment
            saving._fault_hook = lambda name, target: name == point and os.kill(os.getpid(), signal.SIGKILL)
        model.save(path)
    """
)


def _child_env() -> dict:
    """The environment of a child Python that imports this same myelin (not another installed copy)."""
    root = str(Path(myelin.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}


def kill_during_save(folder: Path, point: str) -> tuple[int, float | None]:
    """Run a process that saves a model of 1s, then one of 2s and SIGKILLs itself at ``point`` of that save.

    Returns the process's exit code and the value the file holds afterwards (None: unreadable).
    """
    script = folder / "writer.py"
    script.write_text(WRITER)
    path = folder / "model.myelin"
    code = subprocess.run([sys.executable, str(script), str(path), point], env=_child_env(), check=False).returncode
    return code, stored_value(path)


RESUMABLE = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import myelin
    from myelin import callbacks, layers

    backup_dir, out, save_freq, samples, epochs, batch_size = sys.argv[1:7]
    save_freq = save_freq if save_freq == "epoch" else int(save_freq)
    kill_at = int(os.environ.get("KILL_AT_BATCH", "0"))
    myelin.utils.set_random_seed(0)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(int(samples), 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = myelin.Sequential(
        [
            layers.Input(shape=(8,)),
            layers.Dense(32, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class Kill(callbacks.Callback):
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            Kill.seen += 1
            if Kill.seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    cbs = [callbacks.BackupAndRestore(backup_dir, save_freq=save_freq), Kill()]
    model.fit(x, y, epochs=int(epochs), batch_size=int(batch_size), validation_split=0.2, callbacks=cbs, verbose=0)
    np.savez(out, *model.get_weights())
    """
)


def run_resumable(folder: Path, backup: str, out: str, save_freq, samples: int, epochs: int, batch: int, kill_at: int = 0):
    """Run the training script of ``RESUMABLE`` (killing itself with SIGKILL after ``kill_at`` batches); its exit code."""
    script = folder / "train.py"
    if not script.exists():
        script.write_text(RESUMABLE)
    env = {**_child_env(), "KILL_AT_BATCH": str(kill_at)}
    args = [str(folder / backup), str(folder / out), str(save_freq), str(samples), str(epochs), str(batch)]
    return subprocess.run([sys.executable, str(script), *args], env=env, check=False).returncode
