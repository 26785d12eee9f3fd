"""From nbgrader's gradebook into an Outcome: the judge's cap on every test cell, then the scores and the first line
of each failure."""
from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ..outcome import Outcome
from . import nbg
from .submission import LOCK_RETRIES
from .written import read_written


def db_path(course: Path) -> Path:
    """The sqlite file of ``course``'s default gradebook (``nbg.db_url`` says which gradebook is really used)."""
    return course / nbg.DB_FILE


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
    """Zero every test cell that nbgrader scored but the judge did not pass. Only ever lowers a score.

    The zero is the autograder's score (``auto_score``), not a person's: the next autograde replaces it, the
    formgrader does not list the cell as needing a person, and a grader can still override it."""
    needed = required_checks(root, outcome.assignment)
    sub = gb.find_submission(outcome.assignment, outcome.student)
    for nb in sub.notebooks:
        for g in nb.grades:
            checks = needed.get(g.name)
            if not checks or not g.max_score or (g.score or 0) == 0:
                continue
            ok, why = judged(outcome.ledger, checks)
            if not ok:
                g.auto_score = 0.0
                outcome.failures[g.name] = f"integrity: {why}"[:400]
    gb.db.commit()


def collect(course: Path, outcome: Outcome, root: Path = nbg.ROOT) -> Outcome:
    """Fill in score and per-cell results from the gradebook and the autograded notebook, after the judge's say."""
    a, s = outcome.assignment, outcome.student
    with Gradebook(nbg.db_url(course)) as gb:
        if outcome.status == "graded":
            # the course's own source/ (what nbgrader generated the gradebook from; the grader installed from a
            # wheel has no source/ beside it), else the checkout's
            trusted = course if (course / "source" / a).is_dir() else root
            try:
                reconcile(gb, outcome, trusted)
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
            outcome.written, outcome.pending = read_written(sub)
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


def retry_locked(fn, tries: int = LOCK_RETRIES):
    """``fn()``, retried when sqlite says the gradebook is locked (the workers write to it at the same time)."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(tries):
        try:
            return fn()
        except OperationalError as e:
            if "locked" not in str(e) or attempt == tries - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def collect_retrying(course: Path, outcome: Outcome) -> Outcome:
    """``collect``, retried when sqlite says the gradebook is locked."""
    return retry_locked(lambda: collect(course, outcome))
