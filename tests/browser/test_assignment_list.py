"""A student works through nbgrader's Assignment List panel in JupyterLab, and the instructor grades in between.

The student (sam) has their own home, ``~/.jupyter/nbgrader_config.py`` and their own JupyterLab server
(exchange_fixtures.py); the instructor's steps run in Python through ``autograder.grading.exchange``:

1. instructor: release 01 to the exchange;
2. student, in the Assignments panel (Nbgrader > Assignment List): sees 01 under "Released assignments", clicks Fetch
   (01 lands in ~/backprop-from-scratch/01_chain_rule/), fills it in with a typical bug (nb01.DEMO_BUG, a sign
   slip in backprop), clicks Submit and sees the submission listed with its timestamp;
3. instructor: collect, autograde, generate feedback, release feedback;
4. student: refreshes the panel ("feedback available to fetch"), clicks Fetch Feedback, then "(view feedback)", which
   shows the feedback folder in the file browser; opens the HTML there and reads the score (the points the bug loses
   are gone) and the diagnosis ("sign error"), and no hidden test source.
"""
from __future__ import annotations

import re
import time
import uuid

import nbformat
import pytest
from autograder.grading import exchange
from autograder.checks import nb01
from autograder.authoring.variants import fill

from exchange_fixtures import classroom, lab  # noqa: F401 - fixtures (``lab`` overrides conftest.py's)
from helpers import ASSIGNMENT, ROOT
from points import written_points

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANEL = "#nbgrader-assignment-list"
RELEASED = f"{PANEL} #released_assignments_list"
FETCHED = f"{PANEL} #fetched_assignments_list"
SUBMITTED = f"{PANEL} #submitted_assignments_list"
LEAKS = ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "from autograder", "check_"]
QUIET = dict(log=lambda *a: None)


def _row(page, section: str):
    """The panel's row for 01 in one section (its top-level row, not the nested notebook/submission rows)."""
    return page.locator(f"{section} > .list_item").filter(has=page.locator(".item_name", has_text=ASSIGNMENT))


def _score(text: str) -> tuple[float, float]:
    m = re.search(r"Score: ([\d.]+) / ([\d.]+)\)", text)
    assert m, f"no score in the feedback: {text[:500]}"
    return float(m.group(1)), float(m.group(2))


def _points(nb) -> dict[str, float]:
    """{grade_id: points} of the graded test cells."""
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"]) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.nbgrader.get("solution")}


def _step(name: str, t0: float) -> float:
    now = time.monotonic()
    print(f"[browser] {name}: {now - t0:.1f} s")
    return now


def open_assignment_list(page, lab) -> None:
    """JupyterLab with no file open, then Nbgrader > Assignment List, as a student would."""
    page.goto(lab.lab_url("", "t" + uuid.uuid4().hex[:10]))
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-item[data-command='nbgrader:open-assignment-list']").click()
    page.locator(PANEL).wait_for()


def test_student_fetches_submits_and_reads_feedback_in_the_assignment_list(page, lab, classroom):
    course, student = classroom["course"], classroom["student"]
    t0 = time.monotonic()

    # -- the student opens the panel: 01 is released, nothing is fetched or submitted yet
    open_assignment_list(page, lab)
    released = _row(page, RELEASED)
    released.wait_for(timeout=60_000)
    assert course.course_id in released.locator(".item_course").inner_text()
    for section in (FETCHED, SUBMITTED):
        assert _row(page, section).count() == 0
    t0 = _step("panel lists the release", t0)

    # -- Fetch
    released.locator("button", has_text="Fetch").click()
    fetched = _row(page, FETCHED)
    fetched.wait_for(timeout=60_000)
    notebook = student.notebook(ASSIGNMENT)
    assert notebook.exists(), f"Fetch should put 01 in {notebook}"
    assert notebook.parent == lab.root / course.course_id / ASSIGNMENT
    assert _row(page, RELEASED).count() == 0, "a fetched assignment leaves the Released list"
    # Its notebook is listed (collapsed) under the row, with a Validate button.
    nested = fetched.locator(".nested_list_item").filter(has=page.locator("button", has_text="Validate"))
    assert nested.count() == 1 and ASSIGNMENT in nested.first.text_content(), nested.all_text_contents()
    t0 = _step("fetch", t0)

    # -- the student's work: the release filled in, with a sign slip in backprop (the file on disk, as if edited)
    release_nb = nbformat.read(notebook, as_version=4)
    source_nb = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    nbformat.write(fill(release_nb, source_nb, bug=nb01.DEMO_BUG), notebook)

    # -- Submit
    fetched.locator("button", has_text="Submit").click()
    submitted = _row(page, SUBMITTED)
    submitted.wait_for(timeout=60_000)
    inbound = list((course.exchange_root / course.course_id / "inbound").iterdir())
    assert [p.name.split("+")[:2] for p in inbound] == [[student.name, ASSIGNMENT]], inbound
    stamp = (inbound[0] / "timestamp.txt").read_text().strip()
    subs = submitted.locator(".nested_list_item")
    assert subs.count() == 1 and stamp in subs.first.inner_text(), (stamp, subs.all_inner_texts())
    assert "feedback" not in subs.first.inner_text()
    t0 = _step("submit", t0)

    # -- the instructor grades
    exchange.collect(course, [ASSIGNMENT], **QUIET)
    (outcome,) = exchange.autograde(course, [ASSIGNMENT], **QUIET)
    assert outcome.student == student.name and outcome.status == "graded", outcome
    assert sorted(outcome.failures) == sorted(nb01.DEMO_BUG["loses"]), outcome.failures
    assert 0 < outcome.score < outcome.max_score
    exchange.generate_feedback(course, [ASSIGNMENT], **QUIET)
    exchange.release_feedback(course, [ASSIGNMENT], **QUIET)
    t0 = _step(f"instructor: collect, autograde ({outcome.score:g} / {outcome.max_score:g}), feedback", t0)

    # -- the student refreshes the panel: feedback is waiting; Fetch Feedback; "(view feedback)"
    page.locator(f"{PANEL} #refresh_assignments_list").click()
    submitted = _row(page, SUBMITTED)
    submitted.locator(".nested_list_item", has_text="feedback available to fetch").wait_for(timeout=60_000)
    submitted.locator("button", has_text="Fetch Feedback").click()
    view = _row(page, SUBMITTED).locator(".nested_list_item a", has_text="view feedback")
    view.wait_for(timeout=60_000)
    (html_file,) = student.feedback(ASSIGNMENT)
    assert html_file.parent.name == stamp, "the feedback belongs to the submission the panel lists"
    view.click()
    # The file browser goes to the feedback folder: the student opens the HTML from there.
    listing = page.locator(".jp-DirListing-item", has_text=html_file.name)
    listing.wait_for(timeout=30_000)
    crumbs = page.locator(".jp-FileBrowser .jp-BreadCrumbs").inner_text()  # e.g. "/ /feedback/<stamp>/"
    assert "".join(f"feedback/{stamp}".split()) in "".join(crumbs.split()), crumbs
    listing.dblclick()
    frame = page.frame_locator(".jp-HTMLViewer iframe")
    body = frame.locator("body")
    body.locator("text=Score").first.wait_for(timeout=30_000)
    text = body.inner_text()
    t0 = _step("fetch feedback and open it", t0)

    # The score the student reads: every autograded point but those of the test cells the bug breaks (from the
    # notebook's nbgrader metadata, e.g. 12 / 19), out of a total that includes the written answer, and the same as the
    # gradebook's. The written answer waits for a person, and the feedback says so.
    points = _points(source_nb)
    want = (sum(points.values()) - sum(points[g] for g in nb01.DEMO_BUG["loses"]),
            sum(points.values()) + written_points(ASSIGNMENT))
    assert "Not graded yet" in text, "the feedback does not say the written answer waits for a person"
    got, total = _score(text)
    assert (got, total) == want == (outcome.score, outcome.max_score), (got, total, want, outcome)
    print(f"[browser] the student reads: Score: {got:g} / {total:g}")
    # The diagnosis is in the failing test cells' error output (what the student reads under the cell).
    errors = body.locator(".output_error").all_inner_texts()
    said = [e for e in errors if nb01.DEMO_BUG["says"] in e]
    assert said, f"no error output in the feedback says {nb01.DEMO_BUG['says']!r}: {[e[-300:] for e in errors]}"
    print(f"[browser] the student reads: {said[0].strip().splitlines()[-1][:160]}")
    html = html_file.read_text()
    for leak in LEAKS:
        assert leak not in text and leak not in html, f"the feedback shows hidden test source ({leak!r})"
