"""Write nbgrader source notebooks from Python: one function per kind of cell, with the metadata nbgrader expects.

Instructors can edit source/ in JupyterLab with the Create Assignment toolbar instead; this module exists so the
course's notebooks can also be written and reviewed as plain text. Source notebooks are saved without outputs.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

_ids: set[str] = set()


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _clean(text: str) -> str:
    return text.strip("\n")


def md(text: str, grade_id: str | None = None):
    """A read-only markdown cell (locked so students cannot edit the instructions by accident)."""
    cell = new_markdown_cell(_clean(text))
    if grade_id:
        cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    return cell


def code(src: str, grade_id: str | None = None):
    """A plain code cell: set-up, figures, exploration. Locked when given a grade_id."""
    cell = new_code_cell(_clean(src))
    if grade_id:
        cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    return cell


def solution(grade_id: str, src: str):
    """Where the student writes code; the parts between BEGIN/END SOLUTION are replaced in the release."""
    if "### BEGIN SOLUTION" not in src:
        raise ValueError(f"{grade_id}: a solution cell needs ### BEGIN SOLUTION / ### END SOLUTION markers")
    cell = new_code_cell(_clean(src))
    cell.metadata.update(_meta(grade_id, grade=False, solution=True, locked=False))
    return cell


#: How a written answer's source cell begins and where its rubric starts (autograder/grading/written.py reads both).
MODEL_ANSWER = "**Model answer.**"
RUBRIC = "**Rubric"


def written(grade_id: str, points: float, model_answer: str, rubric: list[str]):
    """A written answer graded by a person: an nbgrader "manually graded answer" (a markdown solution cell).

    In the source the cell holds a model answer and the rubric (one line per score: "2 points: ...", "1 point: ...",
    "0 points: ..."); the release holds nbgrader's "YOUR ANSWER HERE". At autograde the rubric is shown to graders
    under the student's answer in the formgrader, and never in the student's feedback."""
    if not rubric or not 1 <= points <= 3:
        raise ValueError(f"{grade_id}: a written answer is worth 1-3 points and needs a rubric")
    lines = [f"{MODEL_ANSWER} {_clean(model_answer)}", "", f"{RUBRIC} ({points:g} points).**"]
    lines += [f"- {ln}" for ln in rubric]
    cell = new_markdown_cell("\n".join(lines))
    cell.metadata.update(_meta(grade_id, grade=True, solution=True, locked=False, points=points))
    return cell


def tests(grade_id: str, points: float, src: str):
    """An autograded test cell: visible asserts, then a ### BEGIN/END HIDDEN TESTS block. Every line asserts."""
    body = _clean(src)
    last = [ln for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")][-1]
    if not re.match(r"^\s*(assert|\w[\w.]*\(|print\(|for |with |if |raise )", last) and "=" not in last:
        raise ValueError(f"{grade_id}: a test cell must not end in a bare expression (nbgrader gives it full marks)")
    cell = new_code_cell(_hidden_first(body))
    cell.metadata.update(_meta(grade_id, grade=True, solution=False, locked=True, points=points))
    return cell


def _hidden_first(body: str) -> str:
    """Move the hidden-test block to the top of the cell (after a leading docstring or comment line).

    Under autograde the hidden checks then run first, and their diagnosis ("sign error in dC/da ...") is what the
    student reads, rather than the first visible assert that happens to fail. The release never sees the block.
    """
    lines = body.split("\n")
    try:
        start = next(i for i, ln in enumerate(lines) if "### BEGIN HIDDEN TESTS" in ln)
        end = next(i for i, ln in enumerate(lines) if "### END HIDDEN TESTS" in ln)
    except StopIteration:
        return body
    block, rest = lines[start:end + 1], lines[:start] + lines[end + 1:]
    head = 1 if rest and rest[0].lstrip().startswith(('"""', "'''", "#")) else 0
    return "\n".join(rest[:head] + block + rest[head:]).strip("\n")


def notebook(cells, path: str | Path) -> Path:
    """Write ``cells`` as a Python 3 notebook with no outputs, after checking that grade ids are unique."""
    seen: set[str] = set()
    for c in cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid:
            if gid in seen:
                raise ValueError(f"duplicate grade_id {gid}")
            seen.add(gid)
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path
