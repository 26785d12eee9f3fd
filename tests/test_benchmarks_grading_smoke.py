"""benchmarks/grading.py --quick runs end to end and prints its RATIO lines. The figures themselves are never asserted:
a test cannot know how busy the machine is."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RATIO = re.compile(r"^RATIO (.+?) \[(.+)\]: (\S+)", re.M)
CPU_LINE = re.compile(r"^CPU per submission: (\S+) s \(floor (\S+) s, ratio (\S+)\)", re.M)
FEEDBACK_LINE = re.compile(r"^feedback CPU per student: (\S+) s", re.M)

pytestmark = pytest.mark.slow


def test_grading_quick_prints_ratio_lines():
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    # one assignment, three submissions: the smoke run checks the script end to end, not the figures
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "grading.py"), "--quick", "-n", "3",
                           "--assignments", "01_chain_rule"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1800)
    out = proc.stdout
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out[-3000:]}\n{proc.stderr[-3000:]}"
    names = [m.group(1) for m in RATIO.finditer(out)]
    assert names.count("throughput CLI/sequential") == 3, out
    assert "floor CLI-worker/kernel" in names, out
    assert "hidden-test time/budget" in names, out
    for m in RATIO.finditer(out):
        float(m.group(3))  # a number, whatever its value
    cpu = CPU_LINE.search(out)
    assert cpu, out
    assert all(float(x) > 0 for x in cpu.groups()), cpu.group(0)
    feedback = FEEDBACK_LINE.search(out)
    assert feedback and float(feedback.group(1)) > 0, out
    assert "kernel start + trivial one-cell notebook" in out
    assert "same scores both ways: yes" in out, "CLI and plain nbgrader should agree on every score"
