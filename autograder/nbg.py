"""Running nbgrader as a program, the way an instructor would, with the venv's bin on PATH (nbgrader runs alembic)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def run(args: list[str], cwd: Path, db: Path, timeout: float | None = None, check: bool = True) -> Result:
    """``nbgrader ARGS --CourseDirectory.db_url=sqlite:///DB`` in ``cwd``; the whole process group dies on timeout."""
    cmd = [str(BIN / "nbgrader"), *args, f"--CourseDirectory.db_url=sqlite:///{db}"]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
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


def assignments(root: Path = ROOT) -> list[str]:
    """Assignment names: the folders of source/ that hold a notebook named after the folder."""
    src = root / "source"
    return sorted(p.name for p in src.iterdir() if (p / f"{p.name}.ipynb").exists())
