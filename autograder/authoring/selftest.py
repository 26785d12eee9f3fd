"""Grade a source notebook against itself, without nbgrader's database: a quick check for authors.

    python -m autograder selftest source/01_chain_rule/01_chain_rule.ipynb

Runs four variants under NBGRADER_EXECUTION=autograde, hidden tests included, and scores each test cell the way
nbgrader does (zero on an error or any stderr output): the solution must get full marks, the blank notebook zero, the
checks module's DEMO_BUG must lose exactly its ``loses`` cells, and BROKEN_PART exactly its own. Exit status 1 if not.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from ..checks import checks_module
from .variants import blank, fill


#: The checkout this process imported ``autograder`` from. Kernels get it first on PYTHONPATH, so a selftest run from
#: a worktree tests that worktree's checks, not whichever copy is installed (editable) in the environment.
CHECKOUT = str(Path(__file__).resolve().parents[2])


class kernel_env:
    """Context: NBGRADER_EXECUTION=autograde and this checkout first on PYTHONPATH, for the kernels started inside."""

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in ("NBGRADER_EXECUTION", "PYTHONPATH")}
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (CHECKOUT, self.saved["PYTHONPATH"]) if p)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(nb, cwd: Path, timeout: int = 120):
    """Execute a notebook copy as the autograder would. Returns (notebook, seconds)."""
    nb = nbformat.from_dict(nb)
    with kernel_env():
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(cwd)}}).execute()
        return nb, time.perf_counter() - t0


def score_cells(nb) -> dict[str, tuple[float, float, str]]:
    """grade_id -> (earned, possible, first line of the failure) for every autograded test cell."""
    scores = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("grade") and cell.cell_type == "code"):
            continue
        failure = ""
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                failure = f"{out.ename}: {out.evalue}".splitlines()[0]
            elif out.output_type == "stream" and out.name == "stderr":
                failure = failure or "wrote to stderr: " + out.text.strip().splitlines()[0]
        pts = float(meta.get("points", 0))
        scores[meta["grade_id"]] = (0.0 if failure else pts, pts, failure)
    return scores


def failures_outside_tests(nb) -> list[str]:
    """Errors or stderr output in cells that are not test cells (a solution notebook must have none)."""
    bad = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "error" or (out.output_type == "stream" and out.name == "stderr"):
                text = out.get("evalue") or out.get("text", "")
                bad.append(f"cell {i}: {text.strip()[:200]}")
    return bad


def selftest(path: Path) -> bool:
    path = Path(path)
    source = nbformat.read(path, as_version=4)
    mod = checks_module(path.parent.name)
    cwd = path.parent
    ok = True
    variants = {
        "solution": (fill(source, source), []),
        "blank": (blank(source, source), None),
        "demo bug": (fill(source, source, bug=mod.DEMO_BUG), mod.DEMO_BUG["loses"]),
        "broken part": (fill(source, source, blank_cells=mod.BROKEN_PART["cells"]), mod.BROKEN_PART["loses"]),
    }
    for name, (nb, expected_failures) in variants.items():
        done, seconds = execute(nb, cwd)
        scores = score_cells(done)
        earned = sum(s[0] for s in scores.values())
        possible = sum(s[1] for s in scores.values())
        failed = sorted(g for g, s in scores.items() if s[0] < s[1])
        if expected_failures is None:
            good = earned == 0
        else:
            good = failed == sorted(expected_failures)
        if name == "solution":
            stray = failures_outside_tests(done)
            if stray:
                good = False
                print("  errors outside test cells:", *stray, sep="\n    ")
        ok &= good
        print(f"{'ok ' if good else 'BAD'} {name:12s} {earned:g}/{possible:g} in {seconds:.1f}s; failed: {failed or '-'}")
        for g in failed:
            print(f"      {g}: {scores[g][2][:300]}")
    return ok


def main(argv=None) -> int:
    paths = (argv if argv is not None else sys.argv[1:])
    ok = all([selftest(Path(p)) for p in paths])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
