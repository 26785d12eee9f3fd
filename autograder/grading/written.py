"""Written answers graded by people: the rubric graders see, what still waits for a person, and a person's grade kept
when a class is graded again.

A written answer is an nbgrader "manually graded answer" (a markdown solution cell, authored with
``authoring.nbauthor.written``). nbgrader's autograde leaves it to a person: an answer left as released scores 0 by
itself ("No response."), any other answer waits with no score until a grader gives points (and a comment) in the
formgrader's Manual Grading view. This module adds what a class of 300 needs around that:

- ``AddRubrics``, an autograde step (nbgrader_config.py): under each written answer in the autograded notebook, the
  model answer and rubric from the course's source notebook, so a grader reads them next to the answer in the
  formgrader. ``report.feedback.CleanFeedback`` takes them out of the students' feedback again.
- ``save_manual`` / ``restore_manual``: a grading run (``grade`` replaces its course directory; the exchange grades
  again on resubmission) first saves every person's grade with a hash of the answer it was given for, and afterwards
  puts each one back where the answer is unchanged. A changed answer waits for a person again; the old grade is
  written to ``manual-grades.json`` and logged, never dropped silently.
- ``read_written``: per answer, its points (None while waiting) and whether a person still has to look.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from ..report.feedback import RUBRIC_KEY
from .nbg import DB_FILE, db_url, is_sqlite

SAVED = "manual-grades.json"


def is_written(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "markdown" and bool(meta.get("grade")) and bool(meta.get("solution"))


def rubrics(source_nb: Path) -> dict[str, str]:
    """grade_id -> the source cell's text (model answer and rubric) of every written answer in a source notebook."""
    if not source_nb.exists():
        return {}
    nb = nbformat.read(source_nb, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if is_written(c)}


def rubric_cell(grade_id: str, text: str):
    cell = new_markdown_cell(f"> **For graders only** (not in the student's feedback): model answer and rubric of "
                             f"`{grade_id}`.\n>\n" + "\n".join(f"> {ln}" for ln in text.splitlines()))
    cell.metadata[RUBRIC_KEY] = grade_id
    return cell


class AddRubrics(NbGraderPreprocessor):
    """Autograde step: the model answer and rubric under each written answer, read from the course's source/."""

    def preprocess(self, nb, resources):
        from nbgrader.coursedir import CourseDirectory

        cd = CourseDirectory(parent=self)
        a, name = resources["nbgrader"]["assignment"], resources["nbgrader"]["notebook"]
        texts = rubrics(Path(cd.format_path(cd.source_directory, ".", a)) / f"{name}.ipynb")
        cells = []
        for cell in nb.cells:
            if cell.metadata.get(RUBRIC_KEY):
                continue
            cells.append(cell)
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if is_written(cell) and gid in texts:
                cells.append(rubric_cell(gid, texts[gid]))
        nb.cells = cells
        return nb, resources


def read_written(sub) -> tuple[dict, list]:
    """From a gradebook SubmittedAssignment: ({grade_id: (points or None, max)}, [grade_ids waiting for a person])."""
    written, pending = {}, []
    for nb in sub.notebooks:
        for g in nb.grades:
            if g.cell_type == "markdown":
                points = g.manual_score if g.manual_score is not None else g.auto_score
                written[g.name] = (None if points is None else float(points), float(g.max_score))
                if g.needs_manual_grade:
                    pending.append(g.name)
    return written, sorted(pending)


def _answers(course: Path, assignment: str, student: str) -> dict[tuple[str, str], str]:
    """(notebook, grade_id) -> hash of the written answer in the autograded (else submitted) notebook."""
    out = {}
    for folder in ("autograded", "submitted"):
        d = course / folder / student / assignment
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.ipynb")):
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001  (a malformed submission has no answers to keep)
                continue
            for c in nb.cells:
                if is_written(c):
                    out[(path.stem, c.metadata["nbgrader"]["grade_id"])] = _hash(c.source)
        return out
    return out


def _hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def save_manual(course: Path) -> list[dict]:
    """Every grade a person gave a written answer in ``course``'s gradebook, with the hash of the answer it was for."""
    from nbgrader.api import Gradebook

    url = db_url(course)
    if is_sqlite(url) and not (course / DB_FILE).exists():
        return []
    saved = []
    with Gradebook(url) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                answers = None
                for nb in sub.notebooks:
                    for g in nb.grades:
                        if g.cell_type != "markdown" or g.manual_score is None:
                            continue
                        if answers is None:
                            answers = _answers(course, assignment.name, sub.student.id)
                        comment = gb.find_comment(g.name, nb.name, assignment.name, sub.student.id)
                        saved.append({"assignment": assignment.name, "student": sub.student.id, "notebook": nb.name,
                                      "cell": g.name, "points": g.manual_score, "comment": comment.manual_comment,
                                      "answer": answers.get((nb.name, g.name))})
    return saved


def restore_manual(course: Path, saved: list[dict], log=print) -> dict[str, int]:
    """Put back each saved grade whose answer is unchanged; make every changed answer wait for a person again.

    Marks in each entry what happened to it (``now``) and returns the counts; ``keep_record`` writes them down."""
    from nbgrader.api import Gradebook, MissingEntry

    counts = {"kept": 0, "changed": 0}
    if not saved:
        return counts
    hashes: dict[tuple[str, str], dict] = {}
    with Gradebook(db_url(course)) as gb:
        for e in saved:
            key = (e["assignment"], e["student"])
            if key not in hashes:
                hashes[key] = _answers(course, *key)
            try:
                g = gb.find_grade(e["cell"], e["notebook"], e["assignment"], e["student"])
                c = gb.find_comment(e["cell"], e["notebook"], e["assignment"], e["student"])
            except MissingEntry:
                e["now"] = "not graded again (no submission this time): kept here only"
                continue
            if e["answer"] and hashes[key].get((e["notebook"], e["cell"])) == e["answer"]:
                g.manual_score, g.needs_manual_grade = e["points"], False
                if e["comment"] is not None:
                    c.manual_comment = e["comment"]
                e["now"] = "kept (the answer is unchanged)"
                counts["kept"] += 1
            else:
                g.manual_score, g.needs_manual_grade = None, g.auto_score is None
                e["now"] = "the answer changed: waits for a person again"
                counts["changed"] += 1
                log(f"note: {e['assignment']} {e['student']} {e['cell']}: the written answer changed since a person "
                    f"gave it {e['points']:g} point(s); it waits for a person again (old grade in {SAVED})")
        gb.db.commit()
    return counts


def keep_record(course: Path, saved: list[dict]) -> None:
    """``course/manual-grades.json``: every person's grade the last run found, and what became of it."""
    if saved:
        (course / SAVED).write_text(json.dumps(saved, indent=1))
