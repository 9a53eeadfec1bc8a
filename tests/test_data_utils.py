"""Data helpers and utils."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import data, utils


def test_to_categorical_like_keras():
    np.testing.assert_array_equal(utils.to_categorical([0, 2, 1]), np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert utils.to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)
    assert utils.to_categorical(np.array([1.0, 3.0])).shape == (2, 4)
    with pytest.raises(ValueError, match="out of range"):
        utils.to_categorical([5], num_classes=3)
    with pytest.raises(ValueError, match="whole numbers"):
        utils.to_categorical([0.5])
    with pytest.raises(ValueError, match=">= 0"):
        utils.to_categorical([-1])


def test_normalize():
    np.testing.assert_allclose(utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]])), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize([[1.0, 1.0]], order=1), [[0.5, 0.5]])


def test_arrays_and_batches():
    assert [len(b) for b in data.batch_indices(10, 3, shuffle=True, rng=np.random.default_rng(0))] == [3, 3, 3, 1]
    parts = list(data.batch_indices(10, 3, shuffle=True, rng=np.random.default_rng(0)))
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="same length"):
        data.to_array([[1, 2], [3]])
    with pytest.raises(ValueError, match="scalar"):
        data.to_array(3.0)
    with pytest.raises(ValueError, match="different numbers of samples"):
        data.num_samples([np.zeros(3), np.zeros(4)])
    assert len(data.to_arrays({"a": np.zeros(2), "b": np.zeros(2)})) == 2
    assert data.cast_targets(np.array([True, False]), "float32").dtype == np.float32


def test_a_list_of_equal_one_dimensional_arrays_is_several_inputs_as_in_keras():
    a, b = np.arange(3.0), np.arange(3.0, 6.0)
    arrays = data.to_arrays([a, b])
    assert [x.tolist() for x in arrays] == [a.tolist(), b.tolist()]
    assert [x.shape for x in data.to_arrays([[1.0, 2.0], [3.0, 4.0]])] == [(2, 2)]  # a nested list is one input


def test_no_module_function_is_a_dead_path_returning_a_constant():
    """A module-level function whose whole body is ``return <constant>`` decides nothing (data._is_row_list was one)."""
    import ast
    from pathlib import Path

    import myelin

    dead = []
    for path in sorted(Path(myelin.__file__).parent.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Constant):
                dead.append(f"{path.name}:{node.lineno} {node.name}")
    assert dead == []
