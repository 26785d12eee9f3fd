"""Autograde a whole class with nbgrader: one ``nbgrader autograde`` process per submission, run in parallel.

Each process works on one student's notebook and writes that student's rows to the shared sqlite gradebook; writes
that meet a lock are retried. Every submission ends with an Outcome: a score, or zero and a one-line reason (missing
notebook, invalid JSON, a hang past the notebook time limit, a dead kernel). One bad submission never stops the class.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from . import nbg, sandbox
from .client import JUDGE_ENV
from .variants import checks_module

LOCK_RETRIES = 5


@dataclass
class Outcome:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"          # graded | not graded
    reason: str = ""                # one line when something went wrong
    seconds: float = 0.0
    failures: dict = field(default_factory=dict)   # test grade_id -> first line of its error (the diagnosis)
    cells: dict = field(default_factory=dict)      # test grade_id -> (score, max)
    ledger: list = field(default_factory=list)     # the judge's verdicts, one per hidden check run


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


def db_path(course: Path) -> Path:
    return course / "gradebook.db"


def precheck(course: Path, assignment: str, student: str) -> str:
    """A reason the submission cannot be graded, or '' when it can."""
    folder = course / "submitted" / student / assignment
    expected = folder / f"{assignment}.ipynb"
    if not expected.exists():
        found = sorted(p.name for p in folder.glob("*.ipynb")) if folder.exists() else []
        return (f"missing notebook {expected.name}" + (f" (found {', '.join(found)}: renamed?)" if found else ""))
    try:
        nbformat.read(expected, as_version=4)
    except Exception as e:  # json errors, schema errors, binary junk
        return f"invalid notebook file ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
    return ""


def _reason_from_log(log: str) -> str:
    if "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log.lower():
        return "the kernel died while running the notebook (os._exit, a crash, or the memory limit)"
    if "CellTimeoutError" in log or "Timeout waiting for execute reply" in log or "timed out" in log.lower():
        return "hang: a cell ran past the per-cell time limit and did not stop when interrupted"
    lines = [ln for ln in log.splitlines() if "[ERROR]" in ln or "Error" in ln]
    return (lines[-1].strip() if lines else log.strip().splitlines()[-1] if log.strip() else "nbgrader failed")[:200]


@dataclass
class Limits:
    """Bounds on one submission. The defaults suit the course's notebooks (each runs in seconds)."""
    notebook_timeout: float = 600    # whole notebook, seconds: the nbgrader process group is killed past it
    cell_timeout: float = 60         # each cell, seconds: nbgrader interrupts the cell and goes on
    memory_mb: int = 4096            # address space of nbgrader and the kernel (RLIMIT_AS), MiB
    isolate: bool | None = None      # sandbox kernels (autograder/sandbox.py); None: whenever the machine allows


def _hidden_paths(course: Path, root: Path) -> list[str]:
    """What a sandboxed kernel must not see: solutions, hidden tests, the grader, other runs, the gradebook."""
    return [str(root / d) for d in ("source", "solutions", "autograder", "tests", "run", ".git")] + [str(course)]


def _check_names(assignment: str) -> dict[str, list[str]]:
    mod = checks_module(assignment)
    return {mod.__name__.rsplit(".", 1)[-1]: sorted(n for n in dir(mod) if n.startswith("check_"))}


def autograde_one(course: Path, assignment: str, student: str, limits: Limits, worker: int = 0,
                  root: Path = nbg.ROOT) -> Outcome:
    t0 = time.perf_counter()
    reason = precheck(course, assignment, student)
    if reason:
        return Outcome(student, assignment, status="not graded", reason=reason)
    notebook_timeout = limits.notebook_timeout
    for attempt in range(LOCK_RETRIES):
        work = Path(tempfile.mkdtemp(prefix="bpfs-"))
        extra_env, extra_args = {}, []
        if limits.isolate:
            uid, gid = sandbox.worker_user(worker)
            box = sandbox.prepare(work, uid, gid, _hidden_paths(course, root), _check_names(assignment))
            extra_env, extra_args = box["env"], box["args"]
        with Judge(work) as judge:
            res = nbg.run(["autograde", assignment, f"--student={student}", "--force",
                           f"--Execute.timeout={int(limits.cell_timeout)}", *extra_args], cwd=course,
                          db=db_path(course), timeout=notebook_timeout, check=False,
                          memory_bytes=limits.memory_mb * 2**20, extra_env={JUDGE_ENV: judge.address, **extra_env})
        if "database is locked" in res.output and attempt < LOCK_RETRIES - 1:
            time.sleep(0.5 * (attempt + 1))
            continue
        break
    out = Outcome(student, assignment, seconds=time.perf_counter() - t0, ledger=judge.ledger)
    if res.timed_out:
        out.status, out.reason = "not graded", f"hang: the notebook ran past the {notebook_timeout:g} s limit"
    elif res.returncode != 0:
        out.status, out.reason = "not graded", _reason_from_log(res.output)
    return out


class Judge:
    """A judge process (autograder/judge.py) for one submission, on a fresh unix socket; its ledger comes back
    through its stdout pipe when it is stopped."""

    def __init__(self, work: Path):
        self.dir = str(work)
        self.address = os.path.join(self.dir, "judge.sock")
        self.ledger: list[dict] = []

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.judge", "--socket", self.address],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=nbg.ROOT, env=nbg.env())
        ready = self.proc.stderr.readline()
        if b"judge ready" not in ready:
            raise RuntimeError(f"the judge did not start: {ready!r}")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        for line in out.decode(errors="replace").splitlines():
            try:
                self.ledger.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


_CHECK_CALL = re.compile(r"\b(nb\d\d)\.(check_\w+)\(")


def required_checks(root: Path, assignment: str) -> dict[str, set[str]]:
    """test grade_id -> the judge checks its hidden tests call, read from the trusted source notebook."""
    nb = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            out[meta["grade_id"]] = {f"{m}.{c}" for m, c in _CHECK_CALL.findall(cell.source)}
    return out


def judged(ledger: list[dict], checks: set[str]) -> tuple[bool, str]:
    """A cell's hidden tests count only if the judge saw every one of its checks run, and every run passed."""
    for name in sorted(checks):
        runs = [e for e in ledger if e.get("check") == name]
        if not runs:
            return False, f"its hidden check {name} never reported to the judge (tampered with, or skipped)"
        failed = [e for e in runs if not e.get("ok")]
        if failed:
            return False, failed[0].get("message", "failed")
    return True, ""


def reconcile(gb, outcome: Outcome, root: Path) -> None:
    """Zero every test cell that nbgrader scored but the judge did not pass. Only ever lowers a score."""
    needed = required_checks(root, outcome.assignment)
    sub = gb.find_submission(outcome.assignment, outcome.student)
    for nb in sub.notebooks:
        for g in nb.grades:
            checks = needed.get(g.name)
            if not checks or not g.max_score or (g.score or 0) == 0:
                continue
            ok, why = judged(outcome.ledger, checks)
            if not ok:
                g.manual_score = 0.0
                outcome.failures[g.name] = f"integrity: {why}"[:400]
    gb.db.commit()


def collect(course: Path, outcome: Outcome, root: Path = nbg.ROOT) -> Outcome:
    """Fill in score and per-cell results from the gradebook and the autograded notebook, after the judge's say."""
    a, s = outcome.assignment, outcome.student
    with Gradebook(f"sqlite:///{db_path(course)}") as gb:
        if outcome.status == "graded":
            try:
                reconcile(gb, outcome, root)
            except MissingEntry:
                pass
        assignment = gb.find_assignment(a)
        outcome.max_score = float(assignment.max_score)
        if outcome.status == "graded":
            try:
                sub = gb.find_submission(a, s)
            except MissingEntry:
                outcome.status, outcome.reason = "not graded", outcome.reason or "nbgrader recorded no submission"
                return outcome
            outcome.score = float(sub.score)
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.cell_type == "code" and g.max_score:
                        outcome.cells[g.name] = (float(g.score), float(g.max_score))
    graded_nb = course / "autograded" / s / a / f"{a}.ipynb"
    if outcome.status == "graded" and graded_nb.exists():
        cells = nbformat.read(graded_nb, as_version=4).cells
        enames = {o.get("ename") for c in cells for o in c.get("outputs", []) if o.output_type == "error"}
        notes = []
        if "CellTimeoutError" in enames:
            notes.append("a cell hit the per-cell time limit and was interrupted (an endless loop?)")
        if "MemoryError" in enames:
            notes.append("a cell ran out of memory (the kernel's memory limit)")
        outcome.reason = "; ".join(notes)
        for cell in cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in outcome.cells and outcome.cells[gid][0] < outcome.cells[gid][1] and gid not in outcome.failures:
                line = ""
                for o in cell.get("outputs", []):
                    if o.output_type == "error":
                        line = f"{o.ename}: {o.evalue}".strip().splitlines()[0]
                    elif o.output_type == "stream" and o.name == "stderr" and not line:
                        line = "wrote to stderr: " + o.text.strip().splitlines()[0]
                outcome.failures[gid] = line[:400]
    return outcome


def autograde_many(course: Path, tasks: list[tuple[str, str]], jobs: int | None = None, limits: Limits | None = None,
                   log=print, progress: bool = True) -> list[Outcome]:
    """Autograde (assignment, student) pairs in parallel, each worker with its own sandbox user, and cap every score
    by the judge's ledger. Shared by ``grade`` and the exchange round trip (autograder/exchange.py)."""
    jobs = jobs or os.cpu_count() or 1
    limits = limits or Limits()
    if limits.isolate is None:
        limits.isolate, why = sandbox.available()
        if not limits.isolate:
            log(f"warning: student kernels are NOT sandboxed ({why}); see docs/instructor.md")
    workers: queue.Queue = queue.Queue()
    for i in range(jobs):
        workers.put(i)

    def task(a: str, s: str) -> Outcome:
        w = workers.get()
        try:
            return autograde_one(course, a, s, limits, worker=w)
        finally:
            workers.put(w)

    outcomes: list[Outcome] = []
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(task, a, s) for a, s in tasks]
        for i, fut in enumerate(as_completed(futures), 1):
            outcomes.append(fut.result())
            if progress:
                _progress(i, len(tasks), time.perf_counter() - t0)
    if progress:
        sys.stderr.write("\n")
    return [collect(course, o) for o in outcomes]


def grade(course: Path, assignments: list[str], jobs: int | None = None, limits: Limits | None = None,
          log=print, progress: bool = True) -> list[Outcome]:
    """Autograde every student in course/submitted for each assignment, then write feedback and grades.csv."""
    db = db_path(course)
    for a in assignments:
        nbg.run(["generate_assignment", a, "--force"], cwd=course, db=db)
    students = sorted(p.name for p in (course / "submitted").iterdir() if p.is_dir())
    with Gradebook(f"sqlite:///{db}") as gb:
        for s in students:
            gb.update_or_create_student(s)
    tasks = [(a, s) for a in assignments for s in students]
    outcomes = autograde_many(course, tasks, jobs, limits, log, progress)
    for a in assignments:
        res = nbg.run(["generate_feedback", a, "--force"], cwd=course, db=db, check=False)
        if res.returncode != 0:
            log(f"warning: generate_feedback {a} reported a problem:\n{res.output[-1000:]}")
    nbg.run(["export", f"--to={course / 'grades.csv'}"], cwd=course, db=db)
    (course / "outcomes.json").write_text(json.dumps([o.__dict__ for o in outcomes], indent=1, default=list))
    try:
        from .report import write_report  # imported here: report imports Outcome from this module
        write_report(course, outcomes)
    except Exception as e:  # a figure must never cost the grades
        log(f"warning: the class report could not be written: {type(e).__name__}: {e}")
    return sorted(outcomes, key=lambda o: (o.assignment, o.student))


def _progress(done: int, total: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {seconds:5.1f}s")
    sys.stderr.flush()


def table(outcomes: list[Outcome]) -> str:
    """The grade table: one row per student and assignment, with what went wrong."""
    rows = []
    for o in outcomes:
        if o.status != "graded":
            note = o.reason
        elif o.failures:
            first = next(iter(o.failures.items()))
            note = f"{len(o.failures)} test(s) failed; {first[0]}: {first[1]}"
        else:
            note = "all tests passed"
        if o.status == "graded" and o.reason:
            note = f"{o.reason}. {note}"
        rows.append(f"{o.assignment:24s} {o.student:10s} {o.score:5.1f} / {o.max_score:<5.1f} {note}")
    head = f"{'assignment':24s} {'student':10s} {'score':^13s} notes"
    return "\n".join([head, "-" * len(head)] + rows)
