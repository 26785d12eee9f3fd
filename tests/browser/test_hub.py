"""The course on a real JupyterHub (``autograder.hub``), driven in headless chromium through the hub's login page.

One module-scoped hub on free 127.0.0.1 ports with its own data root, system users ``bpfs-hub-t-*`` (deleted at the
end) and the shared venvs under /opt/bpfs-hub (built on first use, reused after):

1. the instructor logs in and releases 01 from the formgrader service;
2. ada and ben log in, fetch 01 in the Assignment List, solve it on disk (ada: the demo class's correct notebook;
   ben: first the blank release, then the demo class's planted sign bug), submit; ben submits twice;
3. the instructor runs the course's grader from the hub venv (``python -m autograder exchange``: the judge and the
   sandbox, with the course installed non-editable) to collect, autograde and release feedback;
4. each student fetches their feedback and reads their own score (17 / 19, the written answer waiting for a person; 12 / 19 and "sign error"), and the hub
   refuses the other's server;
5. a student who opens the formgrader is refused (403/404);
6. ben's server is stopped mid-work (by the instructor, through the hub's API, as the admin panel and the idle
   culler do) after he typed a note into his notebook and saved it: he launches it again and finds the note;
7. a probe notebook in a student's kernel: ``course`` imports, ``autograder`` does not, and no source/, solutions/,
   reference or gradebook is readable anywhere;
8. the hub restarts: every submission and grade is still there, and ada reads her feedback again.

A second test runs ``make hub``'s command in the foreground: banner (URL, formgrader, demo logins), then Ctrl-C stops
the hub and everything it started.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from helpers import ASSIGNMENT, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.hub]

if os.geteuid() != 0:
    pytest.skip("the hub test creates system users and runs servers as them: it needs root", allow_module_level=True)

from autograder.hub import provision, run as hubrun  # noqa: E402
from autograder.hub.layout import Hub  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]   # as conftest.py's (``conftest`` names two modules here)

PANEL = "#nbgrader-assignment-list"
DEMO = ROOT / "autograder" / "demo-class"


def _step(name: str, t0: float) -> float:
    now = time.monotonic()
    print(f"[hub] {name}: {now - t0:.1f} s")
    return now


@pytest.fixture(scope="module")
def hub():
    h = Hub(root=Path(f"/srv/bpfs-hub-test-{uuid.uuid4().hex[:6]}"), prefix="bpfs-hub-t-", students=["ada", "ben"],
            password="test-" + uuid.uuid4().hex[:8])
    h.hide = provision.hidden_dirs(h, [str(ROOT.parent)])   # as make hub: this checkout's folder, every other clone
    t0 = time.monotonic()
    try:
        provision.setup(h, ROOT, assignments=[ASSIGNMENT], log=print)
        _step("setup (users, course dir, venvs reused or built)", t0)
        hubrun.pick_ports(h)
        running = hubrun.start(h)
        yield running
        running.stop()
    finally:
        provision.teardown(h)


@pytest.fixture(scope="module")
def browser(playwright_session, chromium):
    b = playwright_session.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
    yield b
    b.close()


def login(browser, hub: Hub, user: str, next_url: str = ""):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(90_000)
    page = ctx.new_page()
    page.goto(f"{hub.url}/hub/login" + (f"?next={next_url}" if next_url else ""))
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    return page


def quiet_lab(hub: Hub, user: str) -> None:
    """The news popup off in the user's own JupyterLab settings (it would cover the panel's corner)."""
    import pwd
    pw = pwd.getpwnam(user)
    f = Path(pw.pw_dir) / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension" / \
        "notification.jupyterlab-settings"
    provision._write_as(pw, f, json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def open_lab(page, hub: Hub, user: str) -> None:
    page.wait_for_url(re.compile(rf".*/user/{user}/lab.*"), timeout=120_000)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-item[data-command='nbgrader:open-assignment-list']").click()
    page.locator(PANEL).wait_for()


def _row(page, section: str):
    return page.locator(f"{PANEL} {section} > .list_item").filter(
        has=page.locator(".item_name", has_text=ASSIGNMENT))


def put_as(user: str, src: Path, dst: Path) -> None:
    """The student's edit: their notebook on disk, owned by them."""
    import pwd
    pw = pwd.getpwnam(user)
    shutil.copyfile(src, dst)
    os.chown(dst, pw.pw_uid, pw.pw_gid)


def submit(page) -> None:
    before = _row(page, "#submitted_assignments_list").locator(".nested_list_item").count()
    _row(page, "#fetched_assignments_list").locator("button", has_text="Submit").click()
    _row(page, "#submitted_assignments_list").locator(".nested_list_item").nth(before).wait_for()
    time.sleep(1.1)   # nbgrader's submission timestamps are per second; two submits must differ


def feedback_text(page, hub: Hub, user: str) -> str:
    page.locator(f"{PANEL} #refresh_assignments_list").click()
    row = _row(page, "#submitted_assignments_list")
    row.locator("button", has_text="Fetch Feedback").first.click()
    row.locator(".nested_list_item a", has_text="view feedback").first.wait_for()
    (html,) = sorted((Path(hub.home(user)) / hub.course_id / ASSIGNMENT / "feedback").glob("*/*.html"))[-1:]
    rel = html.relative_to(hub.home(user))
    resp = page.goto(f"{hub.url}/user/{user}/files/{rel}")
    assert resp.status == 200, resp.status
    return page.locator("body").inner_text()


def score(text: str) -> tuple[float, float]:
    m = re.search(r"Score: ([\d.]+) / ([\d.]+)\)", text)
    assert m, text[:500]
    return float(m.group(1)), float(m.group(2))


def save_note(page, hub: Hub, user: str, rel: str, note: str) -> None:
    """The student opens ``rel`` in JupyterLab, types ``note`` below ``def sigmoid(z):`` (their answer to Part A:
    the release's own cells are read-only) and saves (Ctrl+S)."""
    page.goto(f"{hub.url}/user/{user}/lab/tree/{rel}")
    line = page.locator(".jp-Notebook .jp-CodeCell .cm-line", has_text="def sigmoid(z):").first
    line.wait_for(timeout=90_000)
    line.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type(note)
    page.keyboard.press("Control+s")
    path = hub.home(user) / rel
    deadline = time.monotonic() + 30
    while note not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.3)
    if note not in path.read_text():
        page.screenshot(path="/tmp/bpfs-hub-save-note.png")
    assert note in path.read_text(), "JupyterLab's save should write the note to the student's file " \
                                     "(screenshot: /tmp/bpfs-hub-save-note.png)"


def stop_server(prof, hub: Hub, user: str) -> None:
    """The instructor (a hub admin) stops ``user``'s server: the REST call the admin panel makes."""
    prof.goto(f"{hub.url}/hub/home")
    status = prof.evaluate("""async (u) => (await fetch(u, {method: "DELETE",
        headers: {"X-XSRFToken": window.jhdata.xsrf_token}})).status""", f"/hub/api/users/{user}/server")
    assert status in (202, 204), status
    deadline = time.monotonic() + 60
    while _pids("jupyterhub-singleuser", user) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _pids("jupyterhub-singleuser", user), f"{user}'s server should be stopped"


def _pids(program: str, user: str | None = None) -> list[int]:
    """Processes whose command line names ``program`` (run by ``user``, if given)."""
    import pwd
    uid, pids = (pwd.getpwnam(user).pw_uid if user else None), []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and (uid is None or d.stat().st_uid == uid) \
                    and program.encode() in (d / "cmdline").read_bytes():
                pids.append(int(d.name))
        except OSError:
            pass
    return pids


def _started_by(root: Path) -> list[str]:
    """The processes that carry this hub's settings file in their environment (the hub and what it started)."""
    mark, found = f"BPFS_HUB_SETTINGS={root / 'state' / 'settings.json'}".encode(), []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and mark in (d / "environ").read_bytes().split(b"\0"):
                cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ")[:80].decode(errors="replace")
                found.append(f"{d.name} {cmdline}")
        except OSError:
            pass
    return found


def relaunch(page, hub: Hub, user: str, rel: str) -> None:
    """The student comes back to their notebook's URL: the hub says the server is not running, they launch it."""
    page.goto(f"{hub.url}/user/{user}/lab/tree/{rel}")
    launch = page.locator("#start, a:has-text('Launch Server'), button:has-text('Launch Server')").first
    try:
        launch.wait_for(timeout=20_000)
        launch.click()
    except Exception:  # noqa: BLE001 - some hub versions spawn straight away
        pass
    page.wait_for_url(re.compile(rf".*/user/{user}/lab.*"), timeout=120_000)


PROBE = r'''
import importlib.util, json, os, time
out = {"course": importlib.util.find_spec("course") is not None, "autograder": None, "readable": []}
try:
    import autograder
    out["autograder"] = autograder.__file__
except ImportError:
    pass
import course.data
for p in PATHS:
    try:
        with open(p, "rb") as f:
            f.read(1)
        out["readable"].append(p)
    except OSError:
        pass
t0, found = time.monotonic(), []
for top, dirs, files in os.walk("/", onerror=lambda e: None):
    if top.startswith(("/proc", "/sys", "/dev", "/run")) or time.monotonic() - t0 > 40:
        dirs[:] = []
        continue
    for name in files:
        p = os.path.join(top, name)
        if (("/autograder/reference/" in p or "/autograder/checks/" in p or "/solutions/01_chain_rule/" in p
             or "/source/01_chain_rule/" in p or (name == "gradebook.db" and "/nbgrader/tests/" not in p))
                and os.access(p, os.R_OK)):
            found.append(p)
out["found"], out["walk_s"] = found[:20], round(time.monotonic() - t0, 1)
print("PROBE" + json.dumps(out))
'''


def probe(page, hub: Hub, user: str) -> dict:
    """Run PROBE in the student's own kernel on the hub (a notebook in their home, opened and run in JupyterLab)."""
    import pwd
    paths = [str(hub.course_dir / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), str(hub.course_dir / "gradebook.db"),
             str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
             str(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
             str(ROOT / "autograder" / "reference" / "mlp.py"), "/work/main/autograder/reference/mlp.py",
             *map(str, hub.hub_env.glob("lib/python3*/site-packages/autograder/reference/mlp.py")), str(hub.home(hub.user("ada")) / ".jupyter" / "nbgrader_config.py")]   # probed as ben
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"PATHS = {paths!r}\n" + PROBE)])
    pw = pwd.getpwnam(user)
    dst = Path(pw.pw_dir) / "probe.ipynb"
    nbformat.write(nb, dst)
    os.chown(dst, pw.pw_uid, pw.pw_gid)
    page.goto(f"{hub.url}/user/{user}/lab/tree/probe.ipynb")
    cell = page.locator(".jp-Notebook .jp-CodeCell", has_text="PATHS = ").first   # not a cell of another open tab
    cell.wait_for(timeout=90_000)
    dialog = page.locator(".jp-Dialog .jp-mod-accept")
    try:                                   # a "Select Kernel" dialog, if the notebook's kernel is not yet known
        dialog.wait_for(timeout=5_000)
        dialog.click()
    except Exception:  # noqa: BLE001 - no dialog: the default kernel starts
        pass
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=90_000)
    cell.click()
    page.keyboard.press("Shift+Enter")
    out = page.locator(".jp-OutputArea-output", has_text="PROBE")
    out.wait_for(timeout=90_000)
    return json.loads(out.inner_text().split("PROBE", 1)[1].strip())


def test_hub_release_fetch_submit_grade_feedback_and_restart(hub, browser):
    h = hub.hub
    ada, ben = h.user("ada"), h.user("ben")
    t0 = time.monotonic()

    # 1. the instructor: the hub's login page, then the formgrader service; Release 01.
    prof = login(browser, h, h.instructor, next_url=f"{h.service_prefix}formgrader")
    prof.wait_for_url(re.compile(r".*/formgrader.*"))
    row = prof.locator("tr", has=prof.locator(".name", has_text=ASSIGNMENT))
    row.locator(".release a").click()
    prof.locator("#success-modal").wait_for()
    outbound = h.exchange / h.course_id / "outbound" / ASSIGNMENT
    assert (outbound / f"{ASSIGNMENT}.ipynb").exists(), "the formgrader should release 01 to the exchange"
    assert _pids("jupyterhub_idle_culler"), f"the idle culler service should run:\n{hub.log_tail()}"
    t0 = _step("instructor logs in, releases 01 in the formgrader", t0)

    # 2. two students: fetch, solve, submit (ben twice: blank, then with the planted bug)
    pages = {}
    for user in (ada, ben):
        quiet_lab(h, user)
        pg = pages[user] = login(browser, h, user)
        open_lab(pg, h, user)
        _row(pg, "#released_assignments_list").locator("button", has_text="Fetch").click()
        _row(pg, "#fetched_assignments_list").wait_for()
    mine = h.home(ada) / h.course_id / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    put_as(ada, DEMO / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", mine)
    submit(pages[ada])
    submit(pages[ben])                                    # ben's first try: the blank release
    put_as(ben, DEMO / "ben" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
           h.home(ben) / h.course_id / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    submit(pages[ben])
    inbound = sorted(p.name.split("+")[0] for p in (h.exchange / h.course_id / "inbound").iterdir())
    assert inbound == [ada, ben, ben], inbound
    t0 = _step("two students log in, fetch, solve, submit (ben twice)", t0)

    # 3. the instructor grades as docs/hub.md says: the course's grader from the hub venv (installed, not this
    #    checkout), as root on the course directory the formgrader serves (root: the sandbox claims kernel users)
    grader = [str(h.hub_env / "bin" / "python"), "-m", "autograder", "exchange", "--course", str(h.course_dir)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(BACKPROP_EXCHANGE=str(h.exchange), PATH=f"{h.hub_env / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    said = ""
    for step in ("collect", "autograde", "feedback", "release-feedback"):
        res = subprocess.run([*grader, step, ASSIGNMENT], env=env, cwd="/", capture_output=True, text=True,
                             timeout=600)
        said += res.stdout
        assert res.returncode == 0, f"{step}: {res.stdout[-2000:]}{res.stderr[-3000:]}"
    print(said)
    assert "NOT sandboxed" not in said, said[:2000]   # root with the sandbox's tools: every kernel sandboxed
    provision.chown_tree(h.course_dir, __import__("pwd").getpwnam(h.grader))
    rows = {line.split()[1]: line for line in said.splitlines() if line.startswith(ASSIGNMENT)}
    assert "17.0 / 19.0" in rows[ada] and "all tests passed" in rows[ada], rows
    assert "12.0 / 19.0" in rows[ben] and "sign error" in rows[ben], rows   # the latest submission, not the blank
    t0 = _step("grader (hub venv CLI): collect, autograde (judge + sandbox), feedback, release", t0)

    # 4. each student reads their own feedback, and cannot open the other's server
    ada_text = feedback_text(pages[ada], h, ada)
    assert score(ada_text) == (17.0, 19.0)   # her written answer (2 points) waits for a person
    ben_text = feedback_text(pages[ben], h, ben)
    assert score(ben_text) == (12.0, 19.0) and "sign error" in ben_text
    for who, other in ((ada, ben), (ben, ada)):
        for path in (f"/user/{other}/lab", f"/user/{other}/files/{h.course_id}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"):
            resp = pages[who].goto(f"{h.url}{path}")
            assert resp.status in (403, 404), (who, path, resp.status)
            assert "Score:" not in pages[who].content()
    t0 = _step("students read their own feedback; the other's server is refused", t0)

    # 5. a student at the formgrader: refused by the hub
    resp = pages[ada].goto(f"{h.url}{h.service_prefix}formgrader")
    assert resp.status in (403, 404), resp.status
    assert "Manage Assignments" not in pages[ada].content()
    t0 = _step("a student is refused the formgrader", t0)

    # 6. ben's server stopped mid-work: what he saved is still there when he launches it again
    rel = f"{h.course_id}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    note = f"# note from ben {uuid.uuid4().hex[:6]}: check the sign of dC/dz"
    save_note(pages[ben], h, ben, rel, note)
    stop_server(prof, h, ben)
    relaunch(pages[ben], h, ben, rel)
    pages[ben].locator(".jp-Notebook .jp-CodeCell .cm-content", has_text=note).first.wait_for(timeout=90_000)
    assert note in (h.home(ben) / rel).read_text()
    assert list((h.home(ben) / h.course_id / ASSIGNMENT / "feedback").glob("*/*.html")), "ben's feedback is gone"
    t0 = _step("ben's server stopped mid-work: his saved note and feedback are there after relaunch", t0)

    # 7. the student's kernel: course yes, autograder no, nothing of the grader readable
    seen = probe(pages[ben], h, ben)
    assert seen["course"] and seen["autograder"] is None, seen
    assert seen["readable"] == [] and seen["found"] == [], seen
    t0 = _step(f"student kernel probe (disk walk {seen['walk_s']} s)", t0)

    # 8. restart: hub sqlite, gradebook and exchange on disk; ada logs in again and reads the same feedback
    for pg in pages.values():
        pg.context.close()
    prof.context.close()
    hub.stop()
    restarted = hubrun.start(h)
    hub.proc = restarted.proc
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{h.course_dir / 'gradebook.db'}", h.course_id) as gb:
        got = {s: gb.find_submission(ASSIGNMENT, s).score for s in (ada, ben)}
    assert got == {ada: 17.0, ben: 12.0}, got
    assert len(list((h.exchange / h.course_id / "inbound").iterdir())) == 3
    again = login(browser, h, ada)
    again.wait_for_url(re.compile(rf".*/user/{ada}/lab.*"), timeout=120_000)
    (html,) = (h.home(ada) / h.course_id / ASSIGNMENT / "feedback").glob("*/*.html")
    resp = again.goto(f"{h.url}/user/{ada}/files/{html.relative_to(h.home(ada))}")
    assert resp.status == 200 and score(again.locator("body").inner_text()) == (17.0, 19.0)
    again.context.close()
    _step("hub restarted: submissions, grades and logins kept", t0)


def test_make_hub_prints_the_url_and_logins_and_stops_on_ctrl_c():
    """``make hub``'s command in the foreground: the banner names the URL, the formgrader and the demo logins, the login
    page answers, and Ctrl-C (SIGINT) stops the hub, its proxy, the formgrader service and the culler, exit code 0."""
    import signal
    import sys
    import urllib.request
    root, prefix = Path(f"/srv/bpfs-hub-cli-{uuid.uuid4().hex[:6]}"), "bpfs-hub-c-"
    common = ["--root", str(root), "--prefix", prefix, "--hide", str(ROOT.parent)]
    cmd = [sys.executable, "-m", "autograder", "hub", "run", *common, "--port", "0", "--assignment", ASSIGNMENT]
    # Ctrl-C as in a terminal, even when this run inherited SIGINT ignored (a background job without job control)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        said, deadline = [], time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            said.append(line)
            if "Ctrl-C stops" in line:
                break
        text = "".join(said)
        assert "Ctrl-C stops" in text, text[-3000:]
        url = re.search(r"(http://127\.0\.0\.1:\d+)/hub/login", text).group(1)
        assert f"{url}/services/backprop-from-scratch/formgrader" in text, text
        for who in ("prof", "ta", "ada", "ben", "cy"):
            assert f" {prefix}{who}" in text, (who, text)
        assert "DEMO" in text and "password" in text, text
        with urllib.request.urlopen(f"{url}/hub/login", timeout=10) as r:
            assert r.status == 200
        assert _pids("jupyterhub-singleuser", f"{prefix}grader"), "the formgrader service should be running"
        started = _started_by(root)
        assert len(started) >= 2, f"the hub and its proxy should be running: {started}"
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0, rest
        assert "stopped (jupyterhub exit code" in rest, rest
        assert not _pids("jupyterhub-singleuser", f"{prefix}grader"), "the formgrader service outlived the hub"
        assert not _started_by(root), f"a process of the hub outlived Ctrl-C: {_started_by(root)}"
        try:
            urllib.request.urlopen(f"{url}/hub/login", timeout=5)
            raise AssertionError("the hub still answers after Ctrl-C")
        except OSError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run([sys.executable, "-m", "autograder", "hub", "teardown", *common], cwd=ROOT, capture_output=True,
                       timeout=120)
