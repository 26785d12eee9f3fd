"""Written answers graded by people (nbgrader's manually graded answers), from the source to the student's feedback.

Without nbgrader: every notebook has a written answer worth 1-3 points with a rubric, the release holds neither the
model answer nor the rubric, and ben's demo answers are his own.

With nbgrader (slow), on notebook 01's demo class: autograde leaves every written answer as the student wrote it and
waiting for a person (a blank one scores 0 by itself); graders find the rubric under the answer in the autograded
notebook, students never in their feedback; grades.csv marks waiting grades incomplete. Points and a comment entered
through nbgrader's gradebook API (what the formgrader writes) reach grades.csv, the report and the feedback after
``python -m autograder feedback``. Grading the class again keeps a person's grade where the answer is unchanged and
makes a changed answer wait again.
"""
import csv
import json
import re
import subprocess
import sys

import nbformat
import pytest

from autograder.authoring import build
from autograder.authoring.variants import written_cells
from autograder.checks import checks_module
from autograder.grading import classrun, nbg
from autograder.grading.written import SAVED
from conftest import ROOT

A = "01_chain_rule"
Q = "written_saturation"
COMMENT = "Right factor: sigma'(z) is tiny at z = -8. Say what that does to the step."


def _source(a):
    return nbformat.read(ROOT / "source" / a / f"{a}.ipynb", as_version=4)


@pytest.mark.parametrize("assignment", nbg.assignments(ROOT))
def test_every_notebook_has_a_written_answer_with_a_rubric(assignment):
    nb = _source(assignment)
    cells = [c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert cells, f"{assignment} has no written answer graded by a person"
    for c in cells:
        meta = c.metadata["nbgrader"]
        assert meta["grade"] and not meta["locked"] and 1 <= meta["points"] <= 3, meta
        assert c.source.startswith("**Model answer.**"), f"{meta['grade_id']}: no model answer first"
        rubric = re.findall(r"^- (\d) points?: ", c.source, re.M)
        assert rubric and max(map(int, rubric)) == meta["points"] and "0" in rubric, \
            f"{meta['grade_id']}: the rubric needs a line for full, and for no, credit: {rubric}"
        before = nb.cells[nb.cells.index(c) - 1]
        assert f"({meta['points']:g} point" in before.source and "graded by a person" in before.source, \
            f"{meta['grade_id']}: the question above it must say its points and that a person grades it"


@pytest.mark.parametrize("assignment", nbg.assignments(ROOT))
def test_release_has_neither_model_answer_nor_rubric(assignment):
    rel = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    for gid, text in written_cells(rel).items():
        assert text.strip() == "YOUR ANSWER HERE", (gid, text[:200])
    raw = (ROOT / "release" / assignment / f"{assignment}.ipynb").read_text()
    assert "Model answer" not in raw and "Rubric" not in raw


@pytest.mark.parametrize("assignment", nbg.assignments(ROOT))
def test_ben_writes_his_own_weak_answers(assignment):
    weak = checks_module(assignment).DEMO_WRITTEN
    ben = nbformat.read(build.DEMO_DIR / "ben" / assignment / f"{assignment}.ipynb", as_version=4)
    got = written_cells(ben)
    assert weak and set(weak) <= set(got)
    for gid, text in weak.items():
        assert got[gid] == text


# ---------------------------------------------------------------------------------------------- with nbgrader

def _rows(course):
    with (course / "grades.csv").open(newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == A}


def _feedback(course, student):
    return (course / "feedback" / student / A / f"{A}.html").read_text()


def _score(html):
    m = re.search(r"Score: ([\d.]+) / ([\d.]+)\)", html)
    return float(m.group(1)), float(m.group(2))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("manual") / "course"
    classrun.prepare(course, ROOT, submitted=build.DEMO_DIR)
    outcomes = classrun.grade(course, [A], log=lambda *a: None, progress=False)
    return course, {o.student: o for o in outcomes}


@pytest.mark.slow
def test_autograde_leaves_written_answers_to_people(graded):
    course, by = graded
    q_points = next(c.metadata.nbgrader["points"] for c in _source(A).cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == Q)
    for s in ("ada", "ben", "dee"):
        assert by[s].pending == [Q] and by[s].written[Q] == (None, q_points), (s, by[s].written, by[s].pending)
        submitted = written_cells(nbformat.read(course / "submitted" / s / A / f"{A}.ipynb", as_version=4))[Q]
        autograded = nbformat.read(course / "autograded" / s / A / f"{A}.ipynb", as_version=4)
        assert written_cells(autograded)[Q] == submitted, "autograde changed a written answer"
        i = next(i for i, c in enumerate(autograded.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == Q)
        assert "For graders only" in autograded.cells[i + 1].source and "Rubric" in autograded.cells[i + 1].source
        html = _feedback(course, s)
        assert "Rubric" not in html and "Model answer" not in html and "For graders" not in html
        assert "Not graded yet" in html
    assert by["cy"].pending == [] and by["cy"].written[Q] == (0.0, q_points), "a blank answer scores 0 by itself"
    assert "Not graded yet" not in _feedback(course, "cy")
    rows = _rows(course)
    assert rows["ada"]["status"].startswith("incomplete: 1 written answer") and rows["ada"]["written_pending"] == "1"
    assert rows["cy"]["status"] == "graded" and rows["cy"]["written_pending"] == "0"
    assert float(rows["ada"]["score"]) == by["ada"].max_score - q_points


@pytest.mark.slow
def test_a_persons_points_reach_csv_report_and_feedback(graded):
    from nbgrader.api import Gradebook
    course, by = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:     # what the formgrader writes
        for student, pts in (("ada", 2.0), ("ben", 1.0)):
            g = gb.find_grade(Q, A, A, student)
            g.manual_score, g.needs_manual_grade = pts, False
            gb.find_comment(Q, A, A, student).manual_comment = COMMENT
        gb.db.commit()
    out = subprocess.run([sys.executable, "-m", "autograder", "feedback", "--course", str(course)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "1 written answer(s) in 1 submission(s) wait for a person" in out.stdout, out.stdout[-1500:]
    rows = _rows(course)
    top = by["ada"].max_score
    assert float(rows["ada"]["score"]) == top and rows["ada"]["status"] == "graded", rows["ada"]
    assert float(rows["ben"]["score"]) == by["ben"].score + 1.0 and rows["ben"]["status"] == "graded"
    assert rows["dee"]["status"].startswith("incomplete")
    assert _score(_feedback(course, "ada")) == (top, top)
    ada = _feedback(course, "ada")
    assert "sigma&#39;(z) is tiny" in ada or "sigma'(z) is tiny" in ada, "the grader's comment is not in the feedback"
    assert "Not graded yet" not in ada and "Not graded yet" in _feedback(course, "dee")
    report = (course / "report.html").read_text()
    assert re.search(rf"<td>{A}</td><td>{Q}</td><td>2</td><td>3</td><td>1</td><td>1.00</td>", report), \
        "the report's written-answer row: 2 points, 3 graded (ada 2, ben 1, cy's blank 0), 1 waiting (dee), mean 1.00"
    saved = json.loads((course / "outcomes.json").read_text())
    assert {d["student"]: d["pending"] for d in saved} == {"ada": [], "ben": [], "cy": [], "dee": [Q]}


@pytest.mark.slow
def test_grading_again_keeps_a_persons_grade_only_for_an_unchanged_answer(graded, tmp_path):
    course, _ = graded
    submitted = tmp_path / "submitted"
    subprocess.run(["cp", "-r", str(course / "submitted"), str(submitted)], check=True)
    ben = submitted / "ben" / A / f"{A}.ipynb"
    nb = nbformat.read(ben, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == Q)
    cell.source += " I also think the learning rate is too small."
    nbformat.write(nb, ben)
    notes = []
    classrun.prepare(course, ROOT, submitted=submitted)          # replaces the course directory, as `grade` does
    outcomes = {o.student: o for o in classrun.grade(course, [A], log=notes.append, progress=False)}
    assert outcomes["ada"].pending == [] and outcomes["ada"].written[Q][0] == 2.0, outcomes["ada"]
    assert outcomes["ada"].score == outcomes["ada"].max_score
    assert outcomes["ben"].pending == [Q] and outcomes["ben"].written[Q][0] is None
    assert any("ben" in n and "changed" in n for n in map(str, notes)), notes
    record = {e["student"]: e for e in json.loads((course / SAVED).read_text())}
    assert record["ada"]["now"].startswith("kept") and "changed" in record["ben"]["now"] and record["ben"]["points"] == 1
    assert COMMENT in _feedback(course, "ada").replace("&#39;", "'")
