"""Make student-like submissions from a source notebook: correct, blank, with a planted bug, or with parts left blank.

The demo class, the pipeline tests and ``python -m autograder selftest`` all use these, so the submissions they grade
are built the same way. Solution cells are found by their nbgrader ``grade_id``.
"""
from __future__ import annotations

import copy
import re

import nbformat
from nbgrader.preprocessors import ClearSolutions

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def solution_code(source: str) -> str:
    """A solution cell's code as a student who got it right would write it: the markers removed."""
    return "\n".join(ln for ln in source.splitlines() if not _MARKER.match(ln))


def stub_code(source: str) -> str:
    """The cell as released: every solution region replaced by nbgrader's own stub."""
    cell = nbformat.v4.new_code_cell(source)
    ClearSolutions()._replace_solution_region(cell, "python")
    return cell.source


def solution_cells(nb) -> dict[str, str]:
    """grade_id -> source, for every solution cell of a notebook."""
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            out[meta["grade_id"]] = cell.source
    return out


def fill(nb, source_nb, blank_cells=(), bug: dict | None = None):
    """A copy of ``nb`` (a release or source notebook) whose solution cells hold the source's solution code,
    except ``blank_cells`` (left as the release stub) and the ``bug`` (a dict with cell/old/new) planted in one cell."""
    answers = solution_cells(source_nb)
    out = copy.deepcopy(nb)
    for cell in out.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("solution") and cell.cell_type == "code"):
            continue
        gid = meta["grade_id"]
        if gid in blank_cells:
            cell.source = stub_code(answers[gid])
            continue
        code = solution_code(answers[gid])
        if bug and bug["cell"] == gid:
            if code.count(bug["old"]) != 1:
                raise ValueError(f"bug text {bug['old']!r} must occur exactly once in cell {gid}")
            code = code.replace(bug["old"], bug["new"])
        cell.source = code
    return out


def blank(nb, source_nb):
    """Every solution cell left as released."""
    return fill(nb, source_nb, blank_cells=list(solution_cells(source_nb)))
