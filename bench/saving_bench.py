"""Figures for bench/RESULTS.md, section "Saving, loading and faults (issue 4)".

    python bench/saving_bench.py [--quick] [--part speed|faults|inputs|fuzz ...]

Measures save/load time and file size of the seed MNIST model and of a 10-million-parameter
model next to PyTorch's torch.save/torch.load and the raw weight size; injects faults (full
disk at random points, failing fsync and rename, SIGKILL during saves and during training,
Ctrl-C during fit) and counts what survived; feeds bad input to fit/predict and records each
error; fuzzes model files and counts every outcome. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import errno
import itertools
import json
import os
import platform
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import myelin  # noqa: E402
from myelin import layers, saving  # noqa: E402
from tests import saving_helpers as fuzz  # noqa: E402  (the mutations and fault tools the tests use)


def environment() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}", f"myelin {myelin.__version__}"]
    try:
        import safetensors

        versions.append(f"safetensors {safetensors.__version__}")
    except ImportError:
        pass
    try:
        import torch

        versions.append(f"PyTorch {torch.__version__}")
    except ImportError:
        pass
    return (
        f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} cores (shared), {platform.system()} "
        f"{platform.release()}; {', '.join(versions)}"
    )


# ---------------------------------------------------------------------------- save / load speed
def mlp(sizes: list[int]) -> myelin.Sequential:
    model = myelin.Sequential([layers.Input(shape=(sizes[0],))])
    for units in sizes[1:-1]:
        model.add(layers.Dense(units, activation="relu"))
    model.add(layers.Dense(sizes[-1], activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((32, sizes[0]), dtype=np.float32)
    model.train_on_batch(x, np.arange(32) % sizes[-1])  # one step: the optimizer has state
    return model


def torch_mlp(sizes: list[int]):
    import torch

    torch.manual_seed(0)
    mods = []
    for a, b in itertools.pairwise(sizes):
        mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*mods[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss = torch.nn.functional.cross_entropy(net(torch.rand(32, sizes[0])), torch.arange(32) % sizes[-1])
    loss.backward()
    opt.step()
    return net, opt


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed(name: str, sizes: list[int], folder: Path, repeats: int) -> list[list[str]]:
    model = mlp(sizes)
    params = model.count_params()
    rows = []
    full, weights = folder / f"{name}.myelin", folder / f"{name}.weights.myelin"
    rows.append(
        [
            name,
            f"{params:,}",
            "myelin `model.save` / `load_model` (weights + Adam state, fsync)",
            f"{timed(lambda: model.save(full), repeats) * 1e3:.1f}",
            f"{timed(lambda: myelin.models.load_model(full), repeats) * 1e3:.1f}",
            f"{full.stat().st_size / 1e6:.2f}",
        ]
    )
    rows.append(
        [
            name,
            f"{params:,}",
            "myelin `save_weights` / `load_weights`",
            f"{timed(lambda: model.save_weights(weights), repeats) * 1e3:.1f}",
            f"{timed(lambda: model.load_weights(weights), repeats) * 1e3:.1f}",
            f"{weights.stat().st_size / 1e6:.2f}",
        ]
    )
    try:
        import torch
    except ImportError:
        return rows
    torch.set_num_threads(1)
    net, opt = torch_mlp(sizes)
    both, sd = folder / f"{name}.pt", folder / f"{name}.state.pt"
    rows.append(
        [
            name,
            f"{params:,}",
            "PyTorch `torch.save`/`torch.load` (state_dict + Adam state, no fsync)",
            f"{timed(lambda: torch.save({'model': net.state_dict(), 'optimizer': opt.state_dict()}, both), repeats) * 1e3:.1f}",  # noqa: E501
            f"{timed(lambda: torch.load(both, weights_only=True), repeats) * 1e3:.1f}",
            f"{both.stat().st_size / 1e6:.2f}",
        ]
    )
    rows.append(
        [
            name,
            f"{params:,}",
            "PyTorch `torch.save(state_dict)` / `torch.load`",
            f"{timed(lambda: torch.save(net.state_dict(), sd), repeats) * 1e3:.1f}",
            f"{timed(lambda: torch.load(sd, weights_only=True), repeats) * 1e3:.1f}",
            f"{sd.stat().st_size / 1e6:.2f}",
        ]
    )
    rows.append([name, f"{params:,}", "raw float32 weights (params x 4 bytes)", "", "", f"{params * 4 / 1e6:.2f}"])
    return rows


# ---------------------------------------------------------------------------- faults
def faults_in_process(folder: Path, n: int, rng: random.Random) -> list[list[str]]:
    path = folder / "m.myelin"
    rows = []
    real_open, real_fsync, real_replace = saving._open_for_writing, saving.os.fsync, saving.os.replace
    size = None
    for kind in ("full disk at a random byte of the write", "fsync fails (EIO)", "rename fails (EIO)"):
        kept = lost = left = raised = 0
        for i in range(n):
            fuzz.constant_model(1.0, features=64, units=256).save(path)
            if size is None:
                size = path.stat().st_size
            if kind.startswith("full disk"):
                room = rng.randrange(0, size)
                saving._open_for_writing = lambda fd, room=room: fuzz.FullDisk(real_open(fd), room)
            elif kind.startswith("fsync"):
                saving.os.fsync = lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "fsync failed"))
            else:
                saving.os.replace = lambda a, b: (_ for _ in ()).throw(OSError(errno.EIO, "rename failed"))
            try:
                fuzz.constant_model(2.0 + i, features=64, units=256).save(path)
            except OSError:
                raised += 1
            finally:
                saving._open_for_writing, saving.os.fsync, saving.os.replace = real_open, real_fsync, real_replace
            value = fuzz.stored_value(path)
            kept += value == 1.0
            lost += value is None
            left += len(fuzz.leftovers(folder))
        rows.append(
            [kind, str(n), f"OSError raised {raised}/{n}; previous file intact and loadable {kept}/{n}", str(left), str(lost)]
        )
    return rows


def kills_during_saves(folder: Path, n: int, seed: int) -> list[str]:
    results = fuzz.kill_during_saves(folder, n, seed, longest_wait=1.0)
    mid = sum(state == "saving" for _, state, _ in results)
    right = sum(ok for _, _, ok in results)
    lost = sum(value is None for value, _, _ in results)
    fuzz.constant_model(0.0).save(folder / "big.myelin")  # the next save cleans up what the killed ones left
    return [
        "SIGKILL during a save loop (19 MB file)",
        str(n),
        f"{mid}/{n} kills landed inside a save; the file held the last completed (or the in-flight, renamed) save {right}/{n}",
        str(len(fuzz.leftovers(folder))),
        str(lost),
    ]


def kills_during_training(folder: Path, n: int, rng: random.Random) -> list[str]:
    args = {"save_freq": 7, "samples": 2500, "epochs": 4, "batch": 50}  # 40 batches per epoch
    assert fuzz.run_resumable(folder, "ref_backup", "ref.npz", **args) == 0
    reference = np.load(folder / "ref.npz")
    same = 0
    for i in range(n):
        kill_at = rng.randrange(1, 160)
        assert fuzz.run_resumable(folder, f"backup{i}", f"out{i}.npz", **args, kill_at=kill_at) == -signal.SIGKILL
        assert fuzz.run_resumable(folder, f"backup{i}", f"out{i}.npz", **args) == 0  # the same command again
        got = np.load(folder / f"out{i}.npz")
        same += all(np.array_equal(got[k], reference[k]) for k in reference.files)
    return [
        "SIGKILL at a random batch of `fit` with BackupAndRestore(save_freq=7), then the same command again",
        str(n),
        f"final weights bit-identical to an uninterrupted run {same}/{n}",
        "0",
        "0",
    ]


def ctrl_c_in_fit(n: int, rng: random.Random) -> list[str]:
    x = np.random.default_rng(0).normal(size=(256, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    clean = 0
    # A process started in the background by a shell ignores SIGINT; Ctrl-C is a terminal's default.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for _ in range(n):
        model = myelin.Sequential(
            [layers.Input(shape=(8,)), layers.Dense(16, activation="relu"), layers.Dense(2, activation="softmax")]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        at = rng.randrange(0, 40)  # 8 batches per epoch, 5 epochs
        seen, ended = [0], [False]

        def begin(batch, logs=None, at=at, seen=seen):
            seen[0] += 1
            if seen[0] == at + 1:
                os.kill(os.getpid(), signal.SIGINT)

        def end(logs=None, ended=ended):
            ended[0] = True

        cb = myelin.callbacks.LambdaCallback(on_train_batch_begin=begin, on_train_end=end)
        try:
            model.fit(x, y, epochs=5, batch_size=32, callbacks=[cb], verbose=0)
        except KeyboardInterrupt:
            usable = np.all(np.isfinite(model.predict(x, verbose=0)))
            clean += ended[0] and model.optimizer.iterations == at + 1 and usable and model.history is not None
    return [
        "Ctrl-C (SIGINT) at a random batch of `fit`",
        str(n),
        f"stopped after that batch, on_train_end ran, model usable, KeyboardInterrupt re-raised {clean}/{n}",
        "",
        "0",
    ]


# ---------------------------------------------------------------------------- bad input
def bad_inputs() -> list[list[str]]:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = rng.integers(0, 3, 40)

    def model(units=3, activation="softmax", loss="sparse_categorical_crossentropy"):
        myelin.utils.clear_session()
        m = myelin.Sequential(
            [layers.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(units, activation=activation)]
        )
        m.compile(optimizer="adam", loss=loss)
        return m

    nan_x = x.copy()
    nan_x[[3, 17], 2] = np.nan
    cases = [
        ("x and y of different lengths", lambda: model().fit(x, y[:-1], verbose=0)),
        ("feature width not the model's input", lambda: model().fit(np.zeros((40, 5)), y, verbose=0)),
        ("NaN in x", lambda: model().fit(nan_x, y, verbose=0)),
        ("infinity in y", lambda: model(1, "linear", "mse").fit(x, np.where(np.arange(40) == 7, np.inf, 1.0), verbose=0)),
        ("class labels out of range (1..3 for 3 units)", lambda: model().fit(x, y + 1, verbose=0)),
        ("non-integer labels for a sparse loss", lambda: model().fit(x, y + 0.5, verbose=0)),
        (
            "one-hot width differs from the output",
            lambda: model(loss="categorical_crossentropy").fit(x, np.eye(4)[y], verbose=0),
        ),
        ("labels given to categorical_crossentropy", lambda: model(loss="categorical_crossentropy").fit(x, y, verbose=0)),
        ("binary targets outside [0, 1]", lambda: model(1, "sigmoid", "binary_crossentropy").fit(x, y + 1, verbose=0)),
        ("empty dataset", lambda: model().fit(np.zeros((0, 4)), np.zeros(0), verbose=0)),
        ("strings in x", lambda: model().fit(np.array([["a"] * 4] * 40), y, verbose=0)),
        ("validation_split = 1.0", lambda: model().fit(x, y, validation_split=1.0, verbose=0)),
        ("validation_split leaving no training data", lambda: model().fit(x[:2], y[:2], validation_split=0.6, verbose=0)),
        ("batch_size = 0", lambda: model().fit(x, y, batch_size=0, verbose=0)),
        (
            "fit before compile",
            lambda: myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(3)]).fit(x, y, verbose=0),
        ),
    ]
    rows = []
    for kind, run in cases:
        try:
            run()
            rows.append([kind, "no error", ""])
        except Exception as err:  # the point: record which error each gave
            rows.append([kind, type(err).__name__, _first_sentence(str(err))])
    import warnings

    for kind, build, target in (
        (
            "softmax output with from_logits=True",
            lambda: model(loss=myelin.losses.SparseCategoricalCrossentropy(from_logits=True)),
            y,
        ),
        (
            "one sigmoid unit with categorical_crossentropy",
            lambda: model(1, "sigmoid", "categorical_crossentropy"),
            y[:, None] > 0,
        ),
        ("linear output with a probability loss", lambda: model(3, "linear"), y),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            build().fit(x, target, epochs=1, verbose=0, on_nonfinite_loss="continue")
        messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        rows.append([kind, "UserWarning" if messages else "no warning", _first_sentence(messages[0]) if messages else ""])
    return rows


def _first_sentence(message: str, limit: int = 170) -> str:
    text = message.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------- fuzzing
def fuzz_files(folder: Path, n: int, seed: int) -> tuple[list[list[str]], dict]:
    rng = random.Random(seed)
    bases = {}
    for name, make in (("sequential", fuzz.tiny_model), ("two outputs", _two_outputs)):
        path = folder / "base.myelin"
        make().save(path)
        bases[name] = path.read_bytes()
    outcomes = collections.Counter()
    by_kind = collections.defaultdict(collections.Counter)
    others = collections.Counter()
    slowest = 0.0
    path = folder / "case.myelin"
    kinds = [
        "bit flips",
        "truncation",
        "inserted bytes",
        "overwritten bytes",
        "edited JSON",
        "safetensors header",
        "tensor bytes",
    ]
    start = time.perf_counter()
    for _ in range(n):
        base = bases[rng.choice(sorted(bases))]
        kind = rng.choice(kinds)
        data = _mutate(kind, base, rng)
        path.write_bytes(data)
        t0 = time.perf_counter()
        try:
            outcome = fuzz.load_outcome(path)
        except Exception as err:  # what the contract forbids; counted, shown
            outcome = f"OTHER {type(err).__name__}"
            others[f"{type(err).__name__}: {err}"] += 1
        slowest = max(slowest, time.perf_counter() - t0)
        category = "loaded" if outcome == "loaded" else outcome if outcome.startswith("OTHER") else "ModelFileError"
        outcomes[category] += 1
        by_kind[kind][category] += 1
        if category == "ModelFileError":
            outcomes["reason: " + _reason(outcome)] += 1
    elapsed = time.perf_counter() - start
    rows = [
        [
            kind,
            str(sum(c.values())),
            str(c["loaded"]),
            str(c["ModelFileError"]),
            str(sum(v for k, v in c.items() if k.startswith("OTHER"))),
        ]
        for kind, c in by_kind.items()
    ]
    return rows, {"outcomes": outcomes, "others": others, "slowest_ms": slowest * 1e3, "elapsed": elapsed, "n": n}


def _two_outputs():
    inputs = myelin.Input(shape=(3,), name="x")
    hidden = layers.Dense(4, activation="tanh", name="hidden")(inputs)
    model = myelin.Model(inputs, [layers.Dense(2, activation="softmax", name="a")(hidden), layers.Dense(1, name="b")(hidden)])
    model.compile(optimizer=myelin.optimizers.SGD(0.1, momentum=0.9), loss=["sparse_categorical_crossentropy", "mse"])
    x = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    model.fit(x, [np.arange(8) % 2, x[:, :1]], epochs=1, batch_size=4, verbose=0)
    return model


def _mutate(kind: str, data: bytes, rng: random.Random) -> bytes:
    if kind == "bit flips":
        return fuzz.flip_bits(data, [rng.randrange(len(data) * 8) for _ in range(rng.randint(1, 8))])
    if kind == "truncation":
        return fuzz.truncate(data, rng.randrange(len(data)))
    if kind == "inserted bytes":
        return fuzz.insert(data, rng.randrange(len(data) + 1), rng.randbytes(rng.randint(1, 64)))
    if kind == "overwritten bytes":
        return fuzz.overwrite(data, rng.randrange(len(data)), rng.randbytes(rng.randint(1, 64)))
    if kind in ("safetensors header", "tensor bytes"):
        flip = fuzz.flip_bits if kind == "safetensors header" else fuzz.flip_tensor_bits
        positions = [rng.randrange(10**6) for _ in range(rng.randint(1, 4))]
        return fuzz.with_edited_member(data, "model.safetensors", lambda d: flip(d, positions))

    def edit(raw: bytes) -> bytes:
        config = json.loads(raw)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(fuzz.json_paths(config))
            op = rng.choice(["replace", "replace", "delete", "rename", "add"])
            config = fuzz.edit_json(config, path, op, rng.choice(fuzz.INTERESTING_VALUES), rng.choice(["x", "name", "units"]))
        return json.dumps(config).encode()

    return fuzz.with_edited_member(data, "config.json", edit)


def _reason(outcome: str) -> str:
    text = outcome.removeprefix("refused: ")
    for pattern, label in (
        (r"not a zip archive", "not a zip / truncated archive"),
        (r"corrupt or truncated|stored uncompressed but its sizes disagree", "zip member corrupt (CRC, sizes, headers)"),
        (
            r"unexpected member|missing member|appears more than once|path traversal",
            "members: unexpected, missing, duplicated",
        ),
        (r"not valid JSON|not UTF-8|must hold a JSON object", "bad JSON"),
        (r"checksum mismatch", "SHA-256 checksum mismatch"),
        (r"dtype mismatch|shape mismatch|dtype '", "dtype or shape mismatch"),
        (r"header declares|model.safetensors is (truncated|corrupt)|disagree", "safetensors data malformed"),
        (r"Unknown (layer|activation|loss|metric|optimizer|initializer|regularizer)", "unknown name"),
        (r"format version|'format' is|'kind' is", "format / version"),
        (r"weights of shapes|needs [\d,]+ values|values per sample", "architecture does not match the weights"),
        (r"cannot be rebuilt|compile settings", "bad layer / compile config"),
    ):
        if re.search(pattern, text):
            return label
    return "malformed config.json (missing or mistyped field)"


# ---------------------------------------------------------------------------- report
def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and cases (a smoke run)")
    parts = ("speed", "faults", "inputs", "fuzz")
    parser.add_argument("--part", choices=parts, action="append", help="run only these parts (default: all)")
    args = parser.parse_args()
    q, parts = args.quick, args.part or parts
    rng = random.Random(0)
    print(f"Measured {environment()}.\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "speed" in parts:
            rows = speed("seed MNIST MLP 784-64-64-10", [784, 64, 64, 10], folder, 3 if q else 21)
            rows += speed("10M-parameter MLP 784-2048-2048-2048-10", [784, 2048, 2048, 2048, 10], folder, 2 if q else 11)
            print(table(["model", "parameters", "format", "save (ms)", "load (ms)", "file (MB)"], rows), "\n")
        if "faults" in parts:
            faults = faults_in_process(folder, 5 if q else 100, rng)
            faults.append(kills_during_saves(folder, 2 if q else 25, seed=1))
            faults.append(kills_during_training(folder, 1 if q else 10, rng))
            faults.append(ctrl_c_in_fit(3 if q else 50, rng))
            print(table(["fault", "count", "outcome", "temp files left", "files lost"], faults), "\n")
        if "inputs" in parts:
            print(table(["bad input", "error", "message (start)"], bad_inputs()), "\n")
        if "fuzz" not in parts:
            return
        rows, stats = fuzz_files(folder, 500 if q else 20_000, seed=1)
        print(table(["mutation", "cases", "loaded", "ModelFileError", "other exceptions"], rows), "\n")
        reasons = sorted(((k[8:], v) for k, v in stats["outcomes"].items() if k.startswith("reason: ")), key=lambda kv: -kv[1])
        print(table(["ModelFileError, by what it said was wrong", "cases"], [[k, str(v)] for k, v in reasons]), "\n")
        print(
            f"{stats['n']:,} fuzz cases in {stats['elapsed']:.0f} s; slowest single load {stats['slowest_ms']:.0f} ms; "
            f"other exceptions: {sum(stats['others'].values())} {dict(stats['others']) or ''}"
        )


if __name__ == "__main__":
    main()
