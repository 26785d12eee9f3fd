"""A TA grades a written answer in nbgrader's formgrader, and the student's feedback shows it.

1. the class (ada, ben: notebook 01 of the demo class) is autograded with the course's grader; both written answers
   wait for a person;
2. in the instructor's JupyterLab (served from the course directory, as on the hub's formgrader), the TA opens the
   formgrader from the Nbgrader menu, goes to Manual Grading > 01_chain_rule > 01_chain_rule, shows the names, opens
   ben's submission, reads the rubric under his answer, types 1 point and a comment; the formgrader saves both to the
   gradebook;
3. the instructor runs ``python -m autograder feedback``; ben's feedback (opened in the browser, as the student would
   once it is released) shows the points, the comment and the new total, and neither the rubric nor "not graded yet";
   grades.csv has his new score and no longer calls it incomplete.
"""
from __future__ import annotations

import csv
import os
import secrets
import subprocess
import sys
import time
import uuid

import pytest
from nbgrader.api import Gradebook

from autograder.grading import classrun
from helpers import ASSIGNMENT as A
from helpers import ROOT
from labserver import VENV_BIN, quiet_settings, serve, stop

pytestmark = [pytest.mark.browser, pytest.mark.slow]

Q = "written_saturation"
COMMENT = "Right cause (sigma' is tiny at z = -8); name all three factors for the second point."


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("manual-browser")
    submitted = base / "submitted"
    for s in ("ada", "ben"):
        (submitted / s / A).mkdir(parents=True)
        (submitted / s / A / f"{A}.ipynb").write_bytes(
            (ROOT / "autograder" / "demo-class" / s / A / f"{A}.ipynb").read_bytes())
    course = classrun.prepare(base / "course", ROOT, submitted=submitted)
    outcomes = {o.student: o for o in classrun.grade(course, [A], jobs=2, log=lambda *a: None, progress=False)}
    assert outcomes["ben"].pending == [Q], outcomes["ben"]
    return {"base": base, "course": course, "outcomes": outcomes}


@pytest.fixture(scope="module")
def lab(graded):
    base = graded["base"]
    dirs = {n: base / n for n in ("jupyter_config", "jupyter_runtime", "lab_settings", "lab_workspaces",
                                  "jupyter_data", "ipython")}
    for d in dirs.values():
        d.mkdir()
    quiet_settings(dirs["lab_settings"])
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(dirs["jupyter_config"]), JUPYTER_RUNTIME_DIR=str(dirs["jupyter_runtime"]),
               JUPYTERLAB_SETTINGS_DIR=str(dirs["lab_settings"]), JUPYTERLAB_WORKSPACES_DIR=str(dirs["lab_workspaces"]),
               JUPYTER_DATA_DIR=str(dirs["jupyter_data"]), IPYTHONDIR=str(dirs["ipython"]))
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NBGRADER_EXECUTION", None)
    server = serve(graded["course"], env, secrets.token_hex(16), base, who="instructor's JupyterLab")
    yield server
    stop(server)


def _manual(course, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        g = gb.find_grade(Q, A, A, student)
        c = gb.find_comment(Q, A, A, student)
        return g.manual_score, g.needs_manual_grade, c.manual_comment


def test_a_ta_grades_a_written_answer_and_the_feedback_shows_it(page, lab, graded):
    course, ben = graded["course"], graded["outcomes"]["ben"]
    assert _manual(course, "ben")[:2] == (None, True)

    # the TA opens the formgrader from JupyterLab's Nbgrader menu, as the instructor test does
    page.goto(lab.lab_url("", "t" + uuid.uuid4().hex[:10]))
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-item[data-command='nbgrader:open-formgrader']").click()
    fg = page.frame_locator("iframe[src$='/formgrader']")
    fg.get_by_role("link", name="Manual Grading").first.click()
    fg.locator("#main-table a", has_text=A).first.click()            # the assignment
    fg.locator("#main-table a", has_text=A).first.click()            # its notebook
    row = fg.locator("#main-table tr:has(td)", has=fg.locator("a.name-shown", has_text="ben"))
    row.locator("a.name-hidden").wait_for()                           # "Submission #2": names are hidden at first
    fg.get_by_text("Show All Names").click()
    row.locator("a.name-shown").wait_for()
    assert "needs manual grade" in row.locator("td.needs-manual-grade").get_attribute("data-search")
    row.locator("a.name-shown").click()

    # his answer, the rubric under it, and the score box for the written answer
    score = fg.locator(f"input.score#{Q}")
    score.wait_for()
    # The formgrader binds its score and comment boxes to the gradebook only once its page has fetched the grades and
    # comments (formgrade.js, FormGrader.loadGrades); a value typed before that is never saved and is wiped by the
    # render. A TA cannot type that fast, a test can: wait as the page does.
    page.locator("iframe[src$='/formgrader']").element_handle().content_frame().wait_for_function(
        "() => typeof formgrader !== 'undefined' && formgrader.grades && formgrader.grades.loaded"
        " && formgrader.comments && formgrader.comments.loaded", timeout=30_000)
    rubric = fg.locator(".text_cell_render", has_text="For graders only")
    assert "Rubric (2 points)" in rubric.inner_text() and "1 point:" in rubric.inner_text()
    answer = fg.locator(".nbgrader_cell", has=fg.locator(f"input.score#{Q}")).locator(".panel-body")
    assert "sigma'(z) is close to zero" in answer.inner_text(), answer.inner_text()[:300]
    score.fill("1")
    score.press("Tab")
    comment = fg.locator(f"textarea#{Q}-comment")
    comment.fill(COMMENT)
    comment.press("Tab")

    deadline = time.monotonic() + 30
    while _manual(course, "ben") != (1.0, False, COMMENT) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _manual(course, "ben") == (1.0, False, COMMENT), "the formgrader did not save the points and comment"

    # the instructor puts the people's points into feedback, grades.csv and the report
    out = subprocess.run([sys.executable, "-m", "autograder", "feedback", "--course", str(course)],
                         capture_output=True, text=True, timeout=600, env=dict(os.environ, PATH=f"{VENV_BIN}:"
                                                                                f"{os.environ['PATH']}"))
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "1 written answer(s) in 1 submission(s) wait for a person" in out.stdout, out.stdout[-1500:]   # ada's

    page.goto(lab.files_url(f"feedback/ben/{A}/{A}.html"))
    text = page.locator("body").inner_text()
    total = ben.score + 1
    assert f"Score: {total:.1f} / {ben.max_score:.1f}" in text, text[:600]
    assert COMMENT in text, "the grader's comment is not in ben's feedback"
    assert "Not graded yet" not in text and "Rubric" not in text and "For graders" not in text
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert float(rows["ben"]["score"]) == total and rows["ben"]["status"] == "graded", rows["ben"]
    assert rows["ada"]["status"].startswith("incomplete"), rows["ada"]
