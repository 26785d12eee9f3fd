"""Each benchmark runs with --quick and prints its RATIO lines. Speed itself is never asserted here: the figures
are the benchmarks' business (docs/performance.md), and a test cannot know how busy the machine is."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
RATIO = re.compile(r"^RATIO (.+?) \[(.+)\]: (\S+)", re.M)


def run(args, timeout=180, **kw):
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
                          **kw)
    assert proc.returncode == 0, f"{args} exited with {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def ratios(out):
    return [(m.group(1), m.group(2), m.group(3)) for m in RATIO.finditer(out)]


def test_trainer_quick_prints_both_target_ratios():
    out = run([str(BENCH / "trainer.py"), "--quick"])
    found = ratios(out)
    names = {name for name, _, _ in found}
    assert {"numpy/torch", "numpy/floor"} <= names, out
    assert "784-16-16-10, batch 32, float64" in out and "784-128-64-10, batch 128, float64" in out
    assert "kernel=" in out, "the BLAS kernel threadpoolctl reports should be printed"
    if os.environ.get("OPENBLAS_CORETYPE"):  # then the run with OPENBLAS_* unset is reported too
        assert "OPENBLAS_* unset" in out, out


def test_trainer_runs_without_torch_and_says_so():
    # sys.modules["torch"] = None makes `import torch` fail, as if it were not installed.
    code = ("import sys, runpy; sys.modules['torch'] = None; "
            f"sys.argv = [{str(BENCH / 'trainer.py')!r}, '--quick', '--no-env-compare']; "
            f"runpy.run_path({str(BENCH / 'trainer.py')!r}, run_name='__main__')")
    out = run(["-c", code])
    lines = dict(((n, w), v) for n, w, v in ratios(out))
    torch_lines = [v for (n, _), v in lines.items() if n == "numpy/torch"]
    assert torch_lines == ["n/a"], out
    assert "torch not measured" in out and "not installed" in out
    assert any(n == "numpy/floor" for n, _ in lines), out


def test_startup_quick_prints_the_deferred_import_and_alembic_ratios():
    out = run([str(BENCH / "startup.py"), "--quick"])
    names = [n for n, _, _ in ratios(out)]
    assert names == ["startup CPU deferred/eager", "new gradebook's revision in-process/alembic program"], out


def test_numgrad_quick_prints_ratios():
    out = run([str(BENCH / "numgrad.py"), "--quick"])
    found = ratios(out)
    assert len(found) >= 3 and all(n == "numerical/backprop" for n, _, _ in found), out
    assert any("784-16-16-10" in w for _, w, _ in found), out


@pytest.mark.slow
def test_notebooks_quick_prints_ratios_or_skips():
    out = run([str(BENCH / "notebooks.py"), "--quick"], timeout=600)
    found = ratios(out)
    assert any(n.startswith("solution") for n, _, _ in found), out
    if "no notebook to measure" not in out:
        assert any(n.startswith("hidden-test") for n, _, _ in found), out


@pytest.mark.browser
@pytest.mark.slow
def test_explorer_quick_prints_the_two_lines_and_ratios():
    """benchmarks/explorer.py --quick: JupyterLab and chromium, 2 slider moves each way (needs Debian's chromium)."""
    out = run([str(BENCH / "explorer.py"), "--quick"], timeout=300)
    assert re.search(r"^bowl: median \d+ ms, p95 \d+ ms", out, re.M), out
    assert re.search(r"^digits: median \d+ ms, p95 \d+ ms", out, re.M), out
    assert "load average" in out
    names = {name for name, _, _ in ratios(out)}
    assert {"bowl new/rebuild", "digits new/rebuild"} <= names, out
