"""Saving never loses the last good file: failures midway, Ctrl-C, SIGKILL, leftover temporary files."""

from __future__ import annotations

import errno
import os
import signal

import pytest

from myelin import saving

from .saving_helpers import FullDisk, constant_model, kill_during_save, leftovers, stored_value, tiny_model


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


@pytest.mark.slow
@pytest.mark.parametrize("point", saving.FAULT_POINTS)
def test_sigkill_at_each_moment_of_a_save_leaves_the_old_or_the_new_file(tmp_path, point):
    code, value = kill_during_save(tmp_path, point)
    assert code == -signal.SIGKILL  # killed at that moment, not finished
    # before the rename the file is the previous save (1s); once renamed, the new one (2s)
    assert value == (2.0 if point == "replaced" else 1.0)
    assert len(leftovers(tmp_path)) == (0 if point == "replaced" else 1)
    tiny_model().save(tmp_path / "model.myelin")  # the next save cleans up what the killed one left
    assert leftovers(tmp_path) == []


def test_every_fault_point_is_reached_in_order_by_a_save(tmp_path, monkeypatch):
    reached = []
    monkeypatch.setattr(saving, "_fault_hook", lambda name, path: reached.append((name, os.path.basename(path))))
    tiny_model().save(tmp_path / "m.myelin")
    assert reached == [(name, "m.myelin") for name in saving.FAULT_POINTS]
