"""Measure false rejects: re-run every graded test cell of a source notebook many times on its own solution.

    python -m autograder selftest --repeat N [--cases K] [NOTEBOOK ...]

The solution notebook (``variants.fill``) is executed once, under NBGRADER_EXECUTION=autograde, in one kernel; then
each graded test cell is executed again N times in that kernel (and more, until it has drawn at least K random cases
when ``--cases`` is given). Every run draws fresh random cases. A run is a false reject when it fails the way nbgrader
would score it zero: an exception, or anything written to stderr (warnings are shown every time, not once).

Cases are counted honestly: ``autograder.checks._core.Case.drawn`` is read before and after each run, so a "case" is
one ``Case()`` the check made and judged (a check that draws nothing, such as a fixed set of letters, shows 0).
Prints one row per test cell (runs, cases, false rejects, seconds, the first failure) and a total line.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .selftest import CHECKOUT, kernel_env
from .variants import fill

#: Defines the in-kernel loop; ``_call`` appends the call for one test cell. Prints one JSON line.
_DRIVER = r'''
def __repeat_cell(src, runs, min_cases, max_runs):
    import contextlib, io, json, sys, time, warnings
    import autograder
    from autograder.checks._core import Case
    code = compile(src, "<test cell>", "exec")
    ns = get_ipython().user_ns
    n = fails = 0
    first = ""
    c0, t0 = Case.drawn, time.perf_counter()
    while n < runs or (0 < Case.drawn - c0 < min_cases and n < max_runs):  # a check that draws none: N runs
        err = io.StringIO()
        msg = ""
        try:
            with contextlib.redirect_stderr(err), warnings.catch_warnings():
                warnings.simplefilter("always")
                exec(code, ns)
        except BaseException as e:  # noqa: BLE001 -- every way a test cell can fail counts
            msg = f"{type(e).__name__}: {e}"
        if not msg and err.getvalue():
            msg = "wrote to stderr: " + err.getvalue().strip()
        if msg:
            fails += 1
            first = first or msg.splitlines()[0][:400]
        n += 1
    print("@@REPEAT " + json.dumps({"runs": n, "cases": Case.drawn - c0, "fails": fails, "first": first,
                                   "seconds": time.perf_counter() - t0,
                                   "package": autograder.__file__}))
'''


def _call(src: str, runs: int, min_cases: int, max_runs: int) -> str:
    return _DRIVER + f"__repeat_cell({src!r}, {runs}, {min_cases}, {max_runs})\n"


def _test_cells(nb) -> list[tuple[int, str]]:
    return [(i, c.metadata["nbgrader"]["grade_id"]) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _result(cell) -> dict:
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":
            for line in out.text.splitlines():
                if line.startswith("@@REPEAT "):
                    return json.loads(line[len("@@REPEAT "):])
    errors = [f"{o.ename}: {o.evalue}" for o in cell.get("outputs", []) if o.output_type == "error"]
    raise RuntimeError(f"the repeat driver printed no result ({errors or 'no error shown'})")


def repeat_notebook(path: Path, runs: int, min_cases: int = 0, max_runs: int = 10_000_000, out=print) -> list[dict]:
    """Rows {notebook, check, runs, cases, fails, first, seconds}, one per graded test cell of ``path``."""
    path = Path(path)
    source = nbformat.read(path, as_version=4)
    nb = nbformat.from_dict(fill(source, source))
    rows = []
    with kernel_env():
        client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
            client.timeout = None  # one driver cell may run for hours
            for i, grade_id in _test_cells(nb):
                driver = nbformat.v4.new_code_cell(_call(nb.cells[i].source, runs, min_cases, max_runs))
                nb.cells.append(driver)  # nbclient stores the executed cell back into the notebook at its index
                client.execute_cell(driver, len(nb.cells) - 1)
                row = dict(notebook=path.stem, check=grade_id, **_result(driver))
                if not row.pop("package").startswith(CHECKOUT):
                    raise RuntimeError(f"the kernel imported autograder from outside {CHECKOUT}")
                rows.append(row)
                out(_format(row))
    return rows


HEADER = f"{'notebook':22s} {'check':28s} {'runs':>8s} {'cases':>9s} {'false rejects':>13s} {'seconds':>8s}"


def _format(row: dict) -> str:
    line = (f"{row['notebook'][:22]:22s} {row['check'][:28]:28s} {row['runs']:8d} {row['cases']:9d} "
            f"{row['fails']:13d} {row['seconds']:8.1f}")
    return line + (f"\n    first failure: {row['first']}" if row["fails"] else "")


def main(paths, runs: int, min_cases: int = 0) -> int:
    """Print the table; exit status 1 if any run of any check failed."""
    if not paths:
        root = Path(__file__).resolve().parents[2] / "source"
        paths = sorted(root.glob("*/*.ipynb"))
    print(HEADER, flush=True)
    t0 = time.perf_counter()
    rows = []
    for p in paths:
        rows += repeat_notebook(Path(p), runs, min_cases, out=lambda s: print(s, flush=True))
    fails = sum(r["fails"] for r in rows)
    drawing = [r for r in rows if r["cases"]]
    print(f"total: {len(rows)} checks, {sum(r['runs'] for r in rows)} runs, {sum(r['cases'] for r in rows)} random "
          f"cases (fewest in a check that draws any: {min((r['cases'] for r in drawing), default=0)}), "
          f"{fails} false rejects, {time.perf_counter() - t0:.0f} s", flush=True)
    return 1 if fails else 0
