"""Regenerate release/ and solutions/ from source/ with nbgrader, and the demo class from both.

    python -m autograder build [ASSIGNMENT ...]

release/ is exactly what ``nbgrader generate_assignment`` writes; solutions/ is ``nbgrader generate_solution`` with the
hidden tests cleared (nbgrader_config.py) and the notebooks executed. The gradebook used on the way is a throwaway.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat

from ..checks import checks_module
from ..grading import nbg
from ..grading.pool import Worker
from .variants import blank, fill

#: Where the demo class lives in the checkout (written by ``make build``); shipped as package data.
DEMO_CLASS = Path("autograder") / "demo-class"
DEMO_DIR = nbg.ROOT / DEMO_CLASS


def demo_class_dir() -> Path:
    """The demo class that came with this installation: the checkout's, or the package data of an installed wheel."""
    from importlib.resources import files
    return Path(str(files("autograder") / "demo-class"))

#: The demo class: who they are and what each one submits.
DEMO_STUDENTS = {
    "ada": "correct everywhere; the model written answers",
    "ben": "a typical backprop bug in each assignment (the checks module's DEMO_BUG), weak written answers "
           "(its DEMO_WRITTEN)",
    "cy": "blank: submitted the release unchanged (written answers too)",
    "dee": "one part left blank in each assignment (BROKEN_PART); the model written answers",
}


def build(root: Path = nbg.ROOT, only: list[str] | None = None, solutions: bool = True, execute: bool = True,
          log=print) -> None:
    """``execute=False`` writes solutions/ without running them (nbgrader's ``Execute.enabled``): the same cells and
    metadata, no outputs; tests/test_sync.py compares only those, and the commands' output is the committed copy's."""
    names = only or nbg.assignments(root)
    with tempfile.TemporaryDirectory() as tmp:
        # every step in one long-lived nbgrader process (autograder/grading/worker.py), not one nbgrader program per
        # step: each program start costs about 1.2 s of CPU, 14 of them for 7 assignments
        worker = Worker(0, root)
        config = {"CourseDirectory.db_url": nbg.as_url(Path(tmp) / "gradebook.db")}
        try:
            for a in names:
                log(f"release/{a}: nbgrader generate_assignment")
                _step(worker, "generate_assignment", a, config)
                if solutions:
                    log(f"solutions/{a}: nbgrader generate_solution" + (" (executes the notebook)" if execute else ""))
                    _step(worker, "generate_solution", a, config if execute else {**config, "Execute.enabled": False})
        finally:
            worker.stop()
    if only is None:  # drop what no longer has a source
        for folder in ("release", "solutions"):
            for p in (root / folder).iterdir() if (root / folder).exists() else []:
                if p.is_dir() and p.name not in names:
                    shutil.rmtree(p)
    make_demo_class(root, names, log=log)


def _step(worker: Worker, op: str, assignment: str, config: dict) -> None:
    res = worker.call({"op": op, "assignment": assignment, "config": config}, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"nbgrader {op} {assignment} failed (exit {res.returncode}):\n{res.output[-3000:]}")


def demo_submission(student: str, assignment: str, release_nb, source_nb):
    mod = checks_module(assignment)
    if student == "ada":
        return fill(release_nb, source_nb)
    if student == "ben":
        return fill(release_nb, source_nb, bug=mod.DEMO_BUG, written=getattr(mod, "DEMO_WRITTEN", None))
    if student == "cy":
        return blank(release_nb, source_nb)
    if student == "dee":
        return fill(release_nb, source_nb, blank_cells=mod.BROKEN_PART["cells"])
    raise KeyError(student)


def make_demo_class(root: Path = nbg.ROOT, names: list[str] | None = None, log=print) -> None:
    """autograder/demo-class/<student>/<assignment>/<assignment>.ipynb, built from release/ and source/."""
    names = names or nbg.assignments(root)
    out = root / DEMO_CLASS
    for a in names:
        release_nb = nbformat.read(root / "release" / a / f"{a}.ipynb", as_version=4)
        source_nb = nbformat.read(root / "source" / a / f"{a}.ipynb", as_version=4)
        for student in DEMO_STUDENTS:
            nb = demo_submission(student, a, release_nb, source_nb)
            path = out / student / a / f"{a}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
    log(f"demo class: {len(DEMO_STUDENTS)} students x {len(names)} assignments in {out.relative_to(root)}")
