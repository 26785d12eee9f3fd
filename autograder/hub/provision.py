"""Setting up (and tearing down) a demo hub as root: system users and groups, private homes, the shared exchange,
the grader's course directory with the assignments generated, each user's nbgrader config, and the two venvs.

Every step is idempotent: running it again reuses users, homes, the gradebook and every submission.
"""
from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from ..grading import nbg
from . import envs
from .layout import Hub

STUDENT_CONFIG = """# Written by `python -m autograder hub setup`: a student's nbgrader config (course, exchange), nothing else.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.Exchange.path_includes_course = True
c.Exchange.timezone = "UTC"
"""
GRADER_CONFIG = """# Written by `python -m autograder hub setup`: the grader account's nbgrader config.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {course_dir!r}
c.CourseDirectory.course_id = {course_id!r}
"""


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def ensure_group(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _sh("groupadd", name)
        return grp.getgrnam(name).gr_gid


def ensure_user(name: str, home: Path, groups: list[str] = ()) -> pwd.struct_passwd:
    """A system account (its own group, no password: only the hub logs it in), home ``home`` mode 0700."""
    try:
        pw = pwd.getpwnam(name)
        if pw.pw_dir != str(home):
            _sh("usermod", "-d", str(home), name)
    except KeyError:
        _sh("useradd", "-M", "-U", "-d", str(home), "-s", "/bin/bash", name)
    if groups:
        _sh("usermod", "-a", "-G", ",".join(groups), name)
    pw = pwd.getpwnam(name)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    home.chmod(0o700)
    return pw


def _write_as(pw: pwd.struct_passwd, path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    for p in [path, *path.parents]:
        if p == Path(pw.pw_dir) or not str(p).startswith(pw.pw_dir):
            break
        os.chown(p, pw.pw_uid, pw.pw_gid)


def chown_tree(top: Path, pw: pwd.struct_passwd) -> None:
    for p in [top, *top.rglob("*")]:
        os.lchown(p, pw.pw_uid, pw.pw_gid)


def as_user(pw: pwd.struct_passwd, argv: list[str], cwd: Path, env: dict, timeout: float = 300):
    """``argv`` run as ``pw`` (setpriv: its uid, gid and groups), HOME its home."""
    e = {**env, "HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name}
    cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--", *argv]
    return subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


def grader_env(hub: Hub) -> dict:
    return {"PATH": f"{hub.hub_env / 'bin'}:/usr/local/bin:/usr/bin:/bin", "BACKPROP_EXCHANGE": str(hub.exchange),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


#: where no clone of the course is looked for: the kernel's file systems and the system's own trees
_NOT_SEARCHED = ("/proc", "/sys", "/dev", "/run", "/usr", "/var/lib", "/var/cache", "/boot")


def course_checkouts(top: str = "/", skip: tuple[str, ...] = ()) -> list[str]:
    """Every git checkout of this course on the machine (a folder with ``.git`` and ``autograder/reference/mlp.py``):
    a TA's clone, a CI clone, a developer's worktree. ``make hub`` hides them all from students' servers; a few
    seconds of walking the disk as root (venvs and caches are not entered)."""
    found, skip = [], tuple(s.rstrip("/") for s in skip)
    for here, dirs, files in os.walk(top):
        if here.startswith(_NOT_SEARCHED) or here in skip or here.startswith(tuple(s + "/" for s in skip)):
            dirs[:] = []
            continue
        if ".git" in dirs + files and os.path.isfile(os.path.join(here, "autograder", "reference", "mlp.py")):
            found.append(here)
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d not in ("node_modules", "site-packages", ".git", "__pycache__")]
    return sorted(found)


def hidden_dirs(hub: Hub, wanted: list[str], log=print) -> list[str]:
    """``wanted`` plus every checkout of the course on the machine, less any folder that holds the hub's own data or
    venvs (hiding it would hide the homes or the student venv from the servers themselves)."""
    ours = [hub.root.resolve(), hub.envs.resolve()]
    out = []
    for d in sorted({*map(str, wanted), *course_checkouts(skip=tuple(map(str, ours)))}):
        p = Path(d).resolve()
        if p == Path("/") or any(p == o or p in o.parents for o in ours):
            log(f"warning: not hiding {p}: it holds the hub's data or venvs")
            continue
        out.append(str(p))
    return out


def setup(hub: Hub, checkout: Path = nbg.ROOT, assignments: list[str] | None = None, log=print) -> Hub:
    if os.geteuid() != 0:
        raise SystemExit("the hub creates system users and runs each of them: run it as root")
    checkout = Path(checkout).resolve()
    for d, mode in ((hub.root, 0o755), (hub.root / "homes", 0o755), (hub.state, 0o700), (hub.envs, 0o755)):
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(mode)
    hub.exchange.mkdir(exist_ok=True)
    hub.exchange.chmod(0o777)                       # nbgrader's docs: the exchange root is ugo+rw
    ensure_group(hub.graders_group)
    envs.build_hub_env(hub.hub_env, checkout, hub.graders_group, log)
    envs.build_student_env(hub.student_env, checkout, log)

    grader = ensure_user(hub.grader, hub.home(hub.grader), [hub.graders_group])
    for user in hub.people:
        pw = ensure_user(user, hub.home(user))
        _write_as(pw, Path(pw.pw_dir) / ".jupyter" / "nbgrader_config.py",
                  STUDENT_CONFIG.format(course_id=hub.course_id, exchange=str(hub.exchange)))

    # The grader's course directory: nbgrader_config.py and source/ from the checkout, the gradebook kept.
    course = hub.course_dir
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(checkout / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(checkout / "source", course / "source", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    _write_as(grader, Path(grader.pw_dir) / ".jupyter" / "nbgrader_config.py",
              GRADER_CONFIG.format(course_dir=str(course), course_id=hub.course_id))
    chown_tree(Path(grader.pw_dir), grader)
    names = assignments or sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    nbgrader = str(hub.hub_env / "bin" / "nbgrader")
    for student in hub.student_users:
        as_user(grader, [nbgrader, "db", "student", "add", student], course, grader_env(hub))
    for a in names:
        if (course / "release" / a).is_dir():
            continue
        res = as_user(grader, [nbgrader, "generate_assignment", a, "--force"], course, grader_env(hub), timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"generate_assignment {a} failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
        log(f"generated {a} in {course / 'release' / a} (ready to release from the formgrader)")

    # The checkout holds source/, solutions/ and the reference: students must not read it. Their servers run with
    # the ``hide`` directories covered (jupyterhub_config.py); the checkout's own mode is left alone, because the
    # course grader's sandbox runs each kernel as an unprivileged user from the checkout's venv, and a private
    # checkout would leave that user no way to the Python it runs (every kernel would die).
    if not any(checkout == Path(h).resolve() or Path(h).resolve() in checkout.parents for h in hub.hide):
        log(f"warning: the checkout {checkout} is not under a hidden directory ({hub.hide or 'none'}): every "
            f"student's server can read what its mode allows (--hide {checkout.parent})")
    hub.save()
    return hub


def teardown(hub: Hub, remove_data: bool = True) -> None:
    """Delete the hub's users (and, with ``remove_data``, its root). The venvs under ``envs`` stay for reuse."""
    for user in [*hub.people, hub.grader]:
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        subprocess.run(["userdel", user], capture_output=True)
        try:
            grp.getgrnam(user)
            subprocess.run(["groupdel", user], capture_output=True)
        except KeyError:
            pass
    if remove_data and hub.root.exists():
        shutil.rmtree(hub.root)
