"""The course's running time: each solution notebook executed whole, and its hidden tests under autograde.

For every source/<assignment>/<assignment>.ipynb (the nbgrader source: solutions and hidden tests), with nbclient:

1. solution run: the notebook executed top to bottom as an instructor or a learner would run it (NBGRADER_EXECUTION
   unset, so training, widgets and sweeps run at full size). Wall time includes the kernel's start.
2. autograde run: the same notebook with NBGRADER_EXECUTION=autograde in the kernel's environment (what nbgrader
   sets when it grades, so heavy cells shrink). Every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block
   is timed on its own (a timer line is added around it in memory; the file is never written).

Targets (issue 8): the six solution notebooks together in at most 60 s; each notebook's hidden tests in at most 1 s.
Notebooks that do not exist yet are skipped with a message. The machine is shared: expect noise.

    .venv/bin/python benchmarks/notebooks.py                   # every notebook
    .venv/bin/python benchmarks/notebooks.py --quick           # smoke run: the first notebook that exists
    .venv/bin/python benchmarks/notebooks.py 03_gradient_checking
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

ASSIGNMENTS = ["01_chain_rule", "02_backprop_depth", "03_gradient_checking", "04_initialization",
               "05_regularization", "06_sgd_digits"]
SOLUTION_BUDGET_S = 60.0  # all six solution notebooks together
HIDDEN_BUDGET_S = 1.0     # hidden tests of one notebook
def source_path(name: str) -> str:
    return os.path.join(C.REPO, "source", name, f"{name}.ipynb")


def execute(nb, path_dir: str, grading: bool, timeout: int):
    """Run ``nb`` in a fresh python3 kernel; returns (wall seconds, errors, stderr snippets, executed nb)."""
    from nbclient import NotebookClient

    env = dict(os.environ)
    env.pop("NBGRADER_EXECUTION", None)
    if grading:
        env["NBGRADER_EXECUTION"] = "autograde"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, record_timing=True,
                            resources={"metadata": {"path": path_dir}})
    t = time.perf_counter()
    client.execute(env=env)
    wall = time.perf_counter() - t
    errors, stderr = [], []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", f"cell {i - 1}")  # 1 cell added
            if out.get("output_type") == "error":
                errors.append(f"{gid}: {out.get('ename')}: {str(out.get('evalue'))[:200]}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                stderr.append(f"{gid}: {out.get('text', '')[:200].strip()}")
    return wall, errors, stderr, nb


def bench_notebook(name: str, timeout: int) -> dict:
    import nbformat

    path = source_path(name)
    nb = nbformat.read(path, as_version=4)
    d = os.path.dirname(path)
    row = {"name": name}

    inst, n_hidden = C.instrument_hidden(nb)
    wall, errors, stderr, done = execute(copy.deepcopy(inst), d, grading=False, timeout=timeout)
    cells = [(C.cell_seconds(c), c.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {i - 1}")
             for i, c in enumerate(done.cells) if c.cell_type == "code" and 0 < i < len(done.cells) - 1]
    row.update(solution_wall=wall, solution_cells=sum(s for s, _ in cells), solution_errors=errors,
               solution_stderr=stderr, slowest_cell=max(cells, default=(0.0, "-")),
               solution_cpu=C.hidden_report(done).get("cpu", float("nan")))

    wall, errors, stderr, done = execute(inst, d, grading=True, timeout=timeout)
    rep = C.hidden_report(done)
    hidden = rep.get("hidden", {})
    row.update(autograde_wall=wall, autograde_errors=errors, autograde_stderr=stderr, n_hidden=n_hidden,
               autograde_cpu=rep.get("cpu", float("nan")), hidden=hidden,
               hidden_total=sum(w for w, _ in hidden.values()), hidden_cpu=sum(c for _, c in hidden.values()),
               slowest_hidden=max(((w, k) for k, (w, _) in hidden.items()), default=(0.0, "-")))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help=f"assignments (default: all of {', '.join(ASSIGNMENTS)})")
    ap.add_argument("--quick", action="store_true", help="smoke run: only the first notebook that exists")
    ap.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    args = ap.parse_args(argv)

    print("# benchmarks/notebooks.py: solution notebooks and hidden tests")
    print("\n".join(C.machine_lines()))
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as e:
        print(f"SKIP: nbclient/nbformat are not installed ({e}); nothing measured.")
        return 0
    names = args.names or ASSIGNMENTS
    extra = sorted(n for n in os.listdir(os.path.join(C.REPO, "source"))
                   if n not in names and os.path.isfile(source_path(n))) if not args.names else []
    present, missing = [], []
    for n in names + extra:
        (present if os.path.isfile(source_path(n)) else missing).append(n)
    for n in missing:
        print(f"SKIP {n}: {os.path.relpath(source_path(n), C.REPO)} does not exist yet (the notebook is still being "
              "written); not measured.")
    if args.quick:
        present = present[:1]
        print("--quick: only the first notebook that exists" + (f" ({present[0]})" if present else ""))
    if not present:
        print("no notebook to measure.")
        print(f"RATIO solution time/budget [0 of {len(ASSIGNMENTS)} notebooks]: n/a (none exists yet)")
        return 0

    rows = []
    with C.Threads(1):  # only the parent; kernels get their own environment (BLAS threads as configured)
        for n in present:
            print(f"running {n} ...", flush=True)
            rows.append(bench_notebook(n, args.timeout))

    print()
    print(C.table(
        ["notebook", "solution run: wall", "cells", "kernel CPU", "slowest cell", "autograde run: wall",
         "hidden blocks", "hidden tests: wall", "CPU", "slowest hidden block"],
        [[r["name"], f"{r['solution_wall']:.1f} s", f"{r['solution_cells']:.1f} s", f"{r['solution_cpu']:.1f} s",
          f"{r['slowest_cell'][1]} {r['slowest_cell'][0]:.1f} s", f"{r['autograde_wall']:.1f} s",
          f"{len(r['hidden'])}/{r['n_hidden']}", f"{r['hidden_total']:.2f} s", f"{r['hidden_cpu']:.2f} s",
          f"{r['slowest_hidden'][1]} {r['slowest_hidden'][0]:.2f} s"] for r in rows]))
    print("wall: the run's wall time, the kernel's start included; cells: the sum of the cells' own wall times;\n"
          "kernel CPU / CPU: CPU time of the kernel process (all its threads), which other jobs on a busy machine\n"
          "inflate much less than wall time")
    for r in rows:
        for kind in ("solution", "autograde"):
            for e in r[f"{kind}_errors"]:
                print(f"  ERROR in {r['name']} ({kind} run): {e}")
            for e in r[f"{kind}_stderr"]:
                print(f"  stderr in {r['name']} ({kind} run): {e}")
        if len(r["hidden"]) < r["n_hidden"]:
            print(f"  note: {r['name']}: {r['n_hidden'] - len(r['hidden'])} hidden block(s) did not finish "
                  "(an error inside them); their time is missing")
    print()
    total = sum(r["solution_wall"] for r in rows)
    total_cpu = sum(r["solution_cpu"] for r in rows)
    verdict = lambda t, budget: "met" if t <= budget else "NOT met"  # noqa: E731
    tail = f"; {len(missing)} notebook(s) missing" if missing else ""
    print(f"RATIO solution time/budget [{len(rows)} of {len(ASSIGNMENTS)} notebooks]: "
          f"{total / SOLUTION_BUDGET_S:.2f} (wall {total:.1f} s: {verdict(total, SOLUTION_BUDGET_S)}; kernel CPU "
          f"{total_cpu:.1f} s: {verdict(total_cpu, SOLUTION_BUDGET_S)}; budget {SOLUTION_BUDGET_S:.0f} s for all six"
          f"{tail})")
    for r in rows:
        h, hc = r["hidden_total"], r["hidden_cpu"]
        print(f"RATIO hidden-test time/budget [{r['name']}, NBGRADER_EXECUTION=autograde]: {h / HIDDEN_BUDGET_S:.2f} "
              f"(wall {h:.2f} s: {verdict(h, HIDDEN_BUDGET_S)}; CPU {hc:.2f} s: {verdict(hc, HIDDEN_BUDGET_S)}; "
              f"budget {HIDDEN_BUDGET_S:.0f} s)")
    try:
        load = os.getloadavg()[0]
        if load > (os.cpu_count() or 1):
            print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs at the end: wall times are inflated; "
                  "the CPU figures are the better guide")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
