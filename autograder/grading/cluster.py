"""Grading a class on a Dask distributed cluster (``python -m autograder grade --scheduler tcp://HOST:8786`` or
``--scheduler local:N``), with this process as the one writer of the gradebook.

One Dask task per (assignment, student): ``station.grade_submission`` grades it on a long-lived nbgrader worker of
the Dask worker process that runs it (the same judge, sandbox and limits as the local pool) and returns data: the
Outcome, the submission's gradebook rows, the autograded notebook and the feedback page. Here, as each result comes
in, ``record`` writes the rows into the course's gradebook (sqlite, or PostgreSQL with ``--db``) and the files into
the course directory; nothing else writes either. At the end: grades.csv, outcomes.json and the class report, as
``classrun.grade`` writes them.

Faults. A Dask worker that dies in the middle of a submission (kill -9, a lost node) makes the scheduler run that task
again on another worker; ``record`` replaces the submission's rows, so nothing is doubled. A task that has killed
``ALLOWED_FAILURES + 1`` workers is given up by the scheduler (``KilledWorker``): that submission is reported "grade
again" with the reason, never a 0, and the rest of the class goes on. Dask is imported only here, only with
``--scheduler``.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from ..outcome import GRADE_AGAIN, Outcome
from . import nbg
from .publish import export_grades, finish_run
from .submission import Limits
from .written import SAVED, keep_record

#: Worker deaths one submission may cause before it is given up: the first is retried on another worker.
ALLOWED_FAILURES = 1


def connect(scheduler: str, log=print):
    """A Dask ``Client`` for ``tcp://HOST:PORT`` (an existing scheduler) or ``local:N`` (a LocalCluster of N worker
    processes, one thread each, each under a nanny that restarts it when it dies). Returns (client, cluster or None)."""
    import dask
    from dask.distributed import Client, LocalCluster

    # a worker's death counts against every task the scheduler has sent it: send it no more than it runs at once
    dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                     "distributed.scheduler.worker-saturation": 1.0})
    cluster = None
    if scheduler.startswith("local:"):
        n = int(scheduler.split(":", 1)[1])
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=40)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    allowed, saturation = client.run_on_scheduler(
        lambda dask_scheduler: (dask_scheduler.allowed_failures, dask_scheduler.WORKER_SATURATION))
    log(f"Dask scheduler {client.scheduler.address}: {len(client.scheduler_info()['workers'])} worker(s); "
        f"dashboard {client.dashboard_link}")
    if allowed != ALLOWED_FAILURES:
        log(f"warning: the scheduler gives a task {allowed} retries after a worker died (distributed.scheduler."
            f"allowed-failures); a submission that kills its worker kills {allowed + 1} before it is given up. "
            f"Set it to {ALLOWED_FAILURES} in the scheduler's Dask config (docs/scaling.md)")
    if saturation != 1.0:
        log(f"warning: the scheduler queues up to {saturation:g} x threads tasks on a worker (distributed.scheduler."
            f"worker-saturation); a worker that dies then counts against the queued submissions too. Set it to 1.0")
    return client, cluster


def record(course: Path, result: dict, gb=None) -> None:
    """Write one submission's rows into the gradebook and its files into the course directory, replacing what an
    earlier try of the same submission wrote (idempotent per (assignment, student)). ``gb``: an open ``Gradebook`` of
    ``course`` to use (the class run keeps one open: opening one costs more than recording a submission)."""
    from nbgrader.api import Gradebook, MissingEntry

    if gb is None:
        with Gradebook(nbg.db_url(course)) as own:
            return record(course, result, own)

    o = result["outcome"]
    a, s = o["assignment"], o["student"]
    for folder in ("autograded", "feedback"):
        shutil.rmtree(course / folder / s / a, ignore_errors=True)
    for rel, data in result["files"].items():
        path = (course / rel).resolve()
        if course not in path.parents:
            raise ValueError(f"a task returned a file outside the course: {rel}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    rows = result["rows"]
    try:
        if rows is None:
            try:
                gb.remove_submission(a, s)   # an earlier run's rows would stand for this one's
            except MissingEntry:
                pass
            return
        try:
            sub = gb.find_submission(a, s)
        except MissingEntry:
            with gb.db.no_autoflush:   # nbgrader builds the rows before adding them: no half-made flush
                sub = gb.add_submission(a, s)
        sub.timestamp = datetime.fromisoformat(rows["timestamp"]) if rows["timestamp"] else None
        sub.extension = timedelta(seconds=rows["extension"]) if rows["extension"] is not None else None
        for nb in rows["notebooks"]:
            snb = gb.find_submission_notebook(nb["name"], a, s)
            snb.flagged, snb.late_submission_penalty = nb["flagged"], nb["late_submission_penalty"]
            for g in nb["grades"]:
                grade = gb.find_grade(g["name"], nb["name"], a, s)
                for k in ("auto_score", "manual_score", "extra_credit", "needs_manual_grade"):
                    setattr(grade, k, g[k])
            for c in nb["comments"]:
                comment = gb.find_comment(c["name"], nb["name"], a, s)
                comment.auto_comment, comment.manual_comment = c["auto_comment"], c["manual_comment"]
        gb.db.commit()
    except BaseException:
        gb.db.rollback()   # nothing half-written stays in the session for the next submission
        raise


def as_outcome(d: dict) -> Outcome:
    o = Outcome(**{k: v for k, v in d.items() if k in Outcome.__dataclass_fields__})
    o.cells = {k: tuple(v) for k, v in o.cells.items()}
    o.written = {k: tuple(v) for k, v in o.written.items()}
    return o


def lost(a: str, s: str, error: BaseException) -> Outcome:
    """The Outcome of a submission the cluster gave up on: "grade again" with the reason, never a 0."""
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        why = (f"the Dask worker grading it died {ALLOWED_FAILURES + 1} times (killed, out of memory, or a lost "
               f"node; last on {getattr(error, 'last_worker', None) and error.last_worker.address})")
    else:
        why = f"the cluster failed on it: {type(error).__name__}: {str(error)[:200]}"
    return Outcome(s, a, status=GRADE_AGAIN, reason=f"not graded: grade it again ({why})")


def grade(course: Path, assignments: list[str], scheduler: str, limits: Limits | None = None, log=print,
          progress: bool = True, client=None) -> list[Outcome]:
    """``classrun.grade`` on a Dask cluster: generate_assignment and the students here, one task per submission
    there, every result recorded here as it comes in; then grades.csv, outcomes.json and the report."""
    from dask.distributed import as_completed

    from .station import StationCleanup, grade_submission

    course = Path(course).resolve()
    limits = limits or Limits()
    manual = json.loads((course / SAVED).read_text()) if (course / SAVED).exists() else []
    for a in assignments:
        nbg.run(["generate_assignment", a, "--force"], cwd=course, db=nbg.db_url(course), timeout=600)
    students = sorted(p.name for p in (course / "submitted").iterdir() if p.is_dir())
    from nbgrader.api import Gradebook
    with Gradebook(nbg.db_url(course)) as gb:
        for s in students:
            gb.update_or_create_student(s)
    own = client is None
    if own:
        client, cluster = connect(scheduler, log)
    try:
        client.register_plugin(StationCleanup(), name=StationCleanup.name)
        spec = {"notebook_timeout": limits.notebook_timeout, "cell_timeout": limits.cell_timeout,
                "memory_mb": limits.memory_mb, "isolate": limits.isolate}
        futures = {}
        for a in assignments:
            for s in students:
                mine = [e for e in manual if (e["assignment"], e["student"]) == (a, s)]
                fut = client.submit(grade_submission, str(course), a, s, spec, mine, pure=False,
                                    key=f"grade-{a}-{s}-{time.time_ns()}")
                futures[fut] = (a, s)
        outcomes, unsandboxed, t0 = [], 0, time.perf_counter()
        gb = Gradebook(nbg.db_url(course))
        for i, fut in enumerate(as_completed(list(futures)), 1):
            a, s = futures[fut]
            try:
                result = fut.result()
            except Exception as e:  # noqa: BLE001  (KilledWorker, a lost scheduler: reported, never a 0)
                outcomes.append(lost(a, s, e))
            else:
                try:
                    record(course, result, gb)
                    o = as_outcome(result["outcome"])
                except Exception as e:  # noqa: BLE001  (the rows did not fit this gradebook: say so, go on)
                    o = Outcome(s, a, status=GRADE_AGAIN, reason=f"not graded: grade it again (recording its "
                                                                   f"result failed: {type(e).__name__}: {e})"[:300])
                outcomes.append(o)
                unsandboxed += not result["sandboxed"]
                for line in result["log"]:
                    if line.startswith(("warning", "note")):
                        log(f"{line}")
            if progress:
                _progress(i, len(futures), time.perf_counter() - t0)
        gb.close()
        if progress:
            sys.stderr.write("\n")
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    if unsandboxed:
        log(f"warning: {unsandboxed} submission(s) were graded with kernels NOT sandboxed on their Dask worker")
    keep_record(course, manual)
    export_grades(course, outcomes)
    return finish_run(course, outcomes, log)


def _progress(done: int, total: int, seconds: float) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\rgrading on Dask [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {seconds:5.1f}s")
    sys.stderr.flush()
