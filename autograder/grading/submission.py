"""One submission through nbgrader's autograde on a worker: the checks before, the bounds, the judge's ledger, and
the reason when it could not be graded."""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..checks import checks_module
from ..outcome import Outcome
from ..protocol.client import JUDGE_ENV
from . import nbg, sandbox
from .zygote import PRELOAD_ENV


LOCK_RETRIES = 5


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
    isolate: bool | None = None      # sandbox kernels (autograder/grading/sandbox.py); None: whenever the machine allows


def _hidden_paths(course: Path, root: Path) -> list[str]:
    """What a sandboxed kernel must not see: solutions, hidden tests, the grader, other runs, the gradebook."""
    return [str(root / d) for d in ("source", "solutions", "autograder", "tests", "run", ".git")] + [str(course)]


def _check_names(assignment: str) -> dict[str, list[str]]:
    mod = checks_module(assignment)
    return {mod.__name__.rsplit(".", 1)[-1]: sorted(n for n in dir(mod) if n.startswith("check_"))}


@functools.cache
def _preloads(course: Path, assignment: str) -> str:
    """What the worker's kernel fork server should load before forking this assignment's kernels
    (``zygote.ON_DEMAND``): the digits, when the assignment's notebook loads them (read once per class)."""
    try:
        text = (course / "source" / assignment / f"{assignment}.ipynb").read_text()
    except OSError:
        return ""
    return "digits" if "load_mnist(" in text else ""


def autograde_one(course: Path, assignment: str, student: str, limits: Limits, worker,
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
            uid, gid = worker.claim.uid, worker.claim.gid
            box = sandbox.prepare(work, uid, gid, _hidden_paths(course, root), _check_names(assignment))
            env.update(box["env"])
            env[PRELOAD_ENV] = _preloads(course, assignment)
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
        # a dead kernel may be the student's (os._exit, the memory limit) or not (killed from outside, the machine
        # out of memory); a dead worker is never the student's: either way the submission gets a second try
        # (a hang that ignores the interrupt is the submission's own: no second try)
        out.fault = ("kernel" if "kernel died" in out.reason else "" if out.reason.startswith("hang") else "grader")
    elif ledger is None:
        out.status, out.reason = "not graded", "the judge did not answer after the notebook ran"
        out.fault = "grader"
    return out
