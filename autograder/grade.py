"""Autograde a whole class with nbgrader, in parallel on long-lived workers (one per core by default).

Each worker (autograder/worker.py) imports nbgrader once and grades one submission at a time through nbgrader's own
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
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
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


def autograde_one(course: Path, assignment: str, student: str, limits: Limits, worker: "Worker",
                  root: Path = nbg.ROOT) -> Outcome:
    """Autograde one submission on ``worker`` (a long-lived nbgrader process), with its own judge and, when
    ``limits.isolate``, its own sandbox work directory."""
    t0 = time.perf_counter()
    reason = precheck(course, assignment, student)
    if reason:
        return Outcome(student, assignment, status="not graded", reason=reason)
    notebook_timeout = limits.notebook_timeout
    judge = worker.judge
    for attempt in range(LOCK_RETRIES):
        if judge.ensure().ledger() is None:   # whatever came before this submission is not its own
            judge.ensure()
        work = Path(tempfile.mkdtemp(prefix="bpfs-"))
        env, config, address = {}, {"Execute.timeout": int(limits.cell_timeout)}, judge.address
        if limits.isolate:
            uid, gid = sandbox.worker_user(worker.index)
            box = sandbox.prepare(work, uid, gid, _hidden_paths(course, root), _check_names(assignment))
            env.update(box["env"])
            config.update(box["config"])
            address = str(work / "judge.sock")
            os.link(judge.address, address)   # the judge's socket, inside the only directory the kernel can reach
        try:
            res = worker.call({"op": "autograde", "assignment": assignment, "student": student, "config": config,
                               "env": {JUDGE_ENV: address, **env}}, timeout=notebook_timeout)
            ledger = judge.ledger()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if "database is locked" in res.output and attempt < LOCK_RETRIES - 1:
            time.sleep(0.5 * (attempt + 1))
            continue
        break
    out = Outcome(student, assignment, seconds=time.perf_counter() - t0, ledger=ledger or [])
    if res.timed_out:
        out.status, out.reason = "not graded", f"hang: the notebook ran past the {notebook_timeout:g} s limit"
    elif res.returncode != 0:
        out.status, out.reason = "not graded", _reason_from_log(res.output)
    elif ledger is None:
        out.status, out.reason = "not graded", "the judge did not answer after the notebook ran: grade it again"
    return out


class Worker:
    """One long-lived ``python -m autograder.worker`` process (nbgrader imported once) and its slot ``index``, which
    also names its sandbox user. Each call sends one task and waits for the answer; past the time limit, or if the
    process dies, the worker and every process under it (kernels included) are killed, and the next call starts a
    fresh one. ``Result`` mirrors ``nbg.run``: returncode 0 on success, the log (and traceback) as output."""

    MAX_TASKS = 200   # recycle the process now and then, so nothing one submission left behind grows for long

    def __init__(self, index: int, course: Path, memory_mb: int | None = None, sandbox_uid: int | None = None):
        self.index, self.course, self.memory_mb, self.sandbox_uid = index, course, memory_mb, sandbox_uid
        self.proc: subprocess.Popen | None = None
        self.judge = Judge()
        self.tasks = 0
        self._stderr: deque[str] = deque(maxlen=200)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.worker", str(self.course)], cwd=self.course, env=nbg.env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            start_new_session=True, preexec_fn=nbg._limit_memory(self.memory_mb * 2**20 if self.memory_mb else None))
        self._stderr.clear()
        self.reader = LineReader(self.proc.stdout.fileno())
        # nbgrader's own log, and whatever a kernel writes to its inherited stderr: keep the tail
        threading.Thread(target=_drain, args=(self.proc.stderr, self._stderr), daemon=True).start()
        self.tasks = 0
        line = self._readline(120)
        if line is None or "worker ready" not in line:
            tail = "".join(self._stderr)[-2000:]
            self.kill()
            raise RuntimeError(f"the nbgrader worker did not start: {line!r}\n{tail}")

    def _readline(self, timeout: float) -> str | None:
        """The next protocol line; None past ``timeout`` seconds; '' when the worker died."""
        return self.reader.readline(timeout)

    def call(self, task: dict, timeout: float | None) -> nbg.Result:
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.kill()
            self.start()
        try:
            self.proc.stdin.write(json.dumps(task) + "\n")
            self.proc.stdin.flush()
            line = self._readline(timeout if timeout is not None else 24 * 3600)
        except (BrokenPipeError, ValueError, OSError):
            line = ""
        if line is None:
            self.kill()
            return nbg.Result(-9, "".join(self._stderr)[-3000:], timed_out=True)
        if not line:
            self.kill()
            return nbg.Result(-9, "the nbgrader worker died: " + "".join(self._stderr)[-3000:])
        self.tasks += 1
        if self.sandbox_uid is not None:
            sandbox.kill_user(self.sandbox_uid)
        if self.tasks >= self.MAX_TASKS:
            self._stop_process()
        answer = json.loads(line)
        output = "\n".join(answer.get(k) or "" for k in ("log", "error"))
        return nbg.Result(0 if answer.get("success") else 1, output)

    def kill(self) -> None:
        """SIGKILL the worker, its process group and every process below it (kernels run in their own sessions)."""
        if self.proc is None:
            return
        victims = [self.proc.pid, *descendants(self.proc.pid)]
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.sandbox_uid is not None:
            sandbox.kill_user(self.sandbox_uid)
        self._close()

    def stop(self) -> None:
        """End the worker (and its judge) at the end of the class."""
        self.judge.stop()
        self._stop_process()

    def _stop_process(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except (subprocess.TimeoutExpired, OSError):
            self.kill()
            return
        self._close()

    def _close(self) -> None:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _close_quietly(self.proc.stdin, self.proc.stdout)
        self.proc = None


class Judge:
    """A judge process (autograder/judge.py) for one worker, serving one submission at a time on its unix socket.

    ``ledger()`` asks it (over its stdin, which no kernel can reach) for the verdicts since the last request: called
    before a submission (whatever is there is dropped) and after it (that submission's verdicts). Starting a judge
    costs a Python start and the checks' imports, so it lives as long as its worker; a judge that died or did not
    answer is replaced, and that submission's ledger is None (the caller reports it, never guesses)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.dir = ""
        self.address = ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "Judge":
        self.dir = tempfile.mkdtemp(prefix="bpfs-judge-")
        self.address = os.path.join(self.dir, "judge.sock")
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.judge", "--socket", self.address],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=nbg.ROOT, env=nbg.env(), text=True, bufsize=1)
        self.reader = LineReader(self.proc.stdout.fileno())
        ready = self.proc.stderr.readline()
        if "judge ready" not in ready:
            self.stop()
            raise RuntimeError(f"the judge did not start: {ready!r}")
        threading.Thread(target=_drain, args=(self.proc.stderr, None), daemon=True).start()
        return self

    def ensure(self) -> "Judge":
        if not self.alive():
            self.stop()
            self.start()
        return self

    def ledger(self, timeout: float = 60) -> list[dict] | None:
        """The verdicts since the last call, or None when the judge does not answer (it is then replaced)."""
        entries: list[dict] = []
        try:
            self.proc.stdin.write("ledger\n")
            self.proc.stdin.flush()
            deadline = time.monotonic() + timeout
            while True:
                line = self.reader.readline(max(0.0, deadline - time.monotonic()))
                if not line:
                    raise TimeoutError("the judge did not answer")
                if line.strip() == "END OF LEDGER":
                    return entries
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        except (OSError, ValueError, TimeoutError):
            self.stop()
            return None

    def stop(self) -> None:
        if self.proc is not None:
            _close_quietly(self.proc.stdin)   # end of input: the judge exits
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            _close_quietly(self.proc.stdout, self.proc.stderr)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""


class LineReader:
    """Lines from a child's pipe with a time limit: select() on the file descriptor and a buffer of our own (a
    buffered file object would hide lines it has already read from select)."""

    def __init__(self, fd: int):
        self.fd, self.buf = fd, b""

    def readline(self, timeout: float) -> str | None:
        """The next line; None past ``timeout`` seconds; '' when the pipe closed."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return ""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace") + "\n"


def _close_quietly(*files) -> None:
    """Close a child's pipes; one the child already broke is no error."""
    for f in files:
        try:
            f.close()
        except OSError:
            pass


def _drain(stream, tail: deque | None) -> None:
    """Read a child's pipe to the end (so the child never blocks on it), keeping the last lines in ``tail``."""
    for line in stream:
        if tail is not None:
            tail.append(line[:2000])


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class WorkerPool:
    """``jobs`` workers for one course directory, handed out one per thread."""

    def __init__(self, course: Path, jobs: int, limits: Limits):
        self.slots: queue.Queue = queue.Queue()
        self.all = []
        for i in range(jobs):
            uid = sandbox.worker_user(i)[0] if limits.isolate else None
            w = Worker(i, course, limits.memory_mb, uid)
            self.all.append(w)
            self.slots.put(w)

    def __enter__(self):
        """Start every worker at once (each pays nbgrader's import in parallel)."""
        starters = [threading.Thread(target=w.start) for w in self.all]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        return self

    def __exit__(self, *exc):
        for w in self.all:
            w.stop()
        return False

    @contextmanager
    def worker(self):
        w = self.slots.get()
        try:
            yield w
        finally:
            self.slots.put(w)

    def run(self, task: dict, timeout: float | None = None, check: bool = True) -> nbg.Result:
        """One nbgrader step on any free worker."""
        with self.worker() as w:
            res = w.call(task, timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"nbgrader {task} failed:\n{res.output[-3000:]}")
        return res


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
    (autograder/exchange.py)."""
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


def collect_retrying(course: Path, outcome: Outcome) -> Outcome:
    """``collect``, retried when sqlite says the gradebook is locked (the workers write to it at the same time)."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(LOCK_RETRIES):
        try:
            return collect(course, outcome)
        except OperationalError as e:
            if "locked" not in str(e) or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    return outcome


def grade(course: Path, assignments: list[str], jobs: int | None = None, limits: Limits | None = None,
          log=print, progress: bool = True) -> list[Outcome]:
    """Autograde every student in course/submitted for each assignment, then write feedback and grades.csv.

    Every nbgrader step runs on the same long-lived workers (autograder/worker.py): generate_assignment, then for each
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
