"""What a Dask worker process does for ``grade --scheduler``: grade one submission in its own scratch course and
hand back the result as data (the Outcome, the gradebook rows, the autograded notebook and the feedback page).

Each Dask worker process keeps, per course and per task it runs at once, a **station**: a scratch copy of the
course's ``nbgrader_config.py`` and ``source/`` (read from the shared course path given on the command line) with its
own sqlite gradebook, and a ``pool.WorkerPool`` of one long-lived nbgrader worker with its judge and, where the node
allows, its sandbox user. A submission is graded there by ``classrun.autograde_many``, exactly as the local pool
grades it (precheck, limits, the judge's cap, the second try, the people's grades kept, feedback). The station's
gradebook is scratch: the task returns that submission's rows and the client, the one writer, records them in the
real gradebook (``cluster.record``). The station never writes into the shared course directory, so the workers need
only read access to it.

A killed Dask worker takes its stations with it: the nbgrader worker ends with its parent (``worker.exit_with_parent``),
the judge at the end of its stdin, the sandbox user's lock with the process; the nanny starts a fresh process, whose
scratch directory Dask's own work space replaces.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import traceback
from dataclasses import asdict
from pathlib import Path

from ..outcome import GRADE_AGAIN, Outcome
from . import nbg
from .submission import Limits

_LOCK = threading.Lock()
_FREE: dict[str, list["Station"]] = {}     # shared course -> stations not running a task now
_ALL: list["Station"] = []


class Station:
    """A scratch course and one long-lived nbgrader worker (with its judge and sandbox user) in this process."""

    def __init__(self, shared: Path, limits: Limits, scratch: Path | None = None):
        from .pool import WorkerPool

        self.shared = shared
        self.dir = Path(tempfile.mkdtemp(prefix="bpfs-station-", dir=scratch))
        shutil.copy2(shared / "nbgrader_config.py", self.dir / "nbgrader_config.py")
        shutil.copytree(shared / "source", self.dir / "source")
        (self.dir / "submitted").mkdir()
        self.log: list[str] = []
        from .classrun import resolve_isolation
        self.limits = resolve_isolation(limits, self.log.append)
        self.pool = WorkerPool(self.dir, 1, self.limits).__enter__()
        self.generated: set[str] = set()

    def close(self) -> None:
        """Kill the nbgrader worker (nothing runs on it between tasks), stop the judge, free the sandbox user."""
        self.pool.__exit__(SystemExit, None, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    def grade(self, assignment: str, student: str, manual: list[dict]) -> dict:
        from nbgrader.api import Gradebook, MissingEntry

        from .classrun import autograde_many

        a, s = assignment, student
        if a not in self.generated:
            self.pool.run({"op": "generate_assignment", "assignment": a}, timeout=600)
            self.generated.add(a)
        for folder in ("submitted", "autograded", "feedback"):
            shutil.rmtree(self.dir / folder / s / a, ignore_errors=True)
        src = self.shared / "submitted" / s / a
        (self.dir / "submitted" / s).mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, self.dir / "submitted" / s / a)
        with Gradebook(nbg.db_url(self.dir)) as gb:
            gb.update_or_create_student(s)
            try:
                gb.remove_submission(a, s)   # this station graded it before (a re-run): start from nothing
            except MissingEntry:
                pass
        self.log.clear()
        [outcome] = autograde_many(self.dir, [(a, s)], 1, self.limits, self.log.append, progress=False,
                                   feedback=True, pool=self.pool, manual=manual)
        return {"outcome": asdict(outcome), "rows": rows(self.dir, a, s), "files": files(self.dir, a, s),
                "log": list(self.log), "sandboxed": bool(self.limits.isolate)}


def rows(course: Path, assignment: str, student: str) -> dict | None:
    """That submission's rows in ``course``'s gradebook (None when nbgrader recorded none): the submission, and per
    notebook its flag, late penalty, grades (auto_score after the judge's cap, a person's score kept) and comments."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(nbg.db_url(course)) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return None
        return {
            "assignment": assignment, "student": student,
            "timestamp": sub.timestamp.isoformat() if sub.timestamp else None,
            "extension": sub.extension.total_seconds() if sub.extension else None,
            "notebooks": [{
                "name": nb.name, "flagged": nb.flagged, "late_submission_penalty": nb.late_submission_penalty,
                "grades": [{"name": g.name, "auto_score": g.auto_score, "manual_score": g.manual_score,
                            "extra_credit": g.extra_credit, "needs_manual_grade": g.needs_manual_grade}
                           for g in nb.grades],
                "comments": [{"name": c.name, "auto_comment": c.auto_comment, "manual_comment": c.manual_comment}
                             for c in nb.comments],
            } for nb in sub.notebooks],
        }


def files(course: Path, assignment: str, student: str) -> dict[str, bytes]:
    """autograded/STUDENT/ASSIGNMENT/* and feedback/STUDENT/ASSIGNMENT/*, by path relative to the course."""
    out = {}
    for folder in ("autograded", "feedback"):
        base = course / folder / student / assignment
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file():
                    out[str(p.relative_to(course))] = p.read_bytes()
    return out


def _undo_nanny_environ() -> None:
    """Take out of this process's environment what Dask's nanny put there for the worker itself
    (``distributed.nanny.pre-spawn-environ``: MALLOC_TRIM_THRESHOLD_, and one thread for OpenMP, MKL and OpenBLAS),
    so the nbgrader worker and the student's kernel run as under the local pool."""
    try:
        import dask
        extra = dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}
    except ImportError:
        return
    for key, value in extra.items():
        if os.environ.get(key) == str(value):
            os.environ.pop(key, None)


def _take(shared: Path, limits: Limits) -> Station:
    _undo_nanny_environ()
    with _LOCK:
        free = _FREE.setdefault(str(shared), [])
        if free:
            return free.pop()
    scratch = None
    try:
        from distributed import get_worker
        scratch = Path(get_worker().local_directory)
    except (ImportError, ValueError):
        pass
    st = Station(shared, limits, scratch)
    with _LOCK:
        _ALL.append(st)
    return st


def grade_submission(shared: str, assignment: str, student: str, limits: dict, manual: list[dict]) -> dict:
    """The Dask task: grade one submission on a station of this process. Never raises for a grading problem: what
    went wrong on the grader's side comes back as a "grade again" Outcome (never a 0)."""
    station = None
    try:
        station = _take(Path(shared), Limits(**limits))
        return station.grade(assignment, student, manual)
    except Exception as e:  # noqa: BLE001  (a grader's failure is reported with the submission, never a 0)
        if station is not None:   # it may be broken: replace it
            station.close()
            with _LOCK:
                _ALL.remove(station)
            station = None
        why = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:200] if str(e).strip() else ''}"
        o = Outcome(student, assignment, status=GRADE_AGAIN,
                    reason=f"not graded: grade it again (the grader failed on the cluster: {why})")
        return {"outcome": asdict(o), "rows": None, "files": {}, "log": [traceback.format_exc()[-3000:]],
                "sandboxed": False}
    finally:
        if station is not None:
            with _LOCK:
                _FREE.setdefault(str(Path(shared)), []).append(station)


def close_all() -> None:
    """End every station of this process (their nbgrader workers, judges and sandbox users)."""
    with _LOCK:
        stations, _ALL[:] = list(_ALL), []
        _FREE.clear()
    for st in stations:
        try:
            st.close()
        except Exception:  # noqa: BLE001  (closing on the way out: the rest must still close)
            pass


try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:   # dask is an optional extra: this module is imported only with it, but stay importable
    WorkerPlugin = object


class StationCleanup(WorkerPlugin):
    """Closes this worker's stations when the Dask worker shuts down (end of the class, or the cluster closing)."""

    name = "bpfs-stations"

    def teardown(self, worker) -> None:
        close_all()
