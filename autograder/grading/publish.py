"""Scores, grades.csv, report.html and feedback from the gradebook: after autograde, and again after people graded.

    python -m autograder feedback [--course DIR] [ASSIGNMENT ...]   the ``grade`` CLI's course (default run/grade)
    python -m autograder exchange feedback [ASSIGNMENT ...]          the exchange's course (default run/course)

Autograde writes each submission's ``Outcome`` to ``outcomes.json``. Written answers are then graded by people in the
formgrader (Manual Grading), which writes only to the gradebook. ``publish`` reads the gradebook again (the people's
points, the late penalty recomputed on the new score), writes every student's feedback, grades.csv and the class
report, and says how many answers still wait. A grade with an answer still waiting is marked incomplete everywhere:
its score is what has been graded so far.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from ..outcome import GRADE_AGAIN, Outcome
from . import nbg
from .written import read_written

OUTCOMES = "outcomes.json"


def load_outcomes(course: Path) -> list[Outcome]:
    from ..report.causes import as_outcome
    path = Path(course) / OUTCOMES
    return [as_outcome(d) for d in json.loads(path.read_text())] if path.exists() else []


def save_outcomes(course: Path, outcomes: list[Outcome]) -> None:
    """Write ``outcomes.json``, keeping the earlier entries of other (assignment, student) pairs."""
    keep = {(o.assignment, o.student): o for o in load_outcomes(course)}
    keep.update({(o.assignment, o.student): o for o in outcomes})
    rows = [keep[k].__dict__ for k in sorted(keep)]
    (Path(course) / OUTCOMES).write_text(json.dumps(rows, indent=1, default=list))


def late_plugin(course: Path):
    """The late-penalty plugin the course's nbgrader_config.py names (nbgrader's no-penalty default otherwise)."""
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets.config.loader import PyFileConfigLoader
    from traitlets.utils.importstring import import_item

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    cls = cfg.AssignLatePenalties.get("plugin_class", LateSubmissionPlugin) if "AssignLatePenalties" in cfg \
        else LateSubmissionPlugin
    cls = import_item(cls) if isinstance(cls, str) else cls
    return cls(config=cfg)


def refresh(course: Path, outcomes: list[Outcome]) -> list[Outcome]:
    """Re-read every graded outcome's score and written answers from the gradebook; recompute the late penalty
    (nbgrader sets it at autograde, from the scores before the judge's cap and before any person's points)."""
    from nbgrader.api import Gradebook, MissingEntry

    plugin = late_plugin(course)
    with Gradebook(nbg.db_url(course)) as gb:
        for o in outcomes:
            if o.status != "graded":
                continue
            try:
                sub = gb.find_submission(o.assignment, o.student)
            except MissingEntry:
                continue
            if sub.total_seconds_late > 0:
                for nb in sub.notebooks:
                    p = plugin.late_submission_penalty(o.student, nb.score, sub.total_seconds_late)
                    nb.late_submission_penalty = None if p is None else max(0.0, min(float(p), nb.score))
                gb.db.commit()
                gb.db.expire(sub)
            o.late_penalty = float(sub.late_submission_penalty or 0)
            o.score = max(0.0, float(sub.score) - o.late_penalty)
            o.written, o.pending = read_written(sub)
            if sub.total_seconds_late > 0:
                note = f"late by {sub.total_seconds_late / 3600:.2f} h: -{o.late_penalty:g} point(s)"
                base = o.reason.split("; late by ")[0] if not o.reason.startswith("late by") else ""
                o.reason = f"{base}; {note}" if base else note
    return outcomes


def mark_csv(path: Path, outcomes: list[Outcome]) -> None:
    """Add ``status`` and ``written_pending`` columns to nbgrader's grades.csv. Status: ``graded``, ``incomplete: N
    written answer(s) wait for a person`` (the score so far), ``not graded: REASON`` (the submission's doing, scored
    0) or ``grade again: REASON``, whose score is left empty: a grade that could not be trusted is never a 0."""
    by_key = {(o.assignment, o.student): o for o in outcomes}
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    fields = [k for k in rows[0] if k not in ("status", "written_pending")] + ["status", "written_pending"]
    for row in rows:
        o = by_key.get((row.get("assignment"), row.get("student_id")))
        row.setdefault("status", "")
        row["written_pending"] = "" if o is None else str(len(o.pending))
        if o is None:
            continue
        if o.status == GRADE_AGAIN:
            row.update(raw_score="", score="", status=f"grade again: {o.reason}")
        elif o.status != "graded":
            row["status"] = f"{o.status}: {o.reason}"
        elif o.pending:
            row["status"] = (f"incomplete: {len(o.pending)} written answer(s) wait for a person "
                             f"({', '.join(o.pending)}); the score so far")
        else:
            row["status"] = "graded"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def pending_line(outcomes: list[Outcome], course: Path) -> str:
    """What still waits for a person, and what to do about it; empty when nothing does."""
    waiting = [o for o in outcomes if o.pending]
    if not waiting:
        return ""
    n = sum(len(o.pending) for o in waiting)
    return (f"{n} written answer(s) in {len(waiting)} submission(s) wait for a person: grade them in the formgrader "
            f"(Manual Grading), then run `python -m autograder feedback --course {course}` (or `exchange feedback`) "
            "to put the points into feedback, grades.csv and the report")


def export_grades(course: Path, outcomes: list[Outcome]) -> Path:
    """nbgrader's CSV export of the whole gradebook, then ``mark_csv``."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    out = Path(course) / "grades.csv"
    plugin = CsvExportPlugin()
    plugin.to = str(out)
    with Gradebook(nbg.db_url(course)) as gb:
        plugin.export(gb)
    mark_csv(out, outcomes)
    return out


def publish(course: Path, assignments: list[str] | None = None, log=print) -> list[Outcome]:
    """Feedback, grades.csv, outcomes.json and report.html again from the gradebook, for ``assignments`` (default:
    every assignment in outcomes.json). Returns the refreshed outcomes of those assignments."""
    from ..report.table import table

    course = Path(course).resolve()
    everyone = load_outcomes(course)
    if not everyone:
        raise FileNotFoundError(f"{course / OUTCOMES} is missing: autograde the class first")
    names = assignments or sorted({o.assignment for o in everyone})
    mine = refresh(course, [o for o in everyone if o.assignment in names])
    for a in names:
        nbg.run(["generate_feedback", a, "--force"], cwd=course, db=nbg.db_url(course), timeout=1800)
        log(f"feedback for {a} in {course / 'feedback'}")
    save_outcomes(course, mine)
    everyone = load_outcomes(course)
    export_grades(course, everyone)
    report_or_warn(course, everyone, log)
    log(table(sorted(mine, key=lambda o: (o.assignment, o.student))))
    log(pending_line(mine, course) or "every written answer has been graded by a person")
    return mine


def report_or_warn(course: Path, outcomes: list[Outcome], log=print) -> None:
    """The class report (report.html and its figures); a figure must never cost the grades, so a failure is a warning."""
    from ..report.page import write_report

    try:
        write_report(course, outcomes)
    except Exception as e:  # noqa: BLE001
        log(f"warning: the class report could not be written: {type(e).__name__}: {e}")


def finish_run(course: Path, outcomes: list[Outcome], log=print) -> list[Outcome]:
    """The end of a class run (local pool or Dask), after grades.csv: outcomes.json and the report; the outcomes sorted."""
    save_outcomes(course, outcomes)
    report_or_warn(course, outcomes, log)
    return sorted(outcomes, key=lambda o: (o.assignment, o.student))
