"""A long-lived nbgrader worker: imports nbgrader once, then runs one nbgrader step at a time for the grading CLI.

    python -m autograder.grading.worker COURSE_DIR

Starting nbgrader costs about 2 s of CPU (mostly imports), more than grading a short notebook. The grading CLI
(autograder/grading/pool.py) therefore keeps one of these per core and sends it tasks, one JSON line each on stdin; each
answer is one JSON line on the stdout the worker had at start (its fd 1 then points at stderr, so a stray print never
breaks the protocol). Tasks:

    {"op": "autograde", "assignment": A, "student": S, "config": {...}, "env": {...}}
    {"op": "generate_assignment", "assignment": A}
    {"op": "generate_solution", "assignment": A}          (make build: autograder/authoring/build.py)
    {"op": "generate_feedback", "assignment": A, "student": S}
    {"op": "export", "to": PATH}
    answer: {"success": bool, "log": str, "error": str}

Each task runs nbgrader's own app through ``NbGraderAPI`` with the course's ``nbgrader_config.py``, plus the task's
``config`` ("Section.trait": value, e.g. the per-cell time limit and the sandbox's kernel transport) and, for the
duration of the task, its ``env`` (the submission's judge socket, the sandbox's kernelspec path). The kernels it starts
inherit that environment, and its memory limit (RLIMIT_AS, set by the CLI when it starts the worker).

The worker never runs student code: nbgrader only reads the notebook and talks to the kernel. What a submission can do
to the worker is bounded by the CLI: past the notebook's time limit it kills the worker and every process under it,
and starts a new worker for the next submission.
"""
from __future__ import annotations

import copy
import json
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from .nbg import db_url, in_process_alembic_head

LOG_LIMIT = 20_000   # characters of nbgrader's log sent back per task (the tail)
READY = "worker ready"


@contextmanager
def environment(extra: dict):
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update({k: str(v) for k, v in extra.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def task_config(base, course: Path, overrides: dict):
    """The course's config, rooted at ``course`` with its gradebook, plus ``overrides`` ("Section.trait": value)."""
    cfg = copy.deepcopy(base)
    cfg.CourseDirectory.root = str(course)
    cfg.CourseDirectory.db_url = db_url(course)
    for key, value in overrides.items():
        section, trait = key.rsplit(".", 1)
        cfg[section][trait] = value
    return cfg


def run_task(base, course: Path, task: dict) -> dict:
    from nbgrader.apps import NbGraderAPI

    cfg = task_config(base, course, task.get("config", {}))
    op = task["op"]
    with environment(task.get("env", {})):
        api = NbGraderAPI(config=cfg)
        if op == "autograde":
            return api.autograde(task["assignment"], task["student"], force=True, create=True)
        if op == "generate_assignment":
            return api.generate_assignment(task["assignment"], force=True, create=True)
        if op == "generate_solution":   # nbgrader's API has no call for it: what its app does, as generate_assignment
            from nbgrader.converters import GenerateSolution
            from nbgrader.utils import capture_log, temp_attrs

            with temp_attrs(api.coursedir, assignment_id=task["assignment"]):
                app = GenerateSolution(coursedir=api.coursedir, parent=api)
                app.force = True
                return capture_log(app)
        if op == "generate_feedback":
            return api.generate_feedback(task["assignment"], task.get("student"), force=True)
        if op == "export":
            from nbgrader.api import Gradebook
            from nbgrader.plugins import CsvExportPlugin

            plugin = CsvExportPlugin(config=cfg)
            plugin.to = task["to"]
            with Gradebook(cfg.CourseDirectory.db_url, str(cfg.CourseDirectory.course_id)) as gb:
                plugin.export(gb)
            return {"success": True}
    return {"success": False, "error": f"unknown task {op!r}"}


def share_gradebook_engines() -> None:
    """One SQLAlchemy engine per gradebook URL for the life of this worker. nbgrader opens the gradebook about ten
    times per autograde (``Gradebook(db_url)`` in each of its steps), each time with a new engine whose cache of
    compiled SQL starts empty, so every query was compiled again for every submission. ``Gradebook.close`` still
    disposes the engine's connections each time (the next use opens new ones), so nothing stays open between
    tasks; only the compiled statements are kept."""
    import nbgrader.api
    from sqlalchemy import create_engine

    engines: dict = {}

    def shared(url, *args, **kwargs):
        key = (str(url), args, tuple(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = create_engine(url, *args, **kwargs)
        return engines[key]
    nbgrader.api.create_engine = shared


class _CachedSchemaValidation:
    """Stands in for the ``jsonschema`` module inside nbgrader's metadata validator (``nbgrader.nbgraderformat.common``,
    whose only use of it is ``jsonschema.validate(cell_metadata, schema)``): ``validate`` does what jsonschema's does
    (check the schema, build a validator, raise the best-matching error) but checks each schema and builds its
    validator once, not for every cell at every read of a notebook; everything else is the real module's."""

    def __init__(self):
        import jsonschema
        self._module, self._validators = jsonschema, {}

    def __getattr__(self, name):
        return getattr(self._module, name)

    def validate(self, instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return self._module.validate(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True)   # nbgrader reads its schema file anew for each validator it makes
        validator = self._validators.get(key)
        if validator is None:
            kind = self._module.validators.validator_for(schema)
            kind.check_schema(schema)
            validator = self._validators[key] = kind(schema)
        error = self._module.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


def cache_metadata_validation() -> None:
    """nbgrader checks every cell's nbgrader metadata with ``jsonschema.validate``, which checks the schema itself
    against JSON Schema's meta-schema and builds a new validator each time: about 15 ms per read of a notebook with 26
    graded cells, several reads per submission (autograde, feedback). Same verdicts, same errors, once per schema."""
    from nbgrader.nbgraderformat import common

    common.jsonschema = _CachedSchemaValidation()


def exit_with_parent(poll: float = 1.0) -> None:
    """End this worker (and its process group) when the grading process that started it is gone (kill -9 of the CLI):
    an orphan must not go on writing into a course directory that the next run replaces. Its kernels follow by
    themselves (ipykernel watches JPY_PARENT_PID)."""
    import signal
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll)
        os.killpg(0, signal.SIGKILL)
    threading.Thread(target=watch, daemon=True).start()


def main(argv=None) -> None:
    args = argv or sys.argv[1:]
    course = Path(args[0]).resolve()
    exit_with_parent()
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ.pop("NBGRADER_EXECUTION", None)
    from traitlets.config.loader import PyFileConfigLoader
    import nbgrader.apps  # noqa: F401  (the import this process exists to pay once)

    share_gradebook_engines()
    cache_metadata_validation()
    in_process_alembic_head()   # each new gradebook (generate_assignment in a fresh course) without an alembic program

    base = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    zygote = None
    if "--zygote" in args:   # sandboxed kernels, forked from a pre-imported parent (autograder/grading/zygote.py)
        from .zygote import Zygote
        zygote = Zygote()
        zygote.start()
    proto.write(json.dumps({"ready": READY, "pid": os.getpid()}) + "\n")
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                result = run_task(base, course, json.loads(line))
            except Exception:  # noqa: BLE001  (an nbgrader step failed outside capture_log: report it, stay up)
                result = {"success": False, "error": traceback.format_exc()}
            result = {k: (v[-LOG_LIMIT:] if isinstance(v, str) else v) for k, v in result.items()}
            proto.write(json.dumps(result) + "\n")
    finally:
        if zygote is not None:
            zygote.stop()


if __name__ == "__main__":
    main()
