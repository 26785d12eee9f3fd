"""Fixtures for the browser tests: one JupyterLab server on a temp copy of the course, one headless Debian chromium.

* ``course``  - a temp course directory: nbgrader_config.py, source/, release/, and the demo submissions of ada
  (correct) and ben (a sign bug in backprop) under students/. ``nbgrader generate_assignment 01_chain_rule`` runs in the
  background (into a scratch release dir, so the repo's release/ is what students open) to make the gradebook the
  formgrader reads; the ``gradebook`` fixture waits for it.
* ``lab``     - JupyterLab on 127.0.0.1, a random free port, a token, temp config/runtime/settings/workspace dirs, the
  news popup off, the venv's bin first on PATH. Stopped with POST /api/shutdown (killed only as a fallback).
* ``browser_context`` - Debian's chromium (``executable_path``, no Playwright download) with a fresh user-data-dir.
* ``page``    - a new tab per test. When a test fails, a screenshot goes to browser-screenshots/ at the repo root and
  the failure report names it (and the tail of the server log).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers import ASSIGNMENT, ROOT

VENV_BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "browser-screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
DEMO_STUDENTS = ("ada", "ben")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------------------------------------- environment


def _env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs `alembic` as a program
    env.pop("NBGRADER_EXECUTION", None)
    env.pop("JUPYTER_TOKEN", None)
    env.update(extra or {})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (`make chromium`, i.e. "
                    "apt-get install chromium). Or deselect these tests with -m 'not browser'.", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("playwright (Python) is missing: pip install -e '.[browser]'", pytrace=False)
    return path


# ---------------------------------------------------------------------------------------------- the course copy


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A temp copy of the course; returns a dict with its paths and the background generate_assignment process."""
    base = tmp_path_factory.mktemp("browser")
    course_dir = base / "course"
    course_dir.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course_dir)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(ROOT / "source", course_dir / "source", ignore=ignore)
    shutil.copytree(ROOT / "release", course_dir / "release", ignore=ignore)
    for student in DEMO_STUDENTS:
        src = ROOT / "autograder" / "demo_class" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        dst = course_dir / "students" / student / f"{ASSIGNMENT}.ipynb"
        dst.parent.mkdir(parents=True)
        shutil.copy2(src, dst)
    log = open(base / "generate_assignment.log", "w")
    gen = subprocess.Popen(
        [str(VENV_BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force",
         f"--CourseDirectory.release_directory={base / 'scratch_release'}"],
        cwd=course_dir, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    info = {"base": base, "dir": course_dir, "generate": gen, "generate_log": base / "generate_assignment.log"}
    yield info
    if gen.poll() is None:
        gen.kill()
        gen.wait()
    log.close()


@pytest.fixture(scope="session")
def gradebook(course):
    """Waits for `nbgrader generate_assignment` (started by `course`), so the formgrader lists the assignment."""
    rc = course["generate"].wait(timeout=120)
    if rc != 0:
        pytest.fail(f"nbgrader generate_assignment failed ({rc}):\n{course['generate_log'].read_text()[-3000:]}")
    return course["dir"] / "gradebook.db"


# ---------------------------------------------------------------------------------------------- JupyterLab


class Lab:
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
        """JupyterLab opened on a file, in its own fresh workspace (so no test sees another's tabs)."""
        tree = f"/tree/{path}" if path else ""
        return f"{self.url}/lab/workspaces/{workspace}{tree}?reset&token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


@pytest.fixture(scope="session")
def lab(course):
    base, root = course["base"], course["dir"]
    dirs = {name: base / name for name in ("jupyter_config", "jupyter_runtime", "lab_settings", "lab_workspaces",
                                           "jupyter_data", "ipython")}
    for d in dirs.values():
        d.mkdir()
    # The news popup ("Would you like to receive official Jupyter news?") would cover the bottom-right corner.
    notif = dirs["lab_settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = _env({
        "JUPYTER_CONFIG_DIR": str(dirs["jupyter_config"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["jupyter_runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["lab_settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["lab_workspaces"]),
        "JUPYTER_DATA_DIR": str(dirs["jupyter_data"]),  # sys.prefix/share/jupyter still holds the extensions
        "IPYTHONDIR": str(dirs["ipython"]),
    })
    token = secrets.token_hex(16)
    for attempt in range(3):  # port_retries=0 makes a port clash fail loudly; then take another free port
        server = _start_lab(root, env, token, _free_port(), base / f"jupyterlab-{attempt}.log")
        if server is not None:
            break
    else:
        pytest.fail("JupyterLab could not get a free port in 3 attempts")
    yield server
    _stop(server)


def _start_lab(root: Path, env: dict, token: str, port: int, log_path: Path, timeout: float = 90.0) -> Lab | None:
    """Start JupyterLab and wait until its API answers; None when the port was taken meanwhile."""
    cmd = [str(VENV_BIN / "jupyter"), "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log_path, proc)
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            if "already in use" in server.log_tail(200):
                return None
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            server.api("/api/status", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() - t0 > timeout:
                _stop(server)
                pytest.fail(f"JupyterLab did not answer within {timeout:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
    print(f"\n[browser] JupyterLab ready in {time.monotonic() - t0:.1f} s at {server.url} (root {root})")
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


# ---------------------------------------------------------------------------------------------- chromium


@pytest.fixture(scope="session")
def browser_context(chromium, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000}, env=_env())
        context.set_default_timeout(60_000)  # generous: the machine may be busy
        yield context
        context.close()


@pytest.fixture
def page(browser_context, lab, request):
    pg = browser_context.new_page()
    pg.console_errors = []  # kept for failure reports
    pg.on("pageerror", lambda exc: pg.console_errors.append(str(exc)))
    yield pg
    pg.close()
    # Each test opened its own notebook: stop its kernel now rather than keep it idling until the server stops.
    try:
        for session in lab.api("/api/sessions"):
            lab.api(f"/api/sessions/{session['id']}", method="DELETE")
    except Exception:  # noqa: BLE001 - clean-up only; the server's shutdown stops what is left
        pass


# ---------------------------------------------------------------------------------------------- failure screenshots


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    pg = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if pg is None or pg.is_closed():
        return
    SCREENSHOTS.mkdir(exist_ok=True)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in item.nodeid.split("::", 1)[-1])
    shot = SCREENSHOTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.png"
    try:
        pg.screenshot(path=str(shot), full_page=True)
        rep.sections.append(("browser screenshot", f"failure screenshot: {shot}"))
    except Exception as exc:  # noqa: BLE001 - a report must never fail because of the screenshot
        rep.sections.append(("browser screenshot", f"could not take a screenshot: {exc}"))
    if getattr(pg, "console_errors", None):
        rep.sections.append(("browser page errors", "\n".join(pg.console_errors[-20:])))
    server = item.funcargs.get("lab")
    if server is not None:
        rep.sections.append(("jupyterlab log (tail)", server.log_tail()))


# ---------------------------------------------------------------------------------------------- figures


def pytest_configure(config):
    config._browser_figures = []


@pytest.fixture
def report_figure(request):
    """report_figure("slider->plot latency", "180 ms"): printed now and again in the terminal summary."""
    def add(name: str, value: str) -> None:
        line = f"{name}: {value}"
        print(f"\n[browser] {line}")
        request.config._browser_figures.append(line)
        request.node.user_properties.append((name, value))
    return add


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = getattr(config, "_browser_figures", [])
    if figures:
        terminalreporter.section("browser figures")
        for line in figures:
            terminalreporter.write_line(line)
