"""Fixtures for the Assignment List test: an instructor's course with an exchange, and one student's own JupyterLab.

* ``classroom`` - a temp course copy (nbgrader_config.py + source/) with its exchange in the same temp dir, 01 released
  to it (``autograder.exchange.release``), and one student, ``sam``, with a home directory holding
  ``~/.jupyter/nbgrader_config.py`` (course id, exchange root, ``path_includes_course``) written by
  ``exchange.Student.setup()``. The instructor's later steps run in Python through ``autograder.exchange``.
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

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder import exchange, grade
from helpers import ASSIGNMENT, ROOT

VENV_BIN = Path(sys.executable).parent
STUDENT = "sam"


class Lab:
    """The interface conftest.py's ``page`` fixture and failure hook use: url, token, root, api(), lab_url(),
    log_tail()."""

    def __init__(self, url: str, token: str, root: Path, log: Path, proc: subprocess.Popen):
        self.url, self.token, self.root, self.log, self.proc = url, token, root, log, proc

    def api(self, path: str, method: str = "GET", data: dict | None = None, timeout: float = 10):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     data=None if data is None else json.dumps(data).encode(),
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def lab_url(self, path: str, workspace: str) -> str:
        tree = f"/tree/{path}" if path else ""
        return f"{self.url}/lab/workspaces/{workspace}{tree}?reset&token={self.token}"

    def files_url(self, path: str) -> str:
        """A file as the server serves it (JupyterLab's "Open in New Browser Tab")."""
        return f"{self.url}/files/{path}?token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The instructor's course (01 released to a temp exchange) and the student sam, not yet fetching anything."""
    base = tmp_path_factory.mktemp("assignment-list")
    course_dir = grade.prepare(base / "course", ROOT)
    course = exchange.Course(course_dir, exchange=base / "exchange", check_owner=False)
    t0 = time.monotonic()
    exchange.release(course, [ASSIGNMENT], log=lambda *a: None)
    print(f"\n[browser] instructor released {ASSIGNMENT} in {time.monotonic() - t0:.1f} s")
    student = exchange.Student(STUDENT, base / "homes" / STUDENT, course.course_id, course.exchange_root).setup()
    return {"base": base, "course": course, "student": student}


@pytest.fixture(scope="module")
def lab(classroom):
    """JupyterLab run as the student (their env, cwd and root_dir = their home). Overrides conftest.py's ``lab``."""
    base, student = classroom["base"], classroom["student"]
    dirs = {name: base / name for name in ("lab_settings", "lab_workspaces")}
    for d in dirs.values():
        d.mkdir()
    notif = dirs["lab_settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = student.env()
    env.pop("JUPYTER_TOKEN", None)
    env.update({"JUPYTERLAB_SETTINGS_DIR": str(dirs["lab_settings"]),
                "JUPYTERLAB_WORKSPACES_DIR": str(dirs["lab_workspaces"])})
    Path(env["JUPYTER_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    for attempt in range(3):  # port_retries=0 makes a port clash fail loudly; then take another free port
        server = _start_lab(student.home, env, token, _free_port(), base / f"student-lab-{attempt}.log")
        if server is not None:
            break
    else:
        pytest.fail("the student's JupyterLab could not get a free port in 3 attempts")
    yield server
    _stop(server)


def _start_lab(root: Path, env: dict, token: str, port: int, log_path: Path, timeout: float = 90.0) -> Lab | None:
    cmd = [str(VENV_BIN / "jupyter"), "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log_path, proc)
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            if "already in use" in server.log_tail(200):
                return None
            pytest.fail(f"the student's JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            server.api("/api/status", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() - t0 > timeout:
                _stop(server)
                pytest.fail(f"the student's JupyterLab did not answer within {timeout:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
    print(f"\n[browser] student's JupyterLab ready in {time.monotonic() - t0:.1f} s at {server.url} (root {root})")
    return server


def _stop(server: Lab) -> None:
    try:
        server.api("/api/shutdown", method="POST", timeout=10)
    except Exception:  # noqa: BLE001 - the fallback below handles every way the request can fail
        pass
    try:
        server.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.proc.kill()  # our own child only (by its pid)
        server.proc.wait(timeout=10)
