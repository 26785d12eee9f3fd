"""release/, solutions/ and the demo class are exactly what the build makes from source/ now, and leak nothing."""
import json
import shutil

import nbformat
import pytest

from autograder.authoring import build
from autograder.grading import nbg
from conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """A fresh build in a copy of the course, never touching the repo. Its solutions are not executed: only their
    cells and metadata are compared (the committed copy's outputs are checked below, and `make build` executes)."""
    tmp = tmp_path_factory.mktemp("course")
    shutil.copy2(ROOT / "nbgrader_config.py", tmp)
    shutil.copytree(ROOT / "source", tmp / "source")
    (tmp / "autograder").mkdir()
    build.build(tmp, execute=False, log=lambda *a: None)
    return tmp


def _source_view(path):
    """What a notebook says, without execution results: cell types, sources and nbgrader metadata."""
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, json.dumps(c.metadata.get("nbgrader", {}), sort_keys=True)) for c in nb.cells]


def test_release_matches_a_fresh_build(rebuilt):
    names = nbg.assignments(ROOT)
    for a in names:
        committed = (ROOT / "release" / a / f"{a}.ipynb").read_text()
        fresh = (rebuilt / "release" / a / f"{a}.ipynb").read_text()
        assert committed == fresh, f"release/{a} drifted from source/: run `make build` and commit"
    assert sorted(p.name for p in (ROOT / "release").iterdir()) == names


def test_solutions_match_a_fresh_build(rebuilt):
    for a in nbg.assignments(ROOT):
        committed = ROOT / "solutions" / a / f"{a}.ipynb"
        assert committed.exists(), f"solutions/{a} missing: run `make build`"
        assert _source_view(committed) == _source_view(rebuilt / "solutions" / a / f"{a}.ipynb"), \
            f"solutions/{a} drifted from source/: run `make build` and commit"


def test_demo_class_matches_a_fresh_build(rebuilt):
    for path in sorted((rebuilt / "autograder" / "demo-class").rglob("*.ipynb")):
        rel = path.relative_to(rebuilt)
        assert _source_view(ROOT / rel) == _source_view(path), f"{rel} drifted: run `make build` and commit"


def test_solutions_are_executed_without_errors_and_without_hidden_tests():
    for path in sorted(ROOT.glob("solutions/*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = path.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "autograder" not in text, f"{path} leaks hidden tests"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert any(c.outputs for c in code), f"{path} was not executed"
        for c in code:
            for o in c.outputs:
                assert o.output_type != "error", f"{path}: {o.ename}: {o.evalue}"
                assert not (o.output_type == "stream" and o.name == "stderr"), f"{path} wrote to stderr: {o.text[:200]}"
