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
from . import nbg, sandbox
from .gradebook import collect_retrying, retry_locked
from .pool import WorkerPool
from .publish import finish_run, mark_csv, pending_line
from .submission import Limits, autograde_one
from .written import SAVED, keep_record, restore_manual, save_manual


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


def prepare(course: Path, root: Path = nbg.ROOT, submitted: Path | None = None, db: str | None = None) -> Path:
    """A fresh course directory for grading: nbgrader_config.py, source/ and (a copy of) submitted/; ``db``: the
    gradebook's SQLAlchemy URL when it is not the course's own sqlite file (``nbg.set_db_url``).

    The grades people gave written answers in the old directory are saved first (``written.save_manual``), in the new
    directory's manual-grades.json; ``grade`` puts each one back where the answer is unchanged."""
    saved = save_manual(course) if course.exists() else []
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    keep_record(course, saved)
    nbg.set_db_url(course, db)
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


def pool_size(jobs: int | None, tasks: int) -> int:
    """Workers for ``tasks`` submissions: ``jobs`` (default: one per core), never more than there are submissions
    (each worker and its kernel fork server cost about 1.5 s of CPU to start: regrading one student starts one)."""
    return max(1, min(jobs or os.cpu_count() or 1, tasks))


def autograde_many(course: Path, tasks: list[tuple[str, str]], jobs: int | None = None, limits: Limits | None = None,
                   log=print, progress: bool = True, feedback: bool = False,
                   pool: WorkerPool | None = None, manual: list[dict] | None = None) -> list[Outcome]:
    """Autograde (assignment, student) pairs in parallel on ``jobs`` long-lived nbgrader workers, each with its own
    sandbox user; cap every score by the judge's ledger as soon as the submission is done and, with ``feedback``,
    write that student's feedback HTML on the same worker. ``manual``: grades people gave written answers before
    (``written.save_manual``), put back after each submission's autograde where its answer is unchanged. Shared by
    ``grade`` and the exchange round trip (autograder/grading/exchange.py)."""
    limits = resolve_isolation(limits or Limits(), log)
    if pool is None:
        with WorkerPool(course, pool_size(jobs, len(tasks)), limits) as own:
            return autograde_many(course, tasks, jobs, limits, log, progress, feedback, own, manual)
    by_sub: dict[tuple[str, str], list[dict]] = {}
    for e in manual or []:
        by_sub.setdefault((e["assignment"], e["student"]), []).append(e)

    def graded(a: str, s: str, w) -> Outcome:
        o = autograde_one(course, a, s, limits, worker=w)
        if by_sub.get((a, s)) and o.status == "graded":
            retry_locked(lambda: restore_manual(course, by_sub[(a, s)], log))
        return collect_retrying(course, o)

    def task(a: str, s: str) -> Outcome:
        with pool.worker() as w:
            o = graded(a, s, w)
            if o.fault and not w.halted:   # halted: Ctrl-C killed the worker under it; stop, do not grade again
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
        again = graded(first.assignment, first.student, w)
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

    Every nbgrader step runs on the same long-lived workers (autograder/grading/worker.py): generate_assignment, then
    for each submission autograde, the judge's cap, the people's grades kept from before (prepare's
    manual-grades.json) and its feedback, then the CSV export."""
    manual = json.loads((course / SAVED).read_text()) if (course / SAVED).exists() else []
    limits = resolve_isolation(limits or Limits(), log)
    students = sorted(p.name for p in (course / "submitted").iterdir() if p.is_dir())
    tasks = [(a, s) for a in assignments for s in students]
    with WorkerPool(course, pool_size(jobs, len(tasks)), limits) as pool:
        for a in assignments:
            pool.run({"op": "generate_assignment", "assignment": a}, timeout=600)
        with Gradebook(nbg.db_url(course)) as gb:
            for s in students:
                gb.update_or_create_student(s)
        outcomes = autograde_many(course, tasks, jobs, limits, log, progress, feedback=True, pool=pool,
                                  manual=manual)
        pool.run({"op": "export", "to": str(course / "grades.csv")}, timeout=600)
    keep_record(course, manual)
    mark_csv(course / "grades.csv", outcomes)
    return finish_run(course, outcomes, log)


def summary(outcomes: list[Outcome], course: Path | None = None) -> str:
    """The closing line: how many were graded, how many scored 0 by their own doing, how many must be graded again."""
    again = sum(o.status == GRADE_AGAIN for o in outcomes)
    ungradable = sum(o.status == "not graded" for o in outcomes)
    line = (f"{len(outcomes)} submission(s): {len(outcomes) - again - ungradable} graded, "
            f"{ungradable} not gradable (0, with the reason)")
    if again:
        line += f", {again} NOT GRADED (could not be trusted): grade them again"
    waiting = pending_line(outcomes, course) if course else ""
    return f"{line}\n{waiting}" if waiting else line


def _progress(done: int, total: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {seconds:5.1f}s")
    sys.stderr.flush()
