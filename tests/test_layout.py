"""Static rules of the course layout: what may import what, what may reach students, what test cells look like."""
import ast
import json
import re
from collections import defaultdict

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


#: Notebooks whose markdown gives every part's points ("## Part B (3 points)", "**B.1 (1 point)**") and whose given code
#: cells are read-only. 01-03 and 06 do not follow this yet.
LABELLED = [p for p in SOURCES if p.parent.name in ("04_initialization", "05_regularization")]


@pytest.mark.parametrize("path", LABELLED, ids=lambda p: p.parent.name)
def test_parts_points_and_test_titles_agree(path):
    """Each test cell's title ("Part B.1: ... (1 point)") names a part the markdown defines, with the points it states:
    a "## Part B (N points)" heading gets the sum of its tests, a "**B.1 (N point(s)" label the sum of B.1's tests."""
    cells = _cells(path)
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = {k: float(v) for k, v in re.findall(r"^## Part ([A-Z]) \((\d+) points?\)", md, re.M)}
    labels = {k: float(v) for k, v in re.findall(r"\*\*([A-Z]\.\d+) \((\d+) points?", md)}
    per_label, per_part = defaultdict(float), defaultdict(float)
    for i, c in enumerate(cells):
        meta = c.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if c["cell_type"] == "markdown":  # a written answer: its part is the label of the prompt just above it
            prompt = re.search(r"\*\*([A-Z]\.\d+) \((\d+) points?, written", "".join(cells[i - 1]["source"]))
            assert prompt, f"{meta['grade_id']}: a written answer follows a prompt like **A.3 (2 points, written, ...)**"
            assert float(prompt.group(2)) == meta["points"], f"{meta['grade_id']}: its prompt and its points disagree"
            per_label[prompt.group(1)] += meta["points"]
            per_part[prompt.group(1)[0]] += meta["points"]
            continue
        title = re.match(r'"""Part ([A-Z](?:\.\d+)?): .*\((\d+) points?\)"""', "".join(c["source"]))
        assert title, f"{meta['grade_id']}: the cell should open with a title like \"\"\"Part B.1: what (1 point)\"\"\""
        assert float(title.group(2)) == meta["points"], f"{meta['grade_id']}: its title and its points disagree"
        per_label[title.group(1)] += meta["points"]
        per_part[title.group(1)[0]] += meta["points"]
    assert headings == dict(per_part), f"## Part headings {headings}, tests {dict(per_part)}"
    for label, points in per_label.items():
        if "." in label:
            assert labels.get(label) == points, f"markdown label **{label} (...)**: {labels.get(label)}, tests {points}"


@pytest.mark.parametrize("path", LABELLED, ids=lambda p: p.parent.name)
def test_given_code_cells_are_read_only(path):
    """Every code cell that is neither a solution nor a test is given code: nbgrader-locked, not editable, not
    deletable, with a grade_id of its own."""
    ids = []
    for i, c in enumerate(_cells(path)):
        meta = c.get("metadata", {}).get("nbgrader", {})
        ids.append(meta.get("grade_id"))
        if c["cell_type"] != "code" or meta.get("solution") or meta.get("grade"):
            continue
        assert meta.get("locked") is True and meta.get("solution") is False and meta.get("grade") is False, f"cell {i}"
        assert c["metadata"].get("editable") is False and c["metadata"].get("deletable") is False, f"cell {i}"
        assert meta.get("grade_id") and meta.get("schema_version") == 3, f"cell {i}"
    named = [g for g in ids if g]
    assert len(named) == len(set(named)), "grade_ids must be unique"
