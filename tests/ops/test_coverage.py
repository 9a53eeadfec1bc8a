"""docs/ops.md is up to date and accounts for every name in keras.ops (from the committed snapshot)."""

import importlib.util
import pathlib

from myelin import ops
from myelin.ops import _coverage

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("ops_table", ROOT / "tools" / "ops_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_keras_name_is_in_myelin_or_listed_absent():
    names = [line.split()[0] for line in (ROOT / "tools" / "keras_ops_names.txt").read_text().splitlines() if line.strip()]
    assert len(names) > 300
    for name in names:
        target = ops
        for part in name.split("."):
            target = getattr(target, part, None)
        assert (target is not None) != (name in _coverage.ABSENT), name
    for name in _coverage.DIFFERS:
        assert name in names and name not in _coverage.ABSENT, name


def test_nn_and_linalg_names_are_also_on_ops():
    assert ops.sigmoid is ops.nn.sigmoid and ops.norm is ops.linalg.norm and ops.matmul is ops.numpy.matmul


def test_docs_table_is_current(monkeypatch):
    tool = _tool()
    monkeypatch.setattr(tool, "keras_names", lambda: [tuple(line.split()) for line in tool.SNAPSHOT.read_text().splitlines()])
    assert tool.render() == (ROOT / "docs" / "ops.md").read_text(), "run: python tools/ops_table.py"
