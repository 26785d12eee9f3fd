"""What starting a Jupyter or nbgrader process costs, with autograder/deferred_imports.py and without it (the
baseline: the same command with BACKPROP_EAGER_IMPORTS=1), side by side in one run; and the gradebook's alembic
revision read in-process (``nbg.alembic_head``) against nbgrader's ``alembic heads`` program.

Each command runs ``--reps`` times (default 5), the two ways taking turns; the figure is the minimum CPU (user +
system of the child, from ``resource.getrusage(RUSAGE_CHILDREN)``), which a busy machine disturbs least.

    .venv/bin/python benchmarks/startup.py            # --quick: one repetition of two commands (smoke run)
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402,F401  (puts the repo on sys.path)

from autograder import deferred_imports  # noqa: E402
from autograder.grading import nbg  # noqa: E402

BIN = os.path.dirname(sys.executable)
COMMANDS = [
    ("import jsonschema", [sys.executable, "-c", "import jsonschema"]),
    ("import nbgrader.apps (each grading worker, each nbgrader command)", [sys.executable, "-c", "import nbgrader.apps"]),
    ("nbgrader --version", [os.path.join(BIN, "nbgrader"), "--version"]),
    ("jupyter lab --version (imports the server's extensions' schemas)",
     [os.path.join(BIN, "jupyter-lab"), "--version"]),
]


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_of(cmd: list[str], env: dict) -> float:
    before = child_cpu()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return child_cpu() - before


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smoke run: one repetition of two commands")
    args = ap.parse_args(argv)
    reps = 1 if args.quick else args.reps
    commands = [COMMANDS[0], COMMANDS[2]] if args.quick else COMMANDS
    print(f"# benchmarks/startup.py: process start CPU, deferred rfc3987_syntax vs eager; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"hook: {deferred_imports.status()}")
    if not deferred_imports.status().startswith("installed"):
        print("RATIO startup CPU deferred/eager: n/a (the hook is not installed in this venv: "
              "python -m autograder.deferred_imports install)")
        return 1
    deferred = nbg.env({})
    deferred.pop(deferred_imports.OFF_ENV, None)
    eager = {**deferred, deferred_imports.OFF_ENV: "1"}
    total_new = total_old = 0.0
    for name, cmd in commands:
        new, old = [], []
        for _ in range(reps):
            new.append(cpu_of(cmd, deferred))
            old.append(cpu_of(cmd, eager))
        total_new, total_old = total_new + min(new), total_old + min(old)
        print(f"{name}: {min(new):.3f} s deferred, {min(old):.3f} s eager (CPU, min of {reps})")
    print(f"RATIO startup CPU deferred/eager [the {len(commands)} commands above, summed]: "
          f"{total_new / total_old:.2f} ({total_new:.2f} s / {total_old:.2f} s)")

    from nbgrader.dbutil import _temp_alembic_ini
    program = []
    with _temp_alembic_ini("sqlite:////tmp/bpfs-startup-probe.db") as ini:
        for _ in range(reps):
            program.append(cpu_of([os.path.join(BIN, "alembic"), "-c", ini, "heads"], deferred))
    t = time.process_time()
    nbg.alembic_head()
    inproc = time.process_time() - t
    print(f"RATIO new gradebook's revision in-process/alembic program [CPU; program: min of {reps}, with the hook]: "
          f"{inproc / min(program):.2f} ({inproc:.3f} s in a process that has imported nbgrader, against "
          f"{min(program):.3f} s for `alembic heads`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
