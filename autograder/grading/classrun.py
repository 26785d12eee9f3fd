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

import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from nbgrader.api import Gradebook

from ..outcome import Outcome
from ..report.page import write_report
from . import nbg, sandbox
from .gradebook import collect_retrying, db_path
from .pool import WorkerPool
from .submission import Limits, autograde_one


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
            if feedback and o.status == "graded":
                res = w.call({"op": "generate_feedback", "assignment": a, "student": s}, timeout=600)
                if res.returncode != 0:
                    log(f"warning: generate_feedback {a} {s} reported a problem:\n{res.output[-1000:]}")
            return o

    outcomes: list[Outcome] = []
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(pool.all)) as threads:
        futures = [threads.submit(task, a, s) for a, s in tasks]
        for i, fut in enumerate(as_completed(futures), 1):
            outcomes.append(fut.result())
            if progress:
                _progress(i, len(tasks), time.perf_counter() - t0)
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
    (course / "outcomes.json").write_text(json.dumps([o.__dict__ for o in outcomes], indent=1, default=list))
    try:
        write_report(course, outcomes)
    except Exception as e:  # a figure must never cost the grades
        log(f"warning: the class report could not be written: {type(e).__name__}: {e}")
    return sorted(outcomes, key=lambda o: (o.assignment, o.student))


def _progress(done: int, total: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {seconds:5.1f}s")
    sys.stderr.flush()
