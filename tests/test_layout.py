"""Static rules of the course layout: what may import what, what may reach students, what test cells look like."""
import ast
import json

import pytest

from conftest import ROOT

SOURCES = sorted(ROOT.glob("source/*/*.ipynb"))
RELEASES = sorted(ROOT.glob("release/*/*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_there_are_notebooks():
    assert SOURCES, "no source notebooks"
    assert [p.parent.name for p in RELEASES] == [p.parent.name for p in SOURCES], "release/ and source/ list different assignments"


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.parent.name)
def test_release_leaks_nothing(path):
    text = path.read_text()
    for marker in ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "autograder"]:
        assert marker not in text, f"{path.relative_to(ROOT)} contains {marker!r}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_source_is_clean(path):
    for i, c in enumerate(_cells(path)):
        if c["cell_type"] == "code":
            assert not c.get("outputs"), f"{path.name} cell {i} carries outputs: keep sources clean"
            assert c.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_every_test_cell_asserts(path):
    """nbgrader gives full marks to a cell that ends in a bare expression; ours end in an assert or a check call."""
    n_tests = 0
    for c in _cells(path):
        meta = c.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") and c["cell_type"] == "code"):
            continue
        n_tests += 1
        src = "".join(c["source"])
        tree = ast.parse(src)
        gid = meta["grade_id"]
        assert meta.get("points", 0) > 0, f"{gid} has no points"
        assert any(isinstance(n, ast.Assert) for n in ast.walk(tree)), f"{gid} has no visible assert"
        assert "### BEGIN HIDDEN TESTS" in src and "from autograder.checks import" in src, f"{gid} has no hidden checks"
        last = tree.body[-1]
        bare = isinstance(last, ast.Expr) and not isinstance(last.value, ast.Call)
        assert not bare, f"{gid} ends in a bare expression"
    assert n_tests > 0


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_notebook_opens_with_goals_and_closes_with_summary(path):
    cells = _cells(path)
    first = "".join(cells[0]["source"])
    last_md = "".join([c for c in cells if c["cell_type"] == "markdown"][-1]["source"])
    assert "Learning goals" in first, f"{path.name} does not open with its learning goals"
    assert "Summary" in last_md, f"{path.name} does not close with a summary"
    points = [c["metadata"]["nbgrader"]["points"] for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    total = sum(points)
    assert f"{total:g} points" in first, f"{path.name}: the intro should state the total, {total:g} points"
