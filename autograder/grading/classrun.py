"""Autograde a whole class with nbgrader, in parallel on long-lived workers (one per core by default).

Each worker (grading/worker.py) imports nbgrader once and grades one submission at a time through nbgrader's own
app, writing that student's rows to the shared sqlite gradebook; writes that meet a lock are retried. Each submission
still gets its own judge process, its own sandbox work directory and kernel, a per-cell time limit (nbgrader's), a
whole-notebook time limit (past it the worker and everything under it is killed, and a fresh worker takes the next
submission) and a memory limit (RLIMIT_AS on the worker, inherited by the kernels it starts). Every submission ends
with an Outcome: a score, or zero and a one-line reason (missing notebook, invalid JSON, a hang past the notebook time
limit, a dead kernel). One bad submission never stops the class.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from nbgrader.api import Gradebook

from ..outcome import GRADE_AGAIN, Outcome
from ..report.page import write_report
from . import nbg, sandbox
from .gradebook import collect_retrying, db_path
from .pool import WorkerPool
from .submission import Limits, autograde_one


@contextmanager
def course_lock(course: Path, log=print):
    """One grading at a time per course directory, machine-wide: a second ``grade`` (or ``make demo``, or exchange
    autograde) on the same directory says so and waits, instead of replacing the directory under the first. Gradings
    on different directories run at once, each with sandbox users of its own (``sandbox.claim_user``)."""
    course = Path(course).resolve()
    course.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(course.parent / f".{course.name}.grading.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another grading is using {course}: waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield course
    finally:
        os.close(fd)


def prepare(course: Path, root: Path = nbg.ROOT, submitted: Path | None = None) -> Path:
    """A fresh course directory for grading: nbgrader_config.py, source/ and (a copy of) submitted/."""
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copy2(root / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(root / "source", course / "source")
    if submitted is not None:
        shutil.copytree(submitted, course / "submitted")
    return course


def resolve_isolation(limits: Limits, log=print) -> Limits:
    """Decide ``limits.isolate`` when it is None: sandbox whenever the machine allows, and say so when it does not."""
    if limits.isolate is None:
        limits.isolate, why = sandbox.available()
        if not limits.isolate:
            log(f"warning: student kernels are NOT sandboxed ({why}); see docs/instructor.md")
    return limits


def autograde_many(course: Path, tasks: list[tuple[str, str]], jobs: int | None = None, limits: Limits | None = None,
                   log=print, progress: bool = True, feedback: bool = False,
                   pool: WorkerPool | None = None) -> list[Outcome]:
    """Autograde (assignment, student) pairs in parallel on ``jobs`` long-lived nbgrader workers, each with its own
    sandbox user; cap every score by the judge's ledger as soon as the submission is done and, with ``feedback``,
    write that student's feedback HTML on the same worker. Shared by ``grade`` and the exchange round trip
    (autograder/grading/exchange.py)."""
    limits = resolve_isolation(limits or Limits(), log)
    if pool is None:
        with WorkerPool(course, jobs or os.cpu_count() or 1, limits) as own:
            return autograde_many(course, tasks, jobs, limits, log, progress, feedback, own)

    def task(a: str, s: str) -> Outcome:
        with pool.worker() as w:
            o = collect_retrying(course, autograde_one(course, a, s, limits, worker=w))
            if o.fault:
                o = second_try(o, w)
            if feedback and o.status == "graded":
                res = w.call({"op": "generate_feedback", "assignment": a, "student": s}, timeout=600)
                if res.returncode != 0:
                    log(f"warning: generate_feedback {a} {s} reported a problem:\n{res.output[-1000:]}")
            return o

    def second_try(first: Outcome, w) -> Outcome:
        """Grade again on a fresh worker and judge. A kernel that dies on both tries is the submission's doing;
        anything else that fails twice is not trusted: "grade again", never a 0."""
        log(f"note: {first.assignment} {first.student}: {first.reason}; grading it a second time")
        w.kill()
        w.judge.stop()
        again = collect_retrying(course, autograde_one(course, first.assignment, first.student, limits, worker=w))
        again.attempts = 2
        if not again.fault:
            if again.status == "graded":
                note = f"graded on a second try (the first: {first.reason})"
                again.reason = f"{again.reason}; {note}" if again.reason else note
            return again
        if first.fault == again.fault == "kernel":
            again.reason = f"{again.reason} (on both tries)"
        else:
            again.status = GRADE_AGAIN
            again.reason = f"not graded: grade it again ({first.reason}; then {again.reason})"
        return again

    outcomes: list[Outcome] = []
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(pool.all)) as threads:
        futures = [threads.submit(task, a, s) for a, s in tasks]
        try:
            for i, fut in enumerate(as_completed(futures), 1):
                outcomes.append(fut.result())
                if progress:
                    _progress(i, len(tasks), time.perf_counter() - t0)
        except BaseException:   # Ctrl-C (or a bug): stop at once, leave no worker, kernel or judge behind
            for fut in futures:
                fut.cancel()
            pool.kill_all()
            raise
    if progress:
        sys.stderr.write("\n")
    return outcomes


def grade(course: Path, assignments: list[str], jobs: int | None = None, limits: Limits | None = None,
          log=print, progress: bool = True) -> list[Outcome]:
    """Autograde every student in course/submitted for each assignment, then write feedback and grades.csv.

    Every nbgrader step runs on the same long-lived workers (autograder/grading/worker.py): generate_assignment, then for each
    submission autograde, the judge's cap and its feedback, then the CSV export."""
    db = db_path(course)
    limits = resolve_isolation(limits or Limits(), log)
    with WorkerPool(course, jobs or os.cpu_count() or 1, limits) as pool:
        for a in assignments:
            pool.run({"op": "generate_assignment", "assignment": a}, timeout=600)
        students = sorted(p.name for p in (course / "submitted").iterdir() if p.is_dir())
        with Gradebook(f"sqlite:///{db}") as gb:
            for s in students:
                gb.update_or_create_student(s)
        tasks = [(a, s) for a in assignments for s in students]
        outcomes = autograde_many(course, tasks, jobs, limits, log, progress, feedback=True, pool=pool)
        pool.run({"op": "export", "to": str(course / "grades.csv")}, timeout=600)
    mark_csv(course / "grades.csv", outcomes)
    (course / "outcomes.json").write_text(json.dumps([o.__dict__ for o in outcomes], indent=1, default=list))
    try:
        write_report(course, outcomes)
    except Exception as e:  # a figure must never cost the grades
        log(f"warning: the class report could not be written: {type(e).__name__}: {e}")
    return sorted(outcomes, key=lambda o: (o.assignment, o.student))


def mark_csv(path: Path, outcomes: list[Outcome]) -> None:
    """Add a ``status`` column to nbgrader's grades.csv: ``graded``, ``not graded: REASON`` (the submission's doing,
    scored 0) or ``grade again: REASON``, whose score is left empty: a grade that could not be trusted is never a 0."""
    import csv

    by_key = {(o.assignment, o.student): o for o in outcomes}
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    fields = [k for k in rows[0] if k != "status"] + ["status"]
    for row in rows:
        o = by_key.get((row.get("assignment"), row.get("student_id")))
        if o is None:
            row["status"] = row.get("status", "")
        elif o.status == GRADE_AGAIN:
            row.update(raw_score="", score="", status=f"grade again: {o.reason}")
        else:
            row["status"] = o.status if o.status == "graded" else f"{o.status}: {o.reason}"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def summary(outcomes: list[Outcome]) -> str:
    """The closing line: how many were graded, how many scored 0 by their own doing, how many must be graded again."""
    again = sum(o.status == GRADE_AGAIN for o in outcomes)
    ungradable = sum(o.status == "not graded" for o in outcomes)
    line = (f"{len(outcomes)} submission(s): {len(outcomes) - again - ungradable} graded, "
            f"{ungradable} not gradable (0, with the reason)")
    if again:
        line += f", {again} NOT GRADED (could not be trusted): grade them again"
    return line


def _progress(done: int, total: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {seconds:5.1f}s")
    sys.stderr.flush()
