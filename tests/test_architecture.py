"""The code's rooms (docs/architecture.md): imports read one way, there are no circles, and each module is small and
says what it is. Walks every import with ``ast`` (function-level imports included), so a lazy import cannot hide a
circle."""
import ast
from pathlib import Path

import pytest

from conftest import ROOT

#: The rooms, top first. A module may import from its own room and from rooms below it, never from a room above.
LAYERS = [
    {"autograder.cli", "autograder.__main__"},
    {"autograder.authoring"},
    {"autograder.grading", "autograder.hub"},   # hub: provisions and runs the demo JupyterHub, uses grading
    {"autograder.report"},
    {"autograder.checks"},
    {"autograder.reference", "autograder.protocol", "autograder.outcome", "autograder.deferred_imports"},
]
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for top in ("autograder", "course"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every project module ``name`` imports, resolved to the longest module name that exists."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int | None:
    for i, rooms in enumerate(LAYERS):
        if any(name == r or name.startswith(r + ".") for r in rooms):
            return i
    return None


def test_the_walk_sees_the_imports():
    """The walker itself: a known edge in each direction it must resolve (relative, absolute, function-level)."""
    assert "autograder.grading.pool" in GRAPH["autograder.grading.classrun"]
    assert "autograder.reference.mlp" in GRAPH["autograder.checks.nb02"]
    assert "autograder.authoring.build" in GRAPH["autograder.cli"]          # imported inside main()


def test_course_imports_nothing_of_autograder():
    bad = {m: sorted(i for i in deps if i.startswith("autograder")) for m, deps in GRAPH.items()
           if m.startswith("course")}
    assert not any(bad.values()), f"course/ must never import autograder/: {bad}"


def test_no_import_circles():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(GRAPH[m]):
            if state.get(d) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_imports_read_one_way():
    wrong = []
    for m, deps in GRAPH.items():
        lm = _layer(m)
        if lm is None:
            continue
        for d in deps:
            ld = _layer(d)
            if ld is not None and ld < lm:
                wrong.append(f"{m} (room {lm}) imports {d} (room {ld}, above it)")
    assert not wrong, "\n".join(wrong)


def test_every_module_has_a_room():
    homeless = [m for m in MODULES if m.startswith("autograder.") and _layer(m) is None]
    assert not homeless, f"modules outside the rooms of docs/architecture.md: {homeless}"


@pytest.mark.parametrize("name", sorted(MODULES), ids=str)
def test_module_is_small_and_says_what_it_is(name):
    path = MODULES[name]
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES, f"{path.relative_to(ROOT)} has {len(text.splitlines())} lines"
    doc = ast.get_docstring(ast.parse(text))
    assert doc and len(doc.splitlines()[0]) > 10, f"{path.relative_to(ROOT)} has no first line saying what it is"
