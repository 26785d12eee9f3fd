"""The nbgrader round trip through the exchange, as on a shared course server.

Instructors publish assignments to nbgrader's exchange; students fetch and submit them (JupyterLab's Assignment List or
``nbgrader fetch_assignment`` / ``nbgrader submit``); the instructor collects, autogrades, writes feedback and releases
it; students fetch their feedback. Every step here is one ``nbgrader`` program, run the way a person would run it.

The commands (``python -m autograder exchange init|release|collect|autograde|feedback|release-feedback|student|demo``)
are in autograder/cli/exchange.py; the course run directory defaults to ``run/course/`` (git-ignored).

This module holds the instructor's steps; autograder/grading/students.py the students' side. The late-submission
policy lives here too (:class:`LatePenalty`), as does the due-date table (:class:`CourseSchedule`, set in
nbgrader_config.py and written to the gradebook before releasing and grading).
"""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Dict, Float
from traitlets.config import Configurable

from ..report.table import table
from . import nbg

COURSE_DIR = nbg.ROOT / "run" / "course"
EXCHANGE_ENV = "BACKPROP_EXCHANGE"


# --------------------------------------------------------------------------------------------------------------------
# Policy: due dates and the late penalty (configured in nbgrader_config.py)

class CourseSchedule(Configurable):
    """Due dates, one per assignment: ``c.CourseSchedule.due_dates = {"01_chain_rule": "2027-02-01 23:59:00 UTC"}``.

    nbgrader keeps due dates in its gradebook only; ``release`` and ``autograde`` below copy this table there first, so
    the config is the one place an instructor sets them. An assignment missing from the table has no due date."""
    due_dates = Dict(help="assignment -> due date, e.g. '2027-02-01 23:59:00 UTC'").tag(config=True)


class LatePenalty(LateSubmissionPlugin):
    """Late work loses ``percent_per_day`` percent of its score for every started day (24 h) past the due date.

    With the default 10 %: one minute to 24 h late keeps 90 % of the score, 24-48 h late keeps 80 %, and so on; ten
    or more days late scores zero. Extensions granted in the gradebook move the due date for one student."""
    percent_per_day = Float(10.0, help="percent of the score lost per started day late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        if total_seconds_late <= 0 or not score:
            return None
        days = math.ceil(total_seconds_late / 86400)
        penalty = min(score, round(score * self.percent_per_day / 100 * days, 4))
        self.log.info("%s is %d day(s) late: penalty %s of %s", student_id, days, penalty, score)
        return penalty


# --------------------------------------------------------------------------------------------------------------------
# The instructor's course run directory

def load_config(course: Path):
    """The traitlets Config that nbgrader itself would load from ``course/nbgrader_config.py``."""
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


@dataclass
class Course:
    """An nbgrader course directory with its gradebook (``gradebook.db`` inside it, never in the repo)."""
    dir: Path = COURSE_DIR
    exchange: Path | None = None       # None: whatever nbgrader_config.py says ($BACKPROP_EXCHANGE or <dir>/exchange)
    check_owner: bool = True           # collect warns when a submission's Unix owner is not the student

    def __post_init__(self):
        self.dir = Path(self.dir).resolve()
        if self.exchange is not None:
            self.exchange = Path(self.exchange).resolve()

    @property
    def db(self) -> str:
        """The gradebook's URL (``nbg.db_url``: sqlite in the course directory unless ``--db`` named another)."""
        return nbg.db_url(self.dir)

    def config(self):
        return load_config(self.dir)

    @property
    def course_id(self) -> str:
        return str(self.config().CourseDirectory.course_id)

    @property
    def exchange_root(self) -> Path:
        if self.exchange is not None:
            return self.exchange
        return Path(str(self.config().Exchange.root)).resolve()

    def nbgrader(self, *args: str, timeout: float | None = 600, check: bool = True) -> nbg.Result:
        extra = [f"--Exchange.root={self.exchange}"] if self.exchange is not None else []
        return nbg.run([*args, *extra], cwd=self.dir, db=self.db, timeout=timeout, check=check)


def init(course: Course, root: Path = nbg.ROOT) -> Course:
    """Create or refresh the course run directory: nbgrader_config.py and source/ from the repo. The gradebook,
    submitted/, autograded/, feedback/ and the exchange stay as they are."""
    course.dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", course.dir / "nbgrader_config.py")
    shutil.copytree(root / "source", course.dir / "source", dirs_exist_ok=True)
    return course


def sync_due_dates(course: Course, assignments: list[str]) -> dict[str, str | None]:
    """Write the config's due dates (``c.CourseSchedule.due_dates``) into the gradebook; returns what was set."""
    from nbgrader.api import Gradebook
    cfg = course.config()
    table = dict(cfg.CourseSchedule.due_dates) if "CourseSchedule" in cfg else {}
    done = {}
    with Gradebook(course.db, course.course_id) as gb:
        for a in assignments:
            due = table.get(a)
            gb.update_or_create_assignment(a, duedate=due)
            done[a] = due
    return done


def release(course: Course, assignments: list[str], log=print) -> None:
    """``nbgrader generate_assignment`` (which also records the assignment in the gradebook), the due date, and
    ``nbgrader release_assignment``: the student version goes to <exchange>/<course_id>/outbound/<assignment>/."""
    for a in assignments:
        course.nbgrader("generate_assignment", a, "--force")
        due = sync_due_dates(course, [a])[a]
        course.nbgrader("release_assignment", a, "--force")
        log(f"released {a} to {course.exchange_root / course.course_id / 'outbound' / a}"
            f" (due: {due or 'no due date'})")


def collect(course: Course, assignments: list[str], log=print) -> None:
    """``nbgrader collect --update``: each student's latest submission goes to submitted/<student>/<assignment>/."""
    for a in assignments:
        args = ["collect", a, "--update"]
        if not course.check_owner:
            args.append("--CollectApp.check_owner=False")
        course.nbgrader(*args)
        sub = course.dir / "submitted"
        n = sum(1 for p in sub.glob(f"*/{a}") if p.is_dir()) if sub.exists() else 0
        log(f"collected {a}: {n} student(s) in {sub}")


def students_of(course: Course, assignment: str) -> list[str]:
    sub = course.dir / "submitted"
    return sorted(p.name for p in sub.iterdir() if (p / assignment).is_dir()) if sub.exists() else []


def autograde(course: Course, assignments: list[str], jobs: int | None = None, limits=None, log=print) -> list:
    """Autograde every collected submission (in parallel on the grading CLI's long-lived nbgrader workers), with the
    config's due dates and late penalty; write grades.csv; return Outcome objects (score net of the penalty)."""
    from .classrun import course_lock   # imported here: nbgrader_config.py imports this module in every nbgrader run
    with course_lock(course.dir, log):
        return _autograde(course, assignments, jobs, limits, log)


def _autograde(course: Course, assignments: list[str], jobs, limits, log) -> list:
    from ..report.page import write_report
    from .classrun import autograde_many
    from .publish import export_grades, load_outcomes, pending_line, refresh, save_outcomes
    from .written import keep_record, save_manual

    sync_due_dates(course, assignments)
    tasks = [(a, s) for a in assignments for s in students_of(course, a)]
    manual = save_manual(course.dir)     # nbgrader keeps people's grades; put back only those of unchanged answers
    # the same parallel, sandboxed, judged grading as `python -m autograder grade` (the judge caps nbgrader's scores)
    outcomes = autograde_many(course.dir, tasks, jobs, limits, log, progress=False, manual=manual)
    keep_record(course.dir, manual)
    refresh(course.dir, outcomes)        # the late penalty, recomputed on the judged score
    save_outcomes(course.dir, outcomes)
    export_grades(course.dir, load_outcomes(course.dir))
    try:
        write_report(course.dir, load_outcomes(course.dir))
    except Exception as e:  # a figure must never cost the grades
        log(f"warning: the class report could not be written: {type(e).__name__}: {e}")
    outcomes.sort(key=lambda o: (o.assignment, o.student))
    log(table(outcomes))
    waiting = pending_line(outcomes, course.dir)
    if waiting:
        log(waiting)
    return outcomes


def generate_feedback(course: Course, assignments: list[str], log=print) -> list:
    """``nbgrader generate_feedback`` (feedback/<student>/<assignment>/<notebook>.html, hidden tests and rubrics
    stripped) with the points people gave written answers since autograde; grades.csv and report.html again
    (grading/publish.py). Returns the outcomes."""
    from .classrun import course_lock
    from .publish import publish
    with course_lock(course.dir, log):
        return publish(course.dir, assignments, log=log)


def release_feedback(course: Course, assignments: list[str], log=print) -> None:
    """``nbgrader release_feedback``: each student's HTML goes to <exchange>/<course_id>/feedback/<hash>.html, where
    the hash comes from the secret of that student's submission (only the student's own cache holds it). Says so
    when written answers still wait for a person (their feedback says "not graded yet")."""
    from .publish import load_outcomes
    waiting = [o for o in load_outcomes(course.dir) if o.assignment in assignments and o.pending]
    if waiting:
        log(f"warning: {len(waiting)} student(s) have written answers no person has graded yet: their feedback says "
            "so; run `exchange feedback` and `release-feedback` again once they are graded")
    for a in assignments:
        course.nbgrader("release_feedback", a)
        log(f"released feedback for {a} to {course.exchange_root / course.course_id / 'feedback'}")
