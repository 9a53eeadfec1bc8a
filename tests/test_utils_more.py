"""Keras's utilities: Progbar, get_file (a local file:// URL; never the network), image helpers,
pack/unpack, Config, standardize_dtype, interactive logging."""

from __future__ import annotations

import hashlib
import io
import logging
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from myelin import utils


def test_progbar_averages_over_steps_and_keeps_stateful_values(capsys):
    bar = utils.Progbar(4, verbose=1, interval=0.0, stateful_metrics=["acc"])
    bar.update(1, [("loss", 4.0), ("acc", 0.1)])
    bar.update(3, [("loss", 1.0), ("acc", 0.7)])  # covers two steps
    bar.update(4, [("loss", 0.0), ("acc", 0.9)])
    out = capsys.readouterr().out
    last = out.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("4/4 [====================]")
    assert "loss: 1.5000" in last  # (4*1 + 1*2 + 0*1) / 4
    assert "acc: 0.9000" in last
    assert "ETA" in out  # while running


def test_progbar_verbose_2_prints_once_and_unknown_target(capsys):
    bar = utils.Progbar(3, verbose=2)
    for k in range(1, 4):
        bar.update(k, [("mae", float(k))])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("3/3 - ") and lines[0].endswith("mae: 2.0000")
    unknown = utils.Progbar(None, verbose=1, interval=0.0)
    unknown.update(5)
    assert "5/Unknown" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Progbar: verbose must be 0, 1 or 2"):
        utils.Progbar(3, verbose=3)


def test_interactive_logging_switch_sends_lines_to_the_logger(capsys, caplog):
    utils.disable_interactive_logging()
    try:
        assert not utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="myelin"):
            utils.Progbar(2, verbose=2).update(2, [("loss", 0.5)])
        assert capsys.readouterr().out == ""
        assert "loss: 0.5000" in caplog.text
    finally:
        utils.enable_interactive_logging()
    assert utils.is_interactive_logging_enabled()


def test_get_file_downloads_verifies_and_caches(tmp_path):
    src = tmp_path / "src" / "weights.bin"
    src.parent.mkdir()
    src.write_bytes(b"0123456789" * 100)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    path = utils.get_file(origin=src.as_uri(), file_hash=sha, cache_dir=str(cache))
    assert path == str(cache / "datasets" / "weights.bin")
    assert Path(path).read_bytes() == src.read_bytes()
    # cached: found again even when the origin is gone
    src.rename(src.with_suffix(".moved"))
    assert utils.get_file(origin=src.as_uri(), md5_hash=md5, cache_dir=str(cache)) == path
    # a wrong checksum removes the download and says what came
    other = tmp_path / "src" / "other.bin"
    other.write_bytes(b"abc")
    with pytest.raises(ValueError, match="incomplete or corrupted: its sha256 is"):
        utils.get_file("other.bin", origin=other.as_uri(), file_hash="0" * 64, cache_dir=str(cache))
    assert not (cache / "datasets" / "other.bin").exists()


def test_get_file_without_network_says_so(tmp_path):
    missing = tmp_path / "nowhere.bin"
    with pytest.raises(OSError, match=r"could not download .* put the file there by hand"):
        utils.get_file(origin=missing.as_uri(), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="give the origin argument"):
        utils.get_file("x")
    with pytest.raises(ValueError, match="fname must be a file name, not a path"):
        utils.get_file("a/b.txt", origin=missing.as_uri())


def test_get_file_extracts_tar_and_zip(tmp_path):
    payload = tmp_path / "payload.txt"
    payload.write_text("inside")
    tar_path = tmp_path / "data.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(payload, arcname="folder/payload.txt")
    out = utils.get_file("data.tar.gz", origin=tar_path.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert Path(out, "folder", "payload.txt").read_text() == "inside"
    zip_path = tmp_path / "pack.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("a/b.txt", "zipped")
    out = utils.get_file(origin=zip_path.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert Path(out, "a", "b.txt").read_text() == "zipped"
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.txt", "no")
    with pytest.raises(ValueError, match="would land outside"):
        utils.get_file(origin=evil.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))


def test_images_round_trip(tmp_path):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (5, 7, 3)).astype(np.float32)
    img = utils.array_to_img(x, scale=False)
    assert img.size == (7, 5) and img.mode == "RGB"
    np.testing.assert_array_equal(utils.img_to_array(img), x)
    assert utils.img_to_array(img, data_format="channels_first").shape == (3, 5, 7)
    path = tmp_path / "picture.png"
    utils.save_img(path, x, scale=False)
    loaded = utils.load_img(path)
    np.testing.assert_array_equal(utils.img_to_array(loaded), x)
    gray = utils.load_img(path, color_mode="grayscale", target_size=(3, 4))
    assert gray.size == (4, 3) and utils.img_to_array(gray).shape == (3, 4, 1)
    cropped = utils.load_img(path, target_size=(2, 2), keep_aspect_ratio=True, interpolation="bilinear")
    assert cropped.size == (2, 2)
    scaled = utils.img_to_array(utils.array_to_img(np.array([[[0.0], [0.5], [1.0]]])))
    np.testing.assert_array_equal(scaled[..., 0], [[0, 127, 255]])
    with pytest.raises(ValueError, match="array_to_img: expected an image array of rank 3"):
        utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="color_mode must be"):
        utils.load_img(path, color_mode="cmyk")
    buffer = io.BytesIO(path.read_bytes())
    assert utils.load_img(buffer).size == (7, 5)


def test_pack_unpack_like_keras():
    assert utils.pack_x_y_sample_weight(1) == 1
    assert utils.pack_x_y_sample_weight((1, 2)) == ((1, 2),)
    assert utils.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    assert utils.unpack_x_y_sample_weight(5) == (5, None, None)
    assert utils.unpack_x_y_sample_weight([1, 2]) == (1, 2, None)
    with pytest.raises(ValueError, match="unpack_x_y_sample_weight"):
        utils.unpack_x_y_sample_weight((1, 2, 3, 4))


def test_config_and_standardize_dtype():
    c = utils.Config(a=1)
    c.b = 2
    assert dict(c.items()) == {"a": 1, "b": 2} and c.to_json() == '{"a": 1, "b": 2}'
    c.freeze()
    with pytest.raises(ValueError, match="frozen"):
        c.a = 3
    assert utils.standardize_dtype("float16") == "float16"
    assert utils.standardize_dtype(np.int32) == "int32"
    with pytest.raises(ValueError, match="is not a dtype"):
        utils.standardize_dtype("floaty")
