"""myelin.tree against Keras 3's keras.tree (the expected values are Keras 3.15's results)."""

from __future__ import annotations

import collections

import pytest

from myelin import tree

S = {"b": [1, (2, None)], "a": 3}
P = collections.namedtuple("P", "x y")


def test_flatten_and_paths_like_keras():
    assert tree.flatten(S) == [3, 1, 2, None]
    assert tree.flatten_with_path(S) == [(("a",), 3), (("b", 0), 1), (("b", 1, 0), 2), (("b", 1, 1), None)]
    assert (tree.flatten([]), tree.flatten({}), tree.flatten(None)) == ([], [], [None])
    assert tree.flatten(P(1, 2)) == [1, 2]
    assert (tree.is_nested(3), tree.is_nested([])) == (False, True)


def test_map_and_pack_like_keras():
    assert tree.map_structure(lambda x: None if x is None else x * 10, S) == {"b": [10, (20, None)], "a": 30}
    assert list(tree.map_structure(lambda x: x, S)) == ["b", "a"]  # each dict keeps its key order
    packed = tree.pack_sequence_as(S, list(range(4)))
    assert packed == {"a": 0, "b": [1, (2, 3)]} and list(packed) == ["a", "b"]  # sorted
    assert tree.map_structure(lambda a: a + 1, P(1, 2)) == P(2, 3)
    assert tree.map_structure(lambda a, b: a + b, [1, 2], [3, 4]) == [4, 6]
    od = collections.OrderedDict([("z", 1), ("y", 2)])
    assert type(tree.map_structure(lambda v: v, od)) is collections.OrderedDict
    assert tree.map_structure_up_to((None, None), lambda x: x, ([1], {"k": 2})) == ([1], {"k": 2})
    with pytest.raises(ValueError, match="has 4 leaves but flat_sequence has 2"):
        tree.pack_sequence_as(S, [1, 2])


def test_structure_checks_like_keras():
    with pytest.raises(ValueError, match="Structures don't have the same nested structure"):
        tree.assert_same_structure([1, 2], [1, [2]])
    with pytest.raises(ValueError, match="same sequence type"):
        tree.assert_same_structure([1, 2], (1, 2))
    tree.assert_same_structure([1, 2], (1, 2), check_types=False)
    tree.assert_same_paths({"a": 1}, {"a": [2][0]})
    with pytest.raises(ValueError, match="same paths"):
        tree.assert_same_paths({"a": 1}, {"b": 1})


def test_traverse_tuples_and_shapes_like_keras():
    assert tree.lists_to_tuples([1, [2, [3]]]) == (1, (2, (3,)))
    assert tree.traverse(lambda x: None, S) == S
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 1 else None, [1, 2]) == [None, 2]
    assert tree.traverse(lambda x: sum(x) if isinstance(x, list) else None, [1, [2, 3]], top_down=False) == 6
    assert tree.map_shape_structure(lambda s: s, (2, 3)) == (2, 3)
    assert tree.map_shape_structure(len, [(2, 3), (None,)]) == [2, 1]
