"""pyproject.toml is the one list of dependencies; environment.yml must give conda users the same set."""
import re
import tomllib

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
