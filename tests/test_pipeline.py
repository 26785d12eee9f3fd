"""The whole chain with real nbgrader, in a temp copy of the course: release -> submissions -> autograde -> feedback.

The demo class is graded: ada (perfect) gets full marks, cy (blank) 0, dee (one part left blank) loses exactly that
part's points, ben (a typical bug) loses exactly the cells the bug touches, and his feedback names the bug without
showing the hidden tests.
"""
import csv
import re

import nbformat
import pytest

from autograder.authoring import build
from autograder.grading import classrun, nbg
from autograder.checks import checks_module
from conftest import ROOT
from points import written_points

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("pipeline") / "course"
    classrun.prepare(course, ROOT, submitted=build.DEMO_DIR)
    names = nbg.assignments(ROOT)
    outcomes = classrun.grade(course, names, log=lambda *a: None, progress=False)
    return course, {(o.student, o.assignment): o for o in outcomes}


def _points(assignment, cells):
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    pts = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"].get("points", 0)
           for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    return sum(pts[c] for c in cells), sum(pts.values())


@pytest.mark.parametrize("assignment", nbg.assignments(ROOT))
def test_perfect_gets_full_marks(graded, assignment):
    o = graded[1][("ada", assignment)]
    assert o.status == "graded", o.reason
    assert o.max_score > 0 and o.score == o.max_score - written_points(assignment), o.failures
    assert o.pending and o.pending == sorted(o.written), "ada's written answers wait for a person"


@pytest.mark.parametrize("assignment", nbg.assignments(ROOT))
def test_blank_gets_zero(graded, assignment):
    o = graded[1][("cy", assignment)]
    assert o.status == "graded" and o.score == 0, o


@pytest.mark.parametrize("assignment", nbg.assignments(ROOT))
def test_broken_part_loses_exactly_its_points(graded, assignment):
    spec = checks_module(assignment).BROKEN_PART
    o = graded[1][("dee", assignment)]
    lost, total = _points(assignment, spec["loses"])
    assert sorted(o.failures) == sorted(spec["loses"]), o.failures
    assert o.score == total - lost - written_points(assignment)


@pytest.mark.parametrize("assignment", nbg.assignments(ROOT))
def test_typical_bug_is_caught_and_named(graded, assignment):
    course, outcomes = graded
    spec = checks_module(assignment).DEMO_BUG
    o = outcomes[("ben", assignment)]
    lost, total = _points(assignment, spec["loses"])
    assert sorted(o.failures) == sorted(spec["loses"]), o.failures
    assert o.score == total - lost - written_points(assignment)
    html = (course / "feedback" / "ben" / assignment / f"{assignment}.html").read_text()
    assert spec["says"] in html, f"ben's feedback does not say {spec['says']!r}"
    for leak in ["BEGIN HIDDEN TESTS", "from autograder"]:
        assert leak not in html, f"ben's feedback shows hidden test source ({leak!r})"
    assert not re.search(r"nb\d\d\.check_\w+\(", html), "ben's feedback shows a hidden check call"


def test_grades_csv_has_every_student(graded):
    course, outcomes = graded
    rows = list(csv.DictReader((course / "grades.csv").open()))
    assert {(r["student_id"], r["assignment"]) for r in rows} >= set(outcomes)
    ada = [r for r in rows if r["student_id"] == "ada"]
    assert all(float(r["score"]) == float(r["max_score"]) - written_points(r["assignment"]) for r in ada)
    assert all(r["status"].startswith("incomplete") for r in ada)
