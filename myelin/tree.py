"""Keras's ``keras.tree``: functions over nested structures of lists, tuples, dicts and namedtuples.

Leaves are everything else (``None`` included). Dicts are walked in sorted key order
(``flatten``), as Keras does; ``map_structure`` keeps each dict's own key order, and
``pack_sequence_as`` builds dicts in sorted order.

Example:
    >>> flatten({"b": [1, (2, None)], "a": 3})
    [3, 1, 2, None]
    >>> map_structure(lambda x: x * 10, {"w": [1, 2], "b": 3})
    {'w': [10, 20], 'b': 30}
"""

from __future__ import annotations

from collections.abc import Callable


class _MapToNone:
    def __repr__(self) -> str:
        return "MAP_TO_NONE"


MAP_TO_NONE = _MapToNone()  # what a ``traverse`` function returns to put None in a node's place


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(structure) -> bool:
    """Whether ``structure`` is a list, tuple, dict or namedtuple (even an empty one).

    Example:
        >>> is_nested([]), is_nested(3), is_nested(None)
        (True, False, False)
    """
    return isinstance(structure, (list, tuple, dict))


def _children(structure) -> list[tuple]:
    """(key, child) pairs in traversal order: sorted keys for dicts, positions otherwise."""
    if isinstance(structure, dict):
        return [(k, structure[k]) for k in sorted(structure)]
    return list(enumerate(structure))


def _rebuild(template, values: list):
    """A structure of ``template``'s kind holding ``values`` (in the order ``_children`` gives)."""
    if isinstance(template, dict):
        keys = sorted(template)
        by_key = dict(zip(keys, values))
        if type(template) is dict:
            return {k: by_key[k] for k in template}
        return type(template)((k, by_key[k]) for k in template)  # OrderedDict and other mappings
    if _is_namedtuple(template):
        return type(template)(*values)
    if isinstance(template, tuple):
        return tuple(values)
    return list(values)


def flatten(structure) -> list:
    """Every leaf, depth first, dicts by sorted key.

    Example:
        >>> flatten([1, {"y": 2, "x": (3,)}])
        [1, 3, 2]
    """
    if not is_nested(structure):
        return [structure]
    out = []
    for _, child in _children(structure):
        out.extend(flatten(child))
    return out


def flatten_with_path(structure) -> list[tuple]:
    """(path, leaf) pairs; a path is the tuple of keys and positions down to the leaf.

    Example:
        >>> flatten_with_path({"a": [5, 6]})
        [(('a', 0), 5), (('a', 1), 6)]
    """
    if not is_nested(structure):
        return [((), structure)]
    out = []
    for key, child in _children(structure):
        out.extend(((key, *path), leaf) for path, leaf in flatten_with_path(child))
    return out


def _same(a, b, check_types: bool, where: str = "") -> None:
    if is_nested(a) != is_nested(b):
        raise ValueError(f"Structures don't have the same nested structure: {a!r} and {b!r}{where}")
    if not is_nested(a):
        return
    if check_types and type(a) is not type(b):
        raise ValueError(f"Structures don't have the same sequence type: {type(a).__name__} and {type(b).__name__}{where}")
    if isinstance(a, dict) != isinstance(b, dict) or len(a) != len(b) or (isinstance(a, dict) and sorted(a) != sorted(b)):
        raise ValueError(f"Structures don't have the same nested structure: {a!r} and {b!r}{where}")
    for (_, x), (_, y) in zip(_children(a), _children(b)):
        _same(x, y, check_types)


def assert_same_structure(a, b, check_types: bool = True) -> None:
    """Raise a ValueError unless ``a`` and ``b`` nest alike (and, with ``check_types``, with the same types).

    Example:
        >>> assert_same_structure([1, (2, 3)], [4, (5, 6)])
    """
    _same(a, b, check_types)


def assert_same_paths(a, b) -> None:
    """Raise a ValueError unless ``a`` and ``b`` have the same leaf paths (container types may differ).

    Example:
        >>> assert_same_paths([1, 2], (3, 4))
    """
    pa, pb = {p for p, _ in flatten_with_path(a)}, {p for p, _ in flatten_with_path(b)}
    if pa != pb:
        raise ValueError(f"Structures don't have the same paths: {sorted(pa ^ pb, key=str)} in only one of them")


def map_structure(func: Callable, *structures):
    """``func`` applied to the leaves of one or more structures that nest alike.

    Example:
        >>> map_structure(lambda a, b: a + b, [1, 2], [3, 4])
        [4, 6]
    """
    if not structures:
        raise ValueError("map_structure: give at least one structure")
    first = structures[0]
    for other in structures[1:]:
        _same(first, other, check_types=False)
    if not is_nested(first):
        return func(*structures)
    children = [[c for _, c in _children(s)] for s in structures]
    return _rebuild(first, [map_structure(func, *parts) for parts in zip(*children)])


def map_structure_up_to(shallow_structure, func: Callable, *structures):
    """Like ``map_structure``, but stops at the leaves of ``shallow_structure``: deeper parts go to ``func`` whole.

    Example:
        >>> map_structure_up_to([None, None], len, [[1, 2], (3,)])
        [2, 1]
    """
    if not is_nested(shallow_structure):
        return func(*structures)
    for s in structures:
        if not is_nested(s) or len(s) != len(shallow_structure):
            raise ValueError(f"map_structure_up_to: {s!r} does not have the structure of {shallow_structure!r}")
    children = [[c for _, c in _children(s)] for s in structures]
    shallow = [c for _, c in _children(shallow_structure)]
    return _rebuild(shallow_structure, [map_structure_up_to(sh, func, *parts) for sh, *parts in zip(shallow, *children)])


def pack_sequence_as(structure, flat_sequence):
    """The leaves of ``flat_sequence`` put into the shape of ``structure`` (dicts in sorted key order).

    Example:
        >>> pack_sequence_as({"b": [0, 0], "a": 0}, [1, 2, 3])
        {'a': 1, 'b': [2, 3]}
    """
    flat = list(flat_sequence)
    count = len(flatten(structure))
    if count != len(flat):
        raise ValueError(f"pack_sequence_as: the structure has {count} leaves but flat_sequence has {len(flat)} items")
    position = 0

    def build(s):
        nonlocal position
        if not is_nested(s):
            position += 1
            return flat[position - 1]
        values = [build(c) for _, c in _children(s)]
        if isinstance(s, dict):
            return {k: v for k, v in zip(sorted(s), values)}
        return _rebuild(s, values)

    return build(structure)


def lists_to_tuples(structure):
    """The same structure with every list turned into a tuple.

    Example:
        >>> lists_to_tuples([1, [2, [3]]])
        (1, (2, (3,)))
    """
    if not is_nested(structure):
        return structure
    values = [lists_to_tuples(c) for _, c in _children(structure)]
    if isinstance(structure, list):
        return tuple(values)
    return _rebuild(structure, values)


def traverse(func: Callable, structure, top_down: bool = True):
    """Visit every node (containers and leaves). Top down: where ``func`` returns something other
    than None, that replaces the node and its children are not visited (``MAP_TO_NONE`` puts None
    there); bottom up: ``func`` sees each node rebuilt from its visited children.

    Example:
        >>> traverse(lambda x: x * 2 if isinstance(x, int) else None, [1, (2, 3)])
        [2, (4, 6)]
    """

    def finish(value):
        return None if value is MAP_TO_NONE else value

    def visit(node):
        if top_down:
            out = func(node)
            if out is not None:
                return finish(out)
            if not is_nested(node):
                return node
            return _rebuild(node, [visit(c) for _, c in _children(node)])
        rebuilt = _rebuild(node, [visit(c) for _, c in _children(node)]) if is_nested(node) else node
        out = func(rebuilt)
        return rebuilt if out is None else finish(out)

    return visit(structure)


def _is_shape(x) -> bool:
    return isinstance(x, (tuple, list)) and all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in x)


def map_shape_structure(func: Callable, structure):
    """``func`` applied to every shape (a tuple or list of ints and None) in a nested structure.

    Example:
        >>> map_shape_structure(len, [(2, 3), (None,)])
        [2, 1]
    """
    if _is_shape(structure):
        return func(structure)
    if not is_nested(structure):
        return func(structure)
    return _rebuild(structure, [map_shape_structure(func, c) for _, c in _children(structure)])
