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

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers import ASSIGNMENT, ROOT
from labserver import VENV_BIN, quiet_settings, serve, stop

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
        src = ROOT / "autograder" / "demo-class" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
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


@pytest.fixture(scope="session")
def lab(course):
    base, root = course["base"], course["dir"]
    dirs = {name: base / name for name in ("jupyter_config", "jupyter_runtime", "lab_settings", "lab_workspaces",
                                           "jupyter_data", "ipython")}
    for d in dirs.values():
        d.mkdir()
    quiet_settings(dirs["lab_settings"])
    env = _env({
        "JUPYTER_CONFIG_DIR": str(dirs["jupyter_config"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["jupyter_runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["lab_settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["lab_workspaces"]),
        "JUPYTER_DATA_DIR": str(dirs["jupyter_data"]),  # sys.prefix/share/jupyter still holds the extensions
        "IPYTHONDIR": str(dirs["ipython"]),
    })
    server = serve(root, env, secrets.token_hex(16), base)
    yield server
    stop(server)


@pytest.fixture(scope="session")
def playwright_session(chromium):
    """The one Playwright of the session: its sync API runs an event loop, and a second one in the same thread fails
    ("using Playwright Sync API inside the asyncio loop"), so every browser fixture starts from this one."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser_context(playwright_session, chromium, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir
    context = playwright_session.chromium.launch_persistent_context(
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
