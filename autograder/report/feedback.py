"""What students see in their feedback: points and diagnoses, not the hidden tests.

nbgrader's generate_feedback renders the autograded notebook, hidden tests included. ``CleanFeedback`` runs first:
in every test cell it replaces the hidden-test region with a one-line note, and cuts each error's traceback down to
its last line, the AssertionError that the check wrote for the student (a full traceback would quote hidden code).
It also drops the graders' rubric cells (``RUBRIC_KEY``, added under written answers at autograde). ``MarkWaiting``
runs after nbgrader's GetGrades: under a written answer no person has graded yet it says so, since nbgrader's page
would show such an answer as "0.0" points.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

HIDDEN_NOTE = "# (hidden tests ran here: they try your functions on random inputs drawn at grading time)"
#: Cell metadata key of a graders' rubric cell (autograder/grading/written.py); its value is the answer's grade_id.
RUBRIC_KEY = "backprop_rubric"
WAITING_NOTE = ("**Not graded yet.** A person has not graded this written answer yet: its points are not in the "
                "score above. Your feedback will be written again when it has been graded.")


class CleanFeedback(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not c.metadata.get(RUBRIC_KEY)]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            lines, out, hidden = cell.source.split("\n"), [], False
            for line in lines:
                if "BEGIN HIDDEN TESTS" in line:
                    hidden = True
                    out.append(HIDDEN_NOTE)
                elif "END HIDDEN TESTS" in line:
                    hidden = False
                elif not hidden:
                    out.append(line)
            cell.source = "\n".join(out)
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class MarkWaiting(NbGraderPreprocessor):
    """A note under every written answer that still waits for a person (the gradebook's ``needs_manual_grade``)."""

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_markdown_cell
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        cells = []
        with Gradebook(info["db_url"]) as gb:
            for cell in nb.cells:
                cells.append(cell)
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
                    grade = gb.find_grade(meta["grade_id"], info["notebook"], info["assignment"], info["student"])
                    if grade.needs_manual_grade:
                        cells.append(new_markdown_cell(WAITING_NOTE))
        nb.cells = cells
        return nb, resources
