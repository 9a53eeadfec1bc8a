"""Saving never loses the last good file: failures midway, Ctrl-C, SIGKILL, leftover temporary files."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import myelin
from myelin import layers, saving

from .saving_helpers import tiny_model


def constant_model(value: float, units: int = 4) -> myelin.Sequential:
    model = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(units), layers.Dense(2)])
    model.set_weights([np.full(w.shape, value, np.float32) for w in model.get_weights()])
    return model


def stored_value(path) -> float:
    """The single value every weight of a file written from ``constant_model`` holds."""
    values = {float(v) for w in myelin.models.load_model(path).get_weights() for v in np.unique(w)}
    assert len(values) == 1
    return values.pop()


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
    return sorted(n for n in os.listdir(folder) if saving.TEMP_MARKER in n)


@pytest.mark.parametrize("room", [0, 100, 3000, 10_000])
def test_a_full_disk_midway_leaves_the_previous_file_intact(tmp_path, monkeypatch, room):
    path = tmp_path / "m.myelin"
    constant_model(1.0).save(path)
    before = path.read_bytes()
    real_open = saving._open_for_writing
    monkeypatch.setattr(saving, "_open_for_writing", lambda fd: FullDisk(real_open(fd), room))
    with pytest.raises(OSError, match="No space left on device"):
        constant_model(2.0, units=1024).save(path)
    assert path.read_bytes() == before and stored_value(path) == 1.0
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failures_at_fsync_or_rename_leave_the_previous_file_intact(tmp_path, monkeypatch, failing):
    path = tmp_path / "m.myelin"
    constant_model(1.0).save(path)

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, f"{failing} failed")

    monkeypatch.setattr(saving.os, failing, fail)
    with pytest.raises(OSError, match=f"{failing} failed"):
        constant_model(2.0).save(path)
    monkeypatch.undo()
    assert stored_value(path) == 1.0 and leftovers(tmp_path) == []


def test_an_exception_or_ctrl_c_inside_a_write_removes_the_temporary_file(tmp_path):
    path = tmp_path / "notes.bin"
    path.write_bytes(b"old")
    for error in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(error)), saving.atomic_write(path) as f:
            f.write(b"half of the new")
            raise error
        assert path.read_bytes() == b"old" and leftovers(tmp_path) == []
    with saving.atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"


def test_saved_files_get_normal_permissions(tmp_path):
    path = tmp_path / "m.myelin"
    constant_model(1.0).save(path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    path.chmod(0o600)
    constant_model(2.0).save(path)  # an existing file keeps its mode
    assert path.stat().st_mode & 0o777 == 0o600


def test_leftover_temporary_files_are_ignored_and_cleaned_up(tmp_path):
    path = tmp_path / "m.myelin"
    constant_model(1.0).save(path)
    dead = tmp_path / f".m.myelin{saving.TEMP_MARKER}999999999-abc"
    dead.write_bytes(b"PK\x03\x04 half a file")
    alive = tmp_path / f".m.myelin{saving.TEMP_MARKER}{os.getppid()}-def"
    alive.write_bytes(b"another process is writing this")
    other = tmp_path / f".other.myelin{saving.TEMP_MARKER}999999999-ghi"
    other.write_bytes(b"not ours")
    assert stored_value(path) == 1.0  # loading reads the target only
    constant_model(2.0).save(path)
    assert not dead.exists() and alive.exists() and other.exists()
    assert stored_value(path) == 2.0
    assert saving.clean_temp_files(tmp_path) == [other.name]


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import myelin
    from myelin import layers

    path = sys.argv[1]
    model = myelin.Sequential([layers.Input(shape=(512,)), layers.Dense(1024), layers.Dense(1024)])
    model.compile(optimizer="adam", loss="mse")
    for k in range(1, 1000):
        model.set_weights([np.full(w.shape, k, np.float32) for w in model.get_weights()])
        print("begin", k, flush=True)
        model.save(path)
        print("end", k, flush=True)
    """
)


def kill_during_saves(tmp_path, rounds: int, seed: int) -> list[tuple[int, str]]:
    """Run a process that saves a 1.6M-parameter model in a loop; SIGKILL it at random moments.

    Returns (value found in the file, what the process was doing when killed) per round.
    """
    rng = np.random.default_rng(seed)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    path = tmp_path / "big.myelin"
    results = []
    for _ in range(rounds):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True)
        lines = [proc.stdout.readline()]  # "begin 1": the model is built, saving starts
        while lines[-1].strip() != "end 1":
            lines.append(proc.stdout.readline())
        time.sleep(float(rng.uniform(0.0, 0.6)))
        proc.send_signal(signal.SIGKILL)
        lines += proc.stdout.read().splitlines()
        proc.wait()
        last = lines[-1].split()
        value = stored_value(path)  # must load: never a broken file
        done = [int(line.split()[1]) for line in lines if line.startswith("end")]
        # the file holds the last completed save, or the one in flight if its rename had happened
        assert value == done[-1] or (last[0] == "begin" and value == int(last[1]))
        results.append((int(value), "saving" if last[0] == "begin" else "between saves"))
    return results


@pytest.mark.slow
def test_sigkill_during_saves_leaves_the_old_or_the_new_file(tmp_path):
    results = kill_during_saves(tmp_path, rounds=4, seed=0)
    assert any(state == "saving" for _, state in results)  # the kills did land inside saves
    tiny_model().save(tmp_path / "big.myelin")  # the next save cleans up what the killed ones left
    assert leftovers(tmp_path) == []
