"""The package's layout: no module imports run in a circle, no module grows past 800 lines unexplained."""

from __future__ import annotations

import ast
import pathlib

import myelin

ROOT = pathlib.Path(myelin.__file__).parent


def _module_name(path: pathlib.Path) -> str:
    parts = ["myelin", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for p in ROOT.rglob("*.py")}


def _imports(name: str, path: pathlib.Path, known: set[str], lazy: bool) -> set[str]:
    """The myelin modules ``name`` imports (at module level, and inside functions when ``lazy``)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = ast.walk(tree) if lazy else tree.body
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != name and m != "myelin"}


def _cycles(lazy: bool) -> list[list[str]]:
    mods = _modules()
    known = set(mods)
    graph = {n: _imports(n, p, known, lazy) for n, p in mods.items() if n != "myelin"}
    # A package's __init__ re-exporting its own children is not a circle with them.
    for n in graph:
        graph[n] = {m for m in graph[n] if not (mods[n].name == "__init__.py" and m.startswith(n + "."))}
    found, state = [], {}

    def visit(n, trail):
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                found.append(trail[trail.index(m) :] + [m])
            elif m not in state:
                visit(m, trail + [m])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    return found


def test_no_module_level_import_circles():
    assert _cycles(lazy=False) == []


def test_the_three_former_circles_are_gone_even_through_lazy_imports():
    mods = _modules()
    known = set(mods)
    for a, b in [
        ("myelin.callbacks", "myelin.diagnostics"),
        ("myelin.models.model", "myelin.onnx"),
        ("myelin.tensor", "myelin.ops"),
    ]:
        ab, ba = b in _imports(a, mods[a], known, lazy=True), a in _imports(b, mods[b], known, lazy=True)
        assert not (ab and ba), (a, b)


def test_trainers_never_import_models():
    mods = _modules()
    for name, path in mods.items():
        if name.startswith("myelin.trainers"):
            imported = _imports(name, path, set(mods), lazy=True)
            assert not [m for m in imported if m.startswith("myelin.models")], name


def test_long_modules_say_why_at_their_top():
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > 800:
            head = text[: text.index("from __future__")]
            assert "# Over 800 lines because" in head, f"{path} has over 800 lines without a reason at its top"


def test_the_public_import_paths_stay():
    from myelin.models import Model, Sequential, clone_model, load_model

    assert myelin.Model is Model and myelin.Sequential is Sequential
    assert callable(clone_model) and callable(load_model)
    assert myelin.callbacks.Diagnostics.__module__ == "myelin.diagnostics"
