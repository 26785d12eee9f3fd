"""The hub's two venvs, built with uv (``uv venv``, ``uv pip install``: about 15 s each from a cold cache, where pip
took 50 s) and rebuilt only when what they hold changes (a stamp of its hash).

* the **hub venv**: JupyterHub, its proxy, nbgrader and this course installed *non-editable* with the ``hub`` extra,
  so ``autograder`` (reference, checks) lives in it and nowhere the students can read: that folder is root:graders
  0750; the rest of the venv is 0755, for the sandboxed kernels the course grader runs from it.
* the **student venv**: what a student's server and kernel need and nothing of the grader: ``jupyterhub-singleuser``,
  JupyterLab, nbgrader's lab extensions (the formgrader disabled) and ``course/`` alone, built as its own small
  distribution (``backprop-course``) from a copy of the folder. Mode 0755: every student runs it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: a Python every account can run (pyenv's under /root is not): the venvs' base interpreter
BASE_PYTHON = os.environ.get("BPFS_HUB_PYTHON", "/usr/bin/python3")
STUDENT_PACKAGES = ["jupyterhub==6.1.1", "jupyterlab>=4.2,<5", "nbgrader==0.9.6", "ipykernel"]
#: course/'s own dependencies (what the notebooks import); the pyproject of the ``backprop-course`` distribution
COURSE_DEPS = ["numpy>=1.26", "matplotlib>=3.8", "ipywidgets>=8.1", "mlxtend>=0.23"]
COURSE_PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "backprop-course"
version = "0.1.0"
description = "The students' side of Backprop from Scratch: data sets, figures, the learning-rate explorer."
requires-python = ">=3.11"
dependencies = {deps}

[tool.setuptools.packages.find]
include = ["course*"]
"""


def _digest(paths: list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for top in paths:
        files = sorted(p for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if top.is_dir() \
            else [top]
        for f in files:
            h.update(str(f.relative_to(top.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _fresh(env: Path, digest: str) -> bool:
    stamp = env / ".bpfs-stamp"
    return stamp.exists() and stamp.read_text().strip() == digest and (env / "bin" / "python").exists()


def _uv() -> str:
    """The ``uv`` program of the ``hub`` extra (installed into the course's own venv by ``make``)."""
    try:
        from uv import find_uv_bin
    except ImportError as e:
        raise RuntimeError("the hub's venvs are built with uv: install the course with its hub extra "
                           "(pip install -e '.[hub]'; make does)") from e
    return find_uv_bin()


def _venv(env: Path, log) -> Path:
    if not (env / "bin" / "python").exists():
        log(f"creating {env}")
        subprocess.run([_uv(), "venv", "--quiet", "--python", BASE_PYTHON, str(env)], check=True)
    return env / "bin" / "python"


def _install(env: Path, *args: str) -> None:
    """``uv pip install`` into ``env``, bytecode compiled (the venvs are read-only to the users who run them)."""
    subprocess.run([_uv(), "pip", "install", "--quiet", "--compile-bytecode", "--python", str(env / "bin" / "python"),
                    *args], check=True)


def build_hub_env(env: Path, checkout: Path, group: str, log=print) -> Path:
    """JupyterHub + proxy + nbgrader + the course (non-editable, ``[hub]`` extra); its ``autograder`` root:``group``."""
    digest = _digest([checkout / "pyproject.toml", checkout / "autograder", checkout / "course"], "hub")
    if not _fresh(env, digest):
        _venv(env, log)
        with tempfile.TemporaryDirectory() as tmp:   # a copy: pip never writes build/ into the checkout
            src = Path(tmp) / "src"
            src.mkdir()
            for name in ("pyproject.toml", "README.md"):
                shutil.copy2(checkout / name, src / name)
            for name in ("autograder", "course"):
                shutil.copytree(checkout / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
            log(f"installing the course with its hub extra into {env} (non-editable)")
            _install(env, "--reinstall-package", "backprop-from-scratch", f"{src}[hub]")
        (env / ".bpfs-stamp").write_text(digest)
    _defer_imports(env)
    _lock_down(env, group)
    return env


def build_student_env(env: Path, checkout: Path, log=print) -> Path:
    """The students' venv: their server, nbgrader's student extensions and ``backprop-course``; no ``autograder``."""
    digest = _digest([checkout / "course"], " ".join(STUDENT_PACKAGES + COURSE_DEPS))
    if not _fresh(env, digest):
        _venv(env, log)
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "backprop-course"
            src.mkdir()
            (src / "pyproject.toml").write_text(COURSE_PYPROJECT.format(deps=json.dumps(COURSE_DEPS)))
            shutil.copytree(checkout / "course", src / "course", ignore=shutil.ignore_patterns("__pycache__"))
            log(f"installing the student environment into {env} (course/ only, non-editable)")
            _install(env, "--reinstall-package", "backprop-course", *STUDENT_PACKAGES, str(src))
        jupyter = str(env / "bin" / "jupyter")
        run = dict(check=True, capture_output=True, env={**os.environ, "PATH": f"{env / 'bin'}:{os.environ['PATH']}"})
        # nbgrader's formgrader is the instructor's: off in every server that runs from this venv.
        subprocess.run([jupyter, "labextension", "disable", "--level=sys_prefix", "nbgrader:formgrader"],
                       **run)
        subprocess.run([jupyter, "labextension", "disable", "--level=sys_prefix",
                        "nbgrader:create-assignment"], **run)
        subprocess.run([jupyter, "server", "extension", "disable", "--sys-prefix",
                        "nbgrader.server_extensions.formgrader"], **run)
        leaked = subprocess.run([str(env / "bin" / "python"), "-I", "-c", "import autograder"], capture_output=True,
                                cwd="/")
        if leaked.returncode == 0:
            raise RuntimeError(f"{env} can import autograder: the student environment must not")
        (env / ".bpfs-stamp").write_text(digest)
    _defer_imports(env)
    for p in [env, *env.rglob("*")]:   # readable by everyone, writable by root only
        if not p.is_symlink():
            p.chmod((p.stat().st_mode | 0o444 | (0o111 if p.is_dir() else 0)) & ~0o022)
    return env


def _defer_imports(env: Path) -> None:
    """autograder/deferred_imports.py into the venv's site-packages (standard library only; nothing of the grader):
    each JupyterHub, single-user server and nbgrader process started from it spends about 1.1 s less CPU."""
    from .. import deferred_imports

    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(env / "bin" / "python"), "-I", "-c", where], check=True, capture_output=True,
                          text=True).stdout.strip()
    deferred_imports.install(site)


def _lock_down(env: Path, group: str) -> None:
    """The grader's package in the hub venv (``site-packages/autograder``: the reference, the checks, the demo class)
    is root and ``group`` only (0750). The rest of the venv stays readable: the course grader's sandbox runs every
    student kernel from this venv's Python as an unprivileged user with no groups, who must reach the interpreter and
    numpy but never the grader (the sandbox also hides that folder from kernels)."""
    import grp
    gid = grp.getgrnam(group).gr_gid
    env.chmod(0o755)
    packages = sorted(env.glob("lib/python3*/site-packages/autograder"))
    if not packages:
        raise RuntimeError(f"{env} has no autograder package to lock down")
    for pkg in packages:
        for p in [pkg, *pkg.rglob("*")]:
            if not p.is_symlink():
                os.chown(p, 0, gid)
                p.chmod(0o750 if p.is_dir() else 0o640)
