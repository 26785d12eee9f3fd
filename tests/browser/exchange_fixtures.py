"""Fixtures for the Assignment List test: an instructor's course with an exchange, and one student's own JupyterLab.

* ``classroom`` - a temp course copy (nbgrader_config.py + source/) with its exchange in the same temp dir, 01 released
  to it (``autograder.grading.exchange.release``), and one student, ``sam``, with a home directory holding
  ``~/.jupyter/nbgrader_config.py`` (course id, exchange root, ``path_includes_course``) written by
  ``students.Student.setup()``. The instructor's later steps run in Python through ``autograder.grading.exchange``.
* ``lab``       - JupyterLab started AS THE STUDENT: the student's environment (``Student.env()``: HOME,
  JUPYTER_CONFIG_DIR = ~/.jupyter, JUPYTER_DATA_DIR = ~/.local/share/jupyter, where nbgrader keeps its submission
  cache), cwd and root_dir = the student's home, plus temp settings/workspace dirs (news popup off). Same pattern as
  conftest.py's server: 127.0.0.1, a free port, port_retries=0, a token, stopped with POST /api/shutdown.

Import both into a test module (``from exchange_fixtures import classroom, lab``): the module's ``lab`` then overrides
conftest.py's session server (the instructor's, on a course copy), so conftest.py's ``page`` fixture, its failure
screenshots and its server-log tail all work on the student's server. (The Lab class and the start/stop code are a
copy of conftest.py's, not an import: ``conftest`` names two modules in this repo, tests/ and tests/browser/.)
"""
from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from autograder.grading import classrun, exchange, students
from helpers import ASSIGNMENT, ROOT
from labserver import quiet_settings, serve, stop

STUDENT = "sam"


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The instructor's course (01 released to a temp exchange) and the student sam, not yet fetching anything."""
    base = tmp_path_factory.mktemp("assignment-list")
    course_dir = classrun.prepare(base / "course", ROOT)
    course = exchange.Course(course_dir, exchange=base / "exchange", check_owner=False)
    t0 = time.monotonic()
    exchange.release(course, [ASSIGNMENT], log=lambda *a: None)
    print(f"\n[browser] instructor released {ASSIGNMENT} in {time.monotonic() - t0:.1f} s")
    student = students.Student(STUDENT, base / "homes" / STUDENT, course.course_id, course.exchange_root).setup()
    return {"base": base, "course": course, "student": student}


@pytest.fixture(scope="module")
def lab(classroom):
    """JupyterLab run as the student (their env, cwd and root_dir = their home). Overrides conftest.py's ``lab``."""
    base, student = classroom["base"], classroom["student"]
    dirs = {name: base / name for name in ("lab_settings", "lab_workspaces")}
    for d in dirs.values():
        d.mkdir()
    quiet_settings(dirs["lab_settings"])
    env = student.env()
    env.pop("JUPYTER_TOKEN", None)
    env.update({"JUPYTERLAB_SETTINGS_DIR": str(dirs["lab_settings"]),
                "JUPYTERLAB_WORKSPACES_DIR": str(dirs["lab_workspaces"])})
    Path(env["JUPYTER_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    server = serve(student.home, env, secrets.token_hex(16), base, who="the student's JupyterLab",
                   log_name="student-lab")
    yield server
    stop(server)
