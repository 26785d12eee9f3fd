"""Graded cells a student deleted are put back before autograding, wherever they were (nbgrader's own step can crash).

nbgrader's ``OverwriteCells`` (with ``add_missing_cells``, which nbgrader_config.py turns on so that deleting a test
cell never escapes it) puts a deleted graded cell back after the cell that came before it in the source notebook,
but it looks that cell up only among the submission's graded and solution cells. When the cell before is a read-only
one, such as the prompt above a written answer, the lookup fails (KeyError in ``add_missing_grade_cells``,
nbgrader 0.9.6): the whole notebook is not graded and, because every try fails the same way, the student would be
reported "grade again" for ever. Deleting a cell by accident is common. Here the cell goes back after the nearest
earlier source cell that is still in the submission (any nbgrader cell: graded, solution or read-only), or first
when there is none, in source order, so several deleted neighbours keep their order.
"""
from __future__ import annotations

import uuid

import nbformat
from nbgrader.preprocessors import OverwriteCells


class RestoreDeletedCells(OverwriteCells):
    """``OverwriteCells`` whose deleted graded cells go back where they were (configured as nbgrader's
    ``Autograde.sanitize_preprocessors`` in nbgrader_config.py; ``OverwriteCells``'s settings apply to it)."""

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source_nb.source_cells]
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        solutions = {cell.name for cell in source_nb.solution_cells}
        for name in [n for n in order if n in grade_cells]:
            present = _positions(nb)
            if name in present:
                continue
            self.log.warning(f"Missing grade cell {name} encountered, adding to notebook")
            before = next((present[p] for p in reversed(order[:order.index(name)]) if p in present), -1)
            source = next(c for c in source_nb.source_cells if c.name == name)
            cell = nbformat.from_dict(self.missing_cell_transform(source, grade_cells[name].max_score,
                                                                  is_solution=name in solutions))
            if (nb.nbformat, nb.nbformat_minor) >= (4, 5):
                cell["id"] = uuid.uuid4().hex[:8]
            nb.cells.insert(before + 1, cell)
        return nb, resources


def _positions(nb) -> dict[str, int]:
    """grade_id -> index of every nbgrader cell in the notebook (the first, if a student duplicated one)."""
    out: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid is not None and gid not in out:
            out[gid] = i
    return out
