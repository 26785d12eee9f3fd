"""Running nbgrader as a program, the way an instructor would, with the venv's bin on PATH (nbgrader runs alembic).

    python -m autograder.grading.nbg ARGS      nbgrader ARGS, a new gradebook's alembic revision read in-process
"""
from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]   # the course checkout: source/, release/, nbgrader_config.py
BIN = Path(sys.executable).parent


def env(extra: dict | None = None) -> dict:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    e.pop("NBGRADER_EXECUTION", None)
    if extra:
        e.update(extra)
    return e


@dataclass
class Result:
    returncode: int
    output: str
    timed_out: bool = False


def _limit_memory(limit_bytes: int | None):
    """A preexec hook: cap the address space of nbgrader and, by inheritance, of the kernel it starts."""
    if not limit_bytes:
        return None

    def hook():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return hook


#: A course directory's gradebook is ``gradebook.db`` in it, unless this file (written by ``--db``) names another one.
DB_FILE, DB_URL_FILE = "gradebook.db", ".gradebook-url"


def db_url(course: Path) -> str:
    """The SQLAlchemy URL of ``course``'s gradebook: the one ``set_db_url`` recorded for it (``--db``: PostgreSQL for
    a department), else the sqlite file ``course/gradebook.db``. Every gradebook the CLI opens comes from here."""
    recorded = Path(course) / DB_URL_FILE
    if recorded.exists():
        return recorded.read_text().strip()
    return f"sqlite:///{Path(course) / DB_FILE}"


def set_db_url(course: Path, url: str | None) -> None:
    """Record ``url`` as ``course``'s gradebook (readable by its owner only: it may hold a password); None: sqlite."""
    recorded = Path(course) / DB_URL_FILE
    if not url:
        recorded.unlink(missing_ok=True)
        return
    fd = os.open(recorded, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(url.strip() + "\n")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def as_url(db) -> str:
    """A database given as a URL, or as the path of a sqlite file."""
    return db if isinstance(db, str) and "://" in db else f"sqlite:///{db}"


def run(args: list[str], cwd: Path, db, timeout: float | None = None, check: bool = True,
        memory_bytes: int | None = None, extra_env: dict | None = None, plain: bool = False) -> Result:
    """``nbgrader ARGS --CourseDirectory.db_url=DB`` in ``cwd`` (``db``: a URL, or a sqlite file's path); the whole process group dies on timeout.

    nbgrader's own app, started as ``python -m autograder.grading.nbg`` (``main``): the same program, except that a
    new gradebook gets its alembic revision read in-process instead of from an ``alembic heads`` program (1 s of CPU
    each time). ``plain``: the ``nbgrader`` program itself (the grading benchmark's baseline is plain nbgrader).

    ``memory_bytes`` sets RLIMIT_AS on the nbgrader process; the kernel it launches inherits the same limit, so a
    submission that allocates too much gets a MemoryError in its own cell instead of taking the machine down.
    """
    nbgrader = [str(BIN / "nbgrader")] if plain else [sys.executable, "-m", "autograder.grading.nbg"]
    cmd = nbgrader + [*args, f"--CourseDirectory.db_url={as_url(db)}"]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env(extra_env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, preexec_fn=_limit_memory(memory_bytes))
    try:
        out, _ = proc.communicate(timeout=timeout)
        res = Result(proc.returncode, out)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        res = Result(-9, out or "", timed_out=True)
    if check and res.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {res.returncode}):\n{res.output[-3000:]}")
    return res


@functools.cache
def alembic_head() -> str:
    """The revision nbgrader stamps into a new gradebook, read in this process from nbgrader's migration scripts.
    nbgrader asks a separate ``alembic heads`` program for it each time it creates a gradebook (1.9 s of CPU a time on
    this machine, 0.9 s with autograder/deferred_imports.py: a Python start, alembic, SQLAlchemy and nbgrader's
    imports). The answer is fixed for an installed nbgrader, so this process reads it once."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def in_process_alembic_head() -> None:
    """Make nbgrader's ``Gradebook`` use ``alembic_head`` in this process. The grading workers call it (they create
    each class's gradebook, with generate_assignment; a Dask station runs the same worker), and so does every
    nbgrader step ``run`` starts."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head


def main() -> None:
    """``nbgrader ARGS`` (nbgrader's own entry point, on sys.argv) with ``in_process_alembic_head``: what ``run``
    starts."""
    in_process_alembic_head()
    from nbgrader.apps.nbgraderapp import main as nbgrader_main

    sys.argv[0] = "nbgrader"
    nbgrader_main()


def assignments(root: Path = ROOT) -> list[str]:
    """Assignment names: the folders of source/ that hold a notebook named after the folder."""
    src = root / "source"
    return sorted(p.name for p in src.iterdir() if (p / f"{p.name}.ipynb").exists())


if __name__ == "__main__":
    main()
