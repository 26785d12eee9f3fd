"""Make student-like submissions from a source notebook: correct, blank, with a planted bug, or with parts left blank.

The demo class, the pipeline tests and ``python -m autograder selftest`` all use these, so the submissions they grade
are built the same way. Solution cells are found by their nbgrader ``grade_id``.
"""
from __future__ import annotations

import copy
import re

import nbformat
from nbgrader.preprocessors import ClearSolutions

from .nbauthor import MODEL_ANSWER, RUBRIC

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


def written_cells(nb) -> dict[str, str]:
    """grade_id -> source, for every written answer (a markdown solution cell, graded by a person)."""
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")}


def model_answer(source: str) -> str:
    """The model answer of a written answer's source cell: the text between "**Model answer.**" and the rubric."""
    head = source.split(RUBRIC, 1)[0]
    return head.replace(MODEL_ANSWER, "", 1).strip()


def fill(nb, source_nb, blank_cells=(), bug: dict | None = None, written: dict | None = None):
    """A copy of ``nb`` (a release or source notebook) whose solution cells hold the source's solution code,
    except ``blank_cells`` (left as the release stub) and the ``bug`` (a dict with cell/old/new) planted in one cell.
    Written answers get ``written[grade_id]`` when given, else the source's model answer (blank when in blank_cells)."""
    answers = solution_cells(source_nb)
    texts = written_cells(source_nb)
    out = copy.deepcopy(nb)
    for cell in out.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type == "markdown" and meta.get("solution") and gid in texts and gid not in blank_cells:
            cell.source = (written or {}).get(gid) or model_answer(texts[gid])
        if not (meta.get("solution") and cell.cell_type == "code"):
            continue
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
    """Every solution cell and written answer left as released."""
    return fill(nb, source_nb, blank_cells=list(solution_cells(source_nb)) + list(written_cells(source_nb)))
