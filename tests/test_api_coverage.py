"""docs/api.md against Keras 3's name list (tests/data/keras_api.json) and against myelin itself."""

from __future__ import annotations

import inspect
import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import api_table  # noqa: E402

ROW = re.compile(r"^\| `([^`]+)` \| (\w+) \| (same|differs|absent) \| (.*) \|$")


def _doc_rows() -> dict:
    rows, namespace = {}, None
    for line in api_table.DOC.read_text().splitlines():
        if line.startswith("## "):
            namespace = line[3:].strip()
        match = ROW.match(line)
        if match and namespace:
            rows[(namespace, match.group(1))] = (match.group(2), match.group(3), match.group(4))
    return rows


KERAS = json.loads(api_table.SNAPSHOT.read_text())
ROWS = _doc_rows()


def test_snapshot_lists_every_namespace():
    assert set(KERAS["namespaces"]) == set(api_table.NAMESPACES)
    assert "BinaryFocalCrossentropy" in KERAS["namespaces"]["keras.losses"]
    assert len(KERAS["namespaces"]["keras.metrics"]) > 50


def test_every_keras_name_has_one_row():
    expected = {(ns, n) for ns, names in KERAS["namespaces"].items() for n in names}
    assert set(ROWS) == expected


@pytest.mark.parametrize("key", sorted(k for k, v in ROWS.items() if v[1] in ("same", "differs")))
def test_listed_names_exist_in_myelin(key):
    namespace, name = key
    obj = api_table.resolve(namespace, name)
    assert obj is not None, f"docs/api.md lists {namespace}.{name} as {ROWS[key][1]} but myelin has no {name}"
    kind = ROWS[key][0]
    if ROWS[key][1] == "same" and kind == "class":
        assert inspect.isclass(obj), f"{namespace}.{name} is a class in Keras but not in myelin"
    if ROWS[key][1] == "same" and kind == "module":
        assert inspect.ismodule(obj)


def test_absent_rows_give_a_reason():
    for key, (_, st, note) in ROWS.items():
        if st == "absent":
            assert note.strip(), f"{key} is absent without a reason"
        if st == "differs":
            assert note.strip(), f"{key} differs without saying how"


def test_doc_is_up_to_date():
    assert api_table.render(KERAS) == api_table.DOC.read_text(), "docs/api.md is stale: run python tools/api_table.py"
