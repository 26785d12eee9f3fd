"""Packaging: pyproject.toml is the one list of dependencies (environment.yml gives conda users the same set), and
the package builds without setuptools warnings and works installed from its wheel, away from the checkout."""
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import ROOT


def _norm(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    name = m.group(1).lower().replace("_", "-")
    return name, m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_norm(s) for s in project["dependencies"] + project["optional-dependencies"]["browser"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    got = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            got.update(_norm(s) for s in dep["pip"])
        elif not dep.startswith(("python=", "pip")) or dep.startswith("pip:"):
            got.update([_norm(dep)])
    assert got == wanted, f"environment.yml and pyproject.toml disagree: only in yml {set(got.items()) - set(wanted.items())}, " \
                          f"only in pyproject {set(wanted.items()) - set(got.items())}"


def test_required_dependencies_listed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_norm(s)[0] for s in project["dependencies"]}
    for needed in ["jupyterlab", "nbgrader", "numpy", "matplotlib", "ipywidgets", "pytest", "nbclient", "nbformat"]:
        assert needed in names, f"{needed} missing from pyproject dependencies"


# ---- the package itself: built and installed as a user would, not from the checkout

SETUPTOOLS_NOISE = ("would be ignored", "SetuptoolsDeprecationWarning", "_IncludePackageDataAbuse", "is deprecated")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel of the checkout, built offline with the venv's setuptools from a copy (setuptools writes build/ and
    *.egg-info/ next to the sources); its build log is checked too."""
    import shutil
    out, src = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("autograder", "course"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out),
                          str(src)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (whl,) = out.glob("*.whl")
    return whl, res.stdout + res.stderr


def test_building_prints_no_setuptools_warnings(wheel):
    _, log = wheel
    noisy = [ln for ln in log.splitlines() if any(n in ln for n in SETUPTOOLS_NOISE)]
    assert not noisy, "setuptools complained while building:\n" + "\n".join(noisy[:20])


def test_installed_wheel_runs_the_cli_and_finds_the_demo_class(wheel, tmp_path):
    """Into a fresh venv (the dependencies come from this venv's site-packages, read-only, without its editable
    finder), then run from a folder far from the checkout: the CLI starts and the demo class is package data."""
    whl, _ = wheel
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                          str(whl)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    # A plain path line: this venv's dependencies become importable, its .pth files (the editable finder) do not run.
    (Path(site) / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    help_ = subprocess.run([str(py), "-m", "autograder", "demo", "--help"], cwd=away, env=env,
                           capture_output=True, text=True, timeout=120)
    assert help_.returncode == 0 and "demo" in help_.stdout, help_.stderr[-2000:]
    probe = ("import autograder, json; from autograder.authoring.build import demo_class_dir; d = demo_class_dir(); "
             "print(json.dumps([autograder.__file__, str(d), sorted(p.name for p in d.iterdir()), "
             "len(list(d.glob('*/*/*.ipynb')))]))")
    res = subprocess.run([str(py), "-c", probe], cwd=away, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    where, demo_dir, students, notebooks = json.loads(res.stdout)
    assert where.startswith(site) and demo_dir.startswith(site), f"not the installed copy: {where}, {demo_dir}"
    assert students == ["ada", "ben", "cy", "dee"]
    assert notebooks == len(list((ROOT / "autograder" / "demo-class").glob("*/*/*.ipynb")))
