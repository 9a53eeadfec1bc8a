"""Malformed and hostile files: each is refused with ModelFileError saying what is wrong, and nothing runs."""

from __future__ import annotations

import json
import struct
import sys
import zipfile

import numpy as np
import pytest

import myelin
from myelin import saving
from myelin.saving import ModelFileError

from .saving_helpers import members, tensor_offset, tiny_model, with_config, with_data, write_zip


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.myelin"
    tiny_model().save(path)
    return path


def refused(path, match: str) -> ModelFileError:
    with pytest.raises(ModelFileError, match=match) as info:
        myelin.models.load_model(path)
    return info.value


def test_not_a_zip_empty_and_truncated_files(tmp_path, good):
    (tmp_path / "text.myelin").write_bytes(b"this is not a model")
    refused(tmp_path / "text.myelin", "not a zip archive")
    (tmp_path / "empty.myelin").write_bytes(b"")
    refused(tmp_path / "empty.myelin", "not a zip archive")
    data = good.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30, len(data) - 1):
        (tmp_path / "cut.myelin").write_bytes(data[:cut])
        refused(tmp_path / "cut.myelin", "not a zip archive|truncated|corrupt")


def test_missing_unexpected_duplicated_and_traversing_members(tmp_path, good):
    parts = members(good)
    write_zip(tmp_path / "a.myelin", [("config.json", parts["config.json"])])
    refused(tmp_path / "a.myelin", "missing member 'model.safetensors'")
    write_zip(tmp_path / "b.myelin", [*parts.items(), ("notes.txt", b"hi")])
    refused(tmp_path / "b.myelin", r"unexpected member\(s\) \['notes.txt'\]")
    write_zip(tmp_path / "c.myelin", [*parts.items(), ("config.json", b"{}")])
    refused(tmp_path / "c.myelin", "member 'config.json' appears more than once")
    for name in ("../config.json", "/etc/passwd", "a/../../b", "C:\\evil", "..\\x"):
        write_zip(tmp_path / "d.myelin", [*parts.items(), (name, b"x")])
        refused(tmp_path / "d.myelin", "path traversal")


def test_size_limits_zip_bombs_and_compression_methods(tmp_path, good, monkeypatch):
    parts = members(good)
    monkeypatch.setattr(saving, "LIMITS", saving.Limits(max_data_bytes=100))
    refused(good, r"member 'model.safetensors' declares [\d,]+ bytes, over the limit of 100")
    monkeypatch.setattr(saving, "LIMITS", saving.Limits(max_total_bytes=1000))
    refused(good, "in all, over the limit of 1,000")
    monkeypatch.setattr(saving, "LIMITS", saving.Limits())

    padded = json.dumps(json.loads(parts["config.json"])).encode()[:-1] + b" " * 5_000_000 + b"}"
    write_zip(
        tmp_path / "bomb.myelin",
        [("config.json", padded), ("model.safetensors", parts["model.safetensors"])],
        zipfile.ZIP_DEFLATED,
    )
    refused(tmp_path / "bomb.myelin", "would expand .* times .*zip bomb")
    modest = json.dumps(json.loads(parts["config.json"]), indent=2).encode()
    write_zip(
        tmp_path / "deflated.myelin",
        [("config.json", modest), ("model.safetensors", parts["model.safetensors"])],
        zipfile.ZIP_DEFLATED,
    )
    assert myelin.models.load_model(tmp_path / "deflated.myelin").count_params() == 26  # deflate itself is fine

    write_zip(tmp_path / "bz.myelin", list(parts.items()), zipfile.ZIP_BZIP2)
    refused(tmp_path / "bz.myelin", "compression method 12")
    raw = bytearray(good.read_bytes())
    info = zipfile.ZipFile(good).getinfo("config.json")
    struct.pack_into("<H", raw, info.header_offset + 6, 1)  # local header: "encrypted"
    struct.pack_into("<H", raw, raw.find(b"PK\x01\x02") + 8, 1)  # its central directory entry too
    (tmp_path / "enc.myelin").write_bytes(bytes(raw))
    refused(tmp_path / "enc.myelin", "encrypted")


def test_oversized_or_broken_safetensors_header(tmp_path, good):
    with_data(good, tmp_path / "h.myelin", lambda d: struct.pack("<Q", 2**40) + d[8:])
    refused(tmp_path / "h.myelin", r"header declares 1,099,511,627,776 bytes, over the limit")
    with_data(good, tmp_path / "t.myelin", lambda d: d[:5])
    refused(tmp_path / "t.myelin", "model.safetensors is truncated")
    with_data(good, tmp_path / "j.myelin", lambda d: d[:8] + b"!" + d[9:])
    refused(tmp_path / "j.myelin", "header is not valid JSON")
    with_data(good, tmp_path / "short.myelin", lambda d: d[:-4])
    refused(tmp_path / "short.myelin", "model.safetensors is corrupt")


def test_bad_json_encoding_format_and_version(tmp_path, good):
    data = members(good)["model.safetensors"]
    write_zip(tmp_path / "j.myelin", [("config.json", b"{not json"), ("model.safetensors", data)])
    refused(tmp_path / "j.myelin", "config.json is not valid JSON")
    write_zip(tmp_path / "u.myelin", [("config.json", b'{"a": "\xff"}'), ("model.safetensors", data)])
    refused(tmp_path / "u.myelin", "not UTF-8")
    write_zip(tmp_path / "l.myelin", [("config.json", b"[1, 2]"), ("model.safetensors", data)])
    refused(tmp_path / "l.myelin", "must hold a JSON object")
    deep = b"[" * 100_000 + b"]" * 100_000
    write_zip(tmp_path / "deep.myelin", [("config.json", deep), ("model.safetensors", data)])
    refused(tmp_path / "deep.myelin", "not valid JSON")
    with_config(good, tmp_path / "v.myelin", lambda c: {**c, "format_version": 99})
    err = refused(tmp_path / "v.myelin", "format version 99, written by a newer myelin.*upgrade myelin")
    assert "reads format versions 1 to 1" in str(err)
    with_config(good, tmp_path / "v0.myelin", lambda c: {**c, "format_version": 0})
    refused(tmp_path / "v0.myelin", "unknown format version 0")
    with_config(good, tmp_path / "vs.myelin", lambda c: {**c, "format_version": "1"})
    refused(tmp_path / "vs.myelin", "'format_version' must be a int")
    with_config(good, tmp_path / "f.myelin", lambda c: {**c, "format": "keras"})
    refused(tmp_path / "f.myelin", "'format' is 'keras', expected 'myelin'")
    with_config(good, tmp_path / "k.myelin", lambda c: {**c, "kind": "pickle"})
    refused(tmp_path / "k.myelin", "'kind' is 'pickle'")


def _set_layer(config, index, **changes):
    config["model"]["config"]["layers"][index]["config"].update(changes)
    return config


def _set_class(config, index, name):
    config["model"]["config"]["layers"][index]["class_name"] = name
    return config


def test_unknown_names_are_refused_and_nothing_is_imported(tmp_path, good):
    myelin.models.load_model(good)  # warm up: whatever loading imports is imported now
    before = set(sys.modules)
    hostile = ["os.system", "subprocess.Popen", "builtins.eval", "__import__", "numpy.load", "pickle.loads"]
    for name in hostile:
        with_config(good, tmp_path / "c.myelin", lambda c, name=name: _set_class(c, 1, name))
        refused(tmp_path / "c.myelin", f"Unknown layer {name!r}")
    with_config(good, tmp_path / "a.myelin", lambda c: _set_layer(c, 1, activation="os.system"))
    refused(tmp_path / "a.myelin", "Unknown activation 'os.system'")
    with_config(
        good, tmp_path / "i.myelin", lambda c: _set_layer(c, 1, kernel_initializer={"class_name": "eval", "config": {}})
    )
    refused(tmp_path / "i.myelin", "Unknown initializer 'eval'")
    with_config(good, tmp_path / "l.myelin", lambda c: {**c, "compile": {**c["compile"], "loss": "subprocess.run"}})
    refused(tmp_path / "l.myelin", "Unknown loss 'subprocess.run'")
    with_config(good, tmp_path / "m.myelin", lambda c: {**c, "compile": {**c["compile"], "metrics": ["os.remove"]}})
    refused(tmp_path / "m.myelin", "Unknown metric 'os.remove'")
    opt = {"class_name": "shutil.rmtree", "config": {}}
    with_config(good, tmp_path / "o.myelin", lambda c: {**c, "compile": {**c["compile"], "optimizer": opt}})
    refused(tmp_path / "o.myelin", "Unknown optimizer 'shutil.rmtree'")
    with_config(good, tmp_path / "custom.myelin", lambda c: _set_class(c, 1, "Someone>Backdoor"))
    refused(tmp_path / "custom.myelin", "Unknown layer 'Someone>Backdoor'.*register_serializable")
    with_config(good, tmp_path / "act.myelin", lambda c: _set_class(c, 1, "Activation"))
    refused(tmp_path / "act.myelin", r"layer 'dense' \(Activation\) cannot be rebuilt from its config: TypeError")
    # Lambda layers exist, but their functions are names looked up in the registries, never code
    lam = {"class_name": "Lambda", "config": {"name": "lam", "function": "os.system", "arguments": {}}}
    with_config(good, tmp_path / "lam.myelin", lambda c: (c["model"]["config"]["layers"].__setitem__(1, lam), c)[1])
    refused(tmp_path / "lam.myelin", "Unknown activation 'os.system'")
    code = {**lam, "config": {**lam["config"], "function": {"class_name": "__lambda__", "config": {"code": "x"}}}}
    with_config(good, tmp_path / "code.myelin", lambda c: (c["model"]["config"]["layers"].__setitem__(1, code), c)[1])
    refused(tmp_path / "code.myelin", "function must be a function or a registered function's name")
    assert set(sys.modules) == before


def test_tensor_table_shape_dtype_and_checksum_mismatches(tmp_path, good):
    def reshape(c):
        c["tensors"]["dense/kernel"]["shape"] = [3, 5]
        return c

    with_config(good, tmp_path / "s.myelin", reshape)
    refused(tmp_path / "s.myelin", r"tensor 'dense/kernel': shape mismatch: the data says \[3, 4\], the config \[3, 5\]")

    def retype(c):
        c["tensors"]["dense/kernel"]["dtype"] = "float64"
        return c

    with_config(good, tmp_path / "d.myelin", retype)
    refused(tmp_path / "d.myelin", "tensor 'dense/kernel': dtype mismatch: the data says 'F32', the config F64")

    def bad_dtype(c):
        c["tensors"]["dense/kernel"]["dtype"] = "object"
        return c

    with_config(good, tmp_path / "o.myelin", bad_dtype)
    refused(tmp_path / "o.myelin", "dtype 'object' is not one of")

    def flip(d):
        at = tensor_offset(d, "dense_1/bias")
        return d[:at] + bytes([d[at] ^ 0x01]) + d[at + 1 :]

    with_data(good, tmp_path / "x.myelin", flip)
    refused(tmp_path / "x.myelin", "tensor 'dense_1/bias': checksum mismatch .* the data is corrupt")
    raw = bytearray(good.read_bytes())
    raw[-200] ^= 0xFF  # inside the stored data: the zip's own CRC catches it first
    (tmp_path / "crc.myelin").write_bytes(bytes(raw))
    refused(tmp_path / "crc.myelin", "corrupt or truncated|checksum")

    def drop(c):
        del c["tensors"]["dense/bias"]
        return c

    with_config(good, tmp_path / "m.myelin", drop)
    refused(tmp_path / "m.myelin", "not in the tensor table")

    def stray(c):
        c["tensors"]["ghost"] = dict(c["tensors"]["dense/bias"])
        return c

    with_config(good, tmp_path / "g.myelin", stray)
    refused(tmp_path / "g.myelin", r"tensor\(s\) \['ghost'\] are missing from the data")


def test_architecture_that_disagrees_with_the_weights_or_asks_for_too_much(tmp_path, good):
    with_config(good, tmp_path / "u.myelin", lambda c: _set_layer(c, 2, units=1))
    refused(tmp_path / "u.myelin", r"layer #1 of the model, 'dense_1' \(Dense\), has weights of shapes \[\(4, 1\), \(1,\)\]")
    with_config(good, tmp_path / "w.myelin", lambda c: _set_layer(c, 1, units=5))
    refused(tmp_path / "w.myelin", r"weight 'kernel' of shape \(5, 2\) needs 10 values, more than the 6 left")
    with_config(good, tmp_path / "big.myelin", lambda c: _set_layer(c, 1, units=10**12))
    refused(tmp_path / "big.myelin", "needs 3,000,000,000,000 values, more than the 26 left in the file's data")
    with_config(good, tmp_path / "neg.myelin", lambda c: _set_layer(c, 1, units=-3))
    refused(tmp_path / "neg.myelin", "units must be a positive integer")
    with_config(good, tmp_path / "in.myelin", lambda c: _set_layer(c, 0, batch_shape=[None, 10**9, 10**9]))
    refused(tmp_path / "in.myelin", "values per sample, more than the limit")
    with_config(good, tmp_path / "kw.myelin", lambda c: _set_layer(c, 1, delete_everything=True))
    refused(tmp_path / "kw.myelin", "unexpected keyword argument")

    def no_optimizer_weights(c):
        c["optimizer_state"]["variables"] = ["nope"]
        return c

    with_config(good, tmp_path / "o.myelin", no_optimizer_weights)
    refused(tmp_path / "o.myelin", "optimizer_state: variable 'nope' is not one of the model's weights")


def test_load_weights_and_read_file_refuse_the_same_files(tmp_path, good):
    (tmp_path / "bad.myelin").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ModelFileError):
        tiny_model().load_weights(tmp_path / "bad.myelin")
    with pytest.raises(ModelFileError):
        saving.read_file(tmp_path / "bad.myelin")
    config, tensors = saving.read_file(good)
    assert config["kind"] == "model" and tensors["dense/kernel"].shape == (3, 4)
    assert all(isinstance(a, np.ndarray) for a in tensors.values())
