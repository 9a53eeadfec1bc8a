"""List the parameters of myelin's public functions and methods that their body never reads.

    python tools/unused_arguments.py            # parameters never read, from the repository root
    python tools/unused_arguments.py --stored   # arguments kept on self and read nowhere else

A parameter counts as read when its name is loaded anywhere in the body (nested functions
included), or the body calls ``locals()``. Bodies that do nothing (``...``, ``pass``, a docstring,
``raise NotImplementedError``: hooks meant to be overridden) are left out; so are private names
(a leading underscore) except ``__init__``/``__call__``. What it prints is reviewed by hand in
docs/ignored_arguments.md.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _is_noop(body: list) -> bool:
    stmts = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not stmts:
        return True
    if len(stmts) == 1:
        s = stmts[0]
        if isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)):
            return True
        if isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s):
            return True
    return False


def _public(name: str) -> bool:
    return not name.startswith("_") or name in ("__init__", "__call__")


def unused(root: Path):
    for path in sorted(root.rglob("*.py")):
        if any(part.startswith("_") and part != "__init__.py" for part in path.relative_to(root).parts):
            continue
        tree = ast.parse(path.read_text())
        stack = [(tree, True)]
        while stack:
            node, visible = stack.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ClassDef):
                    stack.append((child, visible and _public(child.name)))
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if not (visible and _public(child.name)) or _is_noop(child.body):
                        continue
                    loaded = {n.id for n in ast.walk(child) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                    if "locals" in loaded:
                        continue
                    a = child.args
                    params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
                    params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
                    for p in params:
                        if p in ("self", "cls") or p.startswith("_"):
                            continue
                        if p not in loaded:
                            owner = node.name if isinstance(node, ast.ClassDef) else ""
                            yield f"{path}:{child.lineno} {owner}.{child.name}({p})"


CONFIG_ONLY = {"get_config", "__repr__", "_dtype_config", "get_build_config", "__init__", "from_config"}


def stored_only(root: Path):
    """Arguments of public methods stored as ``self.<attr>`` whose attribute is read nowhere but in configs and repr."""
    files = sorted(p for p in root.rglob("*.py"))
    reads: dict[str, set[str]] = {}
    trees = {p: ast.parse(p.read_text()) for p in files}
    for tree in trees.values():
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for n in ast.walk(fn):
                    if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
                        reads.setdefault(n.attr, set()).add(fn.name)
                    elif isinstance(n, ast.Constant) and isinstance(n.value, str):  # getattr(self, "name")
                        reads.setdefault(n.value, set()).add(fn.name)
    for path, tree in trees.items():
        for cls in ast.walk(tree):
            if not (isinstance(cls, ast.ClassDef) and _public(cls.name)):
                continue
            for fn in cls.body:
                if not isinstance(fn, ast.FunctionDef) or (fn.name.startswith("_") and fn.name != "__init__"):
                    continue
                params = {p.arg for p in fn.args.args + fn.args.kwonlyargs} - {"self"}
                for n in ast.walk(fn):
                    if not isinstance(n, ast.Assign):
                        continue
                    used = {m.id for m in ast.walk(n.value) if isinstance(m, ast.Name)} & params
                    for target in n.targets:
                        for t in ast.walk(target):
                            on_self = isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                            where = sorted(reads.get(t.attr, set())) if on_self else []
                            if on_self and used and not set(where) - CONFIG_ONLY:
                                yield f"{path}:{n.lineno} {cls.name}.stores {sorted(used)} in self.{t.attr}: {where}"


if __name__ == "__main__":
    for line in (stored_only if "--stored" in sys.argv else unused)(Path("myelin")):
        print(line)
